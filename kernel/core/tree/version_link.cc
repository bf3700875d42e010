// Version link hash chain (docu/mars-tree.md §4).
#include "core/tree/version_link.h"

#include "core/base/coding.h"
#include "core/base/utility.h"
#include "core/tree/text.h"

namespace mars {
namespace tree {
namespace {

static_assert(sizeof(kVersionHashTag) == kVersionHashTagBytes,
              "the tag is 15 characters and its NUL");
static_assert(kVersionContentsMaxBytes == 124, "see docu/mars-tree.md");

struct HashMessages {
  const char* wrong_length;
  const char* uppercase;
  const char* non_hex;
};

constexpr HashMessages kHashMessages = {
    "version link hash is not 64 hex digits",
    "version link hash contains an uppercase hex digit",
    "version link hash contains a non-hex character",
};
constexpr HashMessages kPreviousMessages = {
    "version link previous hash is not 64 hex digits",
    "version link previous hash contains an uppercase hex digit",
    "version link previous hash contains a non-hex character",
};

Status ParseHash(Slice text, const HashMessages& messages, VersionHash* hash) {
  Status s = ParseLowerHex(text, hash->bytes, sizeof(hash->bytes));
  if (s.ok()) return s;
  if (text.size() != 2 * sizeof(hash->bytes)) {
    return Status(StatusCode::kInvalidArgument, messages.wrong_length);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] >= 'A' && text[i] <= 'F') {
      return Status(StatusCode::kInvalidArgument, messages.uppercase);
    }
  }
  return Status(StatusCode::kInvalidArgument, messages.non_hex);
}

Status CheckLogfileName(const LogfileName& log) {
  if (log.number < kMinLogfileNumber || log.number > kMaxLogfileNumber) {
    return Status(StatusCode::kOutOfRange,
                  "logfile number is outside 1..999999999");
  }
  if (log.host.empty())
    return Status(StatusCode::kInvalidArgument, "host name is empty");
  return Status::Ok();
}

// The hash of the link's fields, or an error for an invalid logfile name.
Status ComputeHash(const LogfileName& log, uint64_t length,
                   const VersionHash& previous, VersionHash* hash) {
  uint8_t contents[kVersionContentsMaxBytes];
  const size_t size = EncodeVersionContents(log, length, previous, contents);
  if (size == 0) return CheckLogfileName(log);
  platform::Sha256(contents, size, hash->bytes);
  return Status::Ok();
}

}  // namespace

bool VersionHash::IsZero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

size_t EncodeVersionContents(const LogfileName& log, uint64_t length,
                             const VersionHash& previous, uint8_t* out) {
  if (!CheckLogfileName(log).ok()) return 0;
  __builtin_memcpy(out, kVersionHashTag, kVersionHashTagBytes);
  EncodeFixed32(out + 16, log.number);
  EncodeFixed64(out + 20, length);
  __builtin_memcpy(out + 28, previous.bytes, sizeof(previous.bytes));
  out[60] = static_cast<uint8_t>(log.host.size());
  __builtin_memcpy(out + 61, log.host.slice().data(), log.host.size());
  return 61 + log.host.size();
}

Status MakeVersionLink(const VersionLink* previous, const LogfileName& log,
                       uint64_t length, VersionLink* link) {
  VersionLink made;
  made.log = log;
  made.length = length;
  if (previous != nullptr) {
    if (previous->log.number >= kMaxLogfileNumber ||
        log.number != previous->log.number + 1) {
      return Status(StatusCode::kInvalidArgument,
                    "version link number does not follow its predecessor");
    }
    made.previous = previous->hash;
  }
  Status s = ComputeHash(made.log, made.length, made.previous, &made.hash);
  if (!s.ok()) return s;
  *link = made;
  return Status::Ok();
}

Status VerifyVersionLink(const VersionLink& link) {
  VersionHash expected;
  Status s = ComputeHash(link.log, link.length, link.previous, &expected);
  if (!s.ok()) return s;
  if (expected != link.hash) {
    return Status(StatusCode::kCorruption,
                  "version link hash does not match its contents");
  }
  return Status::Ok();
}

Status ParseVersionLink(Slice text, VersionLink* link) {
  *link = VersionLink();
  Slice hash_text, rest, log_text, rest2, length_text, previous_text;
  if (!SplitAt(text, ',', &hash_text, &rest) ||
      !SplitAt(rest, ',', &log_text, &rest2) ||
      !SplitAt(rest2, ':', &length_text, &previous_text)) {
    return Status(StatusCode::kInvalidArgument,
                  "version link is not HASH,log-N-HOST,LENGTH:PREVHASH");
  }
  VersionLink parsed;
  Status s = ParseHash(hash_text, kHashMessages, &parsed.hash);
  if (!s.ok()) return s;
  s = ParseLogfileName(log_text, &parsed.log);
  if (!s.ok()) return s;
  s = ParseDecimalU64(length_text, &parsed.length);
  if (s.code() == StatusCode::kOutOfRange) {
    return Status(StatusCode::kOutOfRange,
                  "version link length exceeds 2^64-1");
  }
  if (!s.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "version link length is not a canonical decimal");
  }
  s = ParseHash(previous_text, kPreviousMessages, &parsed.previous);
  if (!s.ok()) return s;
  s = VerifyVersionLink(parsed);
  if (!s.ok()) return s;
  *link = parsed;
  return Status::Ok();
}

Status AppendVersionLink(const VersionLink& link, Bytes* out) {
  const size_t start = out->size();
  Status s = AppendLowerHex(link.hash.bytes, sizeof(link.hash.bytes), out);
  if (s.ok()) s = AppendChar(',', out);
  if (s.ok()) s = AppendLogfileName(link.log, out);
  if (s.ok()) s = AppendChar(',', out);
  if (s.ok()) s = AppendDecimalU64(link.length, out);
  if (s.ok()) s = AppendChar(':', out);
  if (s.ok()) {
    s = AppendLowerHex(link.previous.bytes, sizeof(link.previous.bytes), out);
  }
  if (!s.ok()) TruncateBytes(start, out);
  return s;
}

Status VerifyVersionChain(const VersionLink* links, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    Status s = VerifyVersionLink(links[i]);
    if (!s.ok()) return s;
    if (i == 0) continue;
    if (links[i].log.number != links[i - 1].log.number + 1) {
      return Status(StatusCode::kInvalidArgument,
                    "version chain numbers are not consecutive");
    }
    if (links[i].previous != links[i - 1].hash) {
      return Status(StatusCode::kCorruption,
                    "version chain previous hash does not match");
    }
  }
  return Status::Ok();
}

namespace {

void SetAncestor(const VersionLink& link, ChainComparison* result) {
  result->has_ancestor = true;
  result->ancestor_number = link.log.number;
  result->ancestor_hash = link.hash;
}

// `a` ends just before `b` starts (a's last number + 1 == b's first).
void CompareAdjacent(const VersionLink& a_last, const VersionLink& b_first,
                     ChainRelation if_continued, ChainComparison* result) {
  if (b_first.previous == a_last.hash) {
    result->relation = if_continued;
    SetAncestor(a_last, result);
  } else {
    result->relation = ChainRelation::kSplitBrain;
  }
}

}  // namespace

Status CompareVersionChains(const VersionLink* first, size_t first_count,
                            const VersionLink* second, size_t second_count,
                            ChainComparison* result) {
  *result = ChainComparison();
  Status s = VerifyVersionChain(first, first_count);
  if (s.ok()) s = VerifyVersionChain(second, second_count);
  if (!s.ok()) return s;
  if (first_count == 0 || second_count == 0) {
    result->relation = first_count == second_count ? ChainRelation::kIdentical
                       : first_count == 0 ? ChainRelation::kFirstIsPrefix
                                          : ChainRelation::kSecondIsPrefix;
    return Status::Ok();
  }
  const uint32_t a0 = first[0].log.number;
  const uint32_t a1 = first[first_count - 1].log.number;
  const uint32_t b0 = second[0].log.number;
  const uint32_t b1 = second[second_count - 1].log.number;
  const uint32_t lo = Max(a0, b0);
  const uint32_t hi = Min(a1, b1);
  if (lo > hi) {
    if (a1 + 1 == b0) {
      CompareAdjacent(first[first_count - 1], second[0],
                      ChainRelation::kFirstIsPrefix, result);
    } else if (b1 + 1 == a0) {
      CompareAdjacent(second[second_count - 1], first[0],
                      ChainRelation::kSecondIsPrefix, result);
    }
    return Status::Ok();
  }
  // Equal links at number k imply equal links at every number below k (each
  // hash covers its predecessor), so "equal" holds on a prefix of [lo, hi]:
  // binary search for its end. `end` = first number in [lo, hi] that differs.
  uint32_t begin = lo;
  uint32_t end = hi + 1;
  while (begin < end) {
    const uint32_t mid = begin + (end - begin) / 2;
    if (first[mid - a0].hash == second[mid - b0].hash) {
      begin = mid + 1;
    } else {
      end = mid;
    }
  }
  if (end == lo) {
    // They differ already at lo; its predecessor may still be shared.
    result->relation = ChainRelation::kSplitBrain;
    const VersionHash& previous = first[lo - a0].previous;
    if (previous == second[lo - b0].previous && !previous.IsZero()) {
      result->has_ancestor = true;
      result->ancestor_number = lo - 1;
      result->ancestor_hash = previous;
    }
    return Status::Ok();
  }
  const uint32_t k = end - 1;  // last equal number
  SetAncestor(first[k - a0], result);
  if (k == a1 && k == b1) {
    result->relation = ChainRelation::kIdentical;
  } else if (k == a1) {
    result->relation = ChainRelation::kFirstIsPrefix;
  } else if (k == b1) {
    result->relation = ChainRelation::kSecondIsPrefix;
  } else {
    result->relation = ChainRelation::kSplitBrain;
  }
  return Status::Ok();
}

}  // namespace tree
}  // namespace mars
