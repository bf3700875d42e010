// Tests of the version-link hash chain (docu/mars-tree.md §4): golden
// hashes, parse errors, chain verification and common-ancestor search.
#include "core/tree/version_link.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mars {
namespace tree {
namespace {

Slice S(const std::string& s) { return Slice(s.data(), s.size()); }
std::string Str(const Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
std::string Hex(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

LogfileName Log(uint32_t number, const char* host) {
  LogfileName name;
  name.number = number;
  EXPECT_TRUE(name.host.Assign(Slice::FromCString(host)).ok());
  return name;
}

std::string Text(const VersionLink& link) {
  Bytes out;
  EXPECT_TRUE(AppendVersionLink(link, &out).ok());
  return Str(out);
}

const std::string kZero(64, '0');
// Golden values, computed independently (Python hashlib) over the bytes
// documented in docu/mars-tree.md, "Version links".
const char kContents1[] =
    "6d6172732d76657273696f6e2d763100010000000000100000000000000000000000"
    "000000000000000000000000000000000000000000000000000005616c706861";
const char kHash1[] =
    "2b3a8ea7f595eed055eba77403cbbc6fd206f3e65f1c6ddba5267e0bf123bbec";
const char kHash2[] =
    "7d693847a3ee8cd0c86a578b2e7f766af77e97a41badd11c650152ef1a5055c5";

TEST(VersionLinkTest, GoldenChain) {
  VersionLink first;
  ASSERT_TRUE(MakeVersionLink(nullptr, Log(1, "alpha"), 1048576, &first).ok());
  uint8_t contents[kVersionContentsMaxBytes];
  const size_t size =
      EncodeVersionContents(first.log, first.length, first.previous, contents);
  EXPECT_EQ(size, 66u);
  EXPECT_EQ(Hex(contents, size), kContents1);
  EXPECT_EQ(Hex(first.hash.bytes, 32), kHash1);
  EXPECT_TRUE(first.previous.IsZero());
  EXPECT_EQ(Text(first),
            std::string(kHash1) + ",log-000000001-alpha,1048576:" + kZero);

  VersionLink second;
  ASSERT_TRUE(MakeVersionLink(&first, Log(2, "alpha"), 4096, &second).ok());
  EXPECT_EQ(Hex(second.hash.bytes, 32), kHash2);
  EXPECT_EQ(Text(second),
            std::string(kHash2) + ",log-000000002-alpha,4096:" + kHash1);

  VersionLink parsed;
  ASSERT_TRUE(ParseVersionLink(S(Text(second)), &parsed).ok());
  EXPECT_TRUE(parsed.hash == second.hash);
  EXPECT_TRUE(parsed.previous == first.hash);
  EXPECT_TRUE(parsed.log == Log(2, "alpha"));
  EXPECT_EQ(parsed.length, 4096u);
}

TEST(VersionLinkTest, MakeRefusesBadInput) {
  VersionLink first, link;
  ASSERT_TRUE(MakeVersionLink(nullptr, Log(5, "a"), 0, &first).ok());
  EXPECT_STREQ(MakeVersionLink(&first, Log(7, "a"), 0, &link).message(),
               "version link number does not follow its predecessor");
  EXPECT_STREQ(MakeVersionLink(&first, Log(5, "a"), 0, &link).message(),
               "version link number does not follow its predecessor");
  EXPECT_EQ(MakeVersionLink(nullptr, Log(0, "a"), 0, &link).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(
      MakeVersionLink(nullptr, LogfileName{3, HostName()}, 0, &link).code(),
      StatusCode::kInvalidArgument);
  VersionLink last;
  ASSERT_TRUE(
      MakeVersionLink(nullptr, Log(kMaxLogfileNumber, "a"), 0, &last).ok());
  LogfileName beyond = Log(1, "a");
  beyond.number = kMaxLogfileNumber + 1;
  EXPECT_FALSE(MakeVersionLink(&last, beyond, 0, &link).ok());
}

TEST(VersionLinkTest, ParseRefusesEveryErrorClass) {
  VersionLink first;
  ASSERT_TRUE(MakeVersionLink(nullptr, Log(1, "alpha"), 1048576, &first).ok());
  const std::string good = Text(first);
  const std::string tail = ",log-000000001-alpha,1048576:" + kZero;
  std::string upper = kHash1;
  upper[1] = 'B';
  std::string wrong_hash = kHash1;
  wrong_hash[0] = '3';
  struct Case {
    std::string text;
    StatusCode code;
    const char* message;
  } cases[] = {
      {"", StatusCode::kInvalidArgument,
       "version link is not HASH,log-N-HOST,LENGTH:PREVHASH"},
      {std::string(kHash1) + ",log-000000001-alpha,1048576",
       StatusCode::kInvalidArgument,
       "version link is not HASH,log-N-HOST,LENGTH:PREVHASH"},
      {std::string(kHash1) + ":log-000000001-alpha,1048576:" + kZero,
       StatusCode::kInvalidArgument,
       "version link is not HASH,log-N-HOST,LENGTH:PREVHASH"},
      {std::string(kHash1).substr(1) + tail, StatusCode::kInvalidArgument,
       "version link hash is not 64 hex digits"},
      {upper + tail, StatusCode::kInvalidArgument,
       "version link hash contains an uppercase hex digit"},
      {"g" + std::string(kHash1).substr(1) + tail, StatusCode::kInvalidArgument,
       "version link hash contains a non-hex character"},
      {std::string(kHash1) + ",log-1-alpha,1048576:" + kZero,
       StatusCode::kInvalidArgument, "logfile number is not exactly 9 digits"},
      {std::string(kHash1) + ",log-000000001-alpha,01048576:" + kZero,
       StatusCode::kInvalidArgument,
       "version link length is not a canonical decimal"},
      {std::string(kHash1) + ",log-000000001-alpha,:" + kZero,
       StatusCode::kInvalidArgument,
       "version link length is not a canonical decimal"},
      {std::string(kHash1) +
           ",log-000000001-alpha,18446744073709551616:" + kZero,
       StatusCode::kOutOfRange, "version link length exceeds 2^64-1"},
      {std::string(kHash1) + ",log-000000001-alpha,1048576:" + kZero + "0",
       StatusCode::kInvalidArgument,
       "version link previous hash is not 64 hex digits"},
      {std::string(kHash1) + ",log-000000001-alpha,1048576:",
       StatusCode::kInvalidArgument,
       "version link previous hash is not 64 hex digits"},
      {std::string(kHash1) +
           ",log-000000001-alpha,1048576:" + std::string(63, '0') + "A",
       StatusCode::kInvalidArgument,
       "version link previous hash contains an uppercase hex digit"},
      {std::string(kHash1) +
           ",log-000000001-alpha,1048576:" + std::string(63, '0') + ":",
       StatusCode::kInvalidArgument,
       "version link previous hash contains a non-hex character"},
      {wrong_hash + tail, StatusCode::kCorruption,
       "version link hash does not match its contents"},
      {std::string(kHash1) + ",log-000000001-alpha,1048577:" + kZero,
       StatusCode::kCorruption,
       "version link hash does not match its contents"},
      {std::string(kHash1) + ",log-000000001-alphb,1048576:" + kZero,
       StatusCode::kCorruption,
       "version link hash does not match its contents"},
  };
  for (const Case& c : cases) {
    VersionLink link;
    link.length = 5;
    Status s = ParseVersionLink(S(c.text), &link);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_STREQ(s.message(), c.message) << c.text;
    EXPECT_EQ(link.length, 0u) << c.text;
  }
  VersionLink link;
  EXPECT_TRUE(ParseVersionLink(S(good), &link).ok());
}

// A chain of links numbered first..last over `host`, with lengths derived
// from `salt` so that different salts give different histories.
std::vector<VersionLink> Chain(uint32_t first, uint32_t last, int salt,
                               const VersionLink* before = nullptr) {
  std::vector<VersionLink> links;
  for (uint32_t n = first; n <= last; ++n) {
    VersionLink link;
    const VersionLink* previous = links.empty() ? before : &links.back();
    EXPECT_TRUE(
        MakeVersionLink(previous, Log(n, "h"), n * 1000 + salt, &link).ok());
    links.push_back(link);
  }
  return links;
}

std::vector<VersionLink> Concat(std::vector<VersionLink> a,
                                const std::vector<VersionLink>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<VersionLink> Slice_(const std::vector<VersionLink>& v, size_t from,
                                size_t to) {
  return std::vector<VersionLink>(v.begin() + from, v.begin() + to);
}

ChainComparison Compare(const std::vector<VersionLink>& a,
                        const std::vector<VersionLink>& b) {
  ChainComparison result;
  EXPECT_TRUE(
      CompareVersionChains(a.data(), a.size(), b.data(), b.size(), &result)
          .ok());
  return result;
}

TEST(VersionChainTest, VerifyFindsBrokenChains) {
  std::vector<VersionLink> chain = Chain(1, 5, 0);
  EXPECT_TRUE(VerifyVersionChain(chain.data(), chain.size()).ok());
  EXPECT_TRUE(VerifyVersionChain(chain.data() + 2, 3).ok());  // suffix
  EXPECT_TRUE(VerifyVersionChain(nullptr, 0).ok());

  std::vector<VersionLink> gap = {chain[0], chain[2]};
  EXPECT_STREQ(VerifyVersionChain(gap.data(), gap.size()).message(),
               "version chain numbers are not consecutive");
  std::vector<VersionLink> other = Chain(1, 5, 7);
  std::vector<VersionLink> mixed = {chain[0], other[1]};
  Status s = VerifyVersionChain(mixed.data(), mixed.size());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_STREQ(s.message(), "version chain previous hash does not match");
  std::vector<VersionLink> tampered = chain;
  tampered[3].length += 1;
  s = VerifyVersionChain(tampered.data(), tampered.size());
  EXPECT_STREQ(s.message(), "version link hash does not match its contents");
  ChainComparison result;
  EXPECT_FALSE(CompareVersionChains(tampered.data(), tampered.size(),
                                    chain.data(), chain.size(), &result)
                   .ok());
  EXPECT_FALSE(CompareVersionChains(chain.data(), chain.size(), gap.data(),
                                    gap.size(), &result)
                   .ok());
}

TEST(VersionChainTest, IdenticalAndPrefixes) {
  const std::vector<VersionLink> chain = Chain(1, 6, 0);
  ChainComparison r = Compare(chain, chain);
  EXPECT_EQ(r.relation, ChainRelation::kIdentical);
  EXPECT_TRUE(r.has_ancestor);
  EXPECT_EQ(r.ancestor_number, 6u);

  const std::vector<VersionLink> shorter = Slice_(chain, 0, 4);
  r = Compare(shorter, chain);
  EXPECT_EQ(r.relation, ChainRelation::kFirstIsPrefix);
  EXPECT_EQ(r.ancestor_number, 4u);
  EXPECT_TRUE(r.ancestor_hash == chain[3].hash);
  r = Compare(chain, shorter);
  EXPECT_EQ(r.relation, ChainRelation::kSecondIsPrefix);
  EXPECT_EQ(r.ancestor_number, 4u);

  // Old links deleted on one side: still identical / prefix.
  r = Compare(Slice_(chain, 3, 6), chain);
  EXPECT_EQ(r.relation, ChainRelation::kIdentical);
  r = Compare(Slice_(chain, 1, 3), Slice_(chain, 2, 6));
  EXPECT_EQ(r.relation, ChainRelation::kFirstIsPrefix);
  EXPECT_EQ(r.ancestor_number, 3u);

  // Adjacent: one chain ends at 3, the other starts at 4 and continues it.
  r = Compare(Slice_(chain, 0, 3), Slice_(chain, 3, 6));
  EXPECT_EQ(r.relation, ChainRelation::kFirstIsPrefix);
  EXPECT_EQ(r.ancestor_number, 3u);
  r = Compare(Slice_(chain, 3, 6), Slice_(chain, 0, 3));
  EXPECT_EQ(r.relation, ChainRelation::kSecondIsPrefix);
  EXPECT_EQ(r.ancestor_number, 3u);

  // Empty chains.
  std::vector<VersionLink> empty;
  EXPECT_EQ(Compare(empty, chain).relation, ChainRelation::kFirstIsPrefix);
  EXPECT_EQ(Compare(chain, empty).relation, ChainRelation::kSecondIsPrefix);
  EXPECT_EQ(Compare(empty, empty).relation, ChainRelation::kIdentical);
  EXPECT_FALSE(Compare(empty, chain).has_ancestor);
}

TEST(VersionChainTest, SplitBrainFindsCommonAncestor) {
  const std::vector<VersionLink> base = Chain(1, 4, 0);
  const std::vector<VersionLink> left =
      Concat(base, Chain(5, 8, 1, &base.back()));
  const std::vector<VersionLink> right =
      Concat(base, Chain(5, 6, 2, &base.back()));
  ChainComparison r = Compare(left, right);
  EXPECT_EQ(r.relation, ChainRelation::kSplitBrain);
  ASSERT_TRUE(r.has_ancestor);
  EXPECT_EQ(r.ancestor_number, 4u);
  EXPECT_TRUE(r.ancestor_hash == base.back().hash);
  EXPECT_EQ(Compare(right, left).ancestor_number, 4u);

  // The ancestor is no longer present in either chain: known by hash.
  r = Compare(Slice_(left, 4, 8), Slice_(right, 4, 6));
  EXPECT_EQ(r.relation, ChainRelation::kSplitBrain);
  ASSERT_TRUE(r.has_ancestor);
  EXPECT_EQ(r.ancestor_number, 4u);
  EXPECT_TRUE(r.ancestor_hash == base.back().hash);

  // Divergence before the known range: split brain, ancestor unknown.
  const std::vector<VersionLink> other = Chain(1, 8, 9);
  r = Compare(Slice_(left, 5, 8), Slice_(other, 5, 8));
  EXPECT_EQ(r.relation, ChainRelation::kSplitBrain);
  EXPECT_FALSE(r.has_ancestor);

  // Two fresh chains starting at the same number: no common ancestor.
  r = Compare(Chain(1, 3, 1), Chain(1, 3, 2));
  EXPECT_EQ(r.relation, ChainRelation::kSplitBrain);
  EXPECT_FALSE(r.has_ancestor);

  // Adjacent but not a continuation.
  r = Compare(Slice_(left, 0, 5), Slice_(right, 5, 6));
  EXPECT_EQ(r.relation, ChainRelation::kSplitBrain);
  EXPECT_FALSE(r.has_ancestor);
}

TEST(VersionChainTest, GapIsUndecidable) {
  const std::vector<VersionLink> chain = Chain(1, 9, 0);
  ChainComparison r = Compare(Slice_(chain, 0, 3), Slice_(chain, 5, 9));
  EXPECT_EQ(r.relation, ChainRelation::kUndecidable);
  EXPECT_FALSE(r.has_ancestor);
  r = Compare(Slice_(chain, 5, 9), Slice_(chain, 0, 3));
  EXPECT_EQ(r.relation, ChainRelation::kUndecidable);
}

// Every split point of two random-length histories is found exactly.
TEST(VersionChainTest, AncestorAtEverySplitPoint) {
  for (uint32_t split = 1; split <= 12; ++split) {
    const std::vector<VersionLink> base = Chain(1, split, 0);
    for (uint32_t extra_a = 0; extra_a <= 3; ++extra_a) {
      for (uint32_t extra_b = 0; extra_b <= 3; ++extra_b) {
        std::vector<VersionLink> a = base, b = base;
        if (extra_a > 0)
          a = Concat(base, Chain(split + 1, split + extra_a, 1, &base.back()));
        if (extra_b > 0)
          b = Concat(base, Chain(split + 1, split + extra_b, 2, &base.back()));
        ChainComparison r = Compare(a, b);
        ASSERT_TRUE(r.has_ancestor);
        EXPECT_EQ(r.ancestor_number, split);
        const ChainRelation expected =
            extra_a == 0 && extra_b == 0 ? ChainRelation::kIdentical
            : extra_a == 0               ? ChainRelation::kFirstIsPrefix
            : extra_b == 0               ? ChainRelation::kSecondIsPrefix
                                         : ChainRelation::kSplitBrain;
        EXPECT_EQ(r.relation, expected)
            << split << " " << extra_a << " " << extra_b;
      }
    }
  }
}

}  // namespace
}  // namespace tree
}  // namespace mars
