// Tests of DirtyIndex: obligations and the replay position (a newer version
// not yet durable, writes during a flight, aborted flights, records without
// obligations, several logfiles), batch selection and order, accounting,
// allocation failures, and 100k random operations against an independent
// std::map model.
#include "core/engine/dirty_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "core/platform_io.h"

namespace mars {
namespace engine {
namespace {

using Item = DirtyIndex::BatchItem;
using Record = DirtyIndex::Record;
constexpr uint64_t kBlock = DirtyIndex::kBlockBytes;

// A 4096-byte buffer whose every 8 bytes hold `tag`.
void* Buffer(uint64_t tag) {
  void* buffer = platform::AllocateIoBuffer(kBlock, platform::Gfp::kKernel);
  EXPECT_NE(buffer, nullptr);
  for (uint64_t i = 0; i < kBlock; i += 8) {
    std::memcpy(static_cast<char*>(buffer) + i, &tag, 8);
  }
  return buffer;
}

// The tag of a buffer from Buffer(), or ~0 for nullptr.
uint64_t Tag(const void* buffer) {
  if (buffer == nullptr) return ~uint64_t{0};
  uint64_t tag;
  std::memcpy(&tag, static_cast<const char*>(buffer) + kBlock - 8, 8);
  return tag;
}

LogPosition Pos(uint64_t logfile, uint64_t offset) {
  return LogPosition{logfile, offset};
}

// Adds a record [begin, begin + size) in logfile 1.
Record* Add(DirtyIndex* index, uint64_t begin, uint64_t size) {
  Record* record = nullptr;
  EXPECT_TRUE(
      index->AddRecord(Pos(1, begin), Pos(1, begin + size), &record).ok());
  return record;
}

void Write(DirtyIndex* index, uint64_t block, uint64_t tag, Record* record) {
  ASSERT_TRUE(index->Install(block, Buffer(tag), record).ok());
}

TEST(DirtyIndexTest, LogPositionOrder) {
  EXPECT_TRUE(Pos(1, 5) == Pos(1, 5));
  EXPECT_TRUE(Pos(1, 5) != Pos(2, 5));
  EXPECT_TRUE(Pos(1, 900) < Pos(2, 0));
  EXPECT_TRUE(Pos(2, 0) < Pos(2, 1));
  EXPECT_FALSE(Pos(2, 1) < Pos(2, 1));
  EXPECT_TRUE(Pos(2, 1) <= Pos(2, 1));
  EXPECT_FALSE(Pos(3, 0) <= Pos(2, 7));
}

TEST(DirtyIndexTest, StartsEmpty) {
  DirtyIndex index(Pos(4, 4096));
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.ReplayPosition(), Pos(4, 4096));
  EXPECT_EQ(index.Lookup(0), nullptr);
  Item items[4];
  EXPECT_EQ(index.TakeBatch(Pos(9, 0), 4, items), 0u);
  EXPECT_EQ(index.buffered_bytes(), 0u);
}

TEST(DirtyIndexTest, NewerVersionNotDurableHoldsBlockBack) {
  DirtyIndex index(Pos(1, 0));
  Record* a = Add(&index, 0, 100);
  Write(&index, 5, 0xA, a);
  Record* b = Add(&index, 100, 100);
  Write(&index, 5, 0xB, b);
  EXPECT_EQ(Tag(index.Lookup(5)), 0xBu);
  EXPECT_EQ(index.buffered_bytes(), kBlock);  // A's version was freed

  Item items[4];
  EXPECT_EQ(index.TakeBatch(Pos(1, 100), 4, items), 0u);  // only A durable
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));
  EXPECT_EQ(index.in_flight_blocks(), 0u);

  ASSERT_EQ(index.TakeBatch(Pos(1, 200), 4, items), 1u);
  EXPECT_EQ(items[0].block, 5u);
  EXPECT_EQ(Tag(items[0].data), 0xBu);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));  // not yet on the device
  index.FinishBatch(items, 1);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 200));
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.Lookup(5), nullptr);
  EXPECT_EQ(index.buffered_bytes(), 0u);
}

TEST(DirtyIndexTest, WriteDuringFlightStartsNewObligation) {
  DirtyIndex index(Pos(1, 0));
  Record* a = Add(&index, 0, 10);
  Write(&index, 7, 0xA, a);
  Write(&index, 8, 0xA8, a);
  Item items[4];
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 4, items), 2u);
  const void* flying = items[0].data;

  Record* b = Add(&index, 10, 10);
  Write(&index, 7, 0xB, b);
  EXPECT_EQ(Tag(index.Lookup(7)), 0xBu);  // newest, not the flying one
  EXPECT_EQ(Tag(flying), 0xAu);           // the flight's data is untouched
  EXPECT_EQ(index.buffered_bytes(), 3 * kBlock);
  Record* c = Add(&index, 20, 10);
  Write(&index, 7, 0xC, c);  // frees B's version, not the flying one
  EXPECT_EQ(index.buffered_bytes(), 3 * kBlock);
  Item more[4];
  EXPECT_EQ(index.TakeBatch(Pos(1, 30), 4, more), 0u);  // 7 is in flight

  index.FinishBatch(items, 2);
  // A is retired; block 7 stays dirty, owned by B (the first write during
  // the flight), with C's data.
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 10));
  EXPECT_EQ(index.dirty_blocks(), 1u);
  EXPECT_EQ(index.in_flight_blocks(), 0u);
  EXPECT_EQ(index.buffered_bytes(), kBlock);
  EXPECT_EQ(Tag(index.Lookup(7)), 0xCu);
  EXPECT_EQ(index.Lookup(8), nullptr);

  ASSERT_EQ(index.TakeBatch(Pos(1, 30), 4, more), 1u);
  EXPECT_EQ(Tag(more[0].data), 0xCu);
  index.FinishBatch(more, 1);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 30));
  EXPECT_TRUE(index.empty());
}

TEST(DirtyIndexTest, AbortBatchKeepsObligations) {
  DirtyIndex index(Pos(1, 0));
  Record* a = Add(&index, 0, 10);
  Write(&index, 1, 0xA1, a);
  Write(&index, 2, 0xA2, a);
  Item items[4];
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 4, items), 2u);
  Record* b = Add(&index, 10, 10);
  Write(&index, 2, 0xB2, b);  // during the flight
  Write(&index, 3, 0xB3, b);  // dirtied after 1 and 2
  EXPECT_EQ(index.buffered_bytes(), 4 * kBlock);

  index.AbortBatch(items, 2);
  EXPECT_EQ(index.in_flight_blocks(), 0u);
  EXPECT_EQ(index.dirty_blocks(), 3u);
  EXPECT_EQ(index.buffered_bytes(), 3 * kBlock);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));
  EXPECT_EQ(Tag(index.Lookup(2)), 0xB2u);
  // The aborted blocks are the oldest dirty ones again.
  ASSERT_EQ(index.TakeBatch(Pos(1, 20), 1, items), 1u);
  EXPECT_EQ(items[0].block, 1u);
  index.AbortBatch(items, 1);

  // Block 2's obligation is A's again (B's merged into it): writing back
  // only block 1 retires nothing, writing both retires A and B.
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 4, items), 1u);
  EXPECT_EQ(items[0].block, 1u);
  index.FinishBatch(items, 1);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));
  ASSERT_EQ(index.TakeBatch(Pos(1, 20), 4, items), 2u);
  EXPECT_EQ(Tag(items[0].data), 0xB2u);
  EXPECT_EQ(Tag(items[1].data), 0xB3u);
  index.FinishBatch(items, 2);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 20));
  EXPECT_TRUE(index.empty());
}

TEST(DirtyIndexTest, RecordsAcrossLogfiles) {
  DirtyIndex index(Pos(3, 8192));
  Record* a = nullptr;
  Record* b = nullptr;
  Record* c = nullptr;
  ASSERT_TRUE(index.AddRecord(Pos(3, 8192), Pos(3, 12288), &a).ok());
  Write(&index, 10, 1, a);
  ASSERT_TRUE(index.AddRecord(Pos(4, 0), Pos(4, 4096), &b).ok());
  Write(&index, 11, 2, b);
  ASSERT_TRUE(index.AddRecord(Pos(4, 4096), Pos(4, 8192), &c).ok());
  Write(&index, 12, 3, c);
  EXPECT_EQ(index.ReplayPosition(), Pos(3, 8192));

  Item items[4];
  // Durable up to the start of logfile 4: only A's block.
  ASSERT_EQ(index.TakeBatch(Pos(4, 0), 4, items), 1u);
  EXPECT_EQ(items[0].block, 10u);
  index.FinishBatch(items, 1);
  EXPECT_EQ(index.ReplayPosition(), Pos(4, 0));
  ASSERT_EQ(index.TakeBatch(Pos(4, 8192), 4, items), 2u);
  index.FinishBatch(items, 2);
  EXPECT_EQ(index.ReplayPosition(), Pos(4, 8192));

  Record* d = nullptr;
  EXPECT_EQ(index.AddRecord(Pos(3, 99999), Pos(3, 100000), &d).code(),
            StatusCode::kInvalidArgument);  // older logfile
  EXPECT_EQ(index.AddRecord(Pos(4, 100), Pos(4, 200), &d).code(),
            StatusCode::kInvalidArgument);  // overlaps the last record
  EXPECT_EQ(index.AddRecord(Pos(5, 200), Pos(5, 100), &d).code(),
            StatusCode::kInvalidArgument);  // ends before it begins
  EXPECT_EQ(index.ReplayPosition(), Pos(4, 8192));
}

TEST(DirtyIndexTest, RecordsWithoutObligations) {
  DirtyIndex index(Pos(1, 0));
  Record* a = Add(&index, 0, 10);
  Write(&index, 1, 0xA, a);
  Record* b = Add(&index, 10, 10);
  Write(&index, 1, 0xB, b);  // block 1 already dirty: B owns nothing
  Record* c = Add(&index, 20, 10);
  Write(&index, 2, 0xC, c);
  Record* d = Add(&index, 30, 10);
  Write(&index, 2, 0xD, d);  // D owns nothing
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));

  // Durable up to C: block 2's newest (D) is not, block 1's (B) is.
  Item items[4];
  ASSERT_EQ(index.TakeBatch(Pos(1, 30), 4, items), 1u);
  EXPECT_EQ(items[0].block, 1u);
  index.FinishBatch(items, 1);
  // A retired, B owns nothing: C (block 2) is the oldest owner.
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 20));
  ASSERT_EQ(index.TakeBatch(Pos(1, 40), 4, items), 1u);
  index.FinishBatch(items, 1);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 40));  // D owns nothing either

  // A record with no block at all, after everything is retired.
  Add(&index, 40, 10);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 50));
}

// The last record grows (a contiguous write joined it in the log): its
// blocks wait for the new end to be durable, the replay position moves with
// it once all is written back, and only the last record may grow.
TEST(DirtyIndexTest, LastRecordGrows) {
  DirtyIndex index(Pos(1, 0));
  Record* a = Add(&index, 0, 100);
  Write(&index, 1, 0xA, a);
  Record* b = Add(&index, 100, 100);
  Write(&index, 2, 0xB, b);
  EXPECT_EQ(index.ExtendRecord(a, Pos(1, 150)).code(),
            StatusCode::kInvalidArgument);  // not the last one
  EXPECT_EQ(index.ExtendRecord(b, Pos(1, 150)).code(),
            StatusCode::kInvalidArgument);  // shrinking
  ASSERT_TRUE(index.ExtendRecord(b, Pos(1, 300)).ok());
  Write(&index, 3, 0xB3, b);
  Write(&index, 1, 0xB1, b);  // block 1: A keeps the obligation

  // Durable up to B's old end: B's blocks are not durable now.
  Item items[4];
  ASSERT_EQ(index.TakeBatch(Pos(1, 200), 4, items), 0u);
  ASSERT_EQ(index.TakeBatch(Pos(1, 300), 4, items), 3u);
  EXPECT_EQ(Tag(items[0].data), 0xB1u);
  index.FinishBatch(items, 3);
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 300));
  // A record added after it starts at or after its new end.
  Record* c = nullptr;
  EXPECT_EQ(index.AddRecord(Pos(1, 250), Pos(1, 350), &c).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(index.AddRecord(Pos(1, 300), Pos(1, 350), &c).ok());
}

TEST(DirtyIndexTest, OldestDirtiedFirstAndSorted) {
  DirtyIndex index(Pos(1, 0));
  Record* r = Add(&index, 0, 10);
  const uint64_t order[] = {50, 3, 40, 7, 90, 1};
  for (uint64_t block : order) Write(&index, block, block, r);
  Item items[8];
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 3, items), 3u);  // 50, 3, 40
  EXPECT_EQ(items[0].block, 3u);
  EXPECT_EQ(items[1].block, 40u);
  EXPECT_EQ(items[2].block, 50u);
  Item rest[8];
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 2, rest), 2u);  // never 50 again
  EXPECT_EQ(rest[0].block, 7u);
  EXPECT_EQ(rest[1].block, 90u);

  // 3 is written during its flight: after the finish it queues behind 1.
  Record* s = Add(&index, 10, 10);
  Write(&index, 3, 33, s);
  index.FinishBatch(items, 3);
  index.FinishBatch(rest, 2);
  ASSERT_EQ(index.TakeBatch(Pos(1, 20), 1, items), 1u);
  EXPECT_EQ(items[0].block, 1u);
  index.FinishBatch(items, 1);
  ASSERT_EQ(index.TakeBatch(Pos(1, 20), 8, items), 1u);
  EXPECT_EQ(items[0].block, 3u);
  index.FinishBatch(items, 1);
  EXPECT_TRUE(index.empty());
}

TEST(DirtyIndexTest, AccountingAndManyBlocks) {
  DirtyIndex index(Pos(1, 0));
  Record* r = Add(&index, 0, 10);
  constexpr uint64_t kCount = 20000;
  for (uint64_t i = 0; i < kCount; ++i) Write(&index, i * 977, i, r);
  EXPECT_EQ(index.dirty_blocks(), kCount);
  EXPECT_EQ(index.buffered_bytes(), kCount * kBlock);
  for (uint64_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(Tag(index.Lookup(i * 977)), i);
  }
  EXPECT_EQ(index.Lookup(1), nullptr);

  std::vector<Item> items(kCount);
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 5000, items.data()), 5000u);
  EXPECT_EQ(index.in_flight_blocks(), 5000u);
  Record* s = Add(&index, 10, 10);
  for (size_t i = 0; i < 100; ++i) Write(&index, items[i].block, 7, s);
  EXPECT_EQ(index.buffered_bytes(), (kCount + 100) * kBlock);
  index.FinishBatch(items.data(), 5000);
  EXPECT_EQ(index.in_flight_blocks(), 0u);
  EXPECT_EQ(index.dirty_blocks(), kCount - 4900);
  EXPECT_EQ(index.buffered_bytes(), (kCount - 4900) * kBlock);
  // Leave the rest for the destructor (ASan checks that it frees them).
}

TEST(DirtyIndexTest, AllocationFailureChangesNothing) {
  DirtyIndex index(Pos(1, 0));
  Record* r = nullptr;
  index.FailAllocationsAfterForTesting(0);
  EXPECT_EQ(index.AddRecord(Pos(1, 0), Pos(1, 10), &r).code(),
            StatusCode::kNoMemory);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));

  index.FailAllocationsAfterForTesting(1);  // the record, not the entry
  ASSERT_TRUE(index.AddRecord(Pos(1, 0), Pos(1, 10), &r).ok());
  void* buffer = Buffer(1);
  EXPECT_EQ(index.Install(5, buffer, r).code(), StatusCode::kNoMemory);
  EXPECT_EQ(index.Lookup(5), nullptr);
  EXPECT_EQ(index.buffered_bytes(), 0u);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 10));  // r owns nothing

  index.FailAllocationsAfterForTesting(1);  // the entry, not the table
  EXPECT_EQ(index.Install(5, buffer, r).code(), StatusCode::kNoMemory);
  EXPECT_TRUE(index.empty());

  // The entry and the table.
  index.FailAllocationsAfterForTesting(2);
  ASSERT_TRUE(index.Install(5, buffer, r).ok());
  index.FailAllocationsAfterForTesting(1);
  Write(&index, 6, 2, r);
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 0));
  // An existing block needs no memory.
  Write(&index, 5, 3, r);
  void* refused = Buffer(4);
  EXPECT_EQ(index.Install(7, refused, r).code(), StatusCode::kNoMemory);
  platform::FreeIoBuffer(refused);
  EXPECT_EQ(index.dirty_blocks(), 2u);

  // Entries succeed but every table growth fails: longer chains, still
  // correct.
  index.FailAllocationsAfterForTesting(~uint64_t{0});
  for (uint64_t i = 100; i < 1100; ++i) {
    index.FailAllocationsAfterForTesting(1);  // the entry only
    Write(&index, i, i, r);
  }
  index.FailAllocationsAfterForTesting(~uint64_t{0});
  for (uint64_t i = 100; i < 1100; ++i) ASSERT_EQ(Tag(index.Lookup(i)), i);
  Write(&index, 2000, 2000, r);  // now it grows
  for (uint64_t i = 100; i < 1100; ++i) ASSERT_EQ(Tag(index.Lookup(i)), i);
  std::vector<Item> items(2000);
  ASSERT_EQ(index.TakeBatch(Pos(1, 10), 2000, items.data()), 1003u);
  index.FinishBatch(items.data(), 1003);
  EXPECT_TRUE(index.empty());
  EXPECT_EQ(index.ReplayPosition(), Pos(1, 10));
}

// The reference model, independent of obligations: which version (record,
// tag) each block has in memory, which is in flight, and for each record how
// many of the blocks it wrote the device does not hold yet in that or a
// newer version. The replay position is the begin of the oldest record with
// such a block.
class Model {
 public:
  struct Version {
    size_t record;
    uint64_t tag;
  };

  explicit Model(LogPosition start) : last_end_(start) {}

  size_t AddRecord(LogPosition begin, LogPosition end) {
    records_.push_back({begin, end});
    unfulfilled_.push_back(0);
    last_end_ = end;
    return records_.size() - 1;
  }
  void Write(uint64_t block, size_t record, uint64_t tag) {
    memory_[block] = {record, tag};
    writers_[block].push_back(record);
    ++unfulfilled_[record];
  }
  void Take(uint64_t block) { flying_[block] = memory_.at(block); }
  void Abort(uint64_t block) { flying_.erase(block); }
  // The flown version of `block` is on the device.
  void Finish(uint64_t block) {
    Version flown = flying_.at(block);
    flying_.erase(block);
    std::vector<size_t>& writers = writers_[block];
    size_t fulfilled = 0;
    while (fulfilled < writers.size() && writers[fulfilled] <= flown.record) {
      --unfulfilled_[writers[fulfilled++]];
    }
    writers.erase(writers.begin(), writers.begin() + fulfilled);
    if (memory_.at(block).tag == flown.tag) memory_.erase(block);
  }

  LogPosition Replay() {
    while (oldest_ < records_.size() && unfulfilled_[oldest_] == 0) ++oldest_;
    return oldest_ < records_.size() ? records_[oldest_].begin : last_end_;
  }
  bool Eligible(uint64_t block, LogPosition durable) const {
    auto it = memory_.find(block);
    return it != memory_.end() && flying_.count(block) == 0 &&
           records_[it->second.record].end <= durable;
  }
  size_t EligibleCount(LogPosition durable) const {
    size_t count = 0;
    for (const auto& [block, version] : memory_) {
      count += Eligible(block, durable) ? 1 : 0;
    }
    return count;
  }
  uint64_t Buffers() const {
    uint64_t count = memory_.size();
    for (const auto& [block, version] : flying_) {
      count += memory_.at(block).tag != version.tag ? 1 : 0;
    }
    return count;
  }

  const std::map<uint64_t, Version>& memory() const { return memory_; }
  size_t flying() const { return flying_.size(); }
  uint64_t flying_tag(uint64_t block) const { return flying_.at(block).tag; }
  const LogPosition& end(size_t record) const { return records_[record].end; }
  size_t record_count() const { return records_.size(); }
  LogPosition last_end() const { return last_end_; }

 private:
  struct Span {
    LogPosition begin;
    LogPosition end;
  };
  std::vector<Span> records_;
  std::vector<size_t> unfulfilled_;
  std::map<uint64_t, std::vector<size_t>> writers_;  // unfulfilled writes
  std::map<uint64_t, Version> memory_;
  std::map<uint64_t, Version> flying_;
  LogPosition last_end_;
  size_t oldest_ = 0;
};

class DirtyIndexModelTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kBlocks = 256;

  DirtyIndexModelTest() : index_(Pos(1, 0)), model_(Pos(1, 0)) {}

  LogPosition Durable() const {
    return durable_ == 0 ? Pos(1, 0) : model_.end(durable_ - 1);
  }

  // Adds one record writing `count` blocks from `first`.
  bool AddRecord(size_t count, Record** record, size_t* model_record) {
    if (rng_() % 40 == 0) {  // next logfile
      ++logfile_;
      offset_ = rng_() % 2 * 4096;
    }
    offset_ += rng_() % 3 * 512;  // sometimes a gap (e.g. other records)
    LogPosition begin = Pos(logfile_, offset_);
    offset_ += 64 + count * kBlock;
    LogPosition end = Pos(logfile_, offset_);
    bool fail = rng_() % 100 == 0;
    if (fail) index_.FailAllocationsAfterForTesting(0);
    Status status = index_.AddRecord(begin, end, record);
    index_.FailAllocationsAfterForTesting(~uint64_t{0});
    if (fail) {
      EXPECT_EQ(status.code(), StatusCode::kNoMemory);
      offset_ = begin.offset;
      return false;
    }
    EXPECT_TRUE(status.ok());
    *model_record = model_.AddRecord(begin, end);
    return true;
  }

  void Install(uint64_t first, size_t count, Record* record,
               size_t model_record) {
    for (uint64_t block = first; block < first + count; ++block) {
      uint64_t tag = ++tag_;
      void* buffer = Buffer(tag);
      bool fail = rng_() % 100 == 0;
      if (fail) index_.FailAllocationsAfterForTesting(0);
      Status status = index_.Install(block, buffer, record);
      index_.FailAllocationsAfterForTesting(~uint64_t{0});
      if (fail && model_.memory().count(block) == 0) {
        ASSERT_EQ(status.code(), StatusCode::kNoMemory);
        platform::FreeIoBuffer(buffer);
        continue;
      }
      ASSERT_TRUE(status.ok());
      model_.Write(block, model_record, tag);
    }
  }

  void WriteRecords() {
    size_t records = rng_() % 8 == 0 ? 2 : 1;  // sometimes add two, then fill
    Record* record[2];
    size_t model_record[2];
    uint64_t first[2];
    size_t count[2];
    size_t added = 0;
    for (size_t i = 0; i < records; ++i) {
      count[added] = 1 + rng_() % 6;
      first[added] = rng_() % (kBlocks - count[added]);
      if (AddRecord(count[added], &record[added], &model_record[added])) {
        ++added;
      }
    }
    for (size_t i = 0; i < added; ++i) {
      Install(first[i], count[i], record[i], model_record[i]);
    }
  }

  void TakeBatch() {
    LogPosition durable = Durable();
    size_t max_items = 1 + rng_() % 16;
    std::vector<Item> items(max_items);
    size_t expected = std::min(max_items, model_.EligibleCount(durable));
    size_t count = index_.TakeBatch(durable, max_items, items.data());
    ASSERT_EQ(count, expected);
    items.resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) {
        ASSERT_LT(items[i - 1].block, items[i].block);
      }
      ASSERT_TRUE(model_.Eligible(items[i].block, durable));
      ASSERT_EQ(Tag(items[i].data), model_.memory().at(items[i].block).tag);
      model_.Take(items[i].block);
    }
    if (count > 0) batches_.push_back(items);
  }

  void EndBatch(bool finish) {
    size_t which = rng_() % batches_.size();
    std::vector<Item> items = batches_[which];
    batches_.erase(batches_.begin() + which);
    for (const Item& item : items) {
      // The flown data stayed as taken, whatever was written since.
      ASSERT_EQ(Tag(item.data), model_.flying_tag(item.block));
      if (finish) {
        model_.Finish(item.block);
      } else {
        model_.Abort(item.block);
      }
    }
    if (finish) {
      index_.FinishBatch(items.data(), items.size());
    } else {
      index_.AbortBatch(items.data(), items.size());
    }
  }

  void Check(bool all_blocks) {
    ASSERT_EQ(index_.ReplayPosition(), model_.Replay());
    ASSERT_EQ(index_.dirty_blocks(), model_.memory().size());
    ASSERT_EQ(index_.in_flight_blocks(), model_.flying());
    ASSERT_EQ(index_.buffered_bytes(), model_.Buffers() * kBlock);
    ASSERT_EQ(index_.empty(), model_.memory().empty());
    uint64_t block = rng_() % kBlocks;
    for (uint64_t b = all_blocks ? 0 : block; b < kBlocks; ++b) {
      auto it = model_.memory().find(b);
      uint64_t tag =
          it == model_.memory().end() ? ~uint64_t{0} : it->second.tag;
      ASSERT_EQ(Tag(index_.Lookup(b)), tag) << "block " << b;
      if (!all_blocks) break;
    }
  }

  std::mt19937_64 rng_{20240605};
  DirtyIndex index_;
  Model model_;
  std::vector<std::vector<Item>> batches_;
  size_t durable_ = 0;  // records [0, durable_) are durable
  uint64_t logfile_ = 1;
  uint64_t offset_ = 0;
  uint64_t tag_ = 0;
};

TEST_F(DirtyIndexModelTest, RandomOperations) {
  for (int op = 0; op < 100000; ++op) {
    uint64_t choice = rng_() % 100;
    if (choice < 40) {
      WriteRecords();
    } else if (choice < 50) {
      durable_ += rng_() % (model_.record_count() - durable_ + 1);
    } else if (choice < 70) {
      if (batches_.size() < 3) TakeBatch();
    } else if (choice < 85) {
      if (!batches_.empty()) EndBatch(true);
    } else if (choice < 90) {
      if (!batches_.empty()) EndBatch(false);
    }
    if (HasFatalFailure()) return;
    Check(op % 500 == 0);
    if (op % 10000 == 0)
      fprintf(stderr,
              "op %d dirty %zu flying %zu records %zu durable %zu eligible %zu "
              "replay %lu/%lu\n",
              op, model_.memory().size(), model_.flying(),
              model_.record_count(), durable_, model_.EligibleCount(Durable()),
              (unsigned long)index_.ReplayPosition().logfile,
              (unsigned long)index_.ReplayPosition().offset);
    if (HasFatalFailure()) return;
  }
  // Drain: everything durable, written back and retired.
  durable_ = model_.record_count();
  while (!batches_.empty()) EndBatch(true);
  while (!model_.memory().empty()) {
    TakeBatch();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_FALSE(batches_.empty());
    EndBatch(true);
  }
  Check(true);
  EXPECT_TRUE(index_.empty());
  EXPECT_EQ(index_.buffered_bytes(), 0u);
  EXPECT_EQ(index_.ReplayPosition(), model_.last_end());
}

}  // namespace
}  // namespace engine
}  // namespace mars
