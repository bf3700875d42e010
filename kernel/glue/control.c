// SPDX-License-Identifier: GPL-2.0
/*
 * The control interface under /proc/sys/mars/ (docu/control-interface.md):
 *   version        read-only, the module version
 *   trigger        write 1 (local) or 2 (local and peers) to request a scan of
 *                  /mars; reads back the last request; other values are refused
 *   lamport_clock  read-only, a fresh Lamport stamp in ns since the epoch
 *   tunables       read-write numbers with a range (enum mars::platform::Tunable)
 *   counters       read-only status numbers (enum mars::platform::Counter)
 *   allocations    read-only, engine allocations not yet freed
 * and the engine's side of it: the trigger wait, tunable and counter access.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/sysctl.h>
#include <linux/wait.h>

#include "compat.h"
#include "control.h"
#include "glue_fs.h"
#include "mars_glue.h"

static char mars_version_string[] = MARS_VERSION;
static int mars_trigger_level;
static int mars_trigger_min = 1;
static int mars_trigger_max = 2;
/* The highest level written since the engine last took it; 0 = none. */
static atomic_t mars_trigger_pending = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(mars_trigger_wait);
static struct ctl_table_header *mars_sysctl_header;

#define MARS_MIB (1UL << 20)

/* Indexed by mars::platform::Tunable; defaults are the load-time values. */
static unsigned long mars_tunables[MARS_TUNABLE_COUNT] = {
	64 * MARS_MIB,	/* buffer_limit_bytes */
	1024 * MARS_MIB,	/* logrotate_bytes */
	100,		/* log_sync_interval_ms */
	1000,		/* replay_link_interval_ms */
	5 * MARS_MIB,	/* peer_inflight_bytes */
};
static unsigned long mars_tunable_min[MARS_TUNABLE_COUNT] = {
	MARS_MIB, MARS_MIB, 1, 10, 4096,
};
static unsigned long mars_tunable_max[MARS_TUNABLE_COUNT] = {
	64 * 1024 * MARS_MIB, 1024 * 1024 * MARS_MIB, 10000, 60000,
	1024 * MARS_MIB,
};

/* Indexed by mars::platform::Counter. */
static atomic64_t mars_counters[MARS_COUNTER_COUNT];

/* Raises the pending level (2, with peers, wins over 1) and wakes the engine. */
static void mars_trigger_raise(int level)
{
	int pending = atomic_read(&mars_trigger_pending);

	while (pending < level) {
		int seen = atomic_cmpxchg(&mars_trigger_pending, pending, level);

		if (seen == pending)
			break;
		pending = seen;
	}
	wake_up_interruptible(&mars_trigger_wait);
}

void mars_glue_trigger_kick(void)
{
	mars_trigger_raise(1);
}

static int mars_trigger_handler(KC_CTL_CONST struct ctl_table *table,
				int write, void *buffer, size_t *lenp,
				loff_t *ppos)
{
	int ret = proc_dointvec_minmax(table, write, buffer, lenp, ppos);
	int level = READ_ONCE(mars_trigger_level);

	if (ret || !write || level <= 0)
		return ret;
	mars_trigger_raise(level);
	return 0;
}

static bool mars_trigger_should_stop(void)
{
	return mars_glue_thread_should_stop() != 0;
}

/*
 * Interruptible so that a long wait never trips the hung-task detector;
 * kernel threads get no signals, so only a trigger, the timeout or
 * kthread_stop() (which wakes the thread) ends it. One consumer: the engine's
 * main thread takes each pending trigger once.
 */
int mars_glue_trigger_wait(unsigned long long timeout_ns)
{
	unsigned long timeout = nsecs_to_jiffies(timeout_ns);

	if (timeout_ns && !timeout)
		timeout = 1;
	if (timeout >= MAX_SCHEDULE_TIMEOUT)
		timeout = MAX_SCHEDULE_TIMEOUT - 1;
	wait_event_interruptible_timeout(mars_trigger_wait,
					 atomic_read(&mars_trigger_pending) ||
						 mars_trigger_should_stop(),
					 timeout);
	return atomic_xchg(&mars_trigger_pending, 0);
}

static int mars_lamport_handler(KC_CTL_CONST struct ctl_table *table,
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

/* Shows one read-only number as proc_doulongvec_minmax() formats it. */
static int mars_show_number(KC_CTL_CONST struct ctl_table *table, int write,
			    void *buffer, size_t *lenp, loff_t *ppos,
			    unsigned long value)
{
	struct ctl_table shown = *table;

	if (write)
		return -EPERM;
	shown.data = &value;
	shown.maxlen = sizeof(value);
	shown.extra1 = NULL;
	shown.extra2 = NULL;
	return proc_doulongvec_minmax(&shown, write, buffer, lenp, ppos);
}

/* table->data is the entry's atomic64_t in mars_counters. */
static int mars_counter_handler(KC_CTL_CONST struct ctl_table *table,
				int write, void *buffer, size_t *lenp,
				loff_t *ppos)
{
	return mars_show_number(table, write, buffer, lenp, ppos,
				atomic64_read((atomic64_t *)table->data));
}

static int mars_allocations_handler(KC_CTL_CONST struct ctl_table *table,
				    int write, void *buffer, size_t *lenp,
				    loff_t *ppos)
{
	return mars_show_number(table, write, buffer, lenp, ppos,
				mars_glue_allocations());
}

#define MARS_TUNABLE_ENTRY(name, id)			\
	{						\
		.procname = name,			\
		.data = &mars_tunables[id],		\
		.maxlen = sizeof(unsigned long),	\
		.mode = 0644,				\
		.proc_handler = proc_doulongvec_minmax,	\
		.extra1 = &mars_tunable_min[id],	\
		.extra2 = &mars_tunable_max[id],	\
	}

#define MARS_COUNTER_ENTRY(name, id)			\
	{						\
		.procname = name,			\
		.data = &mars_counters[id],		\
		.mode = 0444,				\
		.proc_handler = mars_counter_handler,	\
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
	MARS_TUNABLE_ENTRY("buffer_limit_bytes", 0),
	MARS_TUNABLE_ENTRY("logrotate_bytes", 1),
	MARS_TUNABLE_ENTRY("log_sync_interval_ms", 2),
	MARS_TUNABLE_ENTRY("replay_link_interval_ms", 3),
	MARS_TUNABLE_ENTRY("peer_inflight_bytes", 4),
	MARS_COUNTER_ENTRY("bytes_logged", 0),
	MARS_COUNTER_ENTRY("bytes_written_back", 1),
	MARS_COUNTER_ENTRY("log_flushes", 2),
	MARS_COUNTER_ENTRY("data_flushes", 3),
	MARS_COUNTER_ENTRY("bytes_buffered", 4),
	MARS_COUNTER_ENTRY("writes_throttled", 5),
	MARS_COUNTER_ENTRY("log_rate_bytes", 6),
	MARS_COUNTER_ENTRY("writeback_rate_bytes", 7),
	MARS_COUNTER_ENTRY("bytes_replayed", 8),
	MARS_COUNTER_ENTRY("tree_entries", 9),
	MARS_COUNTER_ENTRY("peer_allocations", 10),
	MARS_COUNTER_ENTRY("sync_bytes_compared", 11),
	MARS_COUNTER_ENTRY("sync_bytes_copied", 12),
	MARS_COUNTER_ENTRY("tree_write_errno", 13),
	MARS_COUNTER_ENTRY("bytes_read_direct", 14),
	MARS_COUNTER_ENTRY("bytes_read_ahead", 15),
	MARS_COUNTER_ENTRY("writes_merged", 16),
	{
		.procname = "allocations",
		.mode = 0444,
		.proc_handler = mars_allocations_handler,
	},
	{ }
};

static bool mars_valid_tunable(int id)
{
	return id >= 0 && id < MARS_TUNABLE_COUNT;
}

static bool mars_valid_counter(int id)
{
	return id >= 0 && id < MARS_COUNTER_COUNT;
}

unsigned long long mars_glue_tunable_get(int id)
{
	if (WARN_ON_ONCE(!mars_valid_tunable(id)))
		return 0;
	return READ_ONCE(mars_tunables[id]);
}

unsigned long long mars_glue_counter_get(int id)
{
	if (WARN_ON_ONCE(!mars_valid_counter(id)))
		return 0;
	return atomic64_read(&mars_counters[id]);
}

void mars_glue_counter_add(int id, unsigned long long delta)
{
	if (!WARN_ON_ONCE(!mars_valid_counter(id)))
		atomic64_add(delta, &mars_counters[id]);
}

void mars_glue_counter_sub(int id, unsigned long long delta)
{
	if (!WARN_ON_ONCE(!mars_valid_counter(id)))
		atomic64_sub(delta, &mars_counters[id]);
}

void mars_glue_counter_set(int id, unsigned long long value)
{
	if (!WARN_ON_ONCE(!mars_valid_counter(id)))
		atomic64_set(&mars_counters[id], value);
}

int mars_control_init(void)
{
	mars_sysctl_header = kc_register_sysctl("mars", mars_sysctl_table);
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
