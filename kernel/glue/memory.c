// SPDX-License-Identifier: GPL-2.0
/* Memory for the C++ engine, with the allocation context chosen by the caller. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>

#include "mars_glue.h"

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

	if (gfp == MARS_GFP_ATOMIC)
		return kmalloc(size, flags | __GFP_NOWARN);
	return kvmalloc(size, flags);
}

void mars_glue_free(const void *ptr)
{
	kvfree(ptr);
}
