// core/platform.h implemented with POSIX: malloc, stderr, clock_gettime.
//
// The log threshold comes from MARS_LOG_LEVEL (0..7, default 4 = warnings and
// worse), so tests stay quiet unless asked. ReportBug aborts: in userspace a
// broken invariant must stop the test that hit it, not be ignored.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/platform.h"

namespace mars {
namespace platform {
namespace {

int LogThreshold() {
  const char* env = getenv("MARS_LOG_LEVEL");
  if (env == nullptr || env[0] < '0' || env[0] > '7' || env[1] != '\0') {
    return static_cast<int>(LogLevel::kWarning);
  }
  return env[0] - '0';
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kNotice:
      return "notice";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "log";
}

}  // namespace

void* Allocate(size_t size, Gfp /*gfp*/) { return malloc(size); }

void Free(void* ptr) { free(ptr); }

void Log(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) > LogThreshold()) return;
  char line[512];
  va_list ap;
  va_start(ap, format);
  vsnprintf(line, sizeof(line), format, ap);
  va_end(ap);
  fprintf(stderr, "mars: %s: %s\n", LevelName(level), line);
}

void ReportBug(const char* file, int line) {
  fprintf(stderr, "mars: internal error at %s:%d\n", file, line);
  abort();
}

uint64_t RealTimeNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace platform
}  // namespace mars
