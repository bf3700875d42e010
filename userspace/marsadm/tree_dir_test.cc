#include "tree_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

namespace mars::cli {
namespace {

class TreeDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mars-tree-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    ASSERT_EQ(std::system(("rm -rf " + root_).c_str()), 0);
  }
  std::string root_;
};

TEST_F(TreeDirTest, CommitCreatesLinksWithIncreasingStamps) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet changes;
  changes.SetLink("resource-r0/size", "1048576");
  changes.SetLink("resource-r0/primary", "hostA");
  ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  EXPECT_EQ(tree.ReadLink("resource-r0/size"), "1048576");
  EXPECT_EQ(tree.ReadLink("resource-r0/primary"), "hostA");
  const auto size = tree.Stat("resource-r0/size");
  const auto primary = tree.Stat("resource-r0/primary");
  ASSERT_TRUE(size && primary);
  EXPECT_LT(size->stamp_ns, primary->stamp_ns);
  EXPECT_EQ(tree.ListNames("resource-r0"),
            (std::vector<std::string>{"primary", "size"}));
}

TEST_F(TreeDirTest, DeleteLeavesTombstoneThatReadsAsAbsent) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet set;
  set.SetLink("ips/ip-hostA", "10.0.0.1");
  set.SetLink("ips/ip-hostB", "10.0.0.2");
  ASSERT_EQ(Commit(tree, set, stamper), std::nullopt);
  ChangeSet del;
  del.Delete("ips/ip-hostA");
  del.Delete("ips/ip-missing");
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  EXPECT_EQ(tree.ReadLink("ips/ip-hostA"), std::nullopt);
  EXPECT_FALSE(tree.Exists("ips/ip-hostA"));
  EXPECT_FALSE(tree.Exists("ips/ip-missing"));
  const auto stone = tree.Stat("ips/ip-hostA");
  ASSERT_TRUE(stone);
  EXPECT_TRUE(stone->tombstone);
  EXPECT_EQ(tree.ListNames("ips"), std::vector<std::string>{"ip-hostB"});
}

TEST_F(TreeDirTest, DeleteDirectoryTombstonesEveryLinkBelow) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet set;
  set.SetLink("resource-r0/todo-hostA/attach", "1");
  set.SetLink("resource-r0/todo-hostA/sync", "1");
  ASSERT_EQ(Commit(tree, set, stamper), std::nullopt);
  ChangeSet del;
  del.Delete("resource-r0/todo-hostA");
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  EXPECT_TRUE(tree.ListNames("resource-r0/todo-hostA").empty());
}

TEST_F(TreeDirTest, FailedCommitLeavesNothingVisible) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet set;
  set.SetLink("resource-r0/size", "1");
  ASSERT_EQ(Commit(tree, set, stamper), std::nullopt);
  const auto before = tree.ListAll();
  ChangeSet bad;
  bad.SetLink("resource-r0/primary", "hostA");
  bad.CreateFile("resource-r0/size/impossible");  // parent is a link
  EXPECT_NE(Commit(tree, bad, stamper), std::nullopt);
  const auto after = tree.ListAll();
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].path, after[i].path);
    EXPECT_EQ(before[i].value, after[i].value);
    EXPECT_EQ(before[i].stamp_ns, after[i].stamp_ns);
  }
}

TEST_F(TreeDirTest, StamperStaysAboveTreeAndModuleClock) {
  TreeDir tree(root_);
  const uint64_t future = 4102444800ull * 1000000000ull;  // year 2100
  const std::string clock_file = root_ + "-clock";
  ASSERT_EQ(std::system(("echo " + std::to_string(future) + " > " + clock_file)
                            .c_str()),
            0);
  Stamper stamper(tree, clock_file);
  EXPECT_GT(stamper.Next(), future);
  unlink(clock_file.c_str());
}

TEST_F(TreeDirTest, CreateFileMakesEmptyLogfileOnce) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet c;
  c.CreateFile("resource-r0/log-000000001-hostA");
  ASSERT_EQ(Commit(tree, c, stamper), std::nullopt);
  const auto e = tree.Stat("resource-r0/log-000000001-hostA");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EntryType::kFile);
  EXPECT_EQ(e->size, 0u);
  EXPECT_NE(Commit(tree, c, stamper), std::nullopt);
  EXPECT_EQ(c.Describe(),
            std::vector<std::string>{"create resource-r0/log-000000001-hostA"});
}

TEST_F(TreeDirTest, DeleteReplacesALogfileWithATombstone) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet create;
  create.CreateFile("resource-r0/log-000000001-hostA");
  ASSERT_EQ(Commit(tree, create, stamper), std::nullopt);
  ASSERT_EQ(truncate(tree.Absolute("resource-r0/log-000000001-hostA").c_str(), 4096),
            0);
  const uint64_t file_stamp = tree.Stat("resource-r0/log-000000001-hostA")->stamp_ns;
  ChangeSet del;
  del.Delete("resource-r0/log-000000001-hostA");
  EXPECT_EQ(del.Describe(),
            std::vector<std::string>{"delete resource-r0/log-000000001-hostA"});
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  const auto stone = tree.Stat("resource-r0/log-000000001-hostA");
  ASSERT_TRUE(stone);
  EXPECT_EQ(stone->type, EntryType::kLink);
  EXPECT_TRUE(stone->tombstone);
  EXPECT_GT(stone->stamp_ns, file_stamp);
  EXPECT_FALSE(tree.Exists("resource-r0/log-000000001-hostA"));
  EXPECT_TRUE(tree.ListNames("resource-r0").empty());
  // Deleting again changes nothing (already a tombstone).
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  EXPECT_EQ(tree.Stat("resource-r0/log-000000001-hostA")->stamp_ns, stone->stamp_ns);
}

TEST_F(TreeDirTest, DeleteOfAFileIsAtomicWithTheRestOfTheCommit) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet create;
  create.CreateFile("resource-r0/log-000000001-hostA");
  create.SetLink("resource-r0/size", "1");
  ASSERT_EQ(Commit(tree, create, stamper), std::nullopt);
  const auto before = tree.ListAll();
  ChangeSet bad;
  bad.Delete("resource-r0/log-000000001-hostA");
  bad.CreateFile("resource-r0/size/impossible");  // fails while staging
  EXPECT_NE(Commit(tree, bad, stamper), std::nullopt);
  const auto file = tree.Stat("resource-r0/log-000000001-hostA");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->type, EntryType::kFile);  // untouched
  EXPECT_EQ(tree.ListAll().size(), before.size());
}

TEST_F(TreeDirTest, DeleteDirectoryTombstonesFilesBelowToo) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet create;
  create.CreateFile("resource-r0/log-000000001-hostA");
  create.SetLink("resource-r0/size", "1");
  ASSERT_EQ(Commit(tree, create, stamper), std::nullopt);
  ChangeSet del;
  del.Delete("resource-r0");
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  for (const char* path : {"resource-r0/log-000000001-hostA", "resource-r0/size"}) {
    const auto stone = tree.Stat(path);
    ASSERT_TRUE(stone) << path;
    EXPECT_TRUE(stone->tombstone) << path;
  }
}

// What Commit() makes durable: recorded by the sync hook.
std::vector<std::string>* synced_paths = nullptr;
std::string failing_sync_path;

int RecordSync(const std::string& path) {
  synced_paths->push_back(path);
  return path == failing_sync_path ? EIO : 0;
}

class TreeDirSyncTest : public TreeDirTest {
 protected:
  void SetUp() override {
    TreeDirTest::SetUp();
    synced_paths = &synced_;
    failing_sync_path.clear();
    SetSyncPathForTest(&RecordSync);
  }
  void TearDown() override {
    SetSyncPathForTest(nullptr);
    synced_paths = nullptr;
    TreeDirTest::TearDown();
  }
  std::set<std::string> Synced() const {
    return std::set<std::string>(synced_.begin(), synced_.end());
  }
  std::vector<std::string> synced_;
};

// Every directory whose entries changed, up to the root, and every created
// file, each once; never anything the commit did not touch.
TEST_F(TreeDirSyncTest, CommitSyncsTheDirectoriesAndFilesItChanged) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  ChangeSet untouched;
  untouched.SetLink("ips/ip-hostA", "10.0.0.1");
  ASSERT_EQ(Commit(tree, untouched, stamper), std::nullopt);
  synced_.clear();

  ChangeSet c;
  c.SetLink("resource-r0/actual-hostA/is-primary", "1");
  c.CreateFile("resource-r0/log-000000001-hostA");
  c.MakeDir("resource-r0/todo-hostA");
  ASSERT_EQ(Commit(tree, c, stamper), std::nullopt);
  const std::string r0 = root_ + "/resource-r0";
  EXPECT_EQ(Synced(),
            (std::set<std::string>{tree.Absolute(""), r0, r0 + "/actual-hostA",
                                   r0 + "/log-000000001-hostA",
                                   r0 + "/todo-hostA"}));
  EXPECT_EQ(synced_.size(), Synced().size()) << "a path was synced twice";

  synced_.clear();
  ChangeSet del;
  del.Delete("ips/ip-hostA");
  ASSERT_EQ(Commit(tree, del, stamper), std::nullopt);
  EXPECT_EQ(Synced(),
            (std::set<std::string>{tree.Absolute(""), root_ + "/ips"}));
}

// A failed fsync is the commit's failure, named with its path; the changes
// are in place (visible), only their durability is in doubt.
TEST_F(TreeDirSyncTest, FailedSyncIsReportedWithItsPath) {
  TreeDir tree(root_);
  Stamper stamper(tree, "/nonexistent");
  failing_sync_path = root_ + "/resource-r0";
  ChangeSet c;
  c.SetLink("resource-r0/size", "1048576");
  const auto err = Commit(tree, c, stamper);
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("cannot make the changes durable in " + failing_sync_path +
                      ": "),
            std::string::npos)
      << *err;
  EXPECT_NE(err->find(std::strerror(EIO)), std::string::npos) << *err;
  EXPECT_EQ(tree.ReadLink("resource-r0/size"), "1048576");
}

}  // namespace
}  // namespace mars::cli
