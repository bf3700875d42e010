#include "cli.h"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "command.h"
#include "exit_codes.h"
#include "global_options.h"
#include "help.h"
#include "report.h"

namespace mars::cli {
namespace po = boost::program_options;

namespace {

// Boost's default style without prefix matching: an abbreviation that works
// today could become ambiguous when a later command adds an option.
constexpr int kParserStyle = po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing;

// Returns the index of the command name in `args`: the first token that is
// neither an option nor the separate value of a global option ("--" ends
// option scanning). Returns nullopt if there is none. Throws
// po::unknown_option for an option before the command name that is not a
// global one, since it is unknown which tokens such an option would consume.
std::optional<std::size_t> FindCommandIndex(
    const std::vector<std::string>& args,
    const po::options_description& global) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (token == "--") {
      if (i + 1 < args.size()) return i + 1;
      return std::nullopt;
    }
    if (token.size() < 2 || token[0] != '-') return i;  // Also "-" alone.
    const bool is_long = token[1] == '-';
    const std::size_t equals = token.find('=');
    // Long options are looked up by name ("root"), short ones as "-h".
    const std::string key =
        is_long
            ? token.substr(2, equals == std::string::npos ? equals : equals - 2)
            : token.substr(0, 2);
    const po::option_description* const option =
        global.find_nothrow(key, /*approx=*/false);
    if (option == nullptr) {
      throw po::unknown_option(is_long ? "--" + key : token);
    }
    const bool value_attached =
        is_long ? equals != std::string::npos : token.size() > 2;
    if (option->semantic()->max_tokens() > 0 && !value_attached) ++i;
  }
  return std::nullopt;
}

// True if `error` is about one of the global options, whose help is
// `marsadm --help` rather than the command's.
bool IsAboutGlobalOption(const po::error& error,
                         const po::options_description& global) {
  const auto* const named =
      dynamic_cast<const po::error_with_option_name*>(&error);
  if (named == nullptr) return false;
  std::string name = named->get_option_name();
  if (name.rfind("--", 0) == 0) name.erase(0, 2);
  return !name.empty() &&
         global.find_nothrow(name, /*approx=*/false) != nullptr;
}

std::string ArgumentCount(int count) {
  return std::to_string(count) + (count == 1 ? " argument" : " arguments");
}

// Parses `args`, runs the command and returns its exit code. Usage errors are
// reported here; exceptions from handlers propagate.
ExitCode Dispatch(const Registry& registry,
                  const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  const Command* command = nullptr;
  po::variables_map options;
  std::vector<std::string> positional;
  const po::options_description global = GlobalOptionsDescription();
  try {
    std::vector<std::string> rest = args;
    if (const std::optional<std::size_t> index =
            FindCommandIndex(args, global)) {
      command = registry.Find(args[*index]);
      if (command == nullptr) {
        return ReportUsageError(err, "unknown command '" + args[*index] + "'",
                                nullptr);
      }
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(*index));
    }

    // Global options are accepted on both sides of the command name, so the
    // remaining tokens are parsed against global and command options at once.
    po::options_description all;
    all.add(global);
    if (command != nullptr && command->add_options != nullptr) {
      po::options_description own("Options");
      command->add_options(own);
      all.add(own);
    }
    const po::parsed_options parsed =
        po::command_line_parser(rest).options(all).style(kParserStyle).run();
    po::store(parsed, options);
    positional =
        po::collect_unrecognized(parsed.options, po::include_positional);

    if (options[kHelpOption].as<bool>()) {
      if (command != nullptr) {
        PrintCommandHelp(*command, out);
      } else {
        PrintGlobalHelp(registry, out);
      }
      return ExitCode::kOk;
    }
    if (options[kVersionOption].as<bool>()) {
      PrintVersion(out);
      return ExitCode::kOk;
    }
    po::notify(options);  // Required options and notifiers.
  } catch (const po::error& error) {
    return ReportUsageError(
        err, error.what(),
        IsAboutGlobalOption(error, global) ? nullptr : command);
  }

  if (command == nullptr) {
    return ReportUsageError(err, "no command given", nullptr);
  }
  const int count = static_cast<int>(positional.size());
  if (count < command->min_args) {
    return ReportUsageError(
        err,
        std::string("'") + command->name + "' needs at least " +
            ArgumentCount(command->min_args) + ", got " + std::to_string(count),
        command);
  }
  if (command->max_args != kUnlimitedArgs && count > command->max_args) {
    return ReportUsageError(
        err,
        std::string("'") + command->name + "' takes at most " +
            ArgumentCount(command->max_args) + ", got " + std::to_string(count),
        command);
  }

  Context context(out, err);
  if (!ApplyGlobalOptions(options, context)) {
    ReportError(err,
                "cannot determine the host name ('uname -n' failed or is "
                "empty); pass --host NAME");
    return ExitCode::kPreconditionFailed;
  }
  const Invocation invocation{*command, registry, std::move(positional),
                              std::move(options)};
  return command->run(invocation, context);
}

int ReportInternalError(std::ostream& err, const std::string& what) {
  try {
    ReportError(err, "internal error: " + what);
  } catch (...) {
    // Nothing left to report to.
  }
  return static_cast<int>(ExitCode::kInternalError);
}

}  // namespace

int RunWithRegistry(const Registry& registry,
                    const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  try {
    const ExitCode code = Dispatch(registry, args, out, err);
    out.flush();
    if (code == ExitCode::kOk && !out) {
      return ReportInternalError(err, "cannot write output");
    }
    return static_cast<int>(code);
  } catch (const std::exception& error) {
    return ReportInternalError(err, error.what());
  } catch (...) {
    return ReportInternalError(err, "unknown exception");
  }
}

int Run(int argc, const char* const argv[], std::ostream& out,
        std::ostream& err) {
  try {
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0),
                                        argv + (argc > 0 ? argc : 0));
    return RunWithRegistry(Registry::BuiltIn(), args, out, err);
  } catch (const std::exception& error) {
    return ReportInternalError(err, error.what());
  } catch (...) {
    return ReportInternalError(err, "unknown exception");
  }
}

}  // namespace mars::cli
