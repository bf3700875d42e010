/*
 * ackwrite: power-cut test writer and checker for a block device.
 *
 * write: threads write 4 KiB blocks at random block numbers with
 * O_DIRECT|O_DSYNC; each block carries (magic, block number, sequence number,
 * run, thread, pseudo-random fill from (block, seq), CRC-32C of the block).
 * After a write is acknowledged, its (block, seq) is appended to an ack log:
 * one 512-byte sector per ack on a second raw device, also written with
 * O_DIRECT|O_DSYNC, so an ack counts only once it is durable itself.
 * check: every acknowledged (block, seq) must be on the device with a seq at
 * least the acknowledged one, and every block must be intact (valid block of
 * its position, or all zeroes if no write to it was ever acknowledged).
 *
 *   ackwrite write DEV ACKDEV --blocks N --run R [--threads T] [--count C] [--seed S] [--offset B]
 *   ackwrite check DEV ACKDEV --blocks N [--min-acks-run R:K] [--offset B]
 *
 * --offset B puts the region at blocks B..B+N-1 of DEV (default 0), so the
 * rest of the device can hold something else (a filesystem); block numbers
 * in blocks and acks stay relative to the region.
 *
 * Exit: 0 ok, 1 check failed or I/O error, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 4096u
#define SECTOR 512u
#define BLOCK_MAGIC 0x5752574b43414d41ull /* "AMACKWRW" little-endian */
#define ACK_MAGIC 0x314b43414b43414dull   /* "MACKACK1" little-endian */
#define MAX_FAIL_LINES 20

/* Block layout (little-endian, x86 only):
 *   0 magic, 8 block, 16 seq, 24 run(u32) thread(u32), 32..4088 fill,
 *   4088 crc32c(bytes 0..4088) (u32), 4092 zero (u32). */
struct block_hdr {
	uint64_t magic, block, seq;
	uint32_t run, thread;
};

/* Ack entry: one 512-byte sector at index*512 of the ack device.
 *   0 magic, 8 index, 16 block, 24 seq, 32 run (u32), 36..508 zero,
 *   508 crc32c(bytes 0..508). */
struct ack_hdr {
	uint64_t magic, index, block, seq;
	uint32_t run;
};

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & -(c & 1u));
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t c = 0xffffffffu;
	while (n--)
		c = crc_table[(c ^ *b++) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return x ? x : 1;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ackwrite: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ackwrite write DEV ACKDEV --blocks N --run R [--threads T] [--count C] [--seed S]"
		" [--offset B]\n"
		"       ackwrite check DEV ACKDEV --blocks N [--min-acks-run R:K] [--offset B]\n");
	exit(2);
}

static void fill_block(unsigned char *buf, uint64_t block, uint64_t seq, uint32_t run, uint32_t thread)
{
	struct block_hdr h = { BLOCK_MAGIC, block, seq, run, thread };
	uint64_t s = mix(block, seq);
	memset(buf, 0, BLOCK);
	memcpy(buf, &h, sizeof(h));
	for (size_t off = 32; off < BLOCK - 8; off += 8) {
		uint64_t v = xorshift(&s);
		memcpy(buf + off, &v, 8);
	}
	uint32_t c = crc32c(buf, BLOCK - 8);
	memcpy(buf + BLOCK - 8, &c, 4);
}

/* 0: valid block of position `block`; else a reason. */
static const char *check_block(const unsigned char *buf, uint64_t block, struct block_hdr *out)
{
	static __thread unsigned char want[BLOCK] __attribute__((aligned(64)));
	struct block_hdr h;
	uint32_t c;
	memcpy(&h, buf, sizeof(h));
	memcpy(&c, buf + BLOCK - 8, 4);
	if (h.magic != BLOCK_MAGIC)
		return "bad magic";
	if (crc32c(buf, BLOCK - 8) != c)
		return "bad checksum (torn or mixed block)";
	if (h.block != block)
		return "block written at another position";
	fill_block(want, h.block, h.seq, h.run, h.thread);
	if (memcmp(want, buf, BLOCK) != 0)
		return "content does not match its header";
	*out = h;
	return NULL;
}

static int is_zero(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i])
			return 0;
	return 1;
}

static int ack_valid(const unsigned char *sec, uint64_t index, struct ack_hdr *out)
{
	struct ack_hdr h;
	uint32_t c;
	memcpy(&h, sec, sizeof(h));
	memcpy(&c, sec + SECTOR - 4, 4);
	if (h.magic != ACK_MAGIC || h.index != index || crc32c(sec, SECTOR - 4) != c)
		return 0;
	*out = h;
	return 1;
}

static uint64_t dev_size(int fd, const char *name)
{
	struct stat st;
	uint64_t sz = 0;
	if (fstat(fd, &st) != 0)
		die("stat %s: %s", name, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &sz) != 0)
			die("BLKGETSIZE64 %s: %s", name, strerror(errno));
		return sz;
	}
	return (uint64_t)st.st_size;
}

static void *alloc_aligned(size_t n)
{
	void *p;
	if (posix_memalign(&p, BLOCK, n) != 0)
		die("out of memory");
	memset(p, 0, n);
	return p;
}

/* Reads the ack log; calls fn for each valid entry; returns 1 + the highest
 * valid index (0 when empty). */
static uint64_t scan_acks(int fd, const char *name, void (*fn)(const struct ack_hdr *, void *), void *arg)
{
	const size_t chunk = 1u << 20;
	unsigned char *buf = alloc_aligned(chunk);
	uint64_t size = dev_size(fd, name), next = 0;
	for (uint64_t off = 0; off < size; off += chunk) {
		ssize_t n = pread(fd, buf, chunk, (off_t)off);
		if (n < 0)
			die("read %s: %s", name, strerror(errno));
		if (n == 0)
			break;
		for (size_t i = 0; i + SECTOR <= (size_t)n; i += SECTOR) {
			struct ack_hdr h;
			uint64_t idx = (off + i) / SECTOR;
			if (ack_valid(buf + i, idx, &h)) {
				if (fn)
					fn(&h, arg);
				next = idx + 1;
			}
		}
	}
	free(buf);
	return next;
}

/* ---- write */

struct writer {
	int dev, ack;
	uint64_t offset, blocks, count, ack_capacity;
	uint32_t run, threads;
	uint64_t seed;
	uint64_t counter;       /* sequence numbers handed out (atomic) */
	uint64_t ack_next;      /* next ack index (atomic) */
	uint64_t acked;         /* acks made durable (atomic) */
	pthread_mutex_t out_lock;
};

struct thread_arg {
	struct writer *w;
	uint32_t tid;
};

static void *writer_thread(void *p)
{
	struct thread_arg *ta = p;
	struct writer *w = ta->w;
	unsigned char *buf = alloc_aligned(BLOCK), *sec = alloc_aligned(SECTOR);
	uint64_t rnd = mix(w->seed ^ w->run, ta->tid + 1);
	uint64_t mine = (w->blocks - ta->tid + w->threads - 1) / w->threads; /* blocks tid, tid+T, ... */

	for (;;) {
		uint64_t n = __atomic_fetch_add(&w->counter, 1, __ATOMIC_RELAXED);
		if (w->count && n >= w->count)
			break;
		uint64_t seq = ((uint64_t)w->run << 32) | (n + 1);
		uint64_t block = ta->tid + w->threads * (xorshift(&rnd) % mine);
		fill_block(buf, block, seq, w->run, ta->tid);
		ssize_t r = pwrite(w->dev, buf, BLOCK, (off_t)((w->offset + block) * BLOCK));
		if (r != (ssize_t)BLOCK)
			die("write block %" PRIu64 ": %s", block, r < 0 ? strerror(errno) : "short write");
		uint64_t idx = __atomic_fetch_add(&w->ack_next, 1, __ATOMIC_RELAXED);
		if (idx >= w->ack_capacity)
			die("ack log full (%" PRIu64 " entries)", w->ack_capacity);
		struct ack_hdr h = { ACK_MAGIC, idx, block, seq, w->run };
		memset(sec, 0, SECTOR);
		memcpy(sec, &h, sizeof(h));
		uint32_t c = crc32c(sec, SECTOR - 4);
		memcpy(sec + SECTOR - 4, &c, 4);
		r = pwrite(w->ack, sec, SECTOR, (off_t)(idx * SECTOR));
		if (r != (ssize_t)SECTOR)
			die("write ack %" PRIu64 ": %s", idx, r < 0 ? strerror(errno) : "short write");
		uint64_t a = __atomic_add_fetch(&w->acked, 1, __ATOMIC_RELAXED);
		if (a == 1 || a % 100 == 0) {
			pthread_mutex_lock(&w->out_lock);
			printf("acked %" PRIu64 "\n", a);
			fflush(stdout);
			pthread_mutex_unlock(&w->out_lock);
		}
	}
	free(buf);
	free(sec);
	return NULL;
}

static int do_write(const char *dev, const char *ackdev, uint64_t offset, uint64_t blocks, uint32_t run,
		    uint32_t threads, uint64_t count, uint64_t seed)
{
	struct writer w = { 0 };
	w.dev = open(dev, O_RDWR | O_DIRECT | O_DSYNC);
	if (w.dev < 0)
		die("open %s: %s", dev, strerror(errno));
	w.ack = open(ackdev, O_RDWR | O_DIRECT | O_DSYNC);
	if (w.ack < 0)
		die("open %s: %s", ackdev, strerror(errno));
	if (dev_size(w.dev, dev) < (offset + blocks) * BLOCK)
		die("%s is smaller than %" PRIu64 " blocks", dev, offset + blocks);
	if (threads == 0 || threads > 64 || threads > blocks)
		die("bad thread count %u", threads);
	w.offset = offset;
	w.blocks = blocks;
	w.run = run;
	w.threads = threads;
	w.count = count;
	w.seed = seed;
	w.ack_capacity = dev_size(w.ack, ackdev) / SECTOR;
	w.ack_next = scan_acks(w.ack, ackdev, NULL, NULL);
	pthread_mutex_init(&w.out_lock, NULL);
	printf("ackwrite: run %u, %u threads, %" PRIu64 " blocks, ack log continues at %" PRIu64 "\n",
	       run, threads, blocks, w.ack_next);
	fflush(stdout);

	pthread_t th[64];
	struct thread_arg ta[64];
	for (uint32_t i = 0; i < threads; i++) {
		ta[i].w = &w;
		ta[i].tid = i;
		if (pthread_create(&th[i], NULL, writer_thread, &ta[i]) != 0)
			die("pthread_create failed");
	}
	for (uint32_t i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("ackwrite: done, %" PRIu64 " writes acknowledged\n", w.acked);
	return 0;
}

/* ---- check */

struct checker {
	uint64_t blocks;
	uint64_t *acked;        /* highest acknowledged seq per block, 0 = none */
	uint64_t acks, acks_ignored;
	uint64_t run_acks[256]; /* acks per run (runs >= 255 counted in [255]) */
};

static void collect_ack(const struct ack_hdr *h, void *arg)
{
	struct checker *c = arg;
	if (h->block >= c->blocks) {
		c->acks_ignored++;
		return;
	}
	c->acks++;
	c->run_acks[h->run < 255 ? h->run : 255]++;
	if (h->seq > c->acked[h->block])
		c->acked[h->block] = h->seq;
}

static int do_check(const char *dev, const char *ackdev, uint64_t offset, uint64_t blocks, long min_run,
		    uint64_t min_acks)
{
	struct checker c = { 0 };
	int dfd = open(dev, O_RDONLY | O_DIRECT), afd = open(ackdev, O_RDONLY | O_DIRECT);
	if (dfd < 0)
		die("open %s: %s", dev, strerror(errno));
	if (afd < 0)
		die("open %s: %s", ackdev, strerror(errno));
	if (dev_size(dfd, dev) < (offset + blocks) * BLOCK)
		die("%s is smaller than %" PRIu64 " blocks", dev, offset + blocks);
	c.blocks = blocks;
	c.acked = calloc(blocks, sizeof(uint64_t));
	if (!c.acked)
		die("out of memory");
	uint64_t ack_end = scan_acks(afd, ackdev, collect_ack, &c);

	const size_t chunk = 256 * BLOCK;
	unsigned char *buf = alloc_aligned(chunk);
	uint64_t zero = 0, valid = 0, newer = 0, failures = 0;
	for (uint64_t first = 0; first < blocks; first += chunk / BLOCK) {
		size_t want = (size_t)((blocks - first < chunk / BLOCK ? blocks - first : chunk / BLOCK) * BLOCK);
		ssize_t n = pread(dfd, buf, want, (off_t)((offset + first) * BLOCK));
		if (n != (ssize_t)want)
			die("read %s at block %" PRIu64 ": %s", dev, first, n < 0 ? strerror(errno) : "short read");
		for (size_t i = 0; i < want / BLOCK; i++) {
			uint64_t b = first + i;
			const unsigned char *p = buf + i * BLOCK;
			struct block_hdr h;
			const char *why = NULL;
			if (is_zero(p, BLOCK)) {
				zero++;
				if (c.acked[b])
					why = "acknowledged write lost (block is all zeroes)";
			} else if ((why = check_block(p, b, &h)) == NULL) {
				valid++;
				if (h.seq < c.acked[b])
					why = "older version than the acknowledged one";
				else if (h.seq > c.acked[b])
					newer++;
			}
			if (why) {
				uint64_t found = 0;
				memcpy(&found, p + 16, 8);
				if (failures < MAX_FAIL_LINES)
					printf("FAIL block %" PRIu64 ": %s (acknowledged seq %" PRIu64 ":%" PRIu64
					       ", found seq field %" PRIu64 ":%" PRIu64 ")\n",
					       b, why, c.acked[b] >> 32, c.acked[b] & 0xffffffffu, found >> 32,
					       found & 0xffffffffu);
				failures++;
			}
		}
	}
	uint64_t acked_blocks = 0;
	for (uint64_t b = 0; b < blocks; b++)
		acked_blocks += c.acked[b] != 0;
	printf("check: blocks=%" PRIu64 " valid=%" PRIu64 " zero=%" PRIu64 " acked_blocks=%" PRIu64
	       " acks=%" PRIu64 " ack_log_end=%" PRIu64 " newer_than_acked=%" PRIu64 " failures=%" PRIu64 "\n",
	       blocks, valid, zero, acked_blocks, c.acks, ack_end, newer, failures);
	for (int r = 0; r < 256; r++)
		if (c.run_acks[r])
			printf("run %d: %" PRIu64 " acks\n", r, c.run_acks[r]);
	if (c.acks_ignored)
		printf("FAIL %" PRIu64 " acks name blocks beyond --blocks\n", c.acks_ignored), failures++;
	if (min_run >= 0 && c.run_acks[min_run < 255 ? min_run : 255] < min_acks)
		printf("FAIL run %ld has %" PRIu64 " acks, expected at least %" PRIu64 "\n", min_run,
		       c.run_acks[min_run < 255 ? min_run : 255], min_acks), failures++;
	printf("%s\n", failures ? "check: FAILED" : "check: ok");
	free(buf);
	free(c.acked);
	return failures ? 1 : 0;
}

static uint64_t parse_u64(const char *s, const char *opt)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "ackwrite: bad value for %s: %s\n", opt, s);
		usage();
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t blocks = 0, count = 0, seed = 1, run = 0, threads = 4, min_acks = 0, offset = 0;
	long min_run = -1;
	int have_run = 0;
	if (argc < 4)
		usage();
	crc_init();
	for (int i = 4; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *o = argv[i], *v = argv[++i];
		if (!strcmp(o, "--blocks"))
			blocks = parse_u64(v, o);
		else if (!strcmp(o, "--run"))
			run = parse_u64(v, o), have_run = 1;
		else if (!strcmp(o, "--threads"))
			threads = parse_u64(v, o);
		else if (!strcmp(o, "--count"))
			count = parse_u64(v, o);
		else if (!strcmp(o, "--seed"))
			seed = parse_u64(v, o);
		else if (!strcmp(o, "--offset"))
			offset = parse_u64(v, o);
		else if (!strcmp(o, "--min-acks-run")) {
			char *colon = strchr(v, ':');
			if (!colon)
				usage();
			*colon = 0;
			min_run = (long)parse_u64(v, o);
			min_acks = parse_u64(colon + 1, o);
		} else
			usage();
	}
	if (blocks == 0 || offset > (UINT64_MAX / BLOCK) - blocks)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "write")) {
		if (!have_run || run == 0 || run > 0xffffffffu)
			die("write needs --run R with 1 <= R < 2^32 (seq = R << 32 | counter)");
		return do_write(argv[2], argv[3], offset, blocks, (uint32_t)run, (uint32_t)threads, count, seed);
	}
	if (!strcmp(argv[1], "check"))
		return do_check(argv[2], argv[3], offset, blocks, min_run, min_acks);
	usage();
	return 2;
}
