// Formatting of ErrorText (engine/resource_hooks.h): one line naming what
// failed, its subject (a path, a logfile) and the Status message.
#ifndef MARS_CORE_ENGINE_ERROR_TEXT_H_
#define MARS_CORE_ENGINE_ERROR_TEXT_H_

#include "core/base/status.h"
#include "core/engine/resource_hooks.h"

namespace mars {
namespace engine {

// *out = "WHAT SUBJECT: MESSAGE" (SUBJECT and its space left out when empty;
// ": MESSAGE" left out for an Ok status). Truncated to fit. Accepts a null
// `out` (then does nothing). Context: any.
void FormatError(ErrorText* out, const char* what, const char* subject,
                 Status status);

// Appends "; HINT" to *out. Context: any.
void AppendHint(ErrorText* out, const char* hint);

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_ERROR_TEXT_H_
