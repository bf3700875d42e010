// Numeric IPv4 and IPv6 address text (RFC 4291 §2.2 text forms).
#include "core/peer/ip_address.h"

namespace mars {
namespace peer {
namespace {

Status Bad() {
  return Status(StatusCode::kInvalidArgument,
                "not a numeric IPv4 or IPv6 address");
}

int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted quad: four decimal parts 0..255, no leading zeros (so "010" is not
// read as octal by one tool and decimal by another).
bool ParseIpv4(Slice text, uint8_t out[4]) {
  size_t at = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (at >= text.size() || text[at] != '.') return false;
      ++at;
    }
    const size_t start = at;
    unsigned value = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      value = value * 10 + (text[at] - '0');
      if (value > 255) return false;
      ++at;
    }
    const size_t digits = at - start;
    if (digits == 0 || (digits > 1 && text[start] == '0')) return false;
    out[part] = static_cast<uint8_t>(value);
  }
  return at == text.size();
}

bool ParseIpv6(Slice text, uint8_t out[16]) {
  uint16_t groups[8] = {};
  int count = 0;       // groups parsed
  int gap = -1;        // index where "::" stands
  size_t at = 0;
  if (text.size() >= 2 && text[0] == ':' && text[1] == ':') {
    gap = 0;
    at = 2;
  } else if (text.size() >= 1 && text[0] == ':') {
    return false;
  }
  while (at < text.size()) {
    // An embedded IPv4 tail fills the last two groups.
    size_t end = at;
    while (end < text.size() && text[end] != ':') ++end;
    const Slice part = text.SubSlice(at, end - at);
    bool dotted = false;
    for (size_t i = 0; i < part.size(); ++i) dotted |= part[i] == '.';
    if (dotted) {
      uint8_t v4[4];
      if (end != text.size() || count > 6 || !ParseIpv4(part, v4)) {
        return false;
      }
      groups[count++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      at = end;
      break;
    }
    if (part.empty() || part.size() > 4 || count == 8) return false;
    unsigned value = 0;
    for (size_t i = 0; i < part.size(); ++i) {
      const int digit = HexValue(part[i]);
      if (digit < 0) return false;
      value = value << 4 | static_cast<unsigned>(digit);
    }
    groups[count++] = static_cast<uint16_t>(value);
    at = end;
    if (at == text.size()) break;
    ++at;  // the ':'
    if (at < text.size() && text[at] == ':') {
      if (gap >= 0) return false;  // a second "::"
      gap = count;
      ++at;
    } else if (at == text.size()) {
      return false;  // a trailing single ':'
    }
  }
  if (gap < 0 ? count != 8 : count > 7) return false;
  uint16_t full[8] = {};
  if (gap < 0) {
    for (int i = 0; i < 8; ++i) full[i] = groups[i];
  } else {
    const int tail = count - gap;
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
  }
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(full[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(full[i]);
  }
  return true;
}

}  // namespace

Status ParseIpAddress(Slice text, platform::NetAddress* out) {
  uint8_t bytes[16] = {};
  if (ParseIpv4(text, bytes)) {
    out->family = platform::NetAddress::kIpv4;
  } else if (ParseIpv6(text, bytes)) {
    out->family = platform::NetAddress::kIpv6;
  } else {
    return Bad();
  }
  __builtin_memcpy(out->bytes, bytes, sizeof(bytes));
  return Status::Ok();
}

}  // namespace peer
}  // namespace mars
