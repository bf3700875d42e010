// Userspace-only additions to core/platform.h and core/platform_io.h, for
// tests and benchmarks: the POSIX platform's knobs (host name, trigger,
// tunables, counters), a client of the exported device that stands in for
// the kernel's block layer, per-path statistics and injected failures of
// the backing "block devices" (regular files in userspace), and a recorder
// of every storage operation for crash-state enumeration (recording.h).
#ifndef MARS_USERSPACE_LIB_PLATFORM_USER_H_
#define MARS_USERSPACE_LIB_PLATFORM_USER_H_

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <vector>

#include "core/base/status.h"
#include "core/platform_io.h"
#include "recording.h"

namespace mars {
namespace platform {

// The implementations of Crc32cExtend() and Crc32cCopy() in userspace
// (crc32c_x86_user.cc), slowest first.
enum class Crc32cPath { kPortable, kSse42, kVpclmul };

// The fastest path this CPU runs: the one Crc32cExtend() and Crc32cCopy()
// take.
Crc32cPath Crc32cFastestPath();
// "portable", "sse4.2" or "vpclmulqdq".
const char* Crc32cPathName(Crc32cPath path);
// Crc32cExtend() and Crc32cCopy() on a given path, for tests and benchmarks
// that hold the paths against each other. `path` must not be faster than
// Crc32cFastestPath() (the CPU would not have its instructions).
uint32_t Crc32cExtendWith(Crc32cPath path, uint32_t crc, const void* data,
                          size_t size);
uint32_t Crc32cCopyWith(Crc32cPath path, uint32_t crc, void* dst,
                        const void* src, size_t size);

// Test-only API of the userspace platform. Every setting is process-wide
// and thread-safe; nothing here exists in the kernel.
namespace test {

// Allocate()d blocks not yet freed, process-wide.
int64_t LiveAllocations();

// Makes HostName() return `name` (copied; at most 63 bytes); nullptr
// restores the uname-derived name.
void SetHostNameForTest(const char* name);

// Writes the trigger as `echo LEVEL > /proc/sys/mars/trigger` would: wakes
// every WaitForTrigger() with `level` (1 or 2; others are ignored). A trigger
// written while nobody waits is kept (the highest level) and returned by the
// next WaitForTrigger() at once.
void TriggerForTest(int level);

// Sets a tunable as a write to /proc/sys/mars/<name> would.
void SetTunableForTest(Tunable id, uint64_t value);
// Restores every tunable to its default (see the enum in platform_io.h).
void ResetTunablesForTest();
// Sets every counter to 0.
void ResetCountersForTest();

// ---------------------------------------------------------------------------
// A client of the exported devices (FrontDisk), in place of the kernel's
// block layer: it builds FrontRequests, hands them to the disk's submit
// function in the calling thread, and waits for CompleteFrontRequest().

// An open of /dev/mars/NAME: counts in FrontDisk::open_count().
struct FrontDiskHandle;

// Opens the disk `name`; nullptr when no such disk exists.
FrontDiskHandle* OpenFrontDisk(const char* name);
// Closes a handle from OpenFrontDisk(); accepts nullptr.
void CloseFrontDisk(FrontDiskHandle* handle);
// The size of the disk `name` in bytes, or 0 when it does not exist.
uint64_t FrontDiskSizeForTest(const char* name);

// Where a request goes: an open handle, or a disk looked up by name for this
// request only (not counted as an open; fails kNotFound once destroyed).
class FrontTarget {
 public:
  FrontTarget(FrontDiskHandle* handle) : handle_(handle) {}  // NOLINT
  FrontTarget(const char* name) : name_(name) {}             // NOLINT
  FrontDiskHandle* handle() const { return handle_; }
  const char* name() const { return name_; }

 private:
  FrontDiskHandle* handle_ = nullptr;
  const char* name_ = nullptr;
};

// One request in flight: a waitable token. Destroying it waits for the
// completion (the request's data must stay valid until then).
class FrontIo {
 public:
  struct State;  // the request and its completion; platform_front_user.cc
  explicit FrontIo(std::unique_ptr<State> state);
  ~FrontIo();
  FrontIo(const FrontIo&) = delete;
  FrontIo& operator=(const FrontIo&) = delete;

  // True once CompleteFrontRequest() ran (or the request was refused).
  bool done() const;
  // Waits for the completion and returns its status.
  Status Wait();
  // Waits at most `timeout_ns`; false when still in flight.
  bool WaitFor(uint64_t timeout_ns);

 private:
  std::unique_ptr<State> state_;
};

// Starts one request. Checked like the block layer would before the submit
// function sees it: offset and size multiples of 4096, size <= 1 MiB, inside
// the disk, size == sum of the vecs, kFlush with size 0 and no vecs; a
// violation completes the token at once with kInvalidArgument (kIoError
// beyond the end of the disk, kNotFound for an unknown name). `data` may be
// nullptr when size is 0. The submit function runs in the calling thread.
std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      void* data, size_t size);
std::unique_ptr<FrontIo> StartFrontIo(FrontTarget target, FrontOp op,
                                      uint32_t flags, uint64_t offset,
                                      std::vector<IoVec> vecs);

// StartFrontIo() and Wait(): the status given to CompleteFrontRequest().
Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, void* data, size_t size);
Status SubmitToFrontDisk(FrontTarget target, FrontOp op, uint32_t flags,
                         uint64_t offset, std::vector<IoVec> vecs);

// ---------------------------------------------------------------------------
// Backing block devices, by the path given to BlockDevice::Open(). Counts
// are kept per path across opens until reset.

struct BlockDeviceStats {
  uint64_t reads = 0;
  uint64_t writes = 0;      // all kWrite requests, FUA or not
  uint64_t fua_writes = 0;  // kWrite requests with fua
  uint64_t flushes = 0;     // kFlush requests
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t failed = 0;  // requests completed with an error
};

BlockDeviceStats GetBlockDeviceStatsForTest(const char* path);
// Clears the counts, the injected failures and the async mode of `path`.
void ResetBlockDeviceForTest(const char* path);
// Fails the next `count` requests of kind `op` on `path` with EIO's status,
// without touching the file (a failing FUA write writes nothing).
void FailBlockDeviceOpsForTest(const char* path, BlockDevice::Op op, int count);
// Fails the next `count` File::Sync() calls on files opened as `path` with
// EIO's status (as a writeback error reported by fdatasync); 0 ends it.
void FailFileSyncsForTest(const char* path, int count);
// How many times File::Sync() was called on files opened as `path`, failed
// ones included, since the process started.
uint64_t FileSyncsForTest(const char* path);
// How many times File::Open() opened `path` (failed opens not counted)
// since the process started.
uint64_t FileOpensForTest(const char* path);
// Requests on a backing device always complete in another thread than the
// submitter's, as bios do (platform_block_user.cc). By default one I/O
// thread per open device runs them one at a time, in submission order. With
// `async`, every request on `path` runs in a thread of its own instead, so
// that requests overlap and complete in any order (the kernel promises no
// order either).
void SetBlockDeviceAsyncForTest(const char* path, bool async);
// In the async mode, each request on `path` waits `delay_ns` in its thread
// before it touches its memory and the file: a slow disk, whose requests
// stay in flight while the submitter goes on. 0 ends it.
void SetBlockDeviceAsyncDelayForTest(const char* path, uint64_t delay_ns);
// With `direct`, a BlockDevice opened on `path` afterwards moves its data
// with O_DIRECT, past the page cache, as bios reach a real device: a write
// completes once the file system has it on the disk (not yet flushed from
// the disk's cache), so the writes of the requests in flight overlap with
// the submitter's work, not with a later flush. Requests whose offset,
// memory or sizes are not 512-aligned still go through the page cache.
// Open() fails when the file system refuses O_DIRECT. For benchmarks
// (testing/bench/replay_bench.cc) and their tests.
void SetBlockDeviceDirectIoForTest(const char* path, bool direct);
// A DirectRead (platform_io.h) runs in a thread of its own; from now on each
// one sleeps `delay_ns` before it reads, so that a caller that uses the
// buffer before Wait() returned finds the old bytes there. 0 ends it.
void SetDirectReadDelayForTest(uint64_t delay_ns);
// What File::Cached() answers from now on: kCachedAsProbed (the default:
// mincore() of the pages), or always kNotCached (a copy on the disk only,
// as after a long pause; the page cache of the test machine, with its
// readahead, decides otherwise) or always kCached.
enum class CachedForTest : int { kCachedAsProbed = -1, kNotCached, kCached };
void SetCachedForTest(CachedForTest answer);

// ---------------------------------------------------------------------------
// Recording of storage operations (recording.h; used by testing/crash/,
// docu/crash-consistency.md).

// Starts recording, in one global order: writes, truncations and syncs of
// the regular files under the directory `root` (the /mars tree: logfiles),
// file creations and removals, link writes (WriteLink) and directory
// creations under it; writes (with FUA) and flushes of every backing block
// device; submissions and completions of requests of the exported devices.
// Captures `root` (directories, regular files, symlinks) now, and every
// backing device's content now if it is open, else when it is opened.
// Backing devices must not live under `root`. Without `capture_content` the
// contents are not read (Recording::content_captured is false; the caller
// knows them): the files of the initial tree and the devices' initial
// images are left empty. False when a recording is already running or
// `root` cannot be read.
bool StartRecordingForTest(const char* root, bool capture_content = true);
// Ends the recording and returns it; nullptr when none runs. Files and devices
// still open are not recorded any further.
std::unique_ptr<Recording> StopRecordingForTest();

}  // namespace test
}  // namespace platform
}  // namespace mars

#endif  // MARS_USERSPACE_LIB_PLATFORM_USER_H_
