// SPDX-License-Identifier: GPL-2.0
/*
 * Memory for the C++ engine, with the allocation context chosen by the caller,
 * and the count of allocations not yet freed (/proc/sys/mars/allocations: a
 * module that stopped everything must show 0, which the VM tests check).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/slab.h>
#include <linux/mm.h>

#include "glue_fs.h"
#include "mars_glue.h"

static atomic64_t mars_allocations = ATOMIC64_INIT(0);

static gfp_t mars_gfp_flags(int gfp)
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

/*
 * Large requests that may sleep fall back to vmalloc; atomic ones never do.
 * kvfree() releases both kinds.
 */
void *mars_glue_alloc(size_t size, int gfp)
{
	gfp_t flags = mars_gfp_flags(gfp);
	void *ptr;

	if (gfp == MARS_GFP_ATOMIC)
		ptr = kmalloc(size, flags | __GFP_NOWARN);
	else
		ptr = kvmalloc(size, flags);
	if (ptr)
		atomic64_inc(&mars_allocations);
	return ptr;
}

void mars_glue_free(const void *ptr)
{
	if (!ptr)
		return;
	atomic64_dec(&mars_allocations);
	kvfree(ptr);
}

long long mars_glue_allocations(void)
{
	return atomic64_read(&mars_allocations);
}
