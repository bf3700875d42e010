// Tests of StatusFromErrno(): classification and messages, checked against
// the C library's errno numbers (the table in errno_status.cc writes them out).
#include "core/base/errno_status.h"

#include <ctype.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <string.h>

#include <string>

namespace mars {
namespace {

TEST(ErrnoStatusTest, ZeroIsOk) { EXPECT_TRUE(StatusFromErrno(0).ok()); }

TEST(ErrnoStatusTest, ClassifiesAsDocumented) {
  struct Case {
    int error;
    StatusCode code;
  };
  const Case cases[] = {
      {ENOENT, StatusCode::kNotFound},
      {EEXIST, StatusCode::kAlreadyExists},
      {ENOMEM, StatusCode::kNoMemory},
      {EINVAL, StatusCode::kInvalidArgument},
      {ENAMETOOLONG, StatusCode::kInvalidArgument},
      {ENOTDIR, StatusCode::kInvalidArgument},
      {EISDIR, StatusCode::kInvalidArgument},
      {ELOOP, StatusCode::kInvalidArgument},
      {EAGAIN, StatusCode::kUnavailable},
      {EWOULDBLOCK, StatusCode::kUnavailable},
      {EBUSY, StatusCode::kUnavailable},
      {EINTR, StatusCode::kUnavailable},
      {EBADMSG, StatusCode::kCorruption},
      {EIO, StatusCode::kIoError},
      {ENOSPC, StatusCode::kIoError},
      {EROFS, StatusCode::kIoError},
      {EACCES, StatusCode::kIoError},
      {EPERM, StatusCode::kIoError},
      {ENXIO, StatusCode::kIoError},
      {ENODEV, StatusCode::kIoError},
      {EDQUOT, StatusCode::kIoError},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StatusFromErrno(c.error).code(), c.code) << "errno " << c.error;
  }
}

TEST(ErrnoStatusTest, NegativeNumbersAreNegated) {
  EXPECT_EQ(StatusFromErrno(-ENOENT).code(), StatusCode::kNotFound);
  EXPECT_STREQ(StatusFromErrno(-ENOSPC).message(),
               StatusFromErrno(ENOSPC).message());
}

TEST(ErrnoStatusTest, ErrnoOfStatusGivesTheNumberBack) {
  EXPECT_EQ(ErrnoOfStatus(Status::Ok()), 0);
  for (int error : {EIO, EROFS, ENOSPC, ENOTDIR, ECONNRESET}) {
    EXPECT_EQ(ErrnoOfStatus(StatusFromErrno(error)), error) << error;
  }
  // A failure without an errno, or with an unknown one: EIO.
  EXPECT_EQ(ErrnoOfStatus(Status(StatusCode::kCorruption, "bad crc")), EIO);
  EXPECT_EQ(ErrnoOfStatus(StatusFromErrno(4095)), EIO);
}

TEST(ErrnoStatusTest, MessageNamesErrorAndNumber) {
  EXPECT_STREQ(StatusFromErrno(ENOSPC).message(),
               "no space left on device (errno 28)");
  EXPECT_STREQ(StatusFromErrno(ENOENT).message(),
               "no such file or directory (errno 2)");
  EXPECT_STREQ(StatusFromErrno(EIO).message(), "input/output error (errno 5)");
}

// Every named entry is "<strerror text, first letter lowered> (errno N)":
// this catches a wrong number or text in the written-out table.
TEST(ErrnoStatusTest, TableAgreesWithTheCLibrary) {
  int named = 0;
  for (int error = 1; error < 512; ++error) {
    const Status status = StatusFromErrno(error);
    ASSERT_FALSE(status.ok());
    const std::string message = status.message();
    if (message == "I/O error (unknown errno)") {
      EXPECT_EQ(status.code(), StatusCode::kIoError);
      continue;
    }
    std::string expected = strerror(error);
    expected[0] = static_cast<char>(tolower(expected[0]));
    expected += " (errno " + std::to_string(error) + ")";
    EXPECT_EQ(message, expected);
    ++named;
  }
  EXPECT_GE(named, 50);
}

TEST(ErrnoStatusTest, KernelInternalNumbers) {
  EXPECT_STREQ(StatusFromErrno(-512).message(),
               "restart system call (errno 512)");
  EXPECT_EQ(StatusFromErrno(524).code(), StatusCode::kIoError);
}

TEST(ErrnoStatusTest, UnknownNumbers) {
  for (int error : {100000, 3000, INT_MAX, INT_MIN}) {
    const Status status = StatusFromErrno(error);
    EXPECT_EQ(status.code(), StatusCode::kIoError);
    EXPECT_STREQ(status.message(), "I/O error (unknown errno)");
  }
}

}  // namespace
}  // namespace mars
