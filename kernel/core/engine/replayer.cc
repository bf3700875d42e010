// Replay of fetched logfiles on a secondary (engine/replayer.h).
#include "core/engine/replayer.h"

#include "core/base/memory.h"
#include "core/engine/error_text.h"
#include "core/engine/tree_writes.h"

namespace mars {
namespace engine {

namespace {

constexpr uint64_t kMsToNs = 1000ull * 1000;

bool CopyName(const char* from, char* to, size_t capacity) {
  if (from == nullptr) return false;
  const size_t size = __builtin_strlen(from);
  if (size == 0 || size >= capacity) return false;
  __builtin_memcpy(to, from, size + 1);
  return true;
}

}  // namespace

const char* ReplayStateName(ReplayState state) {
  switch (state) {
    case ReplayState::kReplaying:
      return "replaying";
    case ReplayState::kWaitingForBytes:
      return "waiting-for-bytes";
    case ReplayState::kIdle:
      return "idle";
    case ReplayState::kRefetching:
      return "refetching";
    case ReplayState::kSplitBrain:
      return "split-brain";
    case ReplayState::kHole:
      return "hole";
    case ReplayState::kCorrupt:
      return "corrupt";
    case ReplayState::kIoError:
      return "io-error";
  }
  return "unknown";
}

bool IsReplayStopped(ReplayState state) {
  return state == ReplayState::kSplitBrain || state == ReplayState::kHole ||
         state == ReplayState::kCorrupt || state == ReplayState::kIoError;
}

int64_t ReplayCode(ReplayState state) {
  switch (state) {
    case ReplayState::kSplitBrain:
      return -71;  // EPROTO
    case ReplayState::kHole:
      return -61;  // ENODATA
    case ReplayState::kCorrupt:
      return -74;  // EBADMSG
    case ReplayState::kIoError:
      return -5;  // EIO
    default:
      return 0;
  }
}

Replayer::~Replayer() {
  file_.Close();
  platform::Free(scratch_);
  Delete(facts_);
}

Status Replayer::Init(const ReplayerOptions& options) {
  if (!CopyName(options.root, root_, sizeof(root_)) ||
      !CopyName(options.name, name_, sizeof(name_)) ||
      !CopyName(options.host, host_, sizeof(host_)) ||
      options.data == nullptr || options.clock == nullptr) {
    return Status(StatusCode::kInvalidArgument, "replayer settings invalid");
  }
  tree::TextWriter dir(dir_, sizeof(dir_));
  dir.CString(root_);
  dir.CString("/resource-");
  dir.CString(name_);
  if (dir.truncated()) {
    return Status(StatusCode::kInvalidArgument, "replayer settings invalid");
  }
  data_ = options.data;
  device_size_ = options.device_size;
  clock_ = options.clock;
  copies_ = options.copies;
  monotonic_ns_ = options.monotonic_ns;
  Status status = applier_.Init(options.data, options.device_size, name_);
  if (!status.ok()) return status;
  scratch_ = static_cast<char*>(
      platform::Allocate(kLinkBufferBytes, platform::Gfp::kKernel));
  facts_ = New<LinkFacts>(platform::Gfp::kKernel);
  if (scratch_ == nullptr || facts_ == nullptr) {
    return Status(StatusCode::kNoMemory, "out of memory");
  }
  return Status::Ok();
}

uint64_t Replayer::Now() const {
  return monotonic_ns_ != nullptr ? monotonic_ns_() : platform::MonotonicNs();
}

void Replayer::AppendName(const char* prefix, const tree::LogfileName& log,
                          tree::TextWriter* w) {
  char digits[tree::kMaxDecimalU64Chars];
  const size_t n = tree::FormatDecimalU64(log.number, digits);
  w->CString(prefix);
  for (size_t i = n; i < tree::kLogfileNumberDigits; ++i) w->Char('0');
  for (size_t i = 0; i < n; ++i) w->Char(digits[i]);
  w->Char('-');
  AppendHost(log.host, w);
}

void Replayer::AppendHost(const tree::HostName& host, tree::TextWriter* w) {
  w->Escaped(host.slice());
}

// ---------------------------------------------------------------------------
// Pass

ReplayPass Replayer::Pass(uint64_t max_bytes) {
  pass_bytes_ = 0;
  const uint64_t now = Now();
  ReplayPass result;
  bool go = true;
  if (IsReplayStopped(state_)) {
    go = Resume(now);
  } else if (!started_) {
    go = Start();
  }
  if (go) go = Run(now, max_bytes, &result.more);
  result.state = state_;
  result.bytes_applied = pass_bytes_;
  return result;
}

bool Replayer::Start() {
  const LinkOwner owner{root_, name_, host_};
  tree::ReplayLink link;
  const Status status = ReadReplayLink(owner, clock_, &link);
  if (!status.ok()) {
    tree::TextWriter w(error_.text, ErrorText::kCapacity);
    w.CString("cannot read replay-");
    w.CString(host_);
    w.CString(": ");
    w.CString(status.message());
    retry_ns_ = Now() + kRetryNs;
    Stop(ReplayState::kIoError);
    return false;
  }
  log_ = link.log;
  skip_until_ = link.position;
  position_ = link.position;
  published_log_ = link.log;
  published_ = link.position;
  last_publish_ns_ = Now();
  final_known_ = false;
  finished_ = false;
  started_ = true;
  state_ = ReplayState::kWaitingForBytes;
  return true;
}

bool Replayer::Resume(uint64_t now) {
  switch (state_) {
    case ReplayState::kHole:
      // Checked again when due; goes on once the next logfile is named.
      if (now < next_scan_ns_) return false;
      return SelectNext(now, false);
    case ReplayState::kIoError:
      if (now < retry_ns_) return false;
      error_ = ErrorText();
      state_ = ReplayState::kWaitingForBytes;
      return started_ ? true : Start();
    default:
      return false;  // split brain, corrupt: for good
  }
}

bool Replayer::Run(uint64_t now, uint64_t max_bytes, bool* more) {
  *more = false;
  uint64_t scanned = 0;
  for (;;) {
    if (finished_ && (now < next_scan_ns_ || !SelectNext(now, false))) {
      return false;
    }
    if (!file_.is_open() && !OpenLogfile()) {
      if (state_ == ReplayState::kWaitingForBytes) MaybePublish(true);
      return false;
    }
    Status status = file_.Size(&file_size_);
    if (!status.ok()) {
      StopIo("cannot read the size of", status);
      return false;
    }
    // A complete logfile is read up to its final length, as the whole file.
    uint64_t end = file_size_;
    bool final = false;
    if (final_known_ && file_size_ >= final_length_) {
      end = final_length_;
      final = true;
    }
    bool look_again = false;  // at the size and final length
    while (!look_again) {
      if (scanned > 0 && scanned >= max_bytes) {
        if (!MaybePublish(false)) return false;
        state_ =
            refetching_ ? ReplayState::kRefetching : ReplayState::kReplaying;
        *more = true;
        return true;
      }
      log::ReadResult read;
      status = applier_.Next(&file_, &end, final, &reader_, &read);
      if (!status.ok()) {
        StopIo("cannot read", status);
        return false;
      }
      switch (read.outcome) {
        case log::ReadOutcome::kRecord:
          scanned += read.record.size;
          if (!ApplyRecord(read.record)) return false;
          break;
        case log::ReadOutcome::kNeedMore:
          // Everything here is applied; unless a version link gives the
          // final length now, wait for bytes.
          if (!LearnFinalLength(now, &look_again)) return false;
          if (look_again) break;
          state_ = refetching_ ? ReplayState::kRefetching
                               : ReplayState::kWaitingForBytes;
          MaybePublish(true);
          return false;
        case log::ReadOutcome::kCleanEnd:
          // Only with `final`: the reader is at the final length.
          if (!FinishLogfile(now)) return false;
          look_again = true;
          break;
        case log::ReadOutcome::kUnsupported: {
          tree::TextWriter w(error_.text, ErrorText::kCapacity);
          AppendName("log-", log_, &w);
          w.CString(
              " has a record this module does not understand at byte "
              "offset ");
          w.Decimal(read.offset);
          w.CString(" (");
          w.CString(log::DefectName(read.defect));
          w.CString("); replay stopped before it");
          Stop(ReplayState::kCorrupt);
          return false;
        }
        default:
          // Torn tail or stale bytes of a complete file, or a damaged
          // record: the local copy is damaged there.
          CutDamage(read);
          return false;
      }
    }
  }
}

bool Replayer::ApplyRecord(const log::RecordView& record) {
  if (record.end() > skip_until_) {
    const Status status = applier_.Apply(record);
    if (status.code() == StatusCode::kCorruption) {
      tree::TextWriter w(error_.text, ErrorText::kCapacity);
      w.CString("record ");
      w.Decimal(record.record_number);
      w.CString(" of ");
      AppendName("log-", log_, &w);
      w.CString(" at byte offset ");
      w.Decimal(record.offset);
      w.CString(" cannot be applied: ");
      w.CString(status.message());
      Stop(ReplayState::kCorrupt);
      return false;
    }
    if (!status.ok()) {
      RetryFromFailedWrite();
      StopIo("cannot write to the data device a record of", status);
      return false;
    }
    if (record.kind() == log::kKindWrite) {
      const uint64_t bytes = record.payload.size();
      records_applied_++;
      bytes_applied_ += bytes;
      pass_bytes_ += bytes;
      unflushed_ = true;
      platform::AddCounter(platform::Counter::kBytesReplayed, bytes);
    }
    if (logged_[0] != '\0') {
      platform::Log(platform::LogLevel::kNotice, "resource %s: replay goes on",
                    name_);
      logged_[0] = '\0';
    }
  }
  if (record.end() > position_) position_ = record.end();
  if (refetching_ && position_ > damage_offset_) {
    refetching_ = false;  // past the damage: fetch repaired it
    error_ = ErrorText();
  }
  return true;
}

bool Replayer::LearnFinalLength(uint64_t now, bool* look_again) {
  *look_again = false;
  if (final_known_ || now < next_scan_ns_) return true;
  next_scan_ns_ = now + kLinkScanIntervalNs;
  if (!ScanLinks().ok()) return true;  // looked for again later
  if (!CheckFacts()) return false;
  if (!facts_->final_found) return true;
  final_known_ = true;
  final_length_ = facts_->final_length;
  // Read on as a complete file: from the last record boundary, forgetting
  // what the reader concluded about bytes after it (they may lie beyond the
  // final length).
  if (!ResetReader(reader_.offset(), reader_.next_record_number(),
                   reader_.salt())) {
    StopIo("cannot read",
           Status(StatusCode::kInternal, "log reader reset failed"));
    return false;
  }
  *look_again = true;
  return true;
}

bool Replayer::OpenLogfile() {
  char path[sizeof(dir_) + 96];
  tree::TextWriter w(path, sizeof(path));
  w.CString(dir_);
  w.Char('/');
  AppendName("log-", log_, &w);
  if (w.truncated()) {
    StopIo("cannot name the local copy of",
           Status(StatusCode::kInvalidArgument, "path too long"));
    return false;
  }
  const Status status =
      file_.Open(path, platform::File::kRead | platform::File::kWrite);
  if (status.code() == StatusCode::kNotFound) {
    // Fetch has not started it yet.
    state_ = ReplayState::kWaitingForBytes;
    return false;
  }
  if (!status.ok()) {
    StopIo("cannot open the local copy of", status);
    return false;
  }
  return ResetReader(0, 1, log::kAdoptSalt);
}

void Replayer::CloseLogfile() {
  file_.Close();
  applier_.ResetWindow();
}

void Replayer::RetryFromFailedWrite() {
  // Records from the first one whose data may be missing are applied
  // again; nothing beyond it was published.
  const uint64_t from = applier_.failed_offset();
  ResetReader(from, applier_.failed_record_number(), reader_.salt());
  if (position_ > from) position_ = from;
}

bool Replayer::ResetReader(uint64_t offset, uint64_t next_record_number,
                           uint64_t salt) {
  reader_.~LogReader();
  new (&reader_, PlacementTag{}) log::LogReader();
  log::LogReaderOptions options;
  options.logfile_number = log_.number;
  options.salt = salt;
  options.start_offset = offset;
  options.next_record_number = next_record_number;
  if (salt == log::kAdoptSalt) {
    options.start_offset = 0;  // the salt is learnt from record 1
    options.next_record_number = 1;
  }
  applier_.ResetWindow();
  return MARS_CHECK(reader_.Init(options).ok());
}

// ---------------------------------------------------------------------------
// Damage, publication, stops

void Replayer::CutDamage(const log::ReadResult& read) {
  const uint64_t at = reader_.offset();
  MARS_CHECK(at == read.offset);
  if (damage_log_ == log_.number && damage_offset_ == at) {
    damage_cuts_++;
  } else {
    damage_log_ = log_.number;
    damage_offset_ = at;
    damage_cuts_ = 1;
  }
  tree::TextWriter w(error_.text, ErrorText::kCapacity);
  w.CString("local copy of ");
  AppendName("log-", log_, &w);
  w.CString(" is damaged at byte offset ");
  w.Decimal(at);
  w.CString(" (");
  w.CString(log::ReadOutcomeName(read.outcome));
  w.CString(", ");
  w.CString(log::DefectName(read.defect));
  if (damage_cuts_ > kMaxRefetches) {
    w.CString(") again after ");
    w.Decimal(kMaxRefetches);
    w.CString(" refetches; replay stopped before it");
    Stop(ReplayState::kCorrupt);
    return;
  }
  w.CString("); cut there, fetch brings the rest again");
  // Whatever happens next reads again from the cut.
  const uint64_t salt = reader_.salt();
  const uint64_t number = reader_.next_record_number();
  if (!ResetReader(at, number, salt) || !MaybePublish(true)) return;
  Status status = CutLocalCopy(at);
  if (!status.ok()) {
    StopIo("cannot cut the damaged local copy of", status);
    return;
  }
  platform::Log(platform::LogLevel::kWarning, "resource %s: %s", name_,
                error_.text);
  refetches_++;
  refetching_ = true;
  file_size_ = at;
  state_ = ReplayState::kRefetching;
}

bool Replayer::MaybePublish(bool force) {
  if (published_log_ == log_ && published_ == position_) return true;
  const uint64_t now = Now();
  const uint64_t interval_ns =
      platform::GetTunable(platform::Tunable::kReplayLinkIntervalMs) * kMsToNs;
  if (!force && now - last_publish_ns_ < interval_ns) return true;
  // Everything the link will claim is on the data device first.
  const Status staged = applier_.WriteStaged();
  if (!staged.ok()) {
    RetryFromFailedWrite();
    StopIo("cannot write to the data device a record of", staged);
    return false;
  }
  if (unflushed_) {
    const Status status = data_->FlushSync();
    if (!status.ok()) {
      StopIo("cannot flush the data device after replaying", status);
      return false;
    }
    platform::AddCounter(platform::Counter::kDataFlushes, 1);
    unflushed_ = false;
  }
  const LinkOwner owner{root_, name_, host_};
  const Status status = WriteReplayLinkFor(owner, log_, position_, clock_);
  if (!status.ok()) {
    StopIo("cannot write the replay link for", status);
    return false;
  }
  published_log_ = log_;
  published_ = position_;
  last_publish_ns_ = now;
  return true;
}

Status Replayer::PublishNow() {
  if (!started_) return Status::Ok();
  return MaybePublish(true) ? Status::Ok()
                            : Status(StatusCode::kIoError, "replay link");
}

void Replayer::Stop(ReplayState state) {
  // The records applied before the stop reach the device (as without
  // staging); the replay link claims them only after a flush.
  if (!applier_.WriteStaged().ok()) RetryFromFailedWrite();
  state_ = state;
  if (__builtin_strcmp(logged_, error_.text) != 0) {
    platform::Log(platform::LogLevel::kError, "resource %s: %s", name_,
                  error_.text);
    __builtin_memcpy(logged_, error_.text, sizeof(logged_));
  }
}

void Replayer::StopIo(const char* what, Status status) {
  tree::TextWriter w(error_.text, ErrorText::kCapacity);
  w.CString(what);
  w.Char(' ');
  AppendName("log-", log_, &w);
  w.CString(": ");
  w.CString(status.message());
  w.CString(" (retrying)");
  retry_ns_ = Now() + kRetryNs;
  Stop(ReplayState::kIoError);
}

void Replayer::Report(ReplayReport* report) const {
  *report = ReplayReport();
  report->state = state_;
  report->log = log_;
  report->position = position_;
  report->published = published_log_ == log_ ? published_ : 0;
  report->bytes_applied = bytes_applied_;
  report->records_applied = records_applied_;
  report->logfiles_finished = logfiles_finished_;
  report->refetches = refetches_;
  report->records_read_in_place = applier_.records_read_in_place();
  report->records_read_direct = applier_.records_read_direct();
  report->records_read_ahead = applier_.records_read_ahead();
  report->code = ReplayCode(state_);
  if (IsReplayStopped(state_) || state_ == ReplayState::kRefetching) {
    report->error = error_;
  }
}

}  // namespace engine
}  // namespace mars
