// replay-HOST and version-N-HOST writes of the write path.
#include "core/engine/tree_writes.h"

#include "core/base/vector.h"
#include "core/engine/resource.h"
#include "core/engine/tree_links.h"
#include "core/platform_io.h"
#include "core/tree/log_names.h"
#include "core/tree/version_link.h"

namespace mars {
namespace engine {

namespace {

Status LeafPath(const Resource& resource, const char* prefix, uint64_t number,
                char* out) {
  tree::LogfileName name;
  name.number = static_cast<uint32_t>(number);
  Status status = name.host.Assign(Slice::FromCString(resource.host()));
  if (!status.ok()) return status;
  Bytes leaf(platform::Gfp::kKernel);
  status = prefix[0] == 'v' ? tree::AppendVersionLinkName(name, &leaf)
                            : tree::AppendLogfileName(name, &leaf);
  if (status.ok()) status = leaf.PushBack(0);
  if (!status.ok()) return status;
  if (!resource.ResourcePath(reinterpret_cast<const char*>(leaf.data()), out)) {
    return Status(StatusCode::kInvalidArgument, "path too long");
  }
  return Status::Ok();
}

}  // namespace

Status WriteReplayLink(const Resource& resource, LogPosition position,
                       LamportClock* clock) {
  tree::ReplayLink link;
  link.log.number = static_cast<uint32_t>(position.logfile);
  Status status = link.log.host.Assign(Slice::FromCString(resource.host()));
  if (!status.ok()) return status;
  link.position = position.offset;
  link.dirty_length = 0;
  Bytes value(platform::Gfp::kKernel);
  status = tree::AppendReplayLink(link, &value);
  if (!status.ok()) return status;
  char path[Resource::kPathBytes];
  char leaf[Resource::kMaxNameBytes + 8];
  __builtin_memcpy(leaf, "replay-", 7);
  const size_t host_size = __builtin_strlen(resource.host());
  __builtin_memcpy(leaf + 7, resource.host(), host_size + 1);
  if (!resource.ResourcePath(leaf, path)) {
    return Status(StatusCode::kInvalidArgument, "path too long");
  }
  return platform::WriteLink(path, reinterpret_cast<const char*>(value.data()),
                             value.size(), clock->Now());
}

Status WriteVersionLink(const Resource& resource, uint64_t number,
                        uint64_t length, LamportClock* clock) {
  if (number == 0 || number > 999999999) {
    return Status(StatusCode::kOutOfRange, "logfile number out of range");
  }
  char path[Resource::kPathBytes];
  tree::VersionLink previous;
  bool have_previous = false;
  if (number > 1) {
    Status status = LeafPath(resource, "version", number - 1, path);
    if (!status.ok()) return status;
    char* value = static_cast<char*>(platform::Allocate(
        platform::kMaxLinkValueBytes, platform::Gfp::kKernel));
    if (value == nullptr) return Status(StatusCode::kNoMemory, "no memory");
    size_t size = 0;
    uint64_t stamp = 0;
    status = platform::ReadLink(path, value, platform::kMaxLinkValueBytes,
                                &size, &stamp);
    if (status.ok()) {
      clock->Observe(stamp).ok();
      status = tree::ParseVersionLink(Slice(value, size), &previous);
      have_previous = status.ok() && previous.log.number == number - 1;
    }
    platform::Free(value);
    if (!have_previous) {
      platform::Log(platform::LogLevel::kWarning,
                    "resource %s: no valid version link for logfile %llu; "
                    "logfile %llu starts a new version chain",
                    resource.name(),
                    static_cast<unsigned long long>(number - 1),
                    static_cast<unsigned long long>(number));
    }
  }
  tree::LogfileName log;
  log.number = static_cast<uint32_t>(number);
  Status status = log.host.Assign(Slice::FromCString(resource.host()));
  if (!status.ok()) return status;
  tree::VersionLink link;
  status = tree::MakeVersionLink(have_previous ? &previous : nullptr, log,
                                 length, &link);
  if (!status.ok()) return status;
  Bytes value(platform::Gfp::kKernel);
  status = tree::AppendVersionLink(link, &value);
  if (!status.ok()) return status;
  status = LeafPath(resource, "version", number, path);
  if (!status.ok()) return status;
  return platform::WriteLink(path, reinterpret_cast<const char*>(value.data()),
                             value.size(), clock->Now());
}

namespace {

// resource-NAME/PREFIX + HOST, e.g. "resource-r0/replay-b".
void OwnerPath(const LinkOwner& owner, const char* prefix, RelPath* path) {
  path->Add("resource-").Add(owner.name).Add("/").Add(prefix).Add(owner.host);
}

}  // namespace

Status ReadReplayLink(const LinkOwner& owner, LamportClock* clock,
                      tree::ReplayLink* link) {
  RelPath path;
  OwnerPath(owner, "replay-", &path);
  char value[tree::kMaxPathBytes + 64];
  size_t size = 0;
  Status status = ReadValue(owner.root, path.c_str(), value, sizeof(value),
                            &size, nullptr, clock);
  if (!status.ok()) return status;
  return tree::ParseReplayLink(Slice(value, size), link);
}

Status WriteReplayLinkFor(const LinkOwner& owner, const tree::LogfileName& log,
                          uint64_t position, LamportClock* clock) {
  tree::ReplayLink link;
  link.log = log;
  link.position = position;
  link.dirty_length = 0;
  Bytes value(platform::Gfp::kKernel);
  Status status = tree::AppendReplayLink(link, &value);
  if (!status.ok()) return status;
  RelPath path;
  OwnerPath(owner, "replay-", &path);
  return WriteValueIfChanged(owner.root, path.c_str(),
                             Slice(value.data(), value.size()), clock);
}

Status WriteVersionLinkValue(const LinkOwner& owner,
                             const tree::VersionLink& link,
                             LamportClock* clock) {
  tree::LogfileName name;
  name.number = link.log.number;
  Status status = name.host.Assign(Slice::FromCString(owner.host));
  Bytes leaf(platform::Gfp::kKernel);
  if (status.ok()) status = tree::AppendVersionLinkName(name, &leaf);
  Bytes value(platform::Gfp::kKernel);
  if (status.ok()) status = tree::AppendVersionLink(link, &value);
  if (!status.ok()) return status;
  RelPath path;
  path.Add("resource-")
      .Add(owner.name)
      .Add("/")
      .Add(Slice(leaf.data(), leaf.size()));
  return WriteValueIfChanged(owner.root, path.c_str(),
                             Slice(value.data(), value.size()), clock);
}

}  // namespace engine
}  // namespace mars
