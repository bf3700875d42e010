#include "slow_link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>

namespace mars {
namespace bench {
namespace {

using LinkClock = std::chrono::steady_clock;

constexpr size_t kReadBytes = 64 << 10;

bool ToAddress(const std::string& ip, uint16_t port, sockaddr_in* address) {
  *address = {};
  address->sin_family = AF_INET;
  address->sin_port = htons(port);
  return inet_pton(AF_INET, ip.c_str(), &address->sin_addr) == 1;
}

// One direction of a relayed connection: `reader` takes bytes from `from`
// as long as the link has room, `writer` hands each piece to `to` when it
// would arrive at the far end.
class Pipe {
 public:
  Pipe(int from, int to, const SlowLinkOptions& options)
      : from_(from),
        to_(to),
        options_(options),
        capacity_(static_cast<uint64_t>(options.rate_bytes_per_s *
                                        options.one_way_ns / 1e9) +
                  options.router_buffer_bytes) {}

  void Start() {
    reader_ = std::thread([this] { Read(); });
    writer_ = std::thread([this] { Write(); });
  }

  void Close() {
    std::lock_guard<std::mutex> guard(lock_);
    closed_ = true;
    changed_.notify_all();
  }

  void Join() {
    if (reader_.joinable()) reader_.join();
    if (writer_.joinable()) writer_.join();
  }

 private:
  struct Piece {
    std::vector<uint8_t> bytes;
    LinkClock::time_point sent;
  };

  void Read() {
    for (;;) {
      {
        std::unique_lock<std::mutex> guard(lock_);
        changed_.wait(guard, [&] { return closed_ || queued_ < capacity_; });
        if (closed_) return;
      }
      Piece piece;
      piece.bytes.resize(kReadBytes);
      const ssize_t n = recv(from_, piece.bytes.data(), kReadBytes, 0);
      std::lock_guard<std::mutex> guard(lock_);
      if (n <= 0) {
        end_of_stream_ = true;
        changed_.notify_all();
        return;
      }
      piece.bytes.resize(static_cast<size_t>(n));
      piece.sent = LinkClock::now();
      queued_ += piece.bytes.size();
      queue_.push_back(std::move(piece));
      changed_.notify_all();
    }
  }

  void Write() {
    LinkClock::time_point link_free;  // the last piece's arrival
    for (;;) {
      Piece piece;
      {
        std::unique_lock<std::mutex> guard(lock_);
        changed_.wait(guard, [&] {
          return closed_ || !queue_.empty() || end_of_stream_;
        });
        if (closed_) return;
        if (queue_.empty()) {
          shutdown(to_, SHUT_WR);  // the sender finished: pass its FIN on
          return;
        }
        piece = std::move(queue_.front());
        queue_.pop_front();
      }
      // Arrives one way's delay after it was sent, and not before the link
      // carried the pieces ahead of it and this one at its rate.
      const auto transfer = std::chrono::nanoseconds(static_cast<int64_t>(
          piece.bytes.size() * 1e9 / options_.rate_bytes_per_s));
      auto arrival = piece.sent + std::chrono::nanoseconds(options_.one_way_ns);
      if (arrival < link_free) arrival = link_free;
      arrival += transfer;
      link_free = arrival;
      std::this_thread::sleep_until(arrival);
      size_t done = 0;
      while (done < piece.bytes.size()) {
        const ssize_t n = send(to_, piece.bytes.data() + done,
                               piece.bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
          // The receiver is gone: so is the connection.
          shutdown(from_, SHUT_RDWR);
          Close();
          return;
        }
        done += static_cast<size_t>(n);
      }
      std::lock_guard<std::mutex> guard(lock_);
      queued_ -= piece.bytes.size();
      changed_.notify_all();
    }
  }

  const int from_, to_;
  const SlowLinkOptions options_;
  const uint64_t capacity_;  // bytes on the wire and in the router's queue
  std::mutex lock_;
  std::condition_variable changed_;
  std::deque<Piece> queue_;
  uint64_t queued_ = 0;
  bool end_of_stream_ = false;
  bool closed_ = false;
  std::thread reader_, writer_;
};

}  // namespace

struct SlowLink::Connection {
  Connection(int client, int server, const SlowLinkOptions& options)
      : client_fd(client),
        server_fd(server),
        up(client, server, options),
        down(server, client, options) {}
  ~Connection() {
    shutdown(client_fd, SHUT_RDWR);
    shutdown(server_fd, SHUT_RDWR);
    up.Close();
    down.Close();
    up.Join();
    down.Join();
    close(client_fd);
    close(server_fd);
  }
  int client_fd, server_fd;
  Pipe up, down;
};

SlowLink::SlowLink() = default;
SlowLink::~SlowLink() { Stop(); }

bool SlowLink::Start(const std::string& listen_ip, uint16_t listen_port,
                     const std::string& target_ip, uint16_t target_port,
                     const std::string& source_ip,
                     const SlowLinkOptions& options) {
  options_ = options;
  target_ip_ = target_ip;
  target_port_ = target_port;
  source_ip_ = source_ip;
  sockaddr_in address;
  if (!ToAddress(listen_ip, listen_port, &address)) return false;
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t size = sizeof(address);
  if (listener_ < 0 ||
      bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
          0 ||
      listen(listener_, 8) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) !=
          0) {
    perror("slow link: listen");
    if (listener_ >= 0) close(listener_);
    listener_ = -1;
    return false;
  }
  port_ = ntohs(address.sin_port);
  stopping_ = false;
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void SlowLink::AcceptLoop() {
  for (;;) {
    const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    sockaddr_in source, target;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server < 0 || !ToAddress(source_ip_, 0, &source) ||
        !ToAddress(target_ip_, target_port_, &target) ||
        bind(server, reinterpret_cast<sockaddr*>(&source), sizeof(source)) !=
            0 ||
        connect(server, reinterpret_cast<sockaddr*>(&target), sizeof(target)) !=
            0) {
      // Refused on: the client sees its connection close.
      if (server >= 0) close(server);
      close(client);
      continue;
    }
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto connection = std::make_unique<Connection>(client, server, options_);
    connection->up.Start();
    connection->down.Start();
    std::lock_guard<std::mutex> guard(lock_);
    connections_.push_back(std::move(connection));
  }
}

void SlowLink::Stop() {
  if (listener_ < 0) return;
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  close(listener_);
  listener_ = -1;
  std::lock_guard<std::mutex> guard(lock_);
  connections_.clear();
}

}  // namespace bench
}  // namespace mars
