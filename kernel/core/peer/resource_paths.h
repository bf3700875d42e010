// Tree paths below "resource-R/" as the peer code reads them.
#ifndef MARS_CORE_PEER_RESOURCE_PATHS_H_
#define MARS_CORE_PEER_RESOURCE_PATHS_H_

#include <stddef.h>

#include "core/base/slice.h"
#include "core/tree/tree.h"

namespace mars {
namespace peer {

// The resource name of a tree path "resource-R/...", and the rest after
// the '/'. False for any other path.
bool SplitResourcePath(Slice path, Slice* resource, Slice* leaf);

// `leaf` == prefix + host.
bool LeafIs(Slice leaf, const char* prefix, Slice host);

// The entries of one resource are contiguous in the sorted tree: calls
// visit(context, resource, begin, end) for each valid resource name, in
// order; stops at the first error and returns it.
Status ForEachResource(const tree::Tree& tree,
                       Status (*visit)(void* context, Slice resource,
                                       size_t begin, size_t end),
                       void* context);

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_RESOURCE_PATHS_H_
