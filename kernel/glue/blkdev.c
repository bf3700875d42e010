// SPDX-License-Identifier: GPL-2.0
/*
 * The exported device /dev/mars/NAME: a bio-based gendisk with a dynamic
 * dev_t (the extended major, no register_blkdev), 4 KiB blocks, 1 MiB
 * requests, a volatile write cache with FUA, no discard or write zeroes.
 * Every bio becomes one request of the engine (mars_front_submit), which
 * ends it through mars_glue_front_complete. Opens are counted so that the
 * engine can refuse to remove a disk in use.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "compat.h"
#include "glue_block.h"
#include "glue_fs.h"

#define MARS_FRONT_BLOCK_BYTES 4096
#define MARS_FRONT_MAX_SECTORS ((1024 * 1024) >> SECTOR_SHIFT)

struct mars_front {
	struct gendisk *disk;
	void *owner;			/* first argument of mars_front_submit */
	size_t request_bytes;		/* caller's part of each request */
	char *node;			/* "mars/NAME", the /dev path */
	spinlock_t lock;		/* closing vs. a new open */
	bool closing;
	atomic_t open_count;
};

/* Distinguishes the sysfs names of resources too long for disk_name. */
static atomic_t mars_front_serial = ATOMIC_INIT(0);

KC_BDOPS_OPEN(mars_front_open)
{
	struct mars_front *front = KC_BDOPS_OPEN_DISK->private_data;
	int ret = 0;

	spin_lock(&front->lock);
	if (front->closing)
		ret = -ENXIO;
	else
		atomic_inc(&front->open_count);
	spin_unlock(&front->lock);
	/* actual-HOST/open-count follows at once, not at the next periodic scan. */
	if (!ret)
		mars_glue_trigger_kick();
	return ret;
}

KC_BDOPS_RELEASE(mars_front_release)
{
	struct mars_front *front = disk->private_data;

	atomic_dec(&front->open_count);
	mars_glue_trigger_kick();
}

/* The node is always /dev/mars/NAME, also when disk_name had to be cut. */
static char *mars_front_devnode(struct gendisk *disk, umode_t *mode)
{
	struct mars_front *front = disk->private_data;

	return front ? kstrdup(front->node, GFP_KERNEL) : NULL;
}

static void mars_front_end(struct bio *bio, int error)
{
	bio->bi_status = errno_to_blk_status(error);
	bio_endio(bio);
}

static void mars_front_submit_bio(struct bio *bio)
{
	struct mars_front *front = bio->bi_bdev->bd_disk->private_data;
	unsigned int flags = 0;
	unsigned int count = 0;
	struct mars_io_vec *vecs;
	struct bvec_iter iter;
	struct bio_vec bv;
	void *memory;
	int op;

	/* bvec_virt() needs direct-mapped pages. */
	BUILD_BUG_ON(IS_ENABLED(CONFIG_HIGHMEM));

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		op = MARS_BLOCK_READ;
		break;
	case REQ_OP_WRITE:
		op = MARS_BLOCK_WRITE;
		break;
	case REQ_OP_FLUSH:
		op = MARS_BLOCK_FLUSH;
		break;
	default:
		/* Discard, write zeroes, secure erase...: not advertised. */
		mars_front_end(bio, -EOPNOTSUPP);
		return;
	}
	if (op != MARS_BLOCK_FLUSH) {
		bio = bio_split_to_limits(bio);
		if (!bio)
			return;
	}
	if (op == MARS_BLOCK_WRITE) {
		if (bio->bi_iter.bi_size == 0) {
			/* How a flush reaches a bio-based driver. */
			if (!(bio->bi_opf & REQ_PREFLUSH)) {
				bio_endio(bio);
				return;
			}
			op = MARS_BLOCK_FLUSH;
		} else {
			if (bio->bi_opf & REQ_FUA)
				flags |= MARS_FRONT_FUA;
			if (bio->bi_opf & REQ_PREFLUSH)
				flags |= MARS_FRONT_PREFLUSH;
		}
	}
	if (op != MARS_BLOCK_FLUSH &&
	    (!IS_ALIGNED(bio->bi_iter.bi_sector,
			 MARS_FRONT_BLOCK_BYTES >> SECTOR_SHIFT) ||
	     !IS_ALIGNED(bio->bi_iter.bi_size, MARS_FRONT_BLOCK_BYTES))) {
		mars_front_end(bio, -EINVAL);
		return;
	}

	bio_for_each_segment(bv, bio, iter)
		count++;
	memory = kmalloc(front->request_bytes + count * sizeof(*vecs),
			 GFP_NOIO);
	if (!memory) {
		bio_io_error(bio);
		return;
	}
	vecs = (struct mars_io_vec *)((char *)memory + front->request_bytes);
	count = 0;
	bio_for_each_segment(bv, bio, iter) {
		vecs[count].data = bvec_virt(&bv);
		vecs[count].size = bv.bv_len;
		count++;
	}
	mars_front_submit(front->owner, memory, vecs, count, op, flags,
			  (unsigned long long)bio->bi_iter.bi_sector << SECTOR_SHIFT,
			  bio->bi_iter.bi_size, bio);
}

static const struct block_device_operations mars_front_ops = {
	.owner = THIS_MODULE,
	.submit_bio = mars_front_submit_bio,
	.open = mars_front_open,
	.release = mars_front_release,
	.devnode = mars_front_devnode,
};

/* The errno a request's mars::StatusCode ends its bio with. */
static int mars_front_errno(int status)
{
	switch (status) {
	case 0:			/* kOk */
		return 0;
	case 4:			/* kNoMemory */
		return -ENOMEM;
	case 1:			/* kInvalidArgument */
	case 2:			/* kOutOfRange */
		return -EINVAL;
	default:		/* kIoError and everything else */
		return -EIO;
	}
}

void mars_glue_front_complete(void *bio, void *memory, int status)
{
	kfree(memory);
	mars_front_end(bio, mars_front_errno(status));
}

int mars_glue_front_create(const char *name, unsigned long long size_bytes,
			   void *owner, size_t request_bytes, void **handle)
{
	struct mars_front *front;
	struct gendisk *disk;
	int ret;

	front = kzalloc(sizeof(*front), GFP_KERNEL);
	if (!front)
		return -ENOMEM;
	front->owner = owner;
	front->request_bytes = ALIGN(request_bytes, __alignof__(struct mars_io_vec));
	spin_lock_init(&front->lock);
	atomic_set(&front->open_count, 0);
	front->node = kasprintf(GFP_KERNEL, "mars/%s", name);
	if (!front->node) {
		ret = -ENOMEM;
		goto err_free;
	}

	disk = kc_alloc_bio_disk(MARS_FRONT_BLOCK_BYTES, MARS_FRONT_MAX_SECTORS);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto err_free;
	}
	/* major 0, minors 0: add_disk picks a dev_t of the extended major. */
	disk->fops = &mars_front_ops;
	disk->private_data = front;
	disk->flags |= GENHD_FL_NO_PART;
	/* sysfs turns '/' into '!'; devtmpfs turns it back: /dev/mars/NAME. */
	if (strlen(front->node) < DISK_NAME_LEN)
		strscpy(disk->disk_name, front->node, DISK_NAME_LEN);
	else
		snprintf(disk->disk_name, DISK_NAME_LEN, "mars/%.14s~%u", name,
			 (unsigned int)atomic_inc_return(&mars_front_serial));
	set_capacity(disk, size_bytes >> SECTOR_SHIFT);
	front->disk = disk;

	ret = add_disk(disk);
	if (ret) {
		put_disk(disk);
		goto err_free;
	}
	*handle = front;
	return 0;

err_free:
	kfree(front->node);
	kfree(front);
	return ret;
}

int mars_glue_front_destroy(void *handle)
{
	struct mars_front *front = handle;

	spin_lock(&front->lock);
	if (atomic_read(&front->open_count) > 0) {
		spin_unlock(&front->lock);
		return -EBUSY;
	}
	front->closing = true;
	spin_unlock(&front->lock);

	/* Waits for every ->submit_bio under way (the queue is frozen). */
	del_gendisk(front->disk);
	put_disk(front->disk);
	kfree(front->node);
	kfree(front);
	return 0;
}

int mars_glue_front_open_count(const void *handle)
{
	const struct mars_front *front = handle;

	return atomic_read(&front->open_count);
}
