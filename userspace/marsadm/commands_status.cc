// The inspection commands: `view [RES|all]`, `status [RES|all] [--json]` and
// one `view-MACRO RES` row per entry of the macro table (view_macros.h). All
// of them compute the status model (status_model.h) and only render it.
#include <unistd.h>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/options_description.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <boost/program_options/variables_map.hpp>
#include <charconv>
#include <string>
#include <vector>

#include "command.h"
#include "command_groups.h"
#include "help.h"
#include "json_status.h"
#include "module_health.h"
#include "module_link.h"
#include "report.h"
#include "resource_list.h"
#include "status_model.h"
#include "status_text.h"
#include "tree_dir.h"
#include "tree_read.h"
#include "view_macros.h"

namespace mars::cli {
namespace po = boost::program_options;

// Value type of --window and --sample: a non-negative number of seconds.
struct StatusSeconds {
  unsigned value;
};

void validate(boost::any& result, const std::vector<std::string>& values,
              StatusSeconds* /*tag*/, int /*tag*/) {
  po::validators::check_first_occurrence(result);
  const std::string& text = po::validators::get_single_string(values);
  unsigned seconds = 0;
  const char* const end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  if (text.empty() || ec != std::errc() || ptr != end || seconds > 86400) {
    po::error_with_option_name error(
        "the argument ('%value%') for option '%canonical_option%' is "
        "invalid: expected a number of seconds from 0 to 86400");
    error.set_substitute("value", text);
    throw error;
  }
  result = StatusSeconds{seconds};
}

namespace {

constexpr char kWindowOption[] = "window";
constexpr char kSampleOption[] = "sample";
constexpr char kJsonOption[] = "json";
constexpr unsigned kDefaultWindowSeconds = 60;

void AddWindowOption(po::options_description& options) {
  options.add_options()(
      kWindowOption, po::value<StatusSeconds>()->value_name("SECONDS"),
      "a host whose heartbeat (actual-HOST/time) is older than this is not "
      "alive (default 60)");
}

void AddViewOptions(po::options_description& options) {
  AddWindowOption(options);
  options.add_options()(
      kSampleOption, po::value<StatusSeconds>()->value_name("SECONDS"),
      "observe twice, SECONDS apart, and derive rates and remaining times "
      "from the difference (default 0: one observation)");
}

void AddStatusOptions(po::options_description& options) {
  AddViewOptions(options);
  options.add_options()(kJsonOption, po::bool_switch(),
                        "print JSON following docu/status-schema.json");
}

unsigned SecondsOption(const Invocation& invocation, const char* name,
                       unsigned fallback) {
  const auto it = invocation.options.find(name);
  if (it == invocation.options.end() || it->second.empty()) return fallback;
  return it->second.as<StatusSeconds>().value;
}

// Selects the resources and computes their status (twice with --sample).
ExitCode Observe(const Invocation& invocation, Context& context,
                 ListPolicy policy, ClusterStatus* status) {
  const TreeDir tree(context.root);
  if (!tree.RootIsDirectory()) {
    ReportError(context.err, "MARS state directory " + context.root +
                                 " does not exist (see --root)");
    return ExitCode::kPreconditionFailed;
  }
  const std::string argument =
      invocation.args.empty() ? kAllResources : invocation.args[0];
  std::vector<std::string> names;
  if (argument == kAllResources && policy == ListPolicy::kListOrAll) {
    names = MemberResources(tree, context.host);  // may be empty
  } else {
    ResourceSelection selection;
    std::string error;
    const ExitCode code = SelectResources(argument, policy, tree, context.host,
                                          &selection, &error);
    if (code == ExitCode::kUsageError) {
      return ReportUsageError(context.err, error, &invocation.command);
    }
    if (code != ExitCode::kOk) {
      ReportError(context.err, error);
      return code;
    }
    for (const std::string& name : selection.names) {
      if (!ResourceTree(tree, name).Exists()) {
        ReportError(context.err, "resource '" + name +
                                     "' does not exist (no resource-" + name +
                                     "/size in " + context.root + ")");
        return ExitCode::kPreconditionFailed;
      }
    }
    names = selection.names;
  }
  const ModuleLink module = ModuleLink::FromEnvironment();
  StatusOptions options;
  options.host = context.host;
  options.window_seconds =
      SecondsOption(invocation, kWindowOption, kDefaultWindowSeconds);
  options.module_loaded = module.Loaded();
  options.now_ns = LamportNowNs(module.LamportClockPath());
  *status = ComputeClusterStatus(tree, names, options);
  const unsigned sample = SecondsOption(invocation, kSampleOption, 0);
  if (sample > 0) {
    sleep(sample);
    options.now_ns = LamportNowNs(module.LamportClockPath());
    ClusterStatus later = ComputeClusterStatus(tree, names, options);
    ApplySample(*status, later);
    *status = std::move(later);
  }
  AddClusterProblems(ModuleTreeProblems(module, context.root, context.host),
                     status);
  return ExitCode::kOk;
}

ExitCode RunView(const Invocation& invocation, Context& context) {
  ClusterStatus status;
  const ExitCode code =
      Observe(invocation, context, ListPolicy::kListOrAll, &status);
  if (code != ExitCode::kOk) return code;
  for (const ResourceStatus& resource : status.resources) {
    RenderView(resource, status.host, context.verbose, context.out);
  }
  return ExitCode::kOk;
}

ExitCode RunStatus(const Invocation& invocation, Context& context) {
  ClusterStatus status;
  const ExitCode code =
      Observe(invocation, context, ListPolicy::kListOrAll, &status);
  if (code != ExitCode::kOk) return code;
  if (invocation.options[kJsonOption].as<bool>()) {
    const std::string generator = std::string("marsadm ") + Version();
    context.out << StatusToJson(status, generator.c_str())
                       .dump(2, ' ', false,
                             nlohmann::ordered_json::error_handler_t::replace)
                << '\n';
    return ExitCode::kOk;
  }
  for (const ResourceStatus& resource : status.resources) {
    RenderView(resource, status.host, context.verbose, context.out);
    for (const HostStatus& host : resource.hosts) {
      if (host.is_local) continue;
      context.out << "    host " << host.name << ": " << DiskStateToken(host)
                  << ' ' << ReplStateName(host.repl_state) << ' ' << host.flags
                  << ' ' << RoleName(host.role) << ' '
                  << (host.alive ? "alive" : "not-alive");
      if (host.behind_bytes) {
        context.out << " behind: " << HumanBinary(*host.behind_bytes);
      }
      if (host.fetch.rest_bytes) {
        context.out << " fetch-rest: " << HumanBinary(*host.fetch.rest_bytes);
      }
      context.out << '\n';
    }
  }
  return ExitCode::kOk;
}

ExitCode RunMacro(const Invocation& invocation, Context& context) {
  const ViewMacro* const macro =
      FindViewMacro(std::string(invocation.command.name).substr(5));
  if (macro == nullptr) {
    ReportError(context.err,
                std::string("no view macro for ") + invocation.command.name);
    return ExitCode::kInternalError;
  }
  ClusterStatus status;
  const ExitCode code =
      Observe(invocation, context, ListPolicy::kSingle, &status);
  if (code != ExitCode::kOk) return code;
  context.out << OneLine(macro->value(status.resources.front(), status.host))
              << '\n';
  return ExitCode::kOk;
}

constexpr char kMacroDescription[] =
    "Prints exactly one line: the value named in the summary, for RESOURCE\n"
    "as this host (--host) sees it in the tree (--root). Numbers are\n"
    "decimal bytes or seconds; an unknown number prints as -1; yes/no\n"
    "values print as 1 or 0. RESOURCE must be one existing resource (not a\n"
    "list, not 'all'); otherwise the exit code is 2 (bad name) or 1 (no\n"
    "such resource). docu/marsadm.md, \"View macros\", defines each value.";

const Command kStatusCommands[] = {
    {
        /*name=*/"view",
        /*summary=*/"Show one status line per resource, then its progress",
        /*usage_args=*/"[RESOURCE|all|R1,R2]",
        /*min_args=*/0,
        /*max_args=*/1,
        /*description=*/
        "Prints, for each selected resource (default: all resources this\n"
        "host is a member of), the line\n"
        "  RES DISKSTATE REPLSTATE FLAGS ROLE PRIMARYNODE COMMSTATE\n"
        "as upstream MARS does, followed by progress lines (sync, fetch,\n"
        "replay: amounts, lag, rate, remaining time) while something is not\n"
        "reached, a fetch line per peer whose fetch position is known while\n"
        "it is behind, a split-brain line, and the module's error and warning\n"
        "messages (infos with --verbose). Rates and remaining times are\n"
        "'unknown' unless the module publishes rates or --sample is given.\n"
        "Reads the tree only; needs no module.",
        /*add_options=*/AddViewOptions,
        /*run=*/RunView,
    },
    {
        /*name=*/"status",
        /*summary=*/"Show the status of resources as text or JSON (--json)",
        /*usage_args=*/"[RESOURCE|all|R1,R2]",
        /*min_args=*/0,
        /*max_args=*/1,
        /*description=*/
        "Without --json: the 'view' output plus one line per other member\n"
        "(its states, flags, role, aliveness, how far it is behind and,\n"
        "when known, how much it has still to fetch).\n"
        "With --json: one JSON document (schema docu/status-schema.json,\n"
        "'schema_version' 1) with the cluster, every selected resource and\n"
        "every member: roles, states, positions, rests and lags in bytes\n"
        "and seconds, sync progress, split brain and messages. Both are\n"
        "rendered from the same model as 'view'.",
        /*add_options=*/AddStatusOptions,
        /*run=*/RunStatus,
    },
};

}  // namespace

CommandGroup StatusCommands() {
  return MakeCommandGroup("Inspection", kStatusCommands);
}

CommandGroup ViewMacroCommands() {
  // The rows point into `names`, so both live as long as the program.
  struct Table {
    std::vector<std::string> names;
    std::vector<Command> rows;
  };
  static const Table* const kTable = [] {
    const std::vector<ViewMacro>& macros = ViewMacros();
    auto* table = new Table();
    table->names.reserve(macros.size());
    for (const ViewMacro& macro : macros) {
      table->names.push_back(std::string("view-") + macro.name);
      table->rows.push_back(Command{table->names.back().c_str(), macro.summary,
                                    "RESOURCE", 1, 1, kMacroDescription,
                                    AddWindowOption, RunMacro});
    }
    return table;
  }();
  return CommandGroup{"View macros (one value line each)", kTable->rows.data(),
                      kTable->rows.size()};
}

}  // namespace mars::cli
