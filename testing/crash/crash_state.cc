// Crash-state enumeration and materialisation (crash_state.h).
#include "crash_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

#include "core/platform_io.h"

namespace mars {
namespace crash {

namespace {

using Kind = RecordedEvent::Kind;

constexpr uint64_t kNsPerSecond = 1000000000ull;

bool IsMetadata(Kind kind) {
  return kind == Kind::kCreateFile || kind == Kind::kRemoveEntry ||
         kind == Kind::kWriteLink || kind == Kind::kMakeDirectory;
}

// A request of the exported device that asks for durability: a flush, or a
// write with FUA or PREFLUSH.
bool IsDurabilityRequest(const RecordedEvent& submit) {
  if (submit.front_op == static_cast<uint8_t>(platform::FrontOp::kFlush)) {
    return true;
  }
  return submit.front_op == static_cast<uint8_t>(platform::FrontOp::kWrite) &&
         (submit.front_flags &
          (platform::kFrontFua | platform::kFrontPreflush)) != 0;
}

// Copies `size` bytes to `content` at `offset`; a file grows as needed.
void Put(std::vector<uint8_t>* content, uint64_t offset, const uint8_t* data,
         uint64_t size) {
  if (content->size() < offset + size) content->resize(offset + size);
  memcpy(content->data() + offset, data, size);
}

enum class WriteOutcome { kKept, kLost, kTorn };

// A write that is not durable at the cut, under the state's fate.
struct FateRoller {
  Fate fate;
  Random* random;
  uint64_t keep_percent;
  uint64_t tear_percent;

  WriteOutcome Roll() {
    switch (fate) {
      case Fate::kNoneKept:
        return WriteOutcome::kLost;
      case Fate::kAllKept:
        return WriteOutcome::kKept;
      case Fate::kRandom:
        break;
    }
    if (random->Percent(tear_percent)) return WriteOutcome::kTorn;
    return random->Percent(keep_percent) ? WriteOutcome::kKept
                                         : WriteOutcome::kLost;
  }

  bool Keep() {
    switch (fate) {
      case Fate::kNoneKept:
        return false;
      case Fate::kAllKept:
        return true;
      case Fate::kRandom:
        break;
    }
    return random->Percent(50);
  }
};

// Applies a write that is not durable: kept whole, lost, or torn (each
// 512-byte sector of the file or device kept or lost on its own; a file may
// or may not grow to the end of the write, reading zeroes where nothing
// was kept).
void ApplyVolatileWrite(std::vector<uint8_t>* content, const RecordedEvent& e,
                        bool can_grow, FateRoller* roller, StateFacts* facts) {
  const WriteOutcome outcome = roller->Roll();
  const uint64_t end = e.offset + e.data.size();
  if (outcome == WriteOutcome::kLost) {
    facts->writes_lost++;
    return;
  }
  if (outcome == WriteOutcome::kKept) {
    facts->writes_kept++;
    Put(content, e.offset, e.data.data(), e.data.size());
    return;
  }
  facts->writes_torn++;
  if (can_grow && content->size() < end && roller->random->Percent(50)) {
    content->resize(end);
  }
  for (uint64_t at = e.offset; at < end;) {
    const uint64_t piece_end =
        std::min(end, (at / kSectorBytes + 1) * kSectorBytes);
    if (roller->random->Percent(roller->keep_percent)) {
      Put(content, at, e.data.data() + (at - e.offset), piece_end - at);
    }
    at = piece_end;
  }
}

// Makes `path` a regular file holding exactly `want`, overwriting it in
// place. With `have` (what it holds now), only the 4096-byte pages that
// differ are written.
bool SyncFile(const std::string& path, const std::vector<uint8_t>& want,
              const std::vector<uint8_t>* have, std::string* error) {
  constexpr size_t kPage = 4096;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + strerror(errno);
    return false;
  }
  auto same = [&](size_t at, size_t size) {
    return have != nullptr && at + size <= have->size() &&
           memcmp(want.data() + at, have->data() + at, size) == 0;
  };
  bool ok = true;
  for (size_t at = 0; ok && at < want.size();) {
    size_t size = std::min(kPage, want.size() - at);
    if (same(at, size)) {
      at += size;
      continue;
    }
    // One write for a run of differing pages.
    while (at + size < want.size() &&
           !same(at + size, std::min(kPage, want.size() - at - size))) {
      size += std::min(kPage, want.size() - at - size);
    }
    for (size_t done = 0; ok && done < size;) {
      const ssize_t n = pwrite(fd, want.data() + at + done, size - done,
                               static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      ok = n > 0;
      if (ok) done += static_cast<size_t>(n);
    }
    at += size;
  }
  if (ok && (have == nullptr || have->size() != want.size())) {
    ok = ftruncate(fd, static_cast<off_t>(want.size())) == 0;
  }
  if (!ok) *error = "cannot write " + path + ": " + strerror(errno);
  close(fd);
  return ok;
}

bool SameEntry(const RecordedEntry& a, const RecordedEntry& b) {
  if (a.type != b.type) return false;
  return a.type != RecordedEntry::Type::kLink ||
         (a.value == b.value && a.stamp_ns == b.stamp_ns);
}

bool MakeLink(const std::string& path, const RecordedEntry& entry,
              std::string* error) {
  struct timespec times[2];
  times[0].tv_sec = static_cast<time_t>(entry.stamp_ns / kNsPerSecond);
  times[0].tv_nsec = static_cast<long>(entry.stamp_ns % kNsPerSecond);
  times[1] = times[0];
  if (symlink(entry.value.c_str(), path.c_str()) != 0 ||
      utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    *error = "cannot make the link " + path + ": " + strerror(errno);
    return false;
  }
  return true;
}

// Every entry below `dir` as (relative name, DT_* type), deepest first.
void ListTree(const std::string& dir, const std::string& rel,
              std::vector<std::pair<std::string, unsigned char>>* out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::pair<std::string, unsigned char>> here;
  while (const struct dirent* entry = readdir(d)) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) {
      continue;
    }
    unsigned char type = entry->d_type;
    const std::string path = dir + "/" + entry->d_name;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;
      type = S_ISDIR(st.st_mode)   ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
             : S_ISREG(st.st_mode) ? DT_REG
                                   : DT_UNKNOWN;
    }
    here.emplace_back(entry->d_name, type);
  }
  closedir(d);
  for (const auto& [name, type] : here) {
    const std::string child = rel.empty() ? name : rel + "/" + name;
    if (type == DT_DIR) ListTree(dir + "/" + name, child, out);
    out->emplace_back(child, type);
  }
}

// The link at `path` has the value and mtime of `entry`.
bool SameLink(const std::string& path, const RecordedEntry& entry) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return false;
  const uint64_t stamp =
      static_cast<uint64_t>(st.st_mtim.tv_sec) * kNsPerSecond +
      static_cast<uint64_t>(st.st_mtim.tv_nsec);
  if (stamp != entry.stamp_ns) return false;
  char value[4096];
  const ssize_t n = readlink(path.c_str(), value, sizeof(value));
  return n >= 0 && entry.value == std::string(value, static_cast<size_t>(n));
}

int RemoveOne(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

}  // namespace

const char* FateName(Fate fate) {
  switch (fate) {
    case Fate::kNoneKept:
      return "none-kept";
    case Fate::kAllKept:
      return "all-kept";
    case Fate::kRandom:
      return "random";
  }
  return "?";
}

std::string Describe(const CrashState& state, size_t event_count) {
  char text[160];
  snprintf(text, sizeof(text),
           "state #%llu (cut %zu of %zu events, %s, seed 0x%016llx)",
           static_cast<unsigned long long>(state.index), state.cut, event_count,
           FateName(state.fate), static_cast<unsigned long long>(state.seed));
  return text;
}

uint64_t Random::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t MixSeed(uint64_t a, uint64_t b) {
  Random random(a ^ (b * 0x9e3779b97f4a7c15ull));
  random.Next();
  return random.Next();
}

StateEnumeration::StateEnumeration(const Recording& recording, uint64_t seed)
    : event_count_(recording.events.size()), seed_(seed) {
  const auto& events = recording.events;
  std::map<uint32_t, const RecordedEvent*> submits;
  std::vector<size_t> cuts = {0, events.size()};
  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    bool boundary = IsMetadata(e.kind) || e.kind == Kind::kFileSyncEnd ||
                    e.kind == Kind::kDeviceFlushEnd ||
                    (e.kind == Kind::kDeviceWrite && e.fua);
    if (e.kind == Kind::kFrontSubmit) submits[e.object] = &e;
    if (e.kind == Kind::kFrontComplete) {
      const auto it = submits.find(e.object);
      boundary = it != submits.end() && IsDurabilityRequest(*it->second);
    }
    if (boundary) {
      cuts.push_back(i);
      cuts.push_back(i + 1);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  boundaries_ = cuts;
  for (size_t cut : boundaries_) {
    for (Fate fate : {Fate::kNoneKept, Fate::kAllKept}) {
      CrashState state;
      state.cut = cut;
      state.fate = fate;
      boundary_states_.push_back(state);
    }
  }
  // Shuffled, so that any budget samples the whole recording.
  Random random(MixSeed(seed_, 0x5eed));
  for (size_t i = boundary_states_.size(); i > 1; --i) {
    std::swap(boundary_states_[i - 1], boundary_states_[random.Below(i)]);
  }
}

CrashState StateEnumeration::State(uint64_t index) const {
  if (index < boundary_states_.size()) {
    CrashState state = boundary_states_[index];
    state.index = index;
    state.seed = MixSeed(seed_, index);
    return state;
  }
  CrashState state;
  state.index = index;
  state.seed = MixSeed(seed_, index);
  state.fate = Fate::kRandom;
  Random random(state.seed ^ 0xc0ffee);
  if (random.Percent(50)) {
    state.cut = boundaries_[random.Below(boundaries_.size())];
  } else {
    state.cut = random.Below(event_count_ + 1);
  }
  return state;
}

std::string TreeDir(const std::string& dir) { return dir + "/mars"; }

std::string DevicePath(const std::string& dir, size_t device) {
  return dir + "/device-" + std::to_string(device) + ".img";
}

bool RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  nftw(path.c_str(), RemoveOne, 16, FTW_DEPTH | FTW_PHYS);
  return lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

bool StateWriter::Write(const Recording& recording, const CrashState& state,
                        StateFacts* facts, std::string* error) {
  *facts = StateFacts();
  const auto& events = recording.events;
  const size_t cut = std::min(state.cut, events.size());

  // What is durable at the cut: everything before the begin of a completed
  // sync of the same file (metadata: of any file) or flush of the device.
  std::vector<size_t> file_durable(recording.files.size(), 0);
  std::vector<size_t> device_durable(recording.devices.size(), 0);
  size_t metadata_durable = 0;
  for (size_t i = 0; i < cut; ++i) {
    const RecordedEvent& e = events[i];
    if (e.kind == Kind::kFileSyncEnd && e.ok) {
      file_durable[e.object] = std::max(file_durable[e.object], e.begin);
      metadata_durable = std::max(metadata_durable, e.begin);
    } else if (e.kind == Kind::kDeviceFlushEnd && e.ok) {
      device_durable[e.object] = std::max(device_durable[e.object], e.begin);
    }
  }
  Random random(state.seed);
  static constexpr uint64_t kKeepPercents[] = {10, 50, 90};
  static constexpr uint64_t kTearPercents[] = {10, 40};
  FateRoller roller{state.fate, &random, kKeepPercents[random.Below(3)],
                    kTearPercents[random.Below(2)]};

  // The namespace: every durable metadata operation and a prefix of the
  // others.
  size_t volatile_metadata = 0;
  for (size_t i = metadata_durable; i < cut; ++i) {
    if (IsMetadata(events[i].kind)) volatile_metadata++;
  }
  size_t metadata_kept = 0;
  switch (state.fate) {
    case Fate::kNoneKept:
      break;
    case Fate::kAllKept:
      metadata_kept = volatile_metadata;
      break;
    case Fate::kRandom:
      metadata_kept = random.Below(volatile_metadata + 1);
      break;
  }
  std::map<std::string, RecordedEntry> tree = recording.initial_tree;
  size_t metadata_seen = 0;
  for (size_t i = 0; i < cut; ++i) {
    const RecordedEvent& e = events[i];
    if (!IsMetadata(e.kind)) continue;
    if (i >= metadata_durable && metadata_seen++ >= metadata_kept) {
      facts->metadata_lost++;
      continue;
    }
    facts->metadata_kept++;
    RecordedEntry entry;
    switch (e.kind) {
      case Kind::kRemoveEntry:
        tree.erase(e.path);
        continue;
      case Kind::kCreateFile:
        entry.type = RecordedEntry::Type::kFile;
        entry.file = e.object;
        break;
      case Kind::kWriteLink:
        entry.type = RecordedEntry::Type::kLink;
        entry.value = e.value;
        entry.stamp_ns = e.stamp_ns;
        break;
      default:
        entry.type = RecordedEntry::Type::kDirectory;
        break;
    }
    tree[e.path] = entry;
  }

  // The content of the files that are part of the state, and the devices.
  std::vector<uint8_t> live(recording.files.size(), 0);
  for (const auto& named : tree) {
    if (named.second.type == RecordedEntry::Type::kFile) {
      live[named.second.file] = 1;
    }
  }
  files_.resize(std::max(files_.size(), recording.files.size()));
  std::vector<uint64_t> durable_end(recording.files.size(), 0);
  for (size_t f = 0; f < recording.files.size(); ++f) {
    if (!live[f]) continue;
    files_[f].assign(recording.files[f].begin(), recording.files[f].end());
    durable_end[f] = files_[f].size();
  }
  devices_.resize(recording.devices.size());
  for (size_t d = 0; d < recording.devices.size(); ++d) {
    devices_[d].assign(recording.devices[d].initial.begin(),
                       recording.devices[d].initial.end());
  }
  for (size_t i = 0; i < cut; ++i) {
    const RecordedEvent& e = events[i];
    switch (e.kind) {
      case Kind::kFileWrite: {
        if (!live[e.object]) break;
        std::vector<uint8_t>* content = &files_[e.object];
        if (i < file_durable[e.object]) {
          facts->writes_durable++;
          Put(content, e.offset, e.data.data(), e.data.size());
          durable_end[e.object] = std::max<uint64_t>(durable_end[e.object],
                                                     e.offset + e.data.size());
        } else {
          ApplyVolatileWrite(content, e, true, &roller, facts);
        }
        break;
      }
      case Kind::kFileTruncate:
        if (!live[e.object]) break;
        if (i < file_durable[e.object]) {
          files_[e.object].resize(e.offset);
          durable_end[e.object] = std::min(durable_end[e.object], e.offset);
        } else if (roller.Keep()) {
          files_[e.object].resize(e.offset);
        }
        break;
      case Kind::kDeviceWrite: {
        std::vector<uint8_t>* content = &devices_[e.object];
        if (e.offset + e.data.size() > content->size()) {
          *error = "recorded device write beyond the device";
          return false;
        }
        if (e.fua || i < device_durable[e.object]) {
          facts->writes_durable++;
          Put(content, e.offset, e.data.data(), e.data.size());
        } else {
          ApplyVolatileWrite(content, e, false, &roller, facts);
        }
        break;
      }
      default:
        break;
    }
  }

  // Facts about the files, then out to the directory.
  for (const auto& [name, entry] : tree) {
    if (entry.type == RecordedEntry::Type::kFile) {
      facts->durable_end[name] = durable_end[entry.file];
    }
  }
  if (!WriteOut(tree, error)) {
    known_ = false;
    return false;
  }
  return true;
}

bool StateWriter::WriteOut(const std::map<std::string, RecordedEntry>& tree,
                           std::string* error) {
  const std::string root = TreeDir(dir_);
  if ((mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) ||
      (mkdir(root.c_str(), 0755) != 0 && errno != EEXIST)) {
    *error = "cannot make the state directory " + dir_ + ": " + strerror(errno);
    return false;
  }
  // What the directory holds: the mirror, or a fresh look.
  if (!known_) {
    disk_tree_.clear();
    disk_files_.clear();
    disk_devices_.clear();
    std::vector<std::pair<std::string, unsigned char>> existing;
    ListTree(root, "", &existing);
    for (const auto& [name, type] : existing) {
      const auto want = tree.find(name);
      const std::string path = root + "/" + name;
      RecordedEntry entry;
      if (type == DT_DIR) {
        entry.type = RecordedEntry::Type::kDirectory;
      } else if (type == DT_REG) {
        entry.type = RecordedEntry::Type::kFile;
      } else if (type == DT_LNK && want != tree.end() &&
                 SameLink(path, want->second)) {
        entry = want->second;
      } else {
        // Another kind of entry, or a link to be replaced anyway.
        entry.type = RecordedEntry::Type::kLink;
        entry.stamp_ns = UINT64_MAX;
      }
      disk_tree_[name] = entry;
    }
  }
  // Drop what does not belong, deepest first.
  for (auto it = disk_tree_.rbegin(); it != disk_tree_.rend(); ++it) {
    const auto want = tree.find(it->first);
    if (want != tree.end() && SameEntry(it->second, want->second)) continue;
    const std::string path = root + "/" + it->first;
    if (remove(path.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove " + path + ": " + strerror(errno);
      return false;
    }
  }
  // Write every entry in map order: a directory before its entries.
  std::map<std::string, std::vector<uint8_t>> files;
  for (const auto& [name, entry] : tree) {
    const std::string path = root + "/" + name;
    const auto had = disk_tree_.find(name);
    const bool same = had != disk_tree_.end() && SameEntry(had->second, entry);
    switch (entry.type) {
      case RecordedEntry::Type::kDirectory:
        if (!same && mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
          *error = "cannot make " + path + ": " + strerror(errno);
          return false;
        }
        break;
      case RecordedEntry::Type::kFile: {
        const auto content = disk_files_.find(name);
        const std::vector<uint8_t>* have =
            same && content != disk_files_.end() ? &content->second : nullptr;
        if (!SyncFile(path, files_[entry.file], have, error)) return false;
        // The mirror takes the content; files_ gets the old mirror's buffer
        // back for the next state.
        files[name].swap(files_[entry.file]);
        if (content != disk_files_.end()) {
          files_[entry.file].swap(content->second);
        }
        break;
      }
      case RecordedEntry::Type::kLink:
        if (!same && !MakeLink(path, entry, error)) return false;
        break;
    }
  }
  const bool devices_known = known_ && disk_devices_.size() == devices_.size();
  for (size_t d = 0; d < devices_.size(); ++d) {
    if (!SyncFile(DevicePath(dir_, d), devices_[d],
                  devices_known ? &disk_devices_[d] : nullptr, error)) {
      return false;
    }
  }
  disk_tree_ = tree;
  disk_files_.swap(files);
  disk_devices_.swap(devices_);
  known_ = true;
  return true;
}

bool StateWriter::Absorb(Recording* changes, std::string* error) {
  if (!known_) {
    *error = "the state writer does not know the directory";
    return false;
  }
  known_ = false;  // until the changes are followed
  // The recording must start from the mirror.
  std::map<std::string, uint32_t> files_by_path;
  if (changes->initial_tree.size() != disk_tree_.size()) {
    *error = "the directory does not hold what the state writer wrote";
    return false;
  }
  for (const auto& [name, entry] : changes->initial_tree) {
    const auto had = disk_tree_.find(name);
    if (had == disk_tree_.end() || !SameEntry(had->second, entry)) {
      *error = "the directory changed behind the state writer: " + name;
      return false;
    }
    if (entry.type == RecordedEntry::Type::kFile) {
      files_by_path[name] = entry.file;
      if (!changes->content_captured) {
        changes->files[entry.file] = disk_files_[name];
      }
    }
  }
  std::vector<size_t> device_of(changes->devices.size(), SIZE_MAX);
  for (size_t i = 0; i < changes->devices.size(); ++i) {
    for (size_t d = 0; d < disk_devices_.size(); ++d) {
      if (changes->devices[i].path == DevicePath(dir_, d)) device_of[i] = d;
    }
    if (device_of[i] == SIZE_MAX) {
      *error = "recorded device " + changes->devices[i].path +
               " is not one the state writer wrote";
      return false;
    }
    if (!changes->content_captured) {
      changes->devices[i].initial = disk_devices_[device_of[i]];
    }
  }
  changes->content_captured = true;
  // Follow every change (all of them reached the directory).
  std::map<uint32_t, std::string> path_of;
  for (const auto& [name, id] : files_by_path) path_of[id] = name;
  auto drop = [&](const std::string& name) {
    for (auto it = path_of.begin(); it != path_of.end();) {
      it = it->second == name ? path_of.erase(it) : std::next(it);
    }
    disk_tree_.erase(name);
    disk_files_.erase(name);
  };
  for (const RecordedEvent& e : changes->events) {
    const auto bound = path_of.find(e.object);
    std::vector<uint8_t>* file =
        bound != path_of.end() ? &disk_files_[bound->second] : nullptr;
    RecordedEntry entry;
    switch (e.kind) {
      case Kind::kFileWrite:
        if (file != nullptr) Put(file, e.offset, e.data.data(), e.data.size());
        break;
      case Kind::kFileTruncate:
        if (file != nullptr) file->resize(e.offset);
        break;
      case Kind::kCreateFile:
        drop(e.path);
        entry.type = RecordedEntry::Type::kFile;
        disk_tree_[e.path] = entry;
        disk_files_[e.path] = changes->files[e.object];
        path_of[e.object] = e.path;
        break;
      case Kind::kRemoveEntry:
        drop(e.path);
        break;
      case Kind::kWriteLink:
        drop(e.path);
        entry.type = RecordedEntry::Type::kLink;
        entry.value = e.value;
        entry.stamp_ns = e.stamp_ns;
        disk_tree_[e.path] = entry;
        break;
      case Kind::kMakeDirectory:
        entry.type = RecordedEntry::Type::kDirectory;
        disk_tree_[e.path] = entry;
        break;
      case Kind::kDeviceWrite:
        if (e.object < device_of.size()) {
          Put(&disk_devices_[device_of[e.object]], e.offset, e.data.data(),
              e.data.size());
        }
        break;
      default:
        break;
    }
  }
  known_ = true;
  return true;
}

bool Materialize(const Recording& recording, const CrashState& state,
                 const std::string& dir, StateFacts* facts,
                 std::string* error) {
  StateWriter writer(dir);
  return writer.Write(recording, state, facts, error);
}

}  // namespace crash
}  // namespace mars
