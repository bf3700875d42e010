// Tests of the freestanding base library: coding, Slice, Vector, memory, Result.
#include <gtest/gtest.h>

#include <string>

#include "core/base/coding.h"
#include "core/base/memory.h"
#include "core/base/result.h"
#include "core/base/slice.h"
#include "core/base/vector.h"

namespace mars {
namespace {

TEST(CodingTest, LittleEndianRoundTrip) {
  uint8_t buf[8];
  EncodeFixed16(buf, 0x1234);
  EXPECT_EQ(buf[0], 0x34);
  EXPECT_EQ(buf[1], 0x12);
  EXPECT_EQ(DecodeFixed16(buf), 0x1234);
  EncodeFixed32(buf, 0xA1B2C3D4u);
  EXPECT_EQ(buf[0], 0xD4);
  EXPECT_EQ(buf[3], 0xA1);
  EXPECT_EQ(DecodeFixed32(buf), 0xA1B2C3D4u);
  EncodeFixed64(buf, 0x0102030405060708ull);
  EXPECT_EQ(buf[0], 0x08);
  EXPECT_EQ(buf[7], 0x01);
  EXPECT_EQ(DecodeFixed64(buf), 0x0102030405060708ull);
  EncodeFixed64(buf, UINT64_MAX);
  EXPECT_EQ(DecodeFixed64(buf), UINT64_MAX);
}

TEST(SliceTest, CompareAndPrefix) {
  const Slice abc = Slice::FromCString("abc");
  const Slice ab = Slice::FromCString("ab");
  EXPECT_LT(ab.Compare(abc), 0);
  EXPECT_GT(abc.Compare(ab), 0);
  EXPECT_EQ(abc.Compare(Slice("abc", 3)), 0);
  EXPECT_TRUE(abc.StartsWith(ab));
  EXPECT_FALSE(ab.StartsWith(abc));
  EXPECT_TRUE(abc.StartsWith(Slice()));
  EXPECT_TRUE(Slice() == Slice("", 0));
  EXPECT_EQ(abc.RemovePrefix(1), Slice::FromCString("bc"));
  EXPECT_EQ(abc.SubSlice(1, 1), Slice::FromCString("b"));
}

TEST(VectorTest, PushBackGrowsAndKeepsOrder) {
  Vector<int> v;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(v.PushBack(i).ok());
  ASSERT_EQ(v.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(v[i], i);
  v.Erase(0);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v.size(), 999u);
  v.PopBack();
  EXPECT_EQ(v.back(), 998);
}

TEST(VectorTest, HoldsNonTrivialElementsWithoutLeaks) {
  Vector<std::string> v;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(v.PushBack(std::string(50, static_cast<char>('a' + i % 26))).ok());
  }
  Vector<std::string> moved = Move(v);
  EXPECT_EQ(v.size(), 0u);
  EXPECT_EQ(moved.size(), 100u);
  EXPECT_EQ(moved[27], std::string(50, 'b'));
  ASSERT_TRUE(moved.Resize(10).ok());
  EXPECT_EQ(moved.size(), 10u);
  ASSERT_TRUE(moved.Resize(12).ok());
  EXPECT_TRUE(moved[11].empty());
}

TEST(VectorTest, AppendBytesAndSlice) {
  Bytes b;
  ASSERT_TRUE(AppendSlice(&b, Slice::FromCString("hello ")).ok());
  ASSERT_TRUE(AppendSlice(&b, Slice::FromCString("world")).ok());
  EXPECT_EQ(AsSlice(b), Slice::FromCString("hello world"));
}

TEST(VectorTest, ResizeForOverwriteKeepsBytesAndReusesCapacity) {
  Bytes b;
  ASSERT_TRUE(AppendSlice(&b, Slice::FromCString("abcdef")).ok());
  const uint8_t* storage = b.data();
  ASSERT_TRUE(b.ResizeForOverwrite(3).ok());
  EXPECT_EQ(AsSlice(b), Slice::FromCString("abc"));
  // Growing within the capacity keeps the storage and the bytes in it.
  ASSERT_TRUE(b.ResizeForOverwrite(6).ok());
  EXPECT_EQ(b.data(), storage);
  EXPECT_EQ(AsSlice(b), Slice::FromCString("abcdef"));
  ASSERT_TRUE(b.ResizeForOverwrite(1000).ok());
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b[0], 'a');
  EXPECT_EQ(b.ResizeForOverwrite(SIZE_MAX).code(), StatusCode::kNoMemory);
  EXPECT_EQ(b.size(), 1000u);
}

TEST(VectorTest, AbsurdSizeFailsCleanly) {
  Bytes b;
  ASSERT_TRUE(AppendSlice(&b, Slice::FromCString("x")).ok());
  const Status s = b.Reserve(SIZE_MAX);
  EXPECT_EQ(s.code(), StatusCode::kNoMemory);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0], 'x');
}

struct Counted {
  explicit Counted(int* live) : live_(live) { ++*live_; }
  ~Counted() { --*live_; }
  int* live_;
};

TEST(MemoryTest, NewDeleteAndUniquePtr) {
  int live = 0;
  {
    UniquePtr<Counted> p(New<Counted>(platform::Gfp::kKernel, &live));
    ASSERT_TRUE(p);
    EXPECT_EQ(live, 1);
    UniquePtr<Counted> q = Move(p);
    EXPECT_FALSE(p);
    EXPECT_EQ(live, 1);
  }
  EXPECT_EQ(live, 0);
  Delete<Counted>(nullptr);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status(StatusCode::kInvalidArgument, "odd");
  return x / 2;
}

TEST(ResultTest, ValueOrError) {
  Result<int> good = Half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  Result<int> bad = Half(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  Result<int> confused{Status::Ok()};
  EXPECT_FALSE(confused.ok());
  EXPECT_EQ(confused.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace mars
