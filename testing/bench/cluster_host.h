// One host of a benchmark cluster in this process: its /mars directory (a
// scratch directory), its Lamport clock, its registry of durable logfile
// ends and its peer::Node listening on a loopback address. Two of them
// replicate over loopback TCP like node_test.cc's hosts.
#ifndef MARS_TESTING_BENCH_CLUSTER_HOST_H_
#define MARS_TESTING_BENCH_CLUSTER_HOST_H_

#include <stdint.h>

#include <string>

#include "bench_util.h"
#include "core/engine/data_access.h"
#include "core/engine/log_durability.h"
#include "core/lamport_clock.h"
#include "core/peer/node.h"

namespace mars {
namespace bench {

// The secret every benchmark cluster uses.
extern const char kClusterSecret[];
// The uuid every benchmark cluster uses.
extern const char kClusterUuid[];

class ClusterHost {
 public:
  ClusterHost(const std::string& name, const std::string& ip);
  ~ClusterHost();
  ClusterHost(const ClusterHost&) = delete;
  ClusterHost& operator=(const ClusterHost&) = delete;

  // The link root/rel -> value, stamped by this host's clock.
  void Put(const std::string& rel, const std::string& value);
  std::string Get(const std::string& rel) const;
  // root/rel.
  std::string Path(const std::string& rel) const;

  // Starts the node on `port` with the production settings (NodeConfig
  // defaults) except the tree timers: `scan_ns` (scan and poll).
  Status Start(uint16_t port, uint64_t scan_ns);
  void Stop() { node_.Stop(); }

  // True while an authenticated session with the one peer is open.
  bool Connected();
  // The peer's session counters and last error (one peer).
  peer::PeerReport Peer();

  const std::string& name() const { return name_; }
  // The address it listens on, and the one its peers reach it at (the
  // tree's ips/ip-NAME; the same unless SetTreeIp() put a relay between).
  const std::string& ip() const { return ip_; }
  const std::string& tree_ip() const { return tree_ip_; }
  void SetTreeIp(const std::string& ip) { tree_ip_ = ip; }
  const std::string& root() const { return dir_.path(); }
  engine::LogDurability* durability() { return &durability_; }
  // The registry of attached data devices the node syncs through; hand it
  // to this host's engine::Manager.
  engine::DataAccess* data_access() { return &data_access_; }
  LamportClock* clock() { return &clock_; }
  peer::Node* node() { return &node_; }

 private:
  std::string name_, ip_, tree_ip_;
  TempDir dir_;
  LamportClock clock_;
  engine::LogDurability durability_;
  engine::DataAccess data_access_;
  peer::Node node_;
};

// Starts `a` and `b` on one port free on both addresses (tried from a
// pid-dependent base); returns the port, 0 when none could be bound.
uint16_t StartPair(ClusterHost* a, ClusterHost* b, uint64_t scan_ns);

// Stops both nodes at the same time, so that neither tries to reconnect to
// the other in between (and logs that it failed).
void StopPair(ClusterHost* a, ClusterHost* b);

// Writes the cluster links of `self` as marsadm leaves them: the secret
// and ips/ip-SELF; the uuid on the host that `created` the cluster, and
// ips/ip-OTHER on the one that joined `other` (it learns the uuid from the
// tree it pulls, the creator learns ips/ip-SELF of the joiner).
void WriteClusterLinks(ClusterHost* self, const ClusterHost& other,
                       bool created);

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_CLUSTER_HOST_H_
