// Node internals shared by node.cc and node_fetch.cc (not an interface).
#ifndef MARS_CORE_PEER_NODE_INTERNAL_H_
#define MARS_CORE_PEER_NODE_INTERNAL_H_

#include "core/peer/node.h"
#include "core/peer/sync_plan.h"
#include "core/platform_io.h"

namespace mars {
namespace peer {

struct Node::PeerState {
  tree::HostName host;
  platform::NetAddress address;  // from ips/ip-HOST
  bool listed = false;           // still in ips/ at the last refresh
  uint64_t next_attempt_ns = 0;
  uint64_t backoff_ns = 0;
  uint64_t attempts = 0;
  uint64_t failure_logged_ns = 0;
  // The reason logged last, per direction (0: we connected, 1: it did).
  char failure_logged[2][128] = {};
  tree::ChangeCursor cursor;  // of its tree, kept across connections
  char last_error[128] = {};
};

struct Node::Connection {
  explicit Connection(Node* owner) : node(owner) {}
  Node* node;
  bool client = false;
  tree::HostName peer;  // client: the target; server: from its Hello
  platform::NetAddress address;
  platform::Socket socket;
  platform::Thread thread;
  Session* session = nullptr;
  char cluster_id[wire::kMaxClusterIdSize] = {};
  size_t cluster_id_size = 0;
  bool opened = false;  // counted as its peer's session
  uint64_t opened_ns = 0;
  int finished = 0;     // atomic: the thread body returned
  // The index in jobs_ of the job that asks first in the next
  // AskFetchLocked (round robin between resources).
  size_t fetch_turn = 0;
  // The sync job AskSyncLocked starts with: the next one each call, so
  // that resources synced over one connection share kMaxSyncRequests.
  size_t sync_turn = 0;
  Connection* next = nullptr;
  // peer_inflight_bytes (docu/replication.md "Memory per peer"), under the
  // node's lock. Requesting: logfile and block bytes asked of the peer and
  // not yet received and written, and the most there ever were. Serving:
  // the answer bytes of the peer's requests taken in this round, and the
  // largest output handed to the socket at once.
  uint64_t inflight_bytes = 0;
  uint64_t inflight_bytes_max = 0;
  uint64_t serve_round_bytes = 0;
  uint64_t output_bytes_max = 0;

  // The length of a request for up to `want` bytes that may go to the peer
  // now: `want` cut to the tunable (rounded down to 4 KiB, at least 4 KiB);
  // 0 when that does not fit beside the bytes in flight (it waits). One
  // request always fits when nothing is in flight.
  uint64_t RequestRoom(uint64_t want) const {
    const uint64_t limit = InflightLimit();
    const uint64_t length = want < limit ? want : limit;
    return inflight_bytes + length <= limit ? length : 0;
  }
  void AddInflight(uint64_t n) {
    inflight_bytes += n;
    if (inflight_bytes > inflight_bytes_max) {
      inflight_bytes_max = inflight_bytes;
    }
  }
  void ReleaseInflight(uint64_t n) {
    inflight_bytes = n < inflight_bytes ? inflight_bytes - n : 0;
  }
  // Whether the peer's next request, answered with `n` bytes, may be taken
  // in this round: the first always, the others while the round's answers
  // stay within the tunable and kServeRoundBytes.
  bool ServeRoom(uint64_t n) const {
    const uint64_t limit =
        InflightLimit() < kServeRoundBytes ? InflightLimit() : kServeRoundBytes;
    return serve_round_bytes == 0 || serve_round_bytes + n <= limit;
  }
  // The answers of one round are read, then sent, before the next round
  // takes more requests: small rounds keep the socket busy while the next
  // answers are read (the rest of the requests wait in the session and are
  // taken at once, RunConnection).
  static constexpr uint64_t kServeRoundBytes = 1u << 20;
  static uint64_t InflightLimit() {
    constexpr uint64_t kGranule = 4096;
    const uint64_t value =
        platform::GetTunable(platform::Tunable::kPeerInflightBytes);
    return value < kGranule ? kGranule : value / kGranule * kGranule;
  }
};

struct Node::FetchJob {
  FetchTarget target;
  bool planned = false;      // in the latest plan
  bool size_known = false;   // local_size was read from the file
  bool stat_pending = false; // a thread reads the size now
  uint64_t local_size = 0;   // bytes of the local copy
  uint64_t request_offset = 0;  // the next byte to ask for
  size_t in_flight = 0;         // requests outstanding
  // What the peer could serve of the logfile by its latest answer (its
  // file_size): a logfile that may still grow is asked for beyond that
  // only by one request at a time (AskNextChunkLocked).
  uint64_t peer_size = 0;
  Connection* connection = nullptr;  // whose session asks
  uint64_t retry_ns = 0;             // ask again not before
  bool done = false;  // local_size reached the final length
  bool may_ask = false;  // within one AskFetchLocked: may ask for bytes
  // The local copy is durable (fdatasync) up to synced_size, as far as
  // known; the next sync is due at sync_due_ns (node_fetch.cc).
  uint64_t synced_size = 0;
  uint64_t sync_due_ns = 0;
};

// After a failed sync of a local logfile copy that is durable up to
// `synced_size` (node_fetch.cc): cuts the copy back there, so that the bytes
// after it are fetched again. Under copies->LockCopies() (null: unlocked),
// and only while the copy is longer: the replayer may have cut it shorter
// since it was appended to, and a truncate must never extend it. True with
// the copy's size afterwards in *size; false when the size cannot be read
// or the cut fails (the copy is unchanged). Context: may sleep.
bool CutBackLocalCopy(engine::LogDurability* copies, platform::File* file,
                      uint64_t synced_size, uint64_t* size);

// File I/O results of one connection-thread round (node_fetch.cc).
struct FetchWriteResult {
  // Set under the lock before the round: after the append, make the copy
  // durable; if that fails, cut it back to `synced_size` (its bytes after
  // that may not be on the disk) so that they are fetched again, unless the
  // replayer cut it shorter meanwhile.
  bool sync = false;
  uint64_t synced_size = 0;
  // Results.
  bool wrote = false;
  uint64_t size_after = 0;  // the local file's size afterwards
  bool size_known = false;
  bool sync_ran = false;     // a sync was tried (its result is `failure`)
  bool synced = false;       // the sync succeeded: durable up to size_after
  bool sync_failed = false;  // it failed: cut back, size_after <= synced_size
  Status failure;  // opening, appending to or syncing the local copy failed
};

struct FetchAnswer {
  Bytes data;
  uint32_t data_crc = 0;  // CRC-32C of `data`, computed as it was read
  uint64_t file_size = 0;
  Status failure;  // opening or reading the file failed
};

struct FetchStat {
  char relpath[tree::kMaxPathBytes + 1];
  uint64_t size;
  bool ok;
  // Set before the round: make the copy durable from synced_size on first,
  // and cut it back there if that fails (sync_failed; size is then the
  // copy's size afterwards, at most synced_size).
  bool sync;
  uint64_t synced_size;
  bool sync_failed;
  Status sync_failure;
};

// Fetch state of one resource, for the links this host publishes in
// resource-R/actual-HOST/: is-copying, fetch-rate and fetch-pos.
struct Node::ResourceFetch {
  char name[tree::kMaxNameChars + 1] = {};
  bool planned = false;            // fetched in the latest plan
  bool copying_published = false;  // the value of is-copying on the tree
  bool published = false;          // is-copying was published at all
  uint64_t bytes = 0;              // fetched since rate_since_ns
  uint64_t rate_since_ns = 0;
  uint64_t rate = 0;               // the value of fetch-rate on the tree
  bool rate_published = false;
  // msg-err-fetch: why the local copy cannot be written ("" when it can),
  // and what the tree holds.
  char error[128] = {};
  char error_published[128] = {};
  // fetch-pos: the newest logfile of the resource a local copy holds bytes
  // of, and how many; what the tree holds, and since when.
  bool pos_known = false;
  tree::LogfileName pos_log;
  uint64_t pos_bytes = 0;
  bool pos_complete = false;  // pos_bytes is the logfile's final length
  bool pos_published = false;
  tree::LogfileName pos_published_log;
  uint64_t pos_published_bytes = 0;
  uint64_t pos_published_ns = 0;
  bool pos_pending() const {
    return pos_known && (!pos_published || pos_log != pos_published_log ||
                         pos_bytes != pos_published_bytes);
  }
};

struct Node::FetchIo {
  Vector<LogfileGot> got;
  Vector<FetchWriteResult> got_results;
  Vector<LogfileAsk> asks;
  Vector<FetchAnswer> answers;
  Vector<FetchStat> stats;
  // Buffers of earlier answers, read into again (no allocation per answer
  // while the peer fetches); their capacities sum to at most
  // kSpareAnswerBytes: a round of the default fetch window (8 requests of
  // 512 KiB).
  static constexpr size_t kSpareAnswerBytes = 4u << 20;
  Vector<Bytes> spare_answers;
  size_t spare_answer_bytes = 0;

  bool empty() const {
    return got.empty() && asks.empty() && stats.empty();
  }
  // Gives *data (empty) a spare buffer, if there is one.
  void ReuseSpareAnswer(Bytes* data) {
    if (spare_answers.empty() || data->capacity() > 0) return;
    *data = Move(spare_answers.back());
    spare_answers.PopBack();
    spare_answer_bytes -= data->capacity();
  }
  void Clear() {
    got.Clear();
    got_results.Clear();
    asks.Clear();
    for (FetchAnswer& answer : answers) {
      const size_t capacity = answer.data.capacity();
      if (capacity == 0 || spare_answer_bytes + capacity > kSpareAnswerBytes ||
          !spare_answers.Reserve(spare_answers.size() + 1).ok()) {
        continue;
      }
      answer.data.Clear();
      spare_answer_bytes += capacity;
      Status pushed = spare_answers.PushBack(Move(answer.data));  // reserved
      (void)pushed;
    }
    answers.Clear();
    stats.Clear();
  }
};

// Block sync (node_sync.cc): device bytes [offset, offset + length) that
// differ from the source's.
struct SyncRange {
  uint64_t offset;
  uint32_t length;
};

// A log bound (docu/replication.md §6): the bytes it covers reflect no
// record of the source's log at or after (logfile, offset).
struct SyncBound {
  bool known = false;
  uint64_t logfile = 0;
  uint64_t offset = 0;
  // Becomes (logfile, offset) when that is later.
  void Raise(uint64_t new_logfile, uint64_t new_offset) {
    if (!known || new_logfile > logfile ||
        (new_logfile == logfile && new_offset > offset)) {
      known = true;
      logfile = new_logfile;
      offset = new_offset;
    }
  }
};

// One window of digest blocks of a sync: [start, end) of the device.
struct SyncWindow {
  uint64_t start = 0;
  uint64_t end = 0;
  bool comparing = false;       // its digests are compared in this round
  bool compared = false;        // ranges holds what differs
  bool failed = false;          // a read, write or answer of it went wrong
  Vector<SyncRange> ranges;     // the differing blocks
  size_t next_range = 0;        // ranges[next_range..] not requested
  size_t blocks_in_flight = 0;  // requested, not yet written
  // Written in full: every differing block asked for and written.
  bool done() const {
    return compared && !failed && next_range == ranges.size() &&
           blocks_in_flight == 0;
  }
};

// The sync of one resource from its designated primary, in windows of
// digest blocks: the digests of up to sync_windows windows are asked for
// ahead, and the differing blocks of the compared ones are asked for in
// device order while the next windows' digests are on their way. A window
// is finished when its blocks are written, in device order; syncstatus-HOST
// moves after a flush of the local device.
struct Node::SyncJob {
  SyncTarget target;
  bool planned = false;
  // Start again from syncstatus-HOST (new job, other source, syncstatus
  // set back) once no window is in flight.
  bool restart_pending = false;
  uint64_t position = 0;  // synced (written) up to here
  // Flushed up to here: syncstatus-HOST never goes beyond it. The data
  // device is flushed when syncstatus-HOST is due to move (at most every
  // kSyncPublishIntervalNs and at the end), not per window. Below position
  // while windows written since the last flush are not flushed yet.
  uint64_t durable_position = 0;
  bool flush_wanted = false;      // flush in the next round (then publish)
  bool flush_in_flight = false;   // a round flushes for it now
  uint64_t flush_covers = 0;      // what that flush makes durable
  // In flight, in device order from position (none: idle). A failed one
  // stops the asking; once none of them has anything in flight, those
  // written in full finish, the others are dropped, and the sync goes on
  // from position after sync_retry_ns.
  Vector<SyncWindow> windows;
  Connection* connection = nullptr;  // whose session asks (with windows)
  uint64_t retry_ns = 0;             // start a window not before
  SyncBound bound;                   // of every byte synced so far
  uint64_t published_position = 0;   // syncstatus-HOST on the tree
  uint64_t last_publish_ns = 0;
  // is-syncing and sync-rate (bytes of finished windows per second).
  bool syncing_published = false;
  uint64_t rate_bytes = 0;
  uint64_t rate_since_ns = 0;
  uint64_t rate = 0;
  // msg-err-sync: why the local device failed the sync ("" while it does
  // not), and what the tree holds.
  char error[128] = {};
  char error_published[128] = {};

  bool idle() const { return windows.empty(); }
  bool failed() const {
    for (const SyncWindow& w : windows) {
      if (w.failed) return true;
    }
    return false;
  }
  size_t blocks_in_flight() const {
    size_t n = 0;
    for (const SyncWindow& w : windows) n += w.blocks_in_flight;
    return n;
  }
  // The window of `offset`, or null.
  SyncWindow* WindowAt(uint64_t offset) {
    for (SyncWindow& w : windows) {
      if (w.start <= offset && offset < w.end) return &w;
    }
    return nullptr;
  }
};

// A digest-reply to compare with the local window (node_sync.cc).
struct SyncCompare {
  Bytes resource;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;
  Slice remote;              // the source's digests, inside `frame`
  Bytes frame;               // given back to the session when done
  bool ok = false;           // result: compared
  Status failure;            // result: the local device's error
  Vector<SyncRange> differ;  // result: blocks to fetch
};

// Block data to write to the local device.
struct SyncWrite {
  Bytes resource;
  uint64_t offset = 0;
  Slice data;       // inside `frame`
  Bytes frame;      // given back to the session when done
  bool ok = false;  // result
  Status failure;   // result: the local device's error
};

struct SyncFlush {
  Bytes resource;
  // Durable up to here once it succeeded: the first window, whose last
  // blocks the round writes, or what was synced when it was asked for.
  uint64_t covers = 0;
  bool ok = false;  // result
  Status failure;   // result: the local device's error
};

// A request of the peer and what this host read for it.
struct SyncServe {
  SyncAsk ask;
  bool ok = false;
  uint64_t bound_logfile = 0;
  uint64_t bound_offset = 0;
  Bytes payload;  // digests or device bytes
  uint32_t payload_crc = 0;  // of the device bytes (crc32c::Value)
};

struct Node::SyncIo {
  Vector<SyncCompare> compares;
  Vector<SyncWrite> writes;
  Vector<SyncFlush> flushes;
  Vector<SyncServe> serves;
  // Payload buffers of earlier block answers, used again (no allocation
  // per answer while the peer syncs): at most kSparePayloads of them, the
  // block answers of one round.
  static constexpr size_t kSparePayloads = 2;
  Vector<Bytes> spare_payloads;
  // The device I/O buffer of the connection (platform::AllocateIoBuffer),
  // allocated at its first use and kept: kIoChunk bytes, or kIoChunkMin
  // when memory was too fragmented.
  void* buffer = nullptr;
  size_t buffer_bytes = 0;
  bool empty() const {
    return compares.empty() && writes.empty() && flushes.empty() &&
           serves.empty();
  }
  // Call only once the output that refers to serves' payloads was sent.
  void Clear() {
    compares.Clear();
    writes.Clear();
    flushes.Clear();
    for (SyncServe& serve : serves) {
      if (serve.ask.kind != SyncAsk::Kind::kBlocks ||
          serve.payload.capacity() == 0 ||
          spare_payloads.size() >= kSparePayloads ||
          !spare_payloads.Reserve(kSparePayloads).ok()) {
        continue;
      }
      serve.payload.Clear();
      (void)spare_payloads.PushBack(Move(serve.payload)).ok();  // reserved
    }
    serves.Clear();
  }
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_INTERNAL_H_
