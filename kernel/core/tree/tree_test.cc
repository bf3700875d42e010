// Tests of entries and Tree (docu/mars-tree.md §5-§7): merge outcomes,
// tie-breaks, change index and batches, acknowledgements and purge.
#include "core/tree/tree.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform_user.h"

namespace mars {
namespace tree {
namespace {

Slice S(const char* s) { return Slice::FromCString(s); }

EntryView Live(const char* path, const char* value, uint64_t stamp,
               const char* owner = "a") {
  EntryView e;
  e.path = S(path);
  e.value = S(value);
  e.stamp = stamp;
  e.owner = S(owner);
  return e;
}

EntryView Dead(const char* path, uint64_t stamp, const char* owner = "a") {
  EntryView e;
  e.path = S(path);
  e.tombstone = true;
  e.stamp = stamp;
  e.owner = S(owner);
  return e;
}

ApplyOutcome ApplyOk(Tree* tree, const EntryView& e) {
  ApplyOutcome outcome = ApplyOutcome::kStale;
  EXPECT_TRUE(tree->Apply(e, &outcome).ok());
  return outcome;
}

std::string Value(const Tree& tree, const char* path) {
  Slice value;
  if (!tree.Lookup(S(path), &value)) return "<absent>";
  return std::string(value.chars(), value.size());
}

std::vector<std::string> Paths(const Vector<const Entry*>& entries) {
  std::vector<std::string> paths;
  for (const Entry* e : entries)
    paths.emplace_back(e->path().chars(), e->path().size());
  return paths;
}

TEST(EntryTest, ValidateRefusesEveryErrorClass) {
  EXPECT_TRUE(ValidateEntry(Live("resource-r0/size", "1024", 1)).ok());
  EXPECT_TRUE(ValidateEntry(Dead("resource-r0/size", 1)).ok());
  EXPECT_STREQ(ValidateEntry(Live("/x", "1", 1)).message(),
               "path starts with '/'");
  EXPECT_STREQ(ValidateEntry(Live("x", "", 1)).message(), "value is empty");
  EXPECT_STREQ(ValidateEntry(Live("x", ".deleted", 1)).message(),
               "value is the tombstone marker '.deleted'");
  EntryView dead_with_value = Dead("x", 1);
  dead_with_value.value = S("v");
  EXPECT_STREQ(ValidateEntry(dead_with_value).message(),
               "tombstone carries a value");
  EXPECT_STREQ(
      ValidateEntry(Live("x", "v", 1, "no ne")).message(),
      "host name contains a character other than letters, digits, '_', '-'");
  EXPECT_STREQ(ValidateEntry(Live("x", "v", 0)).message(),
               "entry stamp is zero");
}

TEST(EntryTest, MergeOrderIsTotalAndAntisymmetric) {
  const EntryView versions[] = {
      Live("p", "a", 5, "x"), Live("p", "a", 5, "y"), Live("p", "b", 5, "x"),
      Dead("p", 5, "x"),      Dead("p", 5, "y"),      Live("p", "a", 6, "x"),
      Dead("p", 4, "z"),
  };
  for (const EntryView& a : versions) {
    EXPECT_EQ(CompareVersions(a, a), 0);
    for (const EntryView& b : versions) {
      EXPECT_EQ(CompareVersions(a, b), -CompareVersions(b, a));
    }
  }
  // stamp > tombstone > value bytes > owner
  EXPECT_GT(CompareVersions(Live("p", "a", 6), Dead("p", 5)), 0);
  EXPECT_GT(CompareVersions(Dead("p", 5, "a"), Live("p", "zzz", 5, "z")), 0);
  EXPECT_GT(CompareVersions(Live("p", "b", 5, "a"), Live("p", "a", 5, "z")), 0);
  EXPECT_GT(CompareVersions(Live("p", "a", 5, "b"), Live("p", "a", 5, "a")), 0);
}

TEST(TreeTest, ApplyOutcomes) {
  Tree tree(1);
  EXPECT_EQ(ApplyOk(&tree, Live("resource-r0/primary", "n1", 100)),
            ApplyOutcome::kInserted);
  EXPECT_EQ(ApplyOk(&tree, Live("resource-r0/primary", "n1", 100)),
            ApplyOutcome::kUnchanged);
  EXPECT_EQ(ApplyOk(&tree, Live("resource-r0/primary", "n2", 90)),
            ApplyOutcome::kStale);
  EXPECT_EQ(Value(tree, "resource-r0/primary"), "n1");
  EXPECT_EQ(ApplyOk(&tree, Live("resource-r0/primary", "n2", 110, "b")),
            ApplyOutcome::kReplaced);
  EXPECT_EQ(Value(tree, "resource-r0/primary"), "n2");
  const Entry* e = tree.Find(S("resource-r0/primary"));
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->stamp(), 110u);
  EXPECT_EQ(e->owner(), S("b"));
  EXPECT_EQ(tree.Find(S("resource-r0/size")), nullptr);
  EXPECT_EQ(Value(tree, "nothing"), "<absent>");
}

TEST(TreeTest, InvalidEntriesAreRefusedWithoutChange) {
  Tree tree(1);
  EXPECT_EQ(tree.Apply(Live("a/../b", "v", 1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.Apply(Live("a", "v", 0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.cursor().change, 0u);
}

TEST(TreeTest, TombstonesWinOverOlderAndEqualValues) {
  Tree tree(1);
  ApplyOk(&tree, Live("x", "v", 10));
  EXPECT_EQ(ApplyOk(&tree, Dead("x", 10)), ApplyOutcome::kReplaced);
  EXPECT_EQ(Value(tree, "x"), "<absent>");
  ASSERT_NE(tree.Find(S("x")), nullptr);
  EXPECT_TRUE(tree.Find(S("x"))->tombstone());
  EXPECT_EQ(ApplyOk(&tree, Live("x", "older", 9)), ApplyOutcome::kStale);
  EXPECT_EQ(ApplyOk(&tree, Live("x", "newer", 11)), ApplyOutcome::kReplaced);
  EXPECT_EQ(Value(tree, "x"), "newer");
  // A tombstone for a path never seen is kept, so a late older value loses.
  EXPECT_EQ(ApplyOk(&tree, Dead("y", 20)), ApplyOutcome::kInserted);
  EXPECT_EQ(ApplyOk(&tree, Live("y", "late", 15)), ApplyOutcome::kStale);
  EXPECT_EQ(Value(tree, "y"), "<absent>");
}

TEST(TreeTest, KeepsPathOrder) {
  Tree tree(1);
  for (const char* p :
       {"m", "b", "z", "a", "resource-r0/x", "resource-r0", "c"}) {
    ApplyOk(&tree, Live(p, "v", 1));
  }
  ASSERT_EQ(tree.size(), 7u);
  for (size_t i = 1; i < tree.size(); ++i) {
    EXPECT_LT(tree.at(i - 1).path().Compare(tree.at(i).path()), 0);
  }
}

TEST(TreeTest, CollectSinceReturnsOnlyChanges) {
  Tree tree(7);
  ApplyOk(&tree, Live("a", "1", 1));
  ApplyOk(&tree, Live("b", "1", 1));
  const ChangeCursor mid = tree.cursor();
  EXPECT_EQ(mid.incarnation, 7u);
  EXPECT_EQ(mid.change, 2u);
  ApplyOk(&tree, Live("c", "1", 1));
  ApplyOk(&tree, Live("a", "2", 2));
  ApplyOk(&tree, Live("a", "0", 1));  // stale: no change

  Vector<const Entry*> out;
  ChangeCursor next;
  ASSERT_TRUE(tree.CollectSince(mid, 100, &out, &next).ok());
  EXPECT_EQ(Paths(out), (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(next.change, 4u);
  EXPECT_EQ(out[1]->value(), S("2"));

  out.Clear();
  ASSERT_TRUE(tree.CollectSince(next, 100, &out, &next).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(next.change, 4u);

  // Another incarnation's cursor (the tree restarted): everything.
  out.Clear();
  ASSERT_TRUE(tree.CollectSince(ChangeCursor{6, 3}, 100, &out, &next).ok());
  EXPECT_EQ(Paths(out), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(TreeTest, CollectSinceInBatches) {
  Tree tree(1);
  for (int i = 0; i < 10; ++i) {
    ApplyOk(&tree, Live(("p" + std::to_string(i)).c_str(), "v", 1));
  }
  ApplyOk(&tree, Live("p3", "w", 2));  // p3 moves to the end
  std::vector<std::string> all;
  ChangeCursor cursor{1, 0};
  for (int round = 0; round < 10; ++round) {
    Vector<const Entry*> out;
    ChangeCursor next;
    ASSERT_TRUE(tree.CollectSince(cursor, 3, &out, &next).ok());
    EXPECT_LE(out.size(), 3u);
    for (const std::string& p : Paths(out)) all.push_back(p);
    cursor = next;
    if (out.empty()) break;
  }
  EXPECT_EQ(all, (std::vector<std::string>{"p0", "p1", "p2", "p4", "p5", "p6",
                                           "p7", "p8", "p9", "p3"}));
  EXPECT_EQ(cursor.change, tree.cursor().change);
  Vector<const Entry*> none;
  ChangeCursor next;
  ASSERT_TRUE(tree.CollectSince(ChangeCursor{1, 0}, 0, &none, &next).ok());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(next.change, 0u);
}

TEST(TreeTest, ChangeIndexStaysProportionalToTree) {
  Tree tree(1);
  for (uint64_t stamp = 1; stamp <= 10000; ++stamp) {
    ApplyOk(&tree, Live(stamp % 2 ? "odd" : "even", "v", stamp));
  }
  EXPECT_LE(tree.change_index_size(), 2 * tree.size() + 65);
  Vector<const Entry*> out;
  ChangeCursor next;
  ASSERT_TRUE(tree.CollectSince(ChangeCursor{1, 9990}, 100, &out, &next).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST(TreeTest, PeerSeenRules) {
  Tree tree(5);
  ApplyOk(&tree, Live("a", "1", 1));
  EXPECT_EQ(tree.PeerSeen(S("bad name"), tree.cursor()).code(),
            StatusCode::kInvalidArgument);
  EXPECT_STREQ(tree.PeerSeen(S("b"), ChangeCursor{5, 2}).message(),
               "acknowledged change was not issued by this tree");
  ASSERT_TRUE(tree.PeerSeen(S("b"), ChangeCursor{4, 1}).ok());  // ignored
  EXPECT_EQ(tree.PeerAcked(S("b")), 0u);
  ASSERT_TRUE(tree.PeerSeen(S("b"), ChangeCursor{5, 1}).ok());
  EXPECT_EQ(tree.PeerAcked(S("b")), 1u);
  ASSERT_TRUE(tree.PeerSeen(S("b"), ChangeCursor{5, 0}).ok());  // never shrinks
  EXPECT_EQ(tree.PeerAcked(S("b")), 1u);
}

TEST(TreeTest, PurgeNeedsEveryPeer) {
  Tree tree(1);
  ApplyOk(&tree, Live("keep", "v", 1));
  ApplyOk(&tree, Dead("gone1", 2));  // change 2
  ApplyOk(&tree, Dead("gone2", 3));  // change 3
  HostName peers[2];
  ASSERT_TRUE(peers[0].Assign(S("b")).ok());
  ASSERT_TRUE(peers[1].Assign(S("c")).ok());
  ASSERT_TRUE(tree.PeerSeen(S("b"), ChangeCursor{1, 3}).ok());
  EXPECT_EQ(tree.PurgeTombstones(peers, 2), 0u);  // c has acknowledged nothing
  ASSERT_TRUE(tree.PeerSeen(S("c"), ChangeCursor{1, 2}).ok());
  EXPECT_EQ(tree.PurgeTombstones(peers, 2), 1u);  // min = 2: only gone1
  EXPECT_EQ(tree.Find(S("gone1")), nullptr);
  ASSERT_NE(tree.Find(S("gone2")), nullptr);
  EXPECT_EQ(Value(tree, "keep"), "v");
  ASSERT_TRUE(tree.PeerSeen(S("c"), ChangeCursor{1, 3}).ok());
  EXPECT_EQ(tree.PurgeTombstones(peers, 2), 1u);
  EXPECT_EQ(tree.size(), 1u);
  // The change index no longer refers to purged entries.
  Vector<const Entry*> out;
  ChangeCursor next;
  ASSERT_TRUE(tree.CollectSince(ChangeCursor{1, 0}, 100, &out, &next).ok());
  EXPECT_EQ(Paths(out), (std::vector<std::string>{"keep"}));
  EXPECT_EQ(next.change, 3u);
  // A single-host cluster purges every tombstone.
  ApplyOk(&tree, Dead("keep", 9));
  EXPECT_EQ(tree.PurgeTombstones(nullptr, 0), 1u);
  EXPECT_EQ(tree.size(), 0u);
}

TEST(TreeTest, PurgeKeepsTombstonesChangedAfterTheAck) {
  Tree tree(1);
  ApplyOk(&tree, Live("x", "v", 1));  // change 1
  HostName peer;
  ASSERT_TRUE(peer.Assign(S("b")).ok());
  ASSERT_TRUE(tree.PeerSeen(S("b"), tree.cursor()).ok());
  ApplyOk(&tree, Dead("x", 2));  // change 2, not yet seen by b
  EXPECT_EQ(tree.PurgeTombstones(&peer, 1), 0u);
  ASSERT_NE(tree.Find(S("x")), nullptr);
}

// AllocationCount() is what the allocator holds for the tree, at every step.
TEST(TreeTest, AllocationCountMatchesTheAllocator) {
  const int64_t base = platform::test::LiveAllocations();
  {
    Tree tree(1);
    auto held = [&] { return platform::test::LiveAllocations() - base; };
    EXPECT_EQ(held(), static_cast<int64_t>(tree.AllocationCount()));
    for (int i = 0; i < 50; ++i) {
      const std::string path = "resource-r0/key" + std::to_string(i);
      ApplyOk(&tree, Live(path.c_str(), "v", 10 + i));
      EXPECT_EQ(held(), static_cast<int64_t>(tree.AllocationCount()));
    }
    for (int i = 0; i < 50; i += 3) {
      const std::string path = "resource-r0/key" + std::to_string(i);
      ApplyOk(&tree, Dead(path.c_str(), 100 + i));
      EXPECT_EQ(held(), static_cast<int64_t>(tree.AllocationCount()));
    }
    HostName peer;
    ASSERT_TRUE(peer.Assign(S("b")).ok());
    ASSERT_TRUE(tree.PeerSeen(peer.slice(), tree.cursor()).ok());
    EXPECT_GT(tree.PurgeTombstones(&peer, 1), 0u);
    EXPECT_EQ(held(), static_cast<int64_t>(tree.AllocationCount()));
  }
  EXPECT_EQ(platform::test::LiveAllocations(), base);
}

}  // namespace
}  // namespace tree
}  // namespace mars
