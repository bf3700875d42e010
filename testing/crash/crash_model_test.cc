// The pieces under the crash checker: the platform's recorder, the crash
// model (what a state keeps), the state enumeration and recording files.
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/platform_io.h"
#include "crash_run.h"
#include "crash_state.h"
#include "gtest/gtest.h"
#include "platform_user.h"
#include "recording_file.h"

namespace mars {
namespace crash {
namespace {

namespace pt = platform::test;
using Kind = RecordedEvent::Kind;

std::string ReadFileText(const std::string& path) {
  std::string text;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return "<missing>";
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), f)) > 0) text.append(buffer, n);
  fclose(f);
  return text;
}

std::string LinkValue(const std::string& path) {
  char value[256];
  const ssize_t n = readlink(path.c_str(), value, sizeof(value));
  return n < 0 ? "<missing>" : std::string(value, static_cast<size_t>(n));
}

class CrashModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeWorkDir();
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { EXPECT_TRUE(RemoveTree(dir_)); }

  std::string dir_;
};

void CompleteAtOnce(void*, platform::FrontRequest* request) {
  platform::CompleteFrontRequest(request, Status::Ok());
}

TEST_F(CrashModelTest, RecorderRecordsEveryKindInOrder) {
  const std::string root = dir_ + "/mars";
  const std::string device = dir_ + "/device.img";
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  ASSERT_TRUE(platform::WriteLink((root + "/old").c_str(), "x", 1, 1234).ok());
  {
    FILE* f = fopen((root + "/kept").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    fputs("before", f);
    fclose(f);
    f = fopen(device.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<char> zeros(8192, 'z');
    fwrite(zeros.data(), zeros.size(), 1, f);
    fclose(f);
  }
  platform::FrontDisk front;
  ASSERT_TRUE(front.Create("crash-model", 8192, CompleteAtOnce, nullptr).ok());

  ASSERT_TRUE(pt::StartRecordingForTest((root + "/").c_str()));
  EXPECT_FALSE(pt::StartRecordingForTest(root.c_str()));  // one at a time
  platform::File file;
  ASSERT_TRUE(file.Open((root + "/log").c_str(), platform::File::kRead |
                                                     platform::File::kWrite |
                                                     platform::File::kCreate)
                  .ok());
  ASSERT_TRUE(file.Write(0, "abc", 3).ok());
  ASSERT_TRUE(file.Sync(0, 3).ok());
  ASSERT_TRUE(file.Truncate(2).ok());
  file.Close();
  ASSERT_TRUE(platform::MakeDirectory((root + "/sub").c_str()).ok());
  ASSERT_TRUE(
      platform::WriteLink((root + "/sub/link").c_str(), "value", 5, 99).ok());
  ASSERT_TRUE(platform::RemoveEntry((root + "/old").c_str()).ok());
  platform::BlockDevice disk;
  ASSERT_TRUE(disk.Open(device.c_str()).ok());
  char block[512];
  memset(block, 'd', sizeof(block));
  ASSERT_TRUE(disk.WriteSync(512, block, sizeof(block)).ok());
  ASSERT_TRUE(disk.FlushSync().ok());
  char page[4096];
  memset(page, 'p', sizeof(page));
  ASSERT_TRUE(pt::SubmitToFrontDisk("crash-model", platform::FrontOp::kWrite,
                                    platform::kFrontFua, 4096, page,
                                    sizeof(page))
                  .ok());
  disk.Close();
  std::unique_ptr<Recording> recording = pt::StopRecordingForTest();
  ASSERT_NE(recording, nullptr);
  EXPECT_EQ(pt::StopRecordingForTest(), nullptr);
  ASSERT_TRUE(front.Destroy().ok());

  EXPECT_EQ(recording->root, root);
  ASSERT_EQ(recording->initial_tree.count("old"), 1u);
  EXPECT_EQ(recording->initial_tree["old"].value, "x");
  EXPECT_EQ(recording->initial_tree["old"].stamp_ns, 1234u);
  ASSERT_EQ(recording->initial_tree.count("kept"), 1u);
  const uint32_t kept = recording->initial_tree["kept"].file;
  EXPECT_EQ(
      std::string(recording->files[kept].begin(), recording->files[kept].end()),
      "before");
  ASSERT_EQ(recording->devices.size(), 1u);
  EXPECT_EQ(recording->devices[0].path, device);
  EXPECT_EQ(recording->devices[0].initial, std::vector<uint8_t>(8192, 'z'));

  const std::vector<Kind> expected = {
      Kind::kCreateFile,       Kind::kFileWrite,      Kind::kFileSyncBegin,
      Kind::kFileSyncEnd,      Kind::kFileTruncate,   Kind::kMakeDirectory,
      Kind::kWriteLink,        Kind::kRemoveEntry,    Kind::kDeviceWrite,
      Kind::kDeviceFlushBegin, Kind::kDeviceFlushEnd, Kind::kFrontSubmit,
      Kind::kFrontComplete};
  const auto& events = recording->events;
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(events[i].kind, expected[i]) << i;
  }
  EXPECT_EQ(events[0].path, "log");
  EXPECT_EQ(events[1].object, events[0].object);
  EXPECT_EQ(std::string(events[1].data.begin(), events[1].data.end()), "abc");
  EXPECT_EQ(events[3].begin, 2u);
  EXPECT_EQ(events[4].offset, 2u);
  EXPECT_EQ(events[5].path, "sub");
  EXPECT_EQ(events[6].path, "sub/link");
  EXPECT_EQ(events[6].value, "value");
  EXPECT_EQ(events[6].stamp_ns, 99u);
  EXPECT_EQ(events[7].path, "old");
  EXPECT_EQ(events[8].offset, 512u);
  EXPECT_FALSE(events[8].fua);
  EXPECT_EQ(events[8].data, std::vector<uint8_t>(512, 'd'));
  EXPECT_EQ(events[10].begin, 9u);
  EXPECT_EQ(events[11].front_flags, platform::kFrontFua);
  EXPECT_EQ(events[11].offset, 4096u);
  EXPECT_EQ(events[11].data, std::vector<uint8_t>(4096, 'p'));
  EXPECT_EQ(events[12].object, events[11].object);
  EXPECT_TRUE(events[12].ok);

  // Saved and loaded, the recording is the same.
  RecordingHeader header;
  header.workload = "model";
  header.seed = 7;
  header.device_bytes = 8192;
  std::string error;
  ASSERT_TRUE(SaveRecording(dir_ + "/r.rec", header, *recording, &error))
      << error;
  RecordingHeader loaded_header;
  Recording loaded;
  ASSERT_TRUE(LoadRecording(dir_ + "/r.rec", &loaded_header, &loaded, &error))
      << error;
  EXPECT_EQ(loaded_header.workload, "model");
  EXPECT_EQ(loaded_header.seed, 7u);
  EXPECT_EQ(loaded.initial_tree.size(), recording->initial_tree.size());
  EXPECT_EQ(loaded.files, recording->files);
  ASSERT_EQ(loaded.events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(loaded.events[i].kind, events[i].kind);
    EXPECT_EQ(loaded.events[i].data, events[i].data);
    EXPECT_EQ(loaded.events[i].path, events[i].path);
  }
}

// A hand-made recording: file f (empty at the start), then
//   0 write f[0, 1024) = 'A'   1 sync begin   2 sync end
//   3 write f[1024, 2048) = 'B'   4 link l = v   5 link m = w
//   6 device write [0, 512) = 'x'   7 device write [512, 1024) FUA = 'y'
//   8 device write [1024, 1536) = 'z'   9 flush begin   10 flush end
//   11 device write [1536, 2048) = 'q'
Recording HandMade() {
  Recording r;
  r.root = "/nowhere";
  RecordedEntry file;
  file.type = RecordedEntry::Type::kFile;
  file.file = 0;
  r.initial_tree["f"] = file;
  r.files.emplace_back();
  r.devices.push_back({"/nowhere/dev", std::vector<uint8_t>(2048, '.')});
  auto add = [&](Kind kind, uint64_t offset, size_t size, uint8_t fill) {
    RecordedEvent e;
    e.kind = kind;
    e.offset = offset;
    e.data.assign(size, fill);
    r.events.push_back(e);
    return &r.events.back();
  };
  add(Kind::kFileWrite, 0, 1024, 'A');
  add(Kind::kFileSyncBegin, 0, 0, 0);
  add(Kind::kFileSyncEnd, 0, 0, 0)->begin = 1;
  add(Kind::kFileWrite, 1024, 1024, 'B');
  RecordedEvent* l = add(Kind::kWriteLink, 0, 0, 0);
  l->path = "l";
  l->value = "v";
  RecordedEvent* m = add(Kind::kWriteLink, 0, 0, 0);
  m->path = "m";
  m->value = "w";
  add(Kind::kDeviceWrite, 0, 512, 'x');
  add(Kind::kDeviceWrite, 512, 512, 'y')->fua = true;
  add(Kind::kDeviceWrite, 1024, 512, 'z');
  add(Kind::kDeviceFlushBegin, 0, 0, 0);
  add(Kind::kDeviceFlushEnd, 0, 0, 0)->begin = 9;
  add(Kind::kDeviceWrite, 1536, 512, 'q');
  return r;
}

TEST_F(CrashModelTest, DurableWritesSurviveAndTheRestMayBeLostOrTorn) {
  const Recording r = HandMade();
  const std::string state_dir = dir_ + "/s";
  StateFacts facts;
  std::string error;
  CrashState state;
  state.cut = r.events.size();

  state.fate = Fate::kNoneKept;
  ASSERT_TRUE(Materialize(r, state, state_dir, &facts, &error)) << error;
  EXPECT_EQ(ReadFileText(TreeDir(state_dir) + "/f"), std::string(1024, 'A'));
  EXPECT_EQ(LinkValue(TreeDir(state_dir) + "/l"), "<missing>");
  EXPECT_EQ(ReadFileText(DevicePath(state_dir, 0)),
            std::string(512, 'x') + std::string(512, 'y') +
                std::string(512, 'z') + std::string(512, '.'));
  EXPECT_EQ(facts.durable_end["f"], 1024u);

  state.fate = Fate::kAllKept;
  ASSERT_TRUE(Materialize(r, state, state_dir, &facts, &error)) << error;
  EXPECT_EQ(ReadFileText(TreeDir(state_dir) + "/f"),
            std::string(1024, 'A') + std::string(1024, 'B'));
  EXPECT_EQ(LinkValue(TreeDir(state_dir) + "/l"), "v");
  EXPECT_EQ(LinkValue(TreeDir(state_dir) + "/m"), "w");
  EXPECT_EQ(ReadFileText(DevicePath(state_dir, 0)),
            std::string(512, 'x') + std::string(512, 'y') +
                std::string(512, 'z') + std::string(512, 'q'));

  // Before the sync completed nothing of f is durable.
  state.cut = 2;
  state.fate = Fate::kNoneKept;
  ASSERT_TRUE(Materialize(r, state, state_dir, &facts, &error)) << error;
  EXPECT_EQ(ReadFileText(TreeDir(state_dir) + "/f"), "");
  EXPECT_EQ(facts.durable_end["f"], 0u);

  // Random fates: 'A' always, each sector of B kept or not (zeroes where
  // not, when the file grew), links as a prefix; every variant occurs.
  state.cut = r.events.size();
  state.fate = Fate::kRandom;
  std::set<std::string> f_variants;
  std::set<std::string> link_variants;
  bool torn = false;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    state.seed = seed;
    ASSERT_TRUE(Materialize(r, state, state_dir, &facts, &error)) << error;
    const std::string f = ReadFileText(TreeDir(state_dir) + "/f");
    ASSERT_GE(f.size(), 1024u);
    EXPECT_EQ(f.substr(0, 1024), std::string(1024, 'A'));
    for (size_t s = 1024; s < f.size(); s += 512) {
      const std::string sector = f.substr(s, 512);
      EXPECT_TRUE(sector == std::string(512, 'B') ||
                  sector == std::string(512, '\0'))
          << seed;
    }
    f_variants.insert(f);
    torn = torn || facts.writes_torn > 0;
    const std::string links = LinkValue(TreeDir(state_dir) + "/l") + "," +
                              LinkValue(TreeDir(state_dir) + "/m");
    link_variants.insert(links);
    const std::string device = ReadFileText(DevicePath(state_dir, 0));
    EXPECT_EQ(
        device.substr(0, 1536),
        std::string(512, 'x') + std::string(512, 'y') + std::string(512, 'z'));
  }
  EXPECT_TRUE(torn);
  // 1024 'A' alone, + one torn sector variant or two, + both 'B' sectors.
  EXPECT_GE(f_variants.size(), 4u);
  EXPECT_EQ(link_variants, (std::set<std::string>{"<missing>,<missing>",
                                                  "v,<missing>", "v,w"}));
}

// Everything under `dir`: path -> "D", "F:content" or "L:value@mtime".
void Dump(const std::string& dir, const std::string& rel,
          std::map<std::string, std::string>* out) {
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  std::vector<std::string> names;
  while (const struct dirent* entry = readdir(d)) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
      names.push_back(entry->d_name);
    }
  }
  closedir(d);
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    const std::string key = rel + "/" + name;
    struct stat st;
    ASSERT_EQ(lstat(path.c_str(), &st), 0);
    if (S_ISDIR(st.st_mode)) {
      (*out)[key] = "D";
      Dump(path, key, out);
    } else if (S_ISLNK(st.st_mode)) {
      (*out)[key] = "L:" + LinkValue(path) + "@" +
                    std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
    } else {
      (*out)[key] = "F:" + ReadFileText(path);
    }
  }
}

std::map<std::string, std::string> Dump(const std::string& dir) {
  std::map<std::string, std::string> out;
  Dump(dir, "", &out);
  return out;
}

TEST_F(CrashModelTest, IncrementalWritesMatchFreshOnesAndFollowChanges) {
  // A recording with a bit of everything: from the recorder itself.
  const std::string root = dir_ + "/rec/mars";
  const std::string device = dir_ + "/rec/device.img";
  ASSERT_EQ(mkdir((dir_ + "/rec").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  {
    FILE* f = fopen(device.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::vector<char> initial(16384, 'i');
    fwrite(initial.data(), initial.size(), 1, f);
    fclose(f);
  }
  ASSERT_TRUE(pt::StartRecordingForTest(root.c_str()));
  platform::BlockDevice disk;
  ASSERT_TRUE(disk.Open(device.c_str()).ok());
  Random random(3);
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE(platform::MakeDirectory((root + "/d").c_str()).ok());
    platform::File file;
    const std::string name = root + "/d/log" + std::to_string(round % 2);
    ASSERT_TRUE(file.Open(name.c_str(),
                          platform::File::kWrite | platform::File::kCreate)
                    .ok());
    std::vector<uint8_t> bytes(2048 + random.Below(8000));
    for (auto& b : bytes) b = static_cast<uint8_t>(random.Next());
    ASSERT_TRUE(
        file.Write(random.Below(3000), bytes.data(), bytes.size()).ok());
    if (round % 3 == 1) {
      ASSERT_TRUE(file.Truncate(random.Below(5000)).ok());
    }
    ASSERT_TRUE(file.Sync(0, 1).ok());
    file.Close();
    const std::string value = "v" + std::to_string(round);
    ASSERT_TRUE(platform::WriteLink((root + "/link").c_str(), value.data(),
                                    value.size(), 1000 + round)
                    .ok());
    if (round == 4) {
      ASSERT_TRUE(platform::RemoveEntry((root + "/d/log0").c_str()).ok());
    }
    ASSERT_TRUE(
        disk.WriteSync(4096 * random.Below(4), bytes.data(), 2048).ok());
    if (round % 2 == 0) {
      ASSERT_TRUE(disk.FlushSync().ok());
    }
  }
  disk.Close();
  std::unique_ptr<Recording> recording = pt::StopRecordingForTest();
  ASSERT_NE(recording, nullptr);

  // Each state written over the previous one equals the state written
  // afresh, also after changes the writer follows.
  StateWriter writer(dir_ + "/inc");
  StateEnumeration states(*recording, 9);
  StateFacts facts;
  std::string error;
  for (uint64_t i = 0; i < 60; ++i) {
    const CrashState state = states.State(i * 7);
    ASSERT_TRUE(writer.Write(*recording, state, &facts, &error)) << error;
    ASSERT_TRUE(Materialize(*recording, state, dir_ + "/fresh", &facts, &error))
        << error;
    ASSERT_EQ(Dump(dir_ + "/inc"), Dump(dir_ + "/fresh")) << i;
    if (i % 3 != 0) continue;
    // Something changes the directory, recorded without content.
    const std::string tree = TreeDir(writer.dir());
    const std::map<std::string, std::string> before = Dump(writer.dir());
    ASSERT_TRUE(pt::StartRecordingForTest(tree.c_str(), false));
    platform::BlockDevice changed;
    ASSERT_TRUE(changed.Open(DevicePath(writer.dir(), 0).c_str()).ok());
    const std::vector<uint8_t> bytes(512, static_cast<uint8_t>('a' + i));
    ASSERT_TRUE(
        changed.WriteSync(4096 * (i % 4), bytes.data(), bytes.size()).ok());
    changed.Close();
    ASSERT_TRUE(platform::WriteLink((tree + "/link").c_str(), "x", 1, 7).ok());
    platform::File file;
    if (file.Open((tree + "/d/log1").c_str(), platform::File::kWrite).ok()) {
      ASSERT_TRUE(file.Truncate(100).ok());
      file.Close();
    }
    std::unique_ptr<Recording> changes = pt::StopRecordingForTest();
    ASSERT_NE(changes, nullptr);
    EXPECT_FALSE(changes->content_captured);
    ASSERT_TRUE(writer.Absorb(changes.get(), &error)) << error;
    EXPECT_TRUE(changes->content_captured);
    // The changes recording is complete now: its start is `before`.
    CrashState start;
    start.cut = 0;
    ASSERT_TRUE(Materialize(*changes, start, dir_ + "/start", &facts, &error))
        << error;
    EXPECT_EQ(Dump(dir_ + "/start"), before) << i;
    ASSERT_NE(writer.Device(0), nullptr);
    const std::string on_disk = ReadFileText(DevicePath(writer.dir(), 0));
    EXPECT_EQ(std::string(writer.Device(0)->begin(), writer.Device(0)->end()),
              on_disk);
  }
}

TEST(CrashStateEnumeration, BoundariesFirstThenRandomAndReproducible) {
  const Recording r = HandMade();
  StateEnumeration a(r, 5);
  StateEnumeration b(r, 5);
  // Cuts 0 and 12, and both sides of: the sync end (2), both links (4, 5),
  // the FUA device write (7) and the flush end (10).
  EXPECT_EQ(a.boundary_cuts(), 11u);
  EXPECT_EQ(a.boundary_states(), 22u);
  std::set<std::pair<size_t, int>> seen;
  for (uint64_t i = 0; i < a.boundary_states(); ++i) {
    const CrashState s = a.State(i);
    EXPECT_NE(s.fate, Fate::kRandom);
    seen.insert({s.cut, static_cast<int>(s.fate)});
    EXPECT_EQ(b.State(i).cut, s.cut);
  }
  EXPECT_EQ(seen.size(), 22u);
  for (uint64_t i = a.boundary_states(); i < 100; ++i) {
    const CrashState s = a.State(i);
    EXPECT_EQ(s.fate, Fate::kRandom);
    EXPECT_LE(s.cut, r.events.size());
    EXPECT_EQ(b.State(i).cut, s.cut);
    EXPECT_EQ(b.State(i).seed, s.seed);
  }
}

}  // namespace
}  // namespace crash
}  // namespace mars
