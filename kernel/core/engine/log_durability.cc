// The durable ends of the logfiles being written (engine/log_durability.h).
#include "core/engine/log_durability.h"

namespace mars {
namespace engine {

static_assert(tree::kMaxPathBytes <= 255, "Item::size is one byte");

LogDurability::~LogDurability() { platform::Free(items_); }

Status LogDurability::Init(platform::Gfp gfp) {
  if (!MARS_CHECK(!initialised_)) {
    return Status(StatusCode::kInvalidArgument, "initialised twice");
  }
  Status status = lock_.Init(platform::LockClass::kDurability, gfp);
  if (status.ok()) status = copies_lock_.Init(platform::LockClass::kLocalCopies, gfp);
  if (!status.ok()) return status;
  items_ = static_cast<Item*>(platform::Allocate(sizeof(Item) * kCapacity, gfp));
  if (items_ == nullptr) return Status(StatusCode::kNoMemory, "out of memory");
  for (size_t i = 0; i < kCapacity; ++i) items_[i].size = 0;
  initialised_ = true;
  return Status::Ok();
}

LogDurability::Item* LogDurability::Find(Slice relpath) {
  for (size_t i = 0; i < kCapacity; ++i) {
    Item& item = items_[i];
    if (item.size == relpath.size() &&
        __builtin_memcmp(item.path, relpath.data(), relpath.size()) == 0) {
      return &item;
    }
  }
  return nullptr;
}

Status LogDurability::Open(Slice relpath) {
  if (relpath.empty() || relpath.size() > tree::kMaxPathBytes) {
    return Status(StatusCode::kInvalidArgument, "logfile path too long");
  }
  if (!MARS_CHECK(initialised_)) {
    return Status(StatusCode::kInvalidArgument, "not initialised");
  }
  platform::MutexGuard guard(lock_);
  Item* item = Find(relpath);
  if (item == nullptr) {
    for (size_t i = 0; i < kCapacity && item == nullptr; ++i) {
      if (items_[i].size == 0) item = &items_[i];
    }
    if (item == nullptr) {
      return Status(StatusCode::kUnavailable,
                    "too many logfiles open for writing");
    }
    __builtin_memcpy(item->path, relpath.data(), relpath.size());
    item->size = static_cast<uint8_t>(relpath.size());
  }
  item->durable_end = 0;
  return Status::Ok();
}

void LogDurability::Advance(Slice relpath, uint64_t durable_end) {
  if (!initialised_) return;
  platform::MutexGuard guard(lock_);
  Item* item = Find(relpath);
  if (item != nullptr && durable_end > item->durable_end) {
    item->durable_end = durable_end;
  }
}

void LogDurability::Close(Slice relpath) {
  if (!initialised_) return;
  platform::MutexGuard guard(lock_);
  Item* item = Find(relpath);
  if (item != nullptr) item->size = 0;
}

bool LogDurability::DurableEnd(Slice relpath, uint64_t* durable_end) {
  if (!initialised_) return false;
  platform::MutexGuard guard(lock_);
  Item* item = Find(relpath);
  if (item == nullptr) return false;
  *durable_end = item->durable_end;
  return true;
}

}  // namespace engine
}  // namespace mars
