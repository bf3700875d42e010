#include "module_health.h"

#include <sys/statvfs.h>

#include <cstring>
#include <fstream>

namespace mars::cli {

std::vector<Message> ModuleTreeProblems(const ModuleLink& module,
                                        const std::string& root,
                                        const std::string& host) {
  std::vector<Message> problems;
  auto add = [&](const char* key, std::string text) {
    Message message;
    message.host = host;
    message.severity = Severity::kError;
    message.source = MessageSource::kMarsadm;
    message.key = key;
    message.text = std::move(text);
    problems.push_back(std::move(message));
  };
  if (module.Loaded()) {
    std::ifstream in(module.TreeWriteErrnoPath());
    long error = 0;
    if (in >> error && error > 0) {
      add("tree-unwritable",
          "the module cannot write " + root + ": " +
              std::strerror(static_cast<int>(error)) + " (errno " +
              std::to_string(error) +
              "); what this shows is the tree as last written, the "
              "kernel log has the current errors");
    }
  }
  struct statvfs fs;
  if (statvfs(root.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
    add("mars-read-only", root +
                              " is on a file system mounted read-only: "
                              "neither the module nor marsadm can change it");
  }
  return problems;
}

void AddClusterProblems(const std::vector<Message>& problems,
                        ClusterStatus* status) {
  status->messages.insert(status->messages.end(), problems.begin(),
                          problems.end());
  for (ResourceStatus& resource : status->resources) {
    resource.messages.insert(resource.messages.end(), problems.begin(),
                             problems.end());
  }
}

}  // namespace mars::cli
