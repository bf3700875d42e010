/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the supported kernels (Debian 12's 6.1 and 6.12)
 * lives here, keyed on LINUX_VERSION_CODE with one named boundary per
 * concern (facts: /work/shared/reference/kernel-api-6.1-6.12.md). Glue files
 * include this header only; no other file tests the kernel version.
 */
#ifndef _MARS_COMPAT_H
#define _MARS_COMPAT_H

#include <linux/version.h>

#define KC_VER_MNT_IDMAP  KERNEL_VERSION(6, 3, 0)   /* vfs_*(struct mnt_idmap *) */
#define KC_VER_BLK_MODE   KERNEL_VERSION(6, 5, 0)   /* blk_mode_t block_device_operations */
#define KC_VER_SYSCTL_SZ  KERNEL_VERSION(6, 6, 0)   /* register_sysctl_sz */
#define KC_VER_BDEV_FILE  KERNEL_VERSION(6, 9, 0)   /* bdev_file_open_by_path, bdev_fput */
#define KC_VER_BLK_LIMITS KERNEL_VERSION(6, 9, 0)   /* blk_alloc_disk(lim, node) */
#define KC_VER_BLK_FEAT   KERNEL_VERSION(6, 11, 0)  /* queue_limits.features, const ctl_table */

/* ---- block devices (glue/bdev.c, glue/blkdev.c) ---- */

#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/numa.h>

/*
 * A backing device opened read-write with an exclusive claim whose holder is
 * the kc_bdev itself: 6.1 blkdev_get_by_path(FMODE_EXCL) / blkdev_put;
 * 6.9+ bdev_file_open_by_path (a holder makes it exclusive) / bdev_fput,
 * which gives the claim back synchronously (a plain fput from a kthread
 * would defer it). kc_bdev_open returns 0 or -errno (EBUSY: claimed by
 * another holder or mounted).
 */
struct kc_bdev {
#if LINUX_VERSION_CODE >= KC_VER_BDEV_FILE
	struct file *file;
#else
	struct block_device *bdev;
#endif
};

#if LINUX_VERSION_CODE >= KC_VER_BDEV_FILE
static inline int kc_bdev_open(struct kc_bdev *b, const char *path)
{
	struct file *file = bdev_file_open_by_path(path,
			BLK_OPEN_READ | BLK_OPEN_WRITE, b, NULL);

	if (IS_ERR(file))
		return PTR_ERR(file);
	b->file = file;
	return 0;
}

static inline struct block_device *kc_bdev_get(const struct kc_bdev *b)
{
	return file_bdev(b->file);
}

static inline void kc_bdev_close(struct kc_bdev *b)
{
	bdev_fput(b->file);
	b->file = NULL;
}
#else
#define KC_BDEV_MODE (FMODE_READ | FMODE_WRITE | FMODE_EXCL)

static inline int kc_bdev_open(struct kc_bdev *b, const char *path)
{
	struct block_device *bdev = blkdev_get_by_path(path, KC_BDEV_MODE, b);

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	b->bdev = bdev;
	return 0;
}

static inline struct block_device *kc_bdev_get(const struct kc_bdev *b)
{
	return b->bdev;
}

static inline void kc_bdev_close(struct kc_bdev *b)
{
	blkdev_put(b->bdev, KC_BDEV_MODE);
	b->bdev = NULL;
}
#endif

/*
 * block_device_operations .open/.release heads: (gendisk, blk_mode_t) from
 * 6.5, (block_device, fmode_t) before. Inside an open, KC_BDOPS_OPEN_DISK is
 * the gendisk; a release always has `disk`.
 */
#if LINUX_VERSION_CODE >= KC_VER_BLK_MODE
#define KC_BDOPS_OPEN(fn)	static int fn(struct gendisk *disk, blk_mode_t mode)
#define KC_BDOPS_OPEN_DISK	(disk)
#define KC_BDOPS_RELEASE(fn)	static void fn(struct gendisk *disk)
#else
#define KC_BDOPS_OPEN(fn)	static int fn(struct block_device *bdev, fmode_t mode)
#define KC_BDOPS_OPEN_DISK	(bdev->bd_disk)
#define KC_BDOPS_RELEASE(fn)	static void fn(struct gendisk *disk, fmode_t mode)
#endif

/*
 * A bio-based disk (its own queue, GD_OWNS_QUEUE) with logical and physical
 * block size `block_bytes`, at most `max_sectors` per bio, no segment limits
 * (nothing is DMA-mapped), a volatile write cache with FUA, non-rotational,
 * no I/O statistics, no entropy, no discard or write zeroes (the default
 * limits of both kernels). 6.11+: all of it in queue_limits at allocation;
 * 6.1: blk_alloc_disk(node) and the setters. Returns an ERR_PTR on failure.
 */
static inline struct gendisk *kc_alloc_bio_disk(unsigned int block_bytes,
						unsigned int max_sectors)
{
#if LINUX_VERSION_CODE >= KC_VER_BLK_FEAT
	struct queue_limits lim = {
		.logical_block_size = block_bytes,
		.physical_block_size = block_bytes,
		.max_hw_sectors = max_sectors,
		.max_segments = USHRT_MAX,
		.max_segment_size = UINT_MAX,
		.features = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
	};

	return blk_alloc_disk(&lim, NUMA_NO_NODE);
#else
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);
	struct request_queue *q;

	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_logical_block_size(q, block_bytes);
	blk_queue_physical_block_size(q, block_bytes);
	blk_queue_max_hw_sectors(q, max_sectors);
	blk_queue_max_segments(q, USHRT_MAX);
	blk_queue_max_segment_size(q, UINT_MAX);
	blk_queue_write_cache(q, true, true);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_IO_STAT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	return disk;
#endif
}

/* ---- end of block devices ---- */

/* ---- files and the /mars tree (glue/file.c, glue/tree_fs.c) ---- */

/*
 * The idmap the vfs_*() namespace operations take: struct user_namespace
 * (mnt_user_ns) before 6.3, struct mnt_idmap (mnt_idmap) from 6.3 on. Both
 * accessors are inline (no GPL export needed). Users include <linux/mount.h>.
 */
#if LINUX_VERSION_CODE >= KC_VER_MNT_IDMAP
typedef struct mnt_idmap kc_idmap_t;
#define kc_mnt_idmap(mnt) mnt_idmap(mnt)
/* struct renamedata: both sides of a rename use `idmap`. */
#define kc_renamedata_set_idmap(rd, idmap) \
	do { (rd)->old_mnt_idmap = (idmap); (rd)->new_mnt_idmap = (idmap); } while (0)
#else
typedef struct user_namespace kc_idmap_t;
#define kc_mnt_idmap(mnt) mnt_user_ns(mnt)
#define kc_renamedata_set_idmap(rd, idmap) \
	do { (rd)->old_mnt_userns = (idmap); (rd)->new_mnt_userns = (idmap); } while (0)
#endif

/*
 * The control interface (glue/control.c): proc_handler takes a const table
 * from 6.11 on; a table keeps its empty sentinel and is registered with an
 * explicit entry count where register_sysctl_sz exists (6.6), because 6.11+
 * rejects a counted sentinel and 6.1 needs it to find the end.
 */
#if LINUX_VERSION_CODE >= KC_VER_BLK_FEAT
#define KC_CTL_CONST const
#else
#define KC_CTL_CONST
#endif
#if LINUX_VERSION_CODE >= KC_VER_SYSCTL_SZ
#define kc_register_sysctl(path, table) \
	register_sysctl_sz(path, table, ARRAY_SIZE(table) - 1)
#else
#define kc_register_sysctl(path, table) register_sysctl(path, table)
#endif

/* ---- end of files and the /mars tree ---- */

#endif /* _MARS_COMPAT_H */
