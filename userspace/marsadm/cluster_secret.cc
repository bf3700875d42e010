#include "cluster_secret.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mars::cli {

std::string RandomHex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t n = getrandom(raw.data() + done, bytes - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("getrandom failed");
    done += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (const char c : raw) {
    hex += kHex[static_cast<unsigned char>(c) >> 4];
    hex += kHex[static_cast<unsigned char>(c) & 15];
  }
  return hex;
}

FileAction WriteSecret(const TreeDir& tree) {
  const std::string path = tree.Absolute(kSecretFile);
  const std::string staging = tree.Absolute(std::string(kStagingPrefix) +
                                            std::to_string(getpid()) + "." +
                                            kSecretFile);
  return FileAction{
      "write " + std::string(kSecretFile) + " (cluster secret, " +
          std::to_string(kSecretBytes) + " random bytes as hex, mode 0600)",
      [path, staging]() -> std::optional<std::string> {
        const std::string text = RandomHex(kSecretBytes) + "\n";
        unlink(staging.c_str());
        const int fd = open(staging.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return "cannot create " + staging + ": " + std::strerror(errno);
        const bool ok = fchmod(fd, 0600) == 0 &&
                        write(fd, text.data(), text.size()) ==
                            static_cast<ssize_t>(text.size()) &&
                        fsync(fd) == 0;
        const int saved = errno;
        close(fd);
        if (!ok || rename(staging.c_str(), path.c_str()) != 0) {
          unlink(staging.c_str());
          return "cannot write " + path + ": " + std::strerror(ok ? errno : saved);
        }
        return std::nullopt;
      }};
}

std::optional<std::string> SecretProblem(const TreeDir& tree) {
  const std::string path = tree.Absolute(kSecretFile);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return "is missing";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if ((st.st_mode & 077) != 0) return "is readable by others than root (chmod 600)";
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::string("cannot be read: ") + std::strerror(errno);
  const ssize_t n = read(fd, text.data(), text.size());
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) return "cannot be read";
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.size() != 2 * kSecretBytes ||
      text.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return "is not " + std::to_string(2 * kSecretBytes) + " lowercase hex digits";
  }
  return std::nullopt;
}

}  // namespace mars::cli
