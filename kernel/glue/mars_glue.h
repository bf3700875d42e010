/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between the C glue (the .c files in kernel/glue, the only code
 * that includes kernel headers) and the C++ engine (kernel/core, kernel/platform).
 *
 * Rules (docu/kernel-cpp-rules.md): builtin types only, no kernel header, no
 * noreturn function, errors as 0 / -errno, allocation context always explicit.
 */
#ifndef _MARS_GLUE_H
#define _MARS_GLUE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Allocation contexts; the glue maps them to GFP_KERNEL, GFP_NOIO, GFP_ATOMIC. */
enum mars_gfp {
	MARS_GFP_KERNEL = 0,
	MARS_GFP_NOIO = 1,
	MARS_GFP_ATOMIC = 2,
};

/* Status codes that cross the boundary (values of mars::StatusCode). */
enum mars_glue_status {
	MARS_STATUS_OK = 0,
	MARS_STATUS_NO_MEMORY = 4,
	MARS_STATUS_UNAVAILABLE = 8,
};

/* memory.c */
void *mars_glue_alloc(__SIZE_TYPE__ size, int gfp);
void mars_glue_free(const void *ptr);

/* log.c: level is a printk level 0..7 (3 = error ... 7 = debug). */
void mars_glue_vlog(int level, const char *fmt, __builtin_va_list ap);
void mars_glue_report_bug(const char *file, int line);

/* clock.c */
unsigned long long mars_glue_real_time_ns(void);

/* crypto.c: crc is the engine's convention (pre- and post-inverted). */
unsigned int mars_glue_crc32c(unsigned int crc, const void *data,
			      __SIZE_TYPE__ size);
void mars_glue_sha256(const void *data, __SIZE_TYPE__ size, unsigned char *out);
/* Returns a mars_glue_status. Context: may sleep. */
int mars_glue_hmac_sha256(const void *key, __SIZE_TYPE__ key_size,
			  const void *data, __SIZE_TYPE__ size,
			  unsigned char *out);

/* sync.c: mutexes and wait queues, one lockdep class per lock class. */
#define MARS_LOCK_CLASS_COUNT 9
void *mars_glue_mutex_create(int lock_class, int gfp);
void mars_glue_mutex_destroy(void *lock);
void mars_glue_mutex_lock(void *lock);
void mars_glue_mutex_unlock(void *lock);
void *mars_glue_waitq_create(int lock_class, int gfp);
void mars_glue_waitq_destroy(void *wq);
/* Returns the condition's final value (non-zero = true). */
int mars_glue_waitq_wait(void *wq, int (*condition)(void *context),
			 void *context, unsigned long long timeout_ns);
void mars_glue_waitq_wake_all(void *wq);

/* thread.c */
void *mars_glue_thread_start(const char *name, void (*body)(void *context),
			     void *context, int gfp);
void mars_glue_thread_stop(void *thread);
int mars_glue_thread_should_stop(void);

/* module.c: the C++ ABI hook that the compiler references from vtables. */
void __cxa_pure_virtual(void);

/*
 * Implemented in C++ (kernel/platform/entry.cc), called by the glue.
 * mars_core_init() returns a mars::StatusCode (0 = ok; see core/base/status.h);
 * on error nothing is left to undo. The glue maps codes to errno values.
 */
int mars_core_init(void);
void mars_core_exit(void);
/*
 * After the control interface is up: starts the main thread, which restores
 * the resources the /mars tree asks for. mars_core_stop() detaches them all
 * (the module cannot unload while a device is open: its fops own the module).
 */
int mars_core_start(void);
void mars_core_stop(void);
/* A fresh stamp of the module's Lamport clock, in ns since the epoch. */
unsigned long long mars_core_lamport_now(void);

/* The module parameter listen_port: the TCP port peers are served on. */
unsigned int mars_glue_listen_port(void);

#ifdef __cplusplus
}
#endif

#endif /* _MARS_GLUE_H */
