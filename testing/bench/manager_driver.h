// The engine::Managers of two benchmark hosts in one process, and what
// drives them as mars_main does in the module: one thread scans both every
// Manager::kScanIntervalNs, switching the process-wide host name before each
// scan (the only thing a Manager reads it for).
#ifndef MARS_TESTING_BENCH_MANAGER_DRIVER_H_
#define MARS_TESTING_BENCH_MANAGER_DRIVER_H_

#include <condition_variable>
#include <mutex>
#include <thread>

#include "cluster_host.h"
#include "core/engine/manager.h"
#include "core/engine/resource.h"
#include "platform_user.h"

namespace mars {
namespace bench {

// The Managers of hosts alpha and beta with the real engine
// (kResourceHooks); stopped (resources detached) by Stop() and when it
// goes. Declare it after what must outlive the resources, and stop the
// ManagerDriver first.
struct ManagerPair {
  ~ManagerPair() { Stop(); }
  // False when either Manager::Init failed.
  bool Init(ClusterHost* a, ClusterHost* b) {
    return alpha
               .Init(a->root().c_str(), &engine::kResourceHooks, a->clock(),
                     a->durability(), a->data_access())
               .ok() &&
           beta.Init(b->root().c_str(), &engine::kResourceHooks, b->clock(),
                     b->durability(), b->data_access())
               .ok();
  }
  void Stop() {
    alpha.Stop();
    beta.Stop();
  }
  engine::Manager alpha;
  engine::Manager beta;
};

// Scans both Managers every second until stopped.
class ManagerDriver {
 public:
  ManagerDriver(engine::Manager* alpha, engine::Manager* beta)
      : alpha_(alpha), beta_(beta), thread_([this] { Run(); }) {}
  ~ManagerDriver() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
    platform::test::SetHostNameForTest(nullptr);
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      lock.unlock();
      platform::test::SetHostNameForTest("alpha");
      alpha_->Scan();
      platform::test::SetHostNameForTest("beta");
      beta_->Scan();
      lock.lock();
      wake_.wait_for(lock,
                     std::chrono::nanoseconds(engine::Manager::kScanIntervalNs),
                     [this] { return stop_; });
    }
  }

  engine::Manager* alpha_;
  engine::Manager* beta_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bench
}  // namespace mars

#endif  // MARS_TESTING_BENCH_MANAGER_DRIVER_H_
