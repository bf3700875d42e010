// scripts/bash_completion/marsadm, run in bash against the built binary and
// a temporary tree: commands, options, resource names and lists, hosts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tree_dir.h"

namespace mars::cli {
namespace {

class BashCompletionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mars-completion-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    TreeDir tree(root_);
    Stamper stamper(tree, "/nonexistent");
    ChangeSet changes;
    changes.SetLink("resource-r0/size", "1048576");
    changes.SetLink("resource-r1/size", "1048576");
    changes.SetLink("ips/ip-hostA", "10.0.0.1");
    ASSERT_EQ(Commit(tree, changes, stamper), std::nullopt);
  }
  void TearDown() override {
    ASSERT_EQ(std::system(("rm -rf " + root_).c_str()), 0);
  }

  // COMPREPLY for the words of a command line (the last one is completed).
  std::string Complete(const std::string& words) {
    std::string binary = MARSADM_BINARY;
    const std::string dir = binary.substr(0, binary.rfind('/'));
    const std::string script =
        std::string(MARS_SOURCE_DIR) + "/scripts/bash_completion/marsadm";
    const std::string command =
        "bash --norc -c 'source " + script + "; PATH=" + dir +
        ":$PATH; COMP_WORDS=(" + words +
        "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _marsadm; "
        "echo \"${COMPREPLY[*]}\"'";
    FILE* pipe = popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    std::string out;
    char buffer[4096];
    while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
    EXPECT_EQ(pclose(pipe), 0);
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  std::string root_;
};

TEST_F(BashCompletionTest, CommandsFromTheBinary) {
  EXPECT_EQ(Complete("marsadm view-is-sp"), "view-is-split-brain");
  EXPECT_EQ(Complete("marsadm help dump"), "dump-log");
  EXPECT_EQ(Complete("marsadm --verbose statu"), "status");
}

TEST_F(BashCompletionTest, OptionsOfTheCommand) {
  EXPECT_EQ(Complete("marsadm status --js"), "--json");
  EXPECT_EQ(Complete("marsadm view --sa"), "--sample");
}

TEST_F(BashCompletionTest, ResourceAndHostNamesFromTheTree) {
  EXPECT_EQ(Complete("marsadm --root " + root_ + " view \"\""), "r0 r1 all");
  EXPECT_EQ(Complete("marsadm --root=" + root_ + " view-role r1"), "r1");
  EXPECT_EQ(Complete("marsadm --root " + root_ + " view r0,"), "r0,r0 r0,r1");
  EXPECT_EQ(Complete("marsadm --root " + root_ + " --host \"\""), "hostA");
}

}  // namespace
}  // namespace mars::cli
