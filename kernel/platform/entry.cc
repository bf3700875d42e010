// The engine's entry points called by the C glue (declared in
// glue/mars_glue.h).
//
// Module-wide engine state lives here with constant initialisation only: the
// module loader never runs global constructors.
#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/engine/manager.h"
#include "core/engine/resource.h"
#include "core/lamport_clock.h"
#include "core/platform.h"
#include "core/startup_checks.h"
#include "glue/mars_glue.h"

namespace {

mars::LamportClock g_lamport_clock;
// The main thread, between mars_core_start() and mars_core_stop().
mars::engine::Manager* g_manager = nullptr;
// The tree the module serves (docu/mars-tree.md).
constexpr const char kTreeRoot[] = "/mars";

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

extern "C" int mars_core_start(void) {
  auto* manager =
      mars::New<mars::engine::Manager>(mars::platform::Gfp::kKernel);
  if (manager == nullptr) return static_cast<int>(mars::StatusCode::kNoMemory);
  const mars::Status status = manager->Start(
      kTreeRoot, &mars::engine::kResourceHooks, &g_lamport_clock);
  if (!status.ok()) {
    mars::platform::Log(mars::platform::LogLevel::kError,
                        "cannot start the main thread: %s", status.message());
    manager->Stop();
    mars::Delete(manager);
    return static_cast<int>(status.code());
  }
  g_manager = manager;
  return 0;
}

extern "C" void mars_core_stop(void) {
  if (g_manager == nullptr) return;
  g_manager->Stop();
  mars::Delete(g_manager);
  g_manager = nullptr;
}

extern "C" unsigned long long mars_core_lamport_now(void) {
  return g_lamport_clock.Now();
}
