// The data devices of the attached resources, for block sync
// (engine/data_access.h).
#include "core/engine/data_access.h"

#include "core/engine/resource.h"

namespace mars {
namespace engine {

static_assert(tree::kMaxNameChars <= 255, "Item::size is one byte");

DataAccess::~DataAccess() { platform::Free(items_); }

Status DataAccess::Init(platform::Gfp gfp) {
  if (!MARS_CHECK(!initialised_)) {
    return Status(StatusCode::kInvalidArgument, "initialised twice");
  }
  Status status = lock_.Init(platform::LockClass::kDataAccess, gfp);
  if (status.ok())
    status = idle_wq_.Init(platform::LockClass::kDataAccess, gfp);
  if (!status.ok()) return status;
  items_ =
      static_cast<Item*>(platform::Allocate(sizeof(Item) * kCapacity, gfp));
  if (items_ == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
  for (size_t i = 0; i < kCapacity; ++i) {
    items_[i].size = 0;
    items_[i].resource = nullptr;
    items_[i].users = 0;
  }
  initialised_ = true;
  return Status::Ok();
}

DataAccess::Item* DataAccess::FindLocked(Slice name) {
  for (size_t i = 0; i < kCapacity; ++i) {
    Item& item = items_[i];
    if (item.size == name.size() && item.resource != nullptr &&
        __builtin_memcmp(item.name, name.data(), name.size()) == 0) {
      return &item;
    }
  }
  return nullptr;
}

Status DataAccess::Add(Slice name, Resource* resource) {
  if (name.empty() || name.size() > tree::kMaxNameChars) {
    return Status(StatusCode::kInvalidArgument, "resource name too long");
  }
  if (!MARS_CHECK(initialised_)) {
    return Status(StatusCode::kInvalidArgument, "not initialised");
  }
  platform::MutexGuard guard(lock_);
  if (FindLocked(name) != nullptr) {
    return Status(StatusCode::kUnavailable, "resource registered twice");
  }
  for (size_t i = 0; i < kCapacity; ++i) {
    Item& item = items_[i];
    // A slot being removed keeps its size until its users are gone.
    if (item.size != 0) continue;
    __builtin_memcpy(item.name, name.data(), name.size());
    item.size = static_cast<uint8_t>(name.size());
    item.resource = resource;
    item.users = 0;
    return Status::Ok();
  }
  return Status(StatusCode::kUnavailable, "too many attached resources");
}

void DataAccess::Remove(Resource* resource) {
  if (!initialised_) return;
  Item* item = nullptr;
  {
    platform::MutexGuard guard(lock_);
    for (size_t i = 0; i < kCapacity && item == nullptr; ++i) {
      if (items_[i].size != 0 && items_[i].resource == resource) {
        item = &items_[i];
      }
    }
    if (item == nullptr) return;
    item->resource = nullptr;  // no new Pin() finds it
  }
  struct Idle {
    DataAccess* self;
    Item* item;
  } idle{this, item};
  for (;;) {
    idle_wq_.WaitUntil(
        [](void* c) {
          Idle* i = static_cast<Idle*>(c);
          return __atomic_load_n(&i->item->users, __ATOMIC_ACQUIRE) == 0;
        },
        &idle, 1000ull * 1000 * 1000);
    platform::MutexGuard guard(lock_);
    if (item->users == 0) {
      item->size = 0;
      return;
    }
  }
}

DataAccess::Item* DataAccess::Pin(Slice name) {
  if (!initialised_) return nullptr;
  platform::MutexGuard guard(lock_);
  Item* item = FindLocked(name);
  if (item != nullptr) {
    __atomic_store_n(&item->users, item->users + 1, __ATOMIC_RELEASE);
  }
  return item;
}

void DataAccess::Unpin(Item* item) {
  {
    platform::MutexGuard guard(lock_);
    __atomic_store_n(&item->users, item->users - 1, __ATOMIC_RELEASE);
  }
  idle_wq_.WakeAll();
}

Status DataAccess::ReadAsSource(Slice name, uint64_t offset, void* buffer,
                                size_t size, LogPosition* bound) {
  Item* item = Pin(name);
  if (item == nullptr) {
    return Status(StatusCode::kNotFound, "resource not attached here");
  }
  Status status = item->resource->ReadAsSyncSource(offset, buffer, size, bound);
  Unpin(item);
  return status;
}

Status DataAccess::ReadAsTarget(Slice name, uint64_t offset, void* buffer,
                                size_t size) {
  Item* item = Pin(name);
  if (item == nullptr) {
    return Status(StatusCode::kNotFound, "resource not attached here");
  }
  Status status = item->resource->AccessAsSyncTarget(Resource::SyncOp::kRead,
                                                     offset, buffer, size);
  Unpin(item);
  return status;
}

Status DataAccess::WriteAsTarget(Slice name, uint64_t offset, const void* data,
                                 size_t size) {
  Item* item = Pin(name);
  if (item == nullptr) {
    return Status(StatusCode::kNotFound, "resource not attached here");
  }
  Status status = item->resource->AccessAsSyncTarget(
      Resource::SyncOp::kWrite, offset, const_cast<void*>(data), size);
  Unpin(item);
  return status;
}

Status DataAccess::FlushAsTarget(Slice name) {
  Item* item = Pin(name);
  if (item == nullptr) {
    return Status(StatusCode::kNotFound, "resource not attached here");
  }
  Status status = item->resource->AccessAsSyncTarget(Resource::SyncOp::kFlush,
                                                     0, nullptr, 0);
  Unpin(item);
  return status;
}

}  // namespace engine
}  // namespace mars
