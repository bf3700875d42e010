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
  Connection* next = nullptr;
};

struct Node::FetchJob {
  FetchTarget target;
  bool planned = false;      // in the latest plan
  bool size_known = false;   // local_size was read from the file
  bool stat_pending = false; // a thread reads the size now
  uint64_t local_size = 0;   // bytes of the local copy
  uint64_t request_offset = 0;  // the next byte to ask for
  size_t in_flight = 0;         // requests outstanding
  Connection* connection = nullptr;  // whose session asks
  uint64_t retry_ns = 0;             // ask again not before
  bool done = false;  // local_size reached the final length
};

// File I/O results of one connection-thread round (node_fetch.cc).
struct FetchWriteResult {
  bool wrote = false;
  uint64_t size_after = 0;  // the local file's size afterwards
  bool size_known = false;
  Status failure;  // opening or appending to the local copy failed
};

struct FetchAnswer {
  Bytes data;
  uint64_t file_size = 0;
  Status failure;  // opening or reading the file failed
};

struct FetchStat {
  char relpath[tree::kMaxPathBytes + 1];
  uint64_t size;
  bool ok;
};

// Fetch state of one resource, for the links this host publishes in
// resource-R/actual-HOST/: is-copying and fetch-rate.
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
};

struct Node::FetchIo {
  Vector<LogfileGot> got;
  Vector<FetchWriteResult> got_results;
  Vector<LogfileAsk> asks;
  Vector<FetchAnswer> answers;
  Vector<FetchStat> stats;
  bool empty() const {
    return got.empty() && asks.empty() && stats.empty();
  }
  void Clear() {
    got.Clear();
    got_results.Clear();
    asks.Clear();
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

// The sync of one resource from its designated primary, one window of
// digest blocks at a time: digests of the window, the differing blocks,
// then a flush of the local device; then syncstatus-HOST moves on.
struct Node::SyncJob {
  enum class Phase : uint8_t {
    kIdle,     // no request in flight; the next window starts at position
    kDigests,  // the window's digest-request is in flight
    kBlocks,   // the differing blocks are requested and written
  };
  SyncTarget target;
  bool planned = false;
  // Start again from syncstatus-HOST (new job, other source, syncstatus
  // set back) once no window is in flight.
  bool restart_pending = false;
  uint64_t position = 0;    // synced and flushed up to here
  Phase phase = Phase::kIdle;
  uint64_t window_end = 0;  // the window is [position, window_end)
  Connection* connection = nullptr;  // whose session asks
  Vector<SyncRange> ranges;          // the window's differing blocks
  size_t next_range = 0;             // ranges[next_range..] not requested
  size_t blocks_in_flight = 0;       // requested, answer not yet handled
  bool window_failed = false;        // a block of the window went wrong
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
};

// A digest-reply to compare with the local window (node_sync.cc).
struct SyncCompare {
  Bytes resource;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;
  Bytes remote;              // the source's digests
  bool ok = false;           // result: compared
  Status failure;            // result: the local device's error
  Vector<SyncRange> differ;  // result: blocks to fetch
};

// Block data to write to the local device.
struct SyncWrite {
  Bytes resource;
  uint64_t offset = 0;
  Bytes data;
  bool ok = false;  // result
  Status failure;   // result: the local device's error
};

struct SyncFlush {
  Bytes resource;
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
};

struct Node::SyncIo {
  Vector<SyncCompare> compares;
  Vector<SyncWrite> writes;
  Vector<SyncFlush> flushes;
  Vector<SyncServe> serves;
  bool empty() const {
    return compares.empty() && writes.empty() && flushes.empty() &&
           serves.empty();
  }
  void Clear() {
    compares.Clear();
    writes.Clear();
    flushes.Clear();
    serves.Clear();
  }
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_INTERNAL_H_
