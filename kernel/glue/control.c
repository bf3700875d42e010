// SPDX-License-Identifier: GPL-2.0
/*
 * The control interface under /proc/sys/mars/ (docu/control-interface.md):
 *   version        read-only, the module version
 *   trigger        write 1 (local) or 2 (local and peers) to request a scan of
 *                  /mars; reads back the last request; other values are refused
 *   lamport_clock  read-only, a fresh Lamport stamp in ns since the epoch
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sysctl.h>
#include <linux/version.h>
#include <linux/wait.h>

#include "control.h"
#include "mars_glue.h"

/* proc_handler takes a const table from 6.11 on. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define MARS_CTL_CONST const
#else
#define MARS_CTL_CONST
#endif

static char mars_version_string[] = MARS_VERSION;
static int mars_trigger_level;
static int mars_trigger_min;
static int mars_trigger_max = 2;
static DECLARE_WAIT_QUEUE_HEAD(mars_trigger_wait);
static struct ctl_table_header *mars_sysctl_header;

static int mars_trigger_handler(MARS_CTL_CONST struct ctl_table *table,
				int write, void *buffer, size_t *lenp,
				loff_t *ppos)
{
	int ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);

	if (ret == 0 && write)
		wake_up_interruptible(&mars_trigger_wait);
	return ret;
}

static int mars_lamport_handler(MARS_CTL_CONST struct ctl_table *table,
				int write, void *buffer, size_t *lenp,
				loff_t *ppos)
{
	char text[24];
	struct ctl_table shown = *table;

	if (write)
		return -EPERM;
	snprintf(text, sizeof(text), "%llu", mars_core_lamport_now());
	shown.data = text;
	shown.maxlen = sizeof(text);
	return proc_dostring(&shown, write, buffer, lenp, ppos);
}

/* Keep the empty sentinel: 6.1 needs it, 6.12 gets an explicit count. */
static struct ctl_table mars_sysctl_table[] = {
	{
		.procname = "version",
		.data = mars_version_string,
		.maxlen = sizeof(mars_version_string),
		.mode = 0444,
		.proc_handler = proc_dostring,
	},
	{
		.procname = "trigger",
		.data = &mars_trigger_level,
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = mars_trigger_handler,
		.extra1 = &mars_trigger_min,
		.extra2 = &mars_trigger_max,
	},
	{
		.procname = "lamport_clock",
		.mode = 0444,
		.proc_handler = mars_lamport_handler,
	},
	{ }
};

int mars_control_init(void)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	mars_sysctl_header = register_sysctl_sz("mars", mars_sysctl_table,
						ARRAY_SIZE(mars_sysctl_table) - 1);
#else
	mars_sysctl_header = register_sysctl("mars", mars_sysctl_table);
#endif
	if (!mars_sysctl_header) {
		pr_err("cannot register /proc/sys/mars\n");
		return -ENOMEM;
	}
	return 0;
}

void mars_control_exit(void)
{
	unregister_sysctl_table(mars_sysctl_header);
	mars_sysctl_header = NULL;
}
