// Test helpers for the status model and the inspection commands: a temporary
// /mars tree with a two-host resource in a healthy state, whose links tests
// then change (the kernel's actual-* links are simulated by writing them).
#ifndef MARS_USERSPACE_MARSADM_STATUS_TEST_UTIL_H_
#define MARS_USERSPACE_MARSADM_STATUS_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli.h"
#include "command_test_env.h"
#include "core/base/vector.h"
#include "core/tree/version_link.h"
#include "status_model.h"
#include "tree_dir.h"

namespace mars::cli::testing {

using ::mars::cli::RunResult;

inline constexpr uint64_t kSecond = 1000000000ull;
inline constexpr uint64_t kSize = 1 << 20;  // resource size

class StatusTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mars-status-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ + "/mars";
    proc_ = base_ + "/proc";
    ASSERT_EQ(mkdir(root_.c_str(), 0700), 0);
    ASSERT_EQ(mkdir(proc_.c_str(), 0700), 0);
    Touch(proc_ + "/trigger");
    setenv("MARS_PROC_DIR", proc_.c_str(), 1);
    disk_ = base_ + "/disk-hostB";
    Touch(disk_);
    Touch(base_ + "/disk-hostA");
    now_ = LamportNowNs("/nonexistent");
  }
  void TearDown() override {
    unsetenv("MARS_PROC_DIR");
    ASSERT_EQ(std::system(("rm -rf " + base_).c_str()), 0);
  }

  static void Touch(const std::string& path) {
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0) << path;
    close(fd);
  }

  // Sets links (stamps from the Stamper: about now).
  void Set(const std::string& path, const std::string& value) {
    TreeDir tree(root_);
    Stamper stamper(tree, "/nonexistent");
    ChangeSet changes;
    changes.SetLink(path, value);
    ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  }
  // Sets a link whose stamp is `age_seconds` before now_.
  void SetAged(const std::string& path, const std::string& value,
               uint64_t age_seconds) {
    Set(path, value);
    SetStamp(path, now_ - age_seconds * kSecond);
  }
  void SetStamp(const std::string& path, uint64_t stamp) {
    struct timespec times[2];
    times[0].tv_sec = static_cast<time_t>(stamp / kSecond);
    times[0].tv_nsec = static_cast<long>(stamp % kSecond);
    times[1] = times[0];
    ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/" + path).c_str(), times,
                        AT_SYMLINK_NOFOLLOW),
              0);
  }
  void Delete(const std::string& path) {
    TreeDir tree(root_);
    Stamper stamper(tree, "/nonexistent");
    ChangeSet changes;
    changes.Delete(path);
    ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  }
  // A logfile of `size` bytes (content irrelevant for the model).
  void Logfile(const std::string& path, uint64_t size) {
    const std::string abs = root_ + "/" + path;
    Touch(abs);
    ASSERT_EQ(truncate(abs.c_str(), static_cast<off_t>(size)), 0);
  }
  // version-N-WRITER for logfile N of `origin` with final `length`,
  // chained to the previous link in `chain` (which it extends).
  std::string VersionValue(std::vector<tree::VersionLink>* chain,
                           uint32_t number, const std::string& origin,
                           uint64_t length) {
    tree::LogfileName log;
    log.number = number;
    EXPECT_TRUE(log.host.Assign(Slice(origin.data(), origin.size())).ok());
    tree::VersionLink link;
    EXPECT_TRUE(tree::MakeVersionLink(chain->empty() ? nullptr : &chain->back(),
                                      log, length, &link)
                    .ok());
    chain->push_back(link);
    Bytes out;
    EXPECT_TRUE(tree::AppendVersionLink(link, &out).ok());
    return std::string(reinterpret_cast<const char*>(out.data()), out.size());
  }

  // r0: size 1 MiB, primary hostA (device up), secondary hostB (local,
  // attached, fully synced, replayed up to the end of log 1 = 4096 bytes),
  // both alive; hostC is a cluster member without the resource.
  void Healthy() {
    Set("uuid", "cluster-1");
    Set("ips/ip-hostA", "10.0.0.1");
    Set("ips/ip-hostB", "10.0.0.2");
    Set("ips/ip-hostC", "10.0.0.3");
    const std::string r = "resource-r0/";
    Set(r + "size", std::to_string(kSize));
    Set(r + "primary", "hostA");
    Set(r + "data-hostA", base_ + "/disk-hostA");
    Set(r + "data-hostB", disk_);
    Set(r + "device-hostA", "r0");
    Set(r + "device-hostB", "r0");
    for (const char* host : {"hostA", "hostB"}) {
      const std::string h = host;
      for (const char* sw : {"attach", "connect", "sync", "allow-replay"}) {
        Set(r + "todo-" + h + "/" + sw, "1");
      }
      Set(r + "syncstatus-" + h, std::to_string(kSize));
      Set(r + "actual-" + h + "/is-attached", "1");
      Set(r + "replay-" + h, "log-000000001-hostA,4096,0");
      Set("actual-" + h + "/time", "1");
    }
    Set(r + "actual-hostA/is-primary", "1");
    Set(r + "actual-hostB/is-primary", "0");
    Set(r + "actual-hostB/is-replaying", "1");
    Logfile(r + "log-000000001-hostA", 4096);
  }

  StatusOptions Options(const std::string& host = "hostB") const {
    StatusOptions options;
    options.host = host;
    options.now_ns = LamportNowNs("/nonexistent");
    options.window_seconds = 60;
    options.module_loaded = true;
    return options;
  }
  ResourceStatus Compute(const std::string& host = "hostB") const {
    return ComputeResourceStatus(TreeDir(root_), "r0", Options(host));
  }
  HostStatus Local(const std::string& host = "hostB") const {
    return Compute(host).Host(host);
  }

  RunResult Run(std::vector<std::string> args,
                const std::string& host = "hostB") {
    args.insert(args.begin(), {"marsadm", "--root", root_, "--host", host});
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    std::ostringstream out;
    std::ostringstream err;
    const int code =
        mars::cli::Run(static_cast<int>(argv.size()), argv.data(), out, err);
    return {code, out.str(), err.str()};
  }

  std::string base_;
  std::string root_;
  std::string proc_;
  std::string disk_;
  uint64_t now_ = 0;
};

}  // namespace mars::cli::testing

#endif  // MARS_USERSPACE_MARSADM_STATUS_TEST_UTIL_H_
