// Version links: the SHA-256 hash chain over a resource's logfile history
// (docu/mars-tree.md §4 "Version links"). version-NNNNNNNNN-HOST records that
// HOST's history contains logfile N (origin host, final length) after the
// history ending in the link for N-1. Two hosts whose links for N are equal
// have identical histories up to N; the last equal link of two chains is
// their common ancestor, and chains that differ after it are a split brain.
//
// Value text: HASH,log-NNNNNNNNN-ORIGIN,LENGTH:PREVHASH (64 lowercase hex
// digits each). SHA-256 comes only from platform::Sha256.
#ifndef MARS_CORE_TREE_VERSION_LINK_H_
#define MARS_CORE_TREE_VERSION_LINK_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/platform.h"
#include "core/tree/log_names.h"

namespace mars {
namespace tree {

struct VersionHash {
  uint8_t bytes[platform::kSha256Bytes] = {};
  bool IsZero() const;
  bool operator==(const VersionHash& o) const {
    return __builtin_memcmp(bytes, o.bytes, sizeof(bytes)) == 0;
  }
  bool operator!=(const VersionHash& o) const { return !(*this == o); }
};

struct VersionLink {
  VersionHash hash;  // SHA-256 of EncodeVersionContents(log, length, previous)
  LogfileName log;   // logfile number and origin (creating) host
  uint64_t length = 0;  // final length of that logfile in bytes
  VersionHash
      previous;  // hash of the link for log.number - 1; zero: chain start
};

// The domain tag that starts every hashed encoding (16 bytes with its NUL).
constexpr char kVersionHashTag[] = "mars-version-v1";
constexpr size_t kVersionHashTagBytes = 16;
// Bytes hashed for a link: tag(16) number(u32 LE) length(u64 LE)
// previous(32) origin_size(u8) origin(1..63).
constexpr size_t kVersionContentsMaxBytes = 16 + 4 + 8 + 32 + 1 + kMaxNameChars;

// Writes the canonical hashed bytes into `out` and returns their count, or 0
// when `log` is not a valid logfile name (number 0 or > 999999999, empty
// host). REQUIRES: out has kVersionContentsMaxBytes bytes. Context: any.
size_t EncodeVersionContents(const LogfileName& log, uint64_t length,
                             const VersionHash& previous, uint8_t* out);

// Builds the link for logfile `log` of final size `length`. With
// `previous` == nullptr the link starts a chain (zero previous hash);
// otherwise log.number must be previous->log.number + 1 (kInvalidArgument
// "version link number does not follow its predecessor"). kOutOfRange /
// kInvalidArgument for an invalid `log`. Context: any.
Status MakeVersionLink(const VersionLink* previous, const LogfileName& log,
                       uint64_t length, VersionLink* link);

// kCorruption "version link hash does not match its contents" unless
// link.hash is the hash of its fields; the logfile-name errors if invalid.
Status VerifyVersionLink(const VersionLink& link);

// Parses and verifies the value text. Errors (kInvalidArgument unless
// noted): "version link is not HASH,log-N-HOST,LENGTH:PREVHASH", hash and
// previous-hash errors ("... is not 64 hex digits", "... contains an
// uppercase hex digit", "... contains a non-hex character"), the
// logfile-name errors, "version link length is not a canonical decimal",
// kOutOfRange "version link length exceeds 2^64-1", kCorruption on a
// hash mismatch.
Status ParseVersionLink(Slice text, VersionLink* link);
// Appends the value text. Does not verify the hash (see VerifyVersionLink).
Status AppendVersionLink(const VersionLink& link, Bytes* out);

// Checks links[0, count) form one chain: each link verifies, numbers
// increase by exactly 1, and each previous hash is the hash of the link
// before it (links[0].previous is not checked: older links may be gone).
// kCorruption "version link hash does not match its contents",
// kInvalidArgument "version chain numbers are not consecutive",
// kCorruption "version chain previous hash does not match". Empty: ok.
Status VerifyVersionChain(const VersionLink* links, size_t count);

enum class ChainRelation : uint8_t {
  kIdentical,       // same last link: same history
  kFirstIsPrefix,   // the second chain extends the first (no split brain)
  kSecondIsPrefix,  // the first chain extends the second (no split brain)
  kSplitBrain,      // the histories diverge
  kUndecidable,     // the chains share no link number and do not touch
};

struct ChainComparison {
  ChainRelation relation = ChainRelation::kUndecidable;
  // The common ancestor: the last link both histories contain. Known when
  // has_ancestor; it may lie just before both chains (known only by hash).
  bool has_ancestor = false;
  uint32_t ancestor_number = 0;
  VersionHash ancestor_hash;
};

// Compares two chains (each as accepted by VerifyVersionChain; a chain is
// ordered by ascending number and may lack its oldest links). An empty chain
// is a prefix of every chain. Returns the VerifyVersionChain error of either
// chain. Cost O(log(count)) after verification. Context: any.
Status CompareVersionChains(const VersionLink* first, size_t first_count,
                            const VersionLink* second, size_t second_count,
                            ChainComparison* result);

}  // namespace tree
}  // namespace mars

#endif  // MARS_CORE_TREE_VERSION_LINK_H_
