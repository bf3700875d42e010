#include "core/startup_checks.h"

#include "core/base/crc32c.h"
#include "core/platform.h"

namespace mars {
namespace {

// RFC 3720 (iSCSI) appendix B.4 and the classic "123456789" check value.
constexpr uint8_t kZeros[32] = {};
constexpr uint8_t kOnes[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

Status CheckCrc(const char* name, const void* data, size_t size,
                uint32_t expected) {
  const uint32_t got = crc32c::Value(data, size);
  if (got != expected) {
    platform::Log(platform::LogLevel::kError,
                  "self-test %s failed: crc32c 0x%08x, expected 0x%08x", name,
                  got, expected);
    return Status(StatusCode::kInternal, "CRC-32C self-test failed");
  }
  return Status::Ok();
}

}  // namespace

Status RunStartupChecks() {
  Status s = CheckCrc("crc32c-check", "123456789", 9, 0xE3069283u);
  if (s.ok()) s = CheckCrc("crc32c-zeros", kZeros, sizeof(kZeros), 0x8A9136AAu);
  if (s.ok()) s = CheckCrc("crc32c-ones", kOnes, sizeof(kOnes), 0x62A8AB43u);
  if (s.ok()) {
    // Chaining across an odd split must equal the one-shot value.
    const uint32_t first = crc32c::Value("1234", 4);
    s = CheckCrc("crc32c-extend", "123456789", 9,
                 crc32c::Extend(first, "56789", 5));
  }
  return s;
}

}  // namespace mars
