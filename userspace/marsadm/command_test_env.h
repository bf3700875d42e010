// Test helpers shared by the marsadm tests (RunResult, RunMarsadm, LineCount,
// Has), and the test fixture for marsadm's tree-changing commands: a temporary /mars tree,
// a fake module proc directory ($MARS_PROC_DIR with a plain `trigger` file),
// a fake /dev/mars ($MARS_DEV_DIR), sparse regular files as disks, and
// helpers that play the kernel by writing actual-* links.
#ifndef MARS_USERSPACE_MARSADM_COMMAND_TEST_ENV_H_
#define MARS_USERSPACE_MARSADM_COMMAND_TEST_ENV_H_

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "tree_dir.h"

namespace mars::cli {

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

// Runs the built-in marsadm through the argc/argv entry point (argv is
// null-terminated, as main's is).
inline RunResult RunMarsadm(std::vector<std::string> args) {
  args.insert(args.begin(), "marsadm");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  std::ostringstream out;
  std::ostringstream err;
  const int code = cli::Run(static_cast<int>(args.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

inline int LineCount(const std::string& text) {
  int lines = 0;
  for (const char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

inline bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/marsadm-cmd-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ + "/mars";
    proc_ = base_ + "/proc";
    dev_ = base_ + "/dev";
    ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(proc_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(dev_.c_str(), 0700), 0);
    LoadModule();
    setenv("MARS_PROC_DIR", proc_.c_str(), 1);
    setenv("MARS_DEV_DIR", dev_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("MARS_PROC_DIR");
    unsetenv("MARS_DEV_DIR");
    ASSERT_EQ(std::system(("rm -rf " + base_).c_str()), 0);
  }

  // Runs marsadm as `host` on the test tree.
  RunResult Run(const std::string& host, std::vector<std::string> args) {
    std::vector<std::string> all = {"marsadm", "--root", root_, "--host", host};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const std::string& arg : all) argv.push_back(arg.c_str());
    std::ostringstream out;
    std::ostringstream err;
    const int code = cli::Run(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
  }

  // A sparse regular file of `size` bytes as a disk; returns its path.
  std::string Disk(const std::string& name, uint64_t size) {
    const std::string path = base_ + "/" + name;
    std::ofstream(path).close();
    EXPECT_EQ(truncate(path.c_str(), static_cast<off_t>(size)), 0);
    return path;
  }

  void LoadModule() { std::ofstream(proc_ + "/trigger").close(); }
  void UnloadModule() { unlink((proc_ + "/trigger").c_str()); }
  std::string TriggerValue() {
    std::ifstream in(proc_ + "/trigger");
    std::string text;
    std::getline(in, text);
    return text;
  }
  void ClearTrigger() { std::ofstream(proc_ + "/trigger").close(); }

  // Writes links as the kernel or a peer would (stamped, staged commit).
  void SetLinks(std::initializer_list<std::pair<std::string, std::string>> links) {
    TreeDir tree(root_);
    Stamper stamper(tree, "/nonexistent");
    ChangeSet changes;
    for (const auto& [path, value] : links) changes.SetLink(path, value);
    ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  }
  void DeleteLink(const std::string& path) {
    TreeDir tree(root_);
    Stamper stamper(tree, "/nonexistent");
    ChangeSet changes;
    changes.Delete(path);
    ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  }
  std::optional<std::string> Link(const std::string& path) {
    return TreeDir(root_).ReadLink(path);
  }
  bool Exists(const std::string& path) { return TreeDir(root_).Exists(path); }
  std::optional<DiskEntry> Entry(const std::string& path) {
    return TreeDir(root_).Stat(path);
  }
  void WriteLogfile(const std::string& path, uint64_t size) {
    const std::string abs = root_ + "/" + path;
    std::ofstream(abs).close();
    ASSERT_EQ(truncate(abs.c_str(), static_cast<off_t>(size)), 0);
  }

  // Every entry of the tree with type, value, stamp and size, one per line.
  std::string Listing() {
    std::string text;
    for (const DiskEntry& e : TreeDir(root_).ListAll()) {
      text += e.path + " " + std::to_string(static_cast<int>(e.type)) + " " + e.value +
              " " + std::to_string(e.stamp_ns) + " " + std::to_string(e.size) + "\n";
    }
    return text;
  }

  // create-cluster on hostA, resource r0 (4 MiB) with hostA as primary and,
  // if `join`, hostB as a secondary.
  void MakeCluster() {
    const RunResult r = Run("hostA", {"create-cluster", "--ip", "10.0.0.1"});
    ASSERT_EQ(r.code, 0) << r.err;
    SetLinks({{"ips/ip-hostB", "10.0.0.2"}});
  }
  void MakeResource(const std::string& res = "r0", bool join = true) {
    RunResult r = Run("hostA", {"create-resource", res, Disk(res + "-a", 4 << 20)});
    ASSERT_EQ(r.code, 0) << r.err;
    if (!join) return;
    r = Run("hostB", {"join-resource", res, Disk(res + "-b", 4 << 20)});
    ASSERT_EQ(r.code, 0) << r.err;
  }

  std::string base_;
  std::string root_;
  std::string proc_;
  std::string dev_;
};

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_COMMAND_TEST_ENV_H_
