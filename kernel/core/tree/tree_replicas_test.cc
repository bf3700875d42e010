// Property tests of the /mars tree model: simulated replicas exchanging
// entries (docu/mars-tree.md, "Merge", "Incremental exchange", "Purging
// tombstones"). Every test runs many seeds of random operation sequences.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/lamport_clock.h"
#include "core/tree/tree.h"

namespace mars {
namespace tree {
namespace {

constexpr int kMaxReplicas = 5;

// One shared fake wall clock; each replica sees it with its own skew, so
// equal stamps from different hosts are common and tie-breaks get exercised.
uint64_t g_now = 1'000'000;
uint64_t g_skew[kMaxReplicas] = {};
template <int I>
uint64_t SkewedNow() {
  return g_now + g_skew[I];
}
const LamportClock::RealTimeSource kSources[kMaxReplicas] = {
    &SkewedNow<0>, &SkewedNow<1>, &SkewedNow<2>, &SkewedNow<3>, &SkewedNow<4>};

struct Version {
  std::string path, value, owner;
  bool tombstone = false;
  uint64_t stamp = 0;
  bool operator==(const Version& o) const {
    return path == o.path && value == o.value && owner == o.owner &&
           tombstone == o.tombstone && stamp == o.stamp;
  }
};

std::ostream& operator<<(std::ostream& os, const Version& v) {
  return os << v.path << "=" << (v.tombstone ? "<tombstone>" : v.value) << "@"
            << v.stamp << "/" << v.owner;
}

Slice S(const std::string& s) { return Slice(s.data(), s.size()); }

EntryView View(const Version& v) {
  EntryView e;
  e.path = S(v.path);
  e.value = S(v.value);
  e.owner = S(v.owner);
  e.tombstone = v.tombstone;
  e.stamp = v.stamp;
  return e;
}

Version Copy(const Entry& e) {
  Version v;
  v.path.assign(e.path().chars(), e.path().size());
  v.value.assign(e.value().chars(), e.value().size());
  v.owner.assign(e.owner().chars(), e.owner().size());
  v.tombstone = e.tombstone();
  v.stamp = e.stamp();
  return v;
}

std::vector<Version> Listing(const Tree& tree, bool with_tombstones = true) {
  std::vector<Version> out;
  for (size_t i = 0; i < tree.size(); ++i) {
    if (with_tombstones || !tree.at(i).tombstone())
      out.push_back(Copy(tree.at(i)));
  }
  return out;
}

// Everything `tree` has changed after `since`, in batches of `batch`.
std::vector<Version> Collect(const Tree& tree, ChangeCursor since, size_t batch,
                             ChangeCursor* next) {
  Vector<const Entry*> out;
  EXPECT_TRUE(tree.CollectSince(since, batch, &out, next).ok());
  std::vector<Version> versions;
  for (const Entry* e : out) versions.push_back(Copy(*e));
  return versions;
}

const char* const kPaths[] = {
    "uuid",
    "ips/ip-h0",
    "resource-r0/primary",
    "resource-r0/size",
    "resource-r0/todo-h1/attach",
    "resource-r0/replay-h2",
    "resource-r0/actual-h3/is-primary",
    "resource-r1/data-h4",
};
const char* const kValues[] = {"0", "1", "h1", "h2", "/dev/vg/r0"};

struct Replica {
  std::string name;
  std::unique_ptr<LamportClock> clock;
  std::unique_ptr<Tree> tree;
  std::map<int, ChangeCursor> from;  // cursor into each peer's tree
};

class Cluster {
 public:
  Cluster(int size, std::mt19937_64* rng) : rng_(rng) {
    for (int i = 0; i < size; ++i) {
      g_skew[i] = Pick(4);
      Replica r;
      r.name = "h" + std::to_string(i);
      r.clock = std::make_unique<LamportClock>(kSources[i]);
      r.tree = std::make_unique<Tree>(r.clock->Now());
      replicas_.push_back(std::move(r));
    }
  }

  size_t Pick(size_t n) { return static_cast<size_t>((*rng_)() % n); }
  int size() const { return static_cast<int>(replicas_.size()); }
  Replica& at(int i) { return replicas_[i]; }

  // A local write (value or tombstone) at replica i, recorded in the oracle.
  void Write(int i) {
    g_now += Pick(3);
    Replica& r = replicas_[i];
    Version v;
    v.path = kPaths[Pick(std::size(kPaths))];
    v.tombstone = Pick(3) == 0;
    if (!v.tombstone) v.value = kValues[Pick(std::size(kValues))];
    v.owner = r.name;
    v.stamp = r.clock->Now();
    ASSERT_TRUE(r.tree->Apply(View(v)).ok());
    auto it = oracle_.find(v.path);
    if (it == oracle_.end() || CompareVersions(View(v), View(it->second)) > 0) {
      oracle_[v.path] = v;
    }
  }

  // Applies remote versions at replica i as the module would: the clock
  // observes each stamp first.
  bool Receive(int i, const std::vector<Version>& versions) {
    bool changed = false;
    for (const Version& v : versions) {
      EXPECT_TRUE(replicas_[i].clock->Observe(v.stamp).ok());
      ApplyOutcome outcome;
      EXPECT_TRUE(replicas_[i].tree->Apply(View(v), &outcome).ok());
      changed |= outcome == ApplyOutcome::kInserted ||
                 outcome == ApplyOutcome::kReplaced;
    }
    return changed;
  }

  // The replica restarts: a new tree (new incarnation) loaded from its old
  // contents, as from disk; cursors into peers are lost.
  void Restart(int i) {
    Replica& r = replicas_[i];
    auto fresh = std::make_unique<Tree>(r.clock->Now());
    for (const Version& v : Listing(*r.tree))
      ASSERT_TRUE(fresh->Apply(View(v)).ok());
    r.tree = std::move(fresh);
    r.from.clear();
  }

  // Pulls everything src has changed since dst's cursor, immediately.
  bool PullNow(int dst, int src) {
    bool changed = false;
    for (;;) {
      ChangeCursor next;
      const ChangeCursor since = replicas_[dst].from[src];
      std::vector<Version> batch =
          Collect(*replicas_[src].tree, since, 1 + Pick(6), &next);
      changed |= Receive(dst, batch);
      replicas_[dst].from[src] = next;
      if (batch.empty()) return changed;
    }
  }

  // Full pairwise incremental exchange until nothing changes.
  void Settle() {
    for (int round = 0; round < 50; ++round) {
      bool changed = false;
      for (int d = 0; d < size(); ++d) {
        for (int s = 0; s < size(); ++s) {
          if (d != s) changed |= PullNow(d, s);
        }
      }
      if (!changed) return;
    }
    ADD_FAILURE() << "exchange did not settle";
  }

  std::vector<Version> OracleListing(bool with_tombstones = true) const {
    std::vector<Version> out;
    for (const auto& [path, v] : oracle_) {
      if (with_tombstones || !v.tombstone) out.push_back(v);
    }
    return out;
  }

 private:
  std::mt19937_64* rng_;
  std::vector<Replica> replicas_;
  std::map<std::string, Version> oracle_;  // the winning version of each path
};

struct Message {
  int from, to;
  ChangeCursor since, next;
  std::vector<Version> versions;
};

// Random writes, incremental and full exchanges, batches, restarts, and a
// network that delays, reorders and duplicates messages: after the network
// drains and peers settle, every replica holds exactly the winning version
// of every path ever written.
TEST(TreeReplicasTest, ConvergeDespiteReorderingAndDuplicates) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    Cluster cluster(3 + static_cast<int>(seed % 3), &rng);
    std::vector<Message> network;
    for (int step = 0; step < 400; ++step) {
      const size_t what = cluster.Pick(100);
      const int a = static_cast<int>(cluster.Pick(cluster.size()));
      int b = static_cast<int>(cluster.Pick(cluster.size() - 1));
      if (b >= a) ++b;
      if (what < 35) {
        cluster.Write(a);
      } else if (what < 65) {  // a asks b; the answer goes on the network
        Message m{b, a, {}, {}, {}};
        if (cluster.Pick(4) != 0) m.since = cluster.at(a).from[b];  // else full
        m.versions =
            Collect(*cluster.at(b).tree, m.since,
                    cluster.Pick(2) ? 1 + cluster.Pick(5) : SIZE_MAX, &m.next);
        network.push_back(m);
      } else if (what < 97) {
        if (network.empty()) continue;
        const size_t k = cluster.Pick(network.size());
        const Message m = network[k];
        if (cluster.Pick(4) != 0)
          network.erase(network.begin() + k);  // else dup
        cluster.Receive(m.to, m.versions);
        ChangeCursor& cursor = cluster.at(m.to).from[m.from];
        if (cursor.incarnation == m.since.incarnation &&
            cursor.change == m.since.change) {
          cursor = m.next;
        }
      } else {
        cluster.Restart(a);
      }
      if (HasFatalFailure()) return;
    }
    while (!network.empty()) {
      const size_t k = cluster.Pick(network.size());
      cluster.Receive(network[k].to, network[k].versions);
      network.erase(network.begin() + k);
    }
    cluster.Settle();
    const std::vector<Version> expected = cluster.OracleListing();
    for (int i = 0; i < cluster.size(); ++i) {
      ASSERT_EQ(Listing(*cluster.at(i).tree), expected)
          << "seed " << seed << " replica " << i;
    }
  }
}

// Two clusters see the same writes and restarts; one exchanges changes
// since the peer's cursor (in small batches), the other always the full
// tree. After every step every replica of one equals its twin in the other.
TEST(TreeReplicasTest, IncrementalEqualsFullExchange) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const int n = 3 + static_cast<int>(seed % 3);
    std::vector<std::unique_ptr<Tree>> inc, full;
    std::vector<std::map<int, ChangeCursor>> cursors(n);
    uint64_t incarnation = 1;
    for (int i = 0; i < n; ++i) {
      inc.push_back(std::make_unique<Tree>(incarnation++));
      full.push_back(std::make_unique<Tree>(incarnation++));
    }
    uint64_t stamp = 1;
    for (int step = 0; step < 300; ++step) {
      const int a = static_cast<int>(rng() % n);
      int b = static_cast<int>(rng() % (n - 1));
      if (b >= a) ++b;
      const size_t what = rng() % 10;
      if (what < 4) {
        Version v;
        v.path = kPaths[rng() % std::size(kPaths)];
        v.tombstone = rng() % 3 == 0;
        if (!v.tombstone) v.value = kValues[rng() % std::size(kValues)];
        v.owner = "h" + std::to_string(a);
        stamp += rng() % 2;  // equal stamps are frequent
        v.stamp = stamp;
        ASSERT_TRUE(inc[a]->Apply(View(v)).ok());
        ASSERT_TRUE(full[a]->Apply(View(v)).ok());
      } else if (what < 9) {  // a pulls from b
        for (;;) {
          ChangeCursor next;
          std::vector<Version> batch =
              Collect(*inc[b], cursors[a][b], 1 + rng() % 3, &next);
          for (const Version& v : batch)
            ASSERT_TRUE(inc[a]->Apply(View(v)).ok());
          cursors[a][b] = next;
          if (batch.empty()) break;
        }
        ChangeCursor ignored;
        for (const Version& v :
             Collect(*full[b], ChangeCursor{}, SIZE_MAX, &ignored)) {
          ASSERT_TRUE(full[a]->Apply(View(v)).ok());
        }
      } else {  // a restarts: new incarnation, contents reloaded
        auto fresh = std::make_unique<Tree>(incarnation++);
        for (const Version& v : Listing(*inc[a]))
          ASSERT_TRUE(fresh->Apply(View(v)).ok());
        inc[a] = std::move(fresh);
        cursors[a].clear();
      }
      for (int i = 0; i < n; ++i) {
        ASSERT_EQ(Listing(*inc[i]), Listing(*full[i]))
            << "seed " << seed << " step " << step;
      }
    }
  }
}

// Peers follow the purge rule: a request from P (carrying P's cursor, i.e.
// its acknowledgement) travels on the same FIFO channel P->me as P's answers
// to my requests, and channels are dropped on restart. With random writes,
// exchanges, restarts and purges, no replica ever goes back to an older
// version of a path (no resurrection), and in the end all replicas hold the
// winning live versions and no tombstones.
TEST(TreeReplicasTest, PurgeNeverResurrects) {
  enum class Kind { kRequest, kResponse };
  struct Packet {
    Kind kind;
    ChangeCursor since, next;
    std::vector<Version> versions;
  };
  size_t purged_while_running = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    Cluster cluster(3 + static_cast<int>(seed % 3), &rng);
    const int n = cluster.size();
    std::map<std::pair<int, int>, std::deque<Packet>> channel;  // (from, to)
    std::map<std::pair<int, int>, bool> outstanding;            // (asker, peer)
    std::vector<std::map<std::string, Version>> highest(n);
    std::vector<HostName> names(n);
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(names[i].Assign(S(cluster.at(i).name)).ok());

    auto peers_of = [&](int i) {
      std::vector<HostName> peers;
      for (int j = 0; j < n; ++j) {
        if (j != i) peers.push_back(names[j]);
      }
      return peers;
    };
    auto check_monotonic = [&]() {
      for (int i = 0; i < n; ++i) {
        for (const Version& v : Listing(*cluster.at(i).tree)) {
          auto it = highest[i].find(v.path);
          if (it != highest[i].end()) {
            ASSERT_GE(CompareVersions(View(v), View(it->second)), 0)
                << "seed " << seed << " replica " << i << " went back from "
                << it->second << " to " << v;
          }
          if (it == highest[i].end() ||
              CompareVersions(View(v), View(it->second)) > 0) {
            highest[i][v.path] = v;
          }
        }
      }
    };
    auto request = [&](int asker, int peer) {
      if (outstanding[{asker, peer}]) return;
      outstanding[{asker, peer}] = true;
      channel[{asker, peer}].push_back(
          Packet{Kind::kRequest, cluster.at(asker).from[peer], {}, {}});
    };
    auto process = [&](int from, int to) {
      std::deque<Packet>& q = channel[{from, to}];
      if (q.empty()) return false;
      Packet p = std::move(q.front());
      q.pop_front();
      if (p.kind ==
          Kind::kRequest) {  // `from` asks `to`, acknowledging p.since
        EXPECT_TRUE(cluster.at(to)
                        .tree->PeerSeen(S(cluster.at(from).name), p.since)
                        .ok());
        Packet answer{Kind::kResponse, p.since, {}, {}};
        answer.versions = Collect(*cluster.at(to).tree, p.since,
                                  1 + cluster.Pick(4), &answer.next);
        channel[{to, from}].push_back(std::move(answer));
      } else {  // the answer to `to`'s request
        cluster.Receive(to, p.versions);
        ChangeCursor& cursor = cluster.at(to).from[from];
        if (cursor.incarnation == p.since.incarnation &&
            cursor.change == p.since.change) {
          cursor = p.next;
        }
        outstanding[{to, from}] = false;
      }
      return true;
    };
    auto purge = [&](int i) {
      std::vector<HostName> peers = peers_of(i);
      return cluster.at(i).tree->PurgeTombstones(peers.data(), peers.size());
    };

    for (int step = 0; step < 600; ++step) {
      const size_t what = cluster.Pick(100);
      const int a = static_cast<int>(cluster.Pick(n));
      int b = static_cast<int>(cluster.Pick(n - 1));
      if (b >= a) ++b;
      if (what < 8) {
        cluster.Write(a);
      } else if (what < 40) {
        request(a, b);
      } else if (what < 90) {  // some queued packet arrives
        std::vector<std::pair<int, int>> busy;
        for (const auto& [key, q] : channel) {
          if (!q.empty()) busy.push_back(key);
        }
        if (!busy.empty()) {
          const std::pair<int, int> key = busy[cluster.Pick(busy.size())];
          process(key.first, key.second);
        }
      } else if (what < 99) {
        purged_while_running += purge(a);
      } else {
        cluster.Restart(a);
        for (int j = 0; j < n; ++j) {
          channel[{a, j}].clear();
          channel[{j, a}].clear();
          outstanding[{a, j}] = outstanding[{j, a}] = false;
        }
      }
      if (HasFatalFailure()) return;
      check_monotonic();
      if (HasFatalFailure()) return;
    }
    // Quiesce: everyone pulls from everyone until nothing moves, then once
    // more so every acknowledgement covers the last change, then purge.
    auto settled = [&]() {  // every cursor and acknowledgement is current
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          if (i == j) continue;
          const ChangeCursor mine = cluster.at(j).tree->cursor();
          const ChangeCursor theirs = cluster.at(i).from[j];
          if (theirs.incarnation != mine.incarnation ||
              theirs.change != mine.change ||
              cluster.at(j).tree->PeerAcked(S(cluster.at(i).name)) !=
                  mine.change) {
            return false;
          }
        }
      }
      return true;
    };
    for (int round = 0; !settled(); ++round) {
      ASSERT_LT(round, 200) << "seed " << seed << ": exchange did not settle";
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          if (i != j) request(i, j);
        }
      }
      bool busy = true;
      while (busy) {
        busy = false;
        for (int i = 0; i < n; ++i) {
          for (int j = 0; j < n; ++j) {
            if (i != j) busy |= process(i, j);
          }
        }
      }
      check_monotonic();
      if (HasFatalFailure()) return;
    }
    for (int i = 0; i < n; ++i) purge(i);
    const std::vector<Version> expected = cluster.OracleListing(false);
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(Listing(*cluster.at(i).tree), expected)
          << "seed " << seed << " replica " << i;
    }
  }
  EXPECT_GT(purged_while_running, 50u) << purged_while_running;
}

// Why the rule insists on one ordered channel: if P's acknowledgement
// overtakes an older answer from P, a purge lets that answer resurrect an
// entry. (The simulation above never does this.)
TEST(TreeReplicasTest, AckOvertakingAnOlderAnswerWouldResurrect) {
  Tree me(1), peer(2);
  HostName peer_name;
  ASSERT_TRUE(peer_name.Assign(S("p")).ok());
  Version old_value{"resource-r0/primary", "h1", "p", false, 10};
  ASSERT_TRUE(peer.Apply(View(old_value)).ok());
  // The peer's answer to my pull, carrying the old value, is delayed ...
  ChangeCursor ignored;
  const std::vector<Version> delayed =
      Collect(peer, ChangeCursor{}, SIZE_MAX, &ignored);
  // ... while I delete the path, the peer pulls the tombstone and acks it.
  Version tombstone{"resource-r0/primary", "", "m", true, 20};
  ASSERT_TRUE(me.Apply(View(tombstone)).ok());
  for (const Version& v : Collect(me, ChangeCursor{}, SIZE_MAX, &ignored)) {
    ASSERT_TRUE(peer.Apply(View(v)).ok());
  }
  ASSERT_TRUE(me.PeerSeen(S("p"), me.cursor()).ok());
  EXPECT_EQ(me.PurgeTombstones(&peer_name, 1), 1u);
  for (const Version& v : delayed) ASSERT_TRUE(me.Apply(View(v)).ok());
  Slice value;
  EXPECT_TRUE(me.Lookup(S("resource-r0/primary"), &value));  // resurrected
  EXPECT_FALSE(peer.Lookup(S("resource-r0/primary"), &value));
}

}  // namespace
}  // namespace tree
}  // namespace mars
