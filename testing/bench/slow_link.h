// A TCP relay on loopback that behaves like a long network link: every byte
// arrives `one_way_ns` after it was sent, at most `rate` bytes per second
// pass, and the link holds at most what that rate keeps in flight plus a
// router's buffer (then the sender's TCP waits, as on a full link). The
// fetch benchmark over a long link (fetch_bench.cc) puts it between two
// hosts. Loopback addresses only.
#ifndef MARS_TESTING_BENCH_SLOW_LINK_H_
#define MARS_TESTING_BENCH_SLOW_LINK_H_

#include <stdint.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mars {
namespace bench {

struct SlowLinkOptions {
  uint64_t one_way_ns = 10'000'000;        // 10 ms: a round trip of 20 ms
  double rate_bytes_per_s = 125e6;         // 1 Gbit/s
  uint64_t router_buffer_bytes = 1 << 20;  // queued beyond the bytes in flight
};

class SlowLink {
 public:
  SlowLink();
  ~SlowLink();
  SlowLink(const SlowLink&) = delete;
  SlowLink& operator=(const SlowLink&) = delete;

  // Listens on listen_ip:listen_port (127.x.y.z; port 0: any free one, see
  // port()) and relays every connection to target_ip:target_port, opened
  // from source_ip (port 0), through a link of `options` in each
  // direction. False (with a message on stderr) when it cannot listen.
  bool Start(const std::string& listen_ip, uint16_t listen_port,
             const std::string& target_ip, uint16_t target_port,
             const std::string& source_ip, const SlowLinkOptions& options);
  // Closes the listener and every relayed connection; waits for all
  // threads. Idempotent.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  struct Connection;
  void AcceptLoop();

  SlowLinkOptions options_;
  std::string target_ip_, source_ip_;
  uint16_t target_port_ = 0;
  uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex lock_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_SLOW_LINK_H_
