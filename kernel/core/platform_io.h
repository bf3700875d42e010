// The platform's I/O interface: files and symlinks on the /mars filesystem,
// backing block devices, the replicated block device the module exports, host
// identity, the trigger, and the tunables and counters under /proc/sys/mars.
//
// Implemented by kernel/platform/platform_io_kernel.cc (on the C glue:
// glue/file.c, glue/tree_fs.c, glue/bdev.c, glue/blkdev.c, glue/control.c) and
// by userspace/lib/platform_*_user.cc (POSIX; regular files stand in for block
// devices, and tests drive the exported device through platform_user.h).
//
// Errors: every function here reports an operating-system error as the Status
// of StatusFromErrno() (core/base/errno_status.h): its code classifies the
// error, its message names it ("no space left on device (errno 28)").
// Paths are absolute, NUL-terminated, at most kMaxPathBytes bytes.
#ifndef MARS_CORE_PLATFORM_IO_H_
#define MARS_CORE_PLATFORM_IO_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/status.h"
#include "core/platform.h"

namespace mars {
namespace platform {

constexpr size_t kMaxPathBytes = 4095;
// A symlink's value: 1..4095 bytes (docu/mars-tree.md §2.4).
constexpr size_t kMaxLinkValueBytes = 4095;

// Monotonic time in nanoseconds (not affected by clock changes). Context: any.
uint64_t MonotonicNs();

// Fills `out` with cryptographically strong random bytes. Context: may sleep.
void RandomBytes(void* out, size_t size);

// This host's name: `uname -n` up to the first '.', NUL-terminated. Returns
// the length, or 0 when it does not fit `capacity` (64 is always enough for
// a valid host name). Context: any.
size_t HostName(char* out, size_t capacity);

// ---------------------------------------------------------------------------
// Files (logfiles). Not thread-safe per object: one user at a time, except
// that Write/Read/Sync may run concurrently from different threads.

class File {
 public:
  enum Flags : uint32_t {
    kRead = 1u << 0,
    kWrite = 1u << 1,
    kCreate = 1u << 2,     // create when missing (mode 0600)
    kExclusive = 1u << 3,  // with kCreate: fail kAlreadyExists if present
  };

  File() = default;
  ~File() { Close(); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens `path` (kRead and/or kWrite required). Context: may sleep.
  Status Open(const char* path, uint32_t flags);
  // Closes; idempotent. Context: may sleep.
  void Close();
  bool is_open() const { return impl_ != nullptr; }
  // Exchanges the open files of *this and `other`. Context: any.
  void Swap(File& other) {
    void* impl = impl_;
    impl_ = other.impl_;
    other.impl_ = impl;
    void* direct = direct_;
    direct_ = other.direct_;
    other.direct_ = direct;
    const DirectAlignment alignment = direct_alignment_;
    direct_alignment_ = other.direct_alignment_;
    other.direct_alignment_ = alignment;
    const bool probed = direct_probed_;
    direct_probed_ = other.direct_probed_;
    other.direct_probed_ = probed;
  }

  // Reads up to `size` bytes at `offset` into `buffer`; `*done` < size only
  // at the end of the file. Context: may sleep.
  Status Read(uint64_t offset, void* buffer, size_t size, size_t* done);
  // Writes all `size` bytes at `offset` (a short write is an error: kIoError
  // or the errno's status, e.g. ENOSPC). Context: may sleep.
  Status Write(uint64_t offset, const void* data, size_t size);
  // Makes the bytes [begin, end) and the metadata needed to read them back
  // durable (fdatasync of that range). Context: may sleep.
  Status Sync(uint64_t begin, uint64_t end);
  // Sets the file size. Context: may sleep.
  Status Truncate(uint64_t size);
  // Current file size. Context: may sleep.
  Status Size(uint64_t* size);

  // Direct reads (O_DIRECT): the bytes go from the disk into the caller's
  // buffer without a copy through the page cache, for large reads whose
  // bytes are used once (replay reads record payloads straight into the
  // buffers it writes to the data device).
  struct DirectAlignment {
    uint32_t offset = 0;  // file offset and size: multiples of this
    uint32_t memory = 0;  // buffer address: a multiple of this
    bool supported() const { return offset != 0 && memory != 0; }
  };
  // What ReadDirect() needs, as the file system reports it (statx
  // STATX_DIOALIGN; in the kernel `memory` is at least `offset`, as it splits
  // the buffer at page boundaries); {0, 0} when this file cannot be read
  // directly (no direct I/O on its file system, or no alignment reported).
  // On first use it opens the file a second time for direct reads (kept
  // until Close()); any failure there just means unsupported.
  // Context: may sleep.
  DirectAlignment DirectReadAlignment();
  // Reads `size` bytes at `offset` into `buffer` directly, as Read() does
  // (`*done` < size only at the end of the file); the bytes are those Read()
  // would give (the file system writes back cached dirty bytes of the range
  // first). REQUIRES DirectReadAlignment().supported(), offset, size and
  // buffer aligned as it says, and `buffer` inside memory from
  // AllocateWriteBuffer(). kInvalidArgument when unsupported or not aligned
  // (nothing read); else the file system's error. Context: may sleep.
  Status ReadDirect(uint64_t offset, void* buffer, size_t size, size_t* done);
  // Whether the page cache holds the pages of the first and the last byte
  // of [offset, offset + size): then Read() copies from memory, which costs
  // less than reading the disk again (a local copy just written by fetch);
  // a direct read would first write dirty pages back and then read the
  // disk. A hint, not a promise: the pages may be evicted right after.
  // REQUIRES size > 0. Context: may sleep.
  bool Cached(uint64_t offset, uint64_t size);

 private:
  friend class DirectRead;
  // ReadDirect()'s refusals, the same on every platform: kInvalidArgument
  // when the direct file is not open or the read is not aligned.
  Status CheckDirectRead(uint64_t offset, const void* buffer,
                         size_t size) const {
    const DirectAlignment alignment = direct_alignment_;
    if (direct_ == nullptr || !alignment.supported()) {
      return Status(StatusCode::kInvalidArgument,
                    "file cannot be read with direct I/O");
    }
    if (offset % alignment.offset != 0 || size % alignment.offset != 0 ||
        reinterpret_cast<uintptr_t>(buffer) % alignment.memory != 0) {
      return Status(StatusCode::kInvalidArgument,
                    "direct read not aligned as the file system needs");
    }
    return Status::Ok();
  }

  void* impl_ = nullptr;
  void* direct_ = nullptr;  // the second open file for ReadDirect()
  DirectAlignment direct_alignment_;
  bool direct_probed_ = false;  // DirectReadAlignment() ran
};

// One File::ReadDirect() that runs while its starter goes on: in the kernel
// an asynchronous kiocb, completed by the disk; in userspace a thread of its
// own. Not thread-safe; one read at a time.
class DirectRead {
 public:
  DirectRead() = default;
  // Waits for a read still running.
  ~DirectRead() {
    size_t ignored = 0;
    if (running()) (void)Wait(&ignored).ok();
  }
  DirectRead(const DirectRead&) = delete;
  DirectRead& operator=(const DirectRead&) = delete;

  // Starts reading `size` bytes at `offset` of `file` into `buffer`, as
  // File::ReadDirect() would, with its requirements and its refusals
  // (returned at once; nothing runs then), or kNoMemory. Until Wait()
  // returned the read owns `buffer`, and `file` must stay open.
  // REQUIRES !running(). Context: may sleep.
  Status Start(File* file, uint64_t offset, void* buffer, size_t size);
  // Waits until the read ended: the file system's error, or Ok with *done
  // the bytes read (< size at the end of the file, or when the file system
  // read less). REQUIRES running(). Context: may sleep.
  Status Wait(size_t* done);
  bool running() const { return impl_ != nullptr; }

 private:
  void* impl_ = nullptr;
};

// ---------------------------------------------------------------------------
// Symlinks and directories of the /mars tree. A link's value is its target
// text; its stamp is its mtime in ns since the epoch (docu/mars-tree.md §5).

// Reads the link at `path`: value into `value[0, *size)` (not NUL-terminated;
// `capacity` >= kMaxLinkValueBytes is always enough) and its mtime.
// kNotFound when absent; kInvalidArgument when `path` is not a symlink.
// Context: may sleep.
Status ReadLink(const char* path, char* value, size_t capacity, size_t* size,
                uint64_t* stamp_ns);

// Replaces (or creates) the link at `path` atomically: a staging link
// `.tmp.k.<name>` in the same directory with the value and mtime `stamp_ns`
// is renamed over `path` (readers see the old or the new link, never none).
// REQUIRES the parent directory exists. Context: may sleep.
Status WriteLink(const char* path, const char* value, size_t size,
                 uint64_t stamp_ns);

// Removes the link or regular file at `path`. kNotFound when absent.
// Context: may sleep.
Status RemoveEntry(const char* path);

// Creates the directory `path` (mode 0755); Ok if it already exists as a
// directory. Context: may sleep.
Status MakeDirectory(const char* path);

enum class EntryType : uint8_t {
  kOther = 0,
  kFile = 1,
  kDirectory = 2,
  kLink = 3
};

// Calls visit(context, name, name_size, type) for every entry of directory
// `path` except "." and "..", in no particular order; a visit returning false
// stops early. The name is not NUL-terminated and valid during the call.
// visit must not call ListDirectory on the same directory. kNotFound when the
// directory is absent. Context: may sleep.
using DirectoryVisitor = bool (*)(void* context, const char* name,
                                  size_t name_size, EntryType type);
Status ListDirectory(const char* path, DirectoryVisitor visit, void* context);

// Free and total bytes of the filesystem holding `path`. Context: may sleep.
Status FilesystemSpace(const char* path, uint64_t* free_bytes,
                       uint64_t* total_bytes);

// ---------------------------------------------------------------------------
// Memory for I/O buffers: directly addressable by block I/O (the kernel
// allocates it with kmalloc, never vmalloc). `size` <= 1 MiB.

void* AllocateIoBuffer(size_t size, Gfp gfp);
void FreeIoBuffer(void* buffer);

// Memory that block writes (never block reads) and File::ReadDirect() may
// use: virtually contiguous, page-aligned, `size` <= 4 MiB (the kernel
// allocates it with vmalloc). nullptr when out of memory. Context: may sleep
// (Gfp::kKernel).
void* AllocateWriteBuffer(size_t size);
void FreeWriteBuffer(void* buffer);

// One piece of a gather/scatter list. For block I/O, `data` comes from
// AllocateIoBuffer(), from AllocateWriteBuffer() (writes only) or is a
// segment of an exported-device request.
struct IoVec {
  void* data;
  size_t size;
};

// ---------------------------------------------------------------------------
// Backing block devices (the resource's data device, e.g. /dev/vg/r0).

class BlockDevice {
 public:
  enum class Op : uint8_t { kRead = 0, kWrite = 1, kFlush = 2 };

  // One asynchronous request. The caller owns it until `done` is called.
  // Offsets and sizes are multiples of 512; the vecs' total equals `size`
  // (kFlush: size 0, no vecs). `fua` makes a write durable before it
  // completes.
  struct Request {
    Op op = Op::kRead;
    bool fua = false;
    uint64_t offset = 0;
    uint64_t size = 0;
    const IoVec* vecs = nullptr;
    size_t vec_count = 0;
    // Called once with the outcome. Context: any, possibly interrupt
    // context and possibly before Submit() returns: it must not sleep, not
    // take a Mutex, and the submitter must not hold a lock `done` needs.
    void (*done)(Request* request, Status status) = nullptr;
    void* context = nullptr;
  };

  BlockDevice() = default;
  ~BlockDevice() { Close(); }
  BlockDevice(const BlockDevice&) = delete;
  BlockDevice& operator=(const BlockDevice&) = delete;

  // Opens the block device (or, in userspace, regular file) at `path` for
  // reading and writing, exclusively (kernel: a holder claim; another
  // exclusive opener or a mounted filesystem gives EBUSY). Context: may sleep.
  Status Open(const char* path);
  // REQUIRES no request in flight. Idempotent. Context: may sleep.
  void Close();
  bool is_open() const { return impl_ != nullptr; }
  // Size in bytes, as of Open(). Context: any.
  uint64_t size() const { return size_; }

  // Starts `request`. Never fails synchronously: errors arrive through
  // `done`. Context: may sleep (allocates with kNoIo); not from interrupt.
  void Submit(Request* request);

  // Synchronous helpers over Submit(). Context: may sleep; the caller must
  // not be inside the exported device's submit path.
  Status ReadSync(uint64_t offset, void* buffer, size_t size);
  Status WriteSync(uint64_t offset, const void* data, size_t size);
  Status FlushSync();

 private:
  void* impl_ = nullptr;
  uint64_t size_ = 0;
};

// ---------------------------------------------------------------------------
// The exported device /dev/mars/NAME (kernel: a bio-based gendisk).

enum class FrontOp : uint8_t { kRead = 0, kWrite = 1, kFlush = 2 };

enum FrontFlags : uint32_t {
  kFrontFua = 1u << 0,       // durable before completion
  kFrontPreflush = 1u << 1,  // everything completed before is durable first
};

// One request to the exported device. Offsets/sizes are multiples of the
// logical block size (4096); size <= 1 MiB; kFlush has size 0 and no vecs.
// `vecs` point into the submitter's pages and stay valid until completion.
struct FrontRequest {
  FrontOp op = FrontOp::kRead;
  uint32_t flags = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
  const IoVec* vecs = nullptr;
  size_t vec_count = 0;
  void* platform = nullptr;  // owned by the platform
};

// Completes a request handed to a FrontDisk's submit function; the request
// must not be touched afterwards. Context: any (also interrupt context).
void CompleteFrontRequest(FrontRequest* request, Status status);

class FrontDisk {
 public:
  // Called for every request, in the submitter's context (may sleep, but
  // must not wait for I/O it submits itself: kernel bios submitted from here
  // start only after it returns). Must eventually call
  // CompleteFrontRequest().
  using SubmitFunction = void (*)(void* context, FrontRequest* request);

  static constexpr uint32_t kLogicalBlockBytes = 4096;
  static constexpr uint32_t kMaxRequestBytes = 1u << 20;

  FrontDisk() = default;
  ~FrontDisk() {
    Status ignored = Destroy();
    (void)ignored;
  }
  FrontDisk(const FrontDisk&) = delete;
  FrontDisk& operator=(const FrontDisk&) = delete;

  // Creates /dev/mars/`name` of `size_bytes` (a multiple of 4096) with a
  // volatile write cache and FUA advertised, no discard or write-zeroes.
  // Requests start arriving before Create() returns. Context: may sleep.
  Status Create(const char* name, uint64_t size_bytes, SubmitFunction submit,
                void* context);
  // Removes the device: refuses new opens, then deletes it. Returns
  // kUnavailable (nothing changes) while open_count() > 0. After it returns
  // no submit call runs or starts; requests already handed to the submit
  // function may still be completing (the engine tracks its own).
  // Idempotent. Context: may sleep.
  Status Destroy();
  bool exists() const { return impl_ != nullptr; }
  // Current number of openers. Context: any.
  int open_count() const;

 private:
  void* impl_ = nullptr;
};

// ---------------------------------------------------------------------------
// The trigger (/proc/sys/mars/trigger) and the main thread's sleep.

// Sleeps until the trigger is written, `timeout_ns` passed, or the calling
// platform thread is asked to stop. Returns the trigger level written (1 or
// 2), or 0 on timeout/stop. Context: may sleep.
int WaitForTrigger(uint64_t timeout_ns);

// ---------------------------------------------------------------------------
// Tunables (read-write) and status values (read-only) under /proc/sys/mars/,
// documented in docu/control-interface.md. Append only; never renumber.

enum class Tunable : int {
  kBufferLimitBytes = 0,      // buffer_limit_bytes: write buffer per host
  kLogRotateBytes = 1,        // logrotate_bytes: start a new logfile after
  kLogSyncIntervalMs = 2,     // log_sync_interval_ms: longest delay of a log
                              // fdatasync when nobody waits for one
  kReplayLinkIntervalMs = 3,  // replay_link_interval_ms: replay-HOST updates
  kPeerInflightBytes = 4,     // peer_inflight_bytes: logfile and sync block
                              // bytes requested from one peer connection
                              // and not yet received and written
  kCount = 5,
};

enum class Counter : int {
  kBytesLogged = 0,         // bytes_logged: record bytes written to logfiles
  kBytesWrittenBack = 1,    // bytes_written_back: to data devices
  kLogFlushes = 2,          // log_flushes: fdatasyncs of logfiles
  kDataFlushes = 3,         // data_flushes: flushes of data devices
  kBytesBuffered = 4,       // bytes_buffered: now, not yet written back
  kWritesThrottled = 5,     // writes_throttled: writes that waited for room
  kLogRateBytes = 6,        // log_rate_bytes: bytes/s logged, last second
  kWritebackRateBytes = 7,  // writeback_rate_bytes: bytes/s, last second
  kBytesReplayed = 8,       // bytes_replayed: applied by recovery and replay
  kTreeEntries = 9,         // tree_entries: now, in the replicated tree
  kPeerAllocations = 10,    // peer_allocations: now, held by the tree
                            // replication (tree, mirror, node bookkeeping)
  kSyncBytesCompared = 11,  // sync_bytes_compared: by digest, as sync target
  kSyncBytesCopied = 12,    // sync_bytes_copied: received and written
  kTreeWriteErrno = 13,     // tree_write_errno: of the last failed write of
                            // the heartbeat to /mars, 0 once one succeeds
  kBytesReadDirect = 14,    // bytes_read_direct: payload bytes recovery and
                            // replay read from logfiles with direct I/O
  kBytesReadAhead = 15,     // bytes_read_ahead: of those, read while the
                            // record before was verified
  kWritesMerged = 16,       // writes_merged: writes appended to the payload
                            // of the record before them
  kCount = 17,
};

// Context: any.
uint64_t GetTunable(Tunable id);
uint64_t GetCounter(Counter id);
void AddCounter(Counter id, uint64_t delta);
void SubtractCounter(Counter id, uint64_t delta);
void SetCounter(Counter id, uint64_t value);

}  // namespace platform
}  // namespace mars

#endif  // MARS_CORE_PLATFORM_IO_H_
