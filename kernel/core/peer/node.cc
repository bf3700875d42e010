// Node: tree replication between the members of a cluster
// (docu/replication.md §2).
#include "core/peer/node.h"

#include "core/base/memory.h"
#include "core/peer/ip_address.h"
#include "core/peer/node_internal.h"
#include "core/platform_io.h"
#include "core/tree/entry.h"
#include "core/wire/hello.h"

namespace mars {
namespace peer {
namespace {

constexpr char kSecretFile[] = "/secret";
constexpr char kUuidPath[] = "uuid";
constexpr char kIpsPrefix[] = "ips/ip-";
constexpr char kModuleVersion[] = "mars";
constexpr size_t kReceiveBytes = 64u << 10;
// A payload rest at least this large is received in place
// (Session::ReceiveSpace()); smaller ones come with the next frames.
constexpr size_t kDirectReceiveMinBytes = 4u << 10;
// A blocked receive wakes at least this often to run the session's timers.
constexpr uint64_t kMaxReceiveWaitNs = kNsPerSecond / 5;
constexpr uint64_t kMinReceiveWaitNs = kNsPerSecond / 100;
constexpr uint64_t kSendTimeoutNs = 30 * kNsPerSecond;
constexpr uint64_t kAcceptWaitNs = kNsPerSecond;
// Least time between two accepts after a failed one.
constexpr uint64_t kAcceptRetryNs = kNsPerSecond / 10;
constexpr uint64_t kPurgeIntervalNs = 60 * kNsPerSecond;
constexpr int kListenBacklog = 16;
constexpr uint64_t kFailureLogIntervalNs = 60 * kNsPerSecond;
// Why the second of two sessions with the same peer is closed.
constexpr char kDuplicate[] = "duplicate connection";
constexpr size_t kSecretTextBytes = 2 * wire::kMaxSecretSize + 2;

int HexDigit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void CopyText(char* out, size_t capacity, const char* text) {
  size_t i = 0;
  for (; text[i] != '\0' && i + 1 < capacity; ++i) out[i] = text[i];
  out[i] = '\0';
}

// Sends `out` in order: its bytes with each ref's data spliced in after
// bytes [0, ref.at), gathered up to kPiecesPerSend pieces per call.
Status SendPieces(platform::Socket* socket, const OutputPieces& out,
                  uint64_t timeout_ns) {
  constexpr size_t kPiecesPerSend = 16;
  platform::SendPiece pieces[kPiecesPerSend];
  size_t n = 0;
  size_t from = 0;
  auto add = [&](const void* data, size_t size) -> Status {
    if (size == 0) return Status::Ok();
    if (n == kPiecesPerSend) {
      const Status s = socket->SendAll(pieces, n, timeout_ns);
      if (!s.ok()) return s;
      n = 0;
    }
    pieces[n++] = platform::SendPiece{data, size};
    return Status::Ok();
  };
  for (const OutputRef& ref : out.refs) {
    Status s = add(out.bytes.data() + from, ref.at - from);
    if (s.ok()) s = add(ref.data.data(), ref.data.size());
    if (!s.ok()) return s;
    from = ref.at;
  }
  const Status s = add(out.bytes.data() + from, out.bytes.size() - from);
  if (!s.ok()) return s;
  return socket->SendAll(pieces, n, timeout_ns);
}

}  // namespace

Node::~Node() { Stop(); }

Status Node::Start(const NodeConfig& config) {
  if (started_)
    return Status(StatusCode::kInvalidArgument, "node started twice");
  if (config.root == nullptr || config.clock == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  "node needs a root and a clock");
  }
  Status s = host_.Assign(config.host);
  if (!s.ok()) return s;
  config_ = config;
  config_.host = host_.slice();
  if (!initialized_) {
    s = lock_.Init(platform::LockClass::kPeer, platform::Gfp::kKernel);
    if (s.ok()) {
      s = tree_wq_.Init(platform::LockClass::kPeer, platform::Gfp::kKernel);
    }
    if (!s.ok()) return s;
    initialized_ = true;
  }
  stopping_ = false;
  tree_ = New<tree::Tree>(platform::Gfp::kKernel, config.clock->Now(),
                          platform::Gfp::kKernel);
  mirror_ = New<TreeMirror>(platform::Gfp::kKernel, tree_, config.clock,
                            platform::Gfp::kKernel);
  secret_buffer_ = static_cast<char*>(platform::Allocate(
      __builtin_strlen(config.root) + sizeof(kSecretFile) + kSecretTextBytes,
      platform::Gfp::kKernel));
  if (tree_ == nullptr || mirror_ == nullptr || secret_buffer_ == nullptr) {
    Stop();
    return Status(StatusCode::kNoMemory, "no memory for the tree");
  }
  s = mirror_->Init(config.root, host_.slice());
  if (!s.ok()) {
    Stop();
    return s;
  }
  // The first scan (a missing /mars is reported by the tree thread, which
  // retries: /mars may be mounted after the module is loaded).
  MirrorStats stats;
  s = mirror_->Scan(&stats);
  (void)s.ok();
  // The secret before the listener: a connection accepted without one is
  // dropped (ListenThread), and a peer may connect at once.
  {
    platform::MutexGuard guard(lock_);
    LoadSecretLocked();
  }
  platform::NetAddress listen = config.listen;
  if (listen.family == platform::NetAddress::kUnspecified) {
    listen.family = platform::NetAddress::kIpv4;
  }
  listen.port = config.port;
  s = listener_.Listen(listen, kListenBacklog);
  platform::NetAddress bound;
  if (s.ok()) s = listener_.LocalAddress(&bound);
  if (!s.ok()) {
    platform::Log(platform::LogLevel::kError,
                  "cannot listen for peers on port %u: %s",
                  static_cast<unsigned>(config.port), s.message());
    Stop();
    return s;
  }
  listen_port_ = bound.port;
  started_ = true;
  {
    platform::MutexGuard guard(lock_);
    PublishCountersLocked();
  }
  s = tree_thread_.Start("mars_tree", TreeThread, this, platform::Gfp::kKernel);
  if (s.ok()) {
    s = listen_thread_.Start("mars_listen", ListenThread, this,
                             platform::Gfp::kKernel);
  }
  if (!s.ok()) {
    Stop();
    return s;
  }
  platform::Log(platform::LogLevel::kInfo,
                "listening for peers on port %u, %zu tree entries loaded",
                static_cast<unsigned>(listen_port_), tree_->size());
  return Status::Ok();
}

void Node::Stop() {
  if (!initialized_) return;
  {
    platform::MutexGuard guard(lock_);
    stopping_ = true;
  }
  tree_thread_.Stop();
  listener_.Shutdown();
  listen_thread_.Stop();
  listener_.Close();
  // No new connection starts now; end the running ones.
  Connection* list = nullptr;
  {
    platform::MutexGuard guard(lock_);
    for (Connection* c = connections_; c != nullptr; c = c->next) {
      c->socket.Shutdown();
    }
    list = connections_;
    connections_ = nullptr;
  }
  while (list != nullptr) {
    Connection* next = list->next;
    list->thread.Stop();
    list->socket.Close();
    Delete(list->session);
    Delete(list);
    list = next;
  }
  for (size_t i = 0; i < peers_.size(); ++i) Delete(peers_[i]);
  peers_.Clear();
  for (size_t i = 0; i < jobs_.size(); ++i) DeleteFetchJob(jobs_[i]);
  jobs_.Clear();
  for (size_t i = 0; i < resource_fetches_.size(); ++i) {
    DeleteResourceFetch(resource_fetches_[i]);
  }
  resource_fetches_.Clear();
  for (size_t i = 0; i < sync_jobs_.size(); ++i) DeleteSyncJob(sync_jobs_[i]);
  sync_jobs_.Clear();
  plan_.Clear();
  sync_plan_.Clear();
  members_.Clear();
  Delete(mirror_);
  mirror_ = nullptr;
  Delete(tree_);
  tree_ = nullptr;
  platform::Free(secret_buffer_);
  secret_buffer_ = nullptr;
  if (started_) {
    platform::SetCounter(platform::Counter::kTreeEntries, 0);
    platform::SetCounter(platform::Counter::kPeerAllocations, 0);
  }
  started_ = false;
}

void Node::Kick() {
  __atomic_store_n(&kicked_, 1, __ATOMIC_RELEASE);
  if (initialized_) tree_wq_.WakeAll();
}

size_t Node::Peers(PeerReport* out, size_t capacity) {
  platform::MutexGuard guard(lock_);
  size_t count = 0;
  for (size_t i = 0; i < peers_.size(); ++i) {
    const PeerState& peer = *peers_[i];
    if (!peer.listed) continue;
    if (count < capacity) {
      PeerReport& report = out[count];
      report = PeerReport();
      report.host = peer.host;
      report.attempts = peer.attempts;
      CopyText(report.last_error, sizeof(report.last_error), peer.last_error);
      for (Connection* c = connections_; c != nullptr; c = c->next) {
        if (c->opened && c->peer == peer.host) {
          report.connected = true;
          report.connected_since_ns = c->opened_ns;
          report.counters = c->session->counters();
          report.inflight_bytes = c->inflight_bytes;
          report.inflight_bytes_max = c->inflight_bytes_max;
          report.output_bytes_max = c->output_bytes_max;
        }
      }
    }
    ++count;
  }
  return count;
}

void Node::TreeThread(void* context) {
  Node* self = static_cast<Node*>(context);
  while (!platform::Thread::ShouldStop()) {
    {
      platform::MutexGuard guard(self->lock_);
      self->TreePassLocked(platform::MonotonicNs());
    }
    self->tree_wq_.WaitUntil(
        [](void* c) {
          return __atomic_exchange_n(&static_cast<Node*>(c)->kicked_, 0,
                                     __ATOMIC_ACQ_REL) != 0;
        },
        self, self->config_.scan_interval_ns);
  }
}

void Node::TreePassLocked(uint64_t now_ns) {
  if (stopping_) return;
  MirrorStats stats;
  Status s = mirror_->Scan(&stats);
  if (s.ok()) s = mirror_->WriteBack(&stats);
  if (!s.ok() && !mirror_failing_) {
    platform::Log(platform::LogLevel::kWarning,
                  "cannot mirror the tree at %s: %s (retrying every scan)",
                  config_.root, s.message());
  } else if (s.ok() && mirror_failing_) {
    platform::Log(platform::LogLevel::kInfo, "mirroring the tree at %s again",
                  config_.root);
  }
  mirror_failing_ = !s.ok();
  LoadSecretLocked();
  RefreshPeersLocked(now_ns);
  if (now_ns - last_purge_ns_ >= kPurgeIntervalNs) {
    last_purge_ns_ = now_ns;
    members_.Clear();
    bool ok = true;
    for (size_t i = 0; i < peers_.size() && ok; ++i) {
      if (peers_[i]->listed) ok = members_.PushBack(peers_[i]->host).ok();
    }
    if (ok) {
      s = mirror_->PurgeTombstones(members_.data(), members_.size(), &stats);
      if (!s.ok()) {
        platform::Log(platform::LogLevel::kWarning,
                      "cannot purge tombstones at %s: %s", config_.root,
                      s.message());
      }
    }
  }
  ReapLocked();
  PlanFetchLocked(now_ns);
  PlanSyncLocked(now_ns);
  PublishCountersLocked();
  __atomic_add_fetch(&tree_passes_, 1, __ATOMIC_RELEASE);
  if (secret_size_ == 0) return;
  for (size_t i = 0; i < peers_.size(); ++i) {
    PeerState* peer = peers_[i];
    if (!peer->listed || now_ns < peer->next_attempt_ns) continue;
    bool busy = false;
    for (Connection* c = connections_; c != nullptr && !busy; c = c->next) {
      busy = c->peer == peer->host;
    }
    if (!busy) ConnectLocked(peer, now_ns);
  }
}

void Node::LoadSecretLocked() {
  // Path and text in secret_buffer_ (see Start): too large for the stack.
  const size_t root_size = __builtin_strlen(config_.root);
  char* path = secret_buffer_;
  uint8_t* text = reinterpret_cast<uint8_t*>(secret_buffer_) + root_size +
                  sizeof(kSecretFile);
  __builtin_memcpy(path, config_.root, root_size);
  __builtin_memcpy(path + root_size, kSecretFile, sizeof(kSecretFile));
  platform::File file;
  size_t size = 0;
  Status s = file.Open(path, platform::File::kRead);
  if (s.ok()) s = file.Read(0, text, kSecretTextBytes, &size);
  file.Close();
  if (s.ok() && size > 0 && text[size - 1] == '\n') --size;
  size_t bytes = size / 2;
  if (s.ok() && (size % 2 != 0 || bytes < wire::kMinSecretSize ||
                 bytes > wire::kMaxSecretSize)) {
    s = Status(StatusCode::kInvalidArgument, "not 32..2048 hex digits");
  }
  for (size_t i = 0; s.ok() && i < bytes; ++i) {
    const int high = HexDigit(text[2 * i]);
    const int low = HexDigit(text[2 * i + 1]);
    if (high < 0 || low < 0) {
      s = Status(StatusCode::kInvalidArgument, "not 32..2048 hex digits");
    } else {
      text[i] = static_cast<uint8_t>(high << 4 | low);
    }
  }
  if (!s.ok()) {
    if (secret_size_ == 0 && !secret_missing_logged_) {
      platform::Log(platform::LogLevel::kWarning,
                    "no usable cluster secret in %s (%s): not connecting to "
                    "peers until there is one",
                    path, s.message());
      secret_missing_logged_ = true;
    }
    return;
  }
  if (bytes != secret_size_ || __builtin_memcmp(text, secret_, bytes) != 0) {
    __builtin_memcpy(secret_, text, bytes);
    secret_size_ = bytes;
    secret_missing_logged_ = false;
  }
}

void Node::PublishCountersLocked() {
  // What this node holds: the tree and the mirror with their own counts,
  // the two objects, the secret buffer, the peer table, the purge list,
  // the sync jobs with their windows and tables, and two objects per connection
  // (the sessions' own buffers are not counted).
  size_t count = tree_->AllocationCount() + mirror_->AllocationCount() + 3 +
                 (peers_.capacity() > 0) + peers_.size() +
                 (members_.capacity() > 0) + (sync_plan_.capacity() > 0) +
                 (sync_jobs_.capacity() > 0) + sync_jobs_.size();
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    const Vector<SyncWindow>& windows = sync_jobs_[i]->windows;
    count += windows.capacity() > 0;
    for (const SyncWindow& w : windows) count += w.ranges.capacity() > 0;
  }
  for (Connection* c = connections_; c != nullptr; c = c->next) {
    count += 1 + (c->session != nullptr);
  }
  platform::SetCounter(platform::Counter::kTreeEntries, tree_->size());
  platform::SetCounter(platform::Counter::kPeerAllocations, count);
}

bool Node::ConnectedLocked(const tree::HostName& host) const {
  for (Connection* c = connections_; c != nullptr; c = c->next) {
    if (c->opened && c->peer == host) return true;
  }
  return false;
}

Node::PeerState* Node::FindPeerLocked(Slice host) {
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i]->host.slice() == host) return peers_[i];
  }
  return nullptr;
}

void Node::RefreshPeersLocked(uint64_t now_ns) {
  (void)now_ns;
  for (size_t i = 0; i < peers_.size(); ++i) peers_[i]->listed = false;
  const Slice prefix = Slice::FromCString(kIpsPrefix);
  for (size_t i = 0; i < tree_->size(); ++i) {
    const tree::Entry& entry = tree_->at(i);
    const Slice path = entry.path();
    if (entry.tombstone() || path.size() <= prefix.size() ||
        __builtin_memcmp(path.data(), prefix.data(), prefix.size()) != 0) {
      continue;
    }
    const Slice name =
        path.SubSlice(prefix.size(), path.size() - prefix.size());
    if (name == host_.slice()) continue;
    platform::NetAddress address;
    if (!ParseIpAddress(entry.value(), &address).ok()) continue;
    address.port = config_.port;
    PeerState* peer = FindPeerLocked(name);
    if (peer == nullptr) {
      peer = New<PeerState>(platform::Gfp::kKernel);
      if (peer == nullptr) return;
      if (!peer->host.Assign(name).ok() || !peers_.PushBack(peer).ok()) {
        Delete(peer);
        continue;
      }
    }
    peer->listed = true;
    peer->address = address;
  }
}

void Node::ReapLocked() {
  Connection** link = &connections_;
  while (*link != nullptr) {
    Connection* c = *link;
    if (!__atomic_load_n(&c->finished, __ATOMIC_ACQUIRE)) {
      link = &c->next;
      continue;
    }
    *link = c->next;
    c->thread.Stop();  // returns at once: the body has returned
    c->socket.Close();
    Delete(c->session);
    Delete(c);
  }
}

Status Node::MakeSessionLocked(Connection* connection, wire::Role role) {
  Slice uuid;
  if (tree_->Lookup(Slice::FromCString(kUuidPath), &uuid) &&
      uuid.size() <= sizeof(connection->cluster_id) && !uuid.empty()) {
    __builtin_memcpy(connection->cluster_id, uuid.data(), uuid.size());
    connection->cluster_id_size = uuid.size();
  } else {
    const size_t size = sizeof(wire::kJoiningClusterId) - 1;
    __builtin_memcpy(connection->cluster_id, wire::kJoiningClusterId, size);
    connection->cluster_id_size = size;
  }
  SessionConfig session;
  session.role = role;
  session.hello.features = wire::kFeaturePing | wire::kFeatureLogfileServe |
                           wire::kFeatureLogfileWindow;
  session.serve_logfiles = true;
  if (config_.data_access != nullptr) {
    session.hello.features |= wire::kFeatureBlockSyncServe;
    session.serve_sync = true;
  }
  session.hello.host_name = host_.slice();
  session.hello.cluster_id =
      Slice(connection->cluster_id, connection->cluster_id_size);
  session.hello.module_version = Slice::FromCString(kModuleVersion);
  session.secret = Slice(secret_, secret_size_);
  platform::RandomBytes(session.nonce, sizeof(session.nonce));
  session.cursors.cursor_for = CursorFor;
  session.cursors.context = this;
  session.poll_interval_ns = config_.poll_interval_ns;
  session.ping_interval_ns = config_.ping_interval_ns;
  session.ping_timeout_ns = config_.ping_timeout_ns;
  connection->session = New<Session>(platform::Gfp::kKernel, session, tree_,
                                     config_.clock, platform::Gfp::kKernel);
  if (connection->session == nullptr) {
    return Status(StatusCode::kNoMemory, "no memory for a peer session");
  }
  return Status::Ok();
}

tree::ChangeCursor Node::CursorFor(void* context, Slice peer_host) {
  // Called by a session under lock_.
  Node* self = static_cast<Node*>(context);
  PeerState* peer = self->FindPeerLocked(peer_host);
  return peer != nullptr ? peer->cursor : tree::ChangeCursor();
}

void Node::ConnectLocked(PeerState* peer, uint64_t now_ns) {
  Connection* c = New<Connection>(platform::Gfp::kKernel, this);
  if (c == nullptr) return;
  c->client = true;
  c->peer = peer->host;
  c->address = peer->address;
  peer->backoff_ns = peer->backoff_ns == 0 ? config_.reconnect_min_ns
                     : peer->backoff_ns >= config_.reconnect_max_ns / 2
                         ? config_.reconnect_max_ns
                         : 2 * peer->backoff_ns;
  peer->next_attempt_ns = now_ns + peer->backoff_ns;
  if (!MakeSessionLocked(c, wire::Role::kClient).ok() ||
      !StartConnectionLocked(c).ok()) {
    Delete(c->session);
    Delete(c);
  }
}

Status Node::StartConnectionLocked(Connection* connection) {
  Status s = connection->thread.Start("mars_peer", ConnectionThread, connection,
                                      platform::Gfp::kKernel);
  if (!s.ok()) return s;
  connection->next = connections_;
  connections_ = connection;
  return Status::Ok();
}

void Node::ListenThread(void* context) {
  Node* self = static_cast<Node*>(context);
  while (!platform::Thread::ShouldStop()) {
    platform::Socket accepted;
    const uint64_t started = platform::MonotonicNs();
    Status s = self->listener_.Accept(&accepted, nullptr, kAcceptWaitNs);
    if (!s.ok()) {
      // A timeout, or an error that comes back at once (the listener shut
      // down by Stop(), a connection that failed before it was accepted):
      // never retry at once. A thread spinning here on one CPU without
      // preemption keeps Stop() itself from running (a soft lockup at
      // rmmod); the wait ends early when Stop() wakes this thread.
      if (platform::MonotonicNs() - started < kAcceptRetryNs) {
        self->tree_wq_.WaitUntil([](void*) { return false; }, nullptr,
                                 kAcceptRetryNs);
      }
      continue;
    }
    platform::MutexGuard guard(self->lock_);
    if (self->stopping_ || self->secret_size_ == 0) continue;
    Connection* c = New<Connection>(platform::Gfp::kKernel, self);
    if (c == nullptr) continue;
    c->socket.Swap(accepted);
    if (!self->MakeSessionLocked(c, wire::Role::kServer).ok() ||
        !self->StartConnectionLocked(c).ok()) {
      c->socket.Close();
      Delete(c->session);
      Delete(c);
    }
  }
}

void Node::ConnectionThread(void* context) {
  Connection* c = static_cast<Connection*>(context);
  Node* node = c->node;
  node->RunConnection(c);
  __atomic_store_n(&c->finished, 1, __ATOMIC_RELEASE);
  node->Kick();  // reap it soon (c is not touched after `finished`)
}

void Node::OnOpenLocked(Connection* connection, uint64_t now_ns) {
  Session* session = connection->session;
  if (!connection->client &&
      !connection->peer.Assign(session->peer_host_name()).ok()) {
    session->Close(Status(StatusCode::kInvalidArgument, "bad peer name"));
    return;
  }
  // One session per peer: the one whose client has the smaller name.
  const Slice self_name = host_.slice();
  const Slice peer_name = connection->peer.slice();
  const bool self_smaller = self_name < peer_name;
  const bool preferred = connection->client == self_smaller;
  for (Connection* other = connections_; other != nullptr;
       other = other->next) {
    if (other == connection || !other->opened ||
        other->peer != connection->peer) {
      continue;
    }
    if (preferred) {
      other->session->Close(Status(StatusCode::kUnavailable, kDuplicate));
      other->socket.Shutdown();
      other->opened = false;
    } else {
      session->Close(Status(StatusCode::kUnavailable, kDuplicate));
      return;
    }
  }
  connection->opened = true;
  connection->opened_ns = now_ns;
  // A joining host is not in ips/ yet: it is served all the same.
  PeerState* peer = FindPeerLocked(peer_name);
  if (peer != nullptr) {
    peer->backoff_ns = 0;
    peer->last_error[0] = '\0';
  }
  platform::Log(platform::LogLevel::kInfo, "connected to peer %.*s",
                static_cast<int>(peer_name.size()), peer_name.chars());
}

void Node::OnEndLocked(Connection* connection, uint64_t now_ns) {
  Session* session = connection->session;
  const bool was_open = connection->opened;
  connection->opened = false;
  if (was_open) {
    platform::Log(platform::LogLevel::kInfo, "lost peer %.*s: %s",
                  static_cast<int>(connection->peer.size()),
                  connection->peer.slice().chars(),
                  session->status().message());
  }
  PeerState* peer = FindPeerLocked(connection->peer.slice());
  const bool duplicate =
      session->status().code() == StatusCode::kUnavailable &&
      __builtin_strcmp(session->status().message(), kDuplicate) == 0;
  if (!was_open && !duplicate) {
    // A failed attempt or handshake: logged once per peer and minute, not
    // per attempt (a wrong secret retries forever), and whenever the reason
    // changes. Losing the race of two simultaneous connections is no
    // failure.
    uint64_t* last = peer != nullptr ? &peer->failure_logged_ns
                                     : &unknown_failure_logged_ns_;
    const int direction = connection->client ? 0 : 1;
    char* logged = peer != nullptr ? peer->failure_logged[direction]
                                   : unknown_failure_logged_[direction];
    const size_t logged_size = sizeof(unknown_failure_logged_[0]);
    const char* reason =
        session->status().ok() ? "closed" : session->status().message();
    if (*last == 0 || now_ns - *last >= kFailureLogIntervalNs ||
        __builtin_strncmp(logged, reason, logged_size - 1) != 0) {
      *last = now_ns;
      CopyText(logged, logged_size, reason);
      Slice name = connection->peer.slice();
      if (name.empty()) name = session->peer_host_name();
      if (name.empty()) name = Slice::FromCString("(unknown)");
      platform::Log(
          platform::LogLevel::kWarning,
          "%s peer %.*s failed: %s (logged once a minute)",
          connection->client ? "connection to" : "connection from",
          static_cast<int>(name.size()), name.chars(),
          session->status().ok() ? "closed" : session->status().message());
    }
  }
  if (peer == nullptr) return;
  if (was_open) {
    peer->cursor = session->tree_cursor();
  } else if (connection->client && !duplicate) {
    peer->attempts++;
  }
  if (!ConnectedLocked(peer->host)) {
    CopyText(peer->last_error, sizeof(peer->last_error),
             session->status().ok() ? "closed" : session->status().message());
  }
}

void Node::RunConnection(Connection* c) {
  uint8_t* buffer = static_cast<uint8_t*>(
      platform::Allocate(kReceiveBytes, platform::Gfp::kKernel));
  FetchIo* io = NewFetchIo();
  SyncIo* sync_io = NewSyncIo();
  // What the session produced in a round: sent at the next round's start,
  // before io and sync_io are cleared (answers sent in place refer to
  // their buffers).
  OutputPieces out(platform::Gfp::kKernel);
  Status s = buffer != nullptr && io != nullptr && sync_io != nullptr
                 ? Status::Ok()
                 : Status(StatusCode::kNoMemory, "no memory for a connection");
  if (s.ok() && c->client) {
    s = c->socket.Connect(c->address, config_.connect_timeout_ns);
  }
  {
    platform::MutexGuard guard(lock_);
    if (s.ok()) s = c->session->Start(platform::MonotonicNs());
    if (s.ok()) s = c->session->TakeOutputPieces(&out);
    if (!s.ok()) c->session->Close(s);
  }
  uint64_t applied = 0;
  while (s.ok() && !platform::Thread::ShouldStop()) {
    if (!out.empty()) {
      s = SendPieces(&c->socket, out, kSendTimeoutNs);
      out.Clear();
      if (!s.ok()) break;
    }
    uint64_t now = platform::MonotonicNs();
    uint64_t wait = kMaxReceiveWaitNs;
    // The rest of a large frame's payload goes straight to where the
    // session keeps it (only this thread feeds the session or recycles its
    // buffers, so the space stays valid without the lock).
    uint8_t* into = buffer;
    size_t room = kReceiveBytes;
    {
      platform::MutexGuard guard(lock_);
      size_t direct_room = 0;
      uint8_t* direct = c->session->ReceiveSpace(&direct_room);
      if (direct != nullptr && direct_room >= kDirectReceiveMinBytes) {
        into = direct;
        room = direct_room;
      }
      const uint64_t deadline = c->session->NextDeadlineNs();
      // Requests of the peer left for the next round (peer_inflight_bytes,
      // kServePerRound) and a sync's flush are taken at once: the receive
      // only looks for bytes already there. Each round takes at least one
      // of them, so this does not spin.
      const bool waiting = c->session->NextLogfileRequestBytes() != 0 ||
                           c->session->NextSyncRequestBytes() != 0 ||
                           SyncFlushWantedLocked(c);
      if (waiting) {
        wait = 0;
      } else if (deadline <= now) {
        wait = kMinReceiveWaitNs;
      } else if (deadline - now < wait) {
        wait = deadline - now < kMinReceiveWaitNs ? kMinReceiveWaitNs
                                                  : deadline - now;
      }
    }
    // The rest of a frame's payload comes whole (frames are sent whole):
    // the thread is woken once it is there, not per segment, so it sleeps
    // and wakes once per answer rather than dozens of times.
    c->socket.SetReceiveLowWater(into != buffer ? room : 1);
    size_t received = 0;
    s = c->socket.Receive(into, room, &received, wait);
    const bool timed_out = !s.ok() && s.code() == StatusCode::kUnavailable &&
                           __builtin_strcmp(s.message(), "timed out") == 0;
    if (timed_out) s = Status::Ok();
    if (s.ok() && !timed_out && received == 0) {
      s = Status(StatusCode::kUnavailable, "peer closed the connection");
    }
    now = platform::MonotonicNs();
    platform::MutexGuard guard(lock_);
    Session* session = c->session;
    const bool was_open = session->open();
    if (!s.ok()) {
      session->Close(s);
    } else {
      if (received > 0) s = session->OnBytes(Slice(into, received), now);
      if (s.ok()) s = session->OnTick(now);
    }
    if (!was_open && session->open()) OnOpenLocked(c, now);
    if (session->counters().entries_applied != applied) {
      applied = session->counters().entries_applied;
      __atomic_store_n(&kicked_, 1, __ATOMIC_RELEASE);  // write back soon
      tree_wq_.WakeAll();
    }
    if (c->opened) {
      PeerState* peer = FindPeerLocked(c->peer.slice());
      if (peer != nullptr) peer->cursor = session->tree_cursor();
    }
    if (!session->closed()) {
      io->Clear();
      sync_io->Clear();
      c->serve_round_bytes = 0;
      TakeFetchWorkLocked(c, now, io);
      TakeSyncWorkLocked(c, now, sync_io);
      if (!io->empty() || !sync_io->empty()) {
        lock_.Unlock();
        DoFetchIo(io);
        DoSyncIo(sync_io);
        lock_.Lock();
        const uint64_t done_ns = platform::MonotonicNs();
        FinishFetchWorkLocked(c, done_ns, io);
        FinishSyncWorkLocked(c, done_ns, sync_io);
      }
    }
    const Status taken = session->TakeOutputPieces(&out);
    if (!taken.ok()) session->Close(taken);
    if (out.size() > c->output_bytes_max) c->output_bytes_max = out.size();
    if (session->closed()) s = session->status();
    if (s.ok() && stopping_) s = Status(StatusCode::kUnavailable, "stopping");
  }
  // A last frame (an Error) if there is one; the peer may be gone.
  if (!out.empty()) {
    Status ignored = SendPieces(&c->socket, out, kNsPerSecond);
    (void)ignored;
  }
  c->socket.Shutdown();
  platform::Free(buffer);
  DeleteFetchIo(io);
  DeleteSyncIo(sync_io);
  platform::MutexGuard guard(lock_);
  DropConnectionJobsLocked(c);
  DropConnectionSyncLocked(c);
  OnEndLocked(c, platform::MonotonicNs());
}

}  // namespace peer
}  // namespace mars
