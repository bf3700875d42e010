// Session internals shared by session.cc, session_tree.cc,
// session_logfile.cc and session_sync.cc (not an interface): the error more
// than one of them returns, small helpers, and Session::Send. The sync
// handlers OnSyncRequest / OnSyncReply are instantiated in session_sync.cc
// for the message types session.cc dispatches to them.
#ifndef MARS_CORE_PEER_SESSION_INTERNAL_H_
#define MARS_CORE_PEER_SESSION_INTERNAL_H_

#include <stddef.h>
#include <stdint.h>

#include "core/base/slice.h"
#include "core/base/status.h"
#include "core/base/vector.h"
#include "core/peer/session.h"
#include "core/wire/frame.h"
#include "core/wire/sync_messages.h"

namespace mars {
namespace peer {
namespace session_internal {

constexpr Status kErrUnaskedReply(StatusCode::kInvalidArgument,
                                  "session: logfile or sync reply nobody "
                                  "asked for");

inline uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

inline Status CopySlice(Slice from, Bytes* to) {
  to->Clear();
  return to->Append(from.data(), from.size());
}

inline bool SameBytes(const Bytes& a, Slice b) {
  return a.size() == b.size() &&
         (a.size() == 0 || __builtin_memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace session_internal

template <class M>
bool Session::Send(const M& message) {
  wire::FrameEncoder encoder(&out_);
  return Sent(encoder.AppendMessage(message));
}

template <class M>
bool Session::SendData(const M& message, const uint32_t* in_place_crc) {
  if (in_place_crc == nullptr || message.data.empty()) return Send(message);
  // The frame's head goes into out_, its data stays where it is.
  Status s = refs_.Reserve(refs_.size() + 1);
  if (s.ok()) {
    wire::FrameEncoder encoder(&out_);
    s = encoder.AppendDataMessageHead(message, *in_place_crc);
  }
  if (!Sent(s)) return false;
  OutputRef ref;
  ref.at = out_.size();
  ref.data = message.data;
  (void)refs_.PushBack(ref);  // reserved
  ref_bytes_ += message.data.size();
  return true;
}

extern template void Session::OnSyncRequest<wire::DigestRequest>(
    const wire::Frame& frame);
extern template void Session::OnSyncRequest<wire::BlockRequest>(
    const wire::Frame& frame);
extern template void Session::OnSyncReply<wire::DigestReply>(
    const wire::Frame& frame);
extern template void Session::OnSyncReply<wire::BlockData>(
    const wire::Frame& frame);

}  // namespace peer
}  // namespace mars

#endif  // MARS_CORE_PEER_SESSION_INTERNAL_H_
