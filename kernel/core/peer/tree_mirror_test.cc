// Tests of TreeMirror: the /mars directory and the in-memory tree in step.
#include "core/peer/tree_mirror.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <string>

#include "core/platform_io.h"

namespace mars {
namespace peer {
namespace {

constexpr uint64_t kBase = 1700000000000000000ull;

struct Link {
  std::string value;  // ".deleted" for a tombstone
  uint64_t stamp;
  bool operator==(const Link& o) const {
    return value == o.value && stamp == o.stamp;
  }
};

class TreeMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mars-mirror-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    ASSERT_EQ(system(("rm -rf " + root_).c_str()), 0);
  }

  void Put(const std::string& root, const std::string& rel,
           const std::string& value, uint64_t stamp) {
    for (size_t i = rel.find('/'); i != std::string::npos;
         i = rel.find('/', i + 1)) {
      ASSERT_TRUE(
          platform::MakeDirectory((root + "/" + rel.substr(0, i)).c_str())
              .ok());
    }
    ASSERT_TRUE(platform::WriteLink((root + "/" + rel).c_str(), value.data(),
                                    value.size(), stamp)
                    .ok());
  }

  // Every link under `root` (recursively) by relative path.
  std::map<std::string, Link> Links(const std::string& root) {
    std::map<std::string, Link> out;
    std::string command = "cd " + root + " && find . -type l";
    FILE* f = popen(command.c_str(), "r");
    char line[4096];
    while (f != nullptr && fgets(line, sizeof(line), f) != nullptr) {
      std::string rel(line + 2);
      rel.pop_back();
      char value[4096];
      size_t size = 0;
      uint64_t stamp = 0;
      EXPECT_TRUE(platform::ReadLink((root + "/" + rel).c_str(), value,
                                     sizeof(value), &size, &stamp)
                      .ok());
      out[rel] = Link{std::string(value, size), stamp};
    }
    if (f != nullptr) pclose(f);
    return out;
  }

  static std::string Value(const tree::Tree& t, const std::string& path) {
    Slice value;
    if (!t.Lookup(Slice(path.data(), path.size()), &value)) return "<none>";
    return std::string(value.chars(), value.size());
  }

  static tree::EntryView Remote(const std::string& path,
                                const std::string& value, uint64_t stamp,
                                bool tombstone = false) {
    tree::EntryView v;
    v.path = Slice(path.data(), path.size());
    v.value = tombstone ? Slice() : Slice(value.data(), value.size());
    v.tombstone = tombstone;
    v.stamp = stamp;
    v.owner = Slice("beta", 4);
    return v;
  }

  std::string root_;
  LamportClock clock_;
  tree::Tree tree_{kBase};
};

TEST_F(TreeMirrorTest, ScanLoadsTreeLinksOnly) {
  Put(root_, "uuid", "c1", kBase + 1);
  Put(root_, "ips/ip-alpha", "10.0.0.1", kBase + 2);
  Put(root_, "resource-r0/size", "1048576", kBase + 3);
  Put(root_, "resource-r0/todo-alpha/attach", "1", kBase + 4);
  Put(root_, "resource-r0/gone", ".deleted", kBase + 5);
  std::ofstream(root_ + "/secret") << "not a link\n";
  std::ofstream(root_ + "/resource-r0/log-000000001-alpha") << "records";
  ASSERT_EQ(symlink("x", (root_ + "/.tmp.1.uuid").c_str()), 0);
  ASSERT_EQ(symlink("x", (root_ + "/resource-r0/bad name").c_str()), 0);

  TreeMirror mirror(&tree_, &clock_);
  ASSERT_TRUE(mirror.Init(root_.c_str(), Slice("alpha", 5)).ok());
  MirrorStats stats;
  ASSERT_TRUE(mirror.Scan(&stats).ok());
  EXPECT_EQ(tree_.size(), 5u);
  EXPECT_EQ(stats.merged, 5u);
  EXPECT_EQ(Value(tree_, "uuid"), "c1");
  EXPECT_EQ(Value(tree_, "resource-r0/todo-alpha/attach"), "1");
  const tree::Entry* gone = tree_.Find(Slice("resource-r0/gone", 16));
  ASSERT_NE(gone, nullptr);
  EXPECT_TRUE(gone->tombstone());
  EXPECT_EQ(gone->stamp(), kBase + 5);
  EXPECT_EQ(gone->owner(), Slice("alpha", 5));
  EXPECT_GE(clock_.Latest(), kBase + 5);

  // Nothing changed: a second scan merges nothing and writes nothing.
  MirrorStats again;
  ASSERT_TRUE(mirror.Scan(&again).ok());
  ASSERT_TRUE(mirror.WriteBack(&again).ok());
  EXPECT_EQ(again.merged, 0u);
  EXPECT_EQ(again.links_written, 0u);
  EXPECT_EQ(again.links_seen, 5u);
}

TEST_F(TreeMirrorTest, WriteBackWritesRemoteVersionsWithTheirStamps) {
  Put(root_, "uuid", "c1", kBase + 1);
  Put(root_, "resource-r0/primary", "alpha", kBase + 2);
  TreeMirror mirror(&tree_, &clock_);
  ASSERT_TRUE(mirror.Init(root_.c_str(), Slice("alpha", 5)).ok());
  MirrorStats stats;
  ASSERT_TRUE(mirror.Scan(&stats).ok());
  ASSERT_TRUE(mirror.WriteBack(&stats).ok());
  EXPECT_EQ(stats.links_written, 0u);

  ASSERT_TRUE(tree_.Apply(Remote("resource-r0/primary", "beta", kBase + 10))
                  .ok());
  ASSERT_TRUE(
      tree_.Apply(Remote("resource-r1/actual-beta/is-primary", "1", kBase + 11))
          .ok());
  ASSERT_TRUE(tree_.Apply(Remote("uuid", "", kBase + 12, true)).ok());
  // Older than what is on disk: never written.
  ASSERT_TRUE(tree_.Apply(Remote("ips/ip-beta", "10.0.0.2", kBase + 13)).ok());
  MirrorStats written;
  ASSERT_TRUE(mirror.WriteBack(&written).ok());
  EXPECT_EQ(written.links_written, 4u);
  const auto links = Links(root_);
  EXPECT_EQ(links.at("resource-r0/primary"), (Link{"beta", kBase + 10}));
  EXPECT_EQ(links.at("resource-r1/actual-beta/is-primary"),
            (Link{"1", kBase + 11}));
  EXPECT_EQ(links.at("uuid"), (Link{".deleted", kBase + 12}));
  EXPECT_EQ(links.at("ips/ip-beta"), (Link{"10.0.0.2", kBase + 13}));

  // Written once: the next WriteBack and Scan find nothing to do, and the
  // remote owner stays (the disk does not store owners).
  MirrorStats idle;
  ASSERT_TRUE(mirror.WriteBack(&idle).ok());
  ASSERT_TRUE(mirror.Scan(&idle).ok());
  EXPECT_EQ(idle.links_written, 0u);
  EXPECT_EQ(idle.merged, 0u);
  EXPECT_EQ(tree_.Find(Slice("uuid", 4))->owner(), Slice("beta", 4));
}

TEST_F(TreeMirrorTest, NewerSideWinsBetweenDiskAndTree) {
  Put(root_, "resource-r0/size", "4096", kBase + 5);
  TreeMirror mirror(&tree_, &clock_);
  ASSERT_TRUE(mirror.Init(root_.c_str(), Slice("alpha", 5)).ok());
  MirrorStats stats;
  ASSERT_TRUE(mirror.Scan(&stats).ok());
  ASSERT_TRUE(mirror.WriteBack(&stats).ok());

  // A remote version newer than the link, not yet written back: the scan
  // does not take the older disk version, and leaves the link to
  // WriteBack (which writes in change order).
  ASSERT_TRUE(tree_.Apply(Remote("resource-r0/size", "8192", kBase + 6)).ok());
  MirrorStats scan;
  ASSERT_TRUE(mirror.Scan(&scan).ok());
  EXPECT_EQ(scan.merged, 0u);
  EXPECT_EQ(scan.links_written, 0u);
  EXPECT_EQ(Value(tree_, "resource-r0/size"), "8192");
  ASSERT_TRUE(mirror.WriteBack(&scan).ok());
  EXPECT_EQ(scan.links_written, 1u);
  EXPECT_EQ(Links(root_).at("resource-r0/size"), (Link{"8192", kBase + 6}));

  // A link set back on disk after WriteBack wrote the newer version (an
  // older stamp): the scan repairs it at once.
  Put(root_, "resource-r0/size", "4096", kBase + 5);
  MirrorStats repair;
  ASSERT_TRUE(mirror.Scan(&repair).ok());
  EXPECT_EQ(repair.links_written, 1u);
  EXPECT_EQ(Links(root_).at("resource-r0/size"), (Link{"8192", kBase + 6}));

  // A local change (marsadm) newer than the tree: merged by the scan, and
  // WriteBack leaves it alone.
  Put(root_, "resource-r0/size", "12288", kBase + 7);
  ASSERT_TRUE(tree_.Apply(Remote("resource-r0/size", "16384", kBase + 1)).ok());
  MirrorStats local;
  ASSERT_TRUE(mirror.WriteBack(&local).ok());
  EXPECT_EQ(local.links_written, 0u);
  ASSERT_TRUE(mirror.Scan(&local).ok());
  EXPECT_EQ(local.merged, 1u);
  EXPECT_EQ(Value(tree_, "resource-r0/size"), "12288");
  EXPECT_EQ(Links(root_).at("resource-r0/size"), (Link{"12288", kBase + 7}));
}

// Changes reach the disk in the order they were made, also when a scan
// comes between: a writer that sets syncpos-HOST (no link yet) and then
// syncstatus-HOST (an older link exists) relies on it (replication.md §6).
TEST_F(TreeMirrorTest, ChangesReachTheDiskInChangeOrder) {
  Put(root_, "resource-r0/syncstatus-beta", "0", kBase + 1);
  TreeMirror mirror(&tree_, &clock_);
  ASSERT_TRUE(mirror.Init(root_.c_str(), Slice("alpha", 5)).ok());
  MirrorStats stats;
  ASSERT_TRUE(mirror.Scan(&stats).ok());
  ASSERT_TRUE(mirror.WriteBack(&stats).ok());
  ASSERT_TRUE(
      tree_.Apply(Remote("resource-r0/syncpos-beta", "log-000000001-a,9", kBase + 2))
          .ok());
  ASSERT_TRUE(
      tree_.Apply(Remote("resource-r0/syncstatus-beta", "4096", kBase + 3))
          .ok());
  MirrorStats scan;
  ASSERT_TRUE(mirror.Scan(&scan).ok());
  // syncstatus must not be on disk before syncpos.
  EXPECT_EQ(Links(root_).count("resource-r0/syncpos-beta"), 0u);
  EXPECT_EQ(Links(root_).at("resource-r0/syncstatus-beta"),
            (Link{"0", kBase + 1}));
  ASSERT_TRUE(mirror.WriteBack(&scan).ok());
  EXPECT_EQ(Links(root_).at("resource-r0/syncpos-beta"),
            (Link{"log-000000001-a,9", kBase + 2}));
  EXPECT_EQ(Links(root_).at("resource-r0/syncstatus-beta"),
            (Link{"4096", kBase + 3}));
}

// Two hosts, each with its directory, mirror and tree, exchange their trees
// the way peers do (every entry after the other's cursor); after each round
// both directories hold the same links, whatever each side changed.
TEST_F(TreeMirrorTest, TwoHostsConvergeOnDisk) {
  const std::string other = root_ + "-b";
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  tree::Tree tree_b(kBase + 1);
  LamportClock clock_b;
  TreeMirror a(&tree_, &clock_);
  TreeMirror b(&tree_b, &clock_b);
  ASSERT_TRUE(a.Init(root_.c_str(), Slice("alpha", 5)).ok());
  ASSERT_TRUE(b.Init(other.c_str(), Slice("beta", 4)).ok());
  std::mt19937_64 rng(7);
  tree::ChangeCursor a_from_b, b_from_a;
  auto pull = [](tree::Tree* into, LamportClock* clock,
                 const tree::Tree& from, tree::ChangeCursor* cursor) {
    Vector<const tree::Entry*> changed(platform::Gfp::kKernel);
    tree::ChangeCursor next;
    ASSERT_TRUE(from.CollectSince(*cursor, 1u << 20, &changed, &next).ok());
    for (size_t i = 0; i < changed.size(); ++i) {
      ASSERT_TRUE(clock->Observe(changed[i]->stamp()).ok());
      ASSERT_TRUE(into->Apply(changed[i]->view()).ok());
    }
    *cursor = next;
  };
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 6; ++k) {
      const bool on_a = rng() % 2 == 0;
      const std::string path =
          "resource-r" + std::to_string(rng() % 3) + "/key" +
          std::to_string(rng() % 5);
      const std::string value =
          rng() % 4 == 0 ? ".deleted" : "v" + std::to_string(rng() % 100);
      LamportClock& clock = on_a ? clock_ : clock_b;
      Put(on_a ? root_ : other, path, value, clock.Now());
    }
    MirrorStats stats;
    ASSERT_TRUE(a.Scan(&stats).ok());
    ASSERT_TRUE(b.Scan(&stats).ok());
    pull(&tree_, &clock_, tree_b, &a_from_b);
    pull(&tree_b, &clock_b, tree_, &b_from_a);
    ASSERT_TRUE(a.WriteBack(&stats).ok());
    ASSERT_TRUE(b.WriteBack(&stats).ok());
    EXPECT_EQ(Links(root_), Links(other)) << "round " << round;
  }
  ASSERT_EQ(system(("rm -rf " + other).c_str()), 0);
}

TEST_F(TreeMirrorTest, PurgedTombstonesLeaveTheDisk) {
  Put(root_, "resource-r0/old", ".deleted", kBase + 1);
  Put(root_, "resource-r0/kept", "1", kBase + 2);
  TreeMirror mirror(&tree_, &clock_);
  ASSERT_TRUE(mirror.Init(root_.c_str(), Slice("alpha", 5)).ok());
  MirrorStats stats;
  ASSERT_TRUE(mirror.Scan(&stats).ok());
  // The only peer has seen everything.
  tree::HostName beta;
  ASSERT_TRUE(beta.Assign(Slice("beta", 4)).ok());
  ASSERT_TRUE(tree_.PeerSeen(beta.slice(), tree_.cursor()).ok());
  MirrorStats purge;
  ASSERT_TRUE(mirror.PurgeTombstones(&beta, 1, &purge).ok());
  EXPECT_EQ(purge.links_removed, 1u);
  EXPECT_EQ(tree_.Find(Slice("resource-r0/old", 16)), nullptr);
  const auto links = Links(root_);
  EXPECT_EQ(links.count("resource-r0/old"), 0u);
  EXPECT_EQ(links.count("resource-r0/kept"), 1u);
  // Nothing comes back.
  MirrorStats again;
  ASSERT_TRUE(mirror.Scan(&again).ok());
  EXPECT_EQ(again.merged, 0u);
  EXPECT_EQ(tree_.Find(Slice("resource-r0/old", 16)), nullptr);
}

TEST_F(TreeMirrorTest, RefusesBadSetup) {
  TreeMirror mirror(&tree_, &clock_);
  EXPECT_EQ(mirror.Init("relative", Slice("alpha", 5)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(mirror.Init(root_.c_str(), Slice("bad.host", 8)).code(),
            StatusCode::kInvalidArgument);
  MirrorStats stats;
  EXPECT_EQ(mirror.Scan(&stats).code(), StatusCode::kInvalidArgument);
  TreeMirror missing(&tree_, &clock_);
  ASSERT_TRUE(missing.Init((root_ + "/absent").c_str(), Slice("a", 1)).ok());
  EXPECT_EQ(missing.Scan(&stats).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace peer
}  // namespace mars
