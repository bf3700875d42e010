#include "module_link.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace mars::cli {

ModuleLink ModuleLink::FromEnvironment() {
  const char* const env = std::getenv("MARS_PROC_DIR");
  return ModuleLink(env != nullptr && env[0] != '\0' ? std::string(env)
                                                     : std::string(kDefaultProcDir));
}

std::string MarsDeviceDir() {
  const char* const env = std::getenv("MARS_DEV_DIR");
  return env != nullptr && env[0] != '\0' ? std::string(env) : std::string("/dev/mars");
}

bool ModuleLink::Loaded() const {
  struct stat st;
  return stat(TriggerPath().c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

std::optional<std::string> ModuleLink::Trigger(TriggerCode code) const {
  if (!Loaded()) return std::nullopt;
  const std::string path = TriggerPath();
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    return "cannot open " + path + ": " + std::strerror(errno);
  }
  const std::string text = std::to_string(static_cast<int>(code)) + "\n";
  const ssize_t written = write(fd, text.data(), text.size());
  const int saved = errno;
  close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    return "cannot write " + path + ": " +
           (written < 0 ? std::strerror(saved) : "short write");
  }
  return std::nullopt;
}

std::string ModuleLink::NotLoadedMessage() const {
  return "the mars kernel module is not loaded (no " + TriggerPath() +
         "); load it with 'modprobe mars' and retry";
}

bool Poll(const std::function<bool()>& poll, const PollLimits& limits,
          const ModuleLink& module, TriggerCode code) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::seconds(limits.timeout_seconds < 0
                                              ? 0
                                              : limits.timeout_seconds);
  while (true) {
    if (poll()) return true;
    if (limits.timeout_seconds >= 0 && Clock::now() >= deadline) return false;
    // A failing trigger only delays the module's reaction; the next round
    // triggers again, and the timeout bounds the wait.
    (void)module.Trigger(code);
    auto pause = limits.interval;
    if (limits.timeout_seconds >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      if (left < pause) pause = left;
    }
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
}

}  // namespace mars::cli
