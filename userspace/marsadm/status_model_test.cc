#include "status_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "status_test_util.h"
#include "status_text.h"

namespace mars::cli {
namespace {

using testing::kSecond;
using testing::kSize;
using testing::StatusTree;

constexpr char kR[] = "resource-r0/";

std::string R(const std::string& name) { return kR + name; }

using StatusModelTest = StatusTree;

TEST_F(StatusModelTest, HealthySecondary) {
  Healthy();
  const ResourceStatus status = Compute();
  const HostStatus& b = status.Host("hostB");
  EXPECT_TRUE(b.is_local);
  EXPECT_TRUE(b.member);
  EXPECT_EQ(b.role, Role::kSecondary);
  EXPECT_EQ(b.disk_state, DiskState::kUpToDate);
  EXPECT_EQ(b.repl_state, ReplState::kReplaying);
  EXPECT_EQ(b.flags, "dCASFR");
  EXPECT_TRUE(b.consistent);
  EXPECT_EQ(b.orphan, false);
  EXPECT_EQ(b.fetch.rest_bytes, 0u);
  EXPECT_EQ(b.replay.rest_bytes, 0u);
  EXPECT_EQ(b.behind_bytes, 0u);
  EXPECT_EQ(b.replay.lag_seconds, 0.0);
  EXPECT_EQ(b.sync.percent, 100.0);
  EXPECT_TRUE(b.sync.reached);
  EXPECT_EQ(status.comm_state, CommState::kConnected);
  EXPECT_EQ(status.designated_primary, "hostA");
  EXPECT_EQ(status.actual_primaries, std::vector<std::string>{"hostA"});
  EXPECT_FALSE(status.split_brain);
  EXPECT_EQ(status.hosts.size(), 2u);
  EXPECT_TRUE(status.messages.empty()) << status.messages[0].text;
  // The peer: what the replicated links show, local-only fields unknown.
  const HostStatus& a = status.Host("hostA");
  EXPECT_FALSE(a.is_local);
  EXPECT_EQ(a.role, Role::kPrimary);
  EXPECT_EQ(a.repl_state, ReplState::kReplicating);
  EXPECT_EQ(a.fetch.rest_bytes, std::nullopt);
  EXPECT_EQ(a.orphan, std::nullopt);
}

TEST_F(StatusModelTest, HealthyPrimary) {
  Healthy();
  const HostStatus a = Local("hostA");
  EXPECT_EQ(a.role, Role::kPrimary);
  EXPECT_EQ(a.disk_state, DiskState::kUpToDate);
  EXPECT_EQ(a.repl_state, ReplState::kReplicating);
  EXPECT_EQ(a.flags, "DCASFR");
}

// ---- roles -----------------------------------------------------------------

TEST_F(StatusModelTest, RoleNoneForNonMember) {
  Healthy();
  EXPECT_EQ(Local("hostC").role, Role::kNone);
  EXPECT_EQ(Local("hostC").flags, "------");
}

TEST_F(StatusModelTest, RoleNotYetPrimary) {
  Healthy();
  Set(R("actual-hostA/is-primary"), "0");
  EXPECT_EQ(Local("hostA").role, Role::kNotYetPrimary);
  EXPECT_EQ(Local("hostA").repl_state, ReplState::kNotYetPrimary);
}

TEST_F(StatusModelTest, RoleForcedPrimaryWhenTwoDevicesAreUp) {
  Healthy();
  Set(R("actual-hostB/is-primary"), "1");
  const ResourceStatus status = Compute("hostA");
  EXPECT_EQ(status.Host("hostA").role, Role::kForcedPrimary);
  EXPECT_EQ(status.Host("hostB").role, Role::kRemainsPrimary);
  EXPECT_EQ(status.actual_primaries.size(), 2u);
}

// ---- disk states
// -------------------------------------------------------------

TEST_F(StatusModelTest, DiskError) {
  Healthy();
  Set(R("actual-hostB/disk-error"), "-5");
  EXPECT_EQ(Local().disk_state, DiskState::kDiskError);
}

TEST_F(StatusModelTest, NotJoined) {
  Healthy();
  Set("actual-hostC/time", "1");
  const HostStatus c = Local("hostC");
  EXPECT_EQ(c.disk_state, DiskState::kNotJoined);
  EXPECT_EQ(c.repl_state, ReplState::kNotJoined);
  EXPECT_FALSE(c.member);
}

TEST_F(StatusModelTest, NotPresentWhenTheLocalDiskIsGone) {
  Healthy();
  ASSERT_EQ(unlink(disk_.c_str()), 0);
  const HostStatus b = Local();
  EXPECT_EQ(b.disk_state, DiskState::kNotPresent);
  EXPECT_EQ(b.role, Role::kNone);
  EXPECT_EQ(b.flags[0], '-');
}

TEST_F(StatusModelTest, DetachingAndDetached) {
  Healthy();
  Set(R("todo-hostB/attach"), "0");
  EXPECT_EQ(Local().disk_state, DiskState::kDetaching);
  EXPECT_EQ(Local().repl_state, ReplState::kNotStarted);
  EXPECT_EQ(Local().flags, "dCaSFR");
  Set(R("actual-hostB/is-attached"), "0");
  EXPECT_EQ(Local().disk_state, DiskState::kDetached);
  EXPECT_EQ(Local().flags, "dC-SFR");
}

TEST_F(StatusModelTest, DefectiveLog) {
  Healthy();
  Set(R("actual-hostB/replay-code"), "-74");
  EXPECT_EQ(Local().disk_state, DiskState::kDefectiveLog);
  EXPECT_EQ(Local().actual.replay_code, -74);
}

TEST_F(StatusModelTest, OrphanWhenTheLogfileIsShorterThanThePosition) {
  Healthy();
  Set(R("replay-hostB"), "log-000000001-hostA,8192,0");
  const HostStatus b = Local();
  EXPECT_EQ(b.orphan, true);
  EXPECT_EQ(b.disk_state, DiskState::kOrphan);
  EXPECT_EQ(b.repl_state, ReplState::kOrphan);
}

TEST_F(StatusModelTest, OrphanWhenTheLogfileToReplayIsGone) {
  Healthy();
  Set(R("replay-hostB"), "log-000000001-hostA,0,0");
  ASSERT_EQ(unlink((root_ + "/" + R("log-000000001-hostA")).c_str()), 0);
  Logfile(R("log-000000002-hostA"), 100);
  EXPECT_EQ(Local().disk_state, DiskState::kOrphan);
}

TEST_F(StatusModelTest, NotOrphanBeforeTheFirstFetch) {
  Healthy();
  ASSERT_EQ(unlink((root_ + "/" + R("log-000000001-hostA")).c_str()), 0);
  Set(R("replay-hostB"), "log-000000001-hostA,0,0");
  const HostStatus b = Local();
  EXPECT_EQ(b.orphan, false);
  EXPECT_EQ(b.disk_state, DiskState::kOutDated);
  EXPECT_EQ(DiskStateToken(b), "OutDated[F]");
}

TEST_F(StatusModelTest, NoAttach) {
  Healthy();
  Set(R("actual-hostB/is-attached"), "0");
  EXPECT_EQ(Local().disk_state, DiskState::kNoAttach);
  EXPECT_EQ(Local().flags, "dCaSFR");
}

TEST_F(StatusModelTest, InConsistentWhileSyncing) {
  Healthy();
  Set(R("syncstatus-hostB"), std::to_string(kSize / 4));
  Set(R("actual-hostB/is-syncing"), "1");
  const HostStatus b = Local();
  EXPECT_EQ(b.disk_state, DiskState::kInConsistent);
  EXPECT_EQ(b.repl_state, ReplState::kSyncing);
  EXPECT_EQ(b.flags, "dcAsFR");
  EXPECT_EQ(b.sync.rest_bytes, kSize - kSize / 4);
  EXPECT_EQ(b.sync.percent, 25.0);
  EXPECT_FALSE(b.sync.reached);
}

TEST_F(StatusModelTest, InConsistentUntilReplayPassesSyncpos) {
  Healthy();
  Set(R("syncpos-hostB"), "log-000000001-hostA,4096,0");
  EXPECT_TRUE(Local().consistent);
  Set(R("syncpos-hostB"), "log-000000002-hostA,0,0");
  EXPECT_FALSE(Local().consistent);
  EXPECT_EQ(Local().disk_state, DiskState::kInConsistent);
}

TEST_F(StatusModelTest, WriteBackOnThePrimaryWithDirtyData) {
  Healthy();
  Set(R("replay-hostA"), "log-000000001-hostA,4096,512");
  Logfile(R("log-000000001-hostA"), 4608);
  const HostStatus a = Local("hostA");
  EXPECT_FALSE(a.consistent);
  EXPECT_EQ(a.disk_state, DiskState::kWriteBack);
}

TEST_F(StatusModelTest, RecoveryOnTheDesignatedPrimaryBeforeItsDeviceIsUp) {
  Healthy();
  Set(R("actual-hostA/is-primary"), "0");
  Set(R("replay-hostA"), "log-000000001-hostA,0,0");
  EXPECT_EQ(Local("hostA").disk_state, DiskState::kRecovery);
}

TEST_F(StatusModelTest, OutDatedReplayAndFetch) {
  Healthy();
  Logfile(R("log-000000001-hostA"), 8192);  // fetched, not replayed
  HostStatus b = Local();
  EXPECT_EQ(b.disk_state, DiskState::kOutDated);
  EXPECT_EQ(DiskStateToken(b), "OutDated[R]");
  EXPECT_EQ(b.replay.rest_bytes, 4096u);
  EXPECT_EQ(b.fetch.rest_bytes, 0u);
  EXPECT_EQ(b.flags, "dCASFr");
  Set(R("replay-hostA"), "log-000000001-hostA,12288,0");  // primary ahead
  b = Local();
  EXPECT_EQ(DiskStateToken(b), "OutDated[FR]");
  EXPECT_EQ(b.fetch.rest_bytes, 4096u);
  EXPECT_EQ(b.behind_bytes, 8192u);
  EXPECT_EQ(b.flags, "dCASfr");
}

TEST_F(StatusModelTest, EmergencyModeOfThePrimary) {
  Healthy();
  Set(R("actual-hostA/is-emergency"), "1");
  EXPECT_EQ(Local().disk_state, DiskState::kEmergencyMode);
  EXPECT_EQ(Local("hostA").repl_state, ReplState::kEmergencyMode);
}

// ---- replication states
// ------------------------------------------------------

TEST_F(StatusModelTest, ModuleNotLoaded) {
  Healthy();
  StatusOptions options = Options();
  options.module_loaded = false;
  const ResourceStatus status =
      ComputeResourceStatus(TreeDir(root_), "r0", options);
  EXPECT_EQ(status.Host("hostB").repl_state, ReplState::kModuleNotLoaded);
  // Peers are judged by their heartbeat, not by this host's module.
  EXPECT_EQ(status.Host("hostA").repl_state, ReplState::kReplicating);
}

TEST_F(StatusModelTest, UnResponsiveWithoutFreshHeartbeat) {
  Healthy();
  SetAged("actual-hostB/time", "1", 120);
  const HostStatus b = Local();
  EXPECT_EQ(b.repl_state, ReplState::kUnResponsive);
  EXPECT_FALSE(b.alive);
  ASSERT_TRUE(b.heartbeat_age_seconds);
  EXPECT_GE(*b.heartbeat_age_seconds, 119.0);
}

TEST_F(StatusModelTest, PausedSync) {
  Healthy();
  Set(R("syncstatus-hostB"), "0");
  Set(R("todo-hostB/sync"), "0");
  EXPECT_EQ(Local().repl_state, ReplState::kPausedSync);
  EXPECT_EQ(Local().flags, "dcA-FR");
}

TEST_F(StatusModelTest, PausedFetchAndPausedReplay) {
  Healthy();
  Set(R("todo-hostB/connect"), "0");
  EXPECT_EQ(Local().repl_state, ReplState::kPausedFetch);
  Set(R("todo-hostB/connect"), "1");
  Set(R("todo-hostB/allow-replay"), "0");
  EXPECT_EQ(Local().repl_state, ReplState::kPausedReplay);
}

TEST_F(StatusModelTest, NoPrimaryDesignated) {
  Healthy();
  Set(R("primary"), "(none)");
  const ResourceStatus status = Compute();
  EXPECT_EQ(status.Host("hostB").repl_state, ReplState::kNoPrimaryDesignated);
  EXPECT_EQ(status.designated_primary, std::nullopt);
  EXPECT_EQ(PrimaryNodeToken(status), "(none)");
  // hostA still has its device up without being designated.
  EXPECT_EQ(status.Host("hostA").role, Role::kRemainsPrimary);
}

TEST_F(StatusModelTest, PrimaryUnreachable) {
  Healthy();
  SetAged("actual-hostA/time", "1", 300);
  const ResourceStatus status = Compute();
  EXPECT_EQ(status.Host("hostB").repl_state, ReplState::kPrimaryUnreachable);
  EXPECT_EQ(status.comm_state, CommState::kUnreachable);
  EXPECT_EQ(CommStateToken(status), "Unreachable[hostA]");
}

// ---- communication
// -----------------------------------------------------------

TEST_F(StatusModelTest, AloneWithoutOtherMembers) {
  Healthy();
  Delete(R("data-hostB"));
  const ResourceStatus status = Compute("hostA");
  EXPECT_EQ(status.comm_state, CommState::kAlone);
  EXPECT_EQ(status.hosts.size(), 1u);
}

TEST_F(StatusModelTest, PrimarySeesUnreachableSecondaries) {
  Healthy();
  SetAged("actual-hostB/time", "1", 61);
  EXPECT_EQ(CommStateToken(Compute("hostA")), "Unreachable[hostB]");
}

// ---- positions, lags, rates
// --------------------------------------------------

TEST_F(StatusModelTest, PositionsAcrossLogfiles) {
  Healthy();
  std::vector<tree::VersionLink> chain;
  Set(R("version-000000001-hostA"), VersionValue(&chain, 1, "hostA", 4096));
  Logfile(R("log-000000002-hostA"), 1000);  // fetched part of log 2
  Set(R("replay-hostA"), "log-000000002-hostA,3000,0");
  Set(R("replay-hostB"), "log-000000001-hostA,1000,0");
  const ResourceStatus status = Compute();
  const HostStatus& b = status.Host("hostB");
  EXPECT_EQ(b.replay.rest_bytes, 3096u + 1000u);
  EXPECT_EQ(b.fetch.rest_bytes, 2000u);
  EXPECT_EQ(b.behind_bytes, 4096u + 3000u - 1000u);
  EXPECT_EQ(b.replay.history_position_bytes, 1000u);
  EXPECT_EQ(b.fetch.history_position_bytes, 5096u);
  ASSERT_TRUE(b.fetch.place);
  EXPECT_EQ(b.fetch.place->logfile, "log-000000002-hostA");
  EXPECT_EQ(b.fetch.place->position, 1000u);
  ASSERT_TRUE(b.replay.place);
  EXPECT_EQ(b.replay.place->number, 1u);
  // The primary: its replay position is 4096 bytes of log 1 further on.
  const HostStatus& a = status.Host("hostA");
  EXPECT_EQ(a.replay.history_position_bytes, 4096u + 3000u);
  EXPECT_EQ(a.replay.lag_seconds, 0.0);
}

TEST_F(StatusModelTest, LagsFromLinkStamps) {
  Healthy();
  Logfile(R("log-000000001-hostA"), 8192);
  SetStamp(R("log-000000001-hostA"), now_ - 20 * kSecond);
  Set(R("replay-hostA"), "log-000000001-hostA,12288,0");
  SetAged(R("replay-hostB"), "log-000000001-hostA,4096,0", 30);
  const HostStatus b = Local();
  ASSERT_TRUE(b.replay.lag_seconds);
  EXPECT_NEAR(*b.replay.lag_seconds, 30.0, 2.0);
  ASSERT_TRUE(b.fetch.lag_seconds);
  EXPECT_NEAR(*b.fetch.lag_seconds, 20.0, 2.0);
}

// The primary's view of a secondary that publishes its fetch position:
// place, positions, rest and lag from the link, OutDated[F] as it is.
TEST_F(StatusModelTest, PeerFetchFromItsFetchPosLink) {
  Healthy();
  std::vector<tree::VersionLink> chain;
  Set(R("version-000000001-hostA"), VersionValue(&chain, 1, "hostA", 4096));
  Logfile(R("log-000000002-hostA"), 3000);  // the primary's current log
  Set(R("replay-hostA"), "log-000000002-hostA,3000,0");
  SetAged(R("actual-hostB/fetch-pos"), "log-000000002-hostA,1000", 20);
  ResourceStatus status = Compute("hostA");
  HostStatus b = status.Host("hostB");
  ASSERT_TRUE(b.fetch.place);
  EXPECT_EQ(b.fetch.place->logfile, "log-000000002-hostA");
  EXPECT_EQ(b.fetch.place->number, 2u);
  EXPECT_EQ(b.fetch.place->origin, "hostA");
  EXPECT_EQ(b.fetch.place->position, 1000u);
  EXPECT_EQ(b.fetch.history_position_bytes, 4096u + 1000u);
  EXPECT_EQ(b.fetch.rest_bytes, 2000u);
  EXPECT_FALSE(b.fetch.reached);
  ASSERT_TRUE(b.fetch.lag_seconds);
  EXPECT_NEAR(*b.fetch.lag_seconds, 20.0, 2.0);
  EXPECT_EQ(DiskStateToken(b), "OutDated[FR]");
  EXPECT_EQ(b.flags, "dCASfr");
  EXPECT_EQ(b.behind_bytes, 3000u);
  EXPECT_TRUE(status.messages.empty()) << status.messages[0].text;
  // The fetch-rate link gives the ETA of the rest.
  Set(R("actual-hostB/fetch-rate"), "1000");
  b = Compute("hostA").Host("hostB");
  EXPECT_EQ(b.fetch.speed.eta_seconds, 2u);

  // It has everything: reached, no lag; only the replay is behind.
  Set(R("actual-hostB/fetch-pos"), "log-000000002-hostA,3000");
  b = Compute("hostA").Host("hostB");
  EXPECT_EQ(b.fetch.rest_bytes, 0u);
  EXPECT_TRUE(b.fetch.reached);
  EXPECT_EQ(b.fetch.lag_seconds, 0.0);
  EXPECT_EQ(DiskStateToken(b), "OutDated[R]");
}

// A peer's fetch position is evidence of the logfile's length: the local
// host's fetch rest counts the bytes it has not got yet.
TEST_F(StatusModelTest, PeerFetchPositionIsEvidenceOfTheLogLength) {
  Healthy();
  Set(R("actual-hostA/is-primary"), "0");
  Set(R("primary"), "(none)");
  Set(R("actual-hostC/fetch-pos"), "log-000000001-hostA,6000");
  Set(R("data-hostC"), "/dev/vdc");
  const ResourceStatus status = Compute();
  EXPECT_EQ(status.Host("hostB").fetch.rest_bytes, 6000u - 4096u);
  const HostStatus& c = status.Host("hostC");
  EXPECT_EQ(c.fetch.rest_bytes, 0u);
  EXPECT_TRUE(c.fetch.reached);
  EXPECT_EQ(c.fetch.lag_seconds, 0.0);  // nothing to fetch: no lag
}

TEST_F(StatusModelTest, PeerFetchUnknownWithoutAUsableLink) {
  Healthy();
  // The reference host writes the log: its own link says nothing.
  Set(R("actual-hostA/fetch-pos"), "log-000000001-hostA,100");
  EXPECT_EQ(Compute().Host("hostA").fetch.place, std::nullopt);
  // Behind the replay link: left from an earlier fetch.
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,100");
  HostStatus b = Compute("hostA").Host("hostB");
  EXPECT_EQ(b.fetch.rest_bytes, std::nullopt);
  EXPECT_TRUE(b.fetch.reached);  // as its replay: everything known
  // Unparsable: reported, and the fetch stays unknown.
  Set(R("replay-hostA"), "log-000000001-hostA,8192,0");
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,100,0");
  const ResourceStatus status = Compute("hostA");
  b = status.Host("hostB");
  EXPECT_EQ(b.fetch.place, std::nullopt);
  EXPECT_EQ(b.fetch.rest_bytes, std::nullopt);
  EXPECT_FALSE(b.fetch.reached);  // as its replay
  ASSERT_EQ(status.messages.size(), 1u);
  EXPECT_EQ(status.messages[0].key, "bad-link");
  EXPECT_EQ(status.messages[0].host, "hostB");
  EXPECT_NE(status.messages[0].text.find("actual-hostB/fetch-pos"),
            std::string::npos);
}

// The local host measures its own logfiles; its own link does not count.
TEST_F(StatusModelTest, LocalFetchMeasuredEvenWithItsOwnLink) {
  Healthy();
  Set(R("actual-hostB/fetch-pos"), "log-000000001-hostA,1000");
  const HostStatus b = Local();
  ASSERT_TRUE(b.fetch.place);
  EXPECT_EQ(b.fetch.place->position, 4096u);
  EXPECT_EQ(b.fetch.rest_bytes, 0u);
  EXPECT_TRUE(b.fetch.reached);
}

TEST_F(StatusModelTest, LagsUnknownWithoutReference) {
  Healthy();
  Set(R("primary"), "(none)");
  Set(R("actual-hostA/is-primary"), "0");
  Logfile(R("log-000000001-hostA"), 8192);
  const HostStatus b = Local();
  EXPECT_EQ(b.replay.lag_seconds, std::nullopt);
  EXPECT_EQ(b.fetch.lag_seconds, std::nullopt);
}

TEST_F(StatusModelTest, RatesFromModuleLinks) {
  Healthy();
  Set(R("syncstatus-hostB"), std::to_string(kSize - 3000));
  Set(R("actual-hostB/sync-rate"), "1000");
  const HostStatus b = Local();
  EXPECT_EQ(b.sync.speed.rate_bytes_per_second, 1000.0);
  EXPECT_EQ(b.sync.speed.eta_seconds, 3u);
  // No rate published: unknown, never invented.
  EXPECT_EQ(b.replay.speed.rate_bytes_per_second, std::nullopt);
  EXPECT_EQ(b.replay.speed.eta_seconds, 0u);  // nothing left
}

TEST_F(StatusModelTest, RatesFromTwoObservations) {
  Healthy();
  Set(R("syncstatus-hostB"), "0");
  ClusterStatus first = ComputeClusterStatus(TreeDir(root_), {"r0"}, Options());
  Set(R("syncstatus-hostB"), std::to_string(kSize / 2));
  StatusOptions later_options = Options();
  later_options.now_ns = first.observed_at_ns + 4 * kSecond;
  ClusterStatus second =
      ComputeClusterStatus(TreeDir(root_), {"r0"}, later_options);
  EXPECT_EQ(second.resources[0].Host("hostB").sync.speed.eta_seconds,
            std::nullopt);
  ApplySample(first, second);
  const HostStatus& b = second.resources[0].Host("hostB");
  EXPECT_EQ(b.sync.speed.rate_bytes_per_second, kSize / 2 / 4.0);
  EXPECT_EQ(b.sync.speed.eta_seconds, 4u);
}

TEST(EtaSecondsTest, RoundsUpAndNeverInvents) {
  EXPECT_EQ(EtaSeconds(0, std::nullopt), 0u);
  EXPECT_EQ(EtaSeconds(10, std::nullopt), std::nullopt);
  EXPECT_EQ(EtaSeconds(10, 0.0), std::nullopt);
  EXPECT_EQ(EtaSeconds(10, 3.0), 4u);
}

// ---- split brain and messages
// --------------------------------------------------

TEST_F(StatusModelTest, SplitBrainWhenVersionChainsDiverge) {
  Healthy();
  std::vector<tree::VersionLink> a;
  std::vector<tree::VersionLink> b;
  Set(R("version-000000001-hostA"), VersionValue(&a, 1, "hostA", 4096));
  Set(R("version-000000001-hostB"), VersionValue(&b, 1, "hostA", 4096));
  Set(R("version-000000002-hostA"), VersionValue(&a, 2, "hostA", 100));
  EXPECT_FALSE(Compute().split_brain);  // hostB's history is a prefix
  Set(R("version-000000002-hostB"), VersionValue(&b, 2, "hostB", 200));
  const ResourceStatus status = Compute();
  EXPECT_TRUE(status.split_brain);
  EXPECT_EQ(status.split_brain_hosts,
            (std::vector<std::string>{"hostA", "hostB"}));
}

TEST_F(StatusModelTest, MessagesFromModuleAndProblemsFound) {
  Healthy();
  Set(R("actual-hostB/msg-err-replay-stopped"), "replay stopped at 4096");
  Set(R("actual-hostA/msg-inf-fetch"), "fetching");
  Set(R("todo-hostB/connect"), "yes");
  const ResourceStatus status = Compute();
  ASSERT_EQ(status.messages.size(), 3u);
  EXPECT_EQ(status.messages[0].host, "hostA");
  EXPECT_EQ(status.messages[0].severity, Severity::kInfo);
  EXPECT_EQ(status.messages[1].key, "err-replay-stopped");
  EXPECT_EQ(status.messages[1].severity, Severity::kError);
  EXPECT_EQ(status.messages[1].source, MessageSource::kModule);
  EXPECT_EQ(status.messages[1].text, "replay stopped at 4096");
  EXPECT_NE(status.messages[1].stamp_ns, 0u);
  EXPECT_EQ(status.messages[2].source, MessageSource::kMarsadm);
  EXPECT_EQ(status.messages[2].key, "bad-link");
  // The bad switch reads as off.
  EXPECT_EQ(status.Host("hostB").repl_state, ReplState::kPausedFetch);
}

TEST_F(StatusModelTest, ClusterPart) {
  Healthy();
  Set("actual-hostA/msg-wrn-space-low", "5 GiB left");
  const ClusterStatus status =
      ComputeClusterStatus(TreeDir(root_), {"r0"}, Options());
  EXPECT_EQ(status.uuid, "cluster-1");
  ASSERT_EQ(status.hosts.size(), 3u);
  EXPECT_EQ(status.hosts[2].name, "hostC");
  EXPECT_EQ(status.hosts[2].ip, "10.0.0.3");
  EXPECT_FALSE(status.hosts[2].alive);
  EXPECT_TRUE(status.hosts[0].alive);
  ASSERT_EQ(status.messages.size(), 1u);
  EXPECT_EQ(status.messages[0].severity, Severity::kWarning);
  ASSERT_EQ(status.resources.size(), 1u);
}

}  // namespace
}  // namespace mars::cli
