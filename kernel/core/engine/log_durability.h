// LogDurability: how far each logfile this host is writing as primary is
// durable (synced), so that the peer server hands out only durable bytes of a
// growing logfile (docu/replication.md "Fetch"). A secondary must never
// receive a record that a crash of the primary could still tear off.
//
// The write path registers a logfile when it opens it, raises its durable
// end after every sync, and unregisters it when the logfile is finished (its
// version link written) or closed. The peer server asks DurableEnd() for a
// logfile of its own host: registered -> serve up to the durable end;
// unregistered -> serve only what its version link declares final.
//
// Thread-safe: a mutex (lock class kDurability) for table lookups, taken
// under the node's lock, and one (kLocalCopies) for the local copies
// (LockCopies); neither is held while taking any other lock.
#ifndef MARS_CORE_ENGINE_LOG_DURABILITY_H_
#define MARS_CORE_ENGINE_LOG_DURABILITY_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/platform.h"
#include "core/tree/names.h"

namespace mars {
namespace engine {

class LogDurability {
 public:
  // Logfiles open for writing at once (one per primary resource).
  static constexpr size_t kCapacity = 256;

  LogDurability() = default;
  ~LogDurability();
  LogDurability(const LogDurability&) = delete;
  LogDurability& operator=(const LogDurability&) = delete;

  // Allocates the table and the lock. kNoMemory. Context: may sleep.
  Status Init(platform::Gfp gfp);

  // Registers the logfile at tree path `relpath` ("resource-R/log-N-HOST")
  // with durable end 0 (already registered: its end is reset to 0).
  // kInvalidArgument for a path longer than tree::kMaxPathBytes,
  // kUnavailable when kCapacity logfiles are registered.
  Status Open(Slice relpath);
  // Raises the durable end of a registered logfile (never lowers it);
  // nothing when it is not registered. Context: may sleep (mutex).
  void Advance(Slice relpath, uint64_t durable_end);
  // Unregisters; nothing when it is not registered.
  void Close(Slice relpath);
  // True with *durable_end when `relpath` is registered.
  bool DurableEnd(Slice relpath, uint64_t* durable_end);

  // Serialises changes to the local copies of fetched logfiles. The fetch
  // (node_fetch.cc) holds it from reading a copy's size until its append is
  // done, and for the cut-back after a failed fdatasync of the copy, which
  // reads the size again and only shortens the copy; the replayer holds it
  // while it cuts a damaged tail. So an append never lands after a cut it
  // did not see (a gap), and a cut-back never undoes a cut (a truncate that
  // extends). The fetch's fdatasync runs without it: a cut never waits for
  // a sync. No other mars lock is taken while it is held. Context: may
  // sleep.
  void LockCopies() { copies_lock_.Lock(); }
  void UnlockCopies() { copies_lock_.Unlock(); }

 private:
  struct Item {
    uint8_t size;  // 0: free slot
    char path[tree::kMaxPathBytes];
    uint64_t durable_end;
  };
  Item* Find(Slice relpath);

  platform::Mutex lock_;
  platform::Mutex copies_lock_;
  Item* items_ = nullptr;  // kCapacity, owned
  bool initialised_ = false;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_LOG_DURABILITY_H_
