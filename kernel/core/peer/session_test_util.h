// Test-only helpers of the session tests (session_test.cc,
// session_exchange_test.cc, session_sync_test.cc, session_sync_close_test.cc):
// hosts with a tree, a clock and kept cursors; two sessions wired back to back
// with a seeded random driver (Pair) or a deterministic one that can inject
// frames (Link). Not part of mars.ko.
#ifndef MARS_CORE_PEER_SESSION_TEST_UTIL_H_
#define MARS_CORE_PEER_SESSION_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/lamport_clock.h"
#include "core/peer/session.h"
#include "core/tree/tree.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/messages.h"
#include "core/wire/wire_test_util.h"

namespace mars {
namespace peer {
namespace test {

using wire::test::Raw;
using wire::test::S;
using wire::test::Str;

constexpr char kCluster[] = "alpha 2024-05-01 cluster";
constexpr char kSecret[] = "correct horse battery staple 42";
constexpr uint64_t kMs = 1000ull * 1000;
constexpr uint64_t kSecond = kNsPerSecond;

// One fake time for every test: the monotonic time passed to sessions and
// the wall time the Lamport clocks read (a fixed offset apart).
inline uint64_t g_mono_ns = 1000 * kSecond;
constexpr uint64_t kWallOffsetNs = 1'700'000'000ull * kSecond;
inline uint64_t FakeWallNs() { return g_mono_ns + kWallOffsetNs; }

struct Version {
  std::string path, value, owner;
  bool tombstone = false;
  uint64_t stamp = 0;
  auto Key() const { return std::tie(path, value, owner, tombstone, stamp); }
  bool operator==(const Version& o) const { return Key() == o.Key(); }
  bool operator<(const Version& o) const { return Key() < o.Key(); }
};

inline std::ostream& operator<<(std::ostream& os, const Version& v) {
  return os << v.path << "=" << (v.tombstone ? "<tombstone>" : v.value) << "@"
            << v.stamp << "/" << v.owner;
}

inline Version Copy(const tree::Entry& e) {
  Version v;
  v.path = Str(e.path());
  v.value = Str(e.value());
  v.owner = Str(e.owner());
  v.tombstone = e.tombstone();
  v.stamp = e.stamp();
  return v;
}

inline std::vector<Version> Listing(const tree::Tree& tree) {
  std::vector<Version> out;
  for (size_t i = 0; i < tree.size(); ++i) out.push_back(Copy(tree.at(i)));
  return out;
}

inline tree::EntryView View(const Version& v) {
  tree::EntryView e;
  e.path = S(v.path);
  e.value = S(v.value);
  e.owner = S(v.owner);
  e.tombstone = v.tombstone;
  e.stamp = v.stamp;
  return e;
}

// A host: its tree, its clock, the cursors it keeps for its peers across
// connections, and a record of every version it ever wrote (shared by the
// hosts of a test, so a test can tell a received version from a damaged one).
class Host {
 public:
  Host(const std::string& name, std::set<Version>* written)
      : name_(name), clock_(&FakeWallNs), written_(written) {
    tree_ = std::make_unique<tree::Tree>(clock_.Now(), platform::Gfp::kKernel);
  }

  const std::string& name() const { return name_; }
  tree::Tree& tree() { return *tree_; }
  LamportClock& clock() { return clock_; }
  std::map<std::string, tree::ChangeCursor>& cursors() { return cursors_; }

  void Write(const std::string& path, const std::string& value) {
    Put(path, value, false);
  }
  void Remove(const std::string& path) { Put(path, "", true); }
  void Put(const std::string& path, const std::string& value, bool tombstone) {
    Version v;
    v.path = path;
    v.value = value;
    v.owner = name_;
    v.tombstone = tombstone;
    v.stamp = clock_.Now();
    ASSERT_TRUE(tree_->Apply(View(v)).ok()) << v;
    if (written_ != nullptr) written_->insert(v);
  }

  // A module reload: a new tree (new incarnation) holding the same entries,
  // as loaded from disk. Peers' cursors into the old tree no longer apply.
  void Restart() {
    auto fresh =
        std::make_unique<tree::Tree>(clock_.Now(), platform::Gfp::kKernel);
    for (const Version& v : Listing(*tree_)) {
      ASSERT_TRUE(fresh->Apply(View(v)).ok());
    }
    tree_ = std::move(fresh);
    cursors_.clear();
  }

  // A session config for a connection of this host. `nonce_seed` makes the
  // nonce unique per connection.
  SessionConfig Config(wire::Role role, uint64_t nonce_seed,
                       uint64_t features = wire::kFeaturePing) const {
    SessionConfig c;
    c.role = role;
    c.hello.features = features;
    c.hello.host_name = S(name_);
    c.hello.cluster_id = Slice::FromCString(kCluster);
    c.hello.module_version = Slice::FromCString("test");
    c.secret = Slice::FromCString(kSecret);
    std::mt19937_64 rng(nonce_seed * 2 + (role == wire::Role::kClient));
    for (uint8_t& b : c.nonce) b = static_cast<uint8_t>(rng());
    c.cursors.cursor_for = &Host::CursorFor;
    c.cursors.context = const_cast<Host*>(this);
    return c;
  }

 private:
  static tree::ChangeCursor CursorFor(void* context, Slice peer) {
    Host* host = static_cast<Host*>(context);
    auto it = host->cursors_.find(Str(peer));
    return it == host->cursors_.end() ? tree::ChangeCursor{} : it->second;
  }

  std::string name_;
  LamportClock clock_;
  std::unique_ptr<tree::Tree> tree_;
  std::map<std::string, tree::ChangeCursor> cursors_;
  std::set<Version>* written_;
};

// The longest output a session may hold: the limit, one answer batch (with
// its frame header) and a few small frames produced in the same call.
inline size_t OutputBound(const SessionConfig& c) {
  return c.output_limit + c.max_batch_bytes + wire::kFrameHeaderSize + 1024;
}

// Two sessions of two hosts wired back to back in memory. Step() does one
// random thing (seeded, so a run is reproducible): move some output bytes
// of one side onto the wire, deliver a random chunk of the bytes in flight,
// or let time pass and run the timers in random order.
class Pair {
 public:
  // `tweak` may change both configs (same change for both) before start.
  Pair(Host* client_host, Host* server_host, uint64_t seed,
       const std::function<void(SessionConfig*)>& tweak = nullptr)
      : hosts_{client_host, server_host}, rng_(seed) {
    configs_[0] = client_host->Config(wire::Role::kClient, seed);
    configs_[1] = server_host->Config(wire::Role::kServer, seed);
    for (SessionConfig& c : configs_) {
      if (tweak) tweak(&c);
    }
    for (int i = 0; i < 2; ++i) {
      sessions_[i] = std::make_unique<Session>(configs_[i], &hosts_[i]->tree(),
                                               &hosts_[i]->clock());
      EXPECT_TRUE(sessions_[i]->Start(g_mono_ns).ok());
    }
  }
  ~Pair() { KeepCursors(); }

  Session& client() { return *sessions_[0]; }
  Session& server() { return *sessions_[1]; }
  Session& session(int i) { return *sessions_[i]; }
  // Bytes sent by side i, not delivered yet.
  Raw& in_flight(int i) { return wire_[i]; }
  std::mt19937_64& rng() { return rng_; }
  // Largest output() seen on either side.
  size_t max_output() const { return max_output_; }

  // Called with the bytes of side `from` as they go onto the wire (may
  // change them: corruption tests).
  std::function<void(int from, Raw* bytes, size_t first_new)> on_wire;
  // Maximal time step of one tick action.
  uint64_t max_time_step = 100 * kMs;

  // The hosts remember each peer's cursor for the next connection.
  void KeepCursors() {
    for (int i = 0; i < 2; ++i) {
      if (sessions_[i]->peer_host_name().empty()) continue;
      hosts_[i]->cursors()[Str(sessions_[i]->peer_host_name())] =
          sessions_[i]->tree_cursor();
    }
  }

  void Step() {
    const int side = static_cast<int>(rng_() % 2);
    const unsigned action = static_cast<unsigned>(rng_() % 10);
    if (action < 3) {
      Send(side);
    } else if (action < 8) {
      Deliver(side);
    } else {
      if (action == 8) g_mono_ns += rng_() % (max_time_step + 1);
      Tick(side);
      Tick(1 - side);
    }
    for (int i = 0; i < 2; ++i) {
      const size_t size = sessions_[i]->output().size();
      max_output_ = std::max(max_output_, size);
      EXPECT_LE(size, OutputBound(configs_[i]));
    }
  }

  // Steps until `done()` or a session closes or `max_steps` pass.
  bool RunUntil(const std::function<bool()>& done, int max_steps) {
    for (int step = 0; step < max_steps; ++step) {
      if (done()) return true;
      if (client().closed() || server().closed()) return done();
      Step();
    }
    return done();
  }

  // Nothing in flight, nothing to send, no request or answer in progress.
  bool Quiet() {
    for (int i = 0; i < 2; ++i) {
      if (!sessions_[i]->open() || !wire_[i].empty() ||
          !sessions_[i]->output().empty() ||
          sessions_[i]->tree_request_outstanding() ||
          sessions_[i]->answering()) {
        return false;
      }
    }
    return true;
  }

  // Runs until both trees hold the same versions and the link is quiet.
  bool Converge(int max_steps) {
    return RunUntil(
        [this] {
          return Quiet() &&
                 Listing(hosts_[0]->tree()) == Listing(hosts_[1]->tree());
        },
        max_steps);
  }

  bool Open(int max_steps = 100000) {
    return RunUntil([this] { return client().open() && server().open(); },
                    max_steps);
  }

  // Moves random bytes of side i's output onto the wire.
  void Send(int i) {
    Session& s = *sessions_[i];
    const size_t pending = s.output().size();
    if (pending == 0) return;
    const size_t n = std::min(pending, RandomChunk());
    const size_t first_new = wire_[i].size();
    wire_[i].insert(wire_[i].end(), s.output().data(), s.output().data() + n);
    s.ConsumeOutput(n);
    if (on_wire) on_wire(i, &wire_[i], first_new);
  }

  // Delivers a random chunk of side i's bytes in flight to the other side.
  void Deliver(int i) {
    if (wire_[i].empty()) return;
    const size_t n = std::min(wire_[i].size(), RandomChunk());
    Session& to = *sessions_[1 - i];
    (void)to.OnBytes(Slice(wire_[i].data(), n), g_mono_ns);
    wire_[i].erase(wire_[i].begin(), wire_[i].begin() + n);
  }

  void Tick(int i) { (void)sessions_[i]->OnTick(g_mono_ns); }

 private:
  // 1 byte .. 128 KiB, every order of magnitude about equally likely.
  size_t RandomChunk() {
    const unsigned bits = static_cast<unsigned>(rng_() % 18);
    return 1 + static_cast<size_t>(rng_() % (size_t{1} << bits));
  }

  Host* hosts_[2];
  SessionConfig configs_[2];
  std::unique_ptr<Session> sessions_[2];
  Raw wire_[2];
  std::mt19937_64 rng_;
  size_t max_output_ = 0;
};

// One complete frame carrying `message` (as a peer would send it).
template <class M>
Raw EncodeFrame(const M& message) {
  Bytes out;
  wire::FrameEncoder encoder(&out);
  const Status s = encoder.AppendMessage(message);
  EXPECT_TRUE(s.ok()) << s.message();
  return Raw(out.data(), out.data() + out.size());
}

// Two sessions of two hosts connected back to back, moved deterministically:
// Flush() delivers every output byte of each side to the other until both
// are silent (no timers run, so the link goes quiet after the first tree
// exchange). Between Flush() calls every frame has been delivered whole, so
// Inject() can hand a session a crafted frame as if its peer had sent it.
class Link {
 public:
  // `tweak(side, config)` may change side 0's (client) and side 1's
  // (server) config before start.
  Link(Host* client_host, Host* server_host, uint64_t seed,
       const std::function<void(int, SessionConfig*)>& tweak = nullptr) {
    Host* hosts[2] = {client_host, server_host};
    configs_[0] = client_host->Config(wire::Role::kClient, seed);
    configs_[1] = server_host->Config(wire::Role::kServer, seed);
    for (int i = 0; i < 2; ++i) {
      if (tweak) tweak(i, &configs_[i]);
      sessions_[i] = std::make_unique<Session>(configs_[i], &hosts[i]->tree(),
                                               &hosts[i]->clock());
      EXPECT_TRUE(sessions_[i]->Start(g_mono_ns).ok());
    }
    Flush();
  }

  Session& client() { return *sessions_[0]; }
  Session& server() { return *sessions_[1]; }
  Session& session(int i) { return *sessions_[i]; }

  // Moves bytes both ways until neither side has anything to say.
  void Flush() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (int i = 0; i < 2; ++i) {
        Bytes out;
        ASSERT_TRUE(sessions_[i]->TakeOutput(&out).ok());
        if (out.empty()) continue;
        moved = true;
        (void)sessions_[1 - i]->OnBytes(AsSlice(out), g_mono_ns);
      }
      if (!moved) return;
    }
    FAIL() << "the link does not go quiet";
  }

  // Delivers `message` to side `to` as a frame from its peer, then flushes.
  template <class M>
  void Inject(int to, const M& message) {
    Flush();
    const Raw frame = EncodeFrame(message);
    (void)sessions_[to]->OnBytes(Slice(frame.data(), frame.size()), g_mono_ns);
    Flush();
  }

 private:
  SessionConfig configs_[2];
  std::unique_ptr<Session> sessions_[2];
};

}  // namespace test
}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SESSION_TEST_UTIL_H_
