// DataAccess: the data devices of the resources attached on this host, for
// the block sync of the peer server (docu/replication.md §6 "Sync").
//
// A Resource adds itself when it attached and removes itself before it
// closes its data device; Remove() waits until no call through the registry
// is inside the resource any more, so the node never touches a closed
// device. What a call may do is decided by the resource at the time of the
// call (Resource::ReadAsSyncSource and friends): a sync source must be the
// actual primary, a sync target an attached secondary that does not replay.
//
// Thread-safe: one mutex (lock class kDataAccess) for the table, never held
// while calling into a resource; callers hold no mars lock.
#ifndef MARS_CORE_ENGINE_DATA_ACCESS_H_
#define MARS_CORE_ENGINE_DATA_ACCESS_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/engine/log_position.h"
#include "core/platform.h"
#include "core/tree/names.h"

namespace mars {
namespace engine {

class Resource;

class DataAccess {
 public:
  // Resources attached at once.
  static constexpr size_t kCapacity = 256;

  DataAccess() = default;
  ~DataAccess();
  DataAccess(const DataAccess&) = delete;
  DataAccess& operator=(const DataAccess&) = delete;

  // Allocates the table, the lock and the wait queue. Context: may sleep.
  Status Init(platform::Gfp gfp);

  // Registers `resource` under its name. kUnavailable when full or the
  // name is taken; kInvalidArgument for a name that does not fit.
  Status Add(Slice name, Resource* resource);
  // Unregisters `resource` and waits until no call uses it. Nothing when it
  // is not registered. Context: may sleep.
  void Remove(Resource* resource);

  // Reads device bytes [offset, offset + size) of resource `name` as the
  // sync source; *bound: the data read reflects no log record at or after
  // it (this host's logfile bound->logfile). `buffer` comes from
  // platform::AllocateIoBuffer. kNotFound: not attached here;
  // kUnavailable: not the actual primary; else the device's error.
  Status ReadAsSource(Slice name, uint64_t offset, void* buffer, size_t size,
                      LogPosition* bound);
  // The sync target's side: read, write (both with io buffers) and flush
  // its data device. kNotFound: not attached here; kUnavailable: primary
  // or replaying.
  Status ReadAsTarget(Slice name, uint64_t offset, void* buffer, size_t size);
  Status WriteAsTarget(Slice name, uint64_t offset, const void* data,
                       size_t size);
  Status FlushAsTarget(Slice name);

 private:
  struct Item {
    uint8_t size;  // 0: free slot
    char name[tree::kMaxNameChars];
    Resource* resource;
    uint32_t users;  // calls inside the resource now
  };
  // REQUIRES lock_ held.
  Item* FindLocked(Slice name);
  // Finds and pins the resource of `name` (users + 1), or null.
  Item* Pin(Slice name);
  void Unpin(Item* item);

  platform::Mutex lock_;
  platform::WaitQueue idle_wq_;  // Remove() waits for users == 0
  Item* items_ = nullptr;        // kCapacity, owned
  bool initialised_ = false;
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_DATA_ACCESS_H_
