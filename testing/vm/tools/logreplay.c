/*
 * logreplay: read a dm-log-writes log; list its crash points; rebuild the
 * logged disk as it was after any entry.
 *
 *   logreplay list LOGDEV
 *   logreplay replay LOGDEV TARGET --upto INDEX [--zero]
 *   logreplay blame LOGDEV DISK --offset BYTES --length BYTES
 *
 * Log format (written from the kernel's description in
 * Documentation/admin-guide/device-mapper/log-writes.rst and
 * drivers/md/dm-log-writes.c), all integers little-endian. S is the logical
 * block size of the logged device ("sectorsize"); every position and length
 * below is a multiple of S.
 *
 *   byte 0:   super   le64 magic 0x6a736677736872, le64 version 1,
 *                     le64 nr_entries, le32 sectorsize S, 4 bytes of
 *                     struct padding (undefined); rest of the block 0
 *   byte S:   nr_entries entries, each
 *               one S-byte header: le64 sector, le64 nr_sectors (both in
 *               units of S on the logged device), le64 flags, le64 data_len;
 *               for a MARK the data_len bytes of mark text follow at byte
 *               32; the rest of the header block is 0
 *               then, for a write (neither DISCARD nor MARK),
 *               nr_sectors * S bytes of the data written
 *   flags:    FLUSH 1 (REQ_PREFLUSH), FUA 2, DISCARD 4, MARK 8, METADATA 16
 *
 * dm-log-writes appends a plain write only when a flush issued after the
 * write completed has completed (just before that flush's entry), and a FUA
 * write when it completes. So applying entries 0..i in log order onto the
 * disk the log started from gives a state the disk could be in after a power
 * cut right after entry i; at a FLUSH or FUA entry it is the state the
 * writers were told is durable. Those entries are the crash points.
 *
 * list: validates the super and every entry header, prints one line per
 * crash point or mark ("INDEX FLAGS sector=N sectors=N" or "INDEX MARK text";
 * FLAGS joins FLUSH, FUA, MARK, META with '|'), then a summary line
 * "entries=N writes=N write_bytes=N discards=N discard_bytes=N flushes=N
 * fuas=N marks=N".
 *
 * replay: validates the whole log first (nothing is written to TARGET from a
 * bad log), then applies entries 0..INDEX in log order: a write's data at
 * its sector, a DISCARD as zeroes, FLUSH/FUA/MARK need nothing beyond their
 * data; then fsync(TARGET). Discards are written as zeroes because what a
 * discarded range reads back is undefined; zeroes make the rebuilt disk
 * independent of what TARGET held before, which is what a thin or sparse
 * disk (and a qemu raw image with discard=unmap) shows, and nobody may rely
 * on anything else. --zero first zeroes all of TARGET (BLKZEROOUT on a block
 * device, truncation for a file), so the replay starts from the all-zero disk
 * a log of a fresh disk started from. An entry beyond the end of TARGET is an
 * error. TARGET's page cache is dropped before and after (it may hold blocks
 * changed beneath it through a device-mapper device on top).
 *
 * blame: for a byte range of the logged disk, every entry that writes or
 * discards part of it, in log order ("INDEX FLAGS sector=N sectors=N
 * bytes=A..B same|differs"), where same/differs compares the entry's bytes in
 * the range with DISK's (read with O_DIRECT, past any page cache); then
 * "last=INDEX same|differs" or "last=none". It tells a range whose final
 * content no entry explains from one that an earlier entry explains (an
 * ordering the log does not show).
 *
 * Exit: 0 ok, 1 bad log, I/O error or entry beyond TARGET, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MAGIC 0x6a736677736872ull
#define LOG_VERSION 1ull
#define F_FLUSH 1ull
#define F_FUA 2ull
#define F_DISCARD 4ull
#define F_MARK 8ull
#define F_META 16ull
#define F_KNOWN (F_FLUSH | F_FUA | F_DISCARD | F_MARK | F_META)
#define SUPER_BYTES 28u /* magic, version, nr_entries, sectorsize */
#define SUPER_STRUCT 32u /* the kernel writes its struct: 4 bytes of padding, not zeroed */
#define ENTRY_BYTES 32u /* sector, nr_sectors, flags, data_len */
#define COPY_CHUNK (1u << 20)

static const char *log_name;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "logreplay: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: logreplay list LOGDEV\n"
			"       logreplay replay LOGDEV TARGET --upto INDEX [--zero]\n"
			"       logreplay blame LOGDEV DISK --offset BYTES --length BYTES\n");
	exit(2);
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int is_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static uint64_t dev_size(int fd, const char *name, int *is_blk)
{
	struct stat st;
	uint64_t sz = 0;
	if (fstat(fd, &st) != 0)
		die("stat %s: %s", name, strerror(errno));
	*is_blk = S_ISBLK(st.st_mode);
	if (*is_blk) {
		if (ioctl(fd, BLKGETSIZE64, &sz) != 0)
			die("BLKGETSIZE64 %s: %s", name, strerror(errno));
		return sz;
	}
	if (!S_ISREG(st.st_mode))
		die("%s is neither a block device nor a regular file", name);
	return (uint64_t)st.st_size;
}

/* ---- sequential reader with a read-ahead buffer */

struct reader {
	int fd;
	uint64_t size;
	unsigned char *buf;
	size_t cap, len;
	uint64_t off; /* log position of buf[0] */
};

static void reader_open(struct reader *r, const char *name, size_t cap)
{
	int blk;
	r->fd = open(name, O_RDONLY);
	if (r->fd < 0)
		die("open %s: %s", name, strerror(errno));
	r->size = dev_size(r->fd, name, &blk);
	r->cap = cap;
	r->buf = malloc(cap);
	if (!r->buf)
		die("out of memory");
	r->len = 0;
	r->off = 0;
}

/* Copies n bytes at log position pos to dst; the caller checked that they
 * lie within the log. */
static void reader_get(struct reader *r, uint64_t pos, void *dst, size_t n)
{
	unsigned char *out = dst;
	while (n) {
		if (pos < r->off || pos >= r->off + r->len) {
			size_t want = r->cap;
			if (r->size - pos < want)
				want = (size_t)(r->size - pos);
			size_t got = 0;
			while (got < want) {
				ssize_t k = pread(r->fd, r->buf + got, want - got, (off_t)(pos + got));
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0)
					die("%s: read at byte %" PRIu64 ": %s", log_name, pos + got, strerror(errno));
				if (k == 0)
					die("%s: unexpected end at byte %" PRIu64, log_name, pos + got);
				got += (size_t)k;
			}
			r->off = pos;
			r->len = got;
		}
		size_t at = (size_t)(pos - r->off), k = r->len - at;
		if (k > n)
			k = n;
		memcpy(out, r->buf + at, k);
		out += k;
		pos += k;
		n -= k;
	}
}

/* ---- log structure */

struct entry {
	uint64_t index, pos; /* entry number, byte position of its header */
	uint64_t sector, nr_sectors, flags, data_len;
	char *mark; /* NUL-terminated text of a MARK (sectorsize bytes allocated) */
};

struct log {
	struct reader r;
	uint32_t ss;      /* sectorsize S */
	uint64_t entries; /* nr_entries */
};

static void log_open(struct log *lg, const char *name, size_t cap)
{
	unsigned char super[SUPER_BYTES];
	log_name = name;
	reader_open(&lg->r, name, cap);
	if (lg->r.size < 512)
		die("%s: %" PRIu64 " bytes, too small for a dm-log-writes log", name, lg->r.size);
	reader_get(&lg->r, 0, super, sizeof(super));
	uint64_t magic = le64(super), version = le64(super + 8);
	lg->entries = le64(super + 16);
	lg->ss = le32(super + 24);
	if (magic != LOG_MAGIC)
		die("%s: bad super block magic 0x%" PRIx64 " (expected 0x%llx): not a dm-log-writes log",
		    name, magic, LOG_MAGIC);
	if (version != LOG_VERSION)
		die("%s: unsupported log version %" PRIu64 " (expected %llu)", name, version, LOG_VERSION);
	if (lg->ss < 512 || lg->ss > 65536 || (lg->ss & (lg->ss - 1)))
		die("%s: bad sector size %u in the super block (a power of two 512..65536)", name, lg->ss);
	if (lg->r.size < lg->ss) /* the super block itself */
		die("%s: %" PRIu64 " bytes, shorter than its super block (%u)", name, lg->r.size, lg->ss);
	unsigned char *blk = malloc(lg->ss);
	if (!blk)
		die("out of memory");
	reader_get(&lg->r, 0, blk, lg->ss);
	if (!is_zero(blk + SUPER_STRUCT, lg->ss - SUPER_STRUCT))
		die("%s: super block has non-zero bytes after its fields", name);
	free(blk);
	if (lg->entries > (lg->r.size - lg->ss) / lg->ss)
		die("%s: super block claims %" PRIu64 " entries, more than %" PRIu64 " bytes can hold", name,
		    lg->entries, lg->r.size);
}

static struct entry *entry_new(const struct log *lg)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->mark = malloc(lg->ss)))
		die("out of memory");
	return e;
}

static void entry_free(struct entry *e)
{
	free(e->mark);
	free(e);
}

static void entry_fail(const struct entry *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "logreplay: %s: entry %" PRIu64 " at byte %" PRIu64 " (sector %" PRIu64
		" nr_sectors %" PRIu64 " flags 0x%" PRIx64 " data_len %" PRIu64 "): ",
		log_name, e->index, e->pos, e->sector, e->nr_sectors, e->flags, e->data_len);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* Reads and validates the header of the entry at e->pos; returns the
 * position of the next entry. */
static uint64_t entry_read(struct log *lg, struct entry *e, unsigned char *hdr)
{
	uint64_t ss = lg->ss;
	if (e->pos > lg->r.size || lg->r.size - e->pos < ss) {
		e->sector = e->nr_sectors = e->flags = e->data_len = 0;
		entry_fail(e, "header beyond the end of the log (%" PRIu64 " bytes)", lg->r.size);
	}
	reader_get(&lg->r, e->pos, hdr, ss);
	e->sector = le64(hdr);
	e->nr_sectors = le64(hdr + 8);
	e->flags = le64(hdr + 16);
	e->data_len = le64(hdr + 24);
	e->mark[0] = 0;
	if (e->flags & ~F_KNOWN)
		entry_fail(e, "unknown flags 0x%" PRIx64, e->flags & ~F_KNOWN);
	uint64_t pad_from = ENTRY_BYTES, data_bytes = 0;
	if (e->flags & F_MARK) {
		if (e->flags != F_MARK)
			entry_fail(e, "a mark with other flags");
		if (e->sector || e->nr_sectors)
			entry_fail(e, "a mark with a sector range");
		if (e->data_len == 0 || e->data_len >= ss - ENTRY_BYTES)
			entry_fail(e, "mark text of %" PRIu64 " bytes (1..%" PRIu64 ")", e->data_len,
				   ss - ENTRY_BYTES - 1);
		if (memchr(hdr + ENTRY_BYTES, 0, e->data_len))
			entry_fail(e, "mark text contains a NUL byte");
		memcpy(e->mark, hdr + ENTRY_BYTES, e->data_len);
		e->mark[e->data_len] = 0;
		pad_from += e->data_len;
	} else {
		if (e->data_len)
			entry_fail(e, "data_len set on an entry that is not a mark");
		if (e->flags & F_DISCARD) {
			if (e->flags & (F_FLUSH | F_FUA))
				entry_fail(e, "a discard with FLUSH or FUA");
			if (!e->nr_sectors)
				entry_fail(e, "a discard of 0 sectors");
		} else {
			if (!e->nr_sectors && !(e->flags & F_FLUSH))
				entry_fail(e, "a write of 0 sectors without FLUSH");
			if (e->nr_sectors > (UINT64_MAX - ss) / ss)
				entry_fail(e, "nr_sectors too large");
			data_bytes = e->nr_sectors * ss;
		}
		if (e->sector > UINT64_MAX / ss || e->nr_sectors > UINT64_MAX / ss - e->sector)
			entry_fail(e, "sector range overflows");
	}
	if (!is_zero(hdr + pad_from, ss - pad_from))
		entry_fail(e, "non-zero bytes after the header fields");
	uint64_t data_pos = e->pos + ss;
	if (lg->r.size - data_pos < data_bytes)
		entry_fail(e, "%" PRIu64 " data bytes run past the end of the log (%" PRIu64 " bytes)", data_bytes,
			   lg->r.size);
	return data_pos + data_bytes;
}

static void flags_text(uint64_t f, char *out, size_t n)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = { { F_FLUSH, "FLUSH" }, { F_FUA, "FUA" },	{ F_DISCARD, "DISCARD" },
		      { F_MARK, "MARK" },   { F_META, "META" } };
	out[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(f & names[i].bit))
			continue;
		if (out[0])
			strncat(out, "|", n - strlen(out) - 1);
		strncat(out, names[i].name, n - strlen(out) - 1);
	}
	if (!out[0])
		snprintf(out, n, "WRITE");
}

static void print_mark(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c > ' ' && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

struct totals {
	uint64_t writes, write_bytes, discards, discard_bytes, flushes, fuas, marks;
};

static void count(struct totals *t, const struct entry *e, uint32_t ss)
{
	if (e->flags & F_MARK) {
		t->marks++;
		return;
	}
	if (e->flags & F_DISCARD) {
		t->discards++;
		t->discard_bytes += e->nr_sectors * ss;
		return;
	}
	if (e->nr_sectors) {
		t->writes++;
		t->write_bytes += e->nr_sectors * ss;
	}
	t->flushes += !!(e->flags & F_FLUSH);
	t->fuas += !!(e->flags & F_FUA);
}

/* Validates every entry; returns the byte position after the last one. */
static uint64_t validate_all(struct log *lg, struct totals *t)
{
	unsigned char *hdr = malloc(lg->ss);
	struct entry *e = entry_new(lg);
	if (!hdr)
		die("out of memory");
	uint64_t pos = lg->ss;
	for (uint64_t i = 0; i < lg->entries; i++) {
		e->index = i;
		e->pos = pos;
		pos = entry_read(lg, e, hdr);
		if (t)
			count(t, e, lg->ss);
	}
	free(hdr);
	entry_free(e);
	return pos;
}

static int do_list(const char *logdev)
{
	struct log lg;
	struct totals t = { 0 };
	log_open(&lg, logdev, 256u << 10);
	uint64_t end = validate_all(&lg, &t);
	printf("log %s: sectorsize %u, %" PRIu64 " entries, %" PRIu64 " of %" PRIu64 " bytes used\n", logdev,
	       lg.ss, lg.entries, end, lg.r.size);
	unsigned char *hdr = malloc(lg.ss);
	struct entry *e = entry_new(&lg);
	if (!hdr)
		die("out of memory");
	uint64_t pos = lg.ss;
	for (uint64_t i = 0; i < lg.entries; i++) {
		e->index = i;
		e->pos = pos;
		pos = entry_read(&lg, e, hdr);
		if (!(e->flags & (F_FLUSH | F_FUA | F_MARK)))
			continue;
		if (e->flags & F_MARK) {
			printf("%" PRIu64 " MARK ", i);
			print_mark(e->mark);
			putchar('\n');
		} else {
			char f[64];
			flags_text(e->flags, f, sizeof(f));
			printf("%" PRIu64 " %s sector=%" PRIu64 " sectors=%" PRIu64 "\n", i, f, e->sector,
			       e->nr_sectors);
		}
	}
	printf("entries=%" PRIu64 " writes=%" PRIu64 " write_bytes=%" PRIu64 " discards=%" PRIu64
	       " discard_bytes=%" PRIu64 " flushes=%" PRIu64 " fuas=%" PRIu64 " marks=%" PRIu64 "\n",
	       lg.entries, t.writes, t.write_bytes, t.discards, t.discard_bytes, t.flushes, t.fuas, t.marks);
	free(hdr);
	entry_free(e);
	return 0;
}

static void write_all(int fd, const char *name, const void *p, size_t n, uint64_t off)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t k = pwrite(fd, b, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("write %s at byte %" PRIu64 ": %s", name, off, k < 0 ? strerror(errno) : "no progress");
		b += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
}

static void zero_target(int fd, const char *name, int is_blk, uint64_t size)
{
	if (is_blk) {
		uint64_t range[2] = { 0, size };
		if (ioctl(fd, BLKZEROOUT, range) != 0)
			die("BLKZEROOUT %s (%" PRIu64 " bytes): %s", name, size, strerror(errno));
		return;
	}
	if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0)
		die("truncate %s: %s", name, strerror(errno));
}

/* TARGET's page cache may hold blocks that were changed beneath it (through
 * a device-mapper device on top, say) since they were cached: drop it before
 * writing, so partial-page writes read the disk, and after, so a later reader
 * of TARGET sees the disk. */
static void drop_cache(int fd)
{
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
}

static int do_replay(const char *logdev, const char *target, uint64_t upto, int zero)
{
	struct log lg;
	struct totals t = { 0 };
	log_open(&lg, logdev, 4u << 20);
	validate_all(&lg, NULL);
	if (upto >= lg.entries)
		die("%s has %" PRIu64 " entries (0..%" PRIu64 "), no entry %" PRIu64, logdev, lg.entries,
		    lg.entries ? lg.entries - 1 : 0, upto);
	int blk, fd = open(target, O_RDWR);
	if (fd < 0)
		die("open %s: %s", target, strerror(errno));
	uint64_t tsize = dev_size(fd, target, &blk);
	drop_cache(fd);
	if (zero)
		zero_target(fd, target, blk, tsize);
	unsigned char *hdr = malloc(lg.ss), *chunk = malloc(COPY_CHUNK), *zeroes = calloc(1, COPY_CHUNK);
	struct entry *e = entry_new(&lg);
	if (!hdr || !chunk || !zeroes)
		die("out of memory");
	uint64_t pos = lg.ss;
	for (uint64_t i = 0; i <= upto; i++) {
		e->index = i;
		e->pos = pos;
		pos = entry_read(&lg, e, hdr);
		count(&t, e, lg.ss);
		if ((e->flags & F_MARK) || !e->nr_sectors)
			continue;
		uint64_t off = e->sector * lg.ss, len = e->nr_sectors * lg.ss;
		if (off > tsize || tsize - off < len)
			entry_fail(e, "bytes %" PRIu64 "..%" PRIu64 " lie beyond the end of %s (%" PRIu64 " bytes)", off,
				   off + len, target, tsize);
		uint64_t src = e->pos + lg.ss;
		for (uint64_t done = 0; done < len;) {
			size_t n = len - done < COPY_CHUNK ? (size_t)(len - done) : COPY_CHUNK;
			if (e->flags & F_DISCARD) {
				write_all(fd, target, zeroes, n, off + done);
			} else {
				reader_get(&lg.r, src + done, chunk, n);
				write_all(fd, target, chunk, n, off + done);
			}
			done += n;
		}
	}
	if (fsync(fd) != 0)
		die("fsync %s: %s", target, strerror(errno));
	drop_cache(fd);
	close(fd);
	printf("replayed entries 0..%" PRIu64 " of %" PRIu64 " onto %s%s: writes=%" PRIu64 " write_bytes=%" PRIu64
	       " discards=%" PRIu64 " discard_bytes=%" PRIu64 " (as zeroes) flushes=%" PRIu64 " fuas=%" PRIu64
	       " marks=%" PRIu64 "\n",
	       upto, lg.entries, target, zero ? " (zeroed first)" : "", t.writes, t.write_bytes, t.discards,
	       t.discard_bytes, t.flushes, t.fuas, t.marks);
	free(hdr);
	free(chunk);
	free(zeroes);
	entry_free(e);
	return 0;
}

/* Reads n bytes at off of the disk behind fd (opened O_DIRECT) into dst. */
static void read_direct(int fd, const char *name, unsigned char *dst, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(fd, dst + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("read %s at byte %" PRIu64 ": %s", name, off + got, k < 0 ? strerror(errno) : "end of disk");
		got += (size_t)k;
	}
}

static int do_blame(const char *logdev, const char *disk, uint64_t off, uint64_t len)
{
	struct log lg;
	log_open(&lg, logdev, 4u << 20);
	validate_all(&lg, NULL);
	if (!len || len > (64u << 20) || off % lg.ss || len % lg.ss)
		die("--offset and --length must be multiples of the sector size %u, the length 1..64 MiB", lg.ss);
	int blk, fd = open(disk, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die("open %s: %s", disk, strerror(errno));
	uint64_t dsize = dev_size(fd, disk, &blk);
	if (off > dsize || dsize - off < len)
		die("bytes %" PRIu64 "..%" PRIu64 " lie beyond the end of %s (%" PRIu64 " bytes)", off, off + len, disk,
		    dsize);
	unsigned char *have, *data = malloc(len), *hdr = malloc(lg.ss);
	if (posix_memalign((void **)&have, 4096, len) || !data || !hdr)
		die("out of memory");
	read_direct(fd, disk, have, len, off);
	close(fd);
	struct entry *e = entry_new(&lg);
	int64_t last = -1;
	int last_same = 0;
	uint64_t pos = lg.ss;
	for (uint64_t i = 0; i < lg.entries; i++) {
		e->index = i;
		e->pos = pos;
		pos = entry_read(&lg, e, hdr);
		if ((e->flags & F_MARK) || !e->nr_sectors)
			continue;
		uint64_t a = e->sector * lg.ss, b = a + e->nr_sectors * lg.ss;
		uint64_t lo = a > off ? a : off, hi = b < off + len ? b : off + len;
		if (lo >= hi)
			continue;
		if (e->flags & F_DISCARD)
			memset(data, 0, hi - lo);
		else
			reader_get(&lg.r, e->pos + lg.ss + (lo - a), data, hi - lo);
		int same = !memcmp(data, have + (lo - off), hi - lo);
		char f[64];
		flags_text(e->flags, f, sizeof(f));
		printf("%" PRIu64 " %s sector=%" PRIu64 " sectors=%" PRIu64 " bytes=%" PRIu64 "..%" PRIu64 " %s\n", i,
		       f, e->sector, e->nr_sectors, lo, hi, same ? "same" : "differs");
		last = (int64_t)i;
		last_same = same;
	}
	if (last < 0)
		printf("last=none\n");
	else
		printf("last=%" PRId64 " %s\n", last, last_same ? "same" : "differs");
	free(have);
	free(data);
	free(hdr);
	entry_free(e);
	return 0;
}

static uint64_t parse_u64(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-') {
		fprintf(stderr, "logreplay: bad value for %s: %s\n", opt, v);
		usage();
	}
	return x;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "list")) {
		if (argc != 3)
			usage();
		return do_list(argv[2]);
	}
	if (!strcmp(argv[1], "blame")) {
		uint64_t off = 0, len = 0;
		int have = 0;
		for (int i = 4; i < argc; i++) {
			if (!strcmp(argv[i], "--offset") && i + 1 < argc) {
				off = parse_u64(argv[i], argv[i + 1]);
				have |= 1;
			} else if (!strcmp(argv[i], "--length") && i + 1 < argc) {
				len = parse_u64(argv[i], argv[i + 1]);
				have |= 2;
			} else {
				usage();
			}
			i++;
		}
		if (argc < 4 || have != 3)
			usage();
		return do_blame(argv[2], argv[3], off, len);
	}
	if (strcmp(argv[1], "replay") || argc < 4)
		usage();
	uint64_t upto = 0;
	int have_upto = 0, zero = 0;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--zero")) {
			zero = 1;
		} else if (!strcmp(argv[i], "--upto") && i + 1 < argc) {
			upto = parse_u64("--upto", argv[++i]);
			have_upto = 1;
		} else {
			usage();
		}
	}
	if (!have_upto)
		usage();
	return do_replay(argv[2], argv[3], upto, zero);
}
