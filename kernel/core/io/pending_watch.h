// PendingWatch: makes a data device request that does not complete visible.
// Waits for block requests sleep in bounded rounds on a wait queue, which
// the kernel's hung-task detector never reports; a device (or a lost
// completion) that stalls would otherwise stall replay or writeback without
// a word. The waiter calls Check() between its rounds: once the request has
// been pending for warn_after_ns, one warning is logged; if it completes
// after all, the destructor says after how long.
#ifndef MARS_CORE_IO_PENDING_WATCH_H_
#define MARS_CORE_IO_PENDING_WATCH_H_

#include <stdint.h>

namespace mars {
namespace platform {

class PendingWatch {
 public:
  static constexpr uint64_t kDefaultWarnAfterNs = 30ull * 1000 * 1000 * 1000;

  // `what` (a static string, e.g. "log replay: data device write") names
  // the request, with its device `offset` and `size` in bytes; `resource`
  // (outliving this object; null when none) the resource it serves. Starts
  // timing. Context: any.
  PendingWatch(const char* resource, const char* what, uint64_t offset,
               uint64_t size, uint64_t warn_after_ns = kDefaultWarnAfterNs);
  // Logs the completion of a request it warned about. Context: may sleep.
  ~PendingWatch();
  PendingWatch(const PendingWatch&) = delete;
  PendingWatch& operator=(const PendingWatch&) = delete;

  // Logs the warning once the request is pending warn_after_ns; true from
  // then on. Context: may sleep.
  bool Check();

 private:
  const char* resource_;
  const char* what_;
  uint64_t offset_;
  uint64_t size_;
  uint64_t warn_after_ns_;
  uint64_t since_ns_;
  bool warned_ = false;
};

}  // namespace platform
}  // namespace mars

#endif  // MARS_CORE_IO_PENDING_WATCH_H_
