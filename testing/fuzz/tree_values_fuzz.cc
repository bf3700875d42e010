// Fuzz target for every name and value parser of the /mars tree
// (kernel/core/tree, docu/mars-tree.md): garbage must give an error, never a
// crash, and every accepted text must format back to exactly itself
// (the grammars are canonical). Lines of the input also drive a Tree, whose
// order and change index are checked.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tree/log_names.h"
#include "core/tree/names.h"
#include "core/tree/text.h"
#include "core/tree/tree.h"
#include "core/tree/values.h"
#include "core/tree/version_link.h"

namespace {

using namespace mars;        // NOLINT
using namespace mars::tree;  // NOLINT

void Check(bool condition, const char* what) {
  if (!condition) {
    fprintf(stderr, "tree_values_fuzz: %s\n", what);
    abort();
  }
}

void CheckSame(const Bytes& formatted, Slice input, const char* what) {
  Check(AsSlice(formatted) == input, what);
}

void Names(Slice input) {
  const NameKind kinds[] = {NameKind::kHost, NameKind::kResource};
  for (NameKind kind : kinds) {
    NameError error;
    const Status s = ValidateName(kind, input, &error);
    Check(s.ok() == (error.problem == NameProblem::kNone),
          "name status/problem");
    if (s.ok()) {
      Check(input.size() >= 1 && input.size() <= kMaxNameChars &&
                !IsReservedName(input) && input[0] != '-',
            "name bounds");
    }
    char small[16], big[300];
    const size_t n1 =
        DescribeNameError(kind, input, error, small, sizeof(small));
    const size_t n2 = DescribeNameError(kind, input, error, big, sizeof(big));
    Check(n1 < sizeof(small) && small[n1] == '\0' && strlen(small) == n1,
          "describe small");
    Check(n2 < sizeof(big) && big[n2] == '\0' && strlen(big) == n2,
          "describe big");
  }
  HostName host;
  if (host.Assign(input).ok()) Check(host.slice() == input, "host assign");
  (void)ValidateTreePath(input);
  (void)ValidateEntryValue(input);
}

void Numbers(Slice input) {
  uint64_t value = 0;
  if (ParseDecimalU64(input, &value).ok()) {
    Bytes out;
    Check(AppendDecimalU64(value, &out).ok(), "format decimal");
    CheckSame(out, input, "decimal round trip");
  }
  if (ParseResourceSize(input, &value).ok()) {
    Check(value > 0 && value % kResourceSizeUnit == 0, "resource size range");
    Bytes out;
    Check(AppendResourceSize(value, &out).ok(), "format resource size");
    CheckSame(out, input, "resource size round trip");
  }
  bool on = false;
  if (ParseSwitch(input, &on).ok())
    Check(FormatSwitch(on) == input, "switch round trip");
  HostName primary;
  if (ParsePrimary(input, &primary).ok()) {
    Check(FormatPrimary(primary) == input, "primary round trip");
  }
  uint8_t hash[32];
  (void)ParseLowerHex(input, hash, sizeof(hash));
}

void LogNames(Slice input) {
  LogfileName name;
  if (ParseLogfileName(input, &name).ok()) {
    Bytes out;
    Check(AppendLogfileName(name, &out).ok(), "format logfile name");
    CheckSame(out, input, "logfile name round trip");
  }
  if (ParseVersionLinkName(input, &name).ok()) {
    Bytes out;
    Check(AppendVersionLinkName(name, &out).ok(), "format version link name");
    CheckSame(out, input, "version link name round trip");
  }
  ReplayLink replay;
  if (ParseReplayLink(input, &replay).ok()) {
    Check(replay.position <= UINT64_MAX - replay.dirty_length, "replay range");
    Bytes out;
    Check(AppendReplayLink(replay, &out).ok(), "format replay link");
    CheckSame(out, input, "replay link round trip");
  }
  VersionLink link;
  if (ParseVersionLink(input, &link).ok()) {
    Check(VerifyVersionLink(link).ok(), "parsed link verifies");
    Bytes out;
    Check(AppendVersionLink(link, &out).ok(), "format version link");
    CheckSame(out, input, "version link round trip");
    if (link.log.number < kMaxLogfileNumber) {
      VersionLink next;
      LogfileName next_log = link.log;
      ++next_log.number;
      Check(MakeVersionLink(&link, next_log, link.length, &next).ok(),
            "next link");
      const VersionLink chain[2] = {link, next};
      Check(VerifyVersionChain(chain, 2).ok(), "two-link chain verifies");
      ChainComparison cmp;
      Check(CompareVersionChains(chain, 1, chain, 2, &cmp).ok() &&
                cmp.relation == ChainRelation::kFirstIsPrefix,
            "prefix chain");
    }
  }
}

// Each line "path=value" (or "path" alone: a tombstone) becomes an entry
// stamped by its line number (repeated numbers: equal stamps).
void TreeOps(Slice input) {
  Tree tree(1, platform::Gfp::kKernel);
  size_t line_start = 0;
  uint64_t stamp = 1;
  for (size_t i = 0; i <= input.size(); ++i) {
    if (i < input.size() && input[i] != '\n') continue;
    const Slice line = input.SubSlice(line_start, i - line_start);
    line_start = i + 1;
    EntryView e;
    e.owner = Slice("fz", 2);
    e.stamp = stamp;
    stamp += line.size() % 3;  // some equal stamps
    Slice path, value;
    if (SplitAt(line, '=', &path, &value)) {
      e.path = path;
      e.value = value;
    } else {
      e.path = line;
      e.tombstone = true;
    }
    (void)tree.Apply(e);
  }
  for (size_t i = 1; i < tree.size(); ++i) {
    Check(tree.at(i - 1).path().Compare(tree.at(i).path()) < 0, "tree order");
  }
  Vector<const Entry*> changed;
  ChangeCursor next;
  Check(tree.CollectSince(ChangeCursor{}, SIZE_MAX, &changed, &next).ok(),
        "collect");
  Check(changed.size() == tree.size(), "collect returns every entry");
  (void)tree.PurgeTombstones(nullptr, 0);
  for (size_t i = 0; i < tree.size(); ++i)
    Check(!tree.at(i).tombstone(), "purged");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Slice input(data, size);
  Names(input);
  Numbers(input);
  LogNames(input);
  TreeOps(input);
  return 0;
}
