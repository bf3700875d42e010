#include "report.h"

namespace mars::cli {

std::string OneLine(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string result;
  result.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      result += "\\n";
    } else if (c == '\r') {
      result += "\\r";
    } else if (c == '\t') {
      result += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      result += "\\x";
      result += kHex[byte >> 4];
      result += kHex[byte & 0xf];
    } else {
      result += c;
    }
  }
  return result;
}

void ReportError(std::ostream& err, std::string_view what) {
  err << "marsadm: " << OneLine(what) << '\n';
  err.flush();
}

ExitCode ReportUsageError(std::ostream& err, std::string_view what,
                          const Command* command) {
  std::string line(what);
  if (command == nullptr) {
    line += "; see 'marsadm --help'";
  } else {
    line += "; see 'marsadm help ";
    line += command->name;
    line += "'";
  }
  ReportError(err, line);
  return ExitCode::kUsageError;
}

}  // namespace mars::cli
