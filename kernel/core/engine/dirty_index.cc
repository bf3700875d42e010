// DirtyIndex: an intrusive chained hash table of block entries, an intrusive
// queue of dirty blocks not in flight (oldest dirtied first) and a FIFO of
// record trackers with their obligation counts. See dirty_index.h.
#include "core/engine/dirty_index.h"

#include "core/base/memory.h"
#include "core/platform.h"
#include "core/platform_io.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kInitialBuckets = 256;
constexpr uint32_t kInitialShift = 64 - 8;
// 8 MiB of chain heads; beyond 2^20 blocks in memory chains grow longer.
constexpr uint64_t kMaxBuckets = uint64_t{1} << 20;
constexpr uint64_t kHashMultiplier = 0x9E3779B97F4A7C15ull;  // 2^64 / phi

// Sorts items[0, count) by ascending block: an in-place heap sort.
void SiftDown(DirtyIndex::BatchItem* items, size_t root, size_t count) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= count) return;
    if (child + 1 < count && items[child].block < items[child + 1].block) {
      ++child;
    }
    if (!(items[root].block < items[child].block)) return;
    DirtyIndex::BatchItem tmp = items[root];
    items[root] = items[child];
    items[child] = tmp;
    root = child;
  }
}

void HeapSort(DirtyIndex::BatchItem* items, size_t count) {
  for (size_t i = count / 2; i > 0; --i) SiftDown(items, i - 1, count);
  for (size_t end = count; end > 1; --end) {
    DirtyIndex::BatchItem tmp = items[0];
    items[0] = items[end - 1];
    items[end - 1] = tmp;
    SiftDown(items, 0, end - 1);
  }
}

}  // namespace

struct DirtyIndex::Record {
  LogPosition begin;
  LogPosition end;
  uint64_t sequence = 0;     // 1, 2, ... in the order of AddRecord
  uint64_t obligations = 0;  // dirty blocks this record owes
  Record* next = nullptr;    // next newer record
};

// One block with a version in memory. States:
//   dirty:     flight_buffer == nullptr, owner != nullptr, queued.
//   in flight: flight_buffer != nullptr, not queued; owner == nullptr until
//              the block is written again during the flight (newest then
//              differs from flight_buffer and owner owns the new obligation).
struct DirtyIndex::Entry {
  uint64_t block = 0;
  Entry* chain_next = nullptr;
  Entry* queue_prev = nullptr;
  Entry* queue_next = nullptr;
  void* newest = nullptr;           // the newest version
  Record* newest_record = nullptr;  // the record that wrote it
  Record* owner = nullptr;          // obligation not carried by a flight
  void* flight_buffer = nullptr;    // version being written back
  Record* flight_owner = nullptr;   // obligation that write carries
};

DirtyIndex::DirtyIndex(LogPosition start) : last_end_(start) {}

DirtyIndex::~DirtyIndex() {
  for (uint64_t i = 0; i < bucket_count_; ++i) {
    Entry* entry = buckets_[i];
    while (entry != nullptr) {
      Entry* next = entry->chain_next;
      if (entry->flight_buffer != nullptr &&
          entry->flight_buffer != entry->newest) {
        platform::FreeIoBuffer(entry->flight_buffer);
      }
      platform::FreeIoBuffer(entry->newest);
      platform::Free(entry);
      entry = next;
    }
  }
  platform::Free(buckets_);
  while (record_head_ != nullptr) {
    Record* next = record_head_->next;
    platform::Free(record_head_);
    record_head_ = next;
  }
}

void* DirtyIndex::AllocateMemory(size_t size) {
  if (allocation_budget_ == 0) return nullptr;
  void* memory = platform::Allocate(size, platform::Gfp::kNoIo);
  if (memory != nullptr && allocation_budget_ != ~uint64_t{0}) {
    --allocation_budget_;
  }
  return memory;
}

Status DirtyIndex::AddRecord(LogPosition begin, LogPosition end,
                             Record** record) {
  if (!(begin <= end) || begin < last_end_) {
    return Status(StatusCode::kInvalidArgument,
                  "log record out of order for the write buffer");
  }
  void* memory = AllocateMemory(sizeof(Record));
  if (memory == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for a record tracker");
  }
  Record* added = new (memory, PlacementTag{}) Record;
  added->begin = begin;
  added->end = end;
  added->sequence = next_record_sequence_++;
  if (record_tail_ != nullptr) {
    record_tail_->next = added;
  } else {
    record_head_ = added;
  }
  record_tail_ = added;
  last_end_ = end;
  *record = added;
  return Status::Ok();
}

DirtyIndex::Entry* DirtyIndex::Find(uint64_t block) const {
  if (buckets_ == nullptr) return nullptr;
  Entry* entry = buckets_[(block * kHashMultiplier) >> bucket_shift_];
  while (entry != nullptr && entry->block != block) entry = entry->chain_next;
  return entry;
}

Status DirtyIndex::EnsureTable() {
  if (buckets_ != nullptr) return Status::Ok();
  void* memory = AllocateMemory(kInitialBuckets * sizeof(Entry*));
  if (memory == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for the write buffer");
  }
  __builtin_memset(memory, 0, kInitialBuckets * sizeof(Entry*));
  buckets_ = static_cast<Entry**>(memory);
  bucket_count_ = kInitialBuckets;
  bucket_shift_ = kInitialShift;
  return Status::Ok();
}

void DirtyIndex::InsertIntoTable(Entry* entry) {
  Entry** head = &buckets_[(entry->block * kHashMultiplier) >> bucket_shift_];
  entry->chain_next = *head;
  *head = entry;
}

void DirtyIndex::RemoveFromTable(Entry* entry) {
  Entry** link = &buckets_[(entry->block * kHashMultiplier) >> bucket_shift_];
  while (*link != entry) link = &(*link)->chain_next;
  *link = entry->chain_next;
}

// Doubles the table when the load factor exceeds 1. When the allocation
// fails the table stays as it is (longer chains, still correct).
void DirtyIndex::MaybeGrowTable() {
  if (block_count_ <= bucket_count_ || bucket_count_ >= kMaxBuckets) return;
  uint64_t new_count = bucket_count_ * 2;
  void* memory = AllocateMemory(new_count * sizeof(Entry*));
  if (memory == nullptr) return;
  __builtin_memset(memory, 0, new_count * sizeof(Entry*));
  Entry** old_buckets = buckets_;
  uint64_t old_count = bucket_count_;
  buckets_ = static_cast<Entry**>(memory);
  bucket_count_ = new_count;
  bucket_shift_ -= 1;
  for (uint64_t i = 0; i < old_count; ++i) {
    Entry* entry = old_buckets[i];
    while (entry != nullptr) {
      Entry* next = entry->chain_next;
      InsertIntoTable(entry);
      entry = next;
    }
  }
  platform::Free(old_buckets);
}

void DirtyIndex::QueuePushBack(Entry* entry) {
  entry->queue_next = nullptr;
  entry->queue_prev = queue_tail_;
  if (queue_tail_ != nullptr) {
    queue_tail_->queue_next = entry;
  } else {
    queue_head_ = entry;
  }
  queue_tail_ = entry;
}

void DirtyIndex::QueuePushFront(Entry* entry) {
  entry->queue_prev = nullptr;
  entry->queue_next = queue_head_;
  if (queue_head_ != nullptr) {
    queue_head_->queue_prev = entry;
  } else {
    queue_tail_ = entry;
  }
  queue_head_ = entry;
}

void DirtyIndex::QueueRemove(Entry* entry) {
  if (entry->queue_prev != nullptr) {
    entry->queue_prev->queue_next = entry->queue_next;
  } else {
    queue_head_ = entry->queue_next;
  }
  if (entry->queue_next != nullptr) {
    entry->queue_next->queue_prev = entry->queue_prev;
  } else {
    queue_tail_ = entry->queue_prev;
  }
  entry->queue_prev = nullptr;
  entry->queue_next = nullptr;
}

Status DirtyIndex::ExtendRecord(Record* record, LogPosition end) {
  if (record == nullptr || record != record_tail_ || !(record->end <= end)) {
    return Status(StatusCode::kInvalidArgument,
                  "only the last log record can grow in the write buffer");
  }
  record->end = end;
  last_end_ = end;
  return Status::Ok();
}

void DirtyIndex::FreeBuffer(void* buffer) {
  platform::FreeIoBuffer(buffer);
  --buffer_count_;
}

Status DirtyIndex::Install(uint64_t block, void* buffer, Record* record) {
  if (!MARS_CHECK(buffer != nullptr && record != nullptr &&
                  record->sequence >= install_floor_)) {
    return Status(StatusCode::kInternal, "write buffer install out of order");
  }
  Entry* entry = Find(block);
  if (entry == nullptr) {
    void* memory = AllocateMemory(sizeof(Entry));
    if (memory == nullptr) {
      return Status(StatusCode::kNoMemory, "no memory for a buffered block");
    }
    Status status = EnsureTable();
    if (!status.ok()) {
      platform::Free(memory);
      return status;
    }
    entry = new (memory, PlacementTag{}) Entry;
    entry->block = block;
    entry->newest = buffer;
    entry->newest_record = record;
    entry->owner = record;
    ++record->obligations;
    InsertIntoTable(entry);
    QueuePushBack(entry);
    ++block_count_;
    ++buffer_count_;
    MaybeGrowTable();
  } else {
    if (!MARS_CHECK(buffer != entry->newest &&
                    buffer != entry->flight_buffer)) {
      return Status(StatusCode::kInternal, "buffer installed twice");
    }
    if (entry->newest != entry->flight_buffer) FreeBuffer(entry->newest);
    entry->newest = buffer;
    entry->newest_record = record;
    ++buffer_count_;
    if (entry->owner == nullptr) {
      // In flight and written for the first time since: a new obligation,
      // while the flight carries the old one.
      entry->owner = record;
      ++record->obligations;
    }
  }
  if (record->sequence > install_floor_) {
    install_floor_ = record->sequence;
    TrimRecords();
  }
  return Status::Ok();
}

const void* DirtyIndex::Lookup(uint64_t block) const {
  const Entry* entry = Find(block);
  return entry != nullptr ? entry->newest : nullptr;
}

size_t DirtyIndex::TakeBatch(LogPosition durable, size_t max_items,
                             BatchItem* out) {
  size_t count = 0;
  Entry* entry = queue_head_;
  while (entry != nullptr && count < max_items) {
    Entry* next = entry->queue_next;
    if (entry->newest_record->end <= durable) {
      QueueRemove(entry);
      entry->flight_buffer = entry->newest;
      entry->flight_owner = entry->owner;
      entry->owner = nullptr;
      ++in_flight_count_;
      out[count].block = entry->block;
      out[count].data = entry->newest;
      ++count;
    }
    entry = next;
  }
  HeapSort(out, count);
  return count;
}

DirtyIndex::Entry* DirtyIndex::FindInFlight(const BatchItem& item) const {
  Entry* entry = Find(item.block);
  if (!MARS_CHECK(entry != nullptr && entry->flight_buffer != nullptr &&
                  entry->flight_buffer == item.data)) {
    return nullptr;
  }
  return entry;
}

// Ends the flight of `entry`: frees the flown version unless it is still
// the newest.
void DirtyIndex::ReleaseFlight(Entry* entry) {
  if (entry->flight_buffer != entry->newest) FreeBuffer(entry->flight_buffer);
  entry->flight_buffer = nullptr;
  entry->flight_owner = nullptr;
  --in_flight_count_;
}

void DirtyIndex::FinishBatch(const BatchItem* items, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    Entry* entry = FindInFlight(items[i]);
    if (entry == nullptr) continue;
    --entry->flight_owner->obligations;
    ReleaseFlight(entry);
    if (entry->owner != nullptr) {
      QueuePushBack(entry);  // written again during the flight
      continue;
    }
    RemoveFromTable(entry);
    FreeBuffer(entry->newest);
    platform::Free(entry);
    --block_count_;
  }
  TrimRecords();
}

void DirtyIndex::AbortBatch(const BatchItem* items, size_t count) {
  // Pushed to the front in reverse, so the batch keeps its order there.
  for (size_t i = count; i > 0; --i) {
    Entry* entry = FindInFlight(items[i - 1]);
    if (entry == nullptr) continue;
    // The flight's obligation is the older one; a newer one from a write
    // during the flight merges into it.
    if (entry->owner != nullptr) --entry->owner->obligations;
    entry->owner = entry->flight_owner;
    ReleaseFlight(entry);
    QueuePushFront(entry);
  }
  TrimRecords();
}

// Frees retired records that can get no more Installs.
void DirtyIndex::TrimRecords() {
  while (record_head_ != nullptr && record_head_->obligations == 0 &&
         record_head_->sequence < install_floor_) {
    Record* next = record_head_->next;
    platform::Free(record_head_);
    record_head_ = next;
  }
  if (record_head_ == nullptr) record_tail_ = nullptr;
}

LogPosition DirtyIndex::ReplayPosition() const {
  // After TrimRecords() only records from the latest Install's on may be
  // retired and still listed: few.
  for (const Record* r = record_head_; r != nullptr; r = r->next) {
    if (r->obligations > 0) return r->begin;
  }
  return last_end_;
}

}  // namespace engine
}  // namespace mars
