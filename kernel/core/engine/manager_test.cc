// Tests of the Manager: a temporary /mars tree written by the test, the host
// name set through the userspace platform, a fake ResourceHooks table that
// records every call and returns scripted results, and a fake monotonic
// clock so retry intervals pass without sleeping.
#include "core/engine/manager.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/tree_links.h"
#include "core/platform_io.h"
#include "core/tree/names.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace {

constexpr uint64_t kSecond = 1'000'000'000ull;

// ---------------------------------------------------------------------------
// The fake engine.

struct FakeEngine {
  std::string name;
  std::string data_path;
  uint64_t size = 0;
  bool attached = false;
  bool primary = false;
  bool replaying = false;  // set_replay(true) and not stopped since
  std::string device;
};

struct FakeScript {
  std::vector<std::string> calls;
  std::map<std::string, FakeEngine*> engines;  // live, by resource name
  Status attach_result;
  std::string attach_why;
  Status start_result;
  std::string start_why;
  int open_count = 0;  // of every primary's device
  bool io_error = false;
  std::string io_text;
  uint64_t data_device_size = 8 * 1024 * 1024;
  int64_t replay_code = 0;  // a stopped replay reports this
  uint64_t replay_rate = 0;  // reported while replaying
  std::string replay_why;
};
FakeScript* g_script = nullptr;

void SetWhy(ErrorText* why, const std::string& text) {
  snprintf(why->text, ErrorText::kCapacity, "%s", text.c_str());
}

Status FakeCreate(const ResourceSettings& s, void** resource) {
  auto* engine = new FakeEngine;
  engine->name = s.name;
  engine->data_path = s.data_path;
  engine->size = s.size_bytes;
  g_script->calls.push_back("create " + engine->name + " " + s.data_path + " " +
                            std::to_string(s.size_bytes) + " " + s.host);
  g_script->engines[engine->name] = engine;
  *resource = engine;
  return Status::Ok();
}

void FakeDestroy(void* resource) {
  auto* engine = static_cast<FakeEngine*>(resource);
  EXPECT_FALSE(engine->attached);
  g_script->calls.push_back("destroy " + engine->name);
  g_script->engines.erase(engine->name);
  delete engine;
}

Status FakeAttach(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("attach " + engine->name);
  if (!g_script->attach_result.ok()) {
    SetWhy(why, g_script->attach_why);
    return g_script->attach_result;
  }
  engine->attached = true;
  return Status::Ok();
}

Status FakeStartPrimary(void* resource, const char* device, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  EXPECT_TRUE(engine->attached);
  g_script->calls.push_back("start_primary " + engine->name + " " + device);
  if (!g_script->start_result.ok()) {
    SetWhy(why, g_script->start_why);
    return g_script->start_result;
  }
  engine->primary = true;
  engine->device = device;
  return Status::Ok();
}

Status StopIfClosed(FakeEngine* engine, ErrorText* why) {
  if (engine->primary && g_script->open_count > 0) {
    SetWhy(why, "/dev/mars/" + engine->device + " is open");
    return Status(StatusCode::kUnavailable, "device is open");
  }
  engine->primary = false;
  return Status::Ok();
}

Status FakeStopPrimary(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("stop_primary " + engine->name);
  return StopIfClosed(engine, why);
}

Status FakeDetach(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("detach " + engine->name);
  Status s = StopIfClosed(engine, why);
  if (s.ok()) {
    engine->attached = false;
    engine->replaying = false;
  }
  return s;
}

void FakeRequestLogfile(void* resource, uint64_t number) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("request_logfile " + engine->name + " " +
                            std::to_string(number));
}

void FakeReport(void* resource, ResourceReport* report) {
  auto* engine = static_cast<FakeEngine*>(resource);
  report->attached = engine->attached;
  report->primary = engine->primary;
  report->open_count = engine->primary ? g_script->open_count : 0;
  report->device_size = engine->primary ? engine->size : 0;
  report->data_device_size = g_script->data_device_size;
  report->io_error = g_script->io_error;
  SetWhy(&report->error, g_script->io_text);
  if (engine->replaying) {
    report->replaying = g_script->replay_code == 0;
    report->replay_code = g_script->replay_code;
    report->replay_rate = g_script->replay_rate;
    SetWhy(&report->replay_error, g_script->replay_why);
  }
}

void FakeTick(void*) {}

// Recorded only when it changes something.
void FakeSetReplay(void* resource, bool run) {
  auto* engine = static_cast<FakeEngine*>(resource);
  EXPECT_TRUE(engine->attached);
  if (run == engine->replaying) return;
  EXPECT_FALSE(run && engine->primary);
  engine->replaying = run;
  g_script->calls.push_back(std::string(run ? "replay " : "no_replay ") +
                            engine->name);
}

constexpr ResourceHooks kFakeHooks = {
    FakeCreate,      FakeDestroy,   FakeAttach,         FakeStartPrimary,
    FakeStopPrimary, FakeDetach,    FakeRequestLogfile, FakeReport,
    FakeTick,        FakeSetReplay,
};

uint64_t g_now = 0;
uint64_t FakeMonotonic() { return g_now; }

// ---------------------------------------------------------------------------

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/manager_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    g_script = &script_;
    g_now = 1000 * kSecond;
    platform::test::SetHostNameForTest("hostA");
    Link("uuid", "cluster-1");
    ASSERT_TRUE(manager_.Init(root_.c_str(), &kFakeHooks, &clock_).ok());
  }
  void TearDown() override {
    manager_.Stop();
    EXPECT_TRUE(script_.engines.empty());
    g_script = nullptr;
    platform::test::SetHostNameForTest(nullptr);
    std::filesystem::remove_all(root_);
  }

  std::string Abs(const std::string& rel) const { return root_ + "/" + rel; }

  // Writes a link as marsadm would (stamped from the test's own clock).
  void Link(const std::string& rel, const std::string& value) {
    std::filesystem::create_directories(
        std::filesystem::path(Abs(rel)).parent_path());
    ASSERT_TRUE(platform::WriteLink(Abs(rel).c_str(), value.data(),
                                    value.size(), admin_clock_.Now())
                    .ok());
  }
  void Delete(const std::string& rel) {
    ASSERT_TRUE(
        RemoveIfPresent(root_.c_str(), rel.c_str(), &admin_clock_).ok());
  }

  // The live value, or "<absent>".
  std::string Value(const std::string& rel) {
    char value[platform::kMaxLinkValueBytes + 1];
    size_t size = 0;
    if (!ReadValue(root_.c_str(), rel.c_str(), value, sizeof(value), &size,
                   nullptr, nullptr)
             .ok()) {
      return "<absent>";
    }
    return std::string(value, size);
  }
  uint64_t Stamp(const std::string& rel) {
    char value[platform::kMaxLinkValueBytes + 1];
    size_t size = 0;
    uint64_t stamp = 0;
    if (!platform::ReadLink(Abs(rel).c_str(), value, sizeof(value), &size,
                            &stamp)
             .ok()) {
      return 0;
    }
    return stamp;
  }
  bool Exists(const std::string& rel) {
    return std::filesystem::exists(std::filesystem::symlink_status(Abs(rel)));
  }

  void MakeResource(const std::string& r, const std::string& primary,
                    const std::string& attach = "1") {
    Link("resource-" + r + "/size", "1048576");
    Link("resource-" + r + "/primary", primary);
    Link("resource-" + r + "/data-hostA", "/dev/fake-" + r);
    Link("resource-" + r + "/todo-hostA/attach", attach);
    Link("resource-" + r + "/syncstatus-hostA", "1048576");
  }

  std::vector<std::string> TakeCalls() {
    std::vector<std::string> calls;
    calls.swap(script_.calls);
    return calls;
  }
  std::string Actual(const std::string& r, const std::string& link) {
    return Value("resource-" + r + "/actual-hostA/" + link);
  }

  std::string root_;
  FakeScript script_;
  LamportClock clock_;
  LamportClock admin_clock_;
  Manager manager_{FakeMonotonic};
};

using Calls = std::vector<std::string>;

TEST_F(ManagerTest, NothingHappensWithoutUuid) {
  MakeResource("r0", "hostA");
  std::filesystem::remove(Abs("uuid"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("resource-r0/actual-hostA"));
  EXPECT_FALSE(Exists("actual-hostA"));
  Link("uuid", tree::kTombstoneValue);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  // /mars appears later: the next scan acts.
  Link("uuid", "cluster-1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
}

TEST_F(ManagerTest, NothingHappensWithoutRoot) {
  Manager other(FakeMonotonic);
  const std::string missing = root_ + "/not-mounted";
  ASSERT_TRUE(other.Init(missing.c_str(), &kFakeHooks, &clock_).ok());
  other.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("not-mounted"));
  other.Stop();
}

TEST_F(ManagerTest, NonMemberIsLeftAlone) {
  Link("resource-r0/size", "1048576");
  Link("resource-r0/primary", "hostB");
  Link("resource-r0/data-hostB", "/dev/b");
  Link("resource-r0/todo-hostA/attach", "1");
  Link("resource-bad name/data-hostA", "/dev/x");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_FALSE(Exists("resource-r0/actual-hostA"));
  EXPECT_EQ(manager_.resource_count(), 0u);
}

TEST_F(ManagerTest, AttachAsSecondaryPublishesState) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(Actual("r0", "device-size"), "0");
  EXPECT_EQ(Actual("r0", "disk-error"), "0");
  EXPECT_EQ(Value("resource-r0/actsize-hostA"), "8388608");
  EXPECT_GE(clock_.Latest(), Stamp("resource-r0/actual-hostA/is-attached"));
}

TEST_F(ManagerTest, SwitchOffMemberPublishesDetached) {
  MakeResource("r0", "hostA", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Value("resource-r0/actsize-hostA"), "<absent>");
}

TEST_F(ManagerTest, DesignatedPrimaryStartsWithDeviceName) {
  MakeResource("r0", "hostA");
  Link("resource-r0/device-hostA", "data0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 data0"}));
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  EXPECT_EQ(Actual("r0", "device-size"), "1048576");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, PrimaryMovedAwayWhileOpenIsRetriedUntilClosed) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  script_.open_count = 2;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "open-count"), "2");

  Link("resource-r0/primary", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "/dev/mars/r0 is open");
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  g_now += kSecond;
  manager_.Scan();  // retried at every scan
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});

  script_.open_count = 0;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(Actual("r0", "device-size"), "0");
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, DetachWhenSwitchOff) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r0", "open-count"), "0");
  EXPECT_EQ(manager_.resource_count(), 1u);  // still a member
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
}

TEST_F(ManagerTest, DetachWaitsWhileTheDeviceIsOpen) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  script_.open_count = 1;
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"detach r0"});
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "/dev/mars/r0 is open");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  script_.open_count = 0;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
}

TEST_F(ManagerTest, DeletedResourceDirectoryDetaches) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  TakeCalls();
  std::filesystem::remove_all(Abs("resource-r0"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_FALSE(Exists("resource-r0"));  // nothing written into it
}

TEST_F(ManagerTest, TombstonedMembershipDetachesAndWritesNothing) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  TakeCalls();
  const uint64_t stamp = Stamp("resource-r0/actual-hostA/is-attached");
  Delete("resource-r0/data-hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/is-attached"), stamp);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, FailedAttachIsRetriedEveryTenSeconds) {
  MakeResource("r0", "hostA");
  script_.attach_result = Status(StatusCode::kIoError, "busy");
  script_.attach_why = "cannot open data device /dev/fake-r0: busy";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-attach"), script_.attach_why);
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  const uint64_t stamp = Stamp("resource-r0/actual-hostA/msg-err-attach");

  g_now += 9 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  g_now += kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "destroy r0"}));
  // Same failure, same text: the message link is not rewritten.
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/msg-err-attach"), stamp);

  // A changed data path is tried at once.
  Link("resource-r0/data-hostA", "/dev/other");
  g_now += kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/other 1048576 hostA",
                                "attach r0", "destroy r0"}));

  script_.attach_result = Status::Ok();
  g_now += 10 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/other 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
}

TEST_F(ManagerTest, FailedAttachWithoutTextNamesTheStatus) {
  MakeResource("r0", "(none)");
  script_.attach_result = Status(StatusCode::kCorruption, "log is corrupt");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "attach failed: log is corrupt");
  // A corrupt log is a defective log for marsadm view (DefectiveLog).
  EXPECT_EQ(Actual("r0", "replay-code"), "-74");
  // Repaired: the next attach succeeds and replay-code returns to 0.
  script_.attach_result = Status::Ok();
  g_now += 11 * kSecond;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "is-attached"), "1");
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
}

TEST_F(ManagerTest, FailedStartPrimaryIsRetriedEveryTenSeconds) {
  MakeResource("r0", "hostA");
  script_.start_result = Status(StatusCode::kIoError, "no logfile");
  script_.start_why = "cannot create logfile";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "start_primary r0 r0"}));
  EXPECT_EQ(Actual("r0", "msg-err-primary"), "cannot create logfile");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  script_.start_result = Status::Ok();
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"start_primary r0 r0"});
  EXPECT_EQ(Actual("r0", "msg-err-primary"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
}

TEST_F(ManagerTest, LinksAreWrittenOnlyOnChange) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  const char* links[] = {"is-attached", "is-primary", "open-count",
                         "device-size", "disk-error", "replay-code"};
  std::map<std::string, uint64_t> stamps;
  for (const char* link : links) {
    stamps[link] = Stamp(std::string("resource-r0/actual-hostA/") + link);
    ASSERT_NE(stamps[link], 0u) << link;
  }
  const uint64_t actsize = Stamp("resource-r0/actsize-hostA");
  for (int i = 0; i < 3; ++i) {
    g_now += kSecond;
    manager_.Scan();
  }
  for (const char* link : links) {
    EXPECT_EQ(Stamp(std::string("resource-r0/actual-hostA/") + link),
              stamps[link])
        << link;
  }
  EXPECT_EQ(Stamp("resource-r0/actsize-hostA"), actsize);

  // A new Manager (module reload) finds the same values: no rewrite.
  manager_.Stop();
  TakeCalls();
  Manager again(FakeMonotonic);
  ASSERT_TRUE(again.Init(root_.c_str(), &kFakeHooks, &clock_).ok());
  again.Scan();
  EXPECT_EQ(Stamp("resource-r0/actual-hostA/open-count"), stamps["open-count"]);
  // Stop() published the detached state (not attached, no device); the
  // new Manager's attach changes them back.
  EXPECT_GT(Stamp("resource-r0/actual-hostA/device-size"),
            stamps["device-size"]);
  EXPECT_GT(Stamp("resource-r0/actual-hostA/is-attached"),
            stamps["is-attached"]);
  again.Stop();
}

TEST_F(ManagerTest, StaleMessagesAreRemovedOnTheFirstScan) {
  MakeResource("r0", "hostA");
  Link("resource-r0/actual-hostA/msg-err-attach", "old failure");
  Link("resource-r0/actual-hostA/msg-wrn-device-open", "old warning");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-err-attach"), "<absent>");
  EXPECT_EQ(Actual("r0", "msg-wrn-device-open"), "<absent>");
}

TEST_F(ManagerTest, ConfigChangeWhileAttachedIsAWarning) {
  MakeResource("r0", "(none)");
  manager_.Scan();
  TakeCalls();
  Link("resource-r0/data-hostA", "/dev/new");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "msg-wrn-config"),
            "data-hostA changed to '/dev/new' while attached to "
            "'/dev/fake-r0'; detach and attach again to use it");
  Link("resource-r0/data-hostA", "/dev/fake-r0");
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "msg-wrn-config"), "<absent>");
}

TEST_F(ManagerTest, BadLinksAreReportedAndReadAsOff) {
  MakeResource("r0", "hostA", "yes");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "msg-wrn-bad-link"),
            "resource-r0/todo-hostA/attach: switch value is not '0' or '1'");
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls().size(), 3u);
  EXPECT_EQ(Actual("r0", "msg-wrn-bad-link"), "<absent>");
}

TEST_F(ManagerTest, IoErrorIsPublished) {
  MakeResource("r0", "hostA");
  manager_.Scan();
  script_.io_error = true;
  script_.io_text = "logfile write failed: no space left on device";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "disk-error"), "-5");
  EXPECT_EQ(Actual("r0", "msg-err-io"), script_.io_text);
  script_.io_error = false;
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "disk-error"), "0");
  EXPECT_EQ(Actual("r0", "msg-err-io"), "<absent>");
}

TEST_F(ManagerTest, RotationRequestsTheHighestOwnLogfile) {
  MakeResource("r0", "hostA");
  for (const char* log : {"log-000000001-hostA", "log-000000003-hostA",
                          "log-000000009-hostB", "log-00000007-hostA"}) {
    std::ofstream(Abs(std::string("resource-r0/") + log)) << "";
  }
  Link("resource-r0/log-000000004-hostA", tree::kTombstoneValue);
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0",
                   "start_primary r0 r0", "request_logfile r0 3"}));
  std::ofstream(Abs("resource-r0/log-000000005-hostA")) << "";
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"request_logfile r0 5"});
  Link("resource-r0/primary", "(none)");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"stop_primary r0"});
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});  // only while primary
}

TEST_F(ManagerTest, StopDetachesEverything) {
  MakeResource("r0", "hostA");
  MakeResource("r1", "(none)");
  manager_.Scan();
  EXPECT_EQ(script_.engines.size(), 2u);
  TakeCalls();
  manager_.Stop();
  Calls calls = TakeCalls();
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls,
            (Calls{"destroy r0", "destroy r1", "detach r0", "detach r1"}));
  EXPECT_TRUE(script_.engines.empty());
  EXPECT_EQ(manager_.resource_count(), 0u);
  EXPECT_EQ(Actual("r0", "is-attached"), "0");
  EXPECT_EQ(Actual("r0", "is-primary"), "0");
  EXPECT_EQ(Actual("r1", "is-attached"), "0");
  manager_.Stop();  // idempotent
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, HeartbeatEveryFiveSeconds) {
  manager_.Scan();
  const uint64_t stamp = Stamp("actual-hostA/time");
  ASSERT_NE(stamp, 0u);
  EXPECT_EQ(Value("actual-hostA/time"), std::to_string(stamp));
  g_now += 4 * kSecond;
  manager_.Scan();
  EXPECT_EQ(Stamp("actual-hostA/time"), stamp);
  g_now += kSecond;
  manager_.Scan();
  const uint64_t later = Stamp("actual-hostA/time");
  EXPECT_GT(later, stamp);
  EXPECT_EQ(Value("actual-hostA/time"), std::to_string(later));

  // With peers as well: the tree replication carries it to them.
  Link("ips/ip-hostA", "10.0.0.1");
  Link("ips/ip-hostB", "10.0.0.2");
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_GT(Stamp("actual-hostA/time"), later);
}

// tree_write_errno tells marsadm that the tree it reads is stale: the
// heartbeat's errno while it fails, 0 once it is written again.
TEST_F(ManagerTest, FailedHeartbeatSetsTreeWriteErrno) {
  manager_.Scan();
  EXPECT_EQ(platform::GetCounter(platform::Counter::kTreeWriteErrno), 0u);
  std::filesystem::remove_all(Abs("actual-hostA"));
  {
    std::ofstream blocker(Abs("actual-hostA"));  // not a directory
  }
  g_now += 5 * kSecond;
  manager_.Scan();
  const uint64_t error =
      platform::GetCounter(platform::Counter::kTreeWriteErrno);
  EXPECT_TRUE(error == EEXIST || error == ENOTDIR) << error;
  std::filesystem::remove(Abs("actual-hostA"));
  g_now += 5 * kSecond;
  manager_.Scan();
  EXPECT_EQ(platform::GetCounter(platform::Counter::kTreeWriteErrno), 0u);
  EXPECT_NE(Stamp("actual-hostA/time"), 0u);
}

TEST_F(ManagerTest, StampsReadFromTheTreeAreObserved) {
  MakeResource("r0", "(none)");
  const uint64_t ahead = clock_.Now() + 3600 * kSecond;
  std::filesystem::create_directories(Abs("resource-r0"));
  ASSERT_TRUE(
      platform::WriteLink(Abs("resource-r0/size").c_str(), "1048576", 7, ahead)
          .ok());
  manager_.Scan();
  EXPECT_GT(Stamp("resource-r0/actual-hostA/is-attached"), ahead);
}

TEST_F(ManagerTest, SecondaryReplaysWhileAllowed) {
  MakeResource("r0", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
  EXPECT_EQ(Actual("r0", "replay-rate"), "0");
  script_.replay_rate = 1048576;
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  EXPECT_EQ(Actual("r0", "replay-rate"), "1048576");

  // A stop is published with its code and text, and goes away with it.
  script_.replay_code = -71;
  script_.replay_why = "split brain: histories diverge";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  EXPECT_EQ(Actual("r0", "replay-code"), "-71");
  EXPECT_EQ(Actual("r0", "msg-err-replay"), script_.replay_why);
  script_.replay_code = 0;
  script_.replay_why = "";
  manager_.Scan();
  EXPECT_EQ(Actual("r0", "replay-code"), "0");
  EXPECT_EQ(Actual("r0", "msg-err-replay"), "<absent>");
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");

  Link("resource-r0/todo-hostA/allow-replay", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"no_replay r0"});
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");

  // Detach stops it (the engine does); attach again restarts it.
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  Link("resource-r0/todo-hostA/attach", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"detach r0", "destroy r0"}));
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  Link("resource-r0/todo-hostA/attach", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "replay r0"}));
}

TEST_F(ManagerTest, ReplayWaitsForTheBlockSync) {
  MakeResource("r0", "hostB");
  Link("resource-r0/syncstatus-hostA", "0");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0"}));
  Link("resource-r0/syncstatus-hostA", "1044480");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
  Link("resource-r0/syncstatus-hostA", "1048576");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"replay r0"});
  // A new sync (invalidate) stops it again.
  Link("resource-r0/syncstatus-hostA", "0");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"no_replay r0"});
  // No syncstatus link at all: not synced.
  std::filesystem::remove(Abs("resource-r0/syncstatus-hostA"));
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{});
}

TEST_F(ManagerTest, BecomingPrimaryStopsReplay) {
  MakeResource("r0", "hostB");
  Link("resource-r0/todo-hostA/allow-replay", "1");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"create r0 /dev/fake-r0 1048576 hostA",
                                "attach r0", "replay r0"}));
  Link("resource-r0/primary", "hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"start_primary r0 r0", "no_replay r0"}));
  EXPECT_EQ(Actual("r0", "is-primary"), "1");
  EXPECT_EQ(Actual("r0", "is-replaying"), "0");
  // A refused start (e.g. this host replays another primary's logfile)
  // leaves replay running.
  Link("resource-r0/primary", "hostB");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), (Calls{"stop_primary r0", "replay r0"}));
  script_.start_result = Status(StatusCode::kUnavailable, "foreign");
  script_.start_why =
      "this host replays logfile log-000000003-hostB of another primary; "
      "handover is not supported yet";
  Link("resource-r0/primary", "hostA");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(), Calls{"start_primary r0 r0"});
  EXPECT_EQ(Actual("r0", "msg-err-primary"), script_.start_why);
  EXPECT_EQ(Actual("r0", "is-replaying"), "1");
}

TEST_F(ManagerTest, BadAllowReplayLinkIsReportedAndReadAsOff) {
  MakeResource("r0", "hostB");
  Link("resource-r0/todo-hostA/allow-replay", "on");
  manager_.Scan();
  EXPECT_EQ(TakeCalls(),
            (Calls{"create r0 /dev/fake-r0 1048576 hostA", "attach r0"}));
  EXPECT_EQ(
      Actual("r0", "msg-wrn-bad-link"),
      "resource-r0/todo-hostA/allow-replay: switch value is not '0' or '1'");
}

// The thread: scans at once, wakes on the trigger, detaches at Stop().
TEST(ManagerThreadTest, StartScansAndStopDetaches) {
  char pattern[] = "/tmp/manager_thread_test.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string root = pattern;
  FakeScript script;
  g_script = &script;
  platform::test::SetHostNameForTest("hostA");
  LamportClock clock;
  auto link = [&](const std::string& rel, const std::string& value) {
    std::filesystem::create_directories(
        std::filesystem::path(root + "/" + rel).parent_path());
    ASSERT_TRUE(platform::WriteLink((root + "/" + rel).c_str(), value.data(),
                                    value.size(), clock.Now())
                    .ok());
  };
  link("uuid", "u");
  link("resource-r0/size", "1048576");
  link("resource-r0/primary", "(none)");
  link("resource-r0/data-hostA", "/dev/x");
  link("resource-r0/todo-hostA/attach", "0");
  {
    Manager manager;
    ASSERT_TRUE(manager.Start(root.c_str(), &kFakeHooks, &clock).ok());
    link("resource-r0/todo-hostA/attach", "1");
    platform::test::TriggerForTest(1);
    // The fake's map is only touched by the Manager's thread until Stop().
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool attached = false;
    while (!attached && std::chrono::steady_clock::now() < deadline) {
      char value[4];
      size_t size = 0;
      attached = ReadValue(root.c_str(), "resource-r0/actual-hostA/is-attached",
                           value, sizeof(value), &size, nullptr, nullptr)
                     .ok() &&
                 value[0] == '1';
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(attached);
    manager.Stop();
    EXPECT_TRUE(script.engines.empty());
    EXPECT_EQ(script.calls.back(), "destroy r0");
  }
  g_script = nullptr;
  platform::test::SetHostNameForTest(nullptr);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace engine
}  // namespace mars
