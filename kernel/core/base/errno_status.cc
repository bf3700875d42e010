// StatusFromErrno(): one table maps each Linux errno the platforms can meet
// to its StatusCode and a static message "<description> (errno <n>)". The
// numbers are written out because the core may not include <errno.h>; they
// are the same on every Linux architecture mars supports (x86-64).
#include "core/base/errno_status.h"

#include <stddef.h>

namespace mars {
namespace {

struct ErrnoEntry {
  int number;
  StatusCode code;
  const char* message;
};

// `name` only documents the entry: the core cannot include <errno.h>.
#define MARS_ERRNO(name, number, code, text) \
  { number, StatusCode::code, text " (errno " #number ")" }

constexpr ErrnoEntry kErrnoTable[] = {
    MARS_ERRNO(EPERM, 1, kIoError, "operation not permitted"),
    MARS_ERRNO(ENOENT, 2, kNotFound, "no such file or directory"),
    MARS_ERRNO(EINTR, 4, kUnavailable, "interrupted system call"),
    MARS_ERRNO(EIO, 5, kIoError, "input/output error"),
    MARS_ERRNO(ENXIO, 6, kIoError, "no such device or address"),
    MARS_ERRNO(E2BIG, 7, kIoError, "argument list too long"),
    MARS_ERRNO(EBADF, 9, kIoError, "bad file descriptor"),
    MARS_ERRNO(EAGAIN, 11, kUnavailable, "resource temporarily unavailable"),
    MARS_ERRNO(ENOMEM, 12, kNoMemory, "cannot allocate memory"),
    MARS_ERRNO(EACCES, 13, kIoError, "permission denied"),
    MARS_ERRNO(EFAULT, 14, kIoError, "bad address"),
    MARS_ERRNO(ENOTBLK, 15, kIoError, "block device required"),
    MARS_ERRNO(EBUSY, 16, kUnavailable, "device or resource busy"),
    MARS_ERRNO(EEXIST, 17, kAlreadyExists, "file exists"),
    MARS_ERRNO(EXDEV, 18, kIoError, "invalid cross-device link"),
    MARS_ERRNO(ENODEV, 19, kIoError, "no such device"),
    MARS_ERRNO(ENOTDIR, 20, kInvalidArgument, "not a directory"),
    MARS_ERRNO(EISDIR, 21, kInvalidArgument, "is a directory"),
    MARS_ERRNO(EINVAL, 22, kInvalidArgument, "invalid argument"),
    MARS_ERRNO(ENFILE, 23, kIoError, "too many open files in system"),
    MARS_ERRNO(EMFILE, 24, kIoError, "too many open files"),
    MARS_ERRNO(ENOTTY, 25, kIoError, "inappropriate ioctl for device"),
    MARS_ERRNO(ETXTBSY, 26, kIoError, "text file busy"),
    MARS_ERRNO(EFBIG, 27, kIoError, "file too large"),
    MARS_ERRNO(ENOSPC, 28, kIoError, "no space left on device"),
    MARS_ERRNO(ESPIPE, 29, kIoError, "illegal seek"),
    MARS_ERRNO(EROFS, 30, kIoError, "read-only file system"),
    MARS_ERRNO(EMLINK, 31, kIoError, "too many links"),
    MARS_ERRNO(EPIPE, 32, kIoError, "broken pipe"),
    MARS_ERRNO(ERANGE, 34, kIoError, "numerical result out of range"),
    MARS_ERRNO(EDEADLK, 35, kIoError, "resource deadlock avoided"),
    MARS_ERRNO(ENAMETOOLONG, 36, kInvalidArgument, "file name too long"),
    MARS_ERRNO(ENOLCK, 37, kIoError, "no locks available"),
    MARS_ERRNO(ENOSYS, 38, kIoError, "function not implemented"),
    MARS_ERRNO(ENOTEMPTY, 39, kIoError, "directory not empty"),
    MARS_ERRNO(ELOOP, 40, kInvalidArgument,
               "too many levels of symbolic links"),
    MARS_ERRNO(ENODATA, 61, kIoError, "no data available"),
    MARS_ERRNO(ETIME, 62, kIoError, "timer expired"),
    MARS_ERRNO(EBADMSG, 74, kCorruption, "bad message"),
    MARS_ERRNO(EOVERFLOW, 75, kIoError,
               "value too large for defined data type"),
    MARS_ERRNO(EOPNOTSUPP, 95, kIoError, "operation not supported"),
    MARS_ERRNO(EAFNOSUPPORT, 97, kInvalidArgument,
               "address family not supported by protocol"),
    MARS_ERRNO(EADDRINUSE, 98, kIoError, "address already in use"),
    MARS_ERRNO(EADDRNOTAVAIL, 99, kIoError, "cannot assign requested address"),
    MARS_ERRNO(ENETDOWN, 100, kIoError, "network is down"),
    MARS_ERRNO(ENETUNREACH, 101, kIoError, "network is unreachable"),
    MARS_ERRNO(ECONNABORTED, 103, kIoError, "software caused connection abort"),
    MARS_ERRNO(ECONNRESET, 104, kIoError, "connection reset by peer"),
    MARS_ERRNO(ENOTCONN, 107, kIoError, "transport endpoint is not connected"),
    MARS_ERRNO(ESHUTDOWN, 108, kUnavailable,
               "cannot send after transport endpoint shutdown"),
    MARS_ERRNO(ETIMEDOUT, 110, kIoError, "connection timed out"),
    MARS_ERRNO(ECONNREFUSED, 111, kIoError, "connection refused"),
    MARS_ERRNO(EHOSTDOWN, 112, kIoError, "host is down"),
    MARS_ERRNO(EHOSTUNREACH, 113, kIoError, "no route to host"),
    MARS_ERRNO(ESTALE, 116, kIoError, "stale file handle"),
    MARS_ERRNO(EUCLEAN, 117, kIoError, "structure needs cleaning"),
    MARS_ERRNO(EREMOTEIO, 121, kIoError, "remote I/O error"),
    MARS_ERRNO(EDQUOT, 122, kIoError, "disk quota exceeded"),
    MARS_ERRNO(ENOMEDIUM, 123, kIoError, "no medium found"),
    MARS_ERRNO(ECANCELED, 125, kIoError, "operation canceled"),
    // Kernel-internal numbers that can leak out of in-kernel calls.
    MARS_ERRNO(ERESTARTSYS, 512, kIoError, "restart system call"),
    MARS_ERRNO(ENOTSUPP, 524, kIoError, "operation not supported"),
};

#undef MARS_ERRNO

}  // namespace

Status StatusFromErrno(int error) {
  // Unsigned negation: -INT_MIN would overflow.
  const unsigned number = error < 0 ? 0u - static_cast<unsigned>(error)
                                    : static_cast<unsigned>(error);
  if (number == 0) return Status::Ok();
  for (size_t i = 0; i < sizeof(kErrnoTable) / sizeof(kErrnoTable[0]); ++i) {
    if (static_cast<unsigned>(kErrnoTable[i].number) == number) {
      return Status(kErrnoTable[i].code, kErrnoTable[i].message);
    }
  }
  return Status(StatusCode::kIoError, "I/O error (unknown errno)");
}

int ErrnoOfStatus(Status status) {
  if (status.ok()) return 0;
  for (size_t i = 0; i < sizeof(kErrnoTable) / sizeof(kErrnoTable[0]); ++i) {
    if (kErrnoTable[i].message == status.message()) {
      return kErrnoTable[i].number;
    }
  }
  return 5;  // EIO
}

}  // namespace mars
