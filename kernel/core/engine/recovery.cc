// Log replay after a crash (engine/recovery.h).
#include "core/engine/recovery.h"

#include "core/base/memory.h"
#include "core/engine/error_text.h"
#include "core/engine/log_apply.h"
#include "core/engine/resource.h"
#include "core/engine/tree_writes.h"
#include "core/log/log_reader.h"
#include "core/tree/log_names.h"
#include "core/tree/text.h"

namespace mars {
namespace engine {

namespace {

// On the heap: the applier's stages are too large for a kernel stack frame
// (with KASAN's redzones RecoverFromLog's frame exceeded 2 KiB).
struct RecoveryRun {
  LogApplier applier;
  RecoveryResult* result = nullptr;
};

void DescribeDefect(ErrorText* why, const char* path, const char* outcome,
                    const log::ReadResult& read) {
  tree::TextWriter w(why->text, ErrorText::kCapacity);
  w.CString("logfile ");
  w.CString(path);
  w.CString(" has ");
  w.CString(outcome);
  w.CString(" at byte offset ");
  w.Decimal(read.offset);
  w.CString(" (");
  w.CString(log::DefectName(read.defect));
  w.CString(
      "); recovery stopped there, the data device holds every record "
      "before it; inspect with marsadm dump-log");
}

// Replays one logfile from `start`. *end = end of its valid records.
Status ReplayLogfile(RecoveryRun* r, const char* path, uint64_t number,
                     uint64_t start, uint64_t* end, ErrorText* why) {
  platform::File file;
  Status status =
      file.Open(path, platform::File::kRead | platform::File::kWrite);
  if (!status.ok()) return status;  // kNotFound: the caller decides
  uint64_t file_size = 0;
  status = file.Size(&file_size);
  if (!status.ok()) {
    FormatError(why, "cannot read the size of logfile", path, status);
    return status;
  }
  log::LogReader reader;
  log::LogReaderOptions options;
  options.logfile_number = number;
  status = reader.Init(options);
  if (!MARS_CHECK(status.ok())) return status;
  r->applier.ResetWindow();
  for (;;) {
    log::ReadResult read;
    status = r->applier.Next(&file, &file_size, true, &reader, &read);
    if (!status.ok()) {
      FormatError(why, "cannot read logfile", path, status);
      return status;
    }
    if (read.outcome == log::ReadOutcome::kRecord) {
      if (read.record.end() > start) {
        status = r->applier.Apply(read.record);
        if (!status.ok()) {
          FormatError(why, "cannot replay a record of", path, status);
          return status;
        }
        if (read.record.kind() == log::kKindWrite) {
          r->result->records_applied++;
          r->result->bytes_applied += read.record.payload.size();
        }
      }
      continue;
    }
    if (!MARS_CHECK(read.outcome != log::ReadOutcome::kNeedMore)) {
      return Status(StatusCode::kInternal, "log reader wants more at the end");
    }
    if (read.outcome == log::ReadOutcome::kCorruption ||
        read.outcome == log::ReadOutcome::kUnsupported) {
      DescribeDefect(why, path,
                     read.outcome == log::ReadOutcome::kCorruption
                         ? "a corrupt record"
                         : "a record this module does not understand",
                     read);
      return Status(StatusCode::kCorruption, "corrupt logfile");
    }
    // Clean end, torn tail or stale bytes of an older incarnation: the log
    // ends here. Its records' writes are done first, so that a failed one
    // is reported as this logfile's.
    status = r->applier.WriteStaged();
    if (!status.ok()) {
      FormatError(why, "cannot replay a record of", path, status);
      return status;
    }
    // Cut the tail so the file is exactly its valid records.
    *end = read.offset;
    if (read.offset < start) {
      FormatError(why, "replay position lies beyond the valid records of", path,
                  Status::Ok());
      return Status(StatusCode::kCorruption, "replay position beyond log");
    }
    if (file_size > read.offset) {
      status = file.Truncate(read.offset);
      if (status.ok()) status = file.Sync(0, read.offset);
      if (!status.ok()) {
        FormatError(why, "cannot cut the torn tail of", path, status);
        return status;
      }
      platform::Log(platform::LogLevel::kNotice,
                    "logfile %s: cut %llu bytes after its last valid record "
                    "(%s)",
                    path,
                    static_cast<unsigned long long>(file_size - read.offset),
                    log::ReadOutcomeName(read.outcome));
    }
    return Status::Ok();
  }
}

}  // namespace

Status RecoverFromLog(const Resource& resource, platform::BlockDevice* data,
                      uint64_t device_size, LamportClock* clock,
                      RecoveryResult* result, ErrorText* why) {
  *result = RecoveryResult();
  char path[Resource::kPathBytes];
  char leaf[Resource::kMaxNameBytes + 8];
  __builtin_memcpy(leaf, "replay-", 7);
  __builtin_memcpy(leaf + 7, resource.host(),
                   __builtin_strlen(resource.host()) + 1);
  if (!resource.ResourcePath(leaf, path)) {
    return Status(StatusCode::kInvalidArgument, "path too long");
  }
  char value[128];
  size_t size = 0;
  uint64_t stamp = 0;
  Status status = platform::ReadLink(path, value, sizeof(value), &size, &stamp);
  tree::ReplayLink link;
  if (status.ok()) {
    clock->Observe(stamp).ok();
    status = tree::ParseReplayLink(Slice(value, size), &link);
  }
  if (!status.ok()) {
    FormatError(why, "cannot read the replay link", path, status);
    return status;
  }
  if (link.log.host.slice() != Slice::FromCString(resource.host())) {
    FormatError(why, "the replay link names another host's logfile:", path,
                Status(StatusCode::kInvalidArgument,
                       "replication is needed to continue"));
    return Status(StatusCode::kInvalidArgument, "foreign logfile");
  }
  UniquePtr<RecoveryRun> run(New<RecoveryRun>(platform::Gfp::kKernel));
  status = run ? run->applier.Init(data, device_size, resource.name())
               : Status(StatusCode::kNoMemory, "out of memory");
  if (!status.ok()) {
    FormatError(why, "no memory to replay the log of", resource.name(), status);
    return Status(StatusCode::kNoMemory, "no memory for recovery");
  }
  run->result = result;
  uint64_t number = link.log.number;
  uint64_t start = link.position;
  result->last_logfile = number;
  result->last_end = 0;
  for (;; ++number, start = 0) {
    if (!resource.LogfilePath(number, path)) {
      status = Status(StatusCode::kInvalidArgument, "path too long");
      break;
    }
    uint64_t end = 0;
    status = ReplayLogfile(run.get(), path, number, start, &end, why);
    if (status.code() == StatusCode::kNotFound) {
      // No logfile N: fine only when nothing of it was ever replayed.
      if (number == link.log.number && link.position != 0) {
        FormatError(why,
                    "the logfile named by the replay link is missing:", path,
                    status);
        break;
      }
      status = Status::Ok();
      break;
    }
    if (!status.ok()) break;
    if (number > result->last_logfile || number == link.log.number) {
      if (number > link.log.number) {
        // The previous logfile is finished: keep its version link current.
        Status link_status = WriteVersionLink(resource, result->last_logfile,
                                              result->last_end, clock);
        (void)link_status.ok();
      }
      result->last_logfile = number;
      result->last_end = end;
    }
  }
  if (!status.ok()) return status;
  status = run->applier.WriteStaged();
  if (!status.ok()) {
    FormatError(why, "cannot write to the data device during replay", "",
                status);
    return status;
  }
  status = data->FlushSync();
  if (!status.ok()) {
    FormatError(why, "cannot flush the data device after replay", "", status);
    return status;
  }
  platform::AddCounter(platform::Counter::kBytesReplayed,
                       result->bytes_applied);
  if (result->records_applied > 0) {
    platform::Log(platform::LogLevel::kNotice,
                  "resource %s: recovery replayed %llu records (%llu bytes) "
                  "up to logfile %llu offset %llu",
                  resource.name(),
                  static_cast<unsigned long long>(result->records_applied),
                  static_cast<unsigned long long>(result->bytes_applied),
                  static_cast<unsigned long long>(result->last_logfile),
                  static_cast<unsigned long long>(result->last_end));
  }
  return Status::Ok();
}

}  // namespace engine
}  // namespace mars
