// Node: block sync of a secondary's data device from its designated primary
// and serving it (docu/replication.md §6 "Sync").
//
// Per resource, windows of sync_window_blocks digest blocks: the digests of
// up to sync_windows windows are asked for ahead and compared with the local
// device's as they come; the blocks that differ are asked for in device
// order (sync_requests in flight) and written. Windows finish in device
// order once written. syncstatus-HOST moves at most every
// kSyncPublishIntervalNs and at the end, each time after a flush of the
// local device, to the end of the windows that flush covers. Every answer of
// the source carries its log bound; the largest one becomes syncpos-HOST,
// which replay must pass before the replica is consistent. Device I/O goes
// through engine::DataAccess, never under the node's lock; jobs are found by
// resource name after every unlock.
#include "core/base/memory.h"
#include "core/peer/node.h"
#include "core/peer/node_internal.h"
#include "core/platform_io.h"
#include "core/tree/text.h"

namespace mars {
namespace peer {

namespace {

// sync-rate is recomputed at most this often; syncstatus-HOST and
// syncpos-HOST are written at most this often before the end.
constexpr uint64_t kSyncRateIntervalNs = 5 * kNsPerSecond;
constexpr uint64_t kSyncPublishIntervalNs = 1 * kNsPerSecond;
// The peer's sync requests handled per connection round.
constexpr size_t kServePerRound = 2;
// Device reads and writes go through an I/O buffer of this size: whole
// digest blocks per read, so that a window takes few device requests. When
// memory is too fragmented for it, of the smaller size.
constexpr size_t kIoChunk = 1u << 20;
constexpr size_t kIoChunkMin = 64u << 10;

Slice BytesSlice(const Bytes& b) { return Slice(b.data(), b.size()); }

// Reads device bytes [offset, offset + length) into `buffer` in pieces of
// whole steps, as many as fit in buffer_bytes, with read(offset, into,
// size), and calls visit(k, offset, bytes, size) for the k-th step of
// `step` bytes (the last one may be shorter) until it returns false.
// Returns the status of the first read that failed.
template <typename Read, typename Visit>
Status ForEachDeviceStep(uint64_t offset, uint64_t length, uint64_t step,
                         uint8_t* buffer, size_t buffer_bytes, Read read,
                         Visit visit) {
  const uint64_t per_read = buffer_bytes / step * step;
  const uint64_t end = offset + length;
  uint64_t k = 0;
  for (uint64_t at = offset; at < end;) {
    uint64_t piece = end - at;
    if (piece > per_read) piece = per_read;
    const Status s = read(at, buffer, static_cast<size_t>(piece));
    if (!s.ok()) return s;
    for (uint64_t in = 0; in < piece; in += step, ++k) {
      uint64_t size = piece - in;
      if (size > step) size = step;
      if (!visit(k, at + in, buffer + in, static_cast<size_t>(size))) {
        return Status::Ok();
      }
    }
    at += piece;
  }
  return Status::Ok();
}

Status CopyTo(Slice from, Bytes* to) {
  to->Clear();
  return AppendSlice(to, from);
}

}  // namespace

Node::SyncIo* Node::NewSyncIo() { return New<SyncIo>(platform::Gfp::kKernel); }

void Node::DeleteSyncIo(SyncIo* io) {
  if (io != nullptr && io->buffer != nullptr) {
    platform::FreeIoBuffer(io->buffer);
  }
  Delete(io);
}

void Node::DeleteSyncJob(SyncJob* job) { Delete(job); }

Node::SyncJob* Node::FindSyncJobLocked(Slice resource) {
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    if (Slice::FromCString(sync_jobs_[i]->target.resource) == resource) {
      return sync_jobs_[i];
    }
  }
  return nullptr;
}

void Node::PlanSyncLocked(uint64_t now_ns) {
  sync_plan_.Clear();
  if (config_.data_access == nullptr) return;
  if (!PlanSync(*tree_, host_.slice(), &sync_plan_).ok()) return;
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    sync_jobs_[i]->planned = false;
  }
  const uint64_t block = config_.sync_block_bytes;
  for (size_t i = 0; i < sync_plan_.size(); ++i) {
    const SyncTarget& t = sync_plan_[i];
    SyncJob* job = FindSyncJobLocked(Slice::FromCString(t.resource));
    const bool fresh = job == nullptr;
    if (fresh) {
      job = New<SyncJob>(platform::Gfp::kKernel);
      if (job == nullptr || !sync_jobs_.PushBack(job).ok()) {
        Delete(job);
        return;
      }
      job->rate_since_ns = now_ns;
    }
    // A new job, another source, or syncstatus set back (invalidate):
    // start from syncstatus-HOST with the bound its syncpos-HOST records.
    // A window in flight finishes first: the restart waits for it.
    if (fresh || t.source != job->target.source ||
        t.synced < job->published_position) {
      job->restart_pending = true;
    }
    job->target = t;
    job->planned = true;
    if (job->restart_pending && job->idle() && !job->flush_in_flight) {
      job->restart_pending = false;
      job->position = t.synced / block * block;
      job->durable_position = job->position;
      job->flush_wanted = false;
      job->published_position = t.synced;
      job->bound.known =
          t.has_syncpos && t.syncpos.log.host.slice() == t.source.slice();
      job->bound.logfile = job->bound.known ? t.syncpos.log.number : 0;
      job->bound.offset = job->bound.known ? t.syncpos.position : 0;
      job->retry_ns = 0;
    }
  }
  for (size_t i = 0; i < sync_jobs_.size();) {
    SyncJob* job = sync_jobs_[i];
    PublishSyncLocked(job, now_ns, false);
    // A job no longer planned goes once nothing of it is in flight.
    if (!job->planned && job->idle() && !job->flush_in_flight &&
        !job->syncing_published && job->error_published[0] == '\0') {
      sync_jobs_.Erase(i);
      Delete(job);
    } else {
      ++i;
    }
  }
}

void Node::PublishSyncLocked(SyncJob* job, uint64_t now_ns, bool force) {
  const Slice resource = Slice::FromCString(job->target.resource);
  char leaf[tree::kMaxNameChars + 16];
  char value[tree::kMaxPathBytes + 1];
  // Syncing until nothing is in flight: marsadm waits for is-syncing 0
  // before it sets syncstatus-HOST back (invalidate).
  const bool syncing = job->planned || !job->idle() || job->flush_in_flight;
  if (syncing != job->syncing_published || force) {
    PublishActualLocked(resource, "is-syncing",
                        Slice::FromCString(syncing ? "1" : "0"));
    job->syncing_published = syncing;
  }
  if (!syncing) job->error[0] = '\0';
  if (__builtin_strcmp(job->error, job->error_published) != 0) {
    // A failure is logged and published once, and its end.
    if (job->error[0] != '\0') {
      platform::Log(platform::LogLevel::kError, "resource %s: %s",
                    job->target.resource, job->error);
      PublishActualLocked(resource, "msg-err-sync",
                          Slice::FromCString(job->error));
    } else {
      platform::Log(platform::LogLevel::kNotice,
                    "resource %s: the sync goes on", job->target.resource);
      RemoveActualLocked(resource, "msg-err-sync");
    }
    __builtin_memcpy(job->error_published, job->error, sizeof(job->error));
  }
  if (now_ns - job->rate_since_ns >= kSyncRateIntervalNs) {
    const uint64_t elapsed = now_ns - job->rate_since_ns;
    const uint64_t rate = job->rate_bytes >= UINT64_MAX / kNsPerSecond
                              ? job->rate_bytes / (elapsed / kNsPerSecond)
                              : job->rate_bytes * kNsPerSecond / elapsed;
    if (rate != job->rate || force) {
      const size_t n = tree::FormatDecimalU64(rate, value);
      PublishActualLocked(resource, "sync-rate", Slice(value, n));
      job->rate = rate;
    }
    job->rate_bytes = 0;
    job->rate_since_ns = now_ns;
  }
  // A window that finished while a restart waited counts for nothing: the
  // restart starts from syncstatus-HOST as the tree has it, which must not
  // be overwritten with the window's end (nor syncpos-HOST with its bound).
  if (job->restart_pending ||
      job->durable_position <= job->published_position) {
    return;
  }
  const bool done = job->durable_position >= job->target.size;
  if (!done && !force &&
      now_ns - job->last_publish_ns < kSyncPublishIntervalNs) {
    return;
  }
  // syncpos-HOST first: syncstatus-HOST never covers bytes whose bound
  // is not recorded.
  if (job->bound.known) {
    tree::ReplayLink link;
    link.log.number = job->bound.logfile;
    if (!link.log.host.Assign(job->target.source.slice()).ok()) return;
    link.position = job->bound.offset;
    Bytes text(platform::Gfp::kKernel);
    if (!tree::AppendReplayLink(link, &text).ok()) return;
    tree::TextWriter w(leaf, sizeof(leaf));
    w.CString("syncpos-");
    w.Escaped(host_.slice());
    if (w.truncated()) return;
    const Slice syncpos = BytesSlice(text);
    SetResourceLinkLocked(resource, Slice::FromCString(leaf), &syncpos);
  }
  const uint64_t synced = done ? job->target.size : job->durable_position;
  tree::TextWriter w(leaf, sizeof(leaf));
  w.CString("syncstatus-");
  w.Escaped(host_.slice());
  if (w.truncated()) return;
  const size_t n = tree::FormatDecimalU64(synced, value);
  const Slice synced_text(value, n);
  SetResourceLinkLocked(resource, Slice::FromCString(leaf), &synced_text);
  job->published_position = synced;
  job->last_publish_ns = now_ns;
  if (done) {
    char source[tree::kMaxNameChars + 1];
    const Slice from = job->target.source.slice();
    __builtin_memcpy(source, from.data(), from.size());
    source[from.size()] = '\0';
    platform::Log(platform::LogLevel::kInfo,
                  "resource %s: sync from %s finished (%llu bytes)",
                  job->target.resource, source,
                  static_cast<unsigned long long>(job->target.size));
  }
}

void Node::TakeSyncWorkLocked(Connection* c, uint64_t now_ns, SyncIo* io) {
  Session* session = c->session;
  SyncGot got;
  while (session->TakeSyncReply(&got)) {
    if (got.kind == SyncAsk::Kind::kBlocks) c->ReleaseInflight(got.length);
    SyncJob* job = FindSyncJobLocked(BytesSlice(got.resource));
    if (job == nullptr || job->connection != c) continue;  // dropped
    SyncWindow* w = job->WindowAt(got.offset);
    if (got.kind == SyncAsk::Kind::kDigests) {
      // Only the window asked for; a reply of a window dropped before
      // (a restart) compares as well as a new one would.
      if (w == nullptr || w->start != got.offset ||
          w->end - w->start != got.length || w->compared || w->comparing ||
          w->failed) {
        continue;
      }
      if (got.unavailable) {
        w->failed = true;
        continue;
      }
      job->bound.Raise(got.log_number, got.log_offset);
      SyncCompare compare;
      compare.offset = got.offset;
      compare.length = got.length;
      compare.block_size = got.block_size;
      compare.resource = Move(got.resource);
      compare.remote = got.payload;
      compare.frame = Move(got.frame);
      if (io->compares.PushBack(Move(compare)).ok()) {
        w->comparing = true;
      } else {
        w->failed = true;
      }
      continue;
    }
    // Block data: no longer in flight once taken; the bytes handed to a
    // write count again until it is done (FinishSyncWorkLocked).
    if (w == nullptr || w->blocks_in_flight == 0) continue;
    if (got.unavailable) {
      w->blocks_in_flight--;
      w->failed = true;
      continue;
    }
    job->bound.Raise(got.log_number, got.log_offset);
    SyncWrite write;
    write.offset = got.offset;
    write.resource = Move(got.resource);
    write.data = got.payload;
    write.frame = Move(got.frame);
    const uint64_t bytes = write.data.size();
    if (io->writes.PushBack(Move(write)).ok()) {
      c->AddInflight(bytes);  // as before the take: no new maximum
    } else {
      w->blocks_in_flight--;
      w->failed = true;
    }
  }
  // The first window, when its last blocks are written in this round, is
  // flushed in it if syncstatus-HOST is due to move (the last window, or
  // the publish interval passed); a flush asked for when windows finished
  // without one (FinishSyncWindowLocked) goes out in this round too. Either
  // comes after the round's writes.
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->flush_in_flight) continue;
    const Slice name = Slice::FromCString(job->target.resource);
    bool window = false;
    if (job->connection == c && !job->windows.empty()) {
      const SyncWindow& w = job->windows[0];
      size_t writes = 0;
      for (size_t k = 0; k < io->writes.size(); ++k) {
        const SyncWrite& write = io->writes[k];
        if (BytesSlice(write.resource) == name && w.start <= write.offset &&
            write.offset < w.end) {
          writes++;
        }
      }
      window = w.compared && !w.failed && w.next_range == w.ranges.size() &&
               writes > 0 && writes == w.blocks_in_flight &&
               (w.end >= job->target.size ||
                now_ns - job->last_publish_ns >= kSyncPublishIntervalNs);
    }
    const bool wanted = job->flush_wanted && job->planned &&
                        job->target.source.slice() == c->peer.slice();
    if (!window && !wanted) continue;
    SyncFlush flush;
    flush.covers = window ? job->windows[0].end : job->position;
    if (!CopyTo(name, &flush.resource).ok() ||
        !io->flushes.PushBack(Move(flush)).ok()) {
      continue;
    }
    job->flush_in_flight = true;
    job->flush_covers = flush.covers;
    job->flush_wanted = false;
  }
  // Room first: every request taken must be answered. The round's answers
  // (logfile answers included) stay within peer_inflight_bytes, the first
  // always.
  if (io->serves.Reserve(kServePerRound).ok()) {
    SyncAsk ask;
    while (io->serves.size() < kServePerRound) {
      const uint64_t answer = session->NextSyncRequestBytes();
      if (!c->ServeRoom(answer) || !session->TakeSyncRequest(&ask)) break;
      c->serve_round_bytes += answer;
      SyncServe serve;
      serve.ask = Move(ask);
      (void)io->serves.PushBack(Move(serve)).ok();  // reserved
    }
  }
  SettleSyncJobsLocked(c, now_ns);
  AskSyncLocked(c, now_ns);
}

void Node::AskSyncLocked(Connection* c, uint64_t now_ns) {
  Session* session = c->session;
  if (!c->opened || !session->open()) return;
  const uint64_t block = config_.sync_block_bytes;
  const size_t n = sync_jobs_.size();
  const size_t first = c->sync_turn < n ? c->sync_turn : 0;
  c->sync_turn = first + 1;
  for (size_t step = 0; step < n; ++step) {
    SyncJob* job = sync_jobs_[(first + step) % n];
    if (job->idle()) {
      if (!job->planned || job->restart_pending ||
          job->target.source.slice() != c->peer.slice() ||
          now_ns < job->retry_ns || job->position >= job->target.size) {
        continue;
      }
      job->connection = c;
    }
    if (job->connection != c || job->failed()) continue;
    const Slice name = Slice::FromCString(job->target.resource);
    // The differing blocks of the compared windows, in device order.
    size_t in_flight = job->blocks_in_flight();
    bool room = true;
    for (size_t k = 0; k < job->windows.size() && room; ++k) {
      SyncWindow& w = job->windows[k];
      if (!w.compared) break;
      while (w.next_range < w.ranges.size() &&
             in_flight < config_.sync_requests) {
        SyncRange& r = w.ranges[w.next_range];
        // Within peer_inflight_bytes for the connection (a multiple of
        // 4 KiB, so a range cut to it stays aligned); read per request.
        const uint64_t length = c->RequestRoom(r.length);
        if (length == 0 ||
            !session
                 ->RequestBlocks(name, r.offset, static_cast<uint32_t>(length))
                 .ok()) {
          room = false;  // waits for bytes in flight to be written
          break;
        }
        c->AddInflight(length);
        if (length == r.length) {
          w.next_range++;
        } else {  // the rest of the range is asked for later
          r.offset += length;
          r.length -= static_cast<uint32_t>(length);
        }
        w.blocks_in_flight++;
        in_flight++;
      }
      if (w.next_range < w.ranges.size()) break;
    }
    // The digests of the next windows, ahead of their blocks.
    while (!job->restart_pending && job->planned &&
           job->windows.size() < config_.sync_windows) {
      const uint64_t start =
          job->windows.empty() ? job->position : job->windows.back().end;
      if (start >= job->target.size) break;
      uint64_t length = block * config_.sync_window_blocks;
      if (job->target.size - start < length) length = job->target.size - start;
      if (!job->windows.Reserve(job->windows.size() + 1).ok() ||
          !session->RequestDigests(name, start, length, block).ok()) {
        break;
      }
      SyncWindow w;
      w.start = start;
      w.end = start + length;
      (void)job->windows.PushBack(Move(w)).ok();  // reserved
    }
    if (job->idle()) job->connection = nullptr;
  }
}

void Node::DoSyncIo(SyncIo* io) {
  if (io->empty()) return;
  engine::DataAccess* access = config_.data_access;
  if (access != nullptr && io->buffer == nullptr) {
    io->buffer = platform::AllocateIoBuffer(kIoChunk, platform::Gfp::kKernel);
    io->buffer_bytes = kIoChunk;
    if (io->buffer == nullptr) {
      io->buffer =
          platform::AllocateIoBuffer(kIoChunkMin, platform::Gfp::kKernel);
      io->buffer_bytes = io->buffer != nullptr ? kIoChunkMin : 0;
    }
  }
  uint8_t* const buffer = static_cast<uint8_t*>(io->buffer);
  const size_t io_chunk = io->buffer_bytes;
  // Compare the source's digests with the local window's.
  for (size_t i = 0; i < io->compares.size(); ++i) {
    SyncCompare& cmp = io->compares[i];
    if (buffer == nullptr || cmp.block_size == 0 || cmp.block_size > io_chunk) {
      continue;
    }
    const Slice name = BytesSlice(cmp.resource);
    const uint64_t count = (cmp.length + cmp.block_size - 1) / cmp.block_size;
    if (cmp.remote.size() != count * platform::kSha256Bytes) continue;
    bool ok = true;
    cmp.failure = ForEachDeviceStep(
        cmp.offset, cmp.length, cmp.block_size, buffer, io_chunk,
        [&](uint64_t offset, void* into, size_t size) {
          return access->ReadAsTarget(name, offset, into, size);
        },
        [&](uint64_t k, uint64_t offset, const uint8_t* block, size_t size) {
          uint8_t digest[platform::kSha256Bytes];
          platform::Sha256(block, size, digest);
          platform::AddCounter(platform::Counter::kSyncBytesCompared, size);
          if (__builtin_memcmp(digest,
                               cmp.remote.data() + k * platform::kSha256Bytes,
                               platform::kSha256Bytes) == 0) {
            return true;
          }
          // Differing blocks, contiguous ones merged up to a chunk.
          if (!cmp.differ.empty()) {
            SyncRange& last = cmp.differ.back();
            if (last.offset + last.length == offset &&
                last.length + size <= wire::kMaxDataChunk) {
              last.length += static_cast<uint32_t>(size);
              return true;
            }
          }
          ok = cmp.differ
                   .PushBack(SyncRange{offset, static_cast<uint32_t>(size)})
                   .ok();
          return ok;
        });
    cmp.ok = ok && cmp.failure.ok();
  }
  // Write the blocks received.
  for (size_t i = 0; i < io->writes.size(); ++i) {
    SyncWrite& w = io->writes[i];
    if (buffer == nullptr) continue;
    bool ok = true;
    for (size_t at = 0; at < w.data.size() && ok; at += io_chunk) {
      size_t size = w.data.size() - at;
      if (size > io_chunk) size = io_chunk;
      __builtin_memcpy(buffer, w.data.data() + at, size);
      w.failure = access->WriteAsTarget(BytesSlice(w.resource), w.offset + at,
                                        buffer, size);
      ok = w.failure.ok();
    }
    w.ok = ok;
    if (ok)
      platform::AddCounter(platform::Counter::kSyncBytesCopied, w.data.size());
  }
  for (size_t i = 0; i < io->flushes.size(); ++i) {
    SyncFlush& f = io->flushes[i];
    if (access == nullptr) continue;
    f.failure = access->FlushAsTarget(BytesSlice(f.resource));
    f.ok = f.failure.ok();
  }
  // Serve the peer's requests: read, and digest or copy.
  for (size_t i = 0; i < io->serves.size(); ++i) {
    SyncServe& s = io->serves[i];
    const SyncAsk& ask = s.ask;
    if (buffer == nullptr) continue;
    const Slice name = BytesSlice(ask.resource);
    const bool digests = ask.kind == SyncAsk::Kind::kDigests;
    const uint64_t step = digests ? ask.block_size : io_chunk;
    if (step == 0 || step > io_chunk) continue;  // unavailable
    const uint64_t count = (ask.length + step - 1) / step;
    const size_t payload = digests ? count * platform::kSha256Bytes
                                   : static_cast<size_t>(ask.length);
    if (!digests && !io->spare_payloads.empty()) {
      s.payload = Move(io->spare_payloads.back());
      io->spare_payloads.PopBack();
    }
    // Every byte is written below before it is sent.
    if (!s.payload.ResizeForOverwrite(payload).ok()) continue;
    engine::LogPosition bound;
    const Status read = ForEachDeviceStep(
        ask.offset, ask.length, step, buffer, io_chunk,
        [&](uint64_t offset, void* into, size_t size) {
          return access->ReadAsSource(name, offset, into, size, &bound);
        },
        [&](uint64_t k, uint64_t, const uint8_t* block, size_t size) {
          if (digests) {
            platform::Sha256(block, size,
                             s.payload.data() + k * platform::kSha256Bytes);
          } else {  // checksummed as copied: sent from there
            s.payload_crc = platform::Crc32cCopy(
                s.payload_crc, s.payload.data() + k * step, block, size);
          }
          return true;
        });
    s.ok = read.ok();
    s.bound_logfile = bound.logfile;
    s.bound_offset = bound.offset;
  }
}

void Node::FinishSyncWorkLocked(Connection* c, uint64_t now_ns, SyncIo* io) {
  Session* session = c->session;
  for (size_t i = 0; i < io->serves.size(); ++i) {
    const SyncServe& s = io->serves[i];
    const SyncAsk& ask = s.ask;
    Status sent;
    if (ask.kind == SyncAsk::Kind::kDigests) {
      wire::DigestReply reply;
      reply.resource = BytesSlice(ask.resource);
      reply.offset = ask.offset;
      reply.length = ask.length;
      reply.block_size = ask.block_size;
      if (s.ok) {
        reply.log_number = s.bound_logfile;
        reply.log_offset = s.bound_offset;
        reply.digests = BytesSlice(s.payload);
      } else {
        reply.flags = wire::kSyncUnavailable;
      }
      sent = session->SendDigestReply(reply);
    } else {
      wire::BlockData data;
      data.resource = BytesSlice(ask.resource);
      data.offset = ask.offset;
      if (s.ok) {
        data.log_number = s.bound_logfile;
        data.log_offset = s.bound_offset;
        data.data = BytesSlice(s.payload);
        // The output refers to s.payload, kept until the next round's
        // send (RunConnection clears the SyncIo after it).
        sent = session->SendBlockDataInPlace(data, s.payload_crc);
      } else {
        data.flags = wire::kSyncUnavailable;
        sent = session->SendBlockData(data);
      }
    }
    if (!sent.ok()) break;  // the session closed
  }
  for (size_t i = 0; i < io->compares.size(); ++i) {
    SyncCompare& cmp = io->compares[i];
    SyncJob* job = FindSyncJobLocked(BytesSlice(cmp.resource));
    if (job == nullptr || job->connection != c) continue;
    SyncWindow* w = job->WindowAt(cmp.offset);
    if (w == nullptr || w->start != cmp.offset || !w->comparing) continue;
    w->comparing = false;
    if (!cmp.ok) {
      NoteSyncFailure(job, "read", cmp.failure);
      w->failed = true;
      continue;
    }
    w->ranges = Move(cmp.differ);
    w->next_range = 0;
    w->compared = true;
  }
  for (size_t i = 0; i < io->writes.size(); ++i) {
    const SyncWrite& write = io->writes[i];
    c->ReleaseInflight(write.data.size());  // written (or failed) by now
    SyncJob* job = FindSyncJobLocked(BytesSlice(write.resource));
    if (job == nullptr || job->connection != c) continue;
    SyncWindow* w = job->WindowAt(write.offset);
    if (w == nullptr || w->blocks_in_flight == 0) continue;
    w->blocks_in_flight--;
    if (!write.ok) {
      w->failed = true;
      NoteSyncFailure(job, "write", write.failure);
    }
  }
  // The received frames go back to the session for the next ones.
  for (SyncCompare& cmp : io->compares) {
    session->RecycleBuffer(Move(cmp.frame));
  }
  for (SyncWrite& write : io->writes) {
    session->RecycleBuffer(Move(write.frame));
  }
  // Windows written in full are finished first: a flush of this round
  // covers them.
  SettleSyncJobsLocked(c, now_ns);
  for (size_t i = 0; i < io->flushes.size(); ++i) {
    const SyncFlush& f = io->flushes[i];
    SyncJob* job = FindSyncJobLocked(BytesSlice(f.resource));
    if (job == nullptr) continue;
    job->flush_in_flight = false;
    if (!f.ok) {
      // Whatever was written since the last good flush may not be on the
      // device: start again from syncstatus-HOST once idle.
      NoteSyncFailure(job, "flush", f.failure);
      job->restart_pending = true;
      job->flush_wanted = false;
      continue;
    }
    if (f.covers > job->durable_position && f.covers <= job->position) {
      job->durable_position = f.covers;
    }
    PublishSyncLocked(job, now_ns, false);
  }
  AskSyncLocked(c, now_ns);
}

void Node::SettleSyncJobsLocked(Connection* c, uint64_t now_ns) {
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->connection != c) continue;
    // Windows written in full finish in device order.
    while (!job->windows.empty() && job->windows[0].done()) {
      FinishSyncWindowLocked(job, now_ns);
    }
    // No longer planned, or to start again: of the windows asked for
    // ahead, those whose digests have not come back go (a late reply is
    // then not taken); the others finish.
    if (!job->planned || job->restart_pending) {
      while (job->windows.size() > 1 && !job->windows.back().comparing &&
             !job->windows.back().compared) {
        job->windows.PopBack();
      }
    }
    if (!job->failed()) continue;
    // A failed window: the rest starts again once nothing of it is in
    // flight (a digest-request may be: its reply is then not taken).
    bool busy = false;
    for (const SyncWindow& w : job->windows) {
      busy = busy || w.comparing || w.blocks_in_flight > 0;
    }
    if (!busy) RestartSyncWindowsLocked(job, now_ns);
  }
}

void Node::NoteSyncFailure(SyncJob* job, const char* what, Status why) {
  // Not attached as a waiting secondary (yet): a state, not a failure.
  if (why.ok() || why.code() == StatusCode::kUnavailable ||
      why.code() == StatusCode::kNotFound) {
    return;
  }
  tree::TextWriter w(job->error, sizeof(job->error));
  w.CString("sync cannot ");
  w.CString(what);
  w.CString(" the data device: ");
  w.CString(why.message());
  w.CString(" (retrying)");
}

void Node::FinishSyncWindowLocked(SyncJob* job, uint64_t now_ns) {
  const SyncWindow& w = job->windows[0];
  job->error[0] = '\0';
  // Nothing written is unflushed below durable_position == position.
  const bool all_durable = job->durable_position == job->position;
  job->rate_bytes += w.end - w.start;
  job->position = w.end;
  if (all_durable && w.ranges.empty()) {
    job->durable_position = job->position;
  } else if ((job->position >= job->target.size ||
              now_ns - job->last_publish_ns >= kSyncPublishIntervalNs) &&
             !(job->flush_in_flight && job->flush_covers >= job->position)) {
    job->flush_wanted = true;  // the next round flushes, then publishes
  }
  job->windows.Erase(0);
  if (job->windows.empty()) job->connection = nullptr;
  PublishSyncLocked(job, now_ns, false);
}

bool Node::SyncFlushWantedLocked(const Connection* c) {
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    const SyncJob* job = sync_jobs_[i];
    if (job->flush_wanted && !job->flush_in_flight && job->planned &&
        job->target.source.slice() == c->peer.slice()) {
      return true;
    }
  }
  return false;
}

void Node::RestartSyncWindowsLocked(SyncJob* job, uint64_t now_ns) {
  job->windows.Clear();
  job->connection = nullptr;
  job->retry_ns = now_ns + config_.sync_retry_ns;
}

void Node::DropConnectionSyncLocked(Connection* c) {
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->connection == c) RestartSyncWindowsLocked(job, 0);
  }
}

}  // namespace peer
}  // namespace mars
