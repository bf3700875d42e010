#include "global_options.h"

#include <sys/utsname.h>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <utility>

namespace mars::cli {
namespace po = boost::program_options;

namespace {

constexpr std::string_view kForever = "forever";

// Throws a usage error naming the option and the offending value.
[[noreturn]] void ThrowInvalidValue(const std::string& value,
                                    const char* expected) {
  po::error_with_option_name error(
      std::string("the argument ('%value%') for option '%canonical_option%' "
                  "is invalid: expected ") +
      expected);
  error.set_substitute("value", value);
  throw error;
}

}  // namespace

void validate(boost::any& result, const std::vector<std::string>& values,
              TimeoutValue* /*tag*/, int /*tag*/) {
  po::validators::check_first_occurrence(result);
  const std::string& text = po::validators::get_single_string(values);
  if (text == kForever) {
    result = TimeoutValue{Context::kWaitForever};
    return;
  }
  int seconds = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  // from_chars accepts a leading '-'; negative values are rejected here.
  if (text.empty() || ec != std::errc() || ptr != end || seconds < 0) {
    ThrowInvalidValue(text,
                      "a non-negative integer number of seconds or 'forever'");
  }
  result = TimeoutValue{seconds};
}

void validate(boost::any& result, const std::vector<std::string>& values,
              NonEmptyString* /*tag*/, int /*tag*/) {
  po::validators::check_first_occurrence(result);
  const std::string& text = po::validators::get_single_string(values);
  if (text.empty()) ThrowInvalidValue(text, "a non-empty value");
  result = NonEmptyString{text};
}

po::options_description GlobalOptionsDescription() {
  po::options_description options("Global options (before or after COMMAND)");
  // clang-format off
  options.add_options()
      ("help,h", po::bool_switch(),
       "show this help, or the help of COMMAND, and exit")
      ("version", po::bool_switch(), "print 'marsadm VERSION' and exit")
      ("root", po::value<NonEmptyString>()->value_name("DIR"),
       "MARS state directory (default: $MARS_ROOT if set and non-empty, "
       "else /mars)")
      ("host", po::value<NonEmptyString>()->value_name("NAME"),
       "act as this node (default: the output of 'uname -n')")
      ("dry-run", po::bool_switch(),
       "report what would be done without changing anything")
      ("force", po::bool_switch(),
       "override safety checks that would otherwise refuse (exit 1)")
      ("timeout", po::value<TimeoutValue>()
                      ->value_name("SECONDS")
                      ->default_value(
                          TimeoutValue{Context::kDefaultTimeoutSeconds},
                          std::to_string(Context::kDefaultTimeoutSeconds)),
       "give up waiting after SECONDS (non-negative integer; 0 = check once "
       "without waiting; 'forever' = no limit); exit 3 on timeout")
      ("verbose", po::bool_switch(), "print more detail");
  // clang-format on
  return options;
}

std::string DefaultRoot() {
  const char* const env = std::getenv("MARS_ROOT");
  return (env != nullptr && env[0] != '\0') ? std::string(env)
                                            : std::string(kDefaultRoot);
}

std::optional<std::string> DefaultHost() {
  struct utsname names {};
  if (uname(&names) != 0 || names.nodename[0] == '\0') return std::nullopt;
  return std::string(names.nodename);
}

bool ApplyGlobalOptions(const po::variables_map& options, Context& context) {
  context.root = options.count("root") != 0
                     ? options["root"].as<NonEmptyString>().value
                     : DefaultRoot();
  context.dry_run = options["dry-run"].as<bool>();
  context.force = options["force"].as<bool>();
  context.timeout_seconds = options["timeout"].as<TimeoutValue>().seconds;
  context.verbose = options["verbose"].as<bool>();
  if (options.count("host") != 0) {
    context.host = options["host"].as<NonEmptyString>().value;
    return true;
  }
  std::optional<std::string> host = DefaultHost();
  if (!host) return false;
  context.host = std::move(*host);
  return true;
}

}  // namespace mars::cli
