// SPDX-License-Identifier: GPL-2.0
/*
 * Mutexes and wait queues for the C++ engine. Each lock class of the engine
 * (enum mars::platform::LockClass) has its own static lock_class_key here, so
 * lockdep sees real classes and checks the order between them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "mars_glue.h"

static struct lock_class_key mars_mutex_keys[MARS_LOCK_CLASS_COUNT];
static struct lock_class_key mars_waitq_keys[MARS_LOCK_CLASS_COUNT];

static const char *const mars_lock_class_names[MARS_LOCK_CLASS_COUNT] = {
	"mars_selftest", "mars_tree", "mars_resource",
	"mars_logger", "mars_writeback", "mars_peer",
	"mars_durability", "mars_local_copies", "mars_data_access",
};

static gfp_t mars_sync_gfp(int gfp)
{
	return gfp == MARS_GFP_NOIO ? GFP_NOIO :
	       gfp == MARS_GFP_ATOMIC ? GFP_ATOMIC : GFP_KERNEL;
}

static int mars_valid_class(int lock_class)
{
	return lock_class >= 0 && lock_class < MARS_LOCK_CLASS_COUNT;
}

void *mars_glue_mutex_create(int lock_class, int gfp)
{
	struct mutex *lock;

	if (!mars_valid_class(lock_class))
		return NULL;
	lock = kmalloc(sizeof(*lock), mars_sync_gfp(gfp));
	if (lock)
		__mutex_init(lock, mars_lock_class_names[lock_class],
			     &mars_mutex_keys[lock_class]);
	return lock;
}

void mars_glue_mutex_destroy(void *lock)
{
	if (lock)
		mutex_destroy(lock);
	kfree(lock);
}

void mars_glue_mutex_lock(void *lock)
{
	mutex_lock(lock);
}

void mars_glue_mutex_unlock(void *lock)
{
	mutex_unlock(lock);
}

void *mars_glue_waitq_create(int lock_class, int gfp)
{
	struct wait_queue_head *wq;

	if (!mars_valid_class(lock_class))
		return NULL;
	wq = kmalloc(sizeof(*wq), mars_sync_gfp(gfp));
	if (wq)
		__init_waitqueue_head(wq, mars_lock_class_names[lock_class],
				      &mars_waitq_keys[lock_class]);
	return wq;
}

void mars_glue_waitq_destroy(void *wq)
{
	kfree(wq);
}

static bool mars_should_stop(void)
{
	return (current->flags & PF_KTHREAD) && kthread_should_stop();
}

/*
 * Interruptible so that a long wait never trips the hung-task detector;
 * kernel threads do not receive signals, so it ends only by condition,
 * timeout or kthread_stop().
 */
int mars_glue_waitq_wait(void *wq, int (*condition)(void *context),
			 void *context, unsigned long long timeout_ns)
{
	unsigned long timeout = nsecs_to_jiffies(timeout_ns);

	if (timeout_ns && !timeout)
		timeout = 1;
	wait_event_interruptible_timeout(*(struct wait_queue_head *)wq,
					 condition(context) || mars_should_stop(),
					 timeout);
	return condition(context);
}

void mars_glue_waitq_wake_all(void *wq)
{
	wake_up_all(wq);
}
