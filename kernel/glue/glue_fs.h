/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The glue behind the non-block half of core/platform_io.h: host identity,
 * files, the /mars symlink tree (misc.c, file.c, tree_fs.c), the trigger, the
 * tunables and counters (control.c) and the allocation count (memory.c).
 *
 * Same rules as mars_glue.h: builtin types only, no kernel header, errors as
 * 0 / -errno. Paths are absolute and NUL-terminated; the functions resolve
 * them against the calling thread's root (a kernel thread's is init's).
 */
#ifndef _MARS_GLUE_FS_H
#define _MARS_GLUE_FS_H

#ifdef __cplusplus
extern "C" {
#endif

/* misc.c. Context: any, except random_bytes (may sleep). */
unsigned long long mars_glue_monotonic_ns(void);
void mars_glue_random_bytes(void *out, __SIZE_TYPE__ size);
/* `uname -n` up to the first '.', NUL-terminated; length, 0 if too small. */
__SIZE_TYPE__ mars_glue_host_name(char *out, __SIZE_TYPE__ capacity);

/* file.c: a file handle is an opaque pointer. Context: may sleep. */
enum mars_file_flags {
	MARS_FILE_READ = 1u << 0,
	MARS_FILE_WRITE = 1u << 1,
	MARS_FILE_CREATE = 1u << 2,    /* mode 0600 */
	MARS_FILE_EXCLUSIVE = 1u << 3, /* with CREATE: -EEXIST if present */
};
int mars_glue_file_open(const char *path, unsigned int flags, void **file);
void mars_glue_file_close(void *file);
/* *done < size only at the end of the file (or on error). */
int mars_glue_file_read(void *file, unsigned long long offset, void *buffer,
			__SIZE_TYPE__ size, __SIZE_TYPE__ *done);
/* All or an error: a short write is -EIO unless the kernel said why. */
int mars_glue_file_write(void *file, unsigned long long offset,
			 const void *data, __SIZE_TYPE__ size);
/* fdatasync of the bytes [begin, end); nothing to do when end <= begin. */
int mars_glue_file_sync(void *file, unsigned long long begin,
			unsigned long long end);
int mars_glue_file_truncate(void *file, unsigned long long size);
unsigned long long mars_glue_file_size(void *file);
/*
 * Opens `file` a second time for direct reads (O_DIRECT) and reports the
 * alignment they need (statx STATX_DIOALIGN; the memory alignment is at
 * least the offset alignment): 0 with *direct set, or -EOPNOTSUPP (the file
 * system reports no alignment, or one above PAGE_SIZE) or the open's
 * -errno. Close *direct with mars_glue_file_close().
 */
int mars_glue_file_open_direct(void *file, void **direct,
			       unsigned int *offset_align,
			       unsigned int *memory_align);
/*
 * Reads with direct I/O from a file of mars_glue_file_open_direct() into
 * `buffer` (vmalloc'd or directly mapped memory); alignment is the
 * caller's. *done < size only at the end of the file (or on error).
 */
/* 1 when the page cache holds the page of byte `offset` of `file`, else 0. */
int mars_glue_file_cached(void *file, unsigned long long offset);
int mars_glue_file_read_direct(void *direct, unsigned long long offset,
			       void *buffer, __SIZE_TYPE__ size,
			       __SIZE_TYPE__ *done);
/*
 * The same read, asynchronous: starts it and returns 0 with *read set (the
 * read owns `buffer` and needs `direct` open until
 * mars_glue_file_read_direct_wait() returned), or -EINVAL/-ENOMEM and
 * nothing started. The wait sleeps until the read ended, frees *read and
 * returns its -errno, or 0 with *done the bytes read (< size at the end of
 * the file, or when the file system read less).
 */
int mars_glue_file_read_direct_start(void *direct, unsigned long long offset,
				     void *buffer, __SIZE_TYPE__ size,
				     void **read);
int mars_glue_file_read_direct_wait(void *read, __SIZE_TYPE__ *done);

/* tree_fs.c: symlinks and directories. Context: may sleep. */
enum mars_entry_type {
	MARS_ENTRY_OTHER = 0,
	MARS_ENTRY_FILE = 1,
	MARS_ENTRY_DIRECTORY = 2,
	MARS_ENTRY_LINK = 3,
};
/* -EINVAL when `path` is not a symlink, -ENAMETOOLONG when over capacity. */
int mars_glue_read_link(const char *path, char *value, __SIZE_TYPE__ capacity,
			__SIZE_TYPE__ *size, unsigned long long *stamp_ns);
int mars_glue_write_link(const char *path, const char *value,
			 __SIZE_TYPE__ size, unsigned long long stamp_ns);
/* -EISDIR for a directory. */
int mars_glue_remove_entry(const char *path);
int mars_glue_make_directory(const char *path);
/*
 * visit() returns non-zero to go on. It runs without any lock of the
 * directory held (names are batched while the directory is read).
 */
int mars_glue_list_directory(const char *path,
			     int (*visit)(void *context, const char *name,
					  __SIZE_TYPE__ name_size, int type),
			     void *context);
int mars_glue_filesystem_space(const char *path, unsigned long long *free_bytes,
			       unsigned long long *total_bytes);

/* control.c: the trigger. Returns the level (1, 2) or 0 on timeout/stop. */
int mars_glue_trigger_wait(unsigned long long timeout_ns);
/* control.c: a local scan soon (as a write of 1 to the trigger). Any context. */
void mars_glue_trigger_kick(void);

/* control.c: ids are the values of mars::platform::Tunable / Counter. */
#define MARS_TUNABLE_COUNT 5
#define MARS_COUNTER_COUNT 17
unsigned long long mars_glue_tunable_get(int id);
unsigned long long mars_glue_counter_get(int id);
void mars_glue_counter_add(int id, unsigned long long delta);
void mars_glue_counter_sub(int id, unsigned long long delta);
void mars_glue_counter_set(int id, unsigned long long value);

/* memory.c: mars_glue_alloc() results not yet freed. Context: any. */
long long mars_glue_allocations(void);

#ifdef __cplusplus
}
#endif

#endif /* _MARS_GLUE_FS_H */
