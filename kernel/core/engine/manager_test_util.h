// Test-only helpers of the Manager tests (manager_test.cc,
// manager_publish_test.cc, manager_replay_test.cc): a fake ResourceHooks
// table that records every call and returns scripted results, a fake
// monotonic clock so retry intervals pass without sleeping, and the fixture:
// a temporary /mars tree written by the test, the host name set through the
// userspace platform. Not part of mars.ko.
#ifndef MARS_CORE_ENGINE_MANAGER_TEST_UTIL_H_
#define MARS_CORE_ENGINE_MANAGER_TEST_UTIL_H_

#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/engine/manager.h"
#include "core/engine/tree_links.h"
#include "core/platform_io.h"
#include "gtest/gtest.h"
#include "platform_user.h"

namespace mars {
namespace engine {
namespace test {

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
inline FakeScript* g_script = nullptr;

inline void SetWhy(ErrorText* why, const std::string& text) {
  snprintf(why->text, ErrorText::kCapacity, "%s", text.c_str());
}

inline Status FakeCreate(const ResourceSettings& s, void** resource) {
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

inline void FakeDestroy(void* resource) {
  auto* engine = static_cast<FakeEngine*>(resource);
  EXPECT_FALSE(engine->attached);
  g_script->calls.push_back("destroy " + engine->name);
  g_script->engines.erase(engine->name);
  delete engine;
}

inline Status FakeAttach(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("attach " + engine->name);
  if (!g_script->attach_result.ok()) {
    SetWhy(why, g_script->attach_why);
    return g_script->attach_result;
  }
  engine->attached = true;
  return Status::Ok();
}

inline Status FakeStartPrimary(void* resource, const char* device,
                               ErrorText* why) {
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

inline Status StopIfClosed(FakeEngine* engine, ErrorText* why) {
  if (engine->primary && g_script->open_count > 0) {
    SetWhy(why, "/dev/mars/" + engine->device + " is open");
    return Status(StatusCode::kUnavailable, "device is open");
  }
  engine->primary = false;
  return Status::Ok();
}

inline Status FakeStopPrimary(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("stop_primary " + engine->name);
  return StopIfClosed(engine, why);
}

inline Status FakeDetach(void* resource, ErrorText* why) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("detach " + engine->name);
  Status s = StopIfClosed(engine, why);
  if (s.ok()) {
    engine->attached = false;
    engine->replaying = false;
  }
  return s;
}

inline void FakeRequestLogfile(void* resource, uint64_t number) {
  auto* engine = static_cast<FakeEngine*>(resource);
  g_script->calls.push_back("request_logfile " + engine->name + " " +
                            std::to_string(number));
}

inline void FakeReport(void* resource, ResourceReport* report) {
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

inline void FakeTick(void*) {}

// Recorded only when it changes something.
inline void FakeSetReplay(void* resource, bool run) {
  auto* engine = static_cast<FakeEngine*>(resource);
  EXPECT_TRUE(engine->attached);
  if (run == engine->replaying) return;
  EXPECT_FALSE(run && engine->primary);
  engine->replaying = run;
  g_script->calls.push_back(std::string(run ? "replay " : "no_replay ") +
                            engine->name);
}

inline constexpr ResourceHooks kFakeHooks = {
    FakeCreate,      FakeDestroy,   FakeAttach,         FakeStartPrimary,
    FakeStopPrimary, FakeDetach,    FakeRequestLogfile, FakeReport,
    FakeTick,        FakeSetReplay,
};

inline uint64_t g_now = 0;
inline uint64_t FakeMonotonic() { return g_now; }

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

}  // namespace test
}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_MANAGER_TEST_UTIL_H_
