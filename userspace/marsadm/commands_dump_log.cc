// `marsadm dump-log FILE`: prints every record of a transaction logfile
// (docu/log-format.md) with the core's LogReader, which verifies each
// record's CRC-32C, and reports how the log ends. The file is read in
// windows of kWindowBytes, so memory stays bounded for any file size.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "command.h"
#include "command_groups.h"
#include "core/base/slice.h"
#include "core/log/log_format.h"
#include "core/log/log_reader.h"
#include "report.h"

namespace mars::cli {
namespace {

// Large enough for the biggest record plus room to scan past a defect.
constexpr size_t kWindowBytes = size_t{4} << 20;
static_assert(kWindowBytes >= 2 * log::kMaxRecordBytes);

std::string Hex(uint64_t value, int digits) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%0*" PRIx64, digits, value);
  return buffer;
}

std::string KindName(uint8_t kind) {
  return kind == log::kKindWrite ? "write" : "kind-" + std::to_string(kind);
}

// Closes the descriptor on every path.
class File {
 public:
  explicit File(int fd) : fd_(fd) {}
  ~File() {
    if (fd_ >= 0) close(fd_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Reads up to `size` bytes at `offset`; returns the count or -1 (errno).
ssize_t ReadAt(int fd, uint8_t* buffer, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, buffer + done, size - done,
                            static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

void PrintRecord(const log::RecordView& record, std::ostream& out) {
  out << "record=" << record.record_number << " offset=" << record.offset
      << " length=" << record.size << " stamp_ns=" << record.stamp_ns
      << " device_offset=" << record.device_offset << " durable_end=";
  if (record.header_len >= log::kDurableEndHeaderBytes) {
    out << record.durable_end;
  } else {
    out << "none";
  }
  out << " payload_bytes=" << record.payload.size()
      << " flags=" << Hex(record.flags, 8)
      << " kind=" << KindName(record.kind()) << " crc=ok\n";
}

ExitCode Finish(const std::string& path, uint64_t file_size,
                const log::LogReader& reader, const log::ReadResult& end,
                Context& context) {
  context.out << "end=" << log::ReadOutcomeName(end.outcome)
              << " offset=" << end.offset;
  if (end.outcome != log::ReadOutcome::kCleanEnd) {
    context.out << " defect=" << log::DefectName(end.defect)
                << " tail_bytes=" << (file_size - end.offset);
  }
  if (end.outcome == log::ReadOutcome::kCorruption) {
    context.out << " resync_offset=" << end.resync_offset;
  }
  context.out << " records=" << reader.records()
              << " ignored_records=" << reader.ignored_records()
              << " padding_records=" << reader.padding_records();
  if (reader.records() + reader.ignored_records() + reader.padding_records() >
      0) {
    context.out << " salt=" << Hex(reader.salt(), 16)
                << " logfile_number=" << reader.logfile_number();
  }
  context.out << '\n';
  switch (end.outcome) {
    case log::ReadOutcome::kCorruption:
      ReportError(context.err,
                  path + ": corrupt record at byte offset " +
                      std::to_string(end.offset) + " (" +
                      log::DefectName(end.defect) +
                      "); valid records of this log follow at byte offset " +
                      std::to_string(end.resync_offset));
      return ExitCode::kPreconditionFailed;
    case log::ReadOutcome::kUnsupported:
      ReportError(context.err,
                  path + ": record at byte offset " +
                      std::to_string(end.offset) +
                      " has a kind or flag this marsadm does not understand");
      return ExitCode::kPreconditionFailed;
    default:
      return ExitCode::kOk;  // clean end, torn tail, older incarnation
  }
}

ExitCode RunDumpLog(const Invocation& invocation, Context& context) {
  const std::string& path = invocation.args[0];
  File file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd() < 0) {
    ReportError(context.err,
                "cannot open " + path + ": " + std::strerror(errno));
    return ExitCode::kPreconditionFailed;
  }
  struct stat st;
  if (fstat(file.fd(), &st) != 0 || !S_ISREG(st.st_mode)) {
    ReportError(context.err, path + " is not a regular file");
    return ExitCode::kPreconditionFailed;
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  context.out << "file=" << path << " size=" << file_size << '\n';

  log::LogReader reader;
  if (const Status status = reader.Init(log::LogReaderOptions());
      !status.ok()) {
    ReportError(context.err,
                std::string("internal error: ") + status.message());
    return ExitCode::kInternalError;
  }
  std::vector<uint8_t> buffer(kWindowBytes);
  for (;;) {
    const uint64_t start = reader.NeededOffset();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(
        kWindowBytes, file_size - std::min(start, file_size)));
    const ssize_t got = ReadAt(file.fd(), buffer.data(), want, start);
    if (got < 0) {
      ReportError(context.err,
                  "cannot read " + path + ": " + std::strerror(errno));
      return ExitCode::kPreconditionFailed;
    }
    // A file that shrinks while being read ends where the read ended.
    const bool final = static_cast<size_t>(got) < want ||
                       start + static_cast<uint64_t>(got) >= file_size;
    const Slice window(buffer.data(), static_cast<size_t>(got));
    for (;;) {
      log::ReadResult result;
      if (const Status status = reader.Next(window, start, final, &result);
          !status.ok()) {
        ReportError(context.err,
                    std::string("internal error: ") + status.message());
        return ExitCode::kInternalError;
      }
      if (result.outcome == log::ReadOutcome::kRecord) {
        PrintRecord(result.record, context.out);
        continue;
      }
      if (result.outcome == log::ReadOutcome::kNeedMore) {
        if (final) {
          ReportError(context.err,
                      "internal error: log reader wants bytes "
                      "past the end of " +
                          path);
          return ExitCode::kInternalError;
        }
        break;  // next window
      }
      const uint64_t end_size =
          final ? start + static_cast<uint64_t>(got) : file_size;
      return Finish(path, end_size, reader, result, context);
    }
  }
}

const Command kDumpLogCommands[] = {
    {
        /*name=*/"dump-log",
        /*summary=*/"Print and verify the records of a transaction logfile",
        /*usage_args=*/"FILE",
        /*min_args=*/1,
        /*max_args=*/1,
        /*description=*/
        "Prints 'file=FILE size=N', then one line per record:\n"
        "  record=N offset=O length=L stamp_ns=S device_offset=D\n"
        "  durable_end=E payload_bytes=P flags=0xFFFFFFFF kind=write crc=ok\n"
        "(on one line), having verified its CRC-32C, then one end line:\n"
        "  end=OUTCOME offset=O [defect=D tail_bytes=T] records=N ...\n"
        "(durable_end: how far the writer knew the file synced, 'none' in\n"
        "records of revision 1.0). Outcomes: clean-end, torn-tail (an\n"
        "incomplete or damaged tail that no record behind it shows durable:\n"
        "normal after a crash, exit 0), older-incarnation (stale records of\n"
        "an earlier use of the file follow: exit 0), corruption (a damaged\n"
        "record that a later record of this log shows durable: exit 1, the\n"
        "error names its byte offset) and\n"
        "unsupported (a record this version must understand and does not:\n"
        "exit 1). A file that cannot be read exits with 1. Memory use is\n"
        "bounded (4 MiB windows) whatever the file size.",
        /*add_options=*/nullptr,
        /*run=*/RunDumpLog,
    },
};

}  // namespace

CommandGroup DumpLogCommands() {
  return MakeCommandGroup("Logfile inspection", kDumpLogCommands);
}

}  // namespace mars::cli
