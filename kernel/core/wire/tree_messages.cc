// Payloads of the tree messages (docu/wire-protocol.md, "Tree messages").
#include "core/wire/tree_messages.h"

#include "core/wire/payload_coding.h"

namespace mars {
namespace wire {
namespace {

// stamp u64, flags u8, path (>= 1 byte), owner (>= 1 byte), value, each
// string with its u16 length.
constexpr size_t kMinEntrySize = 8 + 1 + (2 + 1) + (2 + 1) + 2;

constexpr HostNameErrors kOwnerErrors = {
    "tree-update: owner host name is empty",
    "tree-update: owner host name is longer than 63 characters",
    "tree-update: owner host name starts with '-'",
    "tree-update: owner host name contains a character other than letters, "
    "digits, '_' and '-'",
    "tree-update: owner host name is reserved",
};

Status ValidateEntry(const TreeEntry& e) {
  const Status s = CheckHostName(e.owner, kOwnerErrors);
  if (!s.ok()) return s;
  if (e.tombstone && !e.value.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "tree-update: tombstone with a value");
  }
  return Status::Ok();
}

}  // namespace

Status TreeSinceRequest::Encode(Bytes* out) const {
  PayloadWriter w(out);
  w.U64(since.incarnation);
  w.U64(since.change);
  return w.Finish();
}

Status TreeSinceRequest::Decode(Slice payload) {
  PayloadReader r(payload, "tree-since-request: payload truncated");
  r.U64(&since.incarnation);
  r.U64(&since.change);
  return r.Finish("tree-since-request: trailing bytes after payload");
}

Status TreeUpdate::Encode(Bytes* out) const {
  PayloadWriter w(out);
  if (entries.size() > kMaxTreeEntriesPerBatch) {
    w.Fail(
        Status(StatusCode::kInvalidArgument, "tree-update: too many entries"));
  }
  w.U8(final_batch ? kFlagFinal : 0);
  w.U64(next.incarnation);
  w.U64(next.change);
  w.U32(static_cast<uint32_t>(entries.size()));
  for (const TreeEntry& e : entries) {
    w.Fail(ValidateEntry(e));
    w.U64(e.stamp);
    w.U8(e.tombstone ? kFlagTombstone : 0);
    w.String16(e.path, 1, kMaxPathSize, "tree-update: path empty or too long");
    w.String16(e.owner, 0, kMaxHostNameSize, kOwnerErrors.too_long);
    w.String16(e.value, 0, kMaxValueSize, "tree-update: value too long");
  }
  return w.Finish();
}

Status TreeUpdate::Decode(Slice payload) {
  entries.Clear();
  PayloadReader r(payload, "tree-update: payload truncated");
  uint8_t flags = 0;
  uint32_t count = 0;
  r.U8(&flags);
  r.U64(&next.incarnation);
  r.U64(&next.change);
  r.U32(&count);
  if (!r.ok()) return r.Finish("");
  if ((flags & ~kFlagFinal) != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "tree-update: reserved batch flag bits set");
  }
  final_batch = (flags & kFlagFinal) != 0;
  if (count > kMaxTreeEntriesPerBatch) {
    return Status(StatusCode::kInvalidArgument,
                  "tree-update: too many entries");
  }
  // Refuse a count the payload cannot hold before allocating for it.
  if (count > r.remaining() / kMinEntrySize) {
    return Status(StatusCode::kInvalidArgument,
                  "tree-update: payload truncated");
  }
  Status s = entries.Reserve(count);
  if (!s.ok()) return s;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    TreeEntry e;
    uint8_t entry_flags = 0;
    r.U64(&e.stamp);
    r.U8(&entry_flags);
    if (r.ok() && (entry_flags & ~kFlagTombstone) != 0) {
      r.Fail(Status(StatusCode::kInvalidArgument,
                    "tree-update: reserved entry flag bits set"));
    }
    e.tombstone = (entry_flags & kFlagTombstone) != 0;
    r.String16(&e.path, 1, kMaxPathSize, "tree-update: path empty or too long");
    r.String16(&e.owner, 0, kMaxHostNameSize, kOwnerErrors.too_long);
    r.String16(&e.value, 0, kMaxValueSize, "tree-update: value too long");
    if (r.ok()) r.Fail(ValidateEntry(e));
    if (r.ok()) r.Fail(entries.PushBack(e));  // cannot fail: reserved
  }
  s = r.Finish("tree-update: trailing bytes after payload");
  if (!s.ok()) entries.Clear();
  return s;
}

}  // namespace wire
}  // namespace mars
