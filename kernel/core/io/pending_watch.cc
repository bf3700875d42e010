// Warnings about data device requests that stay pending (io/pending_watch.h).
#include "core/io/pending_watch.h"

#include "core/platform.h"
#include "core/platform_io.h"

namespace mars {
namespace platform {

namespace {

constexpr uint64_t kNsPerSecond = 1000ull * 1000 * 1000;

}  // namespace

PendingWatch::PendingWatch(const char* resource, const char* what,
                           uint64_t offset, uint64_t size,
                           uint64_t warn_after_ns)
    : resource_(resource),
      what_(what),
      offset_(offset),
      size_(size),
      warn_after_ns_(warn_after_ns),
      since_ns_(MonotonicNs()) {}

PendingWatch::~PendingWatch() {
  if (!warned_) return;
  Log(LogLevel::kNotice,
      "%s%s%s%s of %llu bytes at offset %llu completed after %llu s",
      resource_ != nullptr ? "resource " : "",
      resource_ != nullptr ? resource_ : "", resource_ != nullptr ? ": " : "",
      what_, static_cast<unsigned long long>(size_),
      static_cast<unsigned long long>(offset_),
      static_cast<unsigned long long>((MonotonicNs() - since_ns_) /
                                      kNsPerSecond));
}

bool PendingWatch::Check() {
  if (warned_) return true;
  const uint64_t pending = MonotonicNs() - since_ns_;
  if (pending < warn_after_ns_) return false;
  warned_ = true;
  Log(LogLevel::kWarning,
      "%s%s%s%s of %llu bytes at offset %llu has been pending for %llu s; "
      "the device has not completed it, still waiting",
      resource_ != nullptr ? "resource " : "",
      resource_ != nullptr ? resource_ : "", resource_ != nullptr ? ": " : "",
      what_, static_cast<unsigned long long>(size_),
      static_cast<unsigned long long>(offset_),
      static_cast<unsigned long long>(pending / kNsPerSecond));
  return true;
}

}  // namespace platform
}  // namespace mars
