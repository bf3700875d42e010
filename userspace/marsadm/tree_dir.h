// TreeDir: the /mars symlink tree on disk, as marsadm reads and changes it
// (docu/mars-tree.md). A key is a symlink whose target text is the value and
// whose mtime (ns) is the Lamport stamp; a deleted key is a tombstone (the
// value ".deleted") so that peers do not resurrect it; logfiles are regular
// files; directories group keys.
//
// Changes are collected in a ChangeSet and made visible by Commit(): every
// new link is first created as a staging link ".tmp.<pid>.<name>" beside its
// target with its stamp already set, and only when all are staged are they
// renamed into place. If staging fails, the staged links are removed and
// nothing visible changed. A successful Commit() of any change ends with
// fsync() of every directory whose entries it changed (the tree's root
// included) and of every file it created: it is durable when Commit()
// returns. Not syncfs(): that also reports an earlier failed writeback of
// any other file on the filesystem (a logfile copy of the module's, say) as
// the commit's own failure.
#ifndef MARS_USERSPACE_MARSADM_TREE_DIR_H_
#define MARS_USERSPACE_MARSADM_TREE_DIR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mars::cli {

enum class EntryType { kLink, kFile, kDirectory };

struct DiskEntry {
  std::string path;  // relative to the root, '/'-separated
  EntryType type = EntryType::kLink;
  std::string value;      // link target (kLink only)
  uint64_t stamp_ns = 0;  // 0 for directories
  uint64_t size = 0;      // bytes (kFile only)
  bool tombstone = false;
};

// Prefix of staging links; such names are never entries.
inline constexpr char kStagingPrefix[] = ".tmp.";

class TreeDir {
 public:
  explicit TreeDir(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  // The absolute path of `path` (relative to the root).
  std::string Absolute(const std::string& path) const;
  bool RootIsDirectory() const;

  // The entry at `path` (tombstones included), or nullopt if there is none.
  std::optional<DiskEntry> Stat(const std::string& path) const;
  // The live value of the link at `path`: nullopt for a missing entry, a
  // tombstone, or something that is not a link.
  std::optional<std::string> ReadLink(const std::string& path) const;
  // True if `path` is a live link, a file or a directory.
  bool Exists(const std::string& path) const;
  // Names of the live entries directly inside directory `dir` ("" = root),
  // sorted; staging links and tombstones are left out.
  std::vector<std::string> ListNames(const std::string& dir) const;
  // Every entry below the root (tombstones included, staging links left
  // out), sorted by path. Tests compare these listings before and after.
  std::vector<DiskEntry> ListAll() const;
  // The highest stamp of any entry (0 for an empty tree).
  uint64_t MaxStamp() const;

 private:
  std::string root_;
};

struct Change {
  enum class Kind { kSetLink, kDelete, kMakeDir, kCreateFile };
  Kind kind;
  std::string path;
  std::string value;  // kSetLink only
};

// The changes of one commit, applied in order.
class ChangeSet {
 public:
  // Sets the link at `path` to `value` (creating parent directories).
  void SetLink(const std::string& path, const std::string& value);
  // Replaces a live link or a regular file (a logfile) at `path` with a
  // tombstone; for a directory, every live link and file below it. A file is
  // replaced atomically: the tombstone is staged as a link beside it and
  // renamed over it at the commit point, so until then the file is intact
  // and a failed commit leaves it in place. Nothing happens for a missing
  // path or a tombstone.
  void Delete(const std::string& path);
  void MakeDir(const std::string& path);
  // Creates an empty regular file (a logfile); fails if it exists.
  void CreateFile(const std::string& path);

  bool empty() const { return changes_.empty(); }
  const std::vector<Change>& changes() const { return changes_; }
  // One line per change, e.g. "set resource-r0/primary -> hostA", for
  // --dry-run and --verbose.
  std::vector<std::string> Describe() const;
  void Clear() { changes_.clear(); }

 private:
  std::vector<Change> changes_;
};

// Source of Lamport stamps for a commit: strictly above every stamp in the
// tree and the module's clock (when `lamport_clock_file` is readable), and at
// least the wall clock.
class Stamper {
 public:
  Stamper(const TreeDir& tree, const std::string& lamport_clock_file);
  uint64_t Next();

 private:
  uint64_t last_ = 0;
};

// Applies `changes` to `tree`. Returns an error message (one line) or nullopt.
std::optional<std::string> Commit(const TreeDir& tree, const ChangeSet& changes,
                                  Stamper& stamper);

// Test only: while set, Commit() calls `sync_path` with the absolute path of
// each directory and file it makes durable instead of open() + fsync(); it
// returns 0 or an errno value. nullptr restores fsync().
using SyncPathForTest = int (*)(const std::string& path);
void SetSyncPathForTest(SyncPathForTest sync_path);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_TREE_DIR_H_
