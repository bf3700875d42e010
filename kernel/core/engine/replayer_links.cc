// Replay of fetched logfiles on a secondary (engine/replayer.h): the scan of
// the resource directory's links (version-N-*, replay-*, primary) and the
// checks on what it found.
#include "core/base/memory.h"
#include "core/engine/error_text.h"
#include "core/engine/replayer.h"
#include "core/engine/tree_links.h"
#include "core/tree/values.h"

namespace mars {
namespace engine {

Status Replayer::ScanLinks() {
  LinkFacts* f = facts_;
  f->~LinkFacts();
  new (f, PlacementTag{}) LinkFacts();
  RelPath path;
  path.Add("resource-").Add(name_).Add("/primary");
  size_t size = 0;
  Status status = ReadValue(root_, path.c_str(), scratch_, kLinkBufferBytes,
                            &size, nullptr, clock_);
  if (status.ok()) {
    tree::HostName designated;
    if (tree::ParsePrimary(Slice(scratch_, size), &designated).ok()) {
      f->designated = designated;
    }
  } else if (status.code() != StatusCode::kNotFound) {
    return status;
  }
  return platform::ListDirectory(dir_, VisitEntry, this);
}

bool Replayer::VisitEntry(void* context, const char* name, size_t size,
                          platform::EntryType type) {
  if (type != platform::EntryType::kLink) return true;
  auto* self = static_cast<Replayer*>(context);
  const Slice entry(name, size);
  if (entry.StartsWith(Slice("version-", 8))) {
    tree::LogfileName log;
    if (tree::ParseVersionLinkName(entry, &log).ok()) {
      self->VisitVersionLink(log, entry);
    }
  } else if (entry.StartsWith(Slice("replay-", 7))) {
    tree::HostName host;
    if (host.Assign(entry.RemovePrefix(7)).ok()) {
      self->VisitReplayLink(host, entry);
    }
  }
  return true;
}

bool Replayer::ReadEntry(Slice entry, size_t* size) {
  RelPath path;
  path.Add("resource-").Add(name_).Add("/").Add(entry);
  return ReadValue(root_, path.c_str(), scratch_, kLinkBufferBytes, size,
                   nullptr, clock_)
      .ok();
}

void Replayer::NoteBeyond(uint32_t number) {
  if (facts_->beyond == 0 || number < facts_->beyond) facts_->beyond = number;
}

void Replayer::NoteNext(const tree::LogfileName& log, bool from_primary) {
  LinkFacts* f = facts_;
  if (from_primary) {
    f->primary_next_found = true;
    f->primary_next = log;
    return;
  }
  if (!f->other_next_found) {
    f->other_next_found = true;
    f->other_next = log;
  } else if (f->other_next != log) {
    f->other_next_conflict = true;
    f->other_next_conflicting = log;
  }
}

void Replayer::VisitVersionLink(const tree::LogfileName& name, Slice entry) {
  if (name.host.slice() == Slice::FromCString(host_)) return;  // our own
  const uint32_t n = log_.number;
  if (name.number > n + 1) {
    NoteBeyond(name.number);
    return;
  }
  if (name.number != n && name.number != n + 1) return;
  size_t size = 0;
  if (!ReadEntry(entry, &size)) return;
  tree::VersionLink link;
  // A link that does not parse or verify, or whose value names another
  // number than its name, says nothing.
  if (!tree::ParseVersionLink(Slice(scratch_, size), &link).ok() ||
      link.log.number != name.number) {
    return;
  }
  LinkFacts* f = facts_;
  const bool from_primary =
      !f->designated.empty() && name.host == f->designated;
  if (name.number == n + 1) {
    NoteNext(link.log, from_primary);
    return;
  }
  if (from_primary) {
    f->primary_has_n = true;
    f->primary_n = link;
    if (link.log != log_) f->primary_names_other = true;
  }
  if (link.log != log_) return;
  if (f->final_found && f->final_length != link.length) {
    f->length_conflict = true;
  }
  // The designated primary's length is preferred (all must agree).
  if (!f->final_found || from_primary) f->final_length = link.length;
  f->final_found = true;
  if (name.host == log_.host) {
    f->origin_has_n = true;
    f->origin_n = link;
  }
  if (!f->any_has_n) {
    f->any_has_n = true;
    f->any_n = link;
  }
}

void Replayer::VisitReplayLink(const tree::HostName& host, Slice entry) {
  if (host.slice() == Slice::FromCString(host_)) return;  // our own
  size_t size = 0;
  if (!ReadEntry(entry, &size)) return;
  tree::ReplayLink link;
  if (!tree::ParseReplayLink(Slice(scratch_, size), &link).ok()) return;
  const uint32_t n = log_.number;
  if (link.log.number == n + 1) {
    NoteNext(link.log,
             !facts_->designated.empty() && host == facts_->designated);
  } else if (link.log.number > n + 1) {
    NoteBeyond(link.log.number);
  }
}

bool Replayer::CheckFacts() {
  const LinkFacts& f = *facts_;
  if (f.length_conflict) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("split brain: version links for logfile ");
    w.Decimal(log_.number);
    w.CString(" give ");
    AppendName("log-", log_, &w);
    w.CString(" different lengths; replay stopped");
    Stop(ReplayState::kSplitBrain);
    return false;
  }
  if (f.primary_names_other) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("split brain: the designated primary ");
    AppendHost(f.designated, &w);
    w.CString(" has ");
    AppendName("log-", f.primary_n.log, &w);
    w.CString(" as logfile ");
    w.Decimal(log_.number);
    w.CString(", this host replays ");
    AppendName("log-", log_, &w);
    w.CString("; replay stopped");
    Stop(ReplayState::kSplitBrain);
    return false;
  }
  if (f.final_found && f.final_length < position_) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("split brain: ");
    AppendName("log-", log_, &w);
    w.CString(" is final at ");
    w.Decimal(f.final_length);
    w.CString(" bytes, but this host applied it up to ");
    w.Decimal(position_);
    w.CString("; replay stopped");
    Stop(ReplayState::kSplitBrain);
    return false;
  }
  return true;
}

}  // namespace engine
}  // namespace mars
