// Typed reads of the /mars tree for marsadm's commands: one resource's
// members, switches, indicators, sizes, replay links, logfiles and version
// chains, and the cluster's host list. Every value is parsed with the core's
// parsers (kernel/core/tree/*.h), so each format has one definition; a value
// that does not parse reads as absent.
#ifndef MARS_USERSPACE_MARSADM_TREE_READ_H_
#define MARS_USERSPACE_MARSADM_TREE_READ_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/base/slice.h"
#include "core/base/vector.h"
#include "core/tree/log_names.h"
#include "core/tree/version_link.h"
#include "tree_dir.h"

namespace mars::cli {

inline Slice CoreSlice(const std::string& text) {
  return Slice(text.data(), text.size());
}
inline std::string FromBytes(const Bytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
inline std::string FromSlice(Slice slice) {
  return std::string(slice.chars(), slice.size());
}

// Formatting through the core; they throw std::logic_error for values the
// core refuses (a bug in the caller: inputs are validated first).
std::string FormatLogfileName(uint32_t number, const std::string& host);
std::string FormatVersionLinkName(uint32_t number, const std::string& host);
std::string FormatReplayLink(const tree::ReplayLink& link);
std::string FormatVersionLink(const tree::VersionLink& link);
std::string FormatByteCount(uint64_t bytes);
std::string FormatResourceSize(uint64_t bytes);
std::string FormatPrimary(const std::string& host);  // "" -> "(none)"
std::string SwitchValue(bool on);

// Hosts with an ips/ip-HOST link, sorted.
std::vector<std::string> ClusterHosts(const TreeDir& tree);
// Names R of every resource-R directory, sorted.
std::vector<std::string> AllResourceNames(const TreeDir& tree);

// The switch names below todo-HOST/.
inline constexpr char kTodoAttach[] = "attach";
inline constexpr char kTodoConnect[] = "connect";
inline constexpr char kTodoSync[] = "sync";
inline constexpr char kTodoReplay[] = "allow-replay";

// A logfile of the resource as present on this host's disk.
struct LogfileEntry {
  tree::LogfileName name;
  std::string file;  // "log-NNNNNNNNN-HOST"
  uint64_t size = 0;
};

struct VersionEntry {
  std::string file;  // "version-NNNNNNNNN-HOST"
  uint32_t number = 0;
  std::string value;
  tree::VersionLink link;
};

class ResourceTree {
 public:
  ResourceTree(const TreeDir& tree, std::string resource);

  const std::string& resource() const { return resource_; }
  const TreeDir& tree() const { return tree_; }
  // "resource-R" and "resource-R/NAME".
  std::string Dir() const { return "resource-" + resource_; }
  std::string Path(const std::string& name) const { return Dir() + "/" + name; }
  std::string TodoPath(const std::string& host, const std::string& name) const {
    return Path("todo-" + host + "/" + name);
  }
  std::string ActualPath(const std::string& host, const std::string& name) const {
    return Path("actual-" + host + "/" + name);
  }

  // The resource exists: it has a live `size` link.
  bool Exists() const { return Size().has_value(); }
  // The directory holds any entry at all, tombstones included.
  bool HasAnyEntry() const;
  // The directory holds a live link or file (directories do not count).
  bool HasLiveEntry() const;
  std::optional<uint64_t> Size() const;
  // Hosts with a live data-HOST link, sorted.
  std::vector<std::string> Members() const;
  bool IsMember(const std::string& host) const;
  // The designated primary; nullopt for a missing link, "(none)" or a bad
  // value.
  std::optional<std::string> DesignatedPrimary() const;
  std::optional<std::string> Value(const std::string& name) const {
    return tree_.ReadLink(Path(name));
  }
  std::optional<bool> Todo(const std::string& host, const std::string& name) const;
  // actual-HOST/NAME is "1". Absent or anything else is false.
  bool Actual(const std::string& host, const std::string& name) const;
  // actual-HOST/NAME as a decimal, absent -> nullopt.
  std::optional<uint64_t> ActualNumber(const std::string& host,
                                       const std::string& name) const;
  std::optional<uint64_t> ByteCount(const std::string& name) const;
  std::optional<tree::ReplayLink> Replay(const std::string& host) const;
  // Device size the kernel reported for HOST (actsize-HOST).
  std::optional<uint64_t> ActSize(const std::string& host) const {
    return ByteCount("actsize-" + host);
  }
  // Logfiles (regular files named log-N-HOST), by number then host.
  std::vector<LogfileEntry> Logfiles() const;
  // HOST's version links that parse and verify, by ascending number.
  std::vector<VersionEntry> VersionChain(const std::string& host) const;
  // Every live version link, any host.
  std::vector<VersionEntry> AllVersionLinks() const;
  // The device names (device-HOST values) of HOST over all resources except
  // this one.
  static std::vector<std::string> DeviceNamesOf(const TreeDir& tree,
                                                const std::string& host,
                                                const std::string& except);

 private:
  TreeDir tree_;  // a copy: cheap (the root path), and never dangles
  std::string resource_;
};

// How the version chains of two hosts relate (core CompareVersionChains).
enum class HistoryRelation { kConsistent, kSplitBrain, kUnknown };
HistoryRelation CompareHistories(const ResourceTree& res, const std::string& a,
                                 const std::string& b);

}  // namespace mars::cli

#endif  // MARS_USERSPACE_MARSADM_TREE_READ_H_
