// Node: this host's part of the cluster network (docu/replication.md §2).
// It keeps the /mars tree replicated between the members:
//
// - the tree thread mirrors the /mars directory into the in-memory tree and
//   back (TreeMirror) every scan interval and on Kick(), and connects to
//   every member listed in ips/ip-HOST that has no connection, with bounded
//   exponential backoff;
// - the listener thread accepts peers on the port;
// - one thread per connection drives a Session (handshake, tree exchange,
//   keepalive) over a platform::Socket.
//
// The secret is read from <root>/secret (64 hex digits); without it the
// node does not connect and refuses every peer. A host without <root>/uuid
// introduces itself as joining (wire::kJoiningClusterId) and learns the uuid
// from the tree it pulls. At most one connection per peer stays open: when
// two authenticate, the one whose client is the host with the smaller name
// is kept, on both sides.
#ifndef MARS_CORE_PEER_NODE_H_
#define MARS_CORE_PEER_NODE_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/engine/data_access.h"
#include "core/engine/log_durability.h"
#include "core/lamport_clock.h"
#include "core/peer/fetch_plan.h"
#include "core/peer/session.h"
#include "core/peer/sync_plan.h"
#include "core/peer/tree_mirror.h"
#include "core/platform.h"
#include "core/platform_net.h"
#include "core/tree/names.h"
#include "core/tree/tree.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace peer {

// The fewest requests in flight per logfile that the fetch window allows
// (the byte bound peer_inflight_bytes still applies): the window of
// kMaxLogfileRequests that the default tunable gives.
constexpr size_t kBaseFetchWindow = 8;

struct NodeConfig {
  const char* root = nullptr;  // the /mars directory, absolute
  Slice host;                  // this host's name
  // Where to listen (family kUnspecified: IPv4 any address) and the port
  // peers are reached on.
  platform::NetAddress listen;
  uint16_t port = wire::kDefaultPort;
  LamportClock* clock = nullptr;  // must outlive the node
  uint64_t scan_interval_ns = 1 * kNsPerSecond;
  uint64_t connect_timeout_ns = 5 * kNsPerSecond;
  uint64_t reconnect_min_ns = kNsPerSecond / 5;
  uint64_t reconnect_max_ns = 10 * kNsPerSecond;
  // Session timers (SessionConfig).
  uint64_t poll_interval_ns = 1 * kNsPerSecond;
  uint64_t ping_interval_ns = 5 * kNsPerSecond;
  uint64_t ping_timeout_ns = 10 * kNsPerSecond;
  // Durable ends of the logfiles this host writes (served only up to
  // there); null: this host serves no logfile of its own that is in
  // progress. Must outlive the node.
  engine::LogDurability* durability = nullptr;
  // Fetch: bytes per logfile-request, the most requests in flight per
  // logfile, and how long to wait before asking again at the end of a
  // growing logfile. The window in use (FetchWindowLocked) is as many
  // requests as peer_inflight_bytes holds beside one request of the sync
  // (kMaxDataChunk), at least kBaseFetchWindow, at most fetch_window and
  // what the peer accepts (Session::LogfileRequestLimit); per connection the
  // logfile and block bytes in flight stay within peer_inflight_bytes
  // besides (docu/replication.md). The default tunable (5 MiB) gives 8 x
  // 512 KiB: a link of 20 ms round trip busy at 1.6 Gbit/s; 33 MiB gives
  // 64 x 512 KiB for 50 ms at 5 Gbit/s.
  uint32_t fetch_chunk_bytes = 512u << 10;
  size_t fetch_window = 64;
  uint64_t fetch_poll_ns = kNsPerSecond / 5;
  // Block sync (docu/replication.md §6): the data devices of the attached
  // resources (null: this host neither syncs nor serves a sync); the digest
  // block, the blocks per window (one digest-request), the windows in
  // flight per resource (digests asked for ahead of their blocks), the
  // block-requests in flight per resource (each at most
  // wire::kMaxDataChunk bytes) and the wait after an unavailable source or
  // a failure. sync_windows + sync_requests stay within kMaxSyncRequests
  // for one resource.
  engine::DataAccess* data_access = nullptr;
  uint32_t sync_block_bytes = 64u << 10;
  uint32_t sync_window_blocks = 64;
  size_t sync_windows = 3;
  size_t sync_requests = 4;
  uint64_t sync_retry_ns = 1 * kNsPerSecond;
};

// One peer as the node sees it (Node::Peers()).
struct PeerReport {
  tree::HostName host;
  bool connected = false;          // an authenticated session is open
  uint64_t connected_since_ns = 0; // monotonic
  uint64_t attempts = 0;           // connection attempts that failed
  SessionCounters counters;        // of the open session
  // Of the open session (docu/replication.md "Memory per peer"): logfile
  // and block bytes asked of the peer and not yet received and written,
  // now and the most so far (never above peer_inflight_bytes while the
  // tunable is not lowered), and the largest output handed to the socket
  // at once (answers to the peer's requests, tree updates).
  uint64_t inflight_bytes = 0;
  uint64_t inflight_bytes_max = 0;
  uint64_t output_bytes_max = 0;
  char last_error[128] = {};       // why the last connection ended
};

class Node {
 public:
  Node() = default;
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Loads the tree from config.root, listens, and starts the threads.
  // Errors: kInvalidArgument (config), the socket's error when the port
  // cannot be bound, kNoMemory. On error nothing runs. Context: may sleep.
  Status Start(const NodeConfig& config);
  // Stops every thread and closes every connection. Idempotent.
  // Context: may sleep.
  void Stop();
  // A local change of the /mars tree: scan now. Context: any.
  void Kick();
  // The port the node listens on (useful with port 0 in tests).
  uint16_t listen_port() const { return listen_port_; }
  // Tree thread passes so far (tests wait on it). Context: any.
  uint64_t tree_passes() const {
    return __atomic_load_n(&tree_passes_, __ATOMIC_ACQUIRE);
  }
  // Copies the state of up to `capacity` peers (every host in ips/ but
  // this one) to `out`; returns how many there are. Context: may sleep.
  size_t Peers(PeerReport* out, size_t capacity);

 private:
  struct Connection;
  struct PeerState;
  struct FetchJob;
  struct FetchIo;
  struct ResourceFetch;
  struct SyncJob;
  struct SyncIo;

  static void TreeThread(void* context);
  static void ListenThread(void* context);
  static void ConnectionThread(void* context);
  static tree::ChangeCursor CursorFor(void* context, Slice peer_host);

  // Under lock_: one scan and write-back, secret and peers refreshed,
  // finished connections reaped, connections started.
  void TreePassLocked(uint64_t now_ns);
  void LoadSecretLocked();
  void RefreshPeersLocked(uint64_t now_ns);
  void ReapLocked();
  void ConnectLocked(PeerState* peer, uint64_t now_ns);
  Status StartConnectionLocked(Connection* connection);
  PeerState* FindPeerLocked(Slice host);
  // Sets the tree_entries and peer_allocations counters.
  void PublishCountersLocked();
  bool ConnectedLocked(const tree::HostName& host) const;
  // A session of `connection` opened: keep one per peer.
  void OnOpenLocked(Connection* connection, uint64_t now_ns);
  void OnEndLocked(Connection* connection, uint64_t now_ns);
  void RunConnection(Connection* connection);
  // Builds the session of `connection` (Hello from the current tree).
  Status MakeSessionLocked(Connection* connection, wire::Role role);
  // Fetch and serve (node_fetch.cc). The tree pass plans the jobs; each
  // connection thread takes its session's logfile traffic under lock_
  // (TakeFetchWorkLocked), does the file I/O without it (DoFetchIo) and
  // hands the results back (FinishFetchWorkLocked).
  void PlanFetchLocked(uint64_t now_ns);
  FetchJob* FindJobLocked(Slice relpath);
  bool JobWantsConnectionLocked(const FetchJob* job, const Connection* c);
  void TakeFetchWorkLocked(Connection* c, uint64_t now_ns, FetchIo* io);
  // Asks for the next logfile bytes of the jobs that `c`'s session serves,
  // within peer_inflight_bytes, one request per job in turn; with `io`,
  // also reads the size of copies whose size is not known (io->stats).
  void AskFetchLocked(Connection* c, uint64_t now_ns, FetchIo* io);
  // Asks for `job`'s next chunk; false when its window is full, it has
  // asked for all of the logfile, there is no room or the send failed.
  bool AskNextChunkLocked(Connection* c, FetchJob* job);
  // Requests in flight per logfile on `c` (NodeConfig::fetch_window).
  size_t FetchWindowLocked(const Connection* c) const;
  void DoFetchIo(FetchIo* io);
  // Which answers of the round sync their local copy (FetchWriteResult).
  void PlanFetchSyncsLocked(uint64_t now_ns, FetchIo* io);
  // A copy at its final length: done once durable, else synced first.
  void CompleteFetchJobLocked(FetchJob* job);
  // msg-err-fetch from the result of an append (synced: of its sync).
  void NoteFetchResultLocked(FetchJob* job, bool synced, Status result);
  void FinishFetchWorkLocked(Connection* c, uint64_t now_ns, FetchIo* io);
  void DropConnectionJobsLocked(Connection* c);
  ResourceFetch* FindResourceFetchLocked(Slice resource, bool create);
  // Publishes is-copying, fetch-rate, fetch-pos and msg-err-fetch of every
  // resource fetched now or until now (the rate and a moving fetch-pos at
  // most every kFetchRateIntervalNs).
  void PublishFetchStateLocked(uint64_t now_ns);
  // Writes resource-R/actual-HOST/leaf -> value into the tree (the mirror
  // writes it to /mars) unless it holds that value already.
  void PublishActualLocked(Slice resource, const char* leaf, Slice value);
  static FetchIo* NewFetchIo();
  static void DeleteFetchIo(FetchIo* io);
  static void DeleteFetchJob(FetchJob* job);
  static void DeleteResourceFetch(ResourceFetch* r);
  // Block sync (node_sync.cc), in the same rounds as the fetch: the tree
  // pass plans the jobs; a connection thread takes its session's sync
  // traffic and the jobs' next steps under lock_ (TakeSyncWorkLocked),
  // reads, compares and writes the devices without it (DoSyncIo) and
  // hands the results back (FinishSyncWorkLocked), which also asks for
  // what comes next.
  void PlanSyncLocked(uint64_t now_ns);
  SyncJob* FindSyncJobLocked(Slice resource);
  void TakeSyncWorkLocked(Connection* c, uint64_t now_ns, SyncIo* io);
  void DoSyncIo(SyncIo* io);
  void FinishSyncWorkLocked(Connection* c, uint64_t now_ns, SyncIo* io);
  // Sends the next requests of the jobs that `c`'s session serves.
  void AskSyncLocked(Connection* c, uint64_t now_ns);
  // The first window is written: position moves to its end,
  // durable_position with it when nothing written is unflushed; a flush is
  // wanted when syncstatus-HOST is due to move.
  void FinishSyncWindowLocked(SyncJob* job, uint64_t now_ns);
  // Finishes the written windows of the jobs `c` asks for, in device
  // order, and drops the windows of a job with a failed one once nothing
  // of them is in flight.
  void SettleSyncJobsLocked(Connection* c, uint64_t now_ns);
  // Whether a job synced from `c`'s peer waits for a flush (the next round
  // should come soon, bytes or not).
  bool SyncFlushWantedLocked(const Connection* c);
  // Records a device failure for msg-err-sync (published by
  // PublishSyncLocked); `what`: "read", "write" or "flush".
  static void NoteSyncFailure(SyncJob* job, const char* what, Status why);
  // Drops the job's windows; the sync goes on from position after
  // sync_retry_ns.
  void RestartSyncWindowsLocked(SyncJob* job, uint64_t now_ns);
  void PublishSyncLocked(SyncJob* job, uint64_t now_ns, bool force);
  void DropConnectionSyncLocked(Connection* c);
  // Writes resource-R/leaf -> *value (a link of this host; null: a
  // tombstone) into the tree unless it holds that already; the mirror
  // writes it to /mars.
  void SetResourceLinkLocked(Slice resource, Slice leaf, const Slice* value);
  // The same for resource-R/actual-HOST/leaf.
  void SetActualLocked(Slice resource, const char* leaf, const Slice* value);
  void RemoveActualLocked(Slice resource, const char* leaf);
  // Logs (once a minute) that a logfile could not be read for a peer.
  void LogServeFailureLocked(Connection* c, Slice relpath, Status why);
  static SyncIo* NewSyncIo();
  static void DeleteSyncIo(SyncIo* io);
  static void DeleteSyncJob(SyncJob* job);
  // root/relpath into path (platform::kMaxPathBytes + 1); false if too long.
  bool LocalPath(Slice relpath, char* path) const;

  NodeConfig config_;
  tree::HostName host_;
  platform::Mutex lock_;  // everything below, the tree and every session
  platform::WaitQueue tree_wq_;
  platform::Thread tree_thread_;
  platform::Thread listen_thread_;
  platform::Socket listener_;
  uint16_t listen_port_ = 0;
  tree::Tree* tree_ = nullptr;
  TreeMirror* mirror_ = nullptr;
  uint8_t secret_[wire::kMaxSecretSize] = {};
  char* secret_buffer_ = nullptr;  // the secret file's path and text
  size_t secret_size_ = 0;
  bool secret_missing_logged_ = false;
  bool mirror_failing_ = false;  // the last scan or write-back failed
  uint64_t unknown_failure_logged_ns_ = 0;  // failures of unnamed peers
  char unknown_failure_logged_[2][128] = {};  // as PeerState's
  Vector<PeerState*> peers_;
  Vector<FetchJob*> jobs_;           // fetch jobs, owned
  Vector<FetchTarget> plan_;         // scratch of PlanFetchLocked
  Vector<ResourceFetch*> resource_fetches_;  // owned
  Vector<SyncJob*> sync_jobs_;               // owned
  Vector<SyncTarget> sync_plan_;             // scratch of PlanSyncLocked
  Vector<tree::HostName> members_;  // scratch of the tombstone purge
  Connection* connections_ = nullptr;  // list, owned
  int kicked_ = 0;                     // atomic: Kick() since the last pass
  uint64_t tree_passes_ = 0;           // atomic
  bool initialized_ = false;  // lock_ and tree_wq_
  bool stopping_ = false;
  bool started_ = false;
  uint64_t last_purge_ns_ = 0;
  uint64_t serve_failure_logged_ns_ = 0;  // LogServeFailureLocked
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_H_
