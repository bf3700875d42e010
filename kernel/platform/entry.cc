// The engine's entry points called by the C glue (declared in glue/mars_glue.h).
//
// Module-wide engine state lives here with constant initialisation only: the
// module loader never runs global constructors.
#include "core/base/status.h"
#include "core/lamport_clock.h"
#include "core/platform.h"
#include "core/startup_checks.h"
#include "glue/mars_glue.h"

namespace {

mars::LamportClock g_lamport_clock;

}  // namespace

extern "C" int mars_core_init(void) {
  const mars::Status status = mars::RunStartupChecks();
  if (!status.ok()) {
    mars::platform::Log(mars::platform::LogLevel::kError,
                        "refusing to load: %s", status.message());
    return static_cast<int>(status.code());
  }
  return 0;
}

extern "C" void mars_core_exit(void) {}

extern "C" unsigned long long mars_core_lamport_now(void) {
  return g_lamport_clock.Now();
}
