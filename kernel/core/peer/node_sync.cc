// Node: block sync of a secondary's data device from its designated primary
// and serving it (docu/replication.md §6 "Sync").
//
// Per resource, one window of sync_window_blocks digest blocks at a time:
// ask the source for the window's digests, compare them with the local
// device's, ask for the blocks that differ (sync_requests in flight), write
// them, then go on with the next window. syncstatus-HOST moves at most every
// kSyncPublishIntervalNs and at the end, each time after a flush of the
// local device, to the end of the windows that flush covers. Every answer of
// the source carries its log bound; the largest one becomes syncpos-HOST, which
// replay must pass before the replica is consistent. Device I/O goes through
// engine::DataAccess, never under the node's lock; jobs are found by resource
// name after every unlock.
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

Status CopyTo(Slice from, Bytes* to) {
  to->Clear();
  return AppendSlice(to, from);
}

}  // namespace

Node::SyncIo* Node::NewSyncIo() { return New<SyncIo>(platform::Gfp::kKernel); }

void Node::DeleteSyncIo(SyncIo* io) { Delete(io); }

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
    if (job->restart_pending && job->phase == SyncJob::Phase::kIdle &&
        !job->flush_in_flight) {
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
    if (!job->planned && job->phase == SyncJob::Phase::kIdle &&
        !job->flush_in_flight && !job->syncing_published &&
        job->error_published[0] == '\0') {
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
  const bool syncing = job->planned || job->phase != SyncJob::Phase::kIdle ||
                       job->flush_in_flight;
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
    if (got.kind == SyncAsk::Kind::kDigests) {
      if (job->phase != SyncJob::Phase::kDigests) continue;
      if (got.unavailable) {
        RestartSyncWindowLocked(job, now_ns);
        continue;
      }
      job->bound.Raise(got.log_number, got.log_offset);
      SyncCompare compare;
      compare.offset = got.offset;
      compare.length = got.length;
      compare.block_size = got.block_size;
      compare.resource = Move(got.resource);
      compare.remote = Move(got.payload);
      if (!io->compares.PushBack(Move(compare)).ok()) {
        RestartSyncWindowLocked(job, now_ns);
      }
      continue;
    }
    // Block data: no longer in flight once taken; the bytes handed to a
    // write count again until it is done (FinishSyncWorkLocked).
    if (job->phase != SyncJob::Phase::kBlocks || job->blocks_in_flight == 0) {
      continue;
    }
    if (got.unavailable) {
      job->blocks_in_flight--;
      job->window_failed = true;
      continue;
    }
    job->bound.Raise(got.log_number, got.log_offset);
    SyncWrite write;
    write.offset = got.offset;
    write.resource = Move(got.resource);
    write.data = Move(got.payload);
    const uint64_t bytes = write.data.size();
    if (io->writes.PushBack(Move(write)).ok()) {
      c->AddInflight(bytes);  // as before the take: no new maximum
    } else {
      job->blocks_in_flight--;
      job->window_failed = true;
    }
  }
  // A window whose last blocks are written in this round is flushed in it
  // when syncstatus-HOST is due to move (the last window, or the publish
  // interval passed); a flush asked for after windows finished without one
  // goes out in this round too.
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    const Slice name = Slice::FromCString(job->target.resource);
    if (job->flush_in_flight) continue;
    bool window = false;
    if (job->connection == c && job->phase == SyncJob::Phase::kBlocks &&
        job->next_range == job->ranges.size() && !job->window_failed) {
      size_t writes = 0;
      for (size_t k = 0; k < io->writes.size(); ++k) {
        if (BytesSlice(io->writes[k].resource) == name) writes++;
      }
      window = writes > 0 && writes == job->blocks_in_flight &&
               (job->window_end >= job->target.size ||
                now_ns - job->last_publish_ns >= kSyncPublishIntervalNs);
    }
    const bool wanted = job->flush_wanted && job->planned &&
                        job->target.source.slice() == c->peer.slice();
    if (!window && !wanted) continue;
    SyncFlush flush;
    flush.window = window;
    flush.covers = window ? job->window_end : job->position;
    if (!CopyTo(name, &flush.resource).ok() ||
        !io->flushes.PushBack(Move(flush)).ok()) {
      if (window) job->window_failed = true;
      continue;
    }
    job->flush_in_flight = true;
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
  AskSyncLocked(c, now_ns);
}

void Node::AskSyncLocked(Connection* c, uint64_t now_ns) {
  Session* session = c->session;
  if (!c->opened || !session->open()) return;
  const uint64_t block = config_.sync_block_bytes;
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->phase == SyncJob::Phase::kIdle) {
      if (!job->planned || job->restart_pending ||
          job->target.source.slice() != c->peer.slice() ||
          now_ns < job->retry_ns || job->position >= job->target.size) {
        continue;
      }
      uint64_t length = block * config_.sync_window_blocks;
      if (job->target.size - job->position < length) {
        length = job->target.size - job->position;
      }
      if (!session
               ->RequestDigests(Slice::FromCString(job->target.resource),
                                job->position, length, config_.sync_block_bytes)
               .ok()) {
        continue;
      }
      job->phase = SyncJob::Phase::kDigests;
      job->connection = c;
      job->window_end = job->position + length;
      continue;
    }
    if (job->connection != c || job->phase != SyncJob::Phase::kBlocks ||
        job->window_failed) {
      continue;
    }
    while (job->next_range < job->ranges.size() &&
           job->blocks_in_flight < config_.sync_requests) {
      SyncRange& r = job->ranges[job->next_range];
      // Within peer_inflight_bytes for the connection (a multiple of 4 KiB,
      // so a range cut to it stays aligned); read per request.
      const uint64_t length = c->RequestRoom(r.length);
      if (length == 0) break;  // waits for bytes in flight to be written
      if (!session
               ->RequestBlocks(Slice::FromCString(job->target.resource),
                               r.offset, static_cast<uint32_t>(length))
               .ok()) {
        break;
      }
      c->AddInflight(length);
      if (length == r.length) {
        job->next_range++;
      } else {  // the rest of the range is asked for later
        r.offset += length;
        r.length -= static_cast<uint32_t>(length);
      }
      job->blocks_in_flight++;
    }
  }
}

void Node::DoSyncIo(SyncIo* io) {
  if (io->empty()) return;
  engine::DataAccess* access = config_.data_access;
  size_t io_chunk = kIoChunk;
  void* buffer = nullptr;
  if (access != nullptr) {
    buffer = platform::AllocateIoBuffer(io_chunk, platform::Gfp::kKernel);
    if (buffer == nullptr) {
      io_chunk = kIoChunkMin;
      buffer = platform::AllocateIoBuffer(io_chunk, platform::Gfp::kKernel);
    }
  }
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
    const uint64_t per_read = io_chunk / cmp.block_size * cmp.block_size;
    uint64_t read_end = cmp.offset;  // buffer holds [read_end - read, read_end)
    uint64_t read = 0;
    for (uint64_t k = 0; k < count && ok; ++k) {
      const uint64_t offset = cmp.offset + k * cmp.block_size;
      uint64_t size = cmp.offset + cmp.length - offset;
      if (size > cmp.block_size) size = cmp.block_size;
      if (offset >= read_end) {
        read = cmp.offset + cmp.length - offset;
        if (read > per_read) read = per_read;
        cmp.failure = access->ReadAsTarget(name, offset, buffer, read);
        ok = cmp.failure.ok();
        if (!ok) break;
        read_end = offset + read;
      }
      const uint8_t* block =
          static_cast<const uint8_t*>(buffer) + (offset - (read_end - read));
      uint8_t digest[platform::kSha256Bytes];
      platform::Sha256(block, size, digest);
      platform::AddCounter(platform::Counter::kSyncBytesCompared, size);
      if (__builtin_memcmp(digest,
                           cmp.remote.data() + k * platform::kSha256Bytes,
                           platform::kSha256Bytes) == 0) {
        continue;
      }
      // Differing blocks, contiguous ones merged up to a chunk.
      if (!cmp.differ.empty()) {
        SyncRange& last = cmp.differ.back();
        if (last.offset + last.length == offset &&
            last.length + size <= wire::kMaxDataChunk) {
          last.length += static_cast<uint32_t>(size);
          continue;
        }
      }
      ok = cmp.differ.PushBack(SyncRange{offset, static_cast<uint32_t>(size)})
               .ok();
    }
    cmp.ok = ok;
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
    if (!s.payload.Resize(payload).ok()) continue;
    bool ok = true;
    engine::LogPosition bound;
    const uint64_t per_read = io_chunk / step * step;
    uint64_t read_end = ask.offset;  // buffer holds [read_end - read, read_end)
    uint64_t read = 0;
    for (uint64_t k = 0; k < count && ok; ++k) {
      const uint64_t offset = ask.offset + k * step;
      uint64_t size = ask.offset + ask.length - offset;
      if (size > step) size = step;
      if (offset >= read_end) {
        read = ask.offset + ask.length - offset;
        if (read > per_read) read = per_read;
        ok = access->ReadAsSource(name, offset, buffer, read, &bound).ok();
        if (!ok) break;
        read_end = offset + read;
      }
      const uint8_t* block =
          static_cast<const uint8_t*>(buffer) + (offset - (read_end - read));
      if (digests) {
        platform::Sha256(block, size,
                         s.payload.data() + k * platform::kSha256Bytes);
      } else {
        __builtin_memcpy(s.payload.data() + k * step, block, size);
      }
    }
    s.ok = ok;
    s.bound_logfile = bound.logfile;
    s.bound_offset = bound.offset;
  }
  if (buffer != nullptr) platform::FreeIoBuffer(buffer);
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
      } else {
        data.flags = wire::kSyncUnavailable;
      }
      sent = session->SendBlockData(data);
    }
    if (!sent.ok()) break;  // the session closed
  }
  for (size_t i = 0; i < io->compares.size(); ++i) {
    SyncCompare& cmp = io->compares[i];
    SyncJob* job = FindSyncJobLocked(BytesSlice(cmp.resource));
    if (job == nullptr || job->connection != c ||
        job->phase != SyncJob::Phase::kDigests) {
      continue;
    }
    if (!cmp.ok) {
      NoteSyncFailure(job, "read", cmp.failure);
      RestartSyncWindowLocked(job, now_ns);
      continue;
    }
    job->ranges = Move(cmp.differ);
    job->next_range = 0;
    job->blocks_in_flight = 0;
    job->window_failed = false;
    if (job->ranges.empty()) {
      FinishSyncWindowLocked(job, now_ns, /*flushed=*/false);
    } else {
      job->phase = SyncJob::Phase::kBlocks;
    }
  }
  for (size_t i = 0; i < io->writes.size(); ++i) {
    const SyncWrite& w = io->writes[i];
    c->ReleaseInflight(w.data.size());  // written (or failed) by now
    SyncJob* job = FindSyncJobLocked(BytesSlice(w.resource));
    if (job == nullptr || job->connection != c ||
        job->phase != SyncJob::Phase::kBlocks || job->blocks_in_flight == 0) {
      continue;
    }
    job->blocks_in_flight--;
    if (!w.ok) {
      job->window_failed = true;
      NoteSyncFailure(job, "write", w.failure);
    }
  }
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
      if (f.window) job->window_failed = true;
      continue;
    }
    if (!f.window) {
      if (f.covers > job->durable_position && f.covers <= job->position) {
        job->durable_position = f.covers;
      }
      PublishSyncLocked(job, now_ns, false);
      continue;
    }
    if (job->connection == c && job->phase == SyncJob::Phase::kBlocks &&
        !job->window_failed && job->blocks_in_flight == 0 &&
        job->next_range == job->ranges.size()) {
      FinishSyncWindowLocked(job, now_ns, /*flushed=*/true);
    }
  }
  // Windows written in full without a flush (syncstatus-HOST not due).
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->connection == c && job->phase == SyncJob::Phase::kBlocks &&
        !job->window_failed && !job->flush_in_flight &&
        job->blocks_in_flight == 0 && job->next_range == job->ranges.size()) {
      FinishSyncWindowLocked(job, now_ns, /*flushed=*/false);
    }
  }
  // A failed window starts again once none of its blocks is in flight.
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->connection == c && job->phase == SyncJob::Phase::kBlocks &&
        job->window_failed && job->blocks_in_flight == 0) {
      RestartSyncWindowLocked(job, now_ns);
    }
  }
  AskSyncLocked(c, now_ns);
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

void Node::FinishSyncWindowLocked(SyncJob* job, uint64_t now_ns, bool flushed) {
  job->error[0] = '\0';
  // Nothing written is unflushed below durable_position == position.
  const bool all_durable = job->durable_position == job->position;
  job->rate_bytes += job->window_end - job->position;
  job->position = job->window_end;
  if (flushed || (all_durable && job->ranges.empty())) {
    job->durable_position = job->position;
    job->flush_wanted = false;
  } else if (job->position >= job->target.size ||
             now_ns - job->last_publish_ns >= kSyncPublishIntervalNs) {
    job->flush_wanted = true;  // the next round flushes, then publishes
  }
  job->phase = SyncJob::Phase::kIdle;
  job->connection = nullptr;
  job->ranges.Clear();
  job->next_range = 0;
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

void Node::RestartSyncWindowLocked(SyncJob* job, uint64_t now_ns) {
  job->phase = SyncJob::Phase::kIdle;
  job->connection = nullptr;
  job->ranges.Clear();
  job->next_range = 0;
  job->blocks_in_flight = 0;
  job->window_failed = false;
  job->retry_ns = now_ns + config_.sync_retry_ns;
}

void Node::DropConnectionSyncLocked(Connection* c) {
  for (size_t i = 0; i < sync_jobs_.size(); ++i) {
    SyncJob* job = sync_jobs_[i];
    if (job->connection == c) RestartSyncWindowLocked(job, 0);
  }
}

}  // namespace peer
}  // namespace mars
