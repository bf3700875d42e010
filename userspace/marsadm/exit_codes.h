// Process exit codes of marsadm. This is the single source of truth: `marsadm
// --help` prints kExitCodeTable and docu/marsadm.md lists the same values.
// The numeric values are a stable interface for scripts; never renumber them.
#ifndef MARS_USERSPACE_MARSADM_EXIT_CODES_H_
#define MARS_USERSPACE_MARSADM_EXIT_CODES_H_

namespace mars::cli {

enum class ExitCode : int {
  // The command did what was asked (or, with --dry-run, would have).
  kOk = 0,
  // A precondition did not hold, so the command refused to act (e.g.
  // resource not found, wrong role, unsafe without --force).
  kPreconditionFailed = 1,
  // The command line was malformed: unknown command or option, missing or
  // bad option value, wrong number of arguments.
  kUsageError = 2,
  // The command started but its condition was not reached within --timeout.
  kTimeout = 3,
  // A command acting on several resources succeeded for some and failed for
  // others.
  kPartialFailure = 4,
  // A bug or unexpected environment failure (uncaught exception, output not
  // writable).
  kInternalError = 5,
};

// One row of the exit code table shown by `marsadm --help`.
struct ExitCodeInfo {
  ExitCode code;
  const char* meaning;  // One line, no trailing period.
};

inline constexpr ExitCodeInfo kExitCodeTable[] = {
    {ExitCode::kOk, "success"},
    {ExitCode::kPreconditionFailed, "precondition failed / operation refused"},
    {ExitCode::kUsageError, "usage error (bad command, option or argument)"},
    {ExitCode::kTimeout, "timed out waiting (see --timeout)"},
    {ExitCode::kPartialFailure, "partial failure across resources"},
    {ExitCode::kInternalError, "internal error"},
};

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_EXIT_CODES_H_
