// Session: one authenticated connection between this host and one peer, as a
// sans-I/O state machine (docu/wire-protocol.md, "Sessions"): bytes in, bytes
// out, time injected. Usable in the kernel module and in userspace.
//
// The session runs the handshake (wire::Handshake), then acts on the same
// connection as requester AND server of the incremental tree exchange
// (docu/mars-tree.md §6, §7): it asks the peer for the changes after its
// cursor of the peer's tree and applies the answer; it answers the peer's
// requests from CollectSince and records the peer's acknowledgements
// (Tree::PeerSeen). It also keeps the connection alive with Ping/Pong, and
// carries the logfile and block-sync services: requests of ours go out and
// their checked answers wait for the caller; the peer's requests wait for the
// caller, who reads the file or device and answers in order.
//
// Driving it: Start(), then OnBytes() with whatever the socket delivered,
// OnTick() when NextDeadlineNs() has passed (or regularly), and send
// output() in order, reporting what was sent with ConsumeOutput() (or use
// TakeOutput()). Times are monotonic nanoseconds. Once state() is kClosed,
// send what output() still holds (an Error frame, usually) and close the
// socket; status() says why in clear text.
//
// The session never locks: the caller serialises every call on it and every
// other use of the tree and the clock. Not thread-safe.
#ifndef MARS_CORE_PEER_SESSION_H_
#define MARS_CORE_PEER_SESSION_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/lamport_clock.h"
#include "core/platform.h"
#include "core/tree/tree.h"
#include "core/wire/auth_mac.h"
#include "core/wire/frame.h"
#include "core/wire/frame_decoder.h"
#include "core/wire/handshake.h"
#include "core/wire/hello.h"
#include "core/wire/logfile_messages.h"
#include "core/wire/sync_messages.h"
#include "core/wire/tree_messages.h"
#include "core/wire/wire_format.h"

namespace mars {
namespace peer {

constexpr uint64_t kNsPerSecond = 1000ull * 1000 * 1000;

// The encoded size of the fixed fields of a tree-update (flags, next, count)
// and of the largest entry the protocol allows: a batch budget must hold at
// least one such entry.
constexpr size_t kTreeUpdateHeaderSize = 1 + 8 + 8 + 4;
constexpr size_t kMaxTreeEntryWireSize = 8 + 1 + (2 + wire::kMaxPathSize) +
                                         (2 + wire::kMaxHostNameSize) +
                                         (2 + wire::kMaxValueSize);
constexpr size_t kMinBatchBytes = kTreeUpdateHeaderSize + kMaxTreeEntryWireSize;

// Where the session gets the cursor of the peer's tree to start from, once
// the peer's host name is known (after authentication, before the first
// tree-since-request). The caller keeps cursors across connections (read
// them back with Session::tree_cursor() when the session ends), so a new
// connection resumes where the last one stopped.
struct CursorSource {
  tree::ChangeCursor (*cursor_for)(void* context, Slice peer_host) = nullptr;
  void* context = nullptr;
};

struct SessionConfig {
  wire::Role role = wire::Role::kClient;
  // Our Hello. Its slices must outlive the session.
  wire::Hello hello;
  // The cluster secret (wire::kMinSecretSize..kMaxSecretSize bytes); must
  // outlive the session.
  Slice secret;
  // Fresh random bytes for this connection only; never reuse a nonce.
  uint8_t nonce[wire::kNonceSize] = {};
  // The starting cursor for the peer's tree; unset: the zero cursor (the
  // whole tree).
  CursorSource cursors;

  // Authentication must complete this long after Start().
  uint64_t handshake_timeout_ns = 10 * kNsPerSecond;
  // The requester asks again this long after the final batch of its previous
  // answer (RequestTreeNow() asks at once).
  uint64_t poll_interval_ns = 1 * kNsPerSecond;
  // With the ping feature agreed: a Ping goes out when no frame arrived for
  // ping_interval_ns; the session closes when, after it, no frame arrives
  // for ping_timeout_ns.
  uint64_t ping_interval_ns = 5 * kNsPerSecond;
  uint64_t ping_timeout_ns = 10 * kNsPerSecond;
  // Backpressure: while more than this many bytes wait in output(), the
  // session produces no new answer batches (the caller sends first).
  size_t output_limit = 1u << 20;
  // The payload budget of one tree-update: kMinBatchBytes..
  // wire::kMaxPayloadSize.
  size_t max_batch_bytes = 256u << 10;
  // Serve logfile-requests (with kFeatureLogfileServe agreed): each request
  // waits in a queue for the caller (TakeLogfileRequest), who reads the
  // file and answers with SendLogfileData. Off: a request closes the
  // connection ("not served").
  bool serve_logfiles = false;
  // Serve digest-requests and block-requests (with kFeatureBlockSyncServe
  // agreed): each waits in a queue for the caller (TakeSyncRequest), who
  // reads the device and answers with SendDigestReply / SendBlockData in the
  // order taken. Off: a request closes the connection ("not served").
  bool serve_sync = false;
};

// Logfile requests outstanding per direction (Session::LogfileRequestLimit):
// more from the peer close the connection; RequestLogfile() refuses more of
// ours. Wide: with wire::kFeatureLogfileWindow agreed.
constexpr size_t kMaxLogfileRequests = 8;
constexpr size_t kMaxLogfileRequestsWide = 64;

// A logfile-request of the peer waiting for the caller's answer.
struct LogfileAsk {
  Bytes name;  // relative to /mars, 1..wire::kMaxPathSize bytes
  uint64_t offset = 0;
  uint32_t max_length = 0;
};

// Logfile bytes that answered one of our requests (in request order).
struct LogfileGot {
  Bytes name;
  uint64_t offset = 0;
  uint32_t max_length = 0;  // of the request
  uint64_t file_size = 0;
  bool end_of_file = false;
  bool file_complete = false;
  // The bytes, inside `frame` (the received frame's payload: no copy).
  // Give `frame` back with RecycleBuffer() once done with them.
  Slice data;
  Bytes frame;
};

// Bulk bytes the caller keeps that go out after the session's own output
// bytes [0, at) (Session::SendLogfileDataInPlace()).
struct OutputRef {
  size_t at = 0;
  Slice data;
};

// Output taken whole (Session::TakeOutputPieces()): send `bytes` in order,
// with each refs[i].data right after bytes[0, refs[i].at) (refs in order of
// `at`; several may share one).
struct OutputPieces {
  explicit OutputPieces(platform::Gfp gfp) : bytes(gfp), refs(gfp) {}

  Bytes bytes;
  Vector<OutputRef> refs;

  bool empty() const { return bytes.empty() && refs.empty(); }
  uint64_t size() const {
    uint64_t n = bytes.size();
    for (const OutputRef& ref : refs) n += ref.data.size();
    return n;
  }
  void Clear() {
    bytes.Clear();
    refs.Clear();
  }
};

// Sync requests outstanding per direction (digest and block requests
// together): more from the peer close the connection; RequestDigests() and
// RequestBlocks() refuse more of ours.
constexpr size_t kMaxSyncRequests = 8;

// A digest-request or block-request: of the peer, waiting for the caller's
// answer (TakeSyncRequest), or of ours, waiting for the peer's.
struct SyncAsk {
  enum class Kind : uint8_t { kDigests = 0, kBlocks = 1 };
  Kind kind = Kind::kDigests;
  Bytes resource;  // 1..wire::kMaxResourceNameSize bytes
  uint64_t offset = 0;
  uint64_t length = 0;      // bytes (kBlocks: at most wire::kMaxDataChunk)
  uint32_t block_size = 0;  // kDigests only; 0 for kBlocks
};

// The answer to one of our sync requests (in request order). kind,
// resource, offset, length and block_size are those of the request.
struct SyncGot {
  SyncAsk::Kind kind = SyncAsk::Kind::kDigests;
  Bytes resource;
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t block_size = 0;
  // The peer does not serve the range now (wire::kSyncUnavailable).
  bool unavailable = false;
  // The log bound of the answer (docu/wire-protocol.md, "Sync messages");
  // 0 when unavailable.
  uint64_t log_number = 0;
  uint64_t log_offset = 0;
  // kDigests: count * 32 digest bytes; kBlocks: `length` device bytes;
  // empty if unavailable. Inside `frame` (the received frame's payload: no
  // copy); give `frame` back with RecycleBuffer() once done with them.
  Slice payload;
  Bytes frame;
};

// What the session did, for status reports. Read with Session::counters().
struct SessionCounters {
  uint64_t bytes_in = 0;    // bytes passed to OnBytes()
  uint64_t bytes_out = 0;   // bytes the caller took (ConsumeOutput)
  uint64_t frames_in = 0;   // complete frames received
  uint64_t frames_out = 0;  // frames queued for sending
  // Requester side.
  uint64_t tree_requests_sent = 0;
  uint64_t tree_batches_received = 0;
  uint64_t entries_received = 0;  // entries in the batches received
  uint64_t entries_applied = 0;   // of them: inserted or replaced a version
  uint64_t entries_refused = 0;   // of them: stamp refused by the clock
  // Server side.
  uint64_t tree_requests_served = 0;
  uint64_t tree_batches_sent = 0;
  uint64_t entries_sent = 0;
  // Keepalive.
  uint64_t pings_sent = 0;
  uint64_t pongs_received = 0;
  // Logfiles.
  uint64_t logfile_requests_sent = 0;
  uint64_t logfile_bytes_received = 0;
  uint64_t logfile_requests_served = 0;
  uint64_t logfile_bytes_sent = 0;
  // Block sync.
  uint64_t sync_requests_sent = 0;     // digest- and block-requests
  uint64_t sync_digests_received = 0;  // digests in the replies received
  uint64_t sync_bytes_received = 0;    // block-data bytes received
  uint64_t sync_requests_served = 0;   // answers sent (either kind)
  uint64_t sync_bytes_sent = 0;        // block-data bytes sent
  // Times (the caller's monotonic ns; 0 = never).
  uint64_t connected_since_ns = 0;     // authentication completed
  uint64_t last_tree_exchange_ns = 0;  // final batch of our last answer
};

class Session {
 public:
  enum class State {
    kHandshaking,  // before and during authentication
    kOpen,         // authenticated: tree exchange and keepalive
    kClosed,       // status() says why; send output(), close the socket
  };

  // Capacity of the copy kept of an Error text received from the peer.
  static constexpr size_t kPeerErrorTextCapacity = 128;

  // `tree` and `clock` are owned by the caller and must outlive the session.
  // Every allocation uses `gfp`. The object is large: allocate it with New().
  Session(const SessionConfig& config, tree::Tree* tree, LamportClock* clock,
          platform::Gfp gfp = platform::Gfp::kKernel);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Begins the handshake (the client queues its Hello). Fails (and closes)
  // for an invalid configuration. Context: as gfp.
  Status Start(uint64_t now_ns);

  // Handles bytes from the peer, split anywhere. Returns Ok while the
  // session is not closed, else status(). Context: may sleep (HMAC during
  // the handshake), allocates with gfp.
  Status OnBytes(Slice input, uint64_t now_ns);
  // Where the next bytes from the peer may be received without a copy (the
  // rest of a frame's payload; wire::FrameDecoder::ReceiveSpace()): receive
  // at most *room bytes there and pass exactly those to OnBytes(). Null
  // (*room 0) when the next bytes need a buffer of the caller's. Only
  // OnBytes() and RecycleBuffer() invalidate the space, so the caller may
  // receive into it without its lock while no other thread calls those.
  // Context: any.
  uint8_t* ReceiveSpace(size_t* room) {
    *room = 0;
    return closed() ? nullptr : decoder_.ReceiveSpace(room);
  }

  // Runs the timers: handshake deadline, keepalive, tree polling. Returns
  // Ok while the session is not closed, else status().
  Status OnTick(uint64_t now_ns);

  // The earliest time at which OnTick() has something to do; UINT64_MAX
  // when nothing is scheduled.
  uint64_t NextDeadlineNs() const;

  // Asks the peer for its changes now (after the answer in progress, if
  // any), instead of waiting for the poll interval: e.g. after a local
  // change. Before authentication the first request goes out then anyway.
  void RequestTreeNow();

  // Asks the peer for up to `max_length` (1..wire::kMaxDataChunk) bytes of
  // logfile `name` from `offset`. kUnavailable while not open, without
  // kFeatureLogfileServe agreed, or with LogfileRequestLimit() outstanding;
  // kInvalidArgument for a bad name or length; kNoMemory (then closed).
  Status RequestLogfile(Slice name, uint64_t offset, uint32_t max_length);
  // Logfile requests allowed outstanding per direction:
  // kMaxLogfileRequestsWide with kFeatureLogfileWindow agreed, else
  // kMaxLogfileRequests (before the handshake too).
  size_t LogfileRequestLimit() const;
  // Our logfile requests not yet answered.
  size_t logfile_requests_outstanding() const { return asked_.size(); }
  // Moves the oldest received answer to *got; false when there is none.
  bool TakeLogfileData(LogfileGot* got);
  // Offers a buffer (a LogfileGot's frame) for receiving later frames, so
  // that a steady stream of answers needs no allocation per frame.
  void RecycleBuffer(Bytes buffer) { decoder_.GiveBuffer(Move(buffer)); }
  // Moves the oldest request of the peer to *ask; false when there is none.
  // Every request taken must be answered, in the order taken.
  bool TakeLogfileRequest(LogfileAsk* ask);
  // The bytes the oldest request of the peer not yet taken may be answered
  // with (its max_length); 0 when there is none.
  uint64_t NextLogfileRequestBytes() const;
  // Answers the oldest request taken: `data` must name it, start at its
  // offset and hold at most its max_length bytes. A wrong answer closes the
  // session (kInternal). Sent regardless of backpressure.
  Status SendLogfileData(const wire::LogfileData& data);
  // SendLogfileData() without copying data.data: the output refers to
  // those bytes (`data_crc` is their CRC-32C, crc32c::Value()), so they
  // must stay as they are until the output holding them was taken with
  // TakeOutputPieces() and sent, or with TakeOutput(), or until the
  // session's end.
  Status SendLogfileDataInPlace(const wire::LogfileData& data,
                                uint32_t data_crc);

  // Asks the peer for the digests of [offset, offset + length) of
  // `resource` (range rules of wire::DigestRequest) / for the device bytes
  // [offset, offset + length) (rules of wire::BlockRequest). kUnavailable
  // while not open, without kFeatureBlockSyncServe agreed, or with
  // kMaxSyncRequests outstanding; kInvalidArgument for a bad name or range;
  // kNoMemory (then closed).
  Status RequestDigests(Slice resource, uint64_t offset, uint64_t length,
                        uint32_t block_size);
  Status RequestBlocks(Slice resource, uint64_t offset, uint32_t length);
  // Our sync requests not yet answered.
  size_t sync_requests_outstanding() const { return sync_asked_.size(); }
  // Moves the oldest received answer to *got; false when there is none.
  bool TakeSyncReply(SyncGot* got);
  // Moves the oldest request of the peer to *ask; false when there is none.
  // Every request taken must be answered, in the order taken.
  bool TakeSyncRequest(SyncAsk* ask);
  // The payload bytes of the answer to the oldest sync request of the peer
  // not yet taken (device bytes, or 32 per digest); 0 when there is none.
  uint64_t NextSyncRequestBytes() const;
  // Answer the oldest request taken: same kind, resource, offset, length
  // (and block_size); an available block-data holds exactly `length` bytes.
  // A wrong answer closes the session (kInternal); one the codec refuses
  // closes it with the codec's status. Sent regardless of backpressure.
  Status SendDigestReply(const wire::DigestReply& reply);
  Status SendBlockData(const wire::BlockData& data);
  // SendBlockData() without copying data.data, on the terms of
  // SendLogfileDataInPlace().
  Status SendBlockDataInPlace(const wire::BlockData& data, uint32_t data_crc);

  // Closes the session for a local reason (shutdown, socket error): queues
  // an Error frame carrying `reason` (the caller may send it or not).
  // Does nothing once closed.
  void Close(Status reason);

  // The next bytes to send, in order: the session's own, or bulk bytes of
  // an answer sent in place. Empty when nothing is pending. Valid until the
  // next call on the session.
  Slice output() const;
  // The caller sent the first `n` bytes of output() (n <= output().size()).
  // Frees room, so answers held back by backpressure continue.
  void ConsumeOutput(size_t n);
  // Appends all pending output to *out (bulk bytes sent in place copied)
  // and consumes it. kNoMemory: nothing consumed. When *out is empty and
  // nothing was sent in place the buffers trade places instead (no copy):
  // the session goes on with *out's storage.
  Status TakeOutput(Bytes* out);
  // Moves all pending output to *out, which must be empty (kInternal, and
  // nothing taken, otherwise): the buffers trade places, bulk bytes sent in
  // place stay where they are (no copy, no allocation).
  Status TakeOutputPieces(OutputPieces* out);

  State state() const { return state_; }
  bool open() const { return state_ == State::kOpen; }
  bool closed() const { return state_ == State::kClosed; }
  // Ok until closed; then why, in clear text.
  Status status() const { return status_; }

  // The peer's host name, once its Hello arrived (empty before).
  Slice peer_host_name() const;
  // The agreed version and features (valid in kOpen).
  const wire::Agreement& agreement() const { return handshake_.agreement(); }
  // An Error the peer sent: its code (0: none) and text (truncated).
  uint32_t peer_error_code() const { return peer_error_code_; }
  Slice peer_error_text() const {
    return Slice(peer_error_text_, peer_error_text_size_);
  }

  // The cursor of the peer's tree up to which this host applied everything
  // (advanced per batch). Keep it for the next connection to this peer.
  tree::ChangeCursor tree_cursor() const { return cursor_; }
  // A request of ours is waiting for (the rest of) its answer.
  bool tree_request_outstanding() const { return request_outstanding_; }
  // We are in the middle of answering the peer's request.
  bool answering() const { return answering_; }

  const SessionCounters& counters() const { return counters_; }

 private:
  // Pending output bytes (those of refs_ included).
  size_t pending() const { return out_.size() - out_start_ + ref_bytes_; }
  // SendLogfileData() and SendLogfileDataInPlace() (`in_place_crc`).
  Status AnswerLogfile(const wire::LogfileData& data,
                       const uint32_t* in_place_crc);
  // Queues a data message with `in_place_crc` (the CRC-32C of its data) as
  // its head in out_ and a reference to its data; without, or for empty
  // data, as a copy. False (the session failed) when it could not.
  template <class M>
  bool SendData(const M& message, const uint32_t* in_place_crc);
  // Handles one verified frame.
  void OnFrame(const wire::Frame& frame, uint64_t now_ns);
  void OnOpenFrame(const wire::Frame& frame, uint64_t now_ns);
  void OnAuthenticated(uint64_t now_ns);
  void OnPeerError(const wire::Frame& frame);
  void OnPing(const wire::Frame& frame);
  void OnPong(const wire::Frame& frame);
  void OnTreeSinceRequest(const wire::Frame& frame);
  void OnTreeUpdate(const wire::Frame& frame, uint64_t now_ns);
  // Whether a request of a service may be handled: its feature agreed
  // (`agreed_feature` != 0) and `served`; else closes and returns false.
  bool ServiceAllowed(uint64_t agreed_feature, bool served);
  void OnLogfileRequest(const wire::Frame& frame);
  void OnLogfileData(const wire::Frame& frame);
  // A digest-request or block-request of the peer (M: the request type).
  template <class M>
  void OnSyncRequest(const wire::Frame& frame);
  // A digest-reply or block-data: must answer our oldest sync request.
  template <class M>
  void OnSyncReply(const wire::Frame& frame);
  // Checks and sends our digest-request or block-request and keeps it
  // until answered.
  template <class M>
  Status RequestSync(const M& request);
  // Sends `answer` to the oldest sync request taken (its data in place
  // with `in_place_crc`, block-data only).
  template <class M>
  Status AnswerSync(const M& answer, const uint32_t* in_place_crc);
  bool SendSyncAnswer(const wire::DigestReply& reply, const uint32_t*);
  bool SendSyncAnswer(const wire::BlockData& data,
                      const uint32_t* in_place_crc);
  // Queues our tree-since-request for cursor_.
  void SendTreeRequest();
  // Produces queued work (pong, answer batches) while output has room.
  void Pump();
  // Appends the next batch of the answer in progress.
  void SendTreeBatch();
  // Appends one message frame; on failure closes the session.
  template <class M>
  bool Send(const M& message);
  // Send() of the messages with bulk data, copied and checksummed in one
  // pass (wire::FrameEncoder::AppendDataMessage()).
  bool Send(const wire::LogfileData& message);
  bool Send(const wire::BlockData& message);
  // Counts a frame appended by Send(); on failure closes the session.
  bool Sent(const Status& appended);
  // Counts the complete frames in out_ from `from` (handshake output).
  void CountFramesFrom(size_t from);
  // Closes with `reason`; queues an Error frame when `tell_peer`.
  void Fail(Status reason, bool tell_peer);

  SessionConfig config_;
  tree::Tree* tree_;
  LamportClock* clock_;

  State state_ = State::kHandshaking;
  Status status_;
  bool started_ = false;
  uint64_t start_ns_ = 0;

  wire::Handshake handshake_;
  wire::FrameDecoder decoder_;
  Bytes out_;
  size_t out_start_ = 0;  // out_[0, out_start_) was sent
  // Bulk bytes spliced into out_ (SendLogfileDataInPlace), in order of
  // `at` (never before out_start_); ref_sent_ bytes of the first were
  // sent; ref_bytes_ are pending.
  Vector<OutputRef> refs_;
  size_t ref_sent_ = 0;
  size_t ref_bytes_ = 0;

  // Requester.
  tree::ChangeCursor cursor_;
  bool request_outstanding_ = false;
  bool request_again_ = false;  // RequestTreeNow() during an answer
  uint64_t next_poll_ns_ = 0;
  wire::TreeUpdate incoming_;

  // Server.
  bool answering_ = false;
  tree::ChangeCursor answer_cursor_;  // collect after this for the next batch
  Vector<const tree::Entry*> collected_;
  wire::TreeUpdate batch_;

  // Keepalive.
  uint64_t last_frame_ns_ = 0;  // last frame received
  bool ping_outstanding_ = false;
  uint64_t ping_sent_ns_ = 0;
  uint64_t ping_token_ = 0;
  bool pong_pending_ = false;  // a Pong held back by backpressure
  uint64_t pong_token_ = 0;

  // Logfiles: our requests in flight (name, offset, max_length), answers
  // received and not yet taken, the peer's requests not yet taken, and
  // those taken and not yet answered.
  Vector<LogfileAsk> asked_;
  Vector<LogfileGot> got_;
  Vector<LogfileAsk> asks_;
  Vector<LogfileAsk> answering_asks_;

  // Block sync, the same four queues: our requests in flight (digest and
  // block requests in one FIFO), their answers not yet taken, the peer's
  // requests not yet taken, and those taken and not yet answered.
  Vector<SyncAsk> sync_asked_;
  Vector<SyncGot> sync_got_;
  Vector<SyncAsk> sync_asks_;
  Vector<SyncAsk> sync_answering_;

  uint32_t peer_error_code_ = 0;
  char peer_error_text_[kPeerErrorTextCapacity] = {};
  size_t peer_error_text_size_ = 0;

  SessionCounters counters_;
};

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SESSION_H_
