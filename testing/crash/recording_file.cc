// Recording files (recording_file.h): a magic, then every field as
// little-endian u64 integers and length-prefixed byte strings, in the order
// of the structs in recording.h.
#include "recording_file.h"

#include <stdio.h>
#include <string.h>

#include <vector>

namespace mars {
namespace crash {

namespace {

using platform::test::RecordedDevice;
using platform::test::RecordedEntry;
using platform::test::RecordedEvent;
using platform::test::Recording;

constexpr char kMagic[8] = {'M', 'A', 'R', 'S', 'R', 'E', 'C', '1'};

class Writer {
 public:
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Bytes(const void* data, size_t size) {
    U64(size);
    out_.append(static_cast<const char*>(data), size);
  }
  void String(const std::string& s) { Bytes(s.data(), s.size()); }
  void Blob(const std::vector<uint8_t>& b) { Bytes(b.data(), b.size()); }
  const std::string& out() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  bool U64(uint64_t* v) {
    if (in_.size() - at_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) {
      *v |= uint64_t{static_cast<uint8_t>(in_[at_ + i])} << (8 * i);
    }
    at_ += 8;
    return true;
  }
  template <typename T>
  bool Number(T* v) {
    uint64_t x;
    if (!U64(&x)) return false;
    *v = static_cast<T>(x);
    return true;
  }
  bool String(std::string* s) {
    uint64_t size;
    if (!U64(&size) || in_.size() - at_ < size) return false;
    s->assign(in_, at_, size);
    at_ += size;
    return true;
  }
  bool Blob(std::vector<uint8_t>* b) {
    std::string s;
    if (!String(&s)) return false;
    b->assign(s.begin(), s.end());
    return true;
  }
  bool Done() const { return at_ == in_.size(); }

 private:
  const std::string& in_;
  size_t at_ = sizeof(kMagic);
};

}  // namespace

bool SaveRecording(const std::string& path, const RecordingHeader& header,
                   const Recording& recording, std::string* error) {
  Writer w;
  w.String(header.workload);
  w.U64(header.seed);
  w.U64(header.device_bytes);
  w.String(recording.root);
  w.U64(recording.content_captured);
  w.U64(recording.initial_tree.size());
  for (const auto& [name, entry] : recording.initial_tree) {
    w.String(name);
    w.U64(static_cast<uint64_t>(entry.type));
    w.U64(entry.file);
    w.String(entry.value);
    w.U64(entry.stamp_ns);
  }
  w.U64(recording.files.size());
  for (const auto& file : recording.files) w.Blob(file);
  w.U64(recording.devices.size());
  for (const RecordedDevice& device : recording.devices) {
    w.String(device.path);
    w.Blob(device.initial);
  }
  w.U64(recording.events.size());
  for (const RecordedEvent& e : recording.events) {
    w.U64(static_cast<uint64_t>(e.kind));
    w.U64(e.object);
    w.U64(e.offset);
    w.U64(e.begin);
    w.U64(e.ok);
    w.U64(e.fua);
    w.U64(e.front_op);
    w.U64(e.front_flags);
    w.U64(e.stamp_ns);
    w.String(e.path);
    w.String(e.value);
    w.Blob(e.data);
    w.U64(e.thread);
  }
  FILE* f = fopen(path.c_str(), "wb");
  const bool ok =
      f != nullptr && fwrite(kMagic, sizeof(kMagic), 1, f) == 1 &&
      fwrite(w.out().data(), 1, w.out().size(), f) == w.out().size();
  if (f != nullptr && fclose(f) != 0) {
    *error = "cannot write " + path;
    return false;
  }
  if (!ok) *error = "cannot write " + path;
  return ok;
}

bool LoadRecording(const std::string& path, RecordingHeader* header,
                   Recording* recording, std::string* error) {
  *recording = Recording();
  std::string in;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = "cannot open " + path;
    return false;
  }
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0) in.append(buffer, n);
  fclose(f);
  if (in.size() < sizeof(kMagic) ||
      memcmp(in.data(), kMagic, sizeof(kMagic)) != 0) {
    *error = path + " is not a recording";
    return false;
  }
  Reader r(in);
  uint64_t count = 0;
  bool ok = r.String(&header->workload) && r.U64(&header->seed) &&
            r.U64(&header->device_bytes) && r.String(&recording->root) &&
            r.Number(&recording->content_captured) && r.U64(&count);
  for (uint64_t i = 0; ok && i < count; ++i) {
    std::string name;
    RecordedEntry entry;
    ok = r.String(&name) && r.Number(&entry.type) && r.Number(&entry.file) &&
         r.String(&entry.value) && r.U64(&entry.stamp_ns);
    recording->initial_tree[name] = entry;
  }
  ok = ok && r.U64(&count);
  for (uint64_t i = 0; ok && i < count; ++i) {
    recording->files.emplace_back();
    ok = r.Blob(&recording->files.back());
  }
  ok = ok && r.U64(&count);
  for (uint64_t i = 0; ok && i < count; ++i) {
    recording->devices.emplace_back();
    ok = r.String(&recording->devices.back().path) &&
         r.Blob(&recording->devices.back().initial);
  }
  ok = ok && r.U64(&count);
  for (uint64_t i = 0; ok && i < count; ++i) {
    RecordedEvent e;
    ok = r.Number(&e.kind) && r.Number(&e.object) && r.U64(&e.offset) &&
         r.U64(&e.begin) && r.Number(&e.ok) && r.Number(&e.fua) &&
         r.Number(&e.front_op) && r.Number(&e.front_flags) &&
         r.U64(&e.stamp_ns) && r.String(&e.path) && r.String(&e.value) &&
         r.Blob(&e.data) && r.U64(&e.thread);
    recording->events.push_back(std::move(e));
  }
  if (!ok || !r.Done()) {
    *error = path + " is truncated or damaged";
    return false;
  }
  return true;
}

}  // namespace crash
}  // namespace mars
