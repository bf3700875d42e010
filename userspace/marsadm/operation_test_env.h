// Fixture for the operation command tests (commands_operation_test.cc,
// commands_primary_test.cc, commands_invalidate_test.cc,
// wait_conditions_test.cc): a cluster of hostA and hostB with resource r0
// (hostA primary, hostB joined), helpers that play the kernel (actual-*
// links, heartbeats), and a way to run marsadm in a thread while the test
// plays the kernel step by step.
#ifndef MARS_USERSPACE_MARSADM_OPERATION_TEST_ENV_H_
#define MARS_USERSPACE_MARSADM_OPERATION_TEST_ENV_H_

#include <chrono>
#include <future>
#include <thread>

#include "command_test_env.h"
#include "core/tree/version_link.h"
#include "tree_read.h"

namespace mars::cli {

class OperationTest : public CommandTest {
 protected:
  void SetUp() override {
    CommandTest::SetUp();
    MakeCluster();
    MakeResource();
  }
  // Runs with --timeout 0 (waits check once).
  RunResult Op(const std::string& host, std::vector<std::string> args) {
    args.push_back("--timeout");
    args.push_back("0");
    return Run(host, args);
  }
  // Runs in a thread with --verbose and --timeout 20 while the test plays
  // the kernel; get() the result.
  std::future<RunResult> RunAsync(const std::string& host, std::vector<std::string> args) {
    args.insert(args.end(), {"--verbose", "--timeout", "20"});
    return std::async(std::launch::async, [this, host, args]() { return Run(host, args); });
  }
  // Waits (up to 20 s) until the link at `path` reads `value`.
  bool AwaitLink(const std::string& path, const std::string& value) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Link(path) == value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  void ExpectRefused(const RunResult& r, const std::string& part, int code = 1) {
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_EQ(LineCount(r.err), 1) << r.err;
    EXPECT_TRUE(Has(r.err, part)) << r.err;
  }
  void Actual(const std::string& host, const std::string& name, const std::string& value,
              const std::string& res = "r0") {
    SetLinks({{"resource-" + res + "/actual-" + host + "/" + name, value}});
  }
  // The kernel's heartbeat: actual-HOST/time stamped now.
  void Heartbeat(const std::string& host) { SetLinks({{"actual-" + host + "/time", "1"}}); }
  std::string Todo(const std::string& host, const std::string& name,
                   const std::string& res = "r0") {
    return Link("resource-" + res + "/todo-" + host + "/" + name).value_or("?");
  }
  std::string VersionLink(uint32_t number, const std::string& origin, uint64_t length,
                          const tree::VersionLink* previous, tree::VersionLink* out) {
    tree::LogfileName log;
    log.number = number;
    EXPECT_TRUE(log.host.Assign(CoreSlice(origin)).ok());
    EXPECT_TRUE(tree::MakeVersionLink(previous, log, length, out).ok());
    return FormatVersionLink(*out);
  }
  // The lines of `text` after "phase N/M: <headline>" up to the next phase.
  static std::string PhaseLines(const std::string& text, const std::string& headline) {
    const std::string marker = ": " + headline + "\n";
    const auto start = text.find(marker);
    if (start == std::string::npos) return "<no phase '" + headline + "'>";
    const auto body = start + marker.size();
    const auto next = text.find("phase ", body);
    return text.substr(body, next == std::string::npos ? std::string::npos : next - body);
  }
};

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_OPERATION_TEST_ENV_H_
