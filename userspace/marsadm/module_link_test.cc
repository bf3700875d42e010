#include "module_link.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "command_test_env.h"

namespace mars::cli {
namespace {

using ModuleLinkTest = CommandTest;

TEST_F(ModuleLinkTest, LoadedMeansTriggerEntryExists) {
  EXPECT_TRUE(ModuleLink(proc_).Loaded());
  UnloadModule();
  EXPECT_FALSE(ModuleLink(proc_).Loaded());
  EXPECT_FALSE(ModuleLink(base_ + "/none").Loaded());
}

TEST_F(ModuleLinkTest, ProcDirComesFromTheEnvironment) {
  EXPECT_EQ(ModuleLink::FromEnvironment().proc_dir(), proc_);
  unsetenv("MARS_PROC_DIR");
  EXPECT_EQ(ModuleLink::FromEnvironment().proc_dir(), kDefaultProcDir);
  EXPECT_EQ(ModuleLink(proc_).LamportClockPath(), proc_ + "/lamport_clock");
}

TEST_F(ModuleLinkTest, TriggerWritesTheCode) {
  const ModuleLink module(proc_);
  EXPECT_EQ(module.Trigger(TriggerCode::kLocal), std::nullopt);
  EXPECT_EQ(TriggerValue(), "1");
  EXPECT_EQ(module.Trigger(TriggerCode::kLocalAndPeers), std::nullopt);
  EXPECT_EQ(TriggerValue(), "2");
}

TEST_F(ModuleLinkTest, TriggerWithoutModuleDoesNothing) {
  UnloadModule();
  EXPECT_EQ(ModuleLink(proc_).Trigger(TriggerCode::kLocal), std::nullopt);
  struct stat st;
  EXPECT_NE(stat((proc_ + "/trigger").c_str(), &st), 0);
}

TEST_F(ModuleLinkTest, NotLoadedMessageSaysWhatToDo) {
  const std::string text = ModuleLink(proc_).NotLoadedMessage();
  EXPECT_TRUE(Has(text, "not loaded"));
  EXPECT_TRUE(Has(text, "modprobe mars"));
  EXPECT_TRUE(Has(text, proc_ + "/trigger"));
}

TEST_F(ModuleLinkTest, PollWithTimeoutZeroChecksOnce) {
  int calls = 0;
  PollLimits limits;
  limits.timeout_seconds = 0;
  EXPECT_FALSE(Poll([&] { return ++calls > 5; }, limits, ModuleLink(proc_),
                    TriggerCode::kLocal));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(TriggerValue(), "");  // no trigger without a second round
}

TEST_F(ModuleLinkTest, PollTriggersBetweenRoundsUntilTrue) {
  int calls = 0;
  PollLimits limits;
  limits.timeout_seconds = Context::kWaitForever;
  limits.interval = std::chrono::milliseconds(1);
  EXPECT_TRUE(Poll([&] { return ++calls == 4; }, limits, ModuleLink(proc_),
                   TriggerCode::kLocalAndPeers));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(TriggerValue(), "2");
}

TEST_F(ModuleLinkTest, DeviceDirComesFromTheEnvironment) {
  EXPECT_EQ(MarsDeviceDir(), dev_);
  unsetenv("MARS_DEV_DIR");
  EXPECT_EQ(MarsDeviceDir(), "/dev/mars");
}

}  // namespace
}  // namespace mars::cli
