// Operating-system error numbers as Status: the platforms (kernel glue and
// POSIX) report failures of files, links and block devices through
// StatusFromErrno(), so the engine sees one classification and one readable
// message for each. Numbers are Linux's (identical in kernel and userspace).
#ifndef MARS_CORE_BASE_ERRNO_STATUS_H_
#define MARS_CORE_BASE_ERRNO_STATUS_H_

#include "core/base/status.h"

namespace mars {

// Status for the positive errno `error` (a negative value is negated; 0 gives
// Ok). The code classifies it: ENOENT -> kNotFound, EEXIST -> kAlreadyExists,
// ENOMEM -> kNoMemory, EINVAL/ENAMETOOLONG/ENOTDIR/EISDIR/ELOOP ->
// kInvalidArgument, EAGAIN/EBUSY/EINTR -> kUnavailable, EBADMSG -> kCorruption,
// everything else (EIO, ENOSPC, EROFS, EACCES, EPERM, ENXIO, ENODEV, ...) ->
// kIoError. The message is static text naming the error and its number,
// e.g. "no space left on device (errno 28)"; an unknown number gives
// "I/O error (unknown errno)". Context: any.
Status StatusFromErrno(int error);

// The positive errno a Status from StatusFromErrno() was made from: 0 for
// Ok, EIO (5) for any other Status (a failure that carries no errno, or an
// unknown number). Context: any.
int ErrnoOfStatus(Status status);

}  // namespace mars

#endif  // MARS_CORE_BASE_ERRNO_STATUS_H_
