#include "cluster_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "core/peer/ip_address.h"

namespace mars {
namespace bench {

const char kClusterSecret[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const char kClusterUuid[] = "0123456789abcdef0123456789abcdef";

ClusterHost::ClusterHost(const std::string& name, const std::string& ip)
    : name_(name), ip_(ip), tree_ip_(ip), dir_(name.c_str()) {
  if (!durability_.Init(platform::Gfp::kKernel).ok() ||
      !data_access_.Init(platform::Gfp::kKernel).ok()) {
    abort();
  }
}

ClusterHost::~ClusterHost() { node_.Stop(); }

std::string ClusterHost::Path(const std::string& rel) const {
  return dir_.path() + "/" + rel;
}

void ClusterHost::Put(const std::string& rel, const std::string& value) {
  WriteLinkAt(Path(rel), value, clock_.Now());
}

std::string ClusterHost::Get(const std::string& rel) const {
  return ReadLinkAt(Path(rel));
}

Status ClusterHost::Start(uint16_t port, uint64_t scan_ns) {
  peer::NodeConfig config;
  config.root = dir_.path().c_str();
  config.host = Slice(name_.data(), name_.size());
  Status s =
      peer::ParseIpAddress(Slice(ip_.data(), ip_.size()), &config.listen);
  if (!s.ok()) return s;
  config.port = port;
  config.clock = &clock_;
  config.scan_interval_ns = scan_ns;
  config.poll_interval_ns = scan_ns;
  config.durability = &durability_;
  config.data_access = &data_access_;
  return node_.Start(config);
}

peer::PeerReport ClusterHost::Peer() {
  peer::PeerReport report;
  return node_.Peers(&report, 1) == 1 ? report : peer::PeerReport();
}

bool ClusterHost::Connected() { return Peer().connected; }

uint16_t StartPair(ClusterHost* a, ClusterHost* b, uint64_t scan_ns) {
  const uint16_t base = static_cast<uint16_t>(27000 + getpid() % 3000);
  for (uint16_t port = base; port < base + 200; ++port) {
    if (!a->Start(port, scan_ns).ok()) continue;
    if (!b->Start(port, scan_ns).ok()) {
      a->Stop();
      continue;
    }
    return port;
  }
  return 0;
}

void StopPair(ClusterHost* a, ClusterHost* b) {
  std::thread other([a] { a->Stop(); });
  b->Stop();
  other.join();
}

void WriteClusterLinks(ClusterHost* self, const ClusterHost& other,
                       bool created) {
  std::ofstream(self->Path("secret")) << kClusterSecret << "\n";
  self->Put("ips/ip-" + self->name(), self->tree_ip());
  if (created) {
    self->Put("uuid", kClusterUuid);
  } else {
    self->Put("ips/ip-" + other.name(), other.tree_ip());
  }
}

}  // namespace bench
}  // namespace mars
