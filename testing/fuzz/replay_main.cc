// Replays fuzz inputs through a libFuzzer target without libFuzzer, so that the
// checked-in corpus runs as a regression test under ASan/UBSan with g++.
//
// Usage: <target>_replay FILE_OR_DIR...   (every regular file is one input)
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool ReplayFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

int Replay(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    fprintf(stderr, "no such file or directory: %s\n", path.c_str());
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) return ReplayFile(path) ? 1 : -1;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (struct dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const int n = Replay(path + "/" + name);
    if (n < 0) {
      count = -1;
      break;
    }
    count += n;
  }
  closedir(dir);
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  int total = 0;
  for (int i = 1; i < argc; ++i) {
    const int n = Replay(argv[i]);
    if (n < 0) return 1;
    total += n;
  }
  if (total == 0) {
    fprintf(stderr, "no inputs replayed\n");
    return 1;
  }
  printf("replayed %d inputs\n", total);
  return 0;
}
