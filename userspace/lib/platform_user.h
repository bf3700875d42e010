// Userspace-only additions to core/platform.h, for tests and benchmarks.
#ifndef MARS_USERSPACE_LIB_PLATFORM_USER_H_
#define MARS_USERSPACE_LIB_PLATFORM_USER_H_

namespace mars {
namespace platform {

// True when Crc32cExtend() runs on the SSE4.2 crc32 instruction.
bool Crc32cUsesSse42();

}  // namespace platform
}  // namespace mars

#endif  // MARS_USERSPACE_LIB_PLATFORM_USER_H_
