#include "resource_list.h"

#include <gtest/gtest.h>

#include "command_test_env.h"

namespace mars::cli {
namespace {

class ResourceListTest : public CommandTest {
 protected:
  ExitCode Select(const std::string& arg, ListPolicy policy = ListPolicy::kListOrAll) {
    error_.clear();
    return SelectResources(arg, policy, TreeDir(root_), "hostA", &selection_, &error_);
  }
  ResourceSelection selection_;
  std::string error_;
};

TEST_F(ResourceListTest, SingleName) {
  EXPECT_EQ(Select("r0"), ExitCode::kOk);
  EXPECT_EQ(selection_.names, std::vector<std::string>{"r0"});
  EXPECT_FALSE(selection_.all);
  EXPECT_EQ(Select("r0", ListPolicy::kSingle), ExitCode::kOk);
}

TEST_F(ResourceListTest, CommaListKeepsOrderAndDropsDuplicates) {
  EXPECT_EQ(Select("r2,r0,r2"), ExitCode::kOk);
  EXPECT_EQ(selection_.names, (std::vector<std::string>{"r2", "r0"}));
}

TEST_F(ResourceListTest, AllSelectsResourcesThisHostIsAMemberOf) {
  SetLinks({{"resource-r0/data-hostA", "/dev/a"},
            {"resource-r1/data-hostB", "/dev/b"},
            {"resource-r2/data-hostA", "/dev/c"}});
  DeleteLink("resource-r2/data-hostA");  // left: a tombstone is no membership
  SetLinks({{"resource-r3/data-hostA", "/dev/d"}});
  EXPECT_EQ(Select("all"), ExitCode::kOk);
  EXPECT_TRUE(selection_.all);
  EXPECT_EQ(selection_.names, (std::vector<std::string>{"r0", "r3"}));
}

TEST_F(ResourceListTest, AllWithoutMembershipIsAPreconditionFailure) {
  EXPECT_EQ(Select("all"), ExitCode::kPreconditionFailed);
  EXPECT_TRUE(Has(error_, "member of no resource")) << error_;
}

TEST_F(ResourceListTest, SinglePolicyRefusesAllAndLists) {
  EXPECT_EQ(Select("all", ListPolicy::kSingle), ExitCode::kUsageError);
  EXPECT_TRUE(Has(error_, "not 'all'"));
  EXPECT_EQ(Select("r0,r1", ListPolicy::kSingle), ExitCode::kUsageError);
  EXPECT_TRUE(Has(error_, "not a list"));
}

TEST_F(ResourceListTest, InvalidNamesAreUsageErrorsFromTheCore) {
  EXPECT_EQ(Select("../x"), ExitCode::kUsageError);
  EXPECT_EQ(error_, "resource name '../x' contains '.'");
  EXPECT_EQ(Select("a b"), ExitCode::kUsageError);
  EXPECT_EQ(Select(std::string(64, 'a')), ExitCode::kUsageError);
  EXPECT_TRUE(Has(error_, "longer than 63"));
  EXPECT_EQ(Select(""), ExitCode::kUsageError);
  EXPECT_EQ(Select("r0,,r1"), ExitCode::kUsageError);
  EXPECT_TRUE(Has(error_, "empty element"));
  EXPECT_EQ(Select("r0,all"), ExitCode::kUsageError);
  EXPECT_EQ(Select("r0,none"), ExitCode::kUsageError);
  EXPECT_TRUE(Has(error_, "reserved"));
}

TEST_F(ResourceListTest, NameProblems) {
  EXPECT_EQ(ResourceNameProblem("r0"), "");
  EXPECT_EQ(HostNameProblem("-x"), "host name '-x' starts with '-'");
}

}  // namespace
}  // namespace mars::cli
