// A secondary (resource_test_util.h): attached, its replay thread applies
// the primary's logfiles to the data device, alone and run by the manager.
#include "core/engine/resource_test_util.h"

namespace mars {
namespace engine {
namespace resource_test {
namespace {

// Logfile `number` of host h0 (the primary of a secondary h1) with one write
// of Pattern(block, version) per entry, and its version link, as fetch and
// the tree would bring them. Returns the logfile's length.
uint64_t WritePrimaryLog(const std::string& dir, uint32_t number,
                         const std::vector<uint64_t>& blocks,
                         uint32_t version) {
  log::test::SyncedLog writer(0xAB00 + number, number);
  for (uint64_t block : blocks) {
    const std::vector<uint8_t> payload = Pattern(block, version);
    writer.Append(block * kBlock, payload.data(), payload.size());
  }
  const log::test::File& bytes = writer.bytes();
  char name[64];
  snprintf(name, sizeof(name), "/log-%09u-h0", number);
  log::test::WriteFile(dir + name, bytes);
  tree::LogfileName log;
  log.number = number;
  EXPECT_TRUE(log.host.Assign(Slice::FromCString("h0")).ok());
  tree::VersionLink link;
  EXPECT_TRUE(tree::MakeVersionLink(nullptr, log, bytes.size(), &link).ok());
  Bytes value(platform::Gfp::kKernel);
  EXPECT_TRUE(tree::AppendVersionLink(link, &value).ok());
  snprintf(name, sizeof(name), "/version-%09u-h0", number);
  WriteLinkOrDie(dir + name,
                 std::string(value.data(), value.data() + value.size()));
  return bytes.size();
}

TEST_F(ResourceTest, SecondaryAttachesAndItsReplayThreadAppliesTheLog) {
  WriteLinkOrDie(dir_ + "/primary", "h0");
  WriteLinkOrDie(dir_ + "/replay-h1", "log-000000001-h0,0,0");
  const std::vector<uint64_t> blocks = {0, 1, 2, 7, 100, 2047};
  const uint64_t length = WritePrimaryLog(dir_, 1, blocks, 4);
  ASSERT_TRUE(Create(root_, &resource_).ok());
  ErrorText why;
  // No crash recovery of another host's log: the link stays as it was.
  ASSERT_TRUE(kResourceHooks.attach(resource_, &why).ok()) << why.text;
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), "log-000000001-h0,0,0");
  ResourceReport report;
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.attached);
  EXPECT_FALSE(report.replaying);

  kResourceHooks.set_replay(resource_, true);
  // Replaying from set_replay on, also while the first pass runs.
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);
  const std::string done = "log-000000001-h0," + std::to_string(length) + ",0";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ReadLinkValue(dir_ + "/replay-h1") != done &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), done);
  for (uint64_t block : blocks) {
    EXPECT_EQ(DataBlock(data_path_, block), AsString(Pattern(block, 4)))
        << block;
  }
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);
  EXPECT_EQ(report.replay_code, 0);

  // Becoming primary on another primary's logfile is refused; replay goes
  // on.
  Status status = kResourceHooks.start_primary(resource_, "r0", &why);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_STREQ(why.text,
               "this host replays logfile log-000000001-h0 of another "
               "primary; handover is not supported yet");
  EXPECT_EQ(pt::FrontDiskSizeForTest("r0"), 0u);
  kResourceHooks.report(resource_, &report);
  EXPECT_TRUE(report.replaying);

  kResourceHooks.set_replay(resource_, false);
  kResourceHooks.report(resource_, &report);
  EXPECT_FALSE(report.replaying);
  // Detach with replay running stops it too.
  kResourceHooks.set_replay(resource_, true);
  ASSERT_TRUE(kResourceHooks.detach(resource_, &why).ok()) << why.text;
  kResourceHooks.report(resource_, &report);
  EXPECT_FALSE(report.replaying);
  EXPECT_FALSE(report.attached);
}

TEST_F(ResourceTest, ManagerRunsTheReplayThreadOfASecondary) {
  const std::string root = root_;
  auto link = [&](const std::string& rel, const std::string& value) {
    std::string path = root + "/" + rel;
    std::string dir = path.substr(0, path.rfind('/'));
    ASSERT_EQ(system(("mkdir -p '" + dir + "'").c_str()), 0);
    WriteLinkOrDie(path, value);
  };
  link("uuid", "cluster");
  link("resource-r0/size", std::to_string(kDataBytes));
  link("resource-r0/primary", "h0");
  link("resource-r0/data-h1", data_path_);
  link("resource-r0/todo-h1/attach", "1");
  link("resource-r0/todo-h1/allow-replay", "1");
  link("resource-r0/syncstatus-h1", std::to_string(kDataBytes));
  link("resource-r0/replay-h1", "log-000000001-h0,0,0");
  const uint64_t length = WritePrimaryLog(dir_, 1, {3, 4, 5}, 6);
  link("resource-r0/replay-h0", "log-000000002-h0,0,0");  // h0 writes log 2

  Manager manager;
  ASSERT_TRUE(manager.Init(root_.c_str(), &kResourceHooks, &clock_).ok());
  const std::string done = "log-000000002-h0,0,0";
  auto actual = [&](const char* leaf) {
    return ReadLinkValue(dir_ + "/actual-h1/" + leaf);
  };
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    manager.Scan();
    if (ReadLinkValue(dir_ + "/replay-h1") == done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  manager.Scan();
  EXPECT_EQ(ReadLinkValue(dir_ + "/replay-h1"), done);
  EXPECT_FALSE(ReadLinkValue(dir_ + "/version-000000001-h1").empty());
  EXPECT_EQ(ReadLinkValue(dir_ + "/version-000000001-h1"),
            ReadLinkValue(dir_ + "/version-000000001-h0"));
  EXPECT_EQ(actual("is-attached"), "1");
  EXPECT_EQ(actual("is-primary"), "0");
  EXPECT_EQ(actual("is-replaying"), "1");
  EXPECT_EQ(actual("replay-code"), "0");
  EXPECT_EQ(actual("msg-err-replay"), "");
  for (uint64_t block : {3, 4, 5}) {
    EXPECT_EQ(DataBlock(data_path_, block), AsString(Pattern(block, 6)));
  }
  EXPECT_GT(length, 0u);

  link("resource-r0/todo-h1/allow-replay", "0");
  manager.Scan();
  EXPECT_EQ(actual("is-replaying"), "0");
  manager.Stop();
  EXPECT_EQ(actual("is-attached"), "0");
}

}  // namespace
}  // namespace resource_test
}  // namespace engine
}  // namespace mars
