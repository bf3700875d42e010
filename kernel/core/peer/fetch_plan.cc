// Fetch planning and serve limits from the tree (peer/fetch_plan.h).
#include "core/peer/fetch_plan.h"

#include "core/peer/resource_paths.h"
#include "core/tree/entry.h"
#include "core/tree/version_link.h"

namespace mars {
namespace peer {

namespace {

constexpr char kResourcePrefix[] = "resource-";
constexpr size_t kResourcePrefixSize = sizeof(kResourcePrefix) - 1;

// A logfile some host's link names: a version link (with its final length)
// or a replay link (no length).
struct NamedLogfile {
  tree::LogfileName log;
  bool from_primary = false;
  bool has_length = false;
  uint64_t length = 0;
};

bool Append(Slice piece, char* out, size_t* size) {
  if (*size + piece.size() > tree::kMaxPathBytes) return false;
  __builtin_memcpy(out + *size, piece.data(), piece.size());
  *size += piece.size();
  out[*size] = '\0';
  return true;
}

bool MakeRelpath(Slice resource, const tree::LogfileName& log, char* out) {
  Bytes name(platform::Gfp::kKernel);
  if (!tree::AppendLogfileName(log, &name).ok()) return false;
  size_t size = 0;
  out[0] = '\0';
  return Append(Slice(kResourcePrefix, kResourcePrefixSize), out, &size) &&
         Append(resource, out, &size) && Append(Slice("/", 1), out, &size) &&
         Append(Slice(name.data(), name.size()), out, &size);
}

// What the plan needs of one resource's entries [begin, end).
class ResourcePlanner {
 public:
  ResourcePlanner(const tree::Tree& tree, size_t begin, size_t end,
                  Slice resource, Slice self)
      : tree_(tree), begin_(begin), end_(end), resource_(resource),
        self_(self) {}

  Status Plan(Vector<FetchTarget>* out) {
    if (!ReadSettings()) return Status::Ok();
    Status s = CollectNames();
    if (!s.ok()) return s;
    tree::LogfileName log = replay_.log;
    for (size_t count = 0; count < kMaxPlannedLogfiles; ++count) {
      FetchTarget target;
      target.log = log;
      if (!MakeRelpath(resource_, log, target.relpath)) return Status::Ok();
      if (!FinalLength(log, &target.final_known, &target.final_length)) {
        return Status::Ok();  // lengths disagree: a split brain, replay says
      }
      if (has_primary_) {
        target.source = primary_;
      } else {
        target.source = log.host;
      }
      s = out->PushBack(target);
      if (!s.ok() || !target.final_known) return s;
      if (log.number >= tree::kMaxLogfileNumber || !Next(log, &log)) {
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

 private:
  // Membership, the connect switch, the primary and our replay link.
  bool ReadSettings() {
    bool member = false;
    bool connect = false;
    bool has_replay = false;
    for (size_t i = begin_; i < end_; ++i) {
      const tree::Entry& e = tree_.at(i);
      if (e.tombstone()) continue;
      Slice resource;
      Slice leaf;
      if (!SplitResourcePath(e.path(), &resource, &leaf)) continue;
      if (LeafIs(leaf, "data-", self_)) {
        member = true;
      } else if (leaf.size() == self_.size() + 13 &&
                 LeafIs(leaf.SubSlice(0, 5 + self_.size()), "todo-", self_) &&
                 leaf.RemovePrefix(5 + self_.size()) ==
                     Slice::FromCString("/connect")) {
        connect = e.value() == Slice::FromCString("1");
      } else if (leaf == Slice::FromCString("primary")) {
        has_primary_ = primary_.Assign(e.value()).ok();
      } else if (LeafIs(leaf, "replay-", self_)) {
        has_replay = tree::ParseReplayLink(e.value(), &replay_).ok();
      }
    }
    if (has_primary_ && primary_.slice() == self_) return false;
    return member && connect && has_replay;
  }

  // Every logfile that a version or replay link names within the plan's
  // window of numbers.
  Status CollectNames() {
    const uint64_t first = replay_.log.number;
    const uint64_t last = first + kMaxPlannedLogfiles;
    for (size_t i = begin_; i < end_; ++i) {
      const tree::Entry& e = tree_.at(i);
      if (e.tombstone()) continue;
      Slice resource;
      Slice leaf;
      if (!SplitResourcePath(e.path(), &resource, &leaf)) continue;
      NamedLogfile named;
      tree::LogfileName link_name;
      Slice writer;
      if (tree::ParseVersionLinkName(leaf, &link_name).ok()) {
        if (link_name.number < first || link_name.number > last) continue;
        tree::VersionLink link;
        if (!tree::ParseVersionLink(e.value(), &link).ok()) continue;
        if (link.log.number != link_name.number) continue;
        named.log = link.log;
        named.has_length = true;
        named.length = link.length;
        writer = link_name.host.slice();
      } else if (leaf.StartsWith(Slice::FromCString("replay-"))) {
        tree::ReplayLink link;
        if (!tree::ParseReplayLink(e.value(), &link).ok()) continue;
        if (link.log.number < first || link.log.number > last) continue;
        named.log = link.log;
        writer = leaf.RemovePrefix(7);
      } else {
        continue;
      }
      named.from_primary = has_primary_ && writer == primary_.slice();
      Status s = names_.PushBack(named);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  // False when two version links give `log` different lengths.
  bool FinalLength(const tree::LogfileName& log, bool* known,
                   uint64_t* length) {
    *known = false;
    for (size_t i = 0; i < names_.size(); ++i) {
      const NamedLogfile& n = names_[i];
      if (!n.has_length || n.log != log) continue;
      if (*known && *length != n.length) return false;
      *known = true;
      *length = n.length;
    }
    return true;
  }

  // The logfile after `log`: the primary's naming first.
  bool Next(const tree::LogfileName& log, tree::LogfileName* next) {
    bool found = false;
    for (size_t i = 0; i < names_.size(); ++i) {
      const NamedLogfile& n = names_[i];
      if (n.log.number != log.number + 1) continue;
      if (!found || n.from_primary) {
        *next = n.log;
        found = true;
        if (n.from_primary) break;
      }
    }
    return found;
  }

  const tree::Tree& tree_;
  size_t begin_;
  size_t end_;
  Slice resource_;
  Slice self_;
  tree::HostName primary_;
  bool has_primary_ = false;
  tree::ReplayLink replay_;
  Vector<NamedLogfile> names_;
};

}  // namespace

Status PlanFetch(const tree::Tree& tree, Slice self, Vector<FetchTarget>* out) {
  struct Context {
    const tree::Tree* tree;
    Slice self;
    Vector<FetchTarget>* out;
  } context{&tree, self, out};
  return ForEachResource(
      tree,
      [](void* c, Slice resource, size_t begin, size_t end) {
        Context* ctx = static_cast<Context*>(c);
        ResourcePlanner planner(*ctx->tree, begin, end, resource, ctx->self);
        return planner.Plan(ctx->out);
      },
      &context);
}

Status ParseLogfilePath(Slice relpath, Slice* resource,
                        tree::LogfileName* log) {
  const Status bad(StatusCode::kInvalidArgument, "not a logfile path");
  Slice leaf;
  if (!SplitResourcePath(relpath, resource, &leaf)) return bad;
  if (!tree::ValidateResourceName(*resource).ok()) return bad;
  if (!tree::ParseLogfileName(leaf, log).ok()) return bad;
  // One text form only: the name must read back exactly.
  Bytes canonical(platform::Gfp::kKernel);
  if (!tree::AppendLogfileName(*log, &canonical).ok() ||
      Slice(canonical.data(), canonical.size()) != leaf) {
    return bad;
  }
  return Status::Ok();
}

ServeLimit ServableLength(const tree::Tree& tree, Slice relpath, Slice self,
                          engine::LogDurability* durability,
                          uint64_t file_size) {
  ServeLimit limit;
  Slice resource;
  tree::LogfileName log;
  if (!ParseLogfilePath(relpath, &resource, &log).ok()) return limit;
  // Still written here: only what is durable, whatever links say.
  uint64_t durable = 0;
  if (log.host.slice() == self && durability != nullptr &&
      durability->DurableEnd(relpath, &durable)) {
    limit.length = durable < file_size ? durable : file_size;
    return limit;
  }
  // A version link naming the logfile: its length is final.
  for (size_t i = 0; i < tree.size(); ++i) {
    const tree::Entry& e = tree.at(i);
    if (e.tombstone()) continue;
    Slice r;
    Slice leaf;
    if (!SplitResourcePath(e.path(), &r, &leaf) || r != resource) continue;
    tree::LogfileName link_name;
    if (!tree::ParseVersionLinkName(leaf, &link_name).ok() ||
        link_name.number != log.number) {
      continue;
    }
    tree::VersionLink link;
    if (!tree::ParseVersionLink(e.value(), &link).ok() || link.log != log) {
      continue;
    }
    limit.complete = true;
    limit.length = link.length < file_size ? link.length : file_size;
    return limit;
  }
  if (log.host.slice() == self) return limit;  // not known durable: nothing
  limit.length = file_size;
  return limit;
}

}  // namespace peer
}  // namespace mars
