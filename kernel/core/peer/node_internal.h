// Node internals shared by node.cc and node_fetch.cc (not an interface).
#ifndef MARS_CORE_PEER_NODE_INTERNAL_H_
#define MARS_CORE_PEER_NODE_INTERNAL_H_

#include "core/peer/node.h"
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
};

struct FetchAnswer {
  Bytes data;
  uint64_t file_size = 0;
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

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_NODE_INTERNAL_H_
