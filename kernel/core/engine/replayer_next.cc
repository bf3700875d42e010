// Replay of fetched logfiles on a secondary (engine/replayer.h): the end of
// a logfile (cut to its final length, publish, this host's version link)
// and the move to the next one.
#include "core/engine/error_text.h"
#include "core/engine/replayer.h"
#include "core/engine/tree_writes.h"

namespace mars {
namespace engine {

Status Replayer::CutLocalCopy(uint64_t length) {
  if (copies_ != nullptr) copies_->LockCopies();
  Status status = file_.Truncate(length);
  if (copies_ != nullptr) copies_->UnlockCopies();
  if (status.ok()) status = file_.Sync(0, length);
  return status;
}

bool Replayer::FinishLogfile(uint64_t now) {
  position_ = final_length_;
  if (file_size_ > final_length_) {
    // Bytes beyond the final length are not the primary's: cut them.
    Status status = CutLocalCopy(final_length_);
    if (!status.ok()) {
      StopIo("cannot cut the bytes after the final length of", status);
      return false;
    }
    refetches_++;
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: local copy of logfile %u had %llu bytes "
                  "after its final length %llu; cut",
                  name_, log_.number,
                  static_cast<unsigned long long>(file_size_ - final_length_),
                  static_cast<unsigned long long>(final_length_));
    file_size_ = final_length_;
  }
  if (!MaybePublish(true)) return false;
  // Fresh links: the version links to compare with, and the next logfile.
  next_scan_ns_ = now + kLinkScanIntervalNs;
  const Status status = ScanLinks();
  if (!status.ok()) {
    StopIo("cannot list the links of", status);
    return false;
  }
  if (!CheckFacts() || !WriteOwnVersionLink()) return false;
  logfiles_finished_++;
  finished_ = true;
  refetching_ = false;
  CloseLogfile();
  return SelectNext(now, true);
}

bool Replayer::WriteOwnVersionLink() {
  const LinkFacts& f = *facts_;
  tree::VersionLink previous;
  bool have_previous = false;
  if (log_.number > 1) {
    tree::LogfileName name;
    name.number = log_.number - 1;
    if (name.host.Assign(Slice::FromCString(host_)).ok()) {
      char leaf[tree::kMaxNameChars + 32];
      tree::TextWriter w(leaf, sizeof(leaf));
      AppendName("version-", name, &w);
      size_t size = 0;
      have_previous =
          ReadEntry(Slice::FromCString(leaf), &size) &&
          tree::ParseVersionLink(Slice(scratch_, size), &previous).ok() &&
          previous.log.number == name.number;
    }
  }
  tree::VersionLink ours;
  const char* source = nullptr;
  Status status = Status::Ok();
  if (have_previous || log_.number == 1) {
    status = tree::MakeVersionLink(have_previous ? &previous : nullptr, log_,
                                   final_length_, &ours);
  } else {
    // No history of our own before N (a fresh secondary): take over the
    // link of a host that has it, preferring the designated primary's.
    const tree::VersionLink* take = nullptr;
    if (f.primary_has_n && f.primary_n.log == log_ &&
        f.primary_n.length == final_length_) {
      take = &f.primary_n;
      source = "taken over from the designated primary";
    } else if (f.origin_has_n && f.origin_n.length == final_length_) {
      take = &f.origin_n;
      source = "taken over from the origin";
    } else if (f.any_has_n && f.any_n.length == final_length_) {
      take = &f.any_n;
      source = "taken over from another host";
    }
    if (take != nullptr) {
      ours = *take;
    } else {
      status = tree::MakeVersionLink(nullptr, log_, final_length_, &ours);
      source = "the start of a new chain";
    }
  }
  const LinkOwner owner{root_, name_, host_};
  if (status.ok()) status = WriteVersionLinkValue(owner, ours, clock_);
  if (!status.ok()) {
    StopIo("cannot write the version link of", status);
    return false;
  }
  if (source != nullptr) {
    platform::Log(platform::LogLevel::kNotice,
                  "resource %s: no version link of this host for logfile %u; "
                  "the link for logfile %u is %s",
                  name_, log_.number - 1, log_.number, source);
  }
  const tree::VersionLink* other = nullptr;
  const char* whose = nullptr;
  if (f.primary_has_n && f.primary_n.hash != ours.hash) {
    other = &f.primary_n;
    whose = "the designated primary ";
  } else if (f.origin_has_n && f.origin_n.hash != ours.hash) {
    other = &f.origin_n;
    whose = "the origin ";
  }
  if (other != nullptr) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("split brain: version link of this host for logfile ");
    w.Decimal(log_.number);
    w.CString(" differs from that of ");
    w.CString(whose);
    AppendHost(other == &f.primary_n ? f.designated : log_.host, &w);
    w.CString(" (histories diverge); replay stopped after ");
    AppendName("log-", log_, &w);
    Stop(ReplayState::kSplitBrain);
    return false;
  }
  return true;
}

bool Replayer::SelectNext(uint64_t now, bool scanned) {
  next_scan_ns_ = now + kLinkScanIntervalNs;
  if (!scanned && !ScanLinks().ok()) {
    if (!IsReplayStopped(state_)) state_ = ReplayState::kIdle;
    return false;
  }
  const LinkFacts& f = *facts_;
  tree::LogfileName next;
  bool found = false;
  if (f.primary_next_found) {
    next = f.primary_next;
    found = true;
  } else if (f.other_next_conflict) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("split brain: logfile ");
    w.Decimal(log_.number + 1);
    w.CString(" is named as ");
    AppendName("log-", f.other_next, &w);
    w.CString(" and as ");
    AppendName("log-", f.other_next_conflicting, &w);
    w.CString(", the designated primary names neither; replay stopped");
    Stop(ReplayState::kSplitBrain);
    return false;
  } else if (f.other_next_found) {
    next = f.other_next;
    found = true;
  }
  if (found) {
    hole_since_ns_ = 0;
    CloseLogfile();
    log_ = next;
    skip_until_ = 0;
    position_ = 0;
    final_known_ = false;
    final_length_ = 0;
    finished_ = false;
    refetching_ = false;
    file_size_ = 0;
    error_ = ErrorText();
    state_ = ReplayState::kWaitingForBytes;
    next_scan_ns_ = 0;  // look for its final length when bytes run out
    return MaybePublish(true);
  }
  if (f.beyond != 0) {
    if (hole_since_ns_ == 0) hole_since_ns_ = now;
    if (now - hole_since_ns_ >= kHoleConfirmNs) {
      tree::TextWriter w(error_.text, ErrorText::kCapacity);
      w.CString("hole in the logfile sequence: no link names logfile ");
      w.Decimal(log_.number + 1);
      w.CString(", but logfile ");
      w.Decimal(f.beyond);
      w.CString(" is named; replay stopped after ");
      AppendName("log-", log_, &w);
      Stop(ReplayState::kHole);
      return false;
    }
  } else {
    hole_since_ns_ = 0;
  }
  error_ = ErrorText();
  state_ = ReplayState::kIdle;
  return false;
}

}  // namespace engine
}  // namespace mars
