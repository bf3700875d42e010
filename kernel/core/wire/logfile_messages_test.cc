// Tests of the logfile message codecs (logfile-request, logfile-data): round
// trips, every truncation, trailing bytes, the field checks of
// docu/wire-protocol.md ("Logfile messages"), and the largest chunk in one
// frame. The harness shared with the other message tests is in
// wire_test_util.h.
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

TEST(LogfileMessagesTest, RequestRoundTripAndChecks) {
  LogfileRequest r;
  r.name = Slice::FromCString("resource-r0/log-000000001-alpha");
  r.offset = 123456789012ull;
  r.max_length = kMaxDataChunk;
  const Raw payload = EncodeOk(r);
  CheckCodecProperties<LogfileRequest>(payload);
  LogfileRequest back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(Str(back.name), "resource-r0/log-000000001-alpha");
  EXPECT_EQ(back.offset, r.offset);
  EXPECT_EQ(back.max_length, kMaxDataChunk);

  LogfileRequest bad = r;
  bad.max_length = 0;
  ExpectEncodeError(bad, "logfile-request: max length out of range");
  bad.max_length = kMaxDataChunk + 1;
  ExpectEncodeError(bad, "logfile-request: max length out of range");
  bad = r;
  bad.name = Slice();
  ExpectEncodeError(bad, "logfile-request: name empty or too long");
  Raw p = payload;
  EncodeFixed32(&p[p.size() - 4], 0);
  ExpectDecodeError<LogfileRequest>(p,
                                    "logfile-request: max length out of range");
  EncodeFixed32(&p[p.size() - 4], kMaxDataChunk + 1);
  ExpectDecodeError<LogfileRequest>(p,
                                    "logfile-request: max length out of range");
}

TEST(LogfileMessagesTest, DataRoundTripAndChecks) {
  const std::string bytes = "some logfile bytes";
  LogfileData d;
  d.name = Slice::FromCString("resource-r0/log-000000002-alpha");
  d.offset = 100;
  d.file_size = 100 + bytes.size();
  d.end_of_file = true;
  d.file_complete = true;
  d.data = S(bytes);
  const Raw payload = EncodeOk(d);
  CheckCodecProperties<LogfileData>(payload);
  LogfileData back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(Str(back.name), "resource-r0/log-000000002-alpha");
  EXPECT_EQ(back.offset, 100u);
  EXPECT_EQ(back.file_size, 100 + bytes.size());
  EXPECT_TRUE(back.end_of_file);
  EXPECT_TRUE(back.file_complete);
  EXPECT_EQ(Str(back.data), bytes);
  // Empty data at the end of a growing file.
  LogfileData empty = d;
  empty.data = Slice();
  empty.offset = empty.file_size;
  empty.file_complete = false;
  CheckCodecProperties<LogfileData>(EncodeOk(empty));

  LogfileData bad = d;
  bad.file_size = d.offset + bytes.size() - 1;
  ExpectEncodeError(bad, "logfile-data: range beyond the file size");
  bad = d;
  bad.offset = UINT64_MAX - 2;
  bad.file_size = UINT64_MAX;
  bad.end_of_file = false;
  ExpectEncodeError(bad, "logfile-data: range beyond the file size");
  bad = d;
  bad.file_size += 1;
  ExpectEncodeError(bad, "logfile-data: end of file flag before the file size");

  // name(2+31) offset(8) size(8) flags(1) len(4) data
  const size_t flags_at = 2 + 31 + 16;
  Raw p = payload;
  p[flags_at] = 0x04;
  ExpectDecodeError<LogfileData>(p, "logfile-data: reserved flag bits set");
  p = payload;
  EncodeFixed32(&p[flags_at + 1], kMaxDataChunk + 1);
  ExpectDecodeError<LogfileData>(p, "logfile-data: data too long");
  p = payload;
  EncodeFixed64(&p[2 + 31 + 8], 100);  // file size below offset + data
  ExpectDecodeError<LogfileData>(p, "logfile-data: range beyond the file size");
  p = payload;
  EncodeFixed64(&p[2 + 31 + 8], 200);
  ExpectDecodeError<LogfileData>(
      p, "logfile-data: end of file flag before the file size");
}

TEST(LogfileMessagesTest, LargestChunkFitsOneFrame) {
  const std::string name(kMaxPathSize, 'n');
  const std::string bytes(kMaxDataChunk, 'd');
  LogfileData d;
  d.name = S(name);
  d.offset = 0;
  d.file_size = UINT64_MAX;
  d.data = S(bytes);
  Bytes frame;
  FrameEncoder encoder(&frame);
  ASSERT_TRUE(encoder.AppendMessage(d).ok());
  EXPECT_LE(frame.size(), kFrameHeaderSize + kMaxPayloadSize);
  LogfileData back;
  ASSERT_TRUE(back.Decode(Slice(frame.data() + kFrameHeaderSize,
                                frame.size() - kFrameHeaderSize))
                  .ok());
  EXPECT_EQ(back.data.size(), kMaxDataChunk);
}

}  // namespace
}  // namespace wire
}  // namespace mars
