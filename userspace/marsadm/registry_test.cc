#include "registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "command.h"

namespace mars::cli {
namespace {

ExitCode RunNothing(const Invocation&, Context&) { return ExitCode::kOk; }

TEST(RegistryTest, BuiltInTableIsWellFormed) {
  const Registry& registry = Registry::BuiltIn();
  ASSERT_FALSE(registry.groups().empty());
  const Command* help = registry.Find("help");
  ASSERT_NE(help, nullptr);
  EXPECT_STREQ(help->name, "help");
  EXPECT_EQ(registry.Find("bogus"), nullptr);
  EXPECT_EQ(registry.Find(""), nullptr);
}

TEST(RegistryTest, EveryBuiltInCommandIsFoundByName) {
  const Registry& registry = Registry::BuiltIn();
  for (const CommandGroup& group : registry.groups()) {
    for (std::size_t i = 0; i < group.size; ++i) {
      EXPECT_EQ(registry.Find(group.commands[i].name), &group.commands[i]);
    }
  }
}

TEST(RegistryTest, RejectsDuplicateNames) {
  static const Command kFirst[] = {
      {"same", "One", "", 0, 0, "", nullptr, RunNothing}};
  static const Command kSecond[] = {
      {"same", "Two", "", 0, 0, "", nullptr, RunNothing}};
  EXPECT_THROW(
      Registry({MakeCommandGroup("A", kFirst), MakeCommandGroup("B", kSecond)}),
      std::logic_error);
}

TEST(RegistryTest, RejectsMalformedRows) {
  static const Command kBadName[] = {
      {"Bad_Name", "Summary", "", 0, 0, "", nullptr, RunNothing}};
  static const Command kMultiLineSummary[] = {
      {"ok", "Two\nlines", "", 0, 0, "", nullptr, RunNothing}};
  static const Command kNoHandler[] = {
      {"ok", "Summary", "", 0, 0, "", nullptr, nullptr}};
  static const Command kBadBounds[] = {
      {"ok", "Summary", "", 2, 1, "", nullptr, RunNothing}};
  for (const CommandGroup& group :
       {MakeCommandGroup("G", kBadName),
        MakeCommandGroup("G", kMultiLineSummary),
        MakeCommandGroup("G", kNoHandler), MakeCommandGroup("G", kBadBounds)}) {
    EXPECT_THROW(Registry({group}), std::logic_error) << group.commands->name;
  }
}

}  // namespace
}  // namespace mars::cli
