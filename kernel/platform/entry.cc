// The engine's entry points called by the C glue (declared in
// glue/mars_glue.h).
//
// Module-wide engine state lives here with constant initialisation only: the
// module loader never runs global constructors.
#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/engine/data_access.h"
#include "core/engine/log_durability.h"
#include "core/engine/manager.h"
#include "core/engine/resource.h"
#include "core/lamport_clock.h"
#include "core/peer/node.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "core/tree/names.h"
#include "core/startup_checks.h"
#include "glue/mars_glue.h"

namespace {

mars::LamportClock g_lamport_clock;
// The main thread, between mars_core_start() and mars_core_stop().
mars::engine::Manager* g_manager = nullptr;
// Tree replication with the peers, between the same two calls.
mars::peer::Node* g_node = nullptr;
// Durable ends of the logfiles being written: the write path reports, the
// peer server reads. Lives from before g_manager until after g_node.
mars::engine::LogDurability* g_durability = nullptr;
// The attached resources' data devices for the block sync: the resources
// register, the peer server reads and writes. Lives as g_durability.
mars::engine::DataAccess* g_data_access = nullptr;
// The tree the module serves (docu/mars-tree.md).
constexpr const char kTreeRoot[] = "/mars";

void DeleteRegistries() {
  mars::Delete(g_durability);
  g_durability = nullptr;
  mars::Delete(g_data_access);
  g_data_access = nullptr;
}

// Starts g_node on kTreeRoot as this host, on the listen_port parameter.
mars::Status StartNode() {
  char host[64];
  const size_t host_size = mars::platform::HostName(host, sizeof(host));
  if (host_size == 0 ||
      !mars::tree::ValidateHostName(mars::Slice(host, host_size)).ok()) {
    // As the main thread does: the module works locally; no peers.
    mars::platform::Log(mars::platform::LogLevel::kError,
                        "the host name is not a valid mars host name "
                        "(docu/mars-tree.md §2.1): not starting the peer "
                        "network");
    return mars::Status::Ok();
  }
  auto* node = mars::New<mars::peer::Node>(mars::platform::Gfp::kKernel);
  if (node == nullptr) return mars::Status(mars::StatusCode::kNoMemory, "");
  mars::peer::NodeConfig config;
  config.root = kTreeRoot;
  config.host = mars::Slice(host, host_size);
  config.port = static_cast<uint16_t>(mars_glue_listen_port());
  config.clock = &g_lamport_clock;
  config.durability = g_durability;
  config.data_access = g_data_access;
  const mars::Status status = node->Start(config);
  if (!status.ok()) {
    mars::platform::Log(mars::platform::LogLevel::kError,
                        "cannot start the peer network (port %u): %s",
                        mars_glue_listen_port(), status.message());
    mars::Delete(node);
    return status;
  }
  g_node = node;
  return mars::Status::Ok();
}

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
  g_durability =
      mars::New<mars::engine::LogDurability>(mars::platform::Gfp::kKernel);
  g_data_access =
      mars::New<mars::engine::DataAccess>(mars::platform::Gfp::kKernel);
  if (g_durability == nullptr || g_data_access == nullptr ||
      !g_durability->Init(mars::platform::Gfp::kKernel).ok() ||
      !g_data_access->Init(mars::platform::Gfp::kKernel).ok()) {
    DeleteRegistries();
    return static_cast<int>(mars::StatusCode::kNoMemory);
  }
  auto* manager =
      mars::New<mars::engine::Manager>(mars::platform::Gfp::kKernel);
  if (manager == nullptr) return static_cast<int>(mars::StatusCode::kNoMemory);
  const mars::Status status =
      manager->Start(kTreeRoot, &mars::engine::kResourceHooks,
                     &g_lamport_clock, g_durability, g_data_access);
  if (!status.ok()) {
    mars::platform::Log(mars::platform::LogLevel::kError,
                        "cannot start the main thread: %s", status.message());
    manager->Stop();
    mars::Delete(manager);
    DeleteRegistries();
    return static_cast<int>(status.code());
  }
  g_manager = manager;
  const mars::Status node_status = StartNode();
  if (!node_status.ok()) {
    mars_core_stop();
    return static_cast<int>(node_status.code());
  }
  return 0;
}

extern "C" void mars_core_stop(void) {
  if (g_node != nullptr) {
    g_node->Stop();
    mars::Delete(g_node);
    g_node = nullptr;
  }
  if (g_manager != nullptr) {
    g_manager->Stop();
    mars::Delete(g_manager);
    g_manager = nullptr;
  }
  DeleteRegistries();
}

extern "C" unsigned long long mars_core_lamport_now(void) {
  return g_lamport_clock.Now();
}
