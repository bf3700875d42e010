// TreeMirror: the /mars directory and the in-memory tree in step
// (docu/mars-tree.md §9).
#include "core/peer/tree_mirror.h"

#include "core/base/vector.h"
#include "core/platform_io.h"
#include "core/tree/entry.h"

namespace mars {
namespace peer {
namespace {

constexpr size_t kValueCapacity = platform::kMaxLinkValueBytes;
constexpr size_t kTombstoneSize = sizeof(tree::kTombstoneValue) - 1;
// Entries per CollectSince() call in WriteBack().
constexpr size_t kWriteBatch = 256;

struct Listing {
  Bytes* names;
  Vector<TreeMirror::Listed>* entries;
  Status status;
};

bool CollectName(void* context, const char* name, size_t name_size,
                 platform::EntryType type) {
  Listing* listing = static_cast<Listing*>(context);
  // Only names that can be a tree path component; the rest (staging links,
  // lost+found is fine, ".x") is never part of the tree.
  if (name_size == 0 || name_size > tree::kMaxPathBytes || name[0] == '.') {
    return true;
  }
  if (type != platform::EntryType::kLink &&
      type != platform::EntryType::kDirectory) {
    return true;
  }
  const size_t offset = listing->names->size();
  Status s = listing->names->Append(reinterpret_cast<const uint8_t*>(name),
                                    name_size);
  if (s.ok()) {
    s = listing->entries->PushBack(TreeMirror::Listed{offset, name_size, type});
  }
  if (!s.ok()) {
    listing->status = s;
    return false;
  }
  return true;
}

}  // namespace

TreeMirror::TreeMirror(tree::Tree* tree, LamportClock* clock,
                       platform::Gfp gfp)
    : tree_(tree),
      clock_(clock),
      gfp_(gfp),
      dirs_(gfp),
      rel_(gfp),
      names_(gfp),
      listed_(gfp),
      changed_(gfp),
      purge_paths_(gfp),
      purge_stamps_(gfp) {}

size_t TreeMirror::AllocationCount() const {
  return (root_ != nullptr) + (path_buffer_ != nullptr) +
         (value_buffer_ != nullptr) + (dirs_.capacity() > 0) +
         (rel_.capacity() > 0) + (names_.capacity() > 0) +
         (listed_.capacity() > 0) + (changed_.capacity() > 0) +
         (purge_paths_.capacity() > 0) + (purge_stamps_.capacity() > 0);
}

TreeMirror::~TreeMirror() {
  platform::Free(root_);
  platform::Free(path_buffer_);
  platform::Free(value_buffer_);
}

Status TreeMirror::Init(const char* root, Slice host) {
  if (root_ != nullptr) {
    return Status(StatusCode::kInvalidArgument, "tree mirror initialised twice");
  }
  Status s = host_.Assign(host);
  if (!s.ok()) return s;
  const size_t root_size = __builtin_strlen(root);
  if (root_size == 0 || root[0] != '/' ||
      root_size + 1 + tree::kMaxPathBytes > platform::kMaxPathBytes) {
    return Status(StatusCode::kInvalidArgument,
                  "tree mirror root must be an absolute path short enough "
                  "for tree paths under it");
  }
  root_ = static_cast<char*>(platform::Allocate(root_size + 1, gfp_));
  path_buffer_ = static_cast<char*>(
      platform::Allocate(root_size + 1 + tree::kMaxPathBytes + 1, gfp_));
  value_buffer_ = static_cast<char*>(platform::Allocate(kValueCapacity, gfp_));
  if (root_ == nullptr || path_buffer_ == nullptr ||
      value_buffer_ == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for the tree mirror");
  }
  __builtin_memcpy(root_, root, root_size + 1);
  root_size_ = root_size;
  return Status::Ok();
}

bool TreeMirror::BuildPath(Slice rel) {
  if (rel.size() > tree::kMaxPathBytes) return false;
  __builtin_memcpy(path_buffer_, root_, root_size_);
  size_t size = root_size_;
  if (!rel.empty()) {
    path_buffer_[size++] = '/';
    __builtin_memcpy(path_buffer_ + size, rel.data(), rel.size());
    size += rel.size();
  }
  path_buffer_[size] = '\0';
  return true;
}

Status TreeMirror::ReadDisk(DiskVersion* disk) {
  *disk = DiskVersion();
  size_t size = 0;
  uint64_t stamp = 0;
  Status s = platform::ReadLink(path_buffer_, value_buffer_, kValueCapacity,
                                &size, &stamp);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  if (!s.ok()) return s;
  disk->present = true;
  disk->stamp = stamp;
  if (size == kTombstoneSize &&
      __builtin_memcmp(value_buffer_, tree::kTombstoneValue, size) == 0) {
    disk->tombstone = true;
  } else {
    disk->value = Slice(value_buffer_, size);
  }
  return Status::Ok();
}

bool TreeMirror::SameShown(const tree::Entry& entry, const DiskVersion& disk) {
  return disk.present && entry.stamp() == disk.stamp &&
         entry.tombstone() == disk.tombstone &&
         (entry.tombstone() || entry.value() == disk.value);
}

Status TreeMirror::WriteDisk(const tree::Entry& entry) {
  const Slice rel = entry.path();
  // Parents first: every '/' of the relative path ends a directory.
  for (size_t i = 0; i < rel.size(); ++i) {
    if (rel[i] != '/') continue;
    if (!BuildPath(rel.SubSlice(0, i))) {
      return Status(StatusCode::kInvalidArgument, "tree path too long");
    }
    Status s = platform::MakeDirectory(path_buffer_);
    if (!s.ok()) return s;
  }
  if (!BuildPath(rel)) {
    return Status(StatusCode::kInvalidArgument, "tree path too long");
  }
  if (entry.tombstone()) {
    return platform::WriteLink(path_buffer_, tree::kTombstoneValue,
                               kTombstoneSize, entry.stamp());
  }
  // WriteLink needs no terminator: the value is passed with its size.
  return platform::WriteLink(path_buffer_, entry.value().chars(),
                             entry.value().size(), entry.stamp());
}

Status TreeMirror::ScanLink(Slice rel, MirrorStats* stats) {
  if (!tree::ValidateTreePath(rel).ok() || !BuildPath(rel)) return Status::Ok();
  DiskVersion disk;
  if (!ReadDisk(&disk).ok() || !disk.present || disk.stamp == 0 ||
      (!disk.tombstone && !tree::ValidateEntryValue(disk.value).ok())) {
    stats->skipped++;
    return Status::Ok();
  }
  stats->links_seen++;
  const tree::Entry* stored = tree_->Find(rel);
  if (stored != nullptr && SameShown(*stored, disk)) return Status::Ok();
  if (!clock_->Observe(disk.stamp).ok()) {
    stats->skipped++;
    return Status::Ok();
  }
  tree::EntryView view;
  view.path = rel;
  view.value = disk.value;
  view.tombstone = disk.tombstone;
  view.stamp = disk.stamp;
  view.owner = host_.slice();
  tree::ApplyOutcome outcome = tree::ApplyOutcome::kUnchanged;
  Status s = tree_->Apply(view, &outcome);
  if (s.code() == StatusCode::kNoMemory) return s;
  if (!s.ok()) {
    stats->skipped++;
    return Status::Ok();
  }
  if (outcome == tree::ApplyOutcome::kInserted ||
      outcome == tree::ApplyOutcome::kReplaced) {
    stats->merged++;
    return Status::Ok();
  }
  if (outcome == tree::ApplyOutcome::kStale) {
    // The tree holds a newer version than the link. A change WriteBack()
    // has not covered yet is left to it: it writes in change order, which
    // writers rely on (syncpos-HOST before syncstatus-HOST, replication.md
    // §6); writing it here could put it on disk before an earlier change
    // whose link does not exist yet. An older one (the link was set back
    // on disk after WriteBack() wrote it) is rewritten now.
    stored = tree_->Find(rel);
    const tree::ChangeCursor now = tree_->cursor();
    if (stored != nullptr && (written_.incarnation != now.incarnation ||
                              stored->change() > written_.change)) {
      return Status::Ok();
    }
    if (stored != nullptr && WriteDisk(*stored).ok()) {
      stats->links_written++;
    } else {
      stats->skipped++;
    }
  }
  return Status::Ok();
}

Status TreeMirror::Scan(MirrorStats* stats) {
  if (root_ == nullptr) {
    return Status(StatusCode::kInvalidArgument, "tree mirror not initialised");
  }
  // Breadth first over relative directory paths ("" is the root); each
  // directory is listed completely before anything under it is read.
  Bytes& dirs = dirs_;  // relative paths, each followed by a NUL
  Bytes& rel = rel_;
  dirs.Clear();
  Status s = dirs.PushBack('\0');
  if (!s.ok()) return s;
  for (size_t next = 0; next < dirs.size();) {
    // Copied out: dirs grows (and may move) while this directory is read.
    const char* dir = reinterpret_cast<const char*>(dirs.data()) + next;
    const size_t dir_size = __builtin_strlen(dir);
    rel.Clear();
    s = rel.Append(reinterpret_cast<const uint8_t*>(dir), dir_size);
    if (!s.ok()) return s;
    next += dir_size + 1;
    if (!BuildPath(AsSlice(rel))) continue;
    names_.Clear();
    listed_.Clear();
    Listing listing{&names_, &listed_, Status::Ok()};
    s = platform::ListDirectory(path_buffer_, CollectName, &listing);
    if (!listing.status.ok()) return listing.status;
    if (!s.ok()) {
      if (dir_size == 0) return s;  // the root itself
      stats->skipped++;
      continue;
    }
    for (size_t i = 0; i < listed_.size(); ++i) {
      const Listed& item = listed_[i];
      s = rel.Resize(dir_size);
      if (s.ok() && dir_size > 0) s = rel.PushBack('/');
      if (s.ok()) s = rel.Append(names_.data() + item.offset, item.size);
      if (!s.ok()) return s;
      if (rel.size() > tree::kMaxPathBytes) continue;
      if (item.type == platform::EntryType::kDirectory) {
        s = dirs.Append(rel.data(), rel.size());
        if (s.ok()) s = dirs.PushBack('\0');
        if (!s.ok()) return s;
        continue;
      }
      s = ScanLink(AsSlice(rel), stats);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status TreeMirror::WriteBack(MirrorStats* stats) {
  if (root_ == nullptr) {
    return Status(StatusCode::kInvalidArgument, "tree mirror not initialised");
  }
  Vector<const tree::Entry*>& changed = changed_;
  for (;;) {
    changed.Clear();
    tree::ChangeCursor next;
    Status s = tree_->CollectSince(written_, kWriteBatch, &changed, &next);
    if (!s.ok()) return s;
    bool all_written = true;
    for (size_t i = 0; i < changed.size(); ++i) {
      const tree::Entry& entry = *changed[i];
      if (!BuildPath(entry.path())) continue;
      DiskVersion disk;
      if (!ReadDisk(&disk).ok()) {
        stats->skipped++;
        all_written = false;
        continue;
      }
      if (SameShown(entry, disk)) continue;
      if (disk.present) {
        tree::EntryView on_disk;
        on_disk.path = entry.path();
        on_disk.value = disk.value;
        on_disk.tombstone = disk.tombstone;
        on_disk.stamp = disk.stamp;
        on_disk.owner = entry.owner();
        // A newer link on disk (written after the last Scan) is left for
        // the next Scan to merge.
        if (tree::CompareVersions(entry.view(), on_disk) < 0) continue;
      }
      if (WriteDisk(entry).ok()) {
        stats->links_written++;
      } else {
        stats->skipped++;
        all_written = false;
      }
    }
    // A failed write is retried next time: the cursor stays before it.
    if (!all_written) return Status::Ok();
    const bool done = next.incarnation == written_.incarnation &&
                      next.change == written_.change;
    written_ = next;
    if (done || changed.empty()) return Status::Ok();
  }
}

Status TreeMirror::PurgeTombstones(const tree::HostName* peers, size_t count,
                                   MirrorStats* stats) {
  // The tombstones before the purge; those gone after it lose their links.
  Bytes& paths = purge_paths_;
  Vector<uint64_t>& stamps = purge_stamps_;
  paths.Clear();
  stamps.Clear();
  for (size_t i = 0; i < tree_->size(); ++i) {
    const tree::Entry& entry = tree_->at(i);
    if (!entry.tombstone()) continue;
    Status s = paths.Append(entry.path().data(), entry.path().size());
    if (s.ok()) s = paths.PushBack('\0');
    if (s.ok()) s = stamps.PushBack(entry.stamp());
    if (!s.ok()) return s;
  }
  if (tree_->PurgeTombstones(peers, count) == 0) return Status::Ok();
  size_t at = 0;
  for (size_t i = 0; i < stamps.size(); ++i) {
    const char* path = reinterpret_cast<const char*>(paths.data()) + at;
    const size_t size = __builtin_strlen(path);
    at += size + 1;
    const Slice rel(path, size);
    if (tree_->Find(rel) != nullptr || !BuildPath(rel)) continue;
    DiskVersion disk;
    // Only the purged tombstone goes: anything written meanwhile (a value,
    // a newer deletion) stays for Scan.
    if (!ReadDisk(&disk).ok() || !disk.present || !disk.tombstone ||
        disk.stamp > stamps[i]) {
      continue;
    }
    if (platform::RemoveEntry(path_buffer_).ok()) {
      stats->links_removed++;
    } else {
      stats->skipped++;
    }
  }
  return Status::Ok();
}

}  // namespace peer
}  // namespace mars
