// Tests of the tree, logfile and sync message codecs: round trips, every
// truncation, trailing bytes, and the field checks of docu/wire-protocol.md.
// The harness shared with messages_test.cc is in wire_test_util.h.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/wire/frame.h"
#include "core/wire/messages.h"
#include "core/wire/wire_test_util.h"

namespace mars {
namespace wire {
namespace {

using namespace ::mars::wire::test;  // NOLINT(build/namespaces)

// ---- Tree ----

TEST(TreeMessagesTest, SinceRequest) {
  TreeSinceRequest r;
  r.since.incarnation = 1717171717000000123ull;
  r.since.change = 0x0102030405060708ull;
  const Raw payload = EncodeOk(r);
  ASSERT_EQ(payload.size(), 16u);
  EXPECT_EQ(DecodeFixed64(&payload[0]), r.since.incarnation);
  EXPECT_EQ(DecodeFixed64(&payload[8]), r.since.change);
  TreeSinceRequest back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(back.since.incarnation, r.since.incarnation);
  EXPECT_EQ(back.since.change, r.since.change);
  CheckCodecProperties<TreeSinceRequest>(payload);
  // The zero cursor ("everything") and the largest one.
  CheckCodecProperties<TreeSinceRequest>(EncodeOk(TreeSinceRequest()));
  r.since = tree::ChangeCursor{UINT64_MAX, UINT64_MAX};
  CheckCodecProperties<TreeSinceRequest>(EncodeOk(r));
}

TEST(TreeMessagesTest, SinceRequestGoldenBytes) {
  // docu/wire-protocol.md, "Tree messages", shows exactly these bytes.
  TreeSinceRequest r;
  r.since.incarnation = 0x17D2F8A9C0000000ull;
  r.since.change = 42;
  const Raw expected = {
      0x00, 0x00, 0x00, 0xC0, 0xA9, 0xF8, 0xD2, 0x17,  // incarnation
      0x2A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // change 42
  };
  EXPECT_EQ(EncodeOk(r), expected);
}

struct EntryText {
  std::string path, value, owner;
  uint64_t stamp;
  bool tombstone;
};

TreeUpdate MakeUpdate(const std::vector<EntryText>& texts, bool final_batch,
                      tree::ChangeCursor next = {0x1122334455667788ull, 9}) {
  TreeUpdate u;
  u.final_batch = final_batch;
  u.next = next;
  for (const EntryText& t : texts) {
    TreeEntry e;
    e.path = S(t.path);
    e.value = S(t.value);
    e.owner = S(t.owner);
    e.stamp = t.stamp;
    e.tombstone = t.tombstone;
    EXPECT_TRUE(u.entries.PushBack(e).ok());
  }
  return u;
}

const std::vector<EntryText>& SampleEntries() {
  static const std::vector<EntryText> entries = {
      {"resource-r0/primary", "alpha", "alpha", 1000, false},
      {"resource-r0/todo-beta/sync", "", "beta", 1001, true},
      {"ips/ip-gamma", "10.0.0.3", "gamma", 0xFFFFFFFFFFFFFFFFull, false},
      {"resource-r0/empty-value", "", "alpha", 7, false},
  };
  return entries;
}

TEST(TreeMessagesTest, UpdateRoundTrip) {
  const Raw payload = EncodeOk(
      MakeUpdate(SampleEntries(), false, {0xA1A2A3A4A5A6A7A8ull, 77}));
  EXPECT_EQ(payload[0], 0);  // not final
  EXPECT_EQ(DecodeFixed64(&payload[1]), 0xA1A2A3A4A5A6A7A8ull);
  EXPECT_EQ(DecodeFixed64(&payload[9]), 77u);
  EXPECT_EQ(DecodeFixed32(&payload[17]), 4u);
  TreeUpdate back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_FALSE(back.final_batch);
  EXPECT_EQ(back.next.incarnation, 0xA1A2A3A4A5A6A7A8ull);
  EXPECT_EQ(back.next.change, 77u);
  ASSERT_EQ(back.entries.size(), SampleEntries().size());
  for (size_t i = 0; i < back.entries.size(); ++i) {
    const EntryText& t = SampleEntries()[i];
    EXPECT_EQ(Str(back.entries[i].path), t.path);
    EXPECT_EQ(Str(back.entries[i].value), t.value);
    EXPECT_EQ(Str(back.entries[i].owner), t.owner);
    EXPECT_EQ(back.entries[i].stamp, t.stamp);
    EXPECT_EQ(back.entries[i].tombstone, t.tombstone);
  }
  CheckCodecProperties<TreeUpdate>(payload);
  // An empty final batch: nothing changed after the request's cursor.
  const Raw empty = EncodeOk(MakeUpdate({}, true, {0x0807060504030201ull, 5}));
  EXPECT_EQ(empty, (Raw{1, 1, 2, 3, 4, 5, 6, 7, 8, 5, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0}));
  CheckCodecProperties<TreeUpdate>(empty);
}

TEST(TreeMessagesTest, UpdateGoldenBytes) {
  // docu/wire-protocol.md, "Tree messages", shows exactly these bytes.
  const Raw payload = EncodeOk(MakeUpdate(
      {{"uuid", "c1", "alpha", 0x17D2F8A9C0000001ull, false}}, true,
      {0x17D2F8A9C0000000ull, 43}));
  const Raw expected = {
      0x01,                                            // flags: final
      0x00, 0x00, 0x00, 0xC0, 0xA9, 0xF8, 0xD2, 0x17,  // next.incarnation
      0x2B, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // next.change 43
      0x01, 0x00, 0x00, 0x00,                          // count 1
      0x01, 0x00, 0x00, 0xC0, 0xA9, 0xF8, 0xD2, 0x17,  // stamp
      0x00,                                            // entry flags
      0x04, 0x00, 'u', 'u', 'i', 'd',                  // path
      0x05, 0x00, 'a', 'l', 'p', 'h', 'a',             // owner
      0x02, 0x00, 'c', '1',                            // value
  };
  EXPECT_EQ(payload, expected);
}

// A tree's CollectSince answer, split into batches that each carry the
// cursor reached so far, brings a replica up to date batch by batch; the
// cursor of any batch is a valid place to resume from.
TEST(TreeMessagesTest, BatchesCarryTheCursorReachedSoFar) {
  tree::Tree source(/*incarnation=*/500, platform::Gfp::kKernel);
  std::vector<std::string> paths;
  for (int i = 0; i < 7; ++i) paths.push_back("p" + std::to_string(i));
  for (int i = 0; i < 7; ++i) {
    tree::EntryView v;
    v.path = S(paths[i]);
    v.value = Slice::FromCString("v");
    v.stamp = 100 + i;
    v.owner = Slice::FromCString("alpha");
    ASSERT_TRUE(source.Apply(v).ok());
  }
  TreeSinceRequest request;  // zero cursor: another incarnation, everything
  Raw wire_request = EncodeOk(request);
  ASSERT_TRUE(DecodeRaw(wire_request, &request).ok());

  tree::ChangeCursor since = request.since;
  std::vector<Raw> batches;
  for (;;) {
    Vector<const tree::Entry*> collected;
    tree::ChangeCursor next;
    ASSERT_TRUE(source.CollectSince(since, 3, &collected, &next).ok());
    TreeUpdate u;
    u.next = next;
    for (const tree::Entry* e : collected) {
      TreeEntry w;
      w.path = e->path();
      w.value = e->value();
      w.owner = e->owner();
      w.stamp = e->stamp();
      w.tombstone = e->tombstone();
      ASSERT_TRUE(u.entries.PushBack(w).ok());
    }
    u.final_batch = next.change == source.cursor().change;
    batches.push_back(EncodeOk(u));
    since = next;
    if (u.final_batch) break;
  }
  ASSERT_EQ(batches.size(), 3u);  // 3 + 3 + 1 entries

  tree::Tree replica(/*incarnation=*/900, platform::Gfp::kKernel);
  tree::ChangeCursor cursor = request.since;
  for (const Raw& b : batches) {
    TreeUpdate u;
    ASSERT_TRUE(DecodeRaw(b, &u).ok());
    for (const TreeEntry& e : u.entries) {
      tree::EntryView v;
      v.path = e.path;
      v.value = e.value;
      v.tombstone = e.tombstone;
      v.stamp = e.stamp;
      v.owner = e.owner;
      ASSERT_TRUE(replica.Apply(v).ok());
    }
    cursor = u.next;
    EXPECT_EQ(cursor.incarnation, 500u);
    // Resuming from this batch's cursor yields exactly the later batches.
    Vector<const tree::Entry*> rest;
    tree::ChangeCursor unused;
    ASSERT_TRUE(source.CollectSince(cursor, 100, &rest, &unused).ok());
    EXPECT_EQ(replica.size() + rest.size(), source.size());
  }
  EXPECT_EQ(cursor.change, source.cursor().change);
  ASSERT_EQ(replica.size(), source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(replica.at(i).path(), source.at(i).path());
    EXPECT_EQ(replica.at(i).stamp(), source.at(i).stamp());
  }
}

TEST(TreeMessagesTest, LimitsAreAccepted) {
  const std::string path(kMaxPathSize, 'p');
  const std::string value(kMaxValueSize, 'v');
  const std::string owner(tree::kMaxNameChars, 'o');  // 63 characters
  CheckCodecProperties<TreeUpdate>(
      EncodeOk(MakeUpdate({{path, value, owner, 1, false}}, true)));
  // The largest batch, with small entries.
  std::vector<EntryText> many;
  for (size_t i = 0; i < kMaxTreeEntriesPerBatch; ++i) {
    many.push_back({"p" + std::to_string(i), "v", "h", i, false});
  }
  const Raw payload = EncodeOk(MakeUpdate(many, true));
  TreeUpdate back;
  ASSERT_TRUE(DecodeRaw(payload, &back).ok());
  EXPECT_EQ(back.entries.size(), kMaxTreeEntriesPerBatch);
  many.push_back({"one", "more", "h", 1, false});
  ExpectEncodeError(MakeUpdate(many, true), "tree-update: too many entries");
}

TEST(TreeMessagesTest, FieldChecks) {
  const std::string long_path(kMaxPathSize + 1, 'p');
  const std::string long_value(kMaxValueSize + 1, 'v');
  ExpectEncodeError(MakeUpdate({{"", "v", "h", 1, false}}, true),
                    "tree-update: path empty or too long");
  ExpectEncodeError(MakeUpdate({{long_path, "v", "h", 1, false}}, true),
                    "tree-update: path empty or too long");
  ExpectEncodeError(MakeUpdate({{"p", long_value, "h", 1, false}}, true),
                    "tree-update: value too long");
  const std::string long_owner(tree::kMaxNameChars + 1, 'o');  // 64
  const struct {
    const char* owner;
    const char* message;
  } owner_cases[] = {
      {"", "tree-update: owner host name is empty"},
      {long_owner.c_str(),
       "tree-update: owner host name is longer than 63 characters"},
      {"-a", "tree-update: owner host name starts with '-'"},
      {"a b",
       "tree-update: owner host name contains a character other than "
       "letters, digits, '_' and '-'"},
      {"node.example",
       "tree-update: owner host name contains a character other than "
       "letters, digits, '_' and '-'"},
      {"localhost", "tree-update: owner host name is reserved"},
      {"none", "tree-update: owner host name is reserved"},
  };
  for (const auto& c : owner_cases) {
    SCOPED_TRACE(c.owner);
    ExpectEncodeError(MakeUpdate({{"p", "v", c.owner, 1, false}}, true),
                      c.message);
    // The same owner on the wire (encoded by hand) is refused by Decode.
    Raw p = EncodeOk(MakeUpdate({{"p", "v", "h", 5, false}}, true));
    const std::string owner = c.owner;
    const size_t at = 21 + 8 + 1 + 3;  // the owner's length field
    EncodeFixed16(&p[at], static_cast<uint16_t>(owner.size()));
    p.erase(p.begin() + at + 2, p.begin() + at + 3);
    p.insert(p.begin() + at + 2, owner.begin(), owner.end());
    ExpectDecodeError<TreeUpdate>(p, c.message);
  }
  ExpectEncodeError(MakeUpdate({{"p", "v", "h", 1, true}}, true),
                    "tree-update: tombstone with a value");

  // One entry: flags(1) next(16) count(4) | stamp(8) flags(1) path(2+1)
  // owner(2+1) value(2+1).
  const Raw payload = EncodeOk(MakeUpdate({{"p", "v", "h", 5, false}}, true));
  ASSERT_EQ(payload.size(), 21 + 8 + 1 + 3 + 3 + 3u);
  Raw p = payload;
  p[0] = 0x03;
  ExpectDecodeError<TreeUpdate>(p, "tree-update: reserved batch flag bits set");
  p = payload;
  p[29] = 0x02;
  ExpectDecodeError<TreeUpdate>(p, "tree-update: reserved entry flag bits set");
  p = payload;
  p[29] = 0x01;  // tombstone, but the value is "v"
  ExpectDecodeError<TreeUpdate>(p, "tree-update: tombstone with a value");
  p = payload;
  p[35] = '/';  // owner
  ExpectDecodeError<TreeUpdate>(
      p,
      "tree-update: owner host name contains a character other than "
      "letters, digits, '_' and '-'");
  p = payload;
  EncodeFixed16(&p[30], 0);  // path length 0
  ExpectDecodeError<TreeUpdate>(p, "tree-update: path empty or too long");
  p = payload;
  EncodeFixed16(&p[30], kMaxPathSize + 1);
  ExpectDecodeError<TreeUpdate>(p, "tree-update: path empty or too long");
  p = payload;
  EncodeFixed16(&p[36], kMaxValueSize + 1);
  ExpectDecodeError<TreeUpdate>(p, "tree-update: value too long");
  p = payload;
  EncodeFixed32(&p[17], kMaxTreeEntriesPerBatch + 1);
  ExpectDecodeError<TreeUpdate>(p, "tree-update: too many entries");
  // A count the payload cannot hold is refused before any allocation.
  p = payload;
  EncodeFixed32(&p[17], kMaxTreeEntriesPerBatch);
  ExpectDecodeError<TreeUpdate>(p, "tree-update: payload truncated");
  p = payload;
  EncodeFixed32(&p[17], 0);
  ExpectDecodeError<TreeUpdate>(p, "tree-update: trailing bytes after payload");
}

TEST(TreeMessagesTest, FailedDecodeLeavesNoEntries) {
  Raw payload = EncodeOk(MakeUpdate(SampleEntries(), true));
  payload.push_back(0);
  TreeUpdate u;
  EXPECT_FALSE(DecodeRaw(payload, &u).ok());
  EXPECT_TRUE(u.entries.empty());
}

// ---- Logfile ----

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

// ---- Sync ----

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
