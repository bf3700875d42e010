// DirtyIndex: the write buffer of one resource. Holds the newest in-memory
// version of every block written since it was last written back, picks the
// blocks writeback may write (only versions already durable in the logfile),
// and tracks per log record which blocks are still owed to the data device,
// which yields the replay position (design/architecture.md §3).
#ifndef MARS_CORE_ENGINE_DIRTY_INDEX_H_
#define MARS_CORE_ENGINE_DIRTY_INDEX_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/engine/log_position.h"

namespace mars {
namespace engine {

// Obligations: every block in memory that is not yet on the data device
// carries exactly one obligation, owned by the oldest record that wrote it
// since it was last written back. A record is retired once it owns no
// obligation and every older record is retired; ReplayPosition() is the begin
// of the oldest record not retired.
//
// Not thread-safe: the caller serialises every call with its own lock. No call
// runs in interrupt context. Memory is allocated with Gfp::kNoIo; a failed
// allocation leaves the index unchanged.
class DirtyIndex {
 public:
  static constexpr uint32_t kBlockBytes = 4096;
  struct Record;  // opaque tracker of one log record
  struct BatchItem {
    uint64_t block;
    const void* data;
  };

  // Starts empty; ReplayPosition() is `start` until records are added.
  explicit DirtyIndex(LogPosition start);
  // Frees every buffer and tracker. REQUIRES no batch in flight.
  ~DirtyIndex();
  DirtyIndex(const DirtyIndex&) = delete;
  DirtyIndex& operator=(const DirtyIndex&) = delete;

  // Registers the next log record. REQUIRES records come in log order:
  // begin <= end and begin >= the previous record's end (or `start`);
  // otherwise kInvalidArgument. kNoMemory: nothing changed. The tracker in
  // *record stays valid until the record is retired and a later record got
  // an Install (the newest record is never freed).
  Status AddRecord(LogPosition begin, LogPosition end, Record** record);

  // The last added record grew (more payload appended to it in the log):
  // its end moves to `end`. REQUIRES `record` is the last added record and
  // end >= its end (else kInvalidArgument, nothing changes). Installs of
  // the new part follow with the same tracker. Does not allocate.
  Status ExtendRecord(Record* record, LogPosition end);

  // Makes `buffer` (kBlockBytes from platform::AllocateIoBuffer; ownership
  // passes to the index on success) the newest version of `block`, written
  // by `record`. REQUIRES `record` is the last added record or one added
  // after the record of the previous Install (Installs follow log order).
  // The previous version's buffer is freed unless writeback is writing it
  // (then FinishBatch/AbortBatch frees it). kNoMemory: nothing changed and
  // the buffer is NOT taken.
  // A record counts only the Installs made so far: make all Installs of a
  // record before the replay position is next read (ideally under the same
  // lock hold as its AddRecord).
  Status Install(uint64_t block, void* buffer, Record* record);

  // The newest version of `block`, or nullptr when it is not in memory (the
  // data device holds the newest data). Valid until the next call.
  const void* Lookup(uint64_t block) const;

  // Picks up to `max_items` blocks that are dirty, not in flight, and whose
  // newest version's record ends at or before `durable` (positions in
  // earlier logfiles count as durable); oldest-dirtied first. Marks them in
  // flight and writes them to `out[0, count)` sorted by ascending block.
  // The data pointers stay valid and unchanged until FinishBatch/AbortBatch:
  // an Install of an in-flight block makes a new version instead.
  // Cost: O(count log count + dirty blocks skipped as not yet durable).
  size_t TakeBatch(LogPosition durable, size_t max_items, BatchItem* out);
  // The batch is on the data device and the device was flushed: retires the
  // obligations those writes carried, frees the buffers no longer needed and
  // drops blocks not written again meanwhile (those written again stay dirty,
  // at the tail of the oldest-dirtied order). `items`/`count` exactly as
  // TakeBatch returned them (any order of batches).
  void FinishBatch(const BatchItem* items, size_t count);
  // The write failed: the blocks become dirty again (not in flight, first in
  // the oldest-dirtied order) with their newest version; nothing is retired.
  void AbortBatch(const BatchItem* items, size_t count);

  // Where crash recovery must start: the begin of the oldest record that
  // still owns an obligation, or, when every record is retired, the end of
  // the last record added (or `start`).
  LogPosition ReplayPosition() const;

  uint64_t dirty_blocks() const { return block_count_; }
  // kBlockBytes per buffer held, old in-flight versions included: the
  // memory the write-buffer limit counts.
  uint64_t buffered_bytes() const { return buffer_count_ * kBlockBytes; }
  uint64_t in_flight_blocks() const { return in_flight_count_; }
  bool empty() const { return block_count_ == 0; }

  // Test hook: after `count` further successful allocations every allocation
  // of the index fails (as if memory were short). ~0 = never (the default).
  void FailAllocationsAfterForTesting(uint64_t count) {
    allocation_budget_ = count;
  }

 private:
  struct Entry;

  void* AllocateMemory(size_t size);
  Entry* Find(uint64_t block) const;
  Entry* FindInFlight(const BatchItem& item) const;
  Status EnsureTable();
  void InsertIntoTable(Entry* entry);
  void RemoveFromTable(Entry* entry);
  void MaybeGrowTable();
  void QueuePushBack(Entry* entry);
  void QueuePushFront(Entry* entry);
  void QueueRemove(Entry* entry);
  void FreeBuffer(void* buffer);
  void ReleaseFlight(Entry* entry);
  void TrimRecords();

  // The hash table: bucket_count_ (a power of two) chains.
  Entry** buckets_ = nullptr;
  uint32_t bucket_shift_ = 64;  // 64 - log2(bucket_count_)
  uint64_t bucket_count_ = 0;
  // Dirty blocks not in flight, by the time they became dirty.
  Entry* queue_head_ = nullptr;
  Entry* queue_tail_ = nullptr;
  // Records not yet freed, oldest first.
  Record* record_head_ = nullptr;
  Record* record_tail_ = nullptr;
  uint64_t next_record_sequence_ = 1;
  // Sequence of the record of the latest Install: older records get no
  // more Installs, so retired ones among them may be freed.
  uint64_t install_floor_ = 0;
  LogPosition last_end_;
  uint64_t block_count_ = 0;
  uint64_t buffer_count_ = 0;
  uint64_t in_flight_count_ = 0;
  uint64_t allocation_budget_ = ~uint64_t{0};
};

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_DIRTY_INDEX_H_
