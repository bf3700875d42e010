// Tests of the sync message codecs (digest-request, digest-reply,
// block-request, block-data): round trips, unavailable answers with their
// golden bytes, reserved flag bits, every truncation, trailing bytes, the
// range and field checks of docu/wire-protocol.md ("Sync messages"), and the
// largest block-data in one frame. The harness shared with the other message
// tests is in wire_test_util.h.
#include <gtest/gtest.h>

#include <string>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/messages.h"
#include "core/wire/wire_test_util.h"

namespace mars {
namespace wire {
namespace {

using namespace ::mars::wire::test;  // NOLINT(build/namespaces)

TEST(SyncMessagesTest, DigestRequestRoundTripAndChecks) {
  DigestRequest r;
  r.resource = Slice::FromCString("r0");
  r.offset = 1ull << 40;
  r.length = 4096 * 3 + 512;  // last block partial
  r.block_size = 4096;
  const Raw payload = EncodeOk(r);
  CheckCodecProperties<DigestRequest>(payload);
  DigestRequest back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(Str(back.resource), "r0");
  EXPECT_EQ(back.offset, r.offset);
  EXPECT_EQ(back.length, r.length);
  EXPECT_EQ(back.block_size, 4096u);

  struct Case {
    uint64_t offset, length;
    uint32_t block_size;
    const char* message;
  };
  const Case cases[] = {
      {0, 4096, 0, "digests: block size not a power of two in range"},
      {0, 4096, 3000, "digests: block size not a power of two in range"},
      {0, 4096, 256, "digests: block size not a power of two in range"},
      {0, 4096, kMaxSyncBlockSize * 2,
       "digests: block size not a power of two in range"},
      {512, 4096, 4096, "digests: offset not a multiple of the block size"},
      {0, 0, 4096, "digests: length out of range"},
      {0, 4097, 4096, "digests: length out of range"},
      {0, 4096ull * kMaxDigestsPerReply + 512, 4096,
       "digests: length out of range"},
      {UINT64_MAX - 4095, 8192, 4096, "digests: range overflows 64 bits"},
  };
  for (const Case& c : cases) {
    DigestRequest bad = r;
    bad.offset = c.offset;
    bad.length = c.length;
    bad.block_size = c.block_size;
    ExpectEncodeError(bad, c.message);
    Raw p = payload;
    EncodeFixed64(&p[4], c.offset);
    EncodeFixed64(&p[12], c.length);
    EncodeFixed32(&p[20], c.block_size);
    ExpectDecodeError<DigestRequest>(p, c.message);
  }
  DigestRequest bad = r;
  bad.resource = Slice();
  ExpectEncodeError(bad, "sync: resource name empty or too long");
  const std::string long_name(kMaxResourceNameSize + 1, 'r');
  bad.resource = S(long_name);
  ExpectEncodeError(bad, "sync: resource name empty or too long");
}

// digest-reply with resource "r0": resource(2+2) offset(8) length(8)
// block_size(4) flags(1) log_number(8) log_offset(8) count(4) digests.
constexpr size_t kReplyFlagsAt = 24;
constexpr size_t kReplyLogNumberAt = 25;
constexpr size_t kReplyLogOffsetAt = 33;
constexpr size_t kReplyCountAt = 41;
constexpr size_t kReplyDigestsAt = 45;

TEST(SyncMessagesTest, DigestReplyRoundTripAndChecks) {
  Raw digests(4 * kDigestSize);
  for (size_t i = 0; i < digests.size(); ++i) {
    digests[i] = static_cast<uint8_t>(i * 13);
  }
  DigestReply r;
  r.resource = Slice::FromCString("r0");
  r.offset = 8192;
  r.length = 4096 * 3 + 1024;
  r.block_size = 4096;
  r.log_number = 7;
  r.log_offset = 0x0102030405060708ull;
  r.digests = Slice(digests.data(), digests.size());
  EXPECT_FALSE(r.unavailable());
  EXPECT_EQ(r.BlockCount(), 4u);
  const Raw payload = EncodeOk(r);
  ASSERT_EQ(payload.size(), kReplyDigestsAt + digests.size());
  EXPECT_EQ(payload[kReplyFlagsAt], 0);
  EXPECT_EQ(DecodeFixed64(&payload[kReplyLogNumberAt]), 7u);
  EXPECT_EQ(DecodeFixed64(&payload[kReplyLogOffsetAt]), r.log_offset);
  EXPECT_EQ(DecodeFixed32(&payload[kReplyCountAt]), 4u);
  CheckCodecProperties<DigestReply>(payload);
  DigestReply back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_FALSE(back.unavailable());
  EXPECT_EQ(back.log_number, 7u);
  EXPECT_EQ(back.log_offset, r.log_offset);
  ASSERT_EQ(back.BlockCount(), 4u);
  EXPECT_EQ(back.Digest(3), Slice(digests.data() + 96, 32));

  DigestReply bad = r;
  bad.digests = Slice(digests.data(), 3 * kDigestSize);
  ExpectEncodeError(bad, "digest-reply: digest count does not match the range");
  bad.digests = Slice(digests.data(), 4 * kDigestSize - 1);
  ExpectEncodeError(bad, "digest-reply: digest count does not match the range");
  bad.digests = Slice();
  ExpectEncodeError(bad, "digest-reply: digest count does not match the range");
  Raw p = payload;
  EncodeFixed32(&p[kReplyCountAt], 3);
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: digest count does not match the range");
  p = payload;
  EncodeFixed32(&p[kReplyCountAt], 0xFFFFFFFFu);
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: digest count does not match the range");
  // An available reply always carries its digests.
  p = Raw(payload.begin(), payload.begin() + kReplyDigestsAt);
  EncodeFixed32(&p[kReplyCountAt], 0);
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: digest count does not match the range");
  p = payload;
  EncodeFixed32(&p[20], 1000);
  ExpectDecodeError<DigestReply>(
      p, "digests: block size not a power of two in range");

  // The largest reply fits one frame.
  Raw all(kMaxDigestsPerReply * kDigestSize, 0xAB);
  const std::string name(kMaxResourceNameSize, 'r');
  DigestReply big;
  big.resource = S(name);
  big.offset = 0;
  big.length = uint64_t{kMaxSyncBlockSize} * kMaxDigestsPerReply;
  big.block_size = kMaxSyncBlockSize;
  big.log_number = UINT64_MAX;
  big.log_offset = UINT64_MAX;
  big.digests = Slice(all.data(), all.size());
  Bytes frame;
  FrameEncoder encoder(&frame);
  EXPECT_TRUE(encoder.AppendMessage(big).ok());
}

TEST(SyncMessagesTest, DigestReplyUnavailable) {
  DigestReply r;
  r.resource = Slice::FromCString("r0");
  r.offset = 8192;
  r.length = 4096 * 3 + 1024;
  r.block_size = 4096;
  r.flags = kSyncUnavailable;
  EXPECT_TRUE(r.unavailable());
  const Raw payload = EncodeOk(r);
  ASSERT_EQ(payload.size(), kReplyDigestsAt);  // count 0, no digests
  EXPECT_EQ(payload[kReplyFlagsAt], kSyncUnavailable);
  EXPECT_EQ(DecodeFixed32(&payload[kReplyCountAt]), 0u);
  CheckCodecProperties<DigestReply>(payload);
  DigestReply back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_TRUE(back.unavailable());
  EXPECT_EQ(back.length, r.length);
  EXPECT_TRUE(back.digests.empty());

  // No digests, no log bound; the range rules still hold.
  Raw digests(4 * kDigestSize, 0x5A);
  DigestReply bad = r;
  bad.digests = Slice(digests.data(), digests.size());
  ExpectEncodeError(bad, "digest-reply: unavailable reply with digests");
  bad = r;
  bad.log_number = 1;
  ExpectEncodeError(bad, "digest-reply: unavailable reply with a log bound");
  bad = r;
  bad.log_offset = 4096;
  ExpectEncodeError(bad, "digest-reply: unavailable reply with a log bound");
  bad = r;
  bad.block_size = 1000;
  ExpectEncodeError(bad, "digests: block size not a power of two in range");

  Raw p = payload;
  EncodeFixed32(&p[kReplyCountAt], 4);
  p.insert(p.end(), digests.begin(), digests.end());
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: unavailable reply with digests");
  p = payload;
  EncodeFixed64(&p[kReplyLogNumberAt], 3);
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: unavailable reply with a log bound");
  p = payload;
  EncodeFixed64(&p[kReplyLogOffsetAt], 512);
  ExpectDecodeError<DigestReply>(
      p, "digest-reply: unavailable reply with a log bound");
}

TEST(SyncMessagesTest, DigestReplyReservedFlagBits) {
  Raw digests(kDigestSize, 0x11);
  DigestReply r;
  r.resource = Slice::FromCString("r0");
  r.length = 4096;
  r.block_size = 4096;
  r.digests = Slice(digests.data(), digests.size());
  const Raw payload = EncodeOk(r);
  for (int bit = 1; bit < 8; ++bit) {
    for (uint8_t base : {uint8_t{0}, kSyncUnavailable}) {
      const uint8_t flags = static_cast<uint8_t>(base | (1u << bit));
      SCOPED_TRACE(static_cast<int>(flags));
      DigestReply bad = r;
      bad.flags = flags;
      if (base != 0) bad.digests = Slice();
      ExpectEncodeError(bad, "digest-reply: reserved flag bits set");
      Raw p = payload;
      p[kReplyFlagsAt] = flags;
      ExpectDecodeError<DigestReply>(p, "digest-reply: reserved flag bits set");
    }
  }
}

// block-data with resource "r0": resource(2+2) offset(8) flags(1)
// log_number(8) log_offset(8) size(4) data.
constexpr size_t kDataFlagsAt = 12;
constexpr size_t kDataLogNumberAt = 13;
constexpr size_t kDataLogOffsetAt = 21;
constexpr size_t kDataSizeAt = 29;
constexpr size_t kDataBytesAt = 33;

TEST(SyncMessagesTest, BlockRequestAndDataRoundTripAndChecks) {
  BlockRequest r;
  r.resource = Slice::FromCString("r0");
  r.offset = 1ull << 33;
  r.length = 65536;
  const Raw payload = EncodeOk(r);
  CheckCodecProperties<BlockRequest>(payload);
  BlockRequest back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(back.offset, r.offset);
  EXPECT_EQ(back.length, 65536u);

  const std::string block(1024, 'b');
  BlockData d;
  d.resource = Slice::FromCString("r0");
  d.offset = 4096;
  d.log_number = 12;
  d.log_offset = 1ull << 40;
  d.data = S(block);
  const Raw data_payload = EncodeOk(d);
  ASSERT_EQ(data_payload.size(), kDataBytesAt + block.size());
  EXPECT_EQ(data_payload[kDataFlagsAt], 0);
  EXPECT_EQ(DecodeFixed64(&data_payload[kDataLogNumberAt]), 12u);
  EXPECT_EQ(DecodeFixed64(&data_payload[kDataLogOffsetAt]), 1ull << 40);
  EXPECT_EQ(DecodeFixed32(&data_payload[kDataSizeAt]), 1024u);
  CheckCodecProperties<BlockData>(data_payload);
  BlockData data_back;
  ASSERT_TRUE(DecodeRaw(data_payload, &data_back).ok());
  EXPECT_FALSE(data_back.unavailable());
  EXPECT_EQ(data_back.log_number, 12u);
  EXPECT_EQ(data_back.log_offset, 1ull << 40);
  EXPECT_EQ(Str(data_back.data), block);

  struct Case {
    uint64_t offset;
    uint32_t length;
    const char* message;
  };
  const Case cases[] = {
      {100, 512, "blocks: offset not sector aligned"},
      {0, 0, "blocks: length not a sector multiple in range"},
      {0, 1000, "blocks: length not a sector multiple in range"},
      {0, kMaxDataChunk + 512, "blocks: length not a sector multiple in range"},
      {UINT64_MAX - 511, 1024, "blocks: range overflows 64 bits"},
  };
  for (const Case& c : cases) {
    BlockRequest bad = r;
    bad.offset = c.offset;
    bad.length = c.length;
    ExpectEncodeError(bad, c.message);
    Raw p = payload;
    EncodeFixed64(&p[4], c.offset);
    EncodeFixed32(&p[12], c.length);
    ExpectDecodeError<BlockRequest>(p, c.message);

    const std::string bytes(c.length, 'x');
    BlockData bad_data = d;
    bad_data.offset = c.offset;
    bad_data.data = S(bytes);
    ExpectEncodeError(bad_data, c.message);
    if (c.length <= block.size()) {  // the same check on decode
      Raw q(data_payload.begin(), data_payload.begin() + kDataBytesAt);
      EncodeFixed64(&q[4], c.offset);
      EncodeFixed32(&q[kDataSizeAt], c.length);
      q.insert(q.end(), bytes.begin(), bytes.end());
      ExpectDecodeError<BlockData>(q, c.message);
    }
  }
  Raw p = data_payload;
  EncodeFixed64(&p[4], 100);
  ExpectDecodeError<BlockData>(p, "blocks: offset not sector aligned");
  // A length above the limit is refused before its bytes are looked at.
  p = data_payload;
  EncodeFixed32(&p[kDataSizeAt], kMaxDataChunk + 512);
  ExpectDecodeError<BlockData>(p,
                               "blocks: length not a sector multiple in range");
}

TEST(SyncMessagesTest, BlockDataUnavailable) {
  BlockData d;
  d.resource = Slice::FromCString("r0");
  d.offset = 1ull << 30;
  d.flags = kSyncUnavailable;
  EXPECT_TRUE(d.unavailable());
  const Raw payload = EncodeOk(d);
  ASSERT_EQ(payload.size(), kDataBytesAt);  // empty data
  EXPECT_EQ(payload[kDataFlagsAt], kSyncUnavailable);
  EXPECT_EQ(DecodeFixed32(&payload[kDataSizeAt]), 0u);
  CheckCodecProperties<BlockData>(payload);
  BlockData back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_TRUE(back.unavailable());
  EXPECT_EQ(back.offset, d.offset);
  EXPECT_TRUE(back.data.empty());

  // Data empty iff unavailable; no log bound; the offset stays aligned.
  const std::string block(512, 'u');
  BlockData bad = d;
  bad.data = S(block);
  ExpectEncodeError(bad, "block-data: unavailable answer with data");
  bad = d;
  bad.log_number = 2;
  ExpectEncodeError(bad, "block-data: unavailable answer with a log bound");
  bad = d;
  bad.log_offset = 2;
  ExpectEncodeError(bad, "block-data: unavailable answer with a log bound");
  bad = d;
  bad.offset = 100;
  ExpectEncodeError(bad, "blocks: offset not sector aligned");
  bad = d;
  bad.flags = 0;  // available without data
  ExpectEncodeError(bad, "blocks: length not a sector multiple in range");

  Raw p = payload;
  EncodeFixed32(&p[kDataSizeAt], 512);
  p.insert(p.end(), block.begin(), block.end());
  ExpectDecodeError<BlockData>(p, "block-data: unavailable answer with data");
  p = payload;
  EncodeFixed64(&p[kDataLogNumberAt], 1);
  ExpectDecodeError<BlockData>(
      p, "block-data: unavailable answer with a log bound");
  p = payload;
  EncodeFixed64(&p[kDataLogOffsetAt], 1);
  ExpectDecodeError<BlockData>(
      p, "block-data: unavailable answer with a log bound");
  p = payload;
  EncodeFixed64(&p[4], 100);
  ExpectDecodeError<BlockData>(p, "blocks: offset not sector aligned");
  p = payload;
  p[kDataFlagsAt] = 0;
  ExpectDecodeError<BlockData>(p,
                               "blocks: length not a sector multiple in range");
}

TEST(SyncMessagesTest, BlockDataUnavailableGoldenBytes) {
  // docu/wire-protocol.md, "Sync messages", shows exactly these bytes.
  BlockData d;
  d.resource = Slice::FromCString("r0");
  d.offset = 8192;
  d.flags = kSyncUnavailable;
  const Raw expected = {
      0x02, 0x00, 0x72, 0x30,                          // resource "r0"
      0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // offset 8192
      0x01,                                            // unavailable
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // log_number
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // log_offset
      0x00, 0x00, 0x00, 0x00,                          // no data
  };
  EXPECT_EQ(EncodeOk(d), expected);
}

TEST(SyncMessagesTest, BlockDataReservedFlagBits) {
  const std::string block(512, 'b');
  BlockData d;
  d.resource = Slice::FromCString("r0");
  d.data = S(block);
  const Raw payload = EncodeOk(d);
  for (int bit = 1; bit < 8; ++bit) {
    for (uint8_t base : {uint8_t{0}, kSyncUnavailable}) {
      const uint8_t flags = static_cast<uint8_t>(base | (1u << bit));
      SCOPED_TRACE(static_cast<int>(flags));
      BlockData bad = d;
      bad.flags = flags;
      if (base != 0) bad.data = Slice();
      ExpectEncodeError(bad, "block-data: reserved flag bits set");
      Raw p = payload;
      p[kDataFlagsAt] = flags;
      ExpectDecodeError<BlockData>(p, "block-data: reserved flag bits set");
    }
  }
}

TEST(SyncMessagesTest, LargestBlockDataFitsOneFrame) {
  const std::string name(kMaxResourceNameSize, 'r');
  const std::string bytes(kMaxDataChunk, 'd');
  BlockData d;
  d.resource = S(name);
  d.offset = UINT64_MAX - kMaxDataChunk - 511;  // the last chunk of 2^64
  d.log_number = UINT64_MAX;
  d.log_offset = UINT64_MAX;
  d.data = S(bytes);
  Bytes frame;
  FrameEncoder encoder(&frame);
  ASSERT_TRUE(encoder.AppendMessage(d).ok());
  EXPECT_LE(frame.size(), kFrameHeaderSize + kMaxPayloadSize);
  BlockData back;
  ASSERT_TRUE(back.Decode(Slice(frame.data() + kFrameHeaderSize,
                                frame.size() - kFrameHeaderSize))
                  .ok());
  EXPECT_EQ(back.data.size(), kMaxDataChunk);
  EXPECT_EQ(back.log_offset, UINT64_MAX);
}

}  // namespace
}  // namespace wire
}  // namespace mars
