#include "cli.h"

#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options/value_semantic.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#include "command_groups.h"
#include "command_test_env.h"
#include "exit_codes.h"
#include "registry.h"

namespace mars::cli {
namespace {

namespace po = boost::program_options;

RunResult RunWith(const Registry& registry, const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunWithRegistry(registry, args, out, err);
  return {code, out.str(), err.str()};
}

// Expects a usage error: exit 2, no stdout, exactly one stderr line of the
// form "marsadm: ...; see '<see>'".
void ExpectUsageError(const RunResult& result, const std::string& see) {
  EXPECT_EQ(result.code, static_cast<int>(ExitCode::kUsageError));
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(LineCount(result.err), 1) << result.err;
  EXPECT_EQ(result.err.rfind("marsadm: ", 0), 0u) << result.err;
  const std::string suffix = "; see '" + see + "'\n";
  ASSERT_GE(result.err.size(), suffix.size()) << result.err;
  EXPECT_EQ(result.err.substr(result.err.size() - suffix.size()), suffix)
      << result.err;
}

std::string UnameN() {
  struct utsname names {};
  EXPECT_EQ(uname(&names), 0);
  return names.nodename;
}

// Sets or unsets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, /*overwrite=*/1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A test command table: the built-in help plus commands that record what
// they were handed.
struct ProbeRecord {
  bool ran = false;
  std::string root;
  std::string host;
  bool dry_run = false;
  bool force = false;
  int timeout_seconds = 0;
  bool verbose = false;
  std::vector<std::string> args;
  int lines = 0;
};
ProbeRecord g_probe;

void AddProbeOptions(po::options_description& options) {
  options.add_options()("lines", po::value<int>()->default_value(10),
                        "number of lines");
}

ExitCode RunProbe(const Invocation& invocation, Context& context) {
  g_probe.ran = true;
  g_probe.root = context.root;
  g_probe.host = context.host;
  g_probe.dry_run = context.dry_run;
  g_probe.force = context.force;
  g_probe.timeout_seconds = context.timeout_seconds;
  g_probe.verbose = context.verbose;
  g_probe.args = invocation.args;
  g_probe.lines = invocation.options["lines"].as<int>();
  context.out << "probed\n";
  return ExitCode::kOk;
}

ExitCode RunCrash(const Invocation&, Context&) {
  throw std::runtime_error("boom");
}

ExitCode RunOk(const Invocation&, Context&) { return ExitCode::kOk; }

const Command kTestCommands[] = {
    {"probe", "Record the context", "[ARG...]", 0, kUnlimitedArgs,
     "Records everything for the test.", AddProbeOptions, RunProbe},
    {"needs-one", "Take exactly one argument", "THING", 1, 1, "", nullptr,
     RunOk},
    {"crash", "Throw an exception", "", 0, 0, "", nullptr, RunCrash},
};

const Registry& TestRegistry() {
  static const Registry* const kRegistry = new Registry(
      {HelpCommands(), MakeCommandGroup("Testing", kTestCommands)});
  return *kRegistry;
}

// Runs `probe` with `args` and returns what it recorded.
ProbeRecord Probe(const std::vector<std::string>& args) {
  g_probe = ProbeRecord();
  const RunResult result = RunWith(TestRegistry(), args);
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(g_probe.ran);
  return g_probe;
}

TEST(CliHelpTest, GlobalHelpListsEveryRegisteredCommand) {
  const RunResult result = RunMarsadm({"--help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.err, "");
  for (const CommandGroup& group : Registry::BuiltIn().groups()) {
    EXPECT_TRUE(Has(result.out, group.title)) << group.title;
    for (std::size_t i = 0; i < group.size; ++i) {
      EXPECT_TRUE(Has(result.out, group.commands[i].name));
      EXPECT_TRUE(Has(result.out, group.commands[i].summary));
    }
  }
  for (const ExitCodeInfo& info : kExitCodeTable) {
    EXPECT_TRUE(Has(
        result.out, "  " + std::to_string(static_cast<int>(info.code)) + "  " +
                        info.meaning + "\n"))
        << info.meaning;
  }
  for (const char* option : {"--root", "--host", "--dry-run", "--force",
                             "--timeout", "--verbose", "--version"}) {
    EXPECT_TRUE(Has(result.out, option)) << option;
  }
}

TEST(CliHelpTest, HelpWithoutArgumentEqualsDashDashHelp) {
  const RunResult help = RunMarsadm({"--help"});
  EXPECT_EQ(RunMarsadm({"help"}).out, help.out);
  EXPECT_EQ(RunMarsadm({"-h"}).out, help.out);
}

TEST(CliHelpTest, GlobalHelpListsCommandsOfTheGivenTable) {
  const RunResult result = RunWith(TestRegistry(), {"help"});
  EXPECT_EQ(result.code, 0);
  for (const Command& command : kTestCommands) {
    EXPECT_TRUE(Has(result.out, command.summary)) << command.name;
  }
}

TEST(CliHelpTest, HelpCommandShowsUsageAndDescription) {
  const RunResult result = RunMarsadm({"help", "help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(
      Has(result.out, "Usage: marsadm [GLOBAL OPTIONS] help [COMMAND]\n"));
  const Command* help = Registry::BuiltIn().Find("help");
  ASSERT_NE(help, nullptr);
  EXPECT_TRUE(Has(result.out, help->summary));
  EXPECT_TRUE(Has(result.out, help->description));
  // --help before or after the command name shows the same.
  EXPECT_EQ(RunMarsadm({"help", "--help"}).out, result.out);
  EXPECT_EQ(RunMarsadm({"--help", "help"}).out, result.out);
}

TEST(CliHelpTest, HelpCommandShowsCommandOptions) {
  const RunResult result = RunWith(TestRegistry(), {"help", "probe"});
  EXPECT_EQ(result.code, 0);
  EXPECT_TRUE(Has(result.out, "probe [ARG...] [OPTIONS]"));
  EXPECT_TRUE(Has(result.out, "--lines"));
  EXPECT_EQ(RunWith(TestRegistry(), {"probe", "--help"}).out, result.out);
}

TEST(CliHelpTest, HelpUnknownCommandIsUsageError) {
  const RunResult result = RunMarsadm({"help", "bogus"});
  ExpectUsageError(result, "marsadm --help");
  EXPECT_EQ(result.err,
            "marsadm: unknown command 'bogus'; see 'marsadm --help'\n");
}

TEST(CliTest, VersionPrintsCompiledVersion) {
  const RunResult result = RunMarsadm({"--version"});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "marsadm " MARS_VERSION "\n");
  EXPECT_EQ(result.err, "");
}

TEST(CliTest, UnknownCommandIsUsageError) {
  const RunResult result = RunMarsadm({"bogus", "x"});
  ExpectUsageError(result, "marsadm --help");
  EXPECT_EQ(result.err,
            "marsadm: unknown command 'bogus'; see 'marsadm --help'\n");
}

TEST(CliTest, ControlCharactersCannotSplitTheErrorLine) {
  const RunResult result = RunMarsadm({"bo\ngus"});
  ExpectUsageError(result, "marsadm --help");
  EXPECT_TRUE(Has(result.err, "'bo\\ngus'"));
}

TEST(CliTest, NoCommandIsUsageError) {
  ExpectUsageError(RunMarsadm({}), "marsadm --help");
  ExpectUsageError(RunMarsadm({"--verbose"}), "marsadm --help");
}

TEST(CliTest, UnknownGlobalOptionIsUsageError) {
  const RunResult result = RunMarsadm({"--bogus", "help"});
  ExpectUsageError(result, "marsadm --help");
  EXPECT_TRUE(Has(result.err, "'--bogus'")) << result.err;
  ExpectUsageError(RunMarsadm({"--bogus=1", "help"}), "marsadm --help");
  ExpectUsageError(RunMarsadm({"-x", "help"}), "marsadm --help");
}

TEST(CliTest, UnknownOptionAfterCommandPointsToCommandHelp) {
  const RunResult result = RunMarsadm({"help", "--bogus"});
  ExpectUsageError(result, "marsadm help help");
  EXPECT_TRUE(Has(result.err, "'--bogus'")) << result.err;
}

TEST(CliTest, AbbreviatedOptionIsRejected) {
  ExpectUsageError(RunMarsadm({"--verb", "help"}), "marsadm --help");
}

TEST(CliTest, RepeatedOptionIsUsageError) {
  ExpectUsageError(RunMarsadm({"--root", "/a", "help", "--root", "/b"}),
                   "marsadm --help");
}

TEST(CliTest, MissingOptionValueIsUsageError) {
  ExpectUsageError(RunMarsadm({"help", "--root"}), "marsadm --help");
  ExpectUsageError(RunMarsadm({"--root"}), "marsadm --help");
}

TEST(CliTest, EmptyRootOrHostIsUsageError) {
  ExpectUsageError(RunMarsadm({"--root", "", "help"}), "marsadm --help");
  ExpectUsageError(RunMarsadm({"--host=", "help"}), "marsadm --help");
}

TEST(CliTest, BadTimeoutIsUsageError) {
  for (const char* bad :
       {"abc", "-1", "1.5", "", "5s", " 5", "+5", "99999999999999999999"}) {
    const RunResult result = RunMarsadm({"--timeout", bad, "help"});
    ExpectUsageError(result, "marsadm --help");
    EXPECT_TRUE(Has(result.err, "--timeout")) << result.err;
  }
  ExpectUsageError(RunMarsadm({"--timeout=-1", "help"}), "marsadm --help");
  // Errors about global options point to the global help, even after the
  // command name.
  ExpectUsageError(RunMarsadm({"help", "--timeout", "abc"}), "marsadm --help");
}

TEST(CliTest, TimeoutValues) {
  EXPECT_EQ(Probe({"probe"}).timeout_seconds, Context::kDefaultTimeoutSeconds);
  EXPECT_EQ(Probe({"probe", "--timeout", "0"}).timeout_seconds, 0);
  EXPECT_EQ(Probe({"probe", "--timeout=3600"}).timeout_seconds, 3600);
  EXPECT_EQ(Probe({"--timeout", "forever", "probe"}).timeout_seconds,
            Context::kWaitForever);
}

TEST(CliTest, RootDefaultsToMarsRootEnvironment) {
  {
    ScopedEnv env("MARS_ROOT", "/srv/mars-test");
    EXPECT_EQ(Probe({"probe"}).root, "/srv/mars-test");
    EXPECT_EQ(Probe({"probe", "--root", "/explicit"}).root, "/explicit");
  }
  {
    ScopedEnv env("MARS_ROOT", "");
    EXPECT_EQ(Probe({"probe"}).root, "/mars");
  }
  {
    ScopedEnv env("MARS_ROOT", nullptr);
    EXPECT_EQ(Probe({"probe"}).root, "/mars");
    EXPECT_EQ(Probe({"--root=/explicit", "probe"}).root, "/explicit");
  }
}

TEST(CliTest, HostDefaultsToUnameN) {
  EXPECT_EQ(Probe({"probe"}).host, UnameN());
  EXPECT_EQ(Probe({"probe", "--host", "other"}).host, "other");
}

TEST(CliTest, DefaultsWithoutOptions) {
  const ProbeRecord probe = Probe({"probe"});
  EXPECT_FALSE(probe.dry_run);
  EXPECT_FALSE(probe.force);
  EXPECT_FALSE(probe.verbose);
  EXPECT_TRUE(probe.args.empty());
  EXPECT_EQ(probe.lines, 10);
}

TEST(CliTest, GlobalOptionsBeforeCommandAreHonored) {
  const ProbeRecord probe =
      Probe({"--root", "/r", "--host", "h", "--dry-run", "--force", "--timeout",
             "5", "--verbose", "probe", "a", "b"});
  EXPECT_EQ(probe.root, "/r");
  EXPECT_EQ(probe.host, "h");
  EXPECT_TRUE(probe.dry_run);
  EXPECT_TRUE(probe.force);
  EXPECT_EQ(probe.timeout_seconds, 5);
  EXPECT_TRUE(probe.verbose);
  EXPECT_EQ(probe.args, (std::vector<std::string>{"a", "b"}));
}

TEST(CliTest, OptionsAfterCommandAreHonored) {
  const ProbeRecord probe =
      Probe({"probe", "--verbose", "a", "--root", "/r", "--host=h", "--dry-run",
             "b", "--force", "--timeout", "7", "--lines", "3"});
  EXPECT_EQ(probe.root, "/r");
  EXPECT_EQ(probe.host, "h");
  EXPECT_TRUE(probe.dry_run);
  EXPECT_TRUE(probe.force);
  EXPECT_EQ(probe.timeout_seconds, 7);
  EXPECT_TRUE(probe.verbose);
  EXPECT_EQ(probe.lines, 3);
  EXPECT_EQ(probe.args, (std::vector<std::string>{"a", "b"}));
}

TEST(CliTest, DoubleDashEndsOptions) {
  EXPECT_EQ(Probe({"probe", "--", "--verbose", "-x"}).args,
            (std::vector<std::string>{"--verbose", "-x"}));
  EXPECT_EQ(Probe({"--", "probe", "-x"}).args,
            (std::vector<std::string>{"-x"}));
}

TEST(CliTest, CommandOptionBeforeCommandIsUsageError) {
  ExpectUsageError(RunWith(TestRegistry(), {"--lines", "3", "probe"}),
                   "marsadm --help");
}

TEST(CliTest, BadCommandOptionValuePointsToCommandHelp) {
  ExpectUsageError(RunWith(TestRegistry(), {"probe", "--lines", "abc"}),
                   "marsadm help probe");
}

TEST(CliTest, ArgumentCountIsChecked) {
  RunResult result = RunWith(TestRegistry(), {"needs-one"});
  ExpectUsageError(result, "marsadm help needs-one");
  EXPECT_TRUE(Has(result.err, "at least 1 argument, got 0")) << result.err;
  result = RunWith(TestRegistry(), {"needs-one", "a", "b"});
  ExpectUsageError(result, "marsadm help needs-one");
  EXPECT_TRUE(Has(result.err, "at most 1 argument, got 2")) << result.err;
  EXPECT_EQ(RunWith(TestRegistry(), {"needs-one", "a"}).code, 0);
  ExpectUsageError(RunMarsadm({"help", "help", "help"}), "marsadm help help");
}

TEST(CliTest, HandlerExceptionIsInternalError) {
  const RunResult result = RunWith(TestRegistry(), {"crash"});
  EXPECT_EQ(result.code, static_cast<int>(ExitCode::kInternalError));
  EXPECT_EQ(result.err, "marsadm: internal error: boom\n");
}

TEST(CliTest, UnwritableOutputIsInternalError) {
  std::ostringstream out;
  std::ostringstream err;
  out.setstate(std::ios::badbit);
  EXPECT_EQ(RunWithRegistry(Registry::BuiltIn(), {"--version"}, out, err),
            static_cast<int>(ExitCode::kInternalError));
  EXPECT_EQ(err.str(), "marsadm: internal error: cannot write output\n");
}

// Runs the built binary; returns its exit code and output.
RunResult ExecMarsadm(const std::vector<std::string>& args) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  if (out == nullptr || err == nullptr) {
    ADD_FAILURE() << "tmpfile failed";
    return {-1, "", ""};
  }
  std::vector<std::string> full = {MARSADM_BINARY};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : full) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fileno(out), STDOUT_FILENO);
    dup2(fileno(err), STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  auto slurp = [](std::FILE* file) {
    std::string text;
    std::rewind(file);
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
      text.append(buffer, n);
    }
    std::fclose(file);
    return text;
  };
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return {code, slurp(out), slurp(err)};
}

TEST(CliBinaryTest, ProcessExitCodes) {
  RunResult result = ExecMarsadm({"--version"});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "marsadm " MARS_VERSION "\n");

  result = ExecMarsadm({"bogus"});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "marsadm: unknown command 'bogus'; see 'marsadm --help'\n");

  result = ExecMarsadm({"--timeout", "abc", "help"});
  EXPECT_EQ(result.code, 2);
  EXPECT_EQ(LineCount(result.err), 1) << result.err;

  result = ExecMarsadm({"help"});
  EXPECT_EQ(result.code, 0);
  EXPECT_TRUE(Has(result.out, "Exit codes:"));
}

}  // namespace
}  // namespace mars::cli
