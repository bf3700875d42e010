// Sync planning from the tree (peer/sync_plan.h).
#include "core/peer/sync_plan.h"

#include "core/peer/resource_paths.h"
#include "core/tree/entry.h"
#include "core/tree/values.h"

namespace mars {
namespace peer {

namespace {

// `leaf` == "todo-" + host + "/" + name.
bool IsSwitch(Slice leaf, Slice host, const char* name) {
  const Slice todo = Slice::FromCString("todo-");
  const Slice tail = Slice::FromCString(name);
  return leaf.size() == todo.size() + host.size() + 1 + tail.size() &&
         leaf.StartsWith(todo) &&
         leaf.SubSlice(todo.size(), host.size()) == host &&
         leaf[todo.size() + host.size()] == '/' &&
         leaf.RemovePrefix(todo.size() + host.size() + 1) == tail;
}

Status PlanResource(const tree::Tree& tree, Slice self, Slice resource,
                    size_t begin, size_t end, Vector<SyncTarget>* out) {
  bool member = false;
  bool sync = false;
  bool size_ok = false;
  bool has_primary = false;
  SyncTarget target;
  for (size_t i = begin; i < end; ++i) {
    const tree::Entry& e = tree.at(i);
    if (e.tombstone()) continue;
    Slice r;
    Slice leaf;
    if (!SplitResourcePath(e.path(), &r, &leaf)) continue;
    if (LeafIs(leaf, "data-", self)) {
      member = true;
    } else if (IsSwitch(leaf, self, "sync")) {
      sync = e.value() == Slice::FromCString("1");
    } else if (leaf == Slice::FromCString("size")) {
      size_ok = tree::ParseResourceSize(e.value(), &target.size).ok();
    } else if (leaf == Slice::FromCString("primary")) {
      has_primary = tree::ParsePrimary(e.value(), &target.source).ok();
    } else if (LeafIs(leaf, "syncstatus-", self)) {
      if (!tree::ParseByteCount(e.value(), &target.synced).ok()) {
        target.synced = 0;
      }
    } else if (LeafIs(leaf, "syncpos-", self)) {
      target.has_syncpos =
          tree::ParseReplayLink(e.value(), &target.syncpos).ok();
    }
  }
  if (!member || !sync || !size_ok || !has_primary ||
      target.source.slice().empty() || target.source.slice() == self ||
      target.synced >= target.size) {
    return Status::Ok();
  }
  __builtin_memcpy(target.resource, resource.data(), resource.size());
  target.resource[resource.size()] = '\0';
  return out->PushBack(target);
}

}  // namespace

Status PlanSync(const tree::Tree& tree, Slice self, Vector<SyncTarget>* out) {
  struct Context {
    const tree::Tree* tree;
    Slice self;
    Vector<SyncTarget>* out;
  } context{&tree, self, out};
  return ForEachResource(
      tree,
      [](void* c, Slice resource, size_t begin, size_t end) {
        Context* ctx = static_cast<Context*>(c);
        return PlanResource(*ctx->tree, ctx->self, resource, begin, end,
                            ctx->out);
      },
      &context);
}

}  // namespace peer
}  // namespace mars
