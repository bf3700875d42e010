#include "resource_list.h"

#include <algorithm>

#include "core/tree/names.h"
#include "tree_read.h"

namespace mars::cli {
namespace {

std::string NameProblem(tree::NameKind kind, const std::string& name) {
  tree::NameError error;
  if (tree::ValidateName(kind, CoreSlice(name), &error).ok()) return "";
  char text[256];
  const size_t size =
      tree::DescribeNameError(kind, CoreSlice(name), error, text, sizeof(text));
  return std::string(text, size);
}

}  // namespace

std::string ResourceNameProblem(const std::string& name) {
  return NameProblem(tree::NameKind::kResource, name);
}

std::string HostNameProblem(const std::string& name) {
  return NameProblem(tree::NameKind::kHost, name);
}

std::vector<std::string> MemberResources(const TreeDir& tree,
                                         const std::string& host) {
  std::vector<std::string> names;
  for (const std::string& res : AllResourceNames(tree)) {
    if (ResourceTree(tree, res).IsMember(host)) names.push_back(res);
  }
  return names;
}

ExitCode SelectResources(const std::string& argument, ListPolicy policy,
                         const TreeDir& tree, const std::string& host,
                         ResourceSelection* selection, std::string* error) {
  *selection = ResourceSelection();
  if (argument == kAllResources) {
    if (policy == ListPolicy::kSingle) {
      *error = "this command takes one resource name, not 'all'";
      return ExitCode::kUsageError;
    }
    selection->all = true;
    selection->names = MemberResources(tree, host);
    if (selection->names.empty()) {
      *error = "'all' selects no resource: host " + host +
               " is a member of no resource (see 'marsadm view all')";
      return ExitCode::kPreconditionFailed;
    }
    return ExitCode::kOk;
  }
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    const auto comma = argument.find(',', start);
    parts.push_back(argument.substr(start, comma == std::string::npos
                                               ? std::string::npos
                                               : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parts.size() > 1 && policy == ListPolicy::kSingle) {
    *error = "this command takes one resource name, not a list ('" +
             argument + "')";
    return ExitCode::kUsageError;
  }
  for (const std::string& part : parts) {
    if (part == kAllResources && parts.size() > 1) {
      *error = "'all' cannot be part of a resource list ('" + argument + "')";
      return ExitCode::kUsageError;
    }
    if (part.empty() && parts.size() > 1) {
      *error = "resource list '" + argument + "' has an empty element";
      return ExitCode::kUsageError;
    }
    if (std::string problem = ResourceNameProblem(part); !problem.empty()) {
      *error = problem;
      return ExitCode::kUsageError;
    }
    if (std::find(selection->names.begin(), selection->names.end(), part) ==
        selection->names.end()) {
      selection->names.push_back(part);
    }
  }
  return ExitCode::kOk;
}

}  // namespace mars::cli
