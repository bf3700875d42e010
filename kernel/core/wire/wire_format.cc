// Names of the message types of docu/wire-protocol.md, for logs and tools.
#include "core/wire/wire_format.h"

namespace mars {
namespace wire {

const char* MessageTypeName(uint16_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kHello:
      return "hello";
    case MessageType::kAuthChallenge:
      return "auth-challenge";
    case MessageType::kAuthResponse:
      return "auth-response";
    case MessageType::kAuthResult:
      return "auth-result";
    case MessageType::kError:
      return "error";
    case MessageType::kPing:
      return "ping";
    case MessageType::kPong:
      return "pong";
    case MessageType::kTreeSinceRequest:
      return "tree-since-request";
    case MessageType::kTreeUpdate:
      return "tree-update";
    case MessageType::kLogfileRequest:
      return "logfile-request";
    case MessageType::kLogfileData:
      return "logfile-data";
    case MessageType::kDigestRequest:
      return "digest-request";
    case MessageType::kDigestReply:
      return "digest-reply";
    case MessageType::kBlockRequest:
      return "block-request";
    case MessageType::kBlockData:
      return "block-data";
  }
  return "unknown";
}

}  // namespace wire
}  // namespace mars
