#include "command_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options/errors.hpp>
#include <boost/program_options/value_semantic.hpp>
#include <cerrno>
#include <cstring>

#include "report.h"

namespace mars::cli {
namespace po = boost::program_options;

std::optional<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || digits + 1 < text.size()) return std::nullopt;
  int shift = 0;
  if (digits < text.size()) {
    switch (text[digits]) {
      case 'k': case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: return std::nullopt;
    }
  }
  uint64_t value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

bool IsIpAddress(const std::string& text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::optional<std::string> ResolveHost(const std::string& host) {
  struct addrinfo hints {};
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* list = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0) return std::nullopt;
  std::optional<std::string> best;
  for (struct addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (ai->ai_family == AF_INET) {
      addr = &reinterpret_cast<struct sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      addr = &reinterpret_cast<struct sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, addr, text, sizeof(text)) == nullptr) continue;
    if (ai->ai_family == AF_INET) {
      best = text;
      break;
    }
    if (!best) best = text;
  }
  freeaddrinfo(list);
  return best;
}

void validate(boost::any& result, const std::vector<std::string>& values,
              IpAddressValue* /*tag*/, int /*tag*/) {
  po::validators::check_first_occurrence(result);
  const std::string& text = po::validators::get_single_string(values);
  if (!IsIpAddress(text)) {
    po::error_with_option_name error(
        "the argument ('%value%') for option '%canonical_option%' is invalid: "
        "expected a numeric IPv4 or IPv6 address");
    error.set_substitute("value", text);
    throw error;
  }
  result = IpAddressValue{text};
}

std::string IpOption(const Invocation& invocation) {
  const auto it = invocation.options.find("ip");
  if (it == invocation.options.end() || it->second.empty()) return "";
  return it->second.as<IpAddressValue>().text;
}

std::optional<uint64_t> DeviceSize(const std::string& path, std::string* error) {
  if (path.empty() || path[0] != '/') {
    *error = "device path '" + path + "' is not absolute; give the full path, "
             "e.g. /dev/vg/r0";
    return std::nullopt;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = "device " + path + " does not exist (" + std::strerror(errno) +
             "); create the volume first or check the path";
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (!S_ISBLK(st.st_mode)) {
    *error = "device " + path + " is neither a block device nor a regular file";
    return std::nullopt;
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open device " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  uint64_t bytes = 0;
  const int rc = ioctl(fd, BLKGETSIZE64, &bytes);
  const int saved = errno;
  close(fd);
  if (rc != 0) {
    *error = "cannot read the size of device " + path + ": " + std::strerror(saved);
    return std::nullopt;
  }
  return bytes;
}

std::optional<Outcome> RequireResource(const ResourceTree& res) {
  if (res.Exists()) return std::nullopt;
  return Outcome::Fail("no such resource (resource-" + res.resource() +
                       "/size is missing); check the name with 'marsadm view "
                       "all' or wait for the cluster with 'marsadm wait-cluster'");
}

std::optional<Outcome> RequireMember(const ResourceTree& res,
                                     const std::string& host) {
  if (auto failure = RequireResource(res)) return failure;
  if (res.IsMember(host)) return std::nullopt;
  return Outcome::Fail("host " + host + " is not a member (no data-" + host +
                       "); join it first with 'marsadm join-resource " +
                       res.resource() + " DEVICE'");
}

std::string HumanBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = -1;
  uint64_t value = bytes;
  while (value >= 1024 && value % 1024 == 0 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  if (unit < 0) return std::to_string(bytes) + " bytes";
  return std::to_string(value) + " " + kUnits[unit];
}

ExitCode RunOnResources(const Invocation& invocation, Context& context,
                        ListPolicy policy, bool needs_module,
                        std::vector<Phase> phases) {
  const TreeDir tree(context.root);
  ResourceSelection selection;
  std::string error;
  const ExitCode code = SelectResources(invocation.args.at(0), policy, tree,
                                        context.host, &selection, &error);
  if (code == ExitCode::kUsageError) {
    return ReportUsageError(context.err, error, &invocation.command);
  }
  if (code != ExitCode::kOk) {
    ReportError(context.err, error);
    return code;
  }
  Plan plan;
  plan.resources = std::move(selection.names);
  plan.needs_module = needs_module;
  plan.phases = std::move(phases);
  return RunPlan(plan, context);
}

ExitCode RunOnCluster(Context& context, bool needs_module,
                      std::vector<Phase> phases) {
  Plan plan;
  plan.resources = {""};
  plan.needs_module = needs_module;
  plan.phases = std::move(phases);
  return RunPlan(plan, context);
}

}  // namespace mars::cli
