#include "tree_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

#include "core/tree/names.h"

namespace mars::cli {
namespace {

uint64_t StampOf(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

struct timespec ToTimespec(uint64_t stamp_ns) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(stamp_ns / 1000000000ull);
  ts.tv_nsec = static_cast<long>(stamp_ns % 1000000000ull);
  return ts;
}

bool IsStagingName(const std::string& name) {
  return name.compare(0, std::strlen(kStagingPrefix), kStagingPrefix) == 0;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string Parent(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

uint64_t WallClockNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::string TreeDir::Absolute(const std::string& path) const {
  return path.empty() ? root_ : root_ + "/" + path;
}

bool TreeDir::RootIsDirectory() const {
  struct stat st;
  return stat(root_.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<DiskEntry> TreeDir::Stat(const std::string& path) const {
  struct stat st;
  const std::string abs = Absolute(path);
  if (lstat(abs.c_str(), &st) != 0) return std::nullopt;
  DiskEntry entry;
  entry.path = path;
  entry.stamp_ns = StampOf(st);
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    const ssize_t n = readlink(abs.c_str(), target.data(), target.size());
    if (n < 0) return std::nullopt;
    target.resize(static_cast<size_t>(n));
    entry.type = EntryType::kLink;
    entry.tombstone = target == tree::kTombstoneValue;
    entry.value = std::move(target);
  } else if (S_ISDIR(st.st_mode)) {
    entry.type = EntryType::kDirectory;
    entry.stamp_ns = 0;  // a directory is a container, not a stamped entry
  } else if (S_ISREG(st.st_mode)) {
    entry.type = EntryType::kFile;
    entry.size = static_cast<uint64_t>(st.st_size);
  } else {
    return std::nullopt;
  }
  return entry;
}

std::optional<std::string> TreeDir::ReadLink(const std::string& path) const {
  auto entry = Stat(path);
  if (!entry || entry->type != EntryType::kLink || entry->tombstone) {
    return std::nullopt;
  }
  return entry->value;
}

bool TreeDir::Exists(const std::string& path) const {
  auto entry = Stat(path);
  return entry && !entry->tombstone;
}

std::vector<std::string> TreeDir::ListNames(const std::string& dir) const {
  std::vector<std::string> names;
  DIR* d = opendir(Absolute(dir).c_str());
  if (d == nullptr) return names;
  while (struct dirent* de = readdir(d)) {
    const std::string name = de->d_name;
    if (name == "." || name == ".." || IsStagingName(name)) continue;
    if (Exists(Join(dir, name))) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<DiskEntry> TreeDir::ListAll() const {
  std::vector<DiskEntry> all;
  std::vector<std::string> pending = {""};
  while (!pending.empty()) {
    const std::string dir = pending.back();
    pending.pop_back();
    DIR* d = opendir(Absolute(dir).c_str());
    if (d == nullptr) continue;
    while (struct dirent* de = readdir(d)) {
      const std::string name = de->d_name;
      if (name == "." || name == ".." || IsStagingName(name)) continue;
      auto entry = Stat(Join(dir, name));
      if (!entry) continue;
      if (entry->type == EntryType::kDirectory) pending.push_back(entry->path);
      all.push_back(std::move(*entry));
    }
    closedir(d);
  }
  std::sort(all.begin(), all.end(), [](const DiskEntry& a, const DiskEntry& b) {
    return a.path < b.path;
  });
  return all;
}

uint64_t TreeDir::MaxStamp() const {
  uint64_t max = 0;
  for (const DiskEntry& e : ListAll()) {
    if (e.type != EntryType::kDirectory) max = std::max(max, e.stamp_ns);
  }
  return max;
}

void ChangeSet::SetLink(const std::string& path, const std::string& value) {
  changes_.push_back({Change::Kind::kSetLink, path, value});
}
void ChangeSet::Delete(const std::string& path) {
  changes_.push_back({Change::Kind::kDelete, path, ""});
}
void ChangeSet::MakeDir(const std::string& path) {
  changes_.push_back({Change::Kind::kMakeDir, path, ""});
}
void ChangeSet::CreateFile(const std::string& path) {
  changes_.push_back({Change::Kind::kCreateFile, path, ""});
}

std::vector<std::string> ChangeSet::Describe() const {
  std::vector<std::string> lines;
  for (const Change& c : changes_) {
    switch (c.kind) {
      case Change::Kind::kSetLink:
        lines.push_back("set " + c.path + " -> " + c.value);
        break;
      case Change::Kind::kDelete:
        lines.push_back("delete " + c.path);
        break;
      case Change::Kind::kMakeDir:
        lines.push_back("mkdir " + c.path);
        break;
      case Change::Kind::kCreateFile:
        lines.push_back("create " + c.path);
        break;
    }
  }
  return lines;
}

Stamper::Stamper(const TreeDir& tree, const std::string& lamport_clock_file)
    : last_(tree.MaxStamp()) {
  std::ifstream in(lamport_clock_file);
  uint64_t module_now = 0;
  if (in >> module_now) last_ = std::max(last_, module_now);
}

uint64_t Stamper::Next() {
  last_ = std::max(last_ + 1, WallClockNs());
  return last_;
}

namespace {

// A link to be renamed into place.
struct Staged {
  std::string staging;  // absolute
  std::string target;   // absolute
};

std::optional<std::string> MakeDirs(const TreeDir& tree,
                                    const std::string& path) {
  if (path.empty()) return std::nullopt;
  if (auto err = MakeDirs(tree, Parent(path))) return err;
  const std::string abs = tree.Absolute(path);
  if (mkdir(abs.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create directory", abs);
  }
  struct stat st;
  if (stat(abs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return "cannot create directory " + abs + ": not a directory";
  }
  return std::nullopt;
}

std::optional<std::string> StageLink(const TreeDir& tree,
                                     const std::string& path,
                                     const std::string& value, uint64_t stamp,
                                     std::vector<Staged>* staged) {
  if (auto err = MakeDirs(tree, Parent(path))) return err;
  // Atomic: tests commit from several threads (marsadm and a fake kernel).
  static std::atomic<unsigned> counter{0};
  const std::string staging = tree.Absolute(
      Join(Parent(path), std::string(kStagingPrefix) +
                             std::to_string(getpid()) + "." +
                             std::to_string(counter++) + "." + BaseName(path)));
  unlink(staging.c_str());
  if (symlink(value.c_str(), staging.c_str()) != 0) {
    return Errno("cannot create link", staging);
  }
  struct timespec times[2] = {ToTimespec(stamp), ToTimespec(stamp)};
  if (utimensat(AT_FDCWD, staging.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    const std::string err = Errno("cannot set the stamp of", staging);
    unlink(staging.c_str());
    return err;
  }
  staged->push_back({staging, tree.Absolute(path)});
  return std::nullopt;
}

// Makes the changes durable (fsync of every directory whose entries they
// changed, and of the files they created), so that a command that reported
// success survives a power cut right after it (ext4 alone commits within
// 5 s). Not syncfs: it also reports an earlier failed writeback of any file
// there (a logfile copy of the module's, say) as this commit's failure.
std::atomic<SyncPathForTest> sync_path_for_test{nullptr};

std::optional<std::string> SyncChanged(const std::set<std::string>& paths) {
  for (const std::string& path : paths) {
    if (SyncPathForTest hook = sync_path_for_test.load()) {
      if (const int e = hook(path)) {
        errno = e;
        return Errno("cannot make the changes durable in", path);
      }
      continue;
    }
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // removed by a later change
      return Errno("cannot open", path);
    }
    std::optional<std::string> err;
    if (fsync(fd) != 0) err = Errno("cannot make the changes durable in", path);
    close(fd);
    if (err) return err;
  }
  return std::nullopt;
}

}  // namespace

void SetSyncPathForTest(SyncPathForTest sync_path) {
  sync_path_for_test.store(sync_path);
}

std::optional<std::string> Commit(const TreeDir& tree, const ChangeSet& changes,
                                  Stamper& stamper) {
  std::vector<Staged> staged;
  std::vector<std::string> created_files;
  auto undo = [&]() {
    for (const Staged& s : staged) unlink(s.staging.c_str());
    for (const std::string& f : created_files) unlink(f.c_str());
  };
  for (const Change& c : changes.changes()) {
    std::optional<std::string> err;
    switch (c.kind) {
      case Change::Kind::kSetLink:
        err = StageLink(tree, c.path, c.value, stamper.Next(), &staged);
        break;
      case Change::Kind::kDelete: {
        auto entry = tree.Stat(c.path);
        if (!entry || entry->tombstone) break;
        if (entry->type != EntryType::kDirectory) {
          // A link, or a file: rename() replaces either with the tombstone.
          err = StageLink(tree, c.path, tree::kTombstoneValue, stamper.Next(),
                          &staged);
          break;
        }
        for (const DiskEntry& e : tree.ListAll()) {
          if (e.type != EntryType::kDirectory && !e.tombstone &&
              e.path.compare(0, c.path.size() + 1, c.path + "/") == 0) {
            err = StageLink(tree, e.path, tree::kTombstoneValue, stamper.Next(),
                            &staged);
            if (err) break;
          }
        }
        break;
      }
      case Change::Kind::kMakeDir:
        err = MakeDirs(tree, c.path);
        break;
      case Change::Kind::kCreateFile: {
        if (auto e = MakeDirs(tree, Parent(c.path))) {
          err = e;
          break;
        }
        const std::string abs = tree.Absolute(c.path);
        const int fd = open(abs.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
          err = Errno("cannot create", abs);
          break;
        }
        created_files.push_back(abs);
        struct timespec times[2] = {ToTimespec(stamper.Next()), ToTimespec(0)};
        times[1] = times[0];
        if (futimens(fd, times) != 0)
          err = Errno("cannot set the stamp of", abs);
        close(fd);
        break;
      }
    }
    if (err) {
      undo();
      return err;
    }
  }
  for (size_t i = 0; i < staged.size(); ++i) {
    if (rename(staged[i].staging.c_str(), staged[i].target.c_str()) != 0) {
      const std::string err =
          Errno("cannot rename into place", staged[i].target);
      for (size_t j = i; j < staged.size(); ++j)
        unlink(staged[j].staging.c_str());
      return err + " (earlier changes of this commit are in place)";
    }
  }
  std::set<std::string> durable;
  for (const Change& c : changes.changes()) {
    // MakeDirs may have made every directory on the way.
    for (std::string dir = Parent(c.path);; dir = Parent(dir)) {
      durable.insert(tree.Absolute(dir));
      if (dir.empty()) break;
    }
    if (c.kind == Change::Kind::kMakeDir) durable.insert(tree.Absolute(c.path));
  }
  durable.insert(created_files.begin(), created_files.end());
  return SyncChanged(durable);
}

}  // namespace mars::cli
