// Test-only helpers of the core/platform_io.h contract tests
// (platform_io_fs_test.cc, platform_io_block_test.cc,
// platform_io_front_disk_test.cc): a temporary directory removed with
// everything in it, whole-file reads and writes, and deterministic byte
// patterns. Not part of mars.ko.
#ifndef MARS_CORE_PLATFORM_IO_TEST_UTIL_H_
#define MARS_CORE_PLATFORM_IO_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

namespace mars {
namespace platform {
namespace test {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") +
        "/mars-platform-io-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

inline void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

inline std::string Pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(i * 7 + seed);
  return s;
}

}  // namespace test
}  // namespace platform
}  // namespace mars

#endif  // MARS_CORE_PLATFORM_IO_TEST_UTIL_H_
