// The non-block half of core/platform_io.h in the kernel: clock, random
// bytes, host name, files, the /mars symlink tree, the trigger, tunables and
// counters, on the C glue of kernel/glue/glue_fs.h (misc.c, file.c,
// tree_fs.c, control.c). Kernel errors arrive as -errno and leave as
// StatusFromErrno().
#include <stddef.h>
#include <stdint.h>

#include "core/base/errno_status.h"
#include "core/platform_io.h"
#include "glue/glue_fs.h"

namespace mars {
namespace platform {

static_assert(static_cast<uint32_t>(File::kRead) ==
                  static_cast<uint32_t>(MARS_FILE_READ),
              "file flag map");
static_assert(static_cast<uint32_t>(File::kWrite) ==
                  static_cast<uint32_t>(MARS_FILE_WRITE),
              "file flag map");
static_assert(static_cast<uint32_t>(File::kCreate) ==
                  static_cast<uint32_t>(MARS_FILE_CREATE),
              "file flag map");
static_assert(static_cast<uint32_t>(File::kExclusive) ==
                  static_cast<uint32_t>(MARS_FILE_EXCLUSIVE),
              "file flag map");
static_assert(static_cast<int>(EntryType::kOther) == MARS_ENTRY_OTHER,
              "entry type map");
static_assert(static_cast<int>(EntryType::kFile) == MARS_ENTRY_FILE,
              "entry type map");
static_assert(static_cast<int>(EntryType::kDirectory) == MARS_ENTRY_DIRECTORY,
              "entry type map");
static_assert(static_cast<int>(EntryType::kLink) == MARS_ENTRY_LINK,
              "entry type map");
static_assert(static_cast<int>(Tunable::kCount) == MARS_TUNABLE_COUNT,
              "tunable count");
static_assert(static_cast<int>(Counter::kCount) == MARS_COUNTER_COUNT,
              "counter count");

namespace {

// 0 / -errno from the glue as a Status.
Status FromGlue(int ret) {
  return ret == 0 ? Status::Ok() : StatusFromErrno(-ret);
}

}  // namespace

uint64_t MonotonicNs() { return mars_glue_monotonic_ns(); }

void RandomBytes(void* out, size_t size) { mars_glue_random_bytes(out, size); }

size_t HostName(char* out, size_t capacity) {
  return mars_glue_host_name(out, capacity);
}

// ---------------------------------------------------------------------------
// Files

Status File::Open(const char* path, uint32_t flags) {
  if (impl_ != nullptr)
    return Status(StatusCode::kInvalidArgument, "file already open");
  return FromGlue(mars_glue_file_open(path, flags, &impl_));
}

void File::Close() {
  if (direct_ != nullptr) mars_glue_file_close(direct_);
  direct_ = nullptr;
  direct_alignment_ = DirectAlignment();
  direct_probed_ = false;
  if (impl_ == nullptr) return;
  mars_glue_file_close(impl_);
  impl_ = nullptr;
}

Status File::Read(uint64_t offset, void* buffer, size_t size, size_t* done) {
  *done = 0;
  if (impl_ == nullptr)
    return Status(StatusCode::kInvalidArgument, "file not open");
  return FromGlue(mars_glue_file_read(impl_, offset, buffer, size, done));
}

File::DirectAlignment File::DirectReadAlignment() {
  if (direct_probed_ || impl_ == nullptr) return direct_alignment_;
  direct_probed_ = true;
  unsigned int offset = 0;
  unsigned int memory = 0;
  if (mars_glue_file_open_direct(impl_, &direct_, &offset, &memory) == 0) {
    direct_alignment_.offset = offset;
    direct_alignment_.memory = memory;
  }
  return direct_alignment_;
}

Status File::ReadDirect(uint64_t offset, void* buffer, size_t size,
                        size_t* done) {
  *done = 0;
  const Status refused = CheckDirectRead(offset, buffer, size);
  if (!refused.ok()) return refused;
  return FromGlue(
      mars_glue_file_read_direct(direct_, offset, buffer, size, done));
}

bool File::Cached(uint64_t offset, uint64_t size) {
  if (impl_ == nullptr || size == 0) return false;
  return mars_glue_file_cached(impl_, offset) != 0 &&
         mars_glue_file_cached(impl_, offset + size - 1) != 0;
}

Status DirectRead::Start(File* file, uint64_t offset, void* buffer,
                         size_t size) {
  if (!MARS_CHECK(!running())) {
    return Status(StatusCode::kInternal, "direct read already running");
  }
  const Status refused = file->CheckDirectRead(offset, buffer, size);
  if (!refused.ok()) return refused;
  return FromGlue(mars_glue_file_read_direct_start(file->direct_, offset,
                                                   buffer, size, &impl_));
}

Status DirectRead::Wait(size_t* done) {
  *done = 0;
  if (!MARS_CHECK(running())) {
    return Status(StatusCode::kInternal, "no direct read running");
  }
  void* read = impl_;
  impl_ = nullptr;
  return FromGlue(mars_glue_file_read_direct_wait(read, done));
}

Status File::Write(uint64_t offset, const void* data, size_t size) {
  if (impl_ == nullptr)
    return Status(StatusCode::kInvalidArgument, "file not open");
  return FromGlue(mars_glue_file_write(impl_, offset, data, size));
}

Status File::Sync(uint64_t begin, uint64_t end) {
  if (impl_ == nullptr)
    return Status(StatusCode::kInvalidArgument, "file not open");
  return FromGlue(mars_glue_file_sync(impl_, begin, end));
}

Status File::Truncate(uint64_t size) {
  if (impl_ == nullptr)
    return Status(StatusCode::kInvalidArgument, "file not open");
  return FromGlue(mars_glue_file_truncate(impl_, size));
}

Status File::Size(uint64_t* size) {
  *size = 0;
  if (impl_ == nullptr)
    return Status(StatusCode::kInvalidArgument, "file not open");
  *size = mars_glue_file_size(impl_);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// The /mars tree

Status ReadLink(const char* path, char* value, size_t capacity, size_t* size,
                uint64_t* stamp_ns) {
  unsigned long long stamp = 0;
  Status status =
      FromGlue(mars_glue_read_link(path, value, capacity, size, &stamp));
  *stamp_ns = stamp;
  return status;
}

Status WriteLink(const char* path, const char* value, size_t size,
                 uint64_t stamp_ns) {
  return FromGlue(mars_glue_write_link(path, value, size, stamp_ns));
}

Status RemoveEntry(const char* path) {
  return FromGlue(mars_glue_remove_entry(path));
}

Status MakeDirectory(const char* path) {
  return FromGlue(mars_glue_make_directory(path));
}

namespace {

// The glue takes an int-returning C callback; function pointer types are
// never cast across the boundary (kCFI checks them), so this calls through.
struct VisitCall {
  DirectoryVisitor visit;
  void* context;
};

extern "C" int MarsDirectoryTrampoline(void* call, const char* name,
                                       size_t name_size, int type) {
  const VisitCall* c = static_cast<const VisitCall*>(call);
  return c->visit(c->context, name, name_size, static_cast<EntryType>(type))
             ? 1
             : 0;
}

}  // namespace

Status ListDirectory(const char* path, DirectoryVisitor visit, void* context) {
  VisitCall call{visit, context};
  return FromGlue(
      mars_glue_list_directory(path, MarsDirectoryTrampoline, &call));
}

Status FilesystemSpace(const char* path, uint64_t* free_bytes,
                       uint64_t* total_bytes) {
  unsigned long long free_space = 0;
  unsigned long long total_space = 0;
  Status status =
      FromGlue(mars_glue_filesystem_space(path, &free_space, &total_space));
  *free_bytes = free_space;
  *total_bytes = total_space;
  return status;
}

// ---------------------------------------------------------------------------
// Trigger, tunables, counters

int WaitForTrigger(uint64_t timeout_ns) {
  return mars_glue_trigger_wait(timeout_ns);
}

uint64_t GetTunable(Tunable id) {
  return mars_glue_tunable_get(static_cast<int>(id));
}

uint64_t GetCounter(Counter id) {
  return mars_glue_counter_get(static_cast<int>(id));
}

void AddCounter(Counter id, uint64_t delta) {
  mars_glue_counter_add(static_cast<int>(id), delta);
}

void SubtractCounter(Counter id, uint64_t delta) {
  mars_glue_counter_sub(static_cast<int>(id), delta);
}

void SetCounter(Counter id, uint64_t value) {
  mars_glue_counter_set(static_cast<int>(id), value);
}

}  // namespace platform
}  // namespace mars
