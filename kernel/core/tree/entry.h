// Entries of the /mars tree and their merge order (docu/mars-tree.md
// §5 "Entries and merge"). An entry is (path, value or tombstone, Lamport
// stamp, owner host). Of two versions of one path every replica keeps the
// greater under one total order, so replicas that saw the same versions, in
// any order and any number of times, hold the same entry.
#ifndef MARS_CORE_TREE_ENTRY_H_
#define MARS_CORE_TREE_ENTRY_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/tree/names.h"

namespace mars {
namespace tree {

// A borrowed entry: what callers pass to Tree::Apply and read back.
struct EntryView {
  Slice path;              // relative to /mars, see ValidateTreePath
  Slice value;             // empty for a tombstone
  bool tombstone = false;  // the entry is deleted
  uint64_t stamp = 0;      // Lamport stamp, ns (the symlink mtime on disk)
  Slice owner;             // host that wrote this version
};

// kInvalidArgument unless: the path is valid, a tombstone has an empty value
// ("tombstone carries a value") and a live entry a valid value, the owner
// is a valid host name, and the stamp is not 0 ("entry stamp is zero").
Status ValidateEntry(const EntryView& entry);

// The merge order of two versions of the same path: < 0 if `a` loses to
// `b`, 0 if they are identical, > 0 if `a` wins. Compares, in order:
// stamp (higher wins), tombstone over value, value bytes (byte-wise
// greater wins), owner name (byte-wise greater wins). Context: any.
int CompareVersions(const EntryView& a, const EntryView& b);

// An entry owned by a Tree. Read-only outside the tree.
class Entry {
 public:
  explicit Entry(platform::Gfp gfp) : path_(gfp), value_(gfp) {}
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  Slice path() const { return AsSlice(path_); }
  Slice value() const { return AsSlice(value_); }
  bool tombstone() const { return tombstone_; }
  uint64_t stamp() const { return stamp_; }
  Slice owner() const { return owner_.slice(); }
  // The tree's change number of this version (see Tree::CollectSince).
  uint64_t change() const { return change_; }
  EntryView view() const {
    EntryView v;
    v.path = path();
    v.value = value();
    v.tombstone = tombstone_;
    v.stamp = stamp_;
    v.owner = owner();
    return v;
  }

 private:
  friend class Tree;
  Bytes path_;
  Bytes value_;
  bool tombstone_ = false;
  uint64_t stamp_ = 0;
  uint64_t change_ = 0;
  HostName owner_;
};

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_ENTRY_H_
