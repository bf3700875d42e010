// Tree paths below "resource-R/" (peer/resource_paths.h).
#include "core/peer/resource_paths.h"

#include "core/tree/names.h"

namespace mars {
namespace peer {

namespace {

constexpr char kResourcePrefix[] = "resource-";
constexpr size_t kResourcePrefixSize = sizeof(kResourcePrefix) - 1;

}  // namespace

bool SplitResourcePath(Slice path, Slice* resource, Slice* leaf) {
  if (!path.StartsWith(Slice(kResourcePrefix, kResourcePrefixSize))) {
    return false;
  }
  for (size_t i = kResourcePrefixSize; i < path.size(); ++i) {
    if (path[i] == '/') {
      *resource = path.SubSlice(kResourcePrefixSize, i - kResourcePrefixSize);
      *leaf = path.RemovePrefix(i + 1);
      return true;
    }
  }
  return false;
}

bool LeafIs(Slice leaf, const char* prefix, Slice host) {
  const Slice p = Slice::FromCString(prefix);
  return leaf.size() == p.size() + host.size() && leaf.StartsWith(p) &&
         leaf.RemovePrefix(p.size()) == host;
}

Status ForEachResource(const tree::Tree& tree,
                       Status (*visit)(void* context, Slice resource,
                                       size_t begin, size_t end),
                       void* context) {
  size_t i = 0;
  while (i < tree.size()) {
    Slice resource;
    Slice leaf;
    if (!SplitResourcePath(tree.at(i).path(), &resource, &leaf)) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < tree.size()) {
      Slice other;
      if (!SplitResourcePath(tree.at(end).path(), &other, &leaf) ||
          other != resource) {
        break;
      }
      ++end;
    }
    if (tree::ValidateResourceName(resource).ok()) {
      Status s = visit(context, resource, i, end);
      if (!s.ok()) return s;
    }
    i = end;
  }
  return Status::Ok();
}

}  // namespace peer
}  // namespace mars
