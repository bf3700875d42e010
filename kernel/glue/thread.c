// SPDX-License-Identifier: GPL-2.0
/* Kernel threads for the C++ engine. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "mars_glue.h"

struct mars_thread {
	struct task_struct *task;
	void (*body)(void *context);
	void *context;
};

static int mars_thread_main(void *data)
{
	struct mars_thread *thread = data;

	thread->body(thread->context);
	/* kthread_stop() expects the thread to live until it is called. */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

void *mars_glue_thread_start(const char *name, void (*body)(void *context),
			     void *context, int gfp)
{
	struct mars_thread *thread;

	thread = kzalloc(sizeof(*thread),
			 gfp == MARS_GFP_NOIO ? GFP_NOIO : GFP_KERNEL);
	if (!thread)
		return NULL;
	thread->body = body;
	thread->context = context;
	thread->task = kthread_create(mars_thread_main, thread, "%s", name);
	if (IS_ERR(thread->task)) {
		pr_err("cannot start thread %s: %ld\n", name,
		       PTR_ERR(thread->task));
		kfree(thread);
		return NULL;
	}
	get_task_struct(thread->task);
	wake_up_process(thread->task);
	return thread;
}

void mars_glue_thread_stop(void *handle)
{
	struct mars_thread *thread = handle;

	kthread_stop(thread->task);
	put_task_struct(thread->task);
	kfree(thread);
}

int mars_glue_thread_should_stop(void)
{
	return (current->flags & PF_KTHREAD) && kthread_should_stop();
}
