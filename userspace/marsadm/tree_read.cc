#include "tree_read.h"

#include <algorithm>
#include <stdexcept>

#include "core/tree/names.h"
#include "core/tree/text.h"
#include "core/tree/values.h"

namespace mars::cli {
namespace {

std::string Checked(Status status, const Bytes& out, const char* what) {
  if (!status.ok()) {
    throw std::logic_error(std::string("cannot format ") + what + ": " +
                           status.message());
  }
  return FromBytes(out);
}

tree::LogfileName MakeName(uint32_t number, const std::string& host) {
  tree::LogfileName name;
  name.number = number;
  if (!name.host.Assign(CoreSlice(host)).ok()) {
    throw std::logic_error("invalid host name '" + host + "'");
  }
  return name;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string FormatLogfileName(uint32_t number, const std::string& host) {
  Bytes out;
  return Checked(tree::AppendLogfileName(MakeName(number, host), &out), out,
                 "logfile name");
}

std::string FormatVersionLinkName(uint32_t number, const std::string& host) {
  Bytes out;
  return Checked(tree::AppendVersionLinkName(MakeName(number, host), &out), out,
                 "version link name");
}

std::string FormatReplayLink(const tree::ReplayLink& link) {
  Bytes out;
  return Checked(tree::AppendReplayLink(link, &out), out, "replay link");
}

std::string FormatVersionLink(const tree::VersionLink& link) {
  Bytes out;
  return Checked(tree::AppendVersionLink(link, &out), out, "version link");
}

std::string FormatByteCount(uint64_t bytes) {
  Bytes out;
  return Checked(tree::AppendByteCount(bytes, &out), out, "byte count");
}

std::string FormatResourceSize(uint64_t bytes) {
  Bytes out;
  return Checked(tree::AppendResourceSize(bytes, &out), out, "resource size");
}

std::string FormatPrimary(const std::string& host) {
  tree::HostName name;
  if (!host.empty() && !name.Assign(CoreSlice(host)).ok()) {
    throw std::logic_error("invalid host name '" + host + "'");
  }
  return FromSlice(tree::FormatPrimary(name));
}

std::string SwitchValue(bool on) { return FromSlice(tree::FormatSwitch(on)); }

std::vector<std::string> ClusterHosts(const TreeDir& tree) {
  std::vector<std::string> hosts;
  for (const std::string& name : tree.ListNames("ips")) {
    if (!StartsWith(name, "ip-")) continue;
    const std::string host = name.substr(3);
    if (tree::ValidateHostName(CoreSlice(host)).ok() &&
        tree.ReadLink("ips/" + name)) {
      hosts.push_back(host);
    }
  }
  return hosts;
}

std::vector<std::string> AllResourceNames(const TreeDir& tree) {
  std::vector<std::string> names;
  for (const std::string& name : tree.ListNames("")) {
    if (!StartsWith(name, "resource-")) continue;
    const std::string res = name.substr(9);
    const auto entry = tree.Stat(name);
    if (entry && entry->type == EntryType::kDirectory &&
        tree::ValidateResourceName(CoreSlice(res)).ok()) {
      names.push_back(res);
    }
  }
  return names;
}

ResourceTree::ResourceTree(const TreeDir& tree, std::string resource)
    : tree_(tree), resource_(std::move(resource)) {}

bool ResourceTree::HasAnyEntry() const {
  for (const DiskEntry& entry : tree_.ListAll()) {
    if (StartsWith(entry.path, Dir() + "/")) return true;
  }
  return false;
}

bool ResourceTree::HasLiveEntry() const {
  for (const DiskEntry& entry : tree_.ListAll()) {
    if (StartsWith(entry.path, Dir() + "/") && !entry.tombstone &&
        entry.type != EntryType::kDirectory) {
      return true;
    }
  }
  return false;
}

std::optional<uint64_t> ResourceTree::Size() const {
  const auto value = Value("size");
  uint64_t bytes = 0;
  if (!value || !tree::ParseResourceSize(CoreSlice(*value), &bytes).ok()) {
    return std::nullopt;
  }
  return bytes;
}

std::vector<std::string> ResourceTree::Members() const {
  std::vector<std::string> hosts;
  for (const std::string& name : tree_.ListNames(Dir())) {
    if (!StartsWith(name, "data-")) continue;
    const std::string host = name.substr(5);
    if (tree::ValidateHostName(CoreSlice(host)).ok() && Value(name)) {
      hosts.push_back(host);
    }
  }
  return hosts;
}

bool ResourceTree::IsMember(const std::string& host) const {
  return Value("data-" + host).has_value();
}

std::optional<std::string> ResourceTree::DesignatedPrimary() const {
  const auto value = Value("primary");
  tree::HostName host;
  if (!value || !tree::ParsePrimary(CoreSlice(*value), &host).ok() ||
      host.empty()) {
    return std::nullopt;
  }
  return FromSlice(host.slice());
}

std::optional<bool> ResourceTree::Todo(const std::string& host,
                                       const std::string& name) const {
  const auto value = tree_.ReadLink(TodoPath(host, name));
  bool on = false;
  if (!value || !tree::ParseSwitch(CoreSlice(*value), &on).ok()) {
    return std::nullopt;
  }
  return on;
}

bool ResourceTree::Actual(const std::string& host, const std::string& name) const {
  const auto value = tree_.ReadLink(ActualPath(host, name));
  bool on = false;
  return value && tree::ParseSwitch(CoreSlice(*value), &on).ok() && on;
}

std::optional<uint64_t> ResourceTree::ActualNumber(const std::string& host,
                                                   const std::string& name) const {
  const auto value = tree_.ReadLink(ActualPath(host, name));
  uint64_t number = 0;
  if (!value || !tree::ParseDecimalU64(CoreSlice(*value), &number).ok()) {
    return std::nullopt;
  }
  return number;
}

std::optional<uint64_t> ResourceTree::ByteCount(const std::string& name) const {
  const auto value = Value(name);
  uint64_t bytes = 0;
  if (!value || !tree::ParseByteCount(CoreSlice(*value), &bytes).ok()) {
    return std::nullopt;
  }
  return bytes;
}

std::optional<tree::ReplayLink> ResourceTree::Replay(const std::string& host) const {
  const auto value = Value("replay-" + host);
  tree::ReplayLink link;
  if (!value || !tree::ParseReplayLink(CoreSlice(*value), &link).ok()) {
    return std::nullopt;
  }
  return link;
}

std::vector<LogfileEntry> ResourceTree::Logfiles() const {
  std::vector<LogfileEntry> logs;
  for (const std::string& name : tree_.ListNames(Dir())) {
    if (!StartsWith(name, "log-")) continue;
    LogfileEntry entry;
    const auto disk = tree_.Stat(Path(name));
    if (!disk || disk->type != EntryType::kFile ||
        !tree::ParseLogfileName(CoreSlice(name), &entry.name).ok()) {
      continue;
    }
    entry.file = name;
    entry.size = disk->size;
    logs.push_back(std::move(entry));
  }
  std::sort(logs.begin(), logs.end(), [](const LogfileEntry& a, const LogfileEntry& b) {
    return a.name.number != b.name.number ? a.name.number < b.name.number
                                          : a.file < b.file;
  });
  return logs;
}

std::vector<VersionEntry> ResourceTree::AllVersionLinks() const {
  std::vector<VersionEntry> links;
  for (const std::string& name : tree_.ListNames(Dir())) {
    if (!StartsWith(name, "version-")) continue;
    VersionEntry entry;
    tree::LogfileName link_name;
    const auto value = Value(name);
    if (!value || !tree::ParseVersionLinkName(CoreSlice(name), &link_name).ok() ||
        !tree::ParseVersionLink(CoreSlice(*value), &entry.link).ok()) {
      continue;
    }
    entry.file = name;
    entry.number = link_name.number;
    entry.value = *value;
    links.push_back(std::move(entry));
  }
  std::sort(links.begin(), links.end(), [](const VersionEntry& a, const VersionEntry& b) {
    return a.number != b.number ? a.number < b.number : a.file < b.file;
  });
  return links;
}

std::vector<VersionEntry> ResourceTree::VersionChain(const std::string& host) const {
  std::vector<VersionEntry> chain;
  const std::string suffix = "-" + host;
  for (VersionEntry& entry : AllVersionLinks()) {
    if (entry.file.size() > suffix.size() &&
        entry.file.compare(entry.file.size() - suffix.size(), suffix.size(),
                           suffix) == 0 &&
        entry.file == FormatVersionLinkName(entry.number, host)) {
      chain.push_back(std::move(entry));
    }
  }
  return chain;
}

std::vector<std::string> ResourceTree::DeviceNamesOf(const TreeDir& tree,
                                                     const std::string& host,
                                                     const std::string& except) {
  std::vector<std::string> names;
  for (const std::string& res : AllResourceNames(tree)) {
    if (res == except) continue;
    if (auto value = tree.ReadLink("resource-" + res + "/device-" + host)) {
      names.push_back(*value);
    }
  }
  return names;
}

HistoryRelation CompareHistories(const ResourceTree& res, const std::string& a,
                                 const std::string& b) {
  // Only the consecutive tail of each chain is compared: older links may be
  // gone (log-delete) and a gap is not evidence of a split brain.
  auto tail = [](const std::vector<VersionEntry>& chain) {
    std::vector<tree::VersionLink> links;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (!links.empty() && it->number + 1 != links.back().log.number) break;
      links.push_back(it->link);
    }
    std::reverse(links.begin(), links.end());
    return links;
  };
  const std::vector<tree::VersionLink> first = tail(res.VersionChain(a));
  const std::vector<tree::VersionLink> second = tail(res.VersionChain(b));
  tree::ChainComparison result;
  if (!tree::CompareVersionChains(first.data(), first.size(), second.data(),
                                  second.size(), &result)
           .ok()) {
    return HistoryRelation::kUnknown;
  }
  switch (result.relation) {
    case tree::ChainRelation::kSplitBrain:
      return HistoryRelation::kSplitBrain;
    case tree::ChainRelation::kUndecidable:
      return HistoryRelation::kUnknown;
    default:
      return HistoryRelation::kConsistent;
  }
}

}  // namespace mars::cli
