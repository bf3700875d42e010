// Tests of the tree message codecs (tree-since-request, tree-update): round
// trips, the golden bytes of docu/wire-protocol.md ("Tree messages"), every
// truncation, trailing bytes, the field checks, and batches of a tree's
// CollectSince answer carrying the cursor reached so far. The harness shared
// with the other message tests is in wire_test_util.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base/coding.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/tree/tree.h"
#include "core/wire/messages.h"
#include "core/wire/wire_test_util.h"

namespace mars {
namespace wire {
namespace {

using namespace ::mars::wire::test;  // NOLINT(build/namespaces)

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

}  // namespace
}  // namespace wire
}  // namespace mars
