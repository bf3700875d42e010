// SPDX-License-Identifier: GPL-2.0
/*
 * Backing block devices for the engine: exclusive read-write open, requests
 * built as bios on direct-mapped kernel memory or, for writes, on vmalloc'd
 * memory (several chained bios when one cannot hold all pages), and the
 * buffers they use: kmalloc'd I/O buffers and vmalloc'd write buffers.
 * Bios come from a private bio_set with a rescuer: requests may be submitted
 * from inside the exported disk's ->submit_bio, where bios only start after
 * it returns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "glue_block.h"
#include "mars_glue.h"

static struct bio_set mars_bdev_bio_set;

int mars_glue_block_init(void)
{
	return bioset_init(&mars_bdev_bio_set, BIO_POOL_SIZE, 0,
			   BIOSET_NEED_BVECS | BIOSET_NEED_RESCUER);
}

void mars_glue_block_exit(void)
{
	bioset_exit(&mars_bdev_bio_set);
}

static gfp_t mars_io_gfp(int gfp)
{
	switch (gfp) {
	case MARS_GFP_NOIO:
		return GFP_NOIO;
	case MARS_GFP_ATOMIC:
		return GFP_ATOMIC;
	case MARS_GFP_KERNEL:
	default:
		return GFP_KERNEL;
	}
}

/* Directly mapped: bios of reads and writes reach it through virt_to_page(). */
void *mars_glue_io_buffer_alloc(size_t size, int gfp)
{
	return kmalloc(size, mars_io_gfp(gfp) | __GFP_NOWARN);
}

void mars_glue_io_buffer_free(void *buffer)
{
	kfree(buffer);
}

/* Bios reach its pages through vmalloc_to_page(); writes only. */
void *mars_glue_write_buffer_alloc(size_t size)
{
	return __vmalloc(size, GFP_KERNEL | __GFP_NOWARN);
}

void mars_glue_write_buffer_free(void *buffer)
{
	vfree(buffer);
}

/*
 * Whether the vecs may become bios: direct-mapped memory, or vmalloc'd
 * memory for a write (its cache lines are written back for the device
 * first). A read would need the range invalidated after completion, which
 * nothing here knows to do.
 */
static bool mars_bdev_vecs_ok(int op, const struct mars_io_vec *vecs,
			      size_t vec_count)
{
	size_t i;

	for (i = 0; i < vec_count; i++) {
		if (!is_vmalloc_addr(vecs[i].data))
			continue;
		if (op == MARS_BLOCK_READ)
			return false;
		flush_kernel_vmap_range(vecs[i].data, vecs[i].size);
	}
	return true;
}

static struct page *mars_bdev_page(const void *data)
{
	return is_vmalloc_addr(data) ? vmalloc_to_page(data) :
				       virt_to_page(data);
}

int mars_glue_bdev_open(const char *path, void **handle,
			unsigned long long *size_bytes)
{
	struct kc_bdev *b = kzalloc(sizeof(*b), GFP_KERNEL);
	int ret;

	if (!b)
		return -ENOMEM;
	ret = kc_bdev_open(b, path);
	if (ret) {
		kfree(b);
		return ret;
	}
	*handle = b;
	*size_bytes = bdev_nr_bytes(kc_bdev_get(b));
	return 0;
}

void mars_glue_bdev_close(void *handle)
{
	struct kc_bdev *b = handle;

	kc_bdev_close(b);
	kfree(b);
}

/* The last bio of a request: every earlier one is chained to it. */
static void mars_bdev_end_io(struct bio *bio)
{
	void *request = bio->bi_private;
	int error = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	mars_bdev_request_done(request, error);
}

/* Pages that `vecs` touch: one bio_vec each at most. */
static size_t mars_bdev_page_count(const struct mars_io_vec *vecs,
				   size_t vec_count)
{
	size_t pages = 0;
	size_t i;

	for (i = 0; i < vec_count; i++) {
		size_t first = offset_in_page(vecs[i].data);

		pages += DIV_ROUND_UP(first + vecs[i].size, PAGE_SIZE);
	}
	return pages;
}

static struct bio *mars_bdev_bio(struct block_device *bdev, size_t pages,
				 blk_opf_t opf, sector_t sector)
{
	struct bio *bio = bio_alloc_bioset(bdev, min_t(size_t, pages, BIO_MAX_VECS),
					   opf, GFP_NOIO, &mars_bdev_bio_set);

	bio->bi_iter.bi_sector = sector;
	return bio;
}

void mars_glue_bdev_submit(void *handle, int op, int fua,
			   unsigned long long offset, unsigned long long size,
			   const struct mars_io_vec *vecs, size_t vec_count,
			   void *request)
{
	struct block_device *bdev = kc_bdev_get(handle);
	size_t pages = mars_bdev_page_count(vecs, vec_count);
	blk_opf_t opf;
	struct bio *bio;
	size_t i;

	/* Direct-mapped pages come from virt_to_page(): no highmem. */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_HIGHMEM));

	if (WARN_ON_ONCE(!mars_bdev_vecs_ok(op, vecs, vec_count))) {
		mars_bdev_request_done(request, -EINVAL);
		return;
	}
	if (op == MARS_BLOCK_FLUSH) {
		bio = mars_bdev_bio(bdev, 0, REQ_OP_WRITE | REQ_PREFLUSH, 0);
		goto submit;
	}
	opf = op == MARS_BLOCK_READ ? REQ_OP_READ : REQ_OP_WRITE;
	if (op != MARS_BLOCK_READ && fua)
		opf |= REQ_FUA;
	bio = mars_bdev_bio(bdev, pages, opf, offset >> SECTOR_SHIFT);
	for (i = 0; i < vec_count; i++) {
		char *data = vecs[i].data;
		size_t left = vecs[i].size;

		while (left > 0) {
			unsigned int page_offset = offset_in_page(data);
			unsigned int len = min_t(size_t, left,
						 PAGE_SIZE - page_offset);
			struct page *page = mars_bdev_page(data);

			if (bio_add_page(bio, page, len, page_offset) != len) {
				/* Full: chain it to a fresh bio that ends last. */
				struct bio *next = mars_bdev_bio(bdev, pages, opf,
								 bio_end_sector(bio));

				bio_chain(bio, next);
				submit_bio(bio);
				bio = next;
				__bio_add_page(bio, page, len, page_offset);
			}
			pages--;
			data += len;
			left -= len;
		}
	}
submit:
	bio->bi_private = request;
	bio->bi_end_io = mars_bdev_end_io;
	submit_bio(bio);
}
