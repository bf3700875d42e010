/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The block half of the glue boundary: I/O buffers and backing block devices
 * (glue/bdev.c) and the exported bio-based disk /dev/mars/NAME
 * (glue/blkdev.c), used by kernel/platform/platform_block_kernel.cc.
 *
 * Rules as in mars_glue.h: builtin types only, no kernel header, errors as
 * 0 / -errno. Functions marked "C++" are implemented by the platform file and
 * called by the glue (fixed functions, never function pointers).
 */
#ifndef _MARS_GLUE_BLOCK_H
#define _MARS_GLUE_BLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

/* One piece of a gather/scatter list; same layout as mars::platform::IoVec. */
struct mars_io_vec {
	void *data;
	__SIZE_TYPE__ size;
};

/* Values of mars::platform::BlockDevice::Op and FrontOp. */
enum mars_block_op {
	MARS_BLOCK_READ = 0,
	MARS_BLOCK_WRITE = 1,
	MARS_BLOCK_FLUSH = 2,
};

/* Values of mars::platform::FrontFlags. */
enum mars_front_flags {
	MARS_FRONT_FUA = 1 << 0,
	MARS_FRONT_PREFLUSH = 1 << 1,
};

/*
 * Module init/exit of the block glue (the bio_set of backing-device I/O).
 * mars_glue_block_init() returns 0 or -errno; mars_glue_block_exit()
 * REQUIRES every backing-device bio completed. Context: may sleep.
 */
int mars_glue_block_init(void);
void mars_glue_block_exit(void);

/* bdev.c: kmalloc'd, directly mapped memory; gfp is an enum mars_gfp. */
void *mars_glue_io_buffer_alloc(__SIZE_TYPE__ size, int gfp);
void mars_glue_io_buffer_free(void *buffer);
/*
 * bdev.c: vmalloc'd memory that writes (never reads) may come from; NULL
 * when out of memory. Context: may sleep.
 */
void *mars_glue_write_buffer_alloc(__SIZE_TYPE__ size);
void mars_glue_write_buffer_free(void *buffer);

/*
 * bdev.c: backing block devices. open: read-write with an exclusive claim;
 * *handle and *size_bytes are set on success. Context: may sleep.
 */
int mars_glue_bdev_open(const char *path, void **handle,
			unsigned long long *size_bytes);
/* Releases the claim before returning. REQUIRES no bio in flight. */
void mars_glue_bdev_close(void *handle);
/*
 * Starts one request (op: enum mars_block_op). REQUIRES offset and size
 * multiples of 512, the vecs' sizes summing to size, vec memory directly
 * mapped or (writes only) from mars_glue_write_buffer_alloc(); for
 * MARS_BLOCK_FLUSH size 0 and no vecs. A read into vmalloc'd memory
 * completes with -EINVAL. Completion calls
 * mars_bdev_request_done(request, 0 or -errno) exactly once, possibly in
 * interrupt context. Context: may sleep (GFP_NOIO), not interrupt.
 */
void mars_glue_bdev_submit(void *handle, int op, int fua,
			   unsigned long long offset, unsigned long long size,
			   const struct mars_io_vec *vecs,
			   __SIZE_TYPE__ vec_count, void *request);
/* C++: the completion of mars_glue_bdev_submit(). Context: any. */
void mars_bdev_request_done(void *request, int error);

/*
 * blkdev.c: the exported disk /dev/mars/NAME, size_bytes a multiple of 4096.
 * Every bio becomes one call of mars_front_submit(owner, ...), whose memory
 * holds request_bytes for the caller's request object followed by the vecs.
 * Context: may sleep.
 */
int mars_glue_front_create(const char *name, unsigned long long size_bytes,
			   void *owner, __SIZE_TYPE__ request_bytes,
			   void **front);
/*
 * Returns -EBUSY (nothing changed) while open; otherwise refuses new opens,
 * deletes the disk and returns 0; no mars_front_submit() runs afterwards.
 * Context: may sleep.
 */
int mars_glue_front_destroy(void *front);
/* Current number of openers. Context: any. */
int mars_glue_front_open_count(const void *front);
/*
 * Ends `bio` with status (a mars::StatusCode value) and frees `memory` (the
 * one handed to mars_front_submit). Context: any.
 */
void mars_glue_front_complete(void *bio, void *memory, int status);

/*
 * C++: one request of the exported disk; op is an enum mars_block_op, flags
 * enum mars_front_flags. Context: the bio submitter's (may sleep).
 */
void mars_front_submit(void *owner, void *memory,
		       const struct mars_io_vec *vecs, unsigned int vec_count,
		       int op, unsigned int flags, unsigned long long offset,
		       unsigned long long size, void *bio);

#ifdef __cplusplus
}
#endif

#endif /* _MARS_GLUE_BLOCK_H */
