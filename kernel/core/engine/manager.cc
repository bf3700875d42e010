// The Manager: the scan loop, the per-resource state machine that turns the
// tree's desired state into ResourceHooks calls, and the actual-HOST/ links
// it publishes (docu/module-state.md).
#include "core/engine/manager.h"

#include "core/base/errno_status.h"
#include "core/engine/tree_links.h"
#include "core/platform_io.h"
#include "core/tree/log_names.h"
#include "core/tree/text.h"
#include "core/tree/values.h"

namespace mars {
namespace engine {
namespace {

// Message links in actual-HOST/ (docu/module-state.md "Messages").
enum MessageKey : int {
  kMsgAttach,      // attach failed
  kMsgPrimary,     // start_primary failed
  kMsgSecondary,   // stop_primary failed (not because the device is open)
  kMsgDetach,      // detach failed (not because the device is open)
  kMsgDeviceOpen,  // stop_primary/detach refused: the device is open
  kMsgIo,          // the engine reports an I/O error
  kMsgConfig,      // a setting changed while attached
  kMsgBadLink,     // a link does not parse
  kMsgReplay,      // replay on this secondary stopped
  kMsgCount,
};
constexpr const char* kMessageLinks[kMsgCount] = {
    "msg-err-attach", "msg-err-primary",     "msg-err-secondary",
    "msg-err-detach", "msg-wrn-device-open", "msg-err-io",
    "msg-wrn-config", "msg-wrn-bad-link",    "msg-err-replay",
};

// Numeric links: all but the last in actual-HOST/, actsize-HOST in resource-R/.
enum PublishedLink : int {
  kIsAttached,
  kIsPrimary,
  kOpenCount,
  kDeviceSize,
  kDiskError,
  kReplayCode,
  kIsReplaying,
  kReplayRate,
  kActsize,
  kPublishedCount,
};
constexpr const char* kPublishedLinks[kPublishedCount] = {
    "is-attached", "is-primary",  "open-count",   "device-size",
    "disk-error",  "replay-code", "is-replaying", "replay-rate",
    "actsize-",
};
constexpr int64_t kEio = 5;
// replay-code of a log that recovery found corrupt (EBADMSG).
constexpr int64_t kEbadmsg = 74;

}  // namespace

struct Manager::Resource {
  ResourceName name = {};
  void* engine = nullptr;  // from hooks->create; non-null while attached
  bool attached = false;
  bool primary = false;
  bool member = false;  // data-HOST was live at the last scan
  bool seen = false;    // found in this scan as a member
  bool release_logged = false;
  Bytes data_path;  // NUL-terminated: attached with, or last failed
  uint64_t size_bytes = 0;
  char device[tree::kMaxNameChars + 1] = {};  // while primary
  uint64_t next_attach_ns = 0;                // 0: try now
  uint64_t next_primary_ns = 0;
  // replay-code: 0, or -EBADMSG while the last attach found a corrupt log.
  int64_t replay_code = 0;
  bool actual_dir_ready = false;
  uint32_t messages = (1u << kMsgCount) - 1;  // links that may exist
  bool published_valid[kPublishedCount] = {};
  int64_t published[kPublishedCount] = {};
};

namespace {

// What the tree asks for one resource, read in one scan.
struct Desired {
  bool readable = true;  // false: a link could not be read (I/O, memory)
  bool member = false;
  bool attach = false;
  bool size_ok = false;
  uint64_t size = 0;
  bool designated = false;
  bool allow_replay = false;        // todo-HOST/allow-replay
  bool synced = false;              // syncstatus-HOST reached size
  const char* data_path = nullptr;  // in Manager::scratch_
  char device[tree::kMaxNameChars + 1] = {};
  ErrorText bad;  // the first link that does not parse, or empty
};

// Errors that say nothing about the tree's content: retry at the next scan
// instead of acting on them.
bool IsTransient(Status s) {
  return s.code() == StatusCode::kIoError ||
         s.code() == StatusCode::kNoMemory ||
         s.code() == StatusCode::kUnavailable ||
         s.code() == StatusCode::kInternal;
}

// Fills an empty `why` with "what: <status message>".
void Explain(ErrorText* why, const char* what, Status status) {
  if (why->text[0] != '\0') return;
  tree::TextWriter w(why->text, ErrorText::kCapacity);
  w.CString(what);
  w.CString(": ");
  w.CString(status.message());
}

// "resource-R/" + more pieces.
void ResourcePath(RelPath* p, const char* name) {
  p->Add("resource-").Add(name).Add("/");
}

void ActualPath(RelPath* p, const char* name, const char* host) {
  ResourcePath(p, name);
  p->Add("actual-").Add(host);
}

struct LogScan {
  Slice host;
  uint32_t highest = 0;
};

bool VisitLogfile(void* context, const char* name, size_t size,
                  platform::EntryType type) {
  auto* scan = static_cast<LogScan*>(context);
  tree::LogfileName log;
  if (type == platform::EntryType::kFile &&
      tree::ParseLogfileName(Slice(name, size), &log).ok() &&
      log.host.slice() == scan->host && log.number > scan->highest) {
    scan->highest = log.number;
  }
  return true;
}

struct RootScan {
  Vector<Manager::ResourceName>* names;
  bool complete = true;
};

bool VisitRoot(void* context, const char* name, size_t size,
               platform::EntryType type) {
  auto* scan = static_cast<RootScan*>(context);
  const Slice prefix("resource-", 9);
  const Slice entry(name, size);
  if (!entry.StartsWith(prefix) || (type != platform::EntryType::kDirectory &&
                                    type != platform::EntryType::kOther)) {
    return true;
  }
  const Slice resource = entry.RemovePrefix(prefix.size());
  if (!tree::ValidateResourceName(resource).ok()) return true;
  Manager::ResourceName item;
  __builtin_memcpy(item.text, resource.data(), resource.size());
  item.text[resource.size()] = '\0';
  if (!scan->names->PushBack(item).ok()) scan->complete = false;
  return true;
}

}  // namespace

// The operations on one resource, with access to the Manager's state.
class Manager::Ops {
 public:
  Ops(Manager* m, Resource* r) : m_(m), r_(r) {}

  // Reads the desired state; the data path goes into the Manager's scratch.
  void ReadDesired(Desired* d);
  void Drive(const Desired& d, uint64_t now);
  void Publish();
  // detach + destroy. True when the engine is gone.
  bool Release();

 private:
  Status Read(const RelPath& path, char* value, size_t capacity) {
    size_t size = 0;
    return ReadValue(m_->root_, path.c_str(), value, capacity, &size, nullptr,
                     m_->clock_);
  }
  void NoteBadLink(Desired* d, const RelPath& path, Status status);
  bool EnsureActualDir();
  // Writes msg link `key`; returns true when its text changed.
  bool SetMessage(MessageKey key, const char* text);
  void ClearMessage(MessageKey key);
  void PublishNumber(PublishedLink link, int64_t value);
  void CheckConfig(const Desired& d);
  void TryAttach(const Desired& d, uint64_t now);
  void TryStartPrimary(const Desired& d, uint64_t now);
  void TryStopPrimary();
  void RequestLogfile();

  Manager* m_;
  Resource* r_;
};

void Manager::Ops::NoteBadLink(Desired* d, const RelPath& path, Status status) {
  if (d->bad.text[0] != '\0') return;
  tree::TextWriter w(d->bad.text, ErrorText::kCapacity);
  w.CString(path.c_str());
  w.CString(": ");
  w.CString(status.message());
}

void Manager::Ops::ReadDesired(Desired* d) {
  const char* name = r_->name.text;
  const char* host = m_->host_;
  // One path buffer, rebuilt per link: the kernel stack is small.
  RelPath path;
  ResourcePath(&path, name);
  path.Add("data-").Add(host);
  Status s = Read(path, m_->scratch_, platform::kMaxLinkValueBytes + 1);
  d->readable = !IsTransient(s);
  d->member = s.ok();
  if (!d->member) return;
  d->data_path = m_->scratch_;

  char value[tree::kMaxDecimalU64Chars + tree::kMaxNameChars];
  path.Clear();
  ResourcePath(&path, name);
  path.Add("todo-").Add(host).Add("/attach");
  s = Read(path, value, sizeof(value));
  if (IsTransient(s)) d->readable = false;
  if (s.ok()) s = tree::ParseSwitch(Slice::FromCString(value), &d->attach);
  if (!s.ok() && s.code() != StatusCode::kNotFound) NoteBadLink(d, path, s);

  path.Clear();
  ResourcePath(&path, name);
  path.Add("todo-").Add(host).Add("/allow-replay");
  s = Read(path, value, sizeof(value));
  if (IsTransient(s)) d->readable = false;
  if (s.ok()) {
    s = tree::ParseSwitch(Slice::FromCString(value), &d->allow_replay);
  }
  if (!s.ok() && s.code() != StatusCode::kNotFound) NoteBadLink(d, path, s);

  path.Clear();
  ResourcePath(&path, name);
  path.Add("size");
  s = Read(path, value, sizeof(value));
  if (IsTransient(s)) d->readable = false;
  if (s.ok()) s = tree::ParseResourceSize(Slice::FromCString(value), &d->size);
  d->size_ok = s.ok();
  if (!s.ok() && (d->attach || s.code() != StatusCode::kNotFound)) {
    NoteBadLink(d, path, s);
  }

  path.Clear();
  ResourcePath(&path, name);
  path.Add("primary");
  s = Read(path, value, sizeof(value));
  if (IsTransient(s)) d->readable = false;
  tree::HostName designated;
  if (s.ok()) s = tree::ParsePrimary(Slice::FromCString(value), &designated);
  d->designated = s.ok() && designated.slice() == Slice::FromCString(host);
  if (!s.ok() && s.code() != StatusCode::kNotFound) NoteBadLink(d, path, s);

  // Replay waits for the block sync: until syncstatus-HOST reaches the
  // size, the sync alone writes the data device (absent: not synced).
  path.Clear();
  ResourcePath(&path, name);
  path.Add("syncstatus-").Add(host);
  s = Read(path, value, sizeof(value));
  if (IsTransient(s)) d->readable = false;
  uint64_t synced_bytes = 0;
  if (s.ok()) s = tree::ParseByteCount(Slice::FromCString(value), &synced_bytes);
  d->synced = s.ok() && d->size_ok && synced_bytes >= d->size;
  if (!s.ok() && s.code() != StatusCode::kNotFound) NoteBadLink(d, path, s);

  path.Clear();
  ResourcePath(&path, name);
  path.Add("device-").Add(host);
  s = Read(path, d->device, sizeof(d->device));
  if (IsTransient(s)) d->readable = false;
  if (s.ok()) s = tree::ValidateResourceName(Slice::FromCString(d->device));
  if (!s.ok()) {
    if (s.code() != StatusCode::kNotFound) NoteBadLink(d, path, s);
    __builtin_memcpy(d->device, name, __builtin_strlen(name) + 1);
  }
}

bool Manager::Ops::EnsureActualDir() {
  if (r_->actual_dir_ready) return true;
  RelPath dir;
  ActualPath(&dir, r_->name.text, m_->host_);
  const Status s = EnsureDirectory(m_->root_, dir.c_str());
  if (!s.ok()) {
    platform::Log(platform::LogLevel::kWarning,
                  "resource %s: cannot create %s: %s", r_->name.text,
                  dir.c_str(), s.message());
    return false;
  }
  r_->actual_dir_ready = true;
  for (bool& valid : r_->published_valid) valid = false;
  return true;
}

bool Manager::Ops::SetMessage(MessageKey key, const char* text) {
  if (!EnsureActualDir()) return false;
  RelPath path;
  ActualPath(&path, r_->name.text, m_->host_);
  path.Add("/").Add(kMessageLinks[key]);
  bool written = false;
  const Status s = WriteValueIfChanged(
      m_->root_, path.c_str(), Slice::FromCString(text), m_->clock_, &written);
  if (!s.ok()) {
    r_->actual_dir_ready = false;  // re-create it next time if it vanished
    return false;
  }
  r_->messages |= 1u << key;
  return written;
}

void Manager::Ops::ClearMessage(MessageKey key) {
  if ((r_->messages & (1u << key)) == 0) return;
  RelPath path;
  ActualPath(&path, r_->name.text, m_->host_);
  path.Add("/").Add(kMessageLinks[key]);
  if (RemoveIfPresent(m_->root_, path.c_str(), m_->clock_).ok()) {
    r_->messages &= ~(1u << key);
  }
}

void Manager::Ops::PublishNumber(PublishedLink link, int64_t value) {
  if (r_->published_valid[link] && r_->published[link] == value) return;
  RelPath path;
  if (link == kActsize) {
    ResourcePath(&path, r_->name.text);
    path.Add(kPublishedLinks[link]).Add(m_->host_);
  } else {
    ActualPath(&path, r_->name.text, m_->host_);
    path.Add("/").Add(kPublishedLinks[link]);
  }
  char text[tree::kMaxDecimalU64Chars + 1];
  size_t size = 0;
  if (value < 0) text[size++] = '-';
  const uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value)
                                       : static_cast<uint64_t>(value);
  size += tree::FormatDecimalU64(magnitude, text + size);
  if (WriteValueIfChanged(m_->root_, path.c_str(), Slice(text, size),
                          m_->clock_)
          .ok()) {
    r_->published_valid[link] = true;
    r_->published[link] = value;
  } else {
    r_->actual_dir_ready = false;
  }
}

void Manager::Ops::CheckConfig(const Desired& d) {
  ErrorText text;
  tree::TextWriter w(text.text, ErrorText::kCapacity);
  const char* attached_path =
      reinterpret_cast<const char*>(r_->data_path.data());
  if (__builtin_strcmp(attached_path, d.data_path) != 0) {
    w.CString("data-");
    w.CString(m_->host_);
    w.CString(" changed to '");
    w.CString(d.data_path);
    w.CString("' while attached to '");
    w.CString(attached_path);
    w.Char('\'');
  } else if (d.size_ok && d.size != r_->size_bytes) {
    w.CString("size changed to ");
    w.Decimal(d.size);
    w.CString(" bytes while attached with ");
    w.Decimal(r_->size_bytes);
  } else if (r_->primary && __builtin_strcmp(d.device, r_->device) != 0) {
    w.CString("device-");
    w.CString(m_->host_);
    w.CString(" changed to '");
    w.CString(d.device);
    w.CString("' while /dev/mars/");
    w.CString(r_->device);
    w.CString(" is up");
  } else {
    ClearMessage(kMsgConfig);
    return;
  }
  w.CString("; detach and attach again to use it");
  SetMessage(kMsgConfig, text.text);
}

void Manager::Ops::TryAttach(const Desired& d, uint64_t now) {
  const char* last = reinterpret_cast<const char*>(r_->data_path.data());
  if (last == nullptr || __builtin_strcmp(last, d.data_path) != 0 ||
      r_->size_bytes != d.size) {
    r_->next_attach_ns = 0;  // new settings: try at once
  }
  if (now < r_->next_attach_ns) return;
  r_->data_path.Clear();
  if (!r_->data_path
           .Append(reinterpret_cast<const uint8_t*>(d.data_path),
                   __builtin_strlen(d.data_path) + 1)
           .ok()) {
    return;  // out of memory: try again at the next scan
  }
  r_->size_bytes = d.size;
  ResourceSettings settings;
  settings.root = m_->root_;
  settings.name = r_->name.text;
  settings.host = m_->host_;
  settings.data_path = d.data_path;
  settings.size_bytes = d.size;
  settings.clock = m_->clock_;
  settings.durability = m_->durability_;
  settings.data_access = m_->data_access_;
  void* engine = nullptr;
  ErrorText why;
  Status s = m_->hooks_->create(settings, &engine);
  if (s.ok()) s = m_->hooks_->attach(engine, &why);
  if (!s.ok()) {
    if (engine != nullptr) m_->hooks_->destroy(engine);
    Explain(&why, "attach failed", s);
    r_->next_attach_ns = now + Manager::kRetryIntervalNs;
    if (s.code() == StatusCode::kCorruption) r_->replay_code = -kEbadmsg;
    if (SetMessage(kMsgAttach, why.text)) {
      platform::Log(platform::LogLevel::kError, "resource %s: %s",
                    r_->name.text, why.text);
    }
    return;
  }
  r_->engine = engine;
  r_->attached = true;
  r_->next_attach_ns = 0;
  r_->replay_code = 0;
  ClearMessage(kMsgAttach);
  platform::Log(platform::LogLevel::kInfo, "resource %s: attached %s",
                r_->name.text, d.data_path);
}

void Manager::Ops::TryStartPrimary(const Desired& d, uint64_t now) {
  if (now < r_->next_primary_ns) return;
  ErrorText why;
  const Status s = m_->hooks_->start_primary(r_->engine, d.device, &why);
  if (!s.ok()) {
    Explain(&why, "cannot become primary", s);
    r_->next_primary_ns = now + Manager::kRetryIntervalNs;
    if (SetMessage(kMsgPrimary, why.text)) {
      platform::Log(platform::LogLevel::kError, "resource %s: %s",
                    r_->name.text, why.text);
    }
    return;
  }
  r_->primary = true;
  r_->next_primary_ns = 0;
  __builtin_memcpy(r_->device, d.device, sizeof(r_->device));
  ClearMessage(kMsgPrimary);
  platform::Log(platform::LogLevel::kInfo, "resource %s: /dev/mars/%s is up",
                r_->name.text, r_->device);
}

void Manager::Ops::TryStopPrimary() {
  ErrorText why;
  const Status s = m_->hooks_->stop_primary(r_->engine, &why);
  if (s.code() == StatusCode::kUnavailable) {
    Explain(&why, "the device is open; it stays up until it is closed", s);
    SetMessage(kMsgDeviceOpen, why.text);
    return;
  }
  if (!s.ok()) {
    Explain(&why, "cannot stop being primary", s);
    if (SetMessage(kMsgSecondary, why.text)) {
      platform::Log(platform::LogLevel::kError, "resource %s: %s",
                    r_->name.text, why.text);
    }
    return;
  }
  r_->primary = false;
  ClearMessage(kMsgDeviceOpen);
  ClearMessage(kMsgSecondary);
  platform::Log(platform::LogLevel::kInfo, "resource %s: /dev/mars/%s is down",
                r_->name.text, r_->device);
}

bool Manager::Ops::Release() {
  if (r_->engine == nullptr) return true;
  ErrorText why;
  const Status s = m_->hooks_->detach(r_->engine, &why);
  if (!s.ok()) {
    Explain(&why,
            s.code() == StatusCode::kUnavailable
                ? "the device is open; detach waits until it is closed"
                : "detach failed",
            s);
    bool changed = true;
    if (r_->member) {
      changed = SetMessage(
          s.code() == StatusCode::kUnavailable ? kMsgDeviceOpen : kMsgDetach,
          why.text);
    } else if (r_->release_logged) {
      changed = false;
    }
    r_->release_logged = true;
    if (changed) {
      platform::Log(platform::LogLevel::kWarning, "resource %s: %s",
                    r_->name.text, why.text);
    }
    return false;
  }
  m_->hooks_->destroy(r_->engine);
  r_->engine = nullptr;
  r_->attached = false;
  r_->primary = false;
  if (r_->member) {
    ClearMessage(kMsgDeviceOpen);
    ClearMessage(kMsgDetach);
    ClearMessage(kMsgSecondary);
  }
  platform::Log(platform::LogLevel::kInfo, "resource %s: detached",
                r_->name.text);
  return true;
}

void Manager::Ops::RequestLogfile() {
  RelPath dir;
  dir.Add("resource-").Add(r_->name.text);
  char* path = m_->path_;
  const size_t root_size = __builtin_strlen(m_->root_);
  __builtin_memcpy(path, m_->root_, root_size);
  path[root_size] = '/';
  __builtin_memcpy(path + root_size + 1, dir.c_str(), dir.size() + 1);
  LogScan scan;
  scan.host = Slice::FromCString(m_->host_);
  if (!platform::ListDirectory(path, VisitLogfile, &scan).ok()) return;
  if (scan.highest != 0) m_->hooks_->request_logfile(r_->engine, scan.highest);
}

void Manager::Ops::Drive(const Desired& d, uint64_t now) {
  if (!EnsureActualDir()) return;
  if (d.bad.text[0] != '\0') {
    SetMessage(kMsgBadLink, d.bad.text);
  } else {
    ClearMessage(kMsgBadLink);
  }
  // The size is needed to attach, not to stay attached.
  const bool want_attached = d.attach && (d.size_ok || r_->attached);
  const bool want_primary = want_attached && d.designated;
  if (!want_attached) {
    r_->next_attach_ns = 0;
    ClearMessage(kMsgAttach);
    Release();
  } else if (!r_->attached) {
    TryAttach(d, now);
  }
  if (r_->attached && want_attached) {
    CheckConfig(d);
    if (want_primary && !r_->primary) TryStartPrimary(d, now);
    if (!want_primary && r_->primary) TryStopPrimary();
    if (r_->primary) RequestLogfile();
    // Replay of fetched logfiles: on a secondary, while allowed, once its
    // block sync is done.
    m_->hooks_->set_replay(r_->engine,
                           !r_->primary && d.allow_replay && d.synced);
  }
  // Messages whose condition no longer holds.
  if (!want_primary) {
    r_->next_primary_ns = 0;
    ClearMessage(kMsgPrimary);
  }
  if (!r_->attached) {
    ClearMessage(kMsgDetach);
    ClearMessage(kMsgConfig);
  }
  // A refused stop is only news while a stop is wanted.
  if (!r_->primary || want_primary) {
    ClearMessage(kMsgDeviceOpen);
    ClearMessage(kMsgSecondary);
  }
}

void Manager::Ops::Publish() {
  if (!EnsureActualDir()) return;
  ResourceReport report;
  if (r_->engine != nullptr) m_->hooks_->report(r_->engine, &report);
  PublishNumber(kIsAttached, report.attached ? 1 : 0);
  PublishNumber(kIsPrimary, report.primary ? 1 : 0);
  PublishNumber(kOpenCount, report.open_count);
  PublishNumber(kDeviceSize, static_cast<int64_t>(report.device_size));
  PublishNumber(kDiskError, report.io_error ? -kEio : 0);
  // A corrupt log found by the last attach, else a stop of the replay.
  PublishNumber(kReplayCode,
                r_->replay_code != 0 ? r_->replay_code : report.replay_code);
  PublishNumber(kIsReplaying, report.replaying ? 1 : 0);
  PublishNumber(kReplayRate, static_cast<int64_t>(report.replay_rate));
  if (report.attached) {
    PublishNumber(kActsize, static_cast<int64_t>(report.data_device_size));
  }
  if (report.io_error) {
    Explain(&report.error, "I/O error",
            Status(StatusCode::kIoError, "the write path stopped"));
    SetMessage(kMsgIo, report.error.text);
  } else {
    ClearMessage(kMsgIo);
  }
  // The replayer logs its stops itself.
  if (report.replay_error.text[0] != '\0') {
    SetMessage(kMsgReplay, report.replay_error.text);
  } else {
    ClearMessage(kMsgReplay);
  }
}

// ---------------------------------------------------------------------------

Manager::Manager(TimeSource monotonic_ns) : monotonic_ns_(monotonic_ns) {}

Manager::~Manager() {
  MARS_CHECK(!thread_.running());
  for (Resource* r : resources_) Delete(r);  // engines left: see Stop
  platform::Free(root_);
  platform::Free(scratch_);
  platform::Free(path_);
}

uint64_t Manager::NowNs() const {
  return monotonic_ns_ != nullptr ? monotonic_ns_() : platform::MonotonicNs();
}

Status Manager::Init(const char* root, const ResourceHooks* hooks,
                     LamportClock* clock, LogDurability* durability,
                     DataAccess* data_access) {
  if (!MARS_CHECK(root_ == nullptr && hooks != nullptr && clock != nullptr)) {
    return Status(StatusCode::kInternal, "manager initialised twice");
  }
  const size_t size = __builtin_strlen(root);
  // Room for "/resource-NAME" and a link name below it.
  if (size == 0 || size + 1 + tree::kMaxPathBytes > platform::kMaxPathBytes) {
    return Status(StatusCode::kInvalidArgument,
                  "tree root is empty or too long");
  }
  root_ =
      static_cast<char*>(platform::Allocate(size + 1, platform::Gfp::kKernel));
  scratch_ = static_cast<char*>(platform::Allocate(
      platform::kMaxLinkValueBytes + 1, platform::Gfp::kKernel));
  path_ = static_cast<char*>(
      platform::Allocate(platform::kMaxPathBytes + 1, platform::Gfp::kKernel));
  if (root_ == nullptr || scratch_ == nullptr || path_ == nullptr) {
    return Status(StatusCode::kNoMemory, "out of memory for the manager");
  }
  __builtin_memcpy(root_, root, size + 1);
  hooks_ = hooks;
  clock_ = clock;
  durability_ = durability;
  data_access_ = data_access;
  return Status::Ok();
}

Status Manager::Start(const char* root, const ResourceHooks* hooks,
                      LamportClock* clock, LogDurability* durability,
                      DataAccess* data_access) {
  Status s = Init(root, hooks, clock, durability, data_access);
  if (!s.ok()) return s;
  return thread_.Start("mars_main", ThreadBody, this, platform::Gfp::kKernel);
}

void Manager::ThreadBody(void* context) {
  auto* manager = static_cast<Manager*>(context);
  while (!platform::Thread::ShouldStop()) {
    manager->Scan();
    platform::WaitForTrigger(kScanIntervalNs);
  }
  manager->DetachAll();
}

void Manager::Stop() {
  thread_.Stop();
  if (hooks_ != nullptr) DetachAll();
}

void Manager::Scan() {
  if (!MARS_CHECK(hooks_ != nullptr)) return;
  size_t size = 0;
  const Status uuid =
      ReadValue(root_, "uuid", scratch_, platform::kMaxLinkValueBytes + 1,
                &size, nullptr, clock_);
  const bool tree_ready =
      (uuid.ok() || uuid.code() == StatusCode::kOutOfRange) &&
      platform::HostName(host_, sizeof(host_)) != 0 &&
      tree::ValidateHostName(Slice::FromCString(host_)).ok();
  if (tree_ready) {
    names_.Clear();
    RootScan scan{&names_};
    const bool listed = platform::ListDirectory(root_, VisitRoot, &scan).ok();
    for (Resource* r : resources_) r->seen = false;
    const uint64_t now = NowNs();
    for (const ResourceName& name : names_) ScanResource(name.text, now);
    if (listed && scan.complete) ForgetVanished();
    WriteHeartbeat(now);
  }
  for (Resource* r : resources_) {
    if (r->engine != nullptr) hooks_->tick(r->engine);
  }
}

void Manager::ScanResource(const char* name, uint64_t now) {
  Resource* r = nullptr;
  for (Resource* each : resources_) {
    if (__builtin_strcmp(each->name.text, name) == 0) r = each;
  }
  Resource probe;
  __builtin_memcpy(probe.name.text, name, __builtin_strlen(name) + 1);
  Desired d;
  Ops(this, r != nullptr ? r : &probe).ReadDesired(&d);
  if (!d.readable) {
    if (r != nullptr) r->seen = true;  // unknown: leave it as it is
    return;
  }
  if (!d.member) return;  // not seen: ForgetVanished() releases it
  if (r == nullptr) {
    r = New<Resource>(platform::Gfp::kKernel);
    if (r == nullptr) return;
    r->name = probe.name;
    if (!resources_.PushBack(r).ok()) {
      Delete(r);
      return;
    }
  }
  r->seen = true;
  r->member = true;
  r->release_logged = false;
  Ops ops(this, r);
  ops.Drive(d, now);
  ops.Publish();
}

void Manager::ForgetVanished() {
  for (size_t i = 0; i < resources_.size();) {
    Resource* r = resources_[i];
    if (!r->seen) {
      r->member = false;  // the resource or this host's membership is gone
      if (Ops(this, r).Release()) {
        resources_.Erase(i);
        Delete(r);
        continue;
      }
    }
    ++i;
  }
}

void Manager::DetachAll() {
  for (size_t i = 0; i < resources_.size();) {
    Resource* r = resources_[i];
    Ops ops(this, r);
    if (!ops.Release()) {
      platform::Log(platform::LogLevel::kError,
                    "resource %s: left attached at shutdown", r->name.text);
      ++i;
      continue;
    }
    if (r->member) ops.Publish();
    resources_.Erase(i);
    Delete(r);
  }
}

void Manager::WriteHeartbeat(uint64_t now) {
  if (heartbeat_written_ && now < next_heartbeat_ns_) return;
  heartbeat_written_ = true;
  next_heartbeat_ns_ = now + kHeartbeatIntervalNs;
  RelPath dir;
  dir.Add("actual-").Add(host_);
  RelPath link;
  link.Add(dir.c_str()).Add("/time");
  const uint64_t stamp = clock_->Now();
  char text[tree::kMaxDecimalU64Chars];
  const size_t size = tree::FormatDecimalU64(stamp, text);
  Status s = EnsureDirectory(root_, dir.c_str());
  if (s.ok()) s = WriteValue(root_, link.c_str(), Slice(text, size), stamp);
  // marsadm reads it: a /mars that refuses writes (ext4 aborted) keeps the
  // tree as last written, so the tree itself cannot tell.
  platform::SetCounter(platform::Counter::kTreeWriteErrno,
                       static_cast<uint64_t>(ErrnoOfStatus(s)));
  if (!s.ok()) {
    // Once per failure streak: a read-only /mars fails it every 5 s.
    if (!heartbeat_failed_) {
      platform::Log(platform::LogLevel::kWarning,
                    "cannot write %s: %s (retried every 5 s)", link.c_str(),
                    s.message());
    }
    heartbeat_failed_ = true;
  } else if (heartbeat_failed_) {
    heartbeat_failed_ = false;
    platform::Log(platform::LogLevel::kInfo, "%s written again", link.c_str());
  }
}

}  // namespace engine
}  // namespace mars
