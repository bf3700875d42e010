// wait-resource conditions ({is-,}{attach,primary,device,sync,fetch,replay}
// {-off,}) and wait-umount.
#include "wait_conditions.h"

#include <fstream>

#include "operation_test_env.h"

namespace mars::cli {
namespace {

using Kind = WaitCondition::Kind;

TEST(ParseWaitConditionTest, TodoAndActualForms) {
  struct Case {
    const char* text;
    Kind kind;
    const char* name;
    bool on;
  };
  const Case cases[] = {
      {"attach", Kind::kTodo, "attach", true},
      {"attach-off", Kind::kTodo, "attach", false},
      {"attach-on", Kind::kTodo, "attach", true},
      {"fetch", Kind::kTodo, "connect", true},
      {"connect-off", Kind::kTodo, "connect", false},
      {"replay", Kind::kTodo, "allow-replay", true},
      {"sync-off", Kind::kTodo, "sync", false},
      {"primary", Kind::kDesignated, "", true},
      {"primary-off", Kind::kDesignated, "", false},
      {"device", Kind::kDeviceWanted, "", true},
      {"device-off", Kind::kDeviceWanted, "", false},
      {"is-attach", Kind::kActual, "is-attached", true},
      {"is-attached-off", Kind::kActual, "is-attached", false},
      {"is-primary", Kind::kActual, "is-primary", true},
      {"is-primary-off", Kind::kActual, "is-primary", false},
      {"is-device", Kind::kDevice, "", true},
      {"is-device-off", Kind::kDevice, "", false},
      {"is-fetching", Kind::kActual, "is-copying", true},
      {"is-copying", Kind::kActual, "is-copying", true},
      {"is-sync", Kind::kActual, "is-syncing", true},
      {"is-replay-off", Kind::kActual, "is-replaying", false},
  };
  for (const Case& c : cases) {
    const auto parsed = ParseWaitCondition(c.text);
    ASSERT_TRUE(parsed) << c.text;
    EXPECT_EQ(parsed->kind, c.kind) << c.text;
    EXPECT_EQ(parsed->name, c.name) << c.text;
    EXPECT_EQ(parsed->on, c.on) << c.text;
  }
  for (const char* bad : {"", "is-", "-off", "is-happy", "attached", "is-connect",
                          "device-off-off", "is-is-device", "primary-", "ATTACH"}) {
    EXPECT_FALSE(ParseWaitCondition(bad)) << bad;
  }
}

class WaitResourceTest : public OperationTest {
 protected:
  int Wait(const std::string& host, const std::string& condition) {
    return Op(host, {"wait-resource", "r0", condition}).code;
  }
};

TEST_F(WaitResourceTest, TodoForms) {
  EXPECT_EQ(Wait("hostB", "attach"), 0);
  EXPECT_EQ(Wait("hostB", "attach-off"), 3);
  SetLinks({{"resource-r0/todo-hostB/attach", "0"}});
  EXPECT_EQ(Wait("hostB", "attach-off"), 0);
  const RunResult r = Op("hostB", {"wait-resource", "r0", "attach"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "waiting until todo-hostB/attach is 1")) << r.err;
  EXPECT_EQ(Wait("hostB", "fetch"), 0);
  EXPECT_EQ(Wait("hostB", "replay-off"), 3);
  EXPECT_EQ(Wait("hostA", "primary"), 0);
  EXPECT_EQ(Wait("hostB", "primary"), 3);
  EXPECT_EQ(Wait("hostB", "primary-off"), 0);
  // device: designated primary here and the attach switch on.
  EXPECT_EQ(Wait("hostA", "device"), 0);
  EXPECT_EQ(Wait("hostB", "device-off"), 0);
  SetLinks({{"resource-r0/todo-hostA/attach", "0"}});
  EXPECT_EQ(Wait("hostA", "device"), 3);
  EXPECT_EQ(Wait("hostA", "device-off"), 0);
  EXPECT_TRUE(Has(Op("hostA", {"wait-resource", "r0", "device"}).err,
                  "hostA is the designated primary and todo-hostA/attach is 1"));
}

TEST_F(WaitResourceTest, ActualForms) {
  EXPECT_EQ(Wait("hostB", "is-attached"), 3);
  EXPECT_EQ(Wait("hostB", "is-attached-off"), 0);
  Actual("hostB", "is-attached", "1");
  EXPECT_EQ(Wait("hostB", "is-attach"), 0);
  EXPECT_EQ(Wait("hostA", "is-primary"), 3);
  Actual("hostA", "is-primary", "1");
  EXPECT_EQ(Wait("hostA", "is-primary"), 0);
  EXPECT_EQ(Wait("hostA", "is-primary-off"), 3);
  Actual("hostB", "is-copying", "1");
  EXPECT_EQ(Wait("hostB", "is-fetch"), 0);
  EXPECT_EQ(Wait("hostB", "is-device"), 3);
  EXPECT_EQ(Wait("hostB", "is-device-off"), 0);
  std::ofstream(dev_ + "/r0").close();
  EXPECT_EQ(Wait("hostB", "is-device"), 0);
  const RunResult r = Op("hostB", {"wait-resource", "r0", "is-device-off"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, dev_ + "/r0 is gone")) << r.err;
}

TEST_F(WaitResourceTest, UnknownConditionIsAUsageError) {
  const std::string before = Listing();
  const RunResult r = Op("hostB", {"wait-resource", "r0", "is-happy"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Has(r.err, "unknown condition 'is-happy'")) << r.err;
  EXPECT_TRUE(Has(r.err, "{is-,}{attach,primary,device,sync,fetch,replay}{-off,}")) << r.err;
  EXPECT_EQ(Listing(), before);
}

TEST_F(WaitResourceTest, WaitUmount) {
  Actual("hostB", "open-count", "1");
  RunResult r = Op("hostB", {"wait-umount", "r0"});
  EXPECT_EQ(r.code, 3);
  EXPECT_TRUE(Has(r.err, "open-count is 0 (now 1)")) << r.err;
  Actual("hostB", "open-count", "0");
  EXPECT_EQ(Op("hostB", {"wait-umount", "r0"}).code, 0);
}

}  // namespace
}  // namespace mars::cli
