// Reading and writing single links of the /mars tree by root and relative
// path (docu/mars-tree.md §1, §5): live values, tombstones as absence,
// Lamport stamps observed on read and issued on write, writes skipped when
// the value is unchanged. Used by the Manager and the resource engine.
#ifndef MARS_CORE_ENGINE_TREE_LINKS_H_
#define MARS_CORE_ENGINE_TREE_LINKS_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/lamport_clock.h"
#include "core/tree/names.h"

namespace mars {
namespace engine {

// A tree path relative to the root, built from pieces on the stack, e.g.
// RelPath().Add("resource-").Add(name).Add("/actual-").Add(host). A path
// that would exceed tree::kMaxPathBytes becomes empty for good: ok() is
// false and every tree_links function refuses it (kInvalidArgument).
class RelPath {
 public:
  RelPath() { text_[0] = '\0'; }
  RelPath(const RelPath&) = delete;
  RelPath& operator=(const RelPath&) = delete;

  RelPath& Add(Slice piece);
  RelPath& Add(const char* piece) { return Add(Slice::FromCString(piece)); }
  RelPath& AddDecimal(uint64_t value);
  // Back to the empty path (and ok()).
  void Clear() {
    text_[0] = '\0';
    size_ = 0;
    overflow_ = false;
  }

  bool ok() const { return !overflow_; }
  const char* c_str() const { return text_; }
  size_t size() const { return size_; }

 private:
  char text_[tree::kMaxPathBytes + 1];
  size_t size_ = 0;
  bool overflow_ = false;
};

// Every function below: `root` is the /mars directory (absolute, no
// trailing '/'), `relpath` a path relative to it (root + '/' + relpath at
// most platform::kMaxPathBytes bytes, and a valid tree path:
// tree::ValidateTreePath, else kInvalidArgument). Errors of the
// filesystem are the platform's (StatusFromErrno). Scratch memory is
// allocated with Gfp::kNoIo, so the writeback path may use these too.
// Context: may sleep.

// Reads the live link root/relpath: its value into value[0, *size) with
// value[*size] = '\0', and its stamp into *stamp_ns (may be null). The stamp
// is passed to clock->Observe() when `clock` is not null (a refused stamp is
// still returned). kNotFound when absent or a tombstone; kOutOfRange when the
// value does not fit capacity - 1 bytes (*size is then unspecified).
// REQUIRES: capacity >= 2.
Status ReadValue(const char* root, const char* relpath, char* value,
                 size_t capacity, size_t* size, uint64_t* stamp_ns,
                 LamportClock* clock);

// Writes the link root/relpath with `value` and stamp clock->Now(), unless it
// already holds exactly `value` (then nothing changes, not even the stamp).
// A tombstone or a non-link counts as different. *written (may be null) says
// whether a write happened. `value` must be a live entry value
// (tree::ValidateEntryValue), else kInvalidArgument. REQUIRES: the parent
// directory exists (EnsureDirectory), clock is not null.
Status WriteValueIfChanged(const char* root, const char* relpath, Slice value,
                           LamportClock* clock, bool* written = nullptr);

// Writes the link root/relpath with `value` and the given stamp, whatever it
// held before (for links whose value is derived from their own stamp, such
// as the heartbeat). Same value rule and REQUIRES as above.
Status WriteValue(const char* root, const char* relpath, Slice value,
                  uint64_t stamp_ns);

// Deletes the entry root/relpath (a link, or a regular file such as a
// logfile) the way the tree deletes: a tombstone stamped clock->Now() takes
// its place, so that peers delete it too. Ok and no change when it is absent
// or already a tombstone; *removed (may be null) says whether it deleted.
// REQUIRES: clock is not null.
Status RemoveIfPresent(const char* root, const char* relpath,
                       LamportClock* clock, bool* removed = nullptr);

// Creates the directory root/relpath and its missing parents below root
// (root itself must exist); Ok when it exists.
Status EnsureDirectory(const char* root, const char* relpath);

}  // namespace engine
}  // namespace mars

#endif  // MARS_CORE_ENGINE_TREE_LINKS_H_
