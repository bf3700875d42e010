// ErrorText formatting (engine/error_text.h).
#include "core/engine/error_text.h"

#include "core/tree/text.h"

namespace mars {
namespace engine {

void FormatError(ErrorText* out, const char* what, const char* subject,
                 Status status) {
  if (out == nullptr) return;
  tree::TextWriter writer(out->text, ErrorText::kCapacity);
  writer.CString(what);
  if (subject != nullptr && subject[0] != '\0') {
    writer.Char(' ');
    writer.CString(subject);
  }
  if (!status.ok()) {
    writer.CString(": ");
    writer.CString(status.message());
  }
}

void AppendHint(ErrorText* out, const char* hint) {
  if (out == nullptr) return;
  const size_t used = __builtin_strlen(out->text);
  if (used + 3 >= ErrorText::kCapacity) return;
  tree::TextWriter writer(out->text + used, ErrorText::kCapacity - used);
  writer.CString("; ");
  writer.CString(hint);
}

}  // namespace engine
}  // namespace mars
