// Tests of what `view` and `status` add when the module cannot write /mars
// (module_health.h): the tree alone would look healthy.
#include "module_health.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "status_test_util.h"

namespace mars::cli {
namespace {

using testing::StatusTree;

class ModuleHealthTest : public StatusTree {
 protected:
  void SetTreeWriteErrno(const std::string& value) {
    std::ofstream(proc_ + "/tree_write_errno") << value << "\n";
  }
};

TEST_F(ModuleHealthTest, AFailingHeartbeatIsShownByViewAndStatus) {
  Healthy();
  SetTreeWriteErrno("30");
  const testing::RunResult view = Run({"view", "r0"});
  EXPECT_EQ(view.code, 0) << view.err;
  EXPECT_NE(view.out.find("    error hostB: tree-unwritable: the module "
                          "cannot write " +
                          root_ + ": Read-only file system (errno 30)"),
            std::string::npos)
      << view.out;

  const testing::RunResult status = Run({"status", "r0", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  const nlohmann::json doc = nlohmann::json::parse(status.out);
  for (const nlohmann::json* messages :
       {&doc["messages"], &doc["resources"][0]["messages"]}) {
    int found = 0;
    for (const nlohmann::json& m : *messages) {
      if (m["key"] != "tree-unwritable") continue;
      ++found;
      EXPECT_EQ(m["severity"], "error");
      EXPECT_EQ(m["source"], "marsadm");
      EXPECT_EQ(m["host"], "hostB");
    }
    EXPECT_EQ(found, 1) << *messages;
  }
}

TEST_F(ModuleHealthTest, NothingWhileTheHeartbeatIsWritten) {
  Healthy();
  SetTreeWriteErrno("0");
  const testing::RunResult view = Run({"view", "r0"});
  EXPECT_EQ(view.code, 0) << view.err;
  EXPECT_EQ(view.out.find("tree-unwritable"), std::string::npos) << view.out;
}

TEST_F(ModuleHealthTest, AnUnloadedModuleReportsNothing) {
  Healthy();
  SetTreeWriteErrno("5");
  unlink((proc_ + "/trigger").c_str());
  const testing::RunResult view = Run({"view", "r0"});
  EXPECT_EQ(view.out.find("tree-unwritable"), std::string::npos) << view.out;
}

TEST(ModuleTreeProblemsTest, AWritableRootWithoutModuleHasNone) {
  char pattern[] = "/tmp/mars-health-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const ModuleLink module(std::string(pattern) + "/no-proc");
  EXPECT_TRUE(ModuleTreeProblems(module, pattern, "hostA").empty());
  rmdir(pattern);
}

}  // namespace
}  // namespace mars::cli
