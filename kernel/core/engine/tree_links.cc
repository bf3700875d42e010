// Single links of the /mars tree by root and relative path: absolute paths
// are joined in scratch memory (kNoIo), tombstones read as absence, stamps
// are observed on read and issued on write (docu/mars-tree.md §5).
#include "core/engine/tree_links.h"

#include "core/platform.h"
#include "core/platform_io.h"
#include "core/tree/text.h"

namespace mars {
namespace engine {
namespace {

constexpr size_t kTombstoneBytes = sizeof(tree::kTombstoneValue) - 1;

// One heap buffer, freed on scope exit (stack frames stay small).
class Scratch {
 public:
  explicit Scratch(size_t size)
      : data_(static_cast<char*>(
            platform::Allocate(size, platform::Gfp::kNoIo))) {}
  ~Scratch() { platform::Free(data_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  char* get() const { return data_; }

 private:
  char* data_;
};

constexpr Status kNoScratch(StatusCode::kNoMemory,
                            "out of memory for a /mars path");

// Joins root + '/' + relpath into out (platform::kMaxPathBytes + 1 bytes).
Status JoinPath(const char* root, const char* relpath, char* out) {
  const Slice rel = Slice::FromCString(relpath);
  Status s = tree::ValidateTreePath(rel);
  if (!s.ok()) return s;
  const size_t root_size = __builtin_strlen(root);
  if (root_size == 0 || root_size + 1 + rel.size() > platform::kMaxPathBytes) {
    return Status(StatusCode::kInvalidArgument,
                  "/mars path is empty or too long");
  }
  __builtin_memcpy(out, root, root_size);
  out[root_size] = '/';
  __builtin_memcpy(out + root_size + 1, rel.data(), rel.size());
  out[root_size + 1 + rel.size()] = '\0';
  return Status::Ok();
}

bool IsTombstone(const char* value, size_t size) {
  return size == kTombstoneBytes &&
         __builtin_memcmp(value, tree::kTombstoneValue, size) == 0;
}

// Reads the link at `path` into value (kMaxLinkValueBytes + 1 bytes),
// observing its stamp. Tombstones are returned as such.
Status ReadRaw(const char* path, char* value, size_t* size, uint64_t* stamp,
               LamportClock* clock) {
  uint64_t stamp_ns = 0;
  Status s = platform::ReadLink(path, value, platform::kMaxLinkValueBytes + 1,
                                size, &stamp_ns);
  if (!s.ok()) return s;
  if (*size > platform::kMaxLinkValueBytes) {
    return Status(StatusCode::kOutOfRange, "link value is too long");
  }
  if (clock != nullptr) (void)clock->Observe(stamp_ns);
  if (stamp != nullptr) *stamp = stamp_ns;
  return Status::Ok();
}

}  // namespace

RelPath& RelPath::Add(Slice piece) {
  if (overflow_) return *this;
  if (piece.size() > tree::kMaxPathBytes - size_) {
    overflow_ = true;  // an empty path, which every function refuses
    size_ = 0;
    text_[0] = '\0';
    return *this;
  }
  __builtin_memcpy(text_ + size_, piece.data(), piece.size());
  size_ += piece.size();
  text_[size_] = '\0';
  return *this;
}

RelPath& RelPath::AddDecimal(uint64_t value) {
  char digits[tree::kMaxDecimalU64Chars];
  return Add(Slice(digits, tree::FormatDecimalU64(value, digits)));
}

Status ReadValue(const char* root, const char* relpath, char* value,
                 size_t capacity, size_t* size, uint64_t* stamp_ns,
                 LamportClock* clock) {
  if (!MARS_CHECK(capacity >= 2)) {
    return Status(StatusCode::kInternal, "link buffer too small");
  }
  Scratch path(platform::kMaxPathBytes + 1);
  Scratch raw(platform::kMaxLinkValueBytes + 1);
  if (path.get() == nullptr || raw.get() == nullptr) return kNoScratch;
  Status s = JoinPath(root, relpath, path.get());
  if (!s.ok()) return s;
  size_t raw_size = 0;
  s = ReadRaw(path.get(), raw.get(), &raw_size, stamp_ns, clock);
  if (!s.ok()) return s;
  if (IsTombstone(raw.get(), raw_size)) {
    return Status(StatusCode::kNotFound, "link is deleted");
  }
  if (raw_size >= capacity) {
    return Status(StatusCode::kOutOfRange,
                  "link value is longer than expected");
  }
  __builtin_memcpy(value, raw.get(), raw_size);
  value[raw_size] = '\0';
  *size = raw_size;
  return Status::Ok();
}

Status WriteValue(const char* root, const char* relpath, Slice value,
                  uint64_t stamp_ns) {
  Status s = tree::ValidateEntryValue(value);
  if (!s.ok()) return s;
  Scratch path(platform::kMaxPathBytes + 1);
  if (path.get() == nullptr) return kNoScratch;
  s = JoinPath(root, relpath, path.get());
  if (!s.ok()) return s;
  return platform::WriteLink(path.get(), value.chars(), value.size(), stamp_ns);
}

Status WriteValueIfChanged(const char* root, const char* relpath, Slice value,
                           LamportClock* clock, bool* written) {
  if (written != nullptr) *written = false;
  Status s = tree::ValidateEntryValue(value);
  if (!s.ok()) return s;
  Scratch path(platform::kMaxPathBytes + 1);
  Scratch raw(platform::kMaxLinkValueBytes + 1);
  if (path.get() == nullptr || raw.get() == nullptr) return kNoScratch;
  s = JoinPath(root, relpath, path.get());
  if (!s.ok()) return s;
  size_t raw_size = 0;
  s = ReadRaw(path.get(), raw.get(), &raw_size, nullptr, clock);
  if (s.ok() && raw_size == value.size() &&
      __builtin_memcmp(raw.get(), value.data(), value.size()) == 0) {
    return Status::Ok();
  }
  s = platform::WriteLink(path.get(), value.chars(), value.size(),
                          clock->Now());
  if (s.ok() && written != nullptr) *written = true;
  return s;
}

Status RemoveIfPresent(const char* root, const char* relpath,
                       LamportClock* clock, bool* removed) {
  if (removed != nullptr) *removed = false;
  Scratch path(platform::kMaxPathBytes + 1);
  Scratch raw(platform::kMaxLinkValueBytes + 1);
  if (path.get() == nullptr || raw.get() == nullptr) return kNoScratch;
  Status s = JoinPath(root, relpath, path.get());
  if (!s.ok()) return s;
  size_t raw_size = 0;
  s = ReadRaw(path.get(), raw.get(), &raw_size, nullptr, clock);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  if (s.ok() && IsTombstone(raw.get(), raw_size)) return Status::Ok();
  // A live link, or not a link at all (a logfile): replace it. A directory
  // makes the rename fail, which is reported.
  if (!s.ok() && s.code() != StatusCode::kInvalidArgument) return s;
  s = platform::WriteLink(path.get(), tree::kTombstoneValue, kTombstoneBytes,
                          clock->Now());
  if (s.ok() && removed != nullptr) *removed = true;
  return s;
}

Status EnsureDirectory(const char* root, const char* relpath) {
  Scratch path(platform::kMaxPathBytes + 1);
  if (path.get() == nullptr) return kNoScratch;
  Status s = JoinPath(root, relpath, path.get());
  if (!s.ok()) return s;
  s = platform::MakeDirectory(path.get());
  if (s.code() != StatusCode::kNotFound) return s;
  // A parent is missing: create every component from the root down.
  char* const rel = path.get() + __builtin_strlen(root) + 1;
  for (char* p = rel; *p != '\0'; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    s = platform::MakeDirectory(path.get());
    *p = '/';
    if (!s.ok()) return s;
  }
  return platform::MakeDirectory(path.get());
}

}  // namespace engine
}  // namespace mars
