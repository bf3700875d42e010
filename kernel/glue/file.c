// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files for the C++ engine (the logfiles under /mars): open, positional
 * read and write from kernel buffers, range fdatasync, truncate and size, on a
 * struct file from filp_open(); direct reads (O_DIRECT) into vmalloc'd
 * buffers on a second struct file. Errors are -errno from the VFS unchanged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "glue_fs.h"

int mars_glue_file_open(const char *path, unsigned int flags, void **handle)
{
	int oflags = O_LARGEFILE;
	struct file *file;
	umode_t mode;

	*handle = NULL;
	switch (flags & (MARS_FILE_READ | MARS_FILE_WRITE)) {
	case MARS_FILE_READ:
		oflags |= O_RDONLY;
		break;
	case MARS_FILE_WRITE:
		oflags |= O_WRONLY;
		break;
	case MARS_FILE_READ | MARS_FILE_WRITE:
		oflags |= O_RDWR;
		break;
	default:
		return -EINVAL;
	}
	if (flags & MARS_FILE_CREATE) {
		oflags |= O_CREAT;
		if (flags & MARS_FILE_EXCLUSIVE)
			oflags |= O_EXCL;
	}
	file = filp_open(path, oflags, 0600);
	if (IS_ERR(file))
		return PTR_ERR(file);
	/* Logfiles only: a directory or device here is a broken tree. */
	mode = file_inode(file)->i_mode;
	if (!S_ISREG(mode)) {
		filp_close(file, NULL);
		return S_ISDIR(mode) ? -EISDIR : -EINVAL;
	}
	*handle = file;
	return 0;
}

void mars_glue_file_close(void *file)
{
	if (file)
		filp_close(file, NULL);
}

/* [offset, offset + size) must be representable as loff_t. */
static int mars_file_range_ok(unsigned long long offset, size_t size)
{
	return offset <= LLONG_MAX && size <= LLONG_MAX - offset;
}

int mars_glue_file_read(void *file, unsigned long long offset, void *buffer,
			size_t size, size_t *done)
{
	loff_t pos = offset;
	size_t total = 0;

	*done = 0;
	if (!mars_file_range_ok(offset, size))
		return -EINVAL;
	while (total < size) {
		ssize_t n = kernel_read(file, (char *)buffer + total,
					size - total, &pos);

		if (n < 0) {
			*done = total;
			return n;
		}
		if (n == 0)
			break; /* end of file */
		total += n;
	}
	*done = total;
	return 0;
}

int mars_glue_file_write(void *file, unsigned long long offset,
			 const void *data, size_t size)
{
	loff_t pos = offset;
	size_t total = 0;

	if (!mars_file_range_ok(offset, size))
		return -EINVAL;
	while (total < size) {
		ssize_t n = kernel_write(file, (const char *)data + total,
					 size - total, &pos);

		if (n < 0)
			return n;
		if (n == 0)
			return -EIO; /* no progress and no reason given */
		total += n;
	}
	return 0;
}

int mars_glue_file_sync(void *file, unsigned long long begin,
			unsigned long long end)
{
	loff_t last;

	if (end <= begin)
		return 0;
	if (begin > LLONG_MAX)
		return -EINVAL;
	last = end - 1 > LLONG_MAX ? LLONG_MAX : end - 1;
	return vfs_fsync_range(file, begin, last, 1);
}

int mars_glue_file_truncate(void *handle, unsigned long long size)
{
	struct file *file = handle;

	if (size > LLONG_MAX)
		return -EINVAL;
	return vfs_truncate(&file->f_path, size);
}

unsigned long long mars_glue_file_size(void *file)
{
	return i_size_read(file_inode(file));
}

int mars_glue_file_open_direct(void *handle, void **direct,
			       unsigned int *offset_align,
			       unsigned int *memory_align)
{
	struct file *file = handle;
	struct file *dfile;
	struct kstat stat;
	int ret;

	*direct = NULL;
	*offset_align = 0;
	*memory_align = 0;
	dfile = dentry_open(&file->f_path, O_RDONLY | O_DIRECT | O_LARGEFILE,
			    file->f_cred);
	if (IS_ERR(dfile))
		return PTR_ERR(dfile);
	ret = vfs_getattr(&dfile->f_path, &stat, STATX_DIOALIGN,
			  AT_STATX_SYNC_AS_STAT);
	if (ret == 0 && (!(stat.result_mask & STATX_DIOALIGN) ||
			 !stat.dio_offset_align || !stat.dio_mem_align ||
			 stat.dio_offset_align > PAGE_SIZE))
		ret = -EOPNOTSUPP;
	if (ret) {
		filp_close(dfile, NULL);
		return ret;
	}
	*direct = dfile;
	*offset_align = stat.dio_offset_align;
	/*
	 * mars_glue_file_read_direct() splits the buffer at page boundaries
	 * and direct I/O wants every piece a whole number of blocks (see
	 * iov_iter_is_aligned()): the buffer must also be aligned to the
	 * offset alignment (NVMe reports a memory alignment of 4).
	 */
	*memory_align = max(stat.dio_mem_align, stat.dio_offset_align);
	return 0;
}

int mars_glue_file_cached(void *file, unsigned long long offset)
{
	struct file *f = file;
	loff_t start = offset & PAGE_MASK;

	return filemap_range_has_page(f->f_mapping, start,
				      start + PAGE_SIZE - 1) ? 1 : 0;
}

static struct page *mars_buffer_page(const void *addr)
{
	return is_vmalloc_addr(addr) ? vmalloc_to_page(addr) : virt_to_page(addr);
}

/* One direct read in flight (mars_glue_file_read_direct_start()). */
struct mars_direct_read {
	struct kiocb iocb;
	struct iov_iter iter;
	struct completion done;
	long result; /* bytes read or -errno, set before `done` completes */
	void *buffer;
	size_t size;
	struct bio_vec bvec[]; /* the bio may point at them until the end */
};

/* The end of the read; from the disk's completion (any context) or inline. */
static void mars_direct_read_complete(struct kiocb *iocb, long ret)
{
	struct mars_direct_read *r =
		container_of(iocb, struct mars_direct_read, iocb);

	r->result = ret;
	complete(&r->done);
}

/*
 * Direct I/O cannot take a kvec (its pages are not pinnable that way): the
 * buffer becomes a bvec array, one entry per page piece, as the loop driver
 * hands pages to its backing file. The kiocb carries a completion, so the
 * file system submits the bios and returns -EIOCBQUEUED; it may also finish
 * (or fail) at once, which completes the read here.
 */
int mars_glue_file_read_direct_start(void *direct, unsigned long long offset,
				     void *buffer, size_t size, void **read)
{
	size_t pieces = size / PAGE_SIZE + 2;
	struct mars_direct_read *r;
	unsigned int nr = 0;
	size_t left = size;
	char *p = buffer;
	ssize_t ret;

	*read = NULL;
	if (!mars_file_range_ok(offset, size))
		return -EINVAL;
	r = kvzalloc(struct_size(r, bvec, pieces), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	init_completion(&r->done);
	r->buffer = buffer;
	r->size = size;
	while (left > 0) {
		size_t in_page = offset_in_page(p);
		size_t n = min_t(size_t, left, PAGE_SIZE - in_page);

		bvec_set_page(&r->bvec[nr++], mars_buffer_page(p), n, in_page);
		p += n;
		left -= n;
	}
	if (is_vmalloc_addr(buffer))
		flush_kernel_vmap_range(buffer, size);
	iov_iter_bvec(&r->iter, ITER_DEST, r->bvec, nr, size);
	init_sync_kiocb(&r->iocb, direct);
	r->iocb.ki_pos = offset;
	r->iocb.ki_complete = mars_direct_read_complete;
	ret = size ? vfs_iocb_iter_read(direct, &r->iocb, &r->iter) : 0;
	if (ret != -EIOCBQUEUED)
		mars_direct_read_complete(&r->iocb, ret);
	*read = r;
	return 0;
}

int mars_glue_file_read_direct_wait(void *read, size_t *done)
{
	struct mars_direct_read *r = read;
	int ret = 0;

	*done = 0;
	wait_for_completion_io(&r->done);
	if (is_vmalloc_addr(r->buffer))
		invalidate_kernel_vmap_range(r->buffer, r->size);
	if (r->result < 0)
		ret = r->result;
	else
		*done = r->result;
	kvfree(r);
	return ret;
}

int mars_glue_file_read_direct(void *direct, unsigned long long offset,
			       void *buffer, size_t size, size_t *done)
{
	size_t total = 0;
	int ret = 0;

	while (total < size) {
		void *read;
		size_t n = 0;

		ret = mars_glue_file_read_direct_start(direct, offset + total,
						       (char *)buffer + total,
						       size - total, &read);
		if (ret)
			break;
		ret = mars_glue_file_read_direct_wait(read, &n);
		if (ret || n == 0)
			break; /* an error, or the end of the file */
		total += n;
	}
	*done = total;
	return ret;
}
