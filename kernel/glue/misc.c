// SPDX-License-Identifier: GPL-2.0
/*
 * Host identity and small services for the C++ engine: the monotonic clock,
 * random bytes, and this host's name (the init UTS namespace's nodename: the
 * module's threads run there, whoever loaded the module).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/printk.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/ktime.h>
#include <linux/utsname.h>

#include "glue_fs.h"

unsigned long long mars_glue_monotonic_ns(void)
{
	return ktime_get_ns();
}

void mars_glue_random_bytes(void *out, size_t size)
{
	/*
	 * Waits (interruptibly) until the CRNG is seeded; long done by the
	 * time a module loads. If interrupted, the bytes are still the
	 * CRNG's best.
	 */
	if (wait_for_random_bytes())
		pr_warn_once("random bytes before the CRNG was seeded\n");
	get_random_bytes(out, size);
}

/*
 * sethostname() may rewrite the name while it is copied (uts_sem is not
 * exported); a snapshot is taken first so the result is at least
 * NUL-terminated and consistent with itself.
 */
size_t mars_glue_host_name(char *out, size_t capacity)
{
	char name[sizeof(init_utsname()->nodename)];
	size_t len;

	memcpy(name, init_utsname()->nodename, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	len = strcspn(name, ".");
	if (len + 1 > capacity)
		return 0;
	memcpy(out, name, len);
	out[len] = '\0';
	return len;
}
