// Entry validation and the merge order (docu/mars-tree.md §5.1).
#include "core/tree/entry.h"

namespace mars {
namespace tree {
namespace {

int Sign(int value) { return value < 0 ? -1 : value > 0 ? 1 : 0; }

}  // namespace

Status ValidateEntry(const EntryView& entry) {
  Status s = ValidateTreePath(entry.path);
  if (!s.ok()) return s;
  if (entry.tombstone) {
    if (!entry.value.empty()) {
      return Status(StatusCode::kInvalidArgument, "tombstone carries a value");
    }
  } else {
    s = ValidateEntryValue(entry.value);
    if (!s.ok()) return s;
  }
  s = ValidateHostName(entry.owner);
  if (!s.ok()) return s;
  if (entry.stamp == 0) {
    return Status(StatusCode::kInvalidArgument, "entry stamp is zero");
  }
  return Status::Ok();
}

int CompareVersions(const EntryView& a, const EntryView& b) {
  if (a.stamp != b.stamp) return a.stamp < b.stamp ? -1 : 1;
  if (a.tombstone != b.tombstone) return a.tombstone ? 1 : -1;
  const int by_value = Sign(a.value.Compare(b.value));
  if (by_value != 0) return by_value;
  return Sign(a.owner.Compare(b.owner));
}

}  // namespace tree
}  // namespace mars
