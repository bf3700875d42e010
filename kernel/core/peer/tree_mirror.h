// TreeMirror: keeps the in-memory replica of the /mars tree (tree::Tree) and
// the symlinks under the /mars directory in step (docu/mars-tree.md §9).
//
// The directory is where marsadm and the engine read and write the tree;
// the Tree is what peers exchange. Scan() merges every link on disk into the
// tree (a local change, or the first load); WriteBack() writes every tree
// entry that beats its link on disk (a version received from a peer). Both
// follow the tree's merge order, so after Scan() + WriteBack() the disk and
// the tree show the same winning version of every path.
//
// Not thread-safe: the caller serialises calls and every other use of the
// tree.
#ifndef MARS_CORE_PEER_TREE_MIRROR_H_
#define MARS_CORE_PEER_TREE_MIRROR_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/lamport_clock.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "core/tree/names.h"
#include "core/tree/tree.h"

namespace mars {
namespace peer {

struct MirrorStats {
  uint64_t links_seen = 0;     // Scan: valid tree links read
  uint64_t merged = 0;         // Scan: links that changed the tree
  uint64_t links_written = 0;  // links written (tree version won)
  uint64_t links_removed = 0;  // purged tombstone links removed
  uint64_t skipped = 0;        // links not taken: unreadable, stamp refused
};

class TreeMirror {
 public:
  // `tree` and `clock` must outlive the mirror. Allocates with `gfp`.
  TreeMirror(tree::Tree* tree, LamportClock* clock,
             platform::Gfp gfp = platform::Gfp::kKernel);
  ~TreeMirror();
  TreeMirror(const TreeMirror&) = delete;
  TreeMirror& operator=(const TreeMirror&) = delete;

  // `root`: absolute path of the /mars directory; `host`: this host, the
  // owner of versions read from disk. kInvalidArgument for a bad host name
  // or a root too long for tree paths under it; kNoMemory. Call once.
  // Context: may sleep.
  Status Init(const char* root, Slice host);

  // Reads every symlink under the root whose path is a tree path (staging
  // links, regular files such as logfiles and the secret, and names that are
  // not tree paths are not part of the tree) and merges it: a version that
  // wins is applied to the tree (after LamportClock::Observe of its stamp;
  // a refused stamp skips the link); a link that loses to the tree's version
  // is rewritten from the tree. A tombstone on disk is a link to ".deleted".
  // Adds to *stats. Fails only for the root itself or kNoMemory; a link or
  // directory that cannot be read is skipped and counted.
  // Context: may sleep.
  Status Scan(MirrorStats* stats);

  // Writes every tree entry changed since the previous WriteBack() whose
  // version beats the link on disk, creating missing directories; the link
  // gets the entry's value (or ".deleted") and its stamp as mtime, in
  // change order. A link that cannot be written is counted in `skipped` and
  // retried at the next call; the changes after it are written meanwhile
  // (one link that can never be written must not stop the others).
  // Context: may sleep.
  Status WriteBack(MirrorStats* stats);

  // Tree::PurgeTombstones(peers, count), then removes the tombstone links
  // of purged paths from disk. Context: may sleep.
  Status PurgeTombstones(const tree::HostName* peers, size_t count,
                         MirrorStats* stats);

  // Allocations the mirror holds (its buffers; the scratch arrays are kept
  // between calls, so a call allocates only to grow them). For leak
  // accounting.
  size_t AllocationCount() const;

  // One directory entry collected by a listing: a name in names_.
  struct Listed {
    size_t offset;
    size_t size;
    platform::EntryType type;
  };

 private:
  struct DiskVersion {
    bool present = false;
    bool tombstone = false;
    Slice value;  // points into value_buffer_
    uint64_t stamp = 0;
  };
  // Sets path_buffer_ to root + "/" + `rel`; false if it does not fit.
  bool BuildPath(Slice rel);
  // Reads the link at path_buffer_. Not a link or unreadable: kept in
  // *status with present = false.
  Status ReadDisk(DiskVersion* disk);
  // Writes `entry`'s version to the link at `rel`, creating parents.
  Status WriteDisk(const tree::Entry& entry);
  Status ScanLink(Slice rel, MirrorStats* stats);
  // Whether `disk` shows `entry`'s version (owner aside: not on disk).
  static bool SameShown(const tree::Entry& entry, const DiskVersion& disk);

  tree::Tree* tree_;
  LamportClock* clock_;
  platform::Gfp gfp_;
  tree::HostName host_;
  char* root_ = nullptr;  // NUL-terminated
  size_t root_size_ = 0;
  char* path_buffer_ = nullptr;   // root + "/" + tree path + NUL
  char* value_buffer_ = nullptr;  // a link value
  tree::ChangeCursor written_;    // WriteBack() covered changes up to here
  // Scratch, kept between calls.
  Bytes dirs_;                  // Scan: directories to list, NUL-separated
  Bytes rel_;                   // Scan: the relative path at hand
  Bytes names_;                 // Scan: names of one listing
  Vector<Listed> listed_;       // Scan: entries of one listing
  Vector<const tree::Entry*> changed_;  // WriteBack
  Bytes purge_paths_;           // PurgeTombstones, NUL-separated
  Vector<uint64_t> purge_stamps_;
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_TREE_MIRROR_H_
