// A sync restart that arrives while a window is in flight (docu/replication.md
// §6): syncstatus-HOST set back, `marsadm invalidate` stopping the sync
// and setting it back, or another designated primary (a third host). The
// window's answer is held on the source: alpha's connection thread waits for
// its copies lock (LogDurability::LockCopies, held by the test as the replayer
// would) while it appends bytes of a logfile it fetches from beta, so it
// answers nothing until the test lets it go. beta's image starts with a stale
// first megabyte below its syncstatus: only a restart from the set-back
// syncstatus copies it.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/peer/node_test_util.h"

namespace mars {
namespace peer {
namespace {

constexpr uint64_t kWindow = 1u << 20;  // 16 digest blocks of 64 KiB

// Holds a host's copies lock until Release() or the end of the scope.
class CopiesHold {
 public:
  explicit CopiesHold(engine::LogDurability* copies) : copies_(copies) {
    copies_->LockCopies();
  }
  ~CopiesHold() { Release(); }
  void Release() {
    if (copies_ == nullptr) return;
    copies_->UnlockCopies();
    copies_ = nullptr;
  }

 private:
  engine::LogDurability* copies_;
};

// The offset of the first byte where `a` and `b` differ, or "none".
std::string FirstDifference(const std::string& a, const std::string& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] != b[i]) return std::to_string(i);
  }
  return a.size() == b.size() ? "none" : "at the end";
}

// r0 of 4 windows: beta synced up to 1 MiB earlier (syncstatus-beta) and
// syncs again once todo-beta/sync is 1; alpha's image differs from beta's
// zeros in every digest block. r1: beta's finished logfile, which alpha
// fetches (the bytes that hold alpha's connection thread).
class SyncRestartTest : public ResourcePairTest {
 protected:
  void SetUp() override {
    ResourcePairTest::SetUp();
    for (Host* host : {&alpha_, &beta_}) {
      host->configure = [](NodeConfig* config) {
        config->sync_window_blocks =
            static_cast<uint32_t>(kWindow / config->sync_block_bytes);
        // alpha answers nothing while held: no ping timeout meanwhile.
        config->ping_interval_ns = 600 * kNsPerSecond;
        config->ping_timeout_ns = 1200 * kNsPerSecond;
      };
    }
    // Everything beta's sync plan reads is on beta's own tree at once.
    beta_.Put("resource-r0/primary", "alpha");
    beta_.Put("resource-r0/syncstatus-beta", std::to_string(kWindow));
    beta_.Put("resource-r0/todo-beta/sync", "0");
    const std::string log = "resource-r1/log-000000001-beta";
    const std::string bytes(64u << 10, 'x');
    beta_.Put("resource-r1/primary", "beta");
    beta_.WriteFile(log, bytes);
    beta_.Put("resource-r1/version-000000001-beta",
              VersionLinkText(1, "beta", bytes.size()));
    alpha_.Put("resource-r1/primary", "beta");
    alpha_.Put("resource-r1/data-alpha", "/dev/vdb");
    alpha_.Put("resource-r1/todo-alpha/connect", "1");
    alpha_.Put("resource-r1/replay-alpha", "log-000000001-beta,0,0");
  }

  std::string BetaLink(const std::string& leaf) {
    return beta_.Get("resource-r0/" + leaf);
  }
  void SetBetaLink(const std::string& leaf, const std::string& value) {
    beta_.Put("resource-r0/" + leaf, value);
    beta_.node_.Kick();
  }
  // `n` tree passes of beta, the first of them begun after the call.
  bool BetaPasses(uint64_t n) {
    const uint64_t passes = beta_.node_.tree_passes();
    return WaitFor([&] { return beta_.node_.tree_passes() >= passes + 1 + n; });
  }

  // With alpha's copies lock held by the caller: alpha primary with every
  // digest block written, beta attached, both nodes running, alpha's
  // connection thread held and beta's request for the digests of the
  // window [1 MiB, 2 MiB) sent.
  void StartWithAWindowInFlight() {
    StartPrimary();
    for (uint64_t b = 0; b < kSize / kBlock; b += 16) {
      ASSERT_TRUE(WriteOnAlpha(b, 1).ok());
    }
    ASSERT_TRUE(WaitFor([&] { return WrittenBack(); }));
    beta_resource_ = Attach(&beta_, beta_data_);
    StartBoth();
    // beta served logfile bytes to alpha: alpha takes them, and whatever
    // arrives after them, in a round that then waits for the lock.
    ASSERT_TRUE(WaitFor([&] {
      return beta_.Peer().counters.logfile_bytes_sent > 0;
    })) << beta_.Peer().last_error;
    SetBetaLink("todo-beta/sync", "1");
    ASSERT_TRUE(WaitFor([&] {
      return beta_.Peer().counters.sync_requests_sent > 0 &&
             BetaLink("actual-beta/is-syncing") == "1";
    }));
    EXPECT_EQ(beta_.Peer().counters.sync_digests_received, 0u);
  }

  // The sync ends at the size with beta's image equal to alpha's.
  void ExpectSyncedFromTheStart() {
    const std::string size = std::to_string(kSize);
    ASSERT_TRUE(
        WaitFor([&] { return BetaLink("syncstatus-beta") == size; }, 120))
        << BetaLink("syncstatus-beta");
    const std::string alpha = ReadImage(alpha_data_);
    const std::string beta = ReadImage(beta_data_);
    EXPECT_TRUE(alpha == beta) << "beta's image differs from alpha's from byte "
                               << FirstDifference(alpha, beta);
  }
};

// syncstatus-beta is set back to 0 while the window [1 MiB, 2 MiB) is in
// flight: once that window is done the sync starts again from 0, and the
// first megabyte is copied; the window's end is not published over the 0.
TEST_F(SyncRestartTest, SyncstatusSetBackDuringAWindowRestartsFromIt) {
  CopiesHold hold(&alpha_.durability_);
  StartWithAWindowInFlight();
  if (HasFatalFailure()) return;
  SetBetaLink("syncstatus-beta", "0");
  ASSERT_TRUE(BetaPasses(3));  // each sees the restart, the window waits
  EXPECT_EQ(beta_.Peer().counters.sync_digests_received, 0u);
  hold.Release();
  ExpectSyncedFromTheStart();
}

// `marsadm invalidate` sets todo-beta/sync to 0 and waits for is-syncing
// 0 before it sets syncstatus-beta back: is-syncing stays 1 while the
// window is in flight, so the window's end cannot land over the 0.
TEST_F(SyncRestartTest, InvalidateWaitsUntilTheWindowInFlightIsDone) {
  CopiesHold hold(&alpha_.durability_);
  StartWithAWindowInFlight();
  if (HasFatalFailure()) return;
  SetBetaLink("todo-beta/sync", "0");
  ASSERT_TRUE(BetaPasses(3));
  EXPECT_EQ(BetaLink("actual-beta/is-syncing"), "1");
  EXPECT_EQ(beta_.Peer().counters.sync_digests_received, 0u);
  hold.Release();
  // The window lands and is recorded, and only then is-syncing goes to 0
  // (phase 3 of invalidate is over).
  ASSERT_TRUE(WaitFor([&] {
    return BetaLink("actual-beta/is-syncing") == "0" &&
           BetaLink("syncstatus-beta") == std::to_string(2 * kWindow);
  })) << BetaLink("actual-beta/is-syncing")
      << " " << BetaLink("syncstatus-beta");
  // The rest of invalidate: syncstatus back to 0, the sync on again.
  SetBetaLink("syncstatus-beta", "0");
  SetBetaLink("todo-beta/sync", "1");
  ExpectSyncedFromTheStart();
}

// The digests of the windows after the first are asked for before the
// first window's reply arrives (sync_windows: 3 by default), so that the
// source computes them while the blocks of the first are on their way:
// with alpha held, beta has asked for the three windows [1 MiB, 4 MiB) and
// nothing more (one before 2026-12-05). Released, the sync ends at the size.
using SyncPipelineTest = SyncRestartTest;
TEST_F(SyncPipelineTest, DigestsOfTheNextWindowsAreAskedForAhead) {
  CopiesHold hold(&alpha_.durability_);
  StartWithAWindowInFlight();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(WaitFor([&] {
    return beta_.Peer().counters.sync_requests_sent == 3;
  })) << beta_.Peer().counters.sync_requests_sent;
  ASSERT_TRUE(BetaPasses(3));
  EXPECT_EQ(beta_.Peer().counters.sync_requests_sent, 3u);
  EXPECT_EQ(beta_.Peer().counters.sync_digests_received, 0u);
  hold.Release();
  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] { return BetaLink("syncstatus-beta") == size; }))
      << BetaLink("syncstatus-beta");
  // The first megabyte lies below syncstatus-beta: not synced again.
  const std::string alpha = ReadImage(alpha_data_);
  const std::string beta = ReadImage(beta_data_);
  EXPECT_EQ(alpha.substr(kWindow), beta.substr(kWindow));
}

// beta's node stops (a reboot, rmmod) while its three windows are in
// flight and alpha has answered none of them; alpha's answers then go to a
// closed connection. Started again, beta syncs from its syncstatus (1 MiB)
// to the size.
TEST_F(SyncPipelineTest, NodeRestartWithWindowsInFlightResumesFromSyncstatus) {
  CopiesHold hold(&alpha_.durability_);
  StartWithAWindowInFlight();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(
      WaitFor([&] { return beta_.Peer().counters.sync_requests_sent == 3; }));
  beta_.node_.Stop();
  hold.Release();
  EXPECT_EQ(BetaLink("syncstatus-beta"), std::to_string(kWindow));
  ASSERT_TRUE(beta_.Start(port_).ok());
  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] { return BetaLink("syncstatus-beta") == size; }))
      << BetaLink("syncstatus-beta") << " " << beta_.Peer().last_error;
  const std::string alpha = ReadImage(alpha_data_);
  const std::string beta = ReadImage(beta_data_);
  EXPECT_EQ(alpha.substr(kWindow), beta.substr(kWindow));
}

// A third host, gamma (127.0.0.3), the actual primary of its own r0 with an
// image that differs from alpha's in every digest block; it joins the
// cluster and becomes the designated primary while beta's window from alpha
// is in flight.
class SyncSourceChangeTest : public SyncRestartTest {
 protected:
  void TearDown() override {
    gamma_.node_.Stop();
    SyncRestartTest::TearDown();
    if (gamma_resource_ != nullptr) {
      engine::ErrorText why;
      EXPECT_TRUE(engine::kResourceHooks.detach(gamma_resource_, &why).ok())
          << why.text;
      engine::kResourceHooks.destroy(gamma_resource_);
    }
  }

  // gamma's r0 attached and primary (as /dev/mars/r0-gamma: this process
  // has alpha's r0 already), its node running on the cluster's port.
  void StartGamma() {
    gamma_data_ = gamma_.root_ + "/data.img";
    std::ofstream(gamma_data_).close();
    ASSERT_EQ(truncate(gamma_data_.c_str(), kSize), 0);
    for (uint64_t b = 0; b < kSize / kBlock; b += 16) {
      WriteImageBlock(gamma_data_, b, TestBlock(b, 5));
    }
    gamma_.WriteSecret(kSecret);
    for (Host* host : {&alpha_, &beta_, &gamma_}) {
      host->Put("ips/ip-gamma", "127.0.0.3");
    }
    gamma_.Put("ips/ip-alpha", "127.0.0.1");
    gamma_.Put("resource-r0/size", std::to_string(kSize));
    gamma_.Put("resource-r0/data-gamma", gamma_data_);
    gamma_.Put("resource-r0/syncstatus-gamma", std::to_string(kSize));
    gamma_.Put("resource-r0/replay-gamma", "log-000000001-gamma,0,0");
    gamma_.WriteFile("resource-r0/log-000000001-gamma", "");
    gamma_resource_ = Attach(&gamma_, gamma_data_);
    engine::ErrorText why;
    ASSERT_TRUE(
        engine::kResourceHooks.start_primary(gamma_resource_, "r0-gamma", &why)
            .ok())
        << why.text;
    ASSERT_TRUE(gamma_.Start(port_).ok());
    alpha_.node_.Kick();
    beta_.node_.Kick();
  }

  Host gamma_{"gamma", "127.0.0.3"};
  std::string gamma_data_;
  void* gamma_resource_ = nullptr;
};

// primary becomes gamma while beta's window [1 MiB, 2 MiB) from alpha is in
// flight: that window is finished but counts for nothing, and the sync
// starts again at syncstatus-beta (1 MiB) from gamma, with a bound in
// gamma's log. beta ends with gamma's data from 1 MiB on (the window alpha
// answered is compared with gamma's and copied again) and keeps what it
// synced before below it.
TEST_F(SyncSourceChangeTest, AnotherPrimaryRestartsFromSyncstatus) {
  CopiesHold hold(&alpha_.durability_);
  StartWithAWindowInFlight();
  if (HasFatalFailure()) return;
  const std::string below = ReadImage(beta_data_).substr(0, kWindow);
  StartGamma();
  if (HasFatalFailure()) return;
  SetBetaLink("primary", "gamma");
  ASSERT_TRUE(BetaPasses(3));  // each sees the restart, the window waits
  EXPECT_EQ(BetaLink("syncstatus-beta"), std::to_string(kWindow));
  hold.Release();

  const std::string size = std::to_string(kSize);
  ASSERT_TRUE(WaitFor([&] { return BetaLink("syncstatus-beta") == size; }, 120))
      << BetaLink("syncstatus-beta");
  const std::string gamma = ReadImage(gamma_data_);
  const std::string beta = ReadImage(beta_data_);
  ASSERT_EQ(beta.size(), kSize);
  EXPECT_EQ(beta.substr(0, kWindow), below);
  EXPECT_TRUE(beta.substr(kWindow) == gamma.substr(kWindow))
      << "beta's image differs from gamma's from byte "
      << FirstDifference(beta.substr(kWindow), gamma.substr(kWindow))
      << " after 1 MiB";
  const std::string syncpos = BetaLink("syncpos-beta");
  EXPECT_EQ(syncpos.rfind("log-000000001-gamma,", 0), 0u) << syncpos;
}

}  // namespace
}  // namespace peer
}  // namespace mars
