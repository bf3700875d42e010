// Simple values of the /mars tree (docu/mars-tree.md §3 "Values"): byte
// counts (size, syncstatus-HOST), the resource size, todo switches and the
// designated primary. Parsers are strict and canonical: exactly one text
// form per value, so Format(Parse(x)) == x for every accepted x.
#ifndef MARS_CORE_TREE_VALUES_H_
#define MARS_CORE_TREE_VALUES_H_

#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/tree/names.h"

namespace mars {
namespace tree {

// The value of resource-R/primary when no host is designated.
constexpr char kNoPrimary[] = "(none)";
// Resource sizes are whole 4096-byte blocks (the logical block size of
// /dev/mars/R).
constexpr uint64_t kResourceSizeUnit = 4096;

// A byte count: canonical decimal u64 (see ParseDecimalU64 in text.h).
Status ParseByteCount(Slice value, uint64_t* bytes);
Status AppendByteCount(uint64_t bytes, Bytes* out);

// resource-R/size: a byte count that is > 0 and a multiple of 4096.
// kOutOfRange "resource size is zero", kInvalidArgument "resource size is
// not a multiple of 4096 bytes", or the byte-count errors.
Status ParseResourceSize(Slice value, uint64_t* bytes);
Status AppendResourceSize(uint64_t bytes, Bytes* out);

// todo-HOST/{attach,connect,sync,allow-replay}: exactly "0" or "1".
Status ParseSwitch(Slice value, bool* on);
// "1" or "0" (static storage).
Slice FormatSwitch(bool on);

// resource-R/primary: a host name, or "(none)" which yields an empty
// *host. Errors: the host-name errors.
Status ParsePrimary(Slice value, HostName* host);
// `host` itself, or "(none)" for an empty host. The Slice may point into
// `host`, so it lives as long as `host`.
Slice FormatPrimary(const HostName& host);

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_VALUES_H_
