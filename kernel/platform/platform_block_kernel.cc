// The block half of core/platform_io.h in the kernel: I/O buffers, backing
// block devices (BlockDevice over glue/bdev.c) and the exported device
// /dev/mars/NAME (FrontDisk over glue/blkdev.c). Contract checks live here;
// the glue only translates to bios and gendisks.
#include <stddef.h>
#include <stdint.h>

#include "core/base/errno_status.h"
#include "core/base/memory.h"
#include "core/base/status.h"
#include "core/platform.h"
#include "core/platform_io.h"
#include "glue/glue_block.h"
#include "glue/mars_glue.h"

namespace mars {
namespace platform {

static_assert(sizeof(IoVec) == sizeof(mars_io_vec), "IoVec layout");
static_assert(offsetof(IoVec, data) == offsetof(mars_io_vec, data),
              "IoVec layout");
static_assert(offsetof(IoVec, size) == offsetof(mars_io_vec, size),
              "IoVec layout");
static_assert(static_cast<int>(BlockDevice::Op::kRead) == MARS_BLOCK_READ &&
                  static_cast<int>(BlockDevice::Op::kWrite) ==
                      MARS_BLOCK_WRITE &&
                  static_cast<int>(BlockDevice::Op::kFlush) == MARS_BLOCK_FLUSH,
              "op map");
static_assert(static_cast<int>(FrontOp::kRead) == MARS_BLOCK_READ &&
                  static_cast<int>(FrontOp::kWrite) == MARS_BLOCK_WRITE &&
                  static_cast<int>(FrontOp::kFlush) == MARS_BLOCK_FLUSH,
              "front op map");
static_assert(static_cast<int>(kFrontFua) == MARS_FRONT_FUA &&
                  static_cast<int>(kFrontPreflush) == MARS_FRONT_PREFLUSH,
              "front flag map");

namespace {

constexpr size_t kMaxIoBufferBytes = size_t{1} << 20;
constexpr size_t kMaxWriteBufferBytes = size_t{4} << 20;
constexpr uint64_t kSectorMask = 511;

// The glue's view of an IoVec array (same layout, checked above).
const mars_io_vec* GlueVecs(const IoVec* vecs) {
  return reinterpret_cast<const mars_io_vec*>(vecs);
}

// Whether `request` is well formed for BlockDevice::Submit().
bool ValidRequest(const BlockDevice::Request& request) {
  if (request.op == BlockDevice::Op::kFlush) {
    return request.size == 0 && request.vec_count == 0;
  }
  if (request.op != BlockDevice::Op::kRead &&
      request.op != BlockDevice::Op::kWrite) {
    return false;
  }
  if ((request.offset & kSectorMask) != 0 ||
      (request.size & kSectorMask) != 0) {
    return false;
  }
  if (request.vec_count != 0 && request.vecs == nullptr) return false;
  uint64_t total = 0;
  for (size_t i = 0; i < request.vec_count; ++i) {
    total += request.vecs[i].size;
  }
  return total == request.size;
}

// One exported disk: the engine's submit function and the glue's disk.
struct FrontImpl {
  FrontDisk::SubmitFunction submit = nullptr;
  void* context = nullptr;
  void* glue = nullptr;
};

}  // namespace

void* AllocateIoBuffer(size_t size, Gfp gfp) {
  if (!MARS_CHECK(size <= kMaxIoBufferBytes)) return nullptr;
  return mars_glue_io_buffer_alloc(size, static_cast<int>(gfp));
}

void FreeIoBuffer(void* buffer) { mars_glue_io_buffer_free(buffer); }

void* AllocateWriteBuffer(size_t size) {
  if (!MARS_CHECK(size <= kMaxWriteBufferBytes)) return nullptr;
  return mars_glue_write_buffer_alloc(size);
}

void FreeWriteBuffer(void* buffer) { mars_glue_write_buffer_free(buffer); }

// ---------------------------------------------------------------------------
// BlockDevice

Status BlockDevice::Open(const char* path) {
  if (!MARS_CHECK(impl_ == nullptr)) {
    return Status(StatusCode::kInternal, "block device is already open");
  }
  void* handle = nullptr;
  unsigned long long size = 0;
  const int error = mars_glue_bdev_open(path, &handle, &size);
  if (error != 0) return StatusFromErrno(error);
  impl_ = handle;
  size_ = size;
  return Status::Ok();
}

void BlockDevice::Close() {
  if (impl_ == nullptr) return;
  mars_glue_bdev_close(impl_);
  impl_ = nullptr;
  size_ = 0;
}

void BlockDevice::Submit(Request* request) {
  if (!MARS_CHECK(impl_ != nullptr && ValidRequest(*request))) {
    request->done(request, Status(StatusCode::kInternal,
                                  "malformed block device request"));
    return;
  }
  if (request->op != Op::kFlush && request->size == 0) {
    request->done(request, Status::Ok());
    return;
  }
  mars_glue_bdev_submit(impl_, static_cast<int>(request->op),
                        request->fua ? 1 : 0, request->offset, request->size,
                        GlueVecs(request->vecs), request->vec_count, request);
}

// ---------------------------------------------------------------------------
// FrontDisk

Status FrontDisk::Create(const char* name, uint64_t size_bytes,
                         SubmitFunction submit, void* context) {
  if (!MARS_CHECK(impl_ == nullptr)) {
    return Status(StatusCode::kInternal, "exported device already exists");
  }
  if (name[0] == '\0') {
    return Status(StatusCode::kInvalidArgument, "empty device name");
  }
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c == '/') {
      return Status(StatusCode::kInvalidArgument, "'/' in a device name");
    }
  }
  if (size_bytes % kLogicalBlockBytes != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "device size is not a multiple of 4096");
  }
  FrontImpl* impl = New<FrontImpl>(Gfp::kKernel);
  if (impl == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for exported device");
  }
  impl->submit = submit;
  impl->context = context;
  // Requests may arrive before the glue returns: impl is complete by now.
  const int error = mars_glue_front_create(name, size_bytes, impl,
                                           sizeof(FrontRequest), &impl->glue);
  if (error != 0) {
    Delete(impl);
    return StatusFromErrno(error);
  }
  impl_ = impl;
  return Status::Ok();
}

Status FrontDisk::Destroy() {
  if (impl_ == nullptr) return Status::Ok();
  FrontImpl* impl = static_cast<FrontImpl*>(impl_);
  if (mars_glue_front_destroy(impl->glue) != 0) {
    return Status(StatusCode::kUnavailable, "exported device is open");
  }
  Delete(impl);
  impl_ = nullptr;
  return Status::Ok();
}

int FrontDisk::open_count() const {
  if (impl_ == nullptr) return 0;
  return mars_glue_front_open_count(static_cast<FrontImpl*>(impl_)->glue);
}

void CompleteFrontRequest(FrontRequest* request, Status status) {
  void* bio = request->platform;
  // FrontRequest is trivially destructible: the glue frees its memory.
  mars_glue_front_complete(bio, request, static_cast<int>(status.code()));
}

}  // namespace platform
}  // namespace mars

// Entry points the glue calls (declared in glue/glue_block.h).

extern "C" void mars_bdev_request_done(void* request, int error) {
  auto* r = static_cast<mars::platform::BlockDevice::Request*>(request);
  r->done(r, mars::StatusFromErrno(error));
}

extern "C" void mars_front_submit(void* owner, void* memory,
                                  const mars_io_vec* vecs,
                                  unsigned int vec_count, int op,
                                  unsigned int flags, unsigned long long offset,
                                  unsigned long long size, void* bio) {
  using mars::platform::FrontRequest;
  auto* impl = static_cast<mars::platform::FrontImpl*>(owner);
  auto* request = new (memory, mars::PlacementTag{}) FrontRequest;
  request->op = static_cast<mars::platform::FrontOp>(op);
  request->flags = flags;
  request->offset = offset;
  request->size = size;
  request->vecs = reinterpret_cast<const mars::platform::IoVec*>(vecs);
  request->vec_count = vec_count;
  request->platform = bio;
  impl->submit(impl->context, request);
}
