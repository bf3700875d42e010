/*
 * samplemax: sample an integer file (e.g. /proc/sys/mars/bytes_buffered)
 * as fast as it can until a stop file appears, then print how many samples
 * it took, their maximum, minimum and last value, and how many were above a
 * limit. A shell loop of `cat` forks per sample (milliseconds under TCG);
 * this reads with one open fd and pread at offset 0.
 *
 *   samplemax FILE STOPFILE [--limit L] [--interval-us U]
 *   -> "samples=N max=M min=m last=L above=K"
 *
 * Exit: 0 (also when values were above the limit: the caller judges),
 * 1 when FILE cannot be read or holds no number, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: samplemax FILE STOPFILE [--limit L] [--interval-us U]\n");
	exit(2);
}

static int read_value(int fd, int64_t *out)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || end == buf)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	int64_t limit = INT64_MAX;
	long interval_us = 0;
	if (argc < 3)
		usage();
	for (int i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--limit"))
			limit = strtoll(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--interval-us"))
			interval_us = strtol(argv[++i], NULL, 0);
		else
			usage();
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "samplemax: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t samples = 0, above = 0;
	int64_t max = INT64_MIN, min = INT64_MAX, last = 0;
	for (;;) {
		int64_t v;
		if (read_value(fd, &v) != 0) {
			fprintf(stderr, "samplemax: %s: no number\n", argv[1]);
			return 1;
		}
		samples++;
		last = v;
		if (v > max)
			max = v;
		if (v < min)
			min = v;
		if (v > limit)
			above++;
		if (access(argv[2], F_OK) == 0)
			break;
		if (interval_us > 0)
			usleep((useconds_t)interval_us);
	}
	printf("samples=%" PRIu64 " max=%" PRId64 " min=%" PRId64 " last=%" PRId64 " above=%" PRIu64 "\n",
	       samples, max, min, last, above);
	return 0;
}
