// Node: fetching logfiles from peers and serving them
// (docu/replication.md §5 "Fetch").
//
// The tree pass turns the fetch plan (fetch_plan.h) into one job per
// logfile to fetch. Each connection thread, under the node's lock, hands
// the data its session received and the requests its peer sent over to the
// thread (TakeFetchWorkLocked), issues the next requests of the jobs whose
// source is its peer, then writes and reads the files without the lock
// (DoFetchIo) and finally updates the jobs and sends the answers
// (FinishFetchWorkLocked). Jobs are found by path after every unlock: the
// tree pass may drop them meanwhile.
#include "core/base/memory.h"
#include "core/peer/node.h"
#include "core/peer/node_internal.h"
#include "core/platform_io.h"
#include "core/tree/entry.h"
#include "core/tree/log_names.h"
#include "core/tree/text.h"

namespace mars {
namespace peer {

namespace {

bool SameText(Slice a, const char* b) { return a == Slice::FromCString(b); }

// The resource name R of "resource-R/...".
Slice ResourceOf(const char* relpath) {
  const Slice path = Slice::FromCString(relpath);
  constexpr size_t kPrefix = sizeof("resource-") - 1;
  size_t end = kPrefix;
  while (end < path.size() && path[end] != '/') ++end;
  return end <= path.size() && end > kPrefix
             ? path.SubSlice(kPrefix, end - kPrefix)
             : Slice();
}

// fetch-rate is recomputed and published at most this often; so is
// fetch-pos while it moves within a logfile.
constexpr uint64_t kFetchRateIntervalNs = 5 * kNsPerSecond;
// A local logfile copy is made durable (fdatasync) when it is complete and
// at most this often while it grows; after a failed sync, the bytes cut
// are asked for again after kFetchSyncRetryNs.
constexpr uint64_t kFetchSyncIntervalNs = 1 * kNsPerSecond;
constexpr uint64_t kFetchSyncRetryNs = 2 * kNsPerSecond;

void CopyTextPath(char* out, const char* text) {
  const size_t n = __builtin_strlen(text);
  __builtin_memcpy(out, text, n + 1);
}

}  // namespace

bool CutBackLocalCopy(engine::LogDurability* copies, platform::File* file,
                      uint64_t synced_size, uint64_t* size) {
  if (copies != nullptr) copies->LockCopies();
  bool ok = file->Size(size).ok();
  if (ok && *size > synced_size) {
    ok = file->Truncate(synced_size).ok();
    if (ok) *size = synced_size;
  }
  if (copies != nullptr) copies->UnlockCopies();
  return ok;
}

bool Node::LocalPath(Slice relpath, char* path) const {
  const size_t root = __builtin_strlen(config_.root);
  if (root + 1 + relpath.size() > platform::kMaxPathBytes) return false;
  __builtin_memcpy(path, config_.root, root);
  path[root] = '/';
  __builtin_memcpy(path + root + 1, relpath.data(), relpath.size());
  path[root + 1 + relpath.size()] = '\0';
  return true;
}

Node::FetchJob* Node::FindJobLocked(Slice relpath) {
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (SameText(relpath, jobs_[i]->target.relpath)) return jobs_[i];
  }
  return nullptr;
}

void Node::PlanFetchLocked(uint64_t now_ns) {
  plan_.Clear();
  if (!PlanFetch(*tree_, host_.slice(), &plan_).ok()) return;  // next pass
  for (size_t i = 0; i < jobs_.size(); ++i) jobs_[i]->planned = false;
  for (size_t i = 0; i < plan_.size(); ++i) {
    const FetchTarget& t = plan_[i];
    FetchJob* job = FindJobLocked(Slice::FromCString(t.relpath));
    if (job == nullptr) {
      job = New<FetchJob>(platform::Gfp::kKernel);
      if (job == nullptr || !jobs_.PushBack(job).ok()) {
        Delete(job);
        return;
      }
      // The first sync of a growing copy a sync interval from now, not at
      // its first answer (a complete copy is synced at once regardless).
      job->sync_due_ns = now_ns + kFetchSyncIntervalNs;
    }
    job->target = t;
    job->planned = true;
    if (job->done && job->in_flight == 0 && !job->stat_pending) {
      // Check the finished copy again once per pass: the replayer cuts a
      // damaged tail, which is then fetched again.
      job->done = false;
      job->size_known = false;
    }
  }
  for (size_t i = 0; i < resource_fetches_.size(); ++i) {
    resource_fetches_[i]->planned = false;
  }
  for (size_t i = 0; i < plan_.size(); ++i) {
    ResourceFetch* r = FindResourceFetchLocked(
        ResourceOf(plan_[i].relpath), /*create=*/true);
    if (r != nullptr) r->planned = true;
  }
  PublishFetchStateLocked(now_ns);
  // Jobs no longer planned go once nothing of theirs is in flight.
  for (size_t i = 0; i < jobs_.size();) {
    FetchJob* job = jobs_[i];
    if (!job->planned && job->in_flight == 0 && !job->stat_pending) {
      jobs_.Erase(i);
      Delete(job);
    } else {
      ++i;
    }
  }
}

bool Node::JobWantsConnectionLocked(const FetchJob* job, const Connection* c) {
  if (job->done || !job->planned) return false;
  if (job->connection != nullptr) return job->connection == c;
  if (job->target.source.slice() == c->peer.slice()) return true;
  // The source is not reachable: any connected member may hold a copy.
  return !ConnectedLocked(job->target.source) &&
         job->target.source.slice() != host_.slice();
}

void Node::TakeFetchWorkLocked(Connection* c, uint64_t now_ns, FetchIo* io) {
  Session* session = c->session;
  LogfileGot got;
  while (session->TakeLogfileData(&got)) {
    const uint32_t requested = got.max_length;
    if (!io->got.PushBack(Move(got)).ok()) {
      c->ReleaseInflight(requested);  // dropped: asked again later
      break;
    }
  }
  PlanFetchSyncsLocked(now_ns, io);
  // The peer's requests, as many as the round's answers may hold (the
  // first always): the rest wait in the session.
  LogfileAsk ask;
  while (c->ServeRoom(session->NextLogfileRequestBytes()) &&
         session->TakeLogfileRequest(&ask)) {
    const uint32_t answer = ask.max_length;
    if (!io->asks.PushBack(Move(ask)).ok()) break;
    c->serve_round_bytes += answer;
  }
  AskFetchLocked(c, now_ns, io);
}

void Node::AskFetchLocked(Connection* c, uint64_t now_ns, FetchIo* io) {
  if (!c->opened || !c->session->open()) return;
  // Per resource only the first unfinished logfile is fetched: its jobs
  // come in plan order, so a later job of the same resource waits.
  for (size_t i = 0; i < jobs_.size(); ++i) {
    FetchJob* job = jobs_[i];
    // The copy may have reached the final length before a version link
    // made it known (bytes can travel ahead of the tree): then it is done
    // now, and the next logfile may start.
    if (!job->done && job->size_known && job->in_flight == 0 &&
        !job->stat_pending && job->target.final_known &&
        job->local_size >= job->target.final_length) {
      CompleteFetchJobLocked(job);
    }
    if (!JobWantsConnectionLocked(job, c)) continue;
    bool earlier_open = false;
    for (size_t k = 0; k < i && !earlier_open; ++k) {
      const FetchJob* other = jobs_[k];
      const Slice a = Slice::FromCString(other->target.relpath);
      const Slice b = Slice::FromCString(job->target.relpath);
      // Same resource directory: "resource-R/".
      size_t slash = 0;
      while (slash < b.size() && b[slash] != '/') ++slash;
      earlier_open = !other->done && other->planned && a.size() > slash &&
                     __builtin_memcmp(a.data(), b.data(), slash + 1) == 0;
    }
    if (earlier_open) continue;
    if (!job->size_known) {
      if (io == nullptr || job->stat_pending || job->in_flight > 0) continue;
      FetchStat stat;
      CopyTextPath(stat.relpath, job->target.relpath);
      stat.size = 0;
      stat.ok = false;
      stat.sync = job->synced_size < job->local_size;
      stat.synced_size = job->synced_size;
      stat.sync_failed = false;
      stat.sync_failure = Status::Ok();
      if (io->stats.PushBack(stat).ok()) job->stat_pending = true;
      continue;
    }
    if (now_ns < job->retry_ns) continue;
    job->may_ask = true;
  }
  // The requests: one per job in turn while the room lasts, beginning
  // after the job that was first in the previous call, so that resources
  // share a small peer_inflight_bytes evenly.
  const size_t n = jobs_.size();
  const size_t start = c->fetch_turn < n ? c->fetch_turn : 0;
  bool first = true;
  for (bool asked = true; asked;) {
    asked = false;
    for (size_t step = 0; step < n; ++step) {
      const size_t i = (start + step) % n;
      FetchJob* job = jobs_[i];
      if (!job->may_ask) continue;
      if (!AskNextChunkLocked(c, job)) {
        job->may_ask = false;
        continue;
      }
      asked = true;
      if (first) c->fetch_turn = i + 1;
      first = false;
    }
  }
  for (size_t i = 0; i < n; ++i) jobs_[i]->may_ask = false;
}

size_t Node::FetchWindowLocked(const Connection* c) const {
  const uint64_t limit = Connection::InflightLimit();
  size_t window = kBaseFetchWindow;
  if (limit > wire::kMaxDataChunk && config_.fetch_chunk_bytes > 0) {
    const uint64_t fits =
        (limit - wire::kMaxDataChunk) / config_.fetch_chunk_bytes;
    if (fits > window) window = static_cast<size_t>(fits);
  }
  if (window > config_.fetch_window) window = config_.fetch_window;
  const size_t peer = c->session->LogfileRequestLimit();
  return window < peer ? window : peer;
}

bool Node::AskNextChunkLocked(Connection* c, FetchJob* job) {
  if (job->in_flight >= FetchWindowLocked(c)) return false;
  uint64_t length = config_.fetch_chunk_bytes;
  if (job->target.final_known) {
    if (job->request_offset >= job->target.final_length) return false;
    const uint64_t left = job->target.final_length - job->request_offset;
    if (left < length) length = left;
  } else if (job->in_flight > 0 && job->request_offset >= job->peer_size) {
    // The window is for bytes the peer has: past them, one request finds
    // out whether it has more (the others would come back empty).
    return false;
  }
  // Within peer_inflight_bytes for the connection; read per request, so a
  // new value counts at once. None: waits for bytes in flight to be written.
  length = c->RequestRoom(length);
  if (length == 0) return false;
  if (!c->session
           ->RequestLogfile(Slice::FromCString(job->target.relpath),
                            job->request_offset, static_cast<uint32_t>(length))
           .ok()) {
    return false;
  }
  c->AddInflight(length);
  job->connection = c;
  job->request_offset += length;
  job->in_flight++;
  return true;
}

void Node::PlanFetchSyncsLocked(uint64_t now_ns, FetchIo* io) {
  if (!io->got_results.Resize(io->got.size()).ok()) return;  // DoFetchIo
  // The last answer of the round for a logfile syncs its copy, when the
  // copy is complete with it (the answer reaches the final size) or the
  // last sync is kFetchSyncIntervalNs ago. Not every answer of a finished
  // logfile: that would sync the copy of a catching-up fetch per request.
  for (size_t i = io->got.size(); i-- > 0;) {
    const LogfileGot& got = io->got[i];
    const Slice name(got.name.data(), got.name.size());
    bool later = false;
    for (size_t k = i + 1; k < io->got.size() && !later; ++k) {
      later = Slice(io->got[k].name.data(), io->got[k].name.size()) == name;
    }
    FetchJob* job = FindJobLocked(name);
    if (later || job == nullptr) continue;
    FetchWriteResult& r = io->got_results[i];
    r.sync = (got.file_complete && got.end_of_file) ||
             now_ns >= job->sync_due_ns;
    r.synced_size = job->synced_size;
    if (r.sync) job->sync_due_ns = now_ns + kFetchSyncIntervalNs;
  }
}

void Node::DoFetchIo(FetchIo* io) {
  if (io->empty()) return;
  char* path = static_cast<char*>(
      platform::Allocate(platform::kMaxPathBytes + 1, platform::Gfp::kKernel));
  if (path == nullptr) return;  // results stay empty: the jobs retry
  // Data received: appended when it continues the local copy exactly.
  if (io->got_results.Resize(io->got.size()).ok()) {
    for (size_t i = 0; i < io->got.size(); ++i) {
      const LogfileGot& got = io->got[i];
      FetchWriteResult& r = io->got_results[i];
      if (!LocalPath(Slice(got.name.data(), got.name.size()), path)) {
        continue;
      }
      platform::File file;
      r.failure =
          file.Open(path, platform::File::kWrite | platform::File::kCreate);
      if (!r.failure.ok()) continue;
      // The size read and the append, with no cut by the replayer between.
      if (config_.durability != nullptr) config_.durability->LockCopies();
      uint64_t size = 0;
      r.failure = file.Size(&size);
      if (r.failure.ok()) {
        r.size_known = true;
        r.size_after = size;
        if (size == got.offset && !got.data.empty()) {
          r.failure = file.Write(got.offset, got.data.data(), got.data.size());
          if (r.failure.ok()) {
            r.wrote = true;
            r.size_after = size + got.data.size();
          }
        }
      }
      if (config_.durability != nullptr) config_.durability->UnlockCopies();
      if (r.failure.ok() && r.sync && r.size_after > r.synced_size) {
        // Without the copies lock: a cut by the replayer does not wait for
        // the disk (one made meanwhile is seen as one after the round: the
        // next answer does not continue the copy, whose size is read again).
        // Also reports a failed writeback of earlier rounds' bytes.
        r.failure = file.Sync(r.synced_size, r.size_after);
        r.sync_ran = true;
        r.synced = r.failure.ok();
        if (!r.synced &&
            CutBackLocalCopy(config_.durability, &file, r.synced_size, &size)) {
          r.sync_failed = true;
          r.size_after = size;
        }
      }
      file.Close();
    }
  }
  // Requests of the peer: read now, trimmed to what may be served later.
  // Consecutive requests for one logfile (a round holds several) read it
  // through one open.
  if (io->answers.Resize(io->asks.size()).ok()) {
    platform::File file;
    Slice open_name;
    for (size_t i = 0; i < io->asks.size(); ++i) {
      const LogfileAsk& ask = io->asks[i];
      FetchAnswer& a = io->answers[i];
      const Slice name(ask.name.data(), ask.name.size());
      if (!file.is_open() || name != open_name) {
        file.Close();
        Slice resource;
        tree::LogfileName log;
        if (!ParseLogfilePath(name, &resource, &log).ok() ||
            !LocalPath(name, path)) {
          continue;
        }
        a.failure = file.Open(path, platform::File::kRead);
        if (a.failure.code() == StatusCode::kNotFound) {
          a.failure = Status::Ok();  // not here (yet): no bytes, no error
          continue;
        }
        if (!a.failure.ok()) continue;
        open_name = name;
      }
      uint64_t size = 0;
      a.failure = file.Size(&size);
      if (a.failure.ok()) {
        a.file_size = size;
        if (ask.offset < size) {
          uint64_t want = size - ask.offset;
          if (want > ask.max_length) want = ask.max_length;
          size_t done = 0;
          io->ReuseSpareAnswer(&a.data);
          if (a.data.ResizeForOverwrite(static_cast<size_t>(want)).ok()) {
            a.failure =
                file.Read(ask.offset, a.data.data(), a.data.size(), &done);
          }
          if (a.failure.ok()) {
            a.data.ResizeForOverwrite(done).ok();
            // Here, outside the node's lock: the answer's frame is
            // checksummed from it (FinishFetchWorkLocked).
            a.data_crc = platform::Crc32cExtend(0, a.data.data(), done);
          } else {
            a.data.Clear();
          }
        }
      }
      if (!a.failure.ok()) file.Close();  // the next request opens again
    }
  }
  for (size_t i = 0; i < io->stats.size(); ++i) {
    FetchStat& st = io->stats[i];
    if (!LocalPath(Slice::FromCString(st.relpath), path)) continue;
    platform::File file;
    Status s = file.Open(path, platform::File::kRead);
    if (s.code() == StatusCode::kNotFound) {
      st.size = 0;
      st.ok = true;
    } else if (s.ok()) {
      st.ok = file.Size(&st.size).ok();
      file.Close();
    }
    if (st.ok && st.sync && st.size > st.synced_size &&
        file.Open(path, platform::File::kWrite).ok()) {
      st.sync_failure = file.Sync(st.synced_size, st.size);
      uint64_t size = 0;
      if (!st.sync_failure.ok() &&
          CutBackLocalCopy(config_.durability, &file, st.synced_size, &size)) {
        st.sync_failed = true;
        st.size = size;
      }
      file.Close();
    }
  }
  platform::Free(path);
}

void Node::CompleteFetchJobLocked(FetchJob* job) {
  if (job->synced_size >= job->target.final_length) {
    job->done = true;
  } else if (job->in_flight == 0 && !job->stat_pending) {
    // Durable before done: the stat AskFetchLocked takes now syncs it.
    job->size_known = false;
  }
}

void Node::NoteFetchResultLocked(FetchJob* job, bool synced, Status result) {
  ResourceFetch* rf = FindResourceFetchLocked(ResourceOf(job->target.relpath),
                                              /*create=*/false);
  if (rf == nullptr) return;
  constexpr char kSyncFailure[] = "cannot sync the local copy ";
  if (result.ok()) {
    // A write alone does not end a sync failure: writes into the page
    // cache succeed on a failing disk.
    const bool sync_error =
        __builtin_strncmp(rf->error, kSyncFailure, sizeof(kSyncFailure) - 1) ==
        0;
    if (synced || !sync_error) rf->error[0] = '\0';
    return;
  }
  tree::TextWriter w(rf->error, sizeof(rf->error));
  w.CString(synced ? kSyncFailure : "cannot write the local copy ");
  w.CString(job->target.relpath);
  w.CString(": ");
  w.CString(result.message());
  w.CString(" (retrying)");
}

void Node::FinishFetchWorkLocked(Connection* c, uint64_t now_ns, FetchIo* io) {
  for (size_t i = 0; i < io->stats.size(); ++i) {
    const FetchStat& st = io->stats[i];
    FetchJob* job = FindJobLocked(Slice::FromCString(st.relpath));
    if (job == nullptr) continue;
    job->stat_pending = false;
    if (!st.ok) {
      job->retry_ns = now_ns + config_.fetch_poll_ns;
      continue;
    }
    job->size_known = true;
    job->local_size = st.size;
    job->request_offset = st.size;
    job->retry_ns = 0;
    // Durable: what the copy held before this host fetched into it (from
    // an earlier run), what a sync made so, what a failed sync cut it to.
    if (st.sync || job->synced_size > st.size || job->synced_size == 0) {
      job->synced_size = st.size;
    }
    if (st.sync_failed) job->retry_ns = now_ns + kFetchSyncRetryNs;
    if (st.sync) NoteFetchResultLocked(job, true, st.sync_failure);
    if (job->target.final_known && st.size >= job->target.final_length) {
      CompleteFetchJobLocked(job);
    }
  }
  for (size_t i = 0; i < io->got.size(); ++i) {
    const LogfileGot& got = io->got[i];
    c->ReleaseInflight(got.max_length);  // written (or dropped) by now
    FetchJob* job = FindJobLocked(Slice(got.name.data(), got.name.size()));
    if (job == nullptr || job->connection != c) continue;
    if (job->in_flight > 0) job->in_flight--;
    job->peer_size = got.file_size;
    const FetchWriteResult* r =
        i < io->got_results.size() ? &io->got_results[i] : nullptr;
    if (r != nullptr && r->size_known) job->local_size = r->size_after;
    if (r != nullptr && r->synced) job->synced_size = r->size_after;
    ResourceFetch* rf = FindResourceFetchLocked(
        ResourceOf(job->target.relpath), /*create=*/false);
    if (r != nullptr && r->wrote && rf != nullptr) {
      rf->bytes += got.data.size();
    }
    if (r != nullptr && r->sync_failed) {
      // Cut back: everything after synced_size is asked for again, after a
      // pause (a failing disk fails every sync).
      job->size_known = false;
      job->retry_ns = now_ns + kFetchSyncRetryNs;
    }
    if (r != nullptr && (r->wrote || r->sync_ran || !r->failure.ok())) {
      NoteFetchResultLocked(job, r->sync_ran, r->failure);
    }
    if (r == nullptr || !r->size_known || (!r->wrote && !got.data.empty())) {
      // The local copy is not where this answer continues it (cut by the
      // replayer, or a write failed): read its size again.
      if (job->in_flight == 0) job->size_known = false;
      job->retry_ns = now_ns + config_.fetch_poll_ns;
    } else if (got.end_of_file) {
      // The end of what the peer may serve for now: ask again later,
      // from the end of the local copy.
      job->retry_ns = now_ns + config_.fetch_poll_ns;
    }
    if (job->in_flight == 0) {
      job->connection = nullptr;
      job->request_offset = job->local_size;
    }
    if (job->target.final_known &&
        job->local_size >= job->target.final_length) {
      CompleteFetchJobLocked(job);
    }
  }
  // The answers' buffers receive the next ones.
  for (LogfileGot& got : io->got) c->session->RecycleBuffer(Move(got.frame));
  for (size_t i = 0; i < io->asks.size(); ++i) {
    const LogfileAsk& ask = io->asks[i];
    const Slice name(ask.name.data(), ask.name.size());
    wire::LogfileData data;
    data.name = name;
    data.offset = ask.offset;
    FetchAnswer* a = i < io->answers.size() ? &io->answers[i] : nullptr;
    if (a != nullptr && !a->failure.ok()) {
      LogServeFailureLocked(c, name, a->failure);
    }
    const ServeLimit limit =
        ServableLength(*tree_, name, host_.slice(), config_.durability,
                       a != nullptr ? a->file_size : 0);
    uint64_t n = 0;
    if (a != nullptr && ask.offset < limit.length) {
      n = limit.length - ask.offset;
      if (n > a->data.size()) n = a->data.size();
    }
    data.file_size = limit.length > ask.offset + n ? limit.length
                                                   : ask.offset + n;
    data.data = Slice(a != nullptr ? a->data.data() : nullptr,
                      static_cast<size_t>(n));
    data.end_of_file = ask.offset + n == data.file_size;
    data.file_complete = limit.complete && data.file_size == limit.length;
    // The answer's bytes go to the socket from the answer buffer, which
    // the connection thread keeps until the output is sent (RunConnection:
    // io is cleared only after that).
    uint32_t data_crc = 0;
    if (n > 0) {
      data_crc = n == a->data.size()
                     ? a->data_crc
                     : platform::Crc32cExtend(0, a->data.data(),
                                              static_cast<size_t>(n));
    }
    if (!c->session->SendLogfileDataInPlace(data, data_crc).ok()) break;
  }
  // The bytes written made room: ask for more now, not a round later.
  AskFetchLocked(c, now_ns, nullptr);
  // A logfile completed here is published now, not at the next tree pass
  // (the rest is rate-limited there).
  PublishFetchStateLocked(now_ns);
}

Node::FetchIo* Node::NewFetchIo() { return New<FetchIo>(platform::Gfp::kKernel); }

void Node::DeleteFetchIo(FetchIo* io) { Delete(io); }

void Node::DeleteFetchJob(FetchJob* job) { Delete(job); }

void Node::DeleteResourceFetch(ResourceFetch* r) { Delete(r); }

Node::ResourceFetch* Node::FindResourceFetchLocked(Slice resource,
                                                   bool create) {
  if (resource.empty() || resource.size() > tree::kMaxNameChars) return nullptr;
  for (size_t i = 0; i < resource_fetches_.size(); ++i) {
    if (SameText(resource, resource_fetches_[i]->name)) {
      return resource_fetches_[i];
    }
  }
  if (!create) return nullptr;
  ResourceFetch* r = New<ResourceFetch>(platform::Gfp::kKernel);
  if (r == nullptr || !resource_fetches_.PushBack(r).ok()) {
    Delete(r);
    return nullptr;
  }
  __builtin_memcpy(r->name, resource.data(), resource.size());
  r->name[resource.size()] = '\0';
  r->rate_since_ns = platform::MonotonicNs();
  return r;
}

void Node::SetResourceLinkLocked(Slice resource, Slice leaf,
                                 const Slice* value) {
  char path[tree::kMaxPathBytes + 1];
  tree::TextWriter w(path, sizeof(path));
  w.CString("resource-");
  w.Escaped(resource);
  w.Char('/');
  w.Escaped(leaf);
  if (w.truncated()) return;
  const Slice relpath = Slice::FromCString(path);
  if (value == nullptr) {
    const tree::Entry* current = tree_->Find(relpath);
    if (current == nullptr || current->tombstone()) return;
  } else {
    Slice current;
    if (tree_->Lookup(relpath, &current) && current == *value) return;
  }
  tree::EntryView entry;
  entry.path = relpath;
  entry.tombstone = value == nullptr;
  if (value != nullptr) entry.value = *value;
  entry.stamp = config_.clock->Now();
  entry.owner = host_.slice();
  if (tree_->Apply(entry).ok()) {
    __atomic_store_n(&kicked_, 1, __ATOMIC_RELEASE);  // write back soon
  }
}

void Node::SetActualLocked(Slice resource, const char* leaf,
                           const Slice* value) {
  char path[tree::kMaxPathBytes + 1];
  tree::TextWriter w(path, sizeof(path));
  w.CString("actual-");
  w.Escaped(host_.slice());
  w.Char('/');
  w.CString(leaf);
  if (w.truncated()) return;
  SetResourceLinkLocked(resource, Slice::FromCString(path), value);
}

void Node::PublishActualLocked(Slice resource, const char* leaf, Slice value) {
  SetActualLocked(resource, leaf, &value);
}

void Node::RemoveActualLocked(Slice resource, const char* leaf) {
  SetActualLocked(resource, leaf, nullptr);
}

void Node::LogServeFailureLocked(Connection* c, Slice relpath, Status why) {
  // Once a minute at most: a failing disk fails every request.
  const uint64_t now = platform::MonotonicNs();
  if (serve_failure_logged_ns_ != 0 &&
      now - serve_failure_logged_ns_ < 60 * kNsPerSecond) {
    return;
  }
  serve_failure_logged_ns_ = now;
  char peer[tree::kMaxNameChars + 1];
  const Slice host = c->peer.slice();
  __builtin_memcpy(peer, host.data(), host.size());
  peer[host.size()] = '\0';
  char path[tree::kMaxPathBytes + 1];
  const size_t n =
      relpath.size() < tree::kMaxPathBytes ? relpath.size() : tree::kMaxPathBytes;
  __builtin_memcpy(path, relpath.data(), n);
  path[n] = '\0';
  platform::Log(platform::LogLevel::kWarning,
                "cannot read %s for peer %s: %s (it gets no bytes of it; "
                "logged once a minute)",
                path, peer, why.message());
}

void Node::PublishFetchStateLocked(uint64_t now_ns) {
  for (size_t i = 0; i < resource_fetches_.size();) {
    ResourceFetch* r = resource_fetches_[i];
    const Slice name = Slice::FromCString(r->name);
    if (__builtin_strcmp(r->error, r->error_published) != 0) {
      // A new failure is logged once; its end too.
      if (r->error[0] != '\0') {
        platform::Log(platform::LogLevel::kError, "resource %s: %s", r->name,
                      r->error);
        PublishActualLocked(name, "msg-err-fetch",
                            Slice::FromCString(r->error));
      } else {
        platform::Log(platform::LogLevel::kNotice,
                      "resource %s: the local logfile copy is written again",
                      r->name);
        RemoveActualLocked(name, "msg-err-fetch");
      }
      __builtin_memcpy(r->error_published, r->error, sizeof(r->error));
    }
    if (!r->published || r->copying_published != r->planned) {
      PublishActualLocked(name, "is-copying",
                          Slice::FromCString(r->planned ? "1" : "0"));
      r->copying_published = r->planned;
      r->published = true;
    }
    if (now_ns - r->rate_since_ns >= kFetchRateIntervalNs) {
      const uint64_t elapsed = now_ns - r->rate_since_ns;
      const uint64_t rate =
          r->bytes >= UINT64_MAX / kNsPerSecond
              ? r->bytes / (elapsed / kNsPerSecond)
              : r->bytes * kNsPerSecond / elapsed;
      if (!r->rate_published || rate != r->rate) {
        char text[tree::kMaxDecimalU64Chars];
        const size_t n = tree::FormatDecimalU64(rate, text);
        PublishActualLocked(name, "fetch-rate", Slice(text, n));
        r->rate = rate;
        r->rate_published = true;
      }
      r->bytes = 0;
      r->rate_since_ns = now_ns;
    }
    // fetch-pos: the newest planned logfile a local copy holds bytes of
    // (the jobs keep their last known size while it is checked again; jobs
    // no longer planned may be older ones that wait for a stat). At most
    // every kFetchRateIntervalNs while it moves, at once when the logfile
    // is complete; it stays when the fetch goes idle.
    const FetchJob* newest = nullptr;
    for (size_t k = 0; k < jobs_.size(); ++k) {
      const FetchJob* job = jobs_[k];
      if (!job->planned || job->local_size == 0 ||
          !(ResourceOf(job->target.relpath) == name)) {
        continue;
      }
      if (newest == nullptr ||
          job->target.log.number > newest->target.log.number) {
        newest = job;
      }
    }
    if (newest != nullptr) {
      r->pos_known = true;
      r->pos_log = newest->target.log;
      r->pos_bytes = newest->local_size;
      r->pos_complete = newest->target.final_known &&
                        newest->local_size >= newest->target.final_length;
    }
    if (r->pos_pending() &&
        (!r->pos_published || r->pos_complete ||
         now_ns >= r->pos_published_ns + kFetchRateIntervalNs)) {
      tree::FetchPosition position;
      position.log = r->pos_log;
      position.bytes = r->pos_bytes;
      Bytes value(platform::Gfp::kKernel);
      if (tree::AppendFetchPosition(position, &value).ok()) {
        PublishActualLocked(name, "fetch-pos",
                            Slice(value.data(), value.size()));
        r->pos_published = true;
        r->pos_published_log = r->pos_log;
        r->pos_published_bytes = r->pos_bytes;
        r->pos_published_ns = now_ns;
      }
    }
    if (!r->planned && r->rate_published && r->rate == 0 &&
        r->error_published[0] == '\0' && !r->pos_pending()) {
      resource_fetches_.Erase(i);  // both published as idle: forget it
      Delete(r);
    } else {
      ++i;
    }
  }
}

void Node::DropConnectionJobsLocked(Connection* c) {
  for (size_t i = 0; i < jobs_.size(); ++i) {
    FetchJob* job = jobs_[i];
    if (job->connection != c) continue;
    job->connection = nullptr;
    job->in_flight = 0;
    job->request_offset = job->local_size;
  }
}

}  // namespace peer
}  // namespace mars
