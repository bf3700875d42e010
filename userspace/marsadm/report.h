// Diagnostics. Every diagnostic marsadm prints is exactly one line on the
// error stream, starting with "marsadm: ", so scripts can rely on it.
#ifndef MARS_USERSPACE_MARSADM_REPORT_H_
#define MARS_USERSPACE_MARSADM_REPORT_H_

#include <ostream>
#include <string>
#include <string_view>

#include "command.h"
#include "exit_codes.h"

namespace mars::cli {

// `text` with control characters (newline, tab, ...) replaced by C-style
// escapes ("\n", "\x01"), so that user input cannot split a diagnostic.
std::string OneLine(std::string_view text);

// Writes "marsadm: <what>\n" to `err`.
void ReportError(std::ostream& err, std::string_view what);

// Writes "marsadm: <what>; see 'marsadm --help'\n" to `err`, or
// "...; see 'marsadm help NAME'" when `command` is not null. Returns
// ExitCode::kUsageError so handlers can `return ReportUsageError(...)`.
ExitCode ReportUsageError(std::ostream& err, std::string_view what,
                          const Command* command);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_REPORT_H_
