// SPDX-License-Identifier: GPL-2.0
/*
 * The /mars symlink tree for the C++ engine: read a link with its mtime (the
 * Lamport stamp), replace a link atomically through a stamped staging link,
 * remove an entry, make a directory, list a directory, filesystem space.
 * Only exported VFS calls (vfs_*, lookup_one_len under the parent's lock,
 * lock_rename); absolute paths resolve against the calling thread's root
 * (a kernel thread's is init's). Errors are -errno.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/statfs.h>
#include <linux/string.h>
#include <linux/time64.h>

#include "compat.h"
#include "glue_fs.h"

#define MARS_STAGING_PREFIX ".tmp.k."
#define MARS_LINK_VALUE_MAX 4095
/* Names gathered per iterate_dir() call; a record is type, length, name. */
#define MARS_LIST_BATCH_BYTES 4096

/*
 * Allocations below must not recurse into block I/O: the engine's write path
 * (which completes I/O of the exported device) updates links too.
 */

/* The parent directory of a path and the path's final component. */
struct mars_parent {
	struct path dir;
	const char *name; /* points into the caller's path */
	int name_len;
};

static bool mars_is_dot_or_dotdot(const char *name, int len)
{
	return name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.'));
}

/*
 * Resolves the parent directory of the absolute `path` (following links on
 * the way) and returns the final component, which must be a plain name.
 * On success the caller owns parent->dir (path_put()).
 */
static int mars_lookup_parent(const char *path, struct mars_parent *parent)
{
	size_t len = strnlen(path, PATH_MAX);
	const char *slash;
	char *dir;
	int ret;

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || path[0] != '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	parent->name = slash + 1;
	parent->name_len = path + len - parent->name;
	if (parent->name_len == 0 ||
	    mars_is_dot_or_dotdot(parent->name, parent->name_len))
		return -EINVAL;
	if (parent->name_len > NAME_MAX)
		return -ENAMETOOLONG;
	dir = kmemdup_nul(path, slash == path ? 1 : slash - path, GFP_KERNEL);
	if (!dir)
		return -ENOMEM;
	ret = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &parent->dir);
	kfree(dir);
	return ret;
}

int mars_glue_read_link(const char *path, char *value, size_t capacity,
			size_t *size, unsigned long long *stamp_ns)
{
	unsigned int noio = memalloc_noio_save();
	DEFINE_DELAYED_CALL(done);
	struct path link;
	struct kstat stat;
	const char *text;
	size_t len;
	s64 mtime;
	int ret;

	*size = 0;
	*stamp_ns = 0;
	/* Without LOOKUP_FOLLOW the final component is the link itself. */
	ret = kern_path(path, 0, &link);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (!d_is_symlink(link.dentry))
		goto out_path;
	/* vfs_getattr() reads the inode of `link` as is: no link is followed. */
	ret = vfs_getattr(&link, &stat, STATX_MTIME, AT_STATX_SYNC_AS_STAT);
	if (ret)
		goto out_path;
	text = vfs_get_link(link.dentry, &done);
	if (IS_ERR(text)) {
		ret = PTR_ERR(text);
		goto out_path;
	}
	len = strlen(text);
	if (len > capacity) {
		ret = -ENAMETOOLONG;
	} else {
		memcpy(value, text, len);
		*size = len;
		mtime = timespec64_to_ns(&stat.mtime);
		*stamp_ns = mtime > 0 ? mtime : 0;
	}
	do_delayed_call(&done);
out_path:
	path_put(&link);
out:
	memalloc_noio_restore(noio);
	return ret;
}

/* Sets mtime and atime of `dentry` (ctime becomes now), as utimensat(). */
static int mars_set_stamp(kc_idmap_t *idmap, struct dentry *dentry,
			  unsigned long long stamp_ns)
{
	struct inode *inode = d_inode(dentry);
	struct iattr attr = {
		.ia_valid = ATTR_CTIME | ATTR_MTIME | ATTR_MTIME_SET |
			    ATTR_ATIME | ATTR_ATIME_SET,
	};
	int ret;

	attr.ia_mtime = ns_to_timespec64(stamp_ns > S64_MAX ? S64_MAX : stamp_ns);
	attr.ia_atime = attr.ia_mtime;
	inode_lock(inode);
	ret = notify_change(idmap, dentry, &attr, NULL);
	inode_unlock(inode);
	return ret;
}

/*
 * Looks up `name` in the locked directory `parent` for a new entry: a stale
 * entry of that name is unlinked first (the staging link of a WriteLink that
 * failed half-way). Returns a negative dentry or an ERR_PTR.
 */
static struct dentry *mars_fresh_entry(kc_idmap_t *idmap, struct dentry *parent,
				       const char *name, int len)
{
	struct dentry *dentry = lookup_one_len(name, parent, len);
	int ret;

	if (IS_ERR(dentry) || d_is_negative(dentry))
		return dentry;
	ret = vfs_unlink(idmap, d_inode(parent), dentry, NULL);
	dput(dentry);
	if (ret)
		return ERR_PTR(ret);
	/* The unlinked dentry may be unhashed rather than negative: look again. */
	dentry = lookup_one_len(name, parent, len);
	if (!IS_ERR(dentry) && d_is_positive(dentry)) {
		dput(dentry);
		return ERR_PTR(-EEXIST);
	}
	return dentry;
}

/*
 * Under the parent's inode lock (lock_rename of one directory): the staging
 * link `.tmp.k.<name>` is created with the value, stamped, and renamed over
 * <name>. Readers see the old or the new link, never none.
 */
int mars_glue_write_link(const char *path, const char *value, size_t size,
			 unsigned long long stamp_ns)
{
	unsigned int noio = memalloc_noio_save();
	struct dentry *staging = NULL, *target = NULL, *trap;
	struct renamedata rd = { };
	struct mars_parent parent;
	char *text = NULL, *staging_name = NULL;
	int staging_len, ret;
	kc_idmap_t *idmap;
	struct inode *dir;

	ret = -EINVAL;
	if (size == 0 || size > MARS_LINK_VALUE_MAX || memchr(value, '\0', size))
		goto out;
	ret = mars_lookup_parent(path, &parent);
	if (ret)
		goto out;
	ret = -ENAMETOOLONG;
	staging_len = sizeof(MARS_STAGING_PREFIX) - 1 + parent.name_len;
	if (staging_len > NAME_MAX)
		goto out_path;
	ret = -ENOMEM;
	text = kmemdup_nul(value, size, GFP_KERNEL);
	staging_name = kmalloc(staging_len + 1, GFP_KERNEL);
	if (!text || !staging_name)
		goto out_free;
	memcpy(staging_name, MARS_STAGING_PREFIX, sizeof(MARS_STAGING_PREFIX) - 1);
	memcpy(staging_name + sizeof(MARS_STAGING_PREFIX) - 1, parent.name,
	       parent.name_len);
	staging_name[staging_len] = '\0';

	ret = mnt_want_write(parent.dir.mnt);
	if (ret)
		goto out_free;
	dir = d_inode(parent.dir.dentry);
	idmap = kc_mnt_idmap(parent.dir.mnt);
	trap = lock_rename(parent.dir.dentry, parent.dir.dentry);
	if (IS_ERR(trap)) {
		ret = PTR_ERR(trap);
		goto out_drop_write;
	}

	staging = mars_fresh_entry(idmap, parent.dir.dentry, staging_name,
				   staging_len);
	if (IS_ERR(staging)) {
		ret = PTR_ERR(staging);
		staging = NULL;
		goto out_unlock;
	}
	ret = vfs_symlink(idmap, dir, staging, text);
	if (ret)
		goto out_unlock;
	if (d_is_negative(staging)) {
		/* A filesystem may leave the new dentry unhashed. */
		dput(staging);
		staging = lookup_one_len(staging_name, parent.dir.dentry,
					 staging_len);
		if (IS_ERR(staging)) {
			ret = PTR_ERR(staging);
			staging = NULL;
			goto out_unlock;
		}
		ret = -ENOENT;
		if (d_is_negative(staging))
			goto out_unlock;
	}
	ret = mars_set_stamp(idmap, staging, stamp_ns);
	if (ret)
		goto out_remove_staging;

	target = lookup_one_len(parent.name, parent.dir.dentry, parent.name_len);
	if (IS_ERR(target)) {
		ret = PTR_ERR(target);
		target = NULL;
		goto out_remove_staging;
	}
	rd.old_dir = dir;
	rd.old_dentry = staging;
	rd.new_dir = dir;
	rd.new_dentry = target;
	rd.delegated_inode = NULL;
	rd.flags = 0;
	kc_renamedata_set_idmap(&rd, idmap);
	ret = vfs_rename(&rd);
	if (!ret)
		goto out_unlock;
out_remove_staging:
	/* Best effort: a leftover is removed by the next write of this name. */
	vfs_unlink(idmap, dir, staging, NULL);
out_unlock:
	dput(target);
	dput(staging);
	unlock_rename(parent.dir.dentry, parent.dir.dentry);
out_drop_write:
	mnt_drop_write(parent.dir.mnt);
out_free:
	kfree(staging_name);
	kfree(text);
out_path:
	path_put(&parent.dir);
out:
	memalloc_noio_restore(noio);
	return ret;
}

int mars_glue_remove_entry(const char *path)
{
	unsigned int noio = memalloc_noio_save();
	struct inode *victim = NULL;
	struct mars_parent parent;
	struct dentry *dentry;
	struct inode *dir;
	int ret;

	ret = mars_lookup_parent(path, &parent);
	if (ret)
		goto out;
	ret = mnt_want_write(parent.dir.mnt);
	if (ret)
		goto out_path;
	dir = d_inode(parent.dir.dentry);
	inode_lock_nested(dir, I_MUTEX_PARENT);
	dentry = lookup_one_len(parent.name, parent.dir.dentry, parent.name_len);
	if (IS_ERR(dentry)) {
		ret = PTR_ERR(dentry);
		goto out_unlock;
	}
	if (d_is_negative(dentry))
		ret = -ENOENT;
	else if (d_is_dir(dentry))
		ret = -EISDIR;
	else {
		/* The last reference goes after the unlock (as unlink(2)). */
		victim = d_inode(dentry);
		ihold(victim);
		ret = vfs_unlink(kc_mnt_idmap(parent.dir.mnt), dir, dentry,
				 NULL);
	}
	dput(dentry);
out_unlock:
	inode_unlock(dir);
	if (victim)
		iput(victim);
	mnt_drop_write(parent.dir.mnt);
out_path:
	path_put(&parent.dir);
out:
	memalloc_noio_restore(noio);
	return ret;
}

int mars_glue_make_directory(const char *path)
{
	unsigned int noio = memalloc_noio_save();
	struct mars_parent parent;
	struct dentry *dentry;
	struct inode *dir;
	int ret;

	ret = mars_lookup_parent(path, &parent);
	if (ret)
		goto out;
	ret = mnt_want_write(parent.dir.mnt);
	if (ret)
		goto out_path;
	dir = d_inode(parent.dir.dentry);
	inode_lock_nested(dir, I_MUTEX_PARENT);
	dentry = lookup_one_len(parent.name, parent.dir.dentry, parent.name_len);
	if (IS_ERR(dentry)) {
		ret = PTR_ERR(dentry);
		goto out_unlock;
	}
	if (d_is_positive(dentry))
		ret = d_is_dir(dentry) ? 0 : -EEXIST;
	else
		ret = vfs_mkdir(kc_mnt_idmap(parent.dir.mnt), dir, dentry, 0755);
	dput(dentry);
out_unlock:
	inode_unlock(dir);
	mnt_drop_write(parent.dir.mnt);
out_path:
	path_put(&parent.dir);
out:
	memalloc_noio_restore(noio);
	return ret;
}

/* One batch of directory entries, filled by the iterate_dir() actor. */
struct mars_list_batch {
	struct dir_context ctx;
	char *buf; /* records: u8 d_type, u8 length, name bytes */
	size_t used;
};

/* Runs under the directory's lock: copies only. True = go on. */
static bool mars_list_actor(struct dir_context *ctx, const char *name,
			    int len, loff_t pos, u64 ino, unsigned int d_type)
{
	struct mars_list_batch *batch =
		container_of(ctx, struct mars_list_batch, ctx);

	if (len <= 0 || len > NAME_MAX || mars_is_dot_or_dotdot(name, len))
		return true;
	/* Full: stop; the next iterate_dir() starts with this entry. */
	if (batch->used + 2 + len > MARS_LIST_BATCH_BYTES)
		return false;
	batch->buf[batch->used] = d_type;
	batch->buf[batch->used + 1] = len;
	memcpy(batch->buf + batch->used + 2, name, len);
	batch->used += 2 + len;
	return true;
}

/*
 * The entry's type from its dirent type; for DT_UNKNOWN (filesystems without
 * types in directories) from a lookup. -ENOENT when it vanished meanwhile.
 */
static int mars_entry_type(struct dentry *dir, const char *name, int len,
			   unsigned int d_type)
{
	struct dentry *dentry;
	int type;

	switch (d_type) {
	case DT_REG:
		return MARS_ENTRY_FILE;
	case DT_DIR:
		return MARS_ENTRY_DIRECTORY;
	case DT_LNK:
		return MARS_ENTRY_LINK;
	case DT_UNKNOWN:
		break;
	default:
		return MARS_ENTRY_OTHER;
	}
	dentry = lookup_one_len_unlocked(name, dir, len);
	if (IS_ERR(dentry))
		return MARS_ENTRY_OTHER;
	if (d_is_negative(dentry))
		type = -ENOENT;
	else if (d_is_reg(dentry))
		type = MARS_ENTRY_FILE;
	else if (d_is_dir(dentry))
		type = MARS_ENTRY_DIRECTORY;
	else if (d_is_symlink(dentry))
		type = MARS_ENTRY_LINK;
	else
		type = MARS_ENTRY_OTHER;
	dput(dentry);
	return type;
}

int mars_glue_list_directory(const char *path,
			     int (*visit)(void *context, const char *name,
					  size_t name_size, int type),
			     void *context)
{
	unsigned int noio = memalloc_noio_save();
	struct mars_list_batch batch = { .ctx.actor = mars_list_actor };
	struct file *file;
	size_t at;
	int ret;

	batch.buf = kmalloc(MARS_LIST_BATCH_BYTES, GFP_KERNEL);
	ret = -ENOMEM;
	if (!batch.buf)
		goto out;
	file = filp_open(path, O_RDONLY | O_DIRECTORY | O_LARGEFILE, 0);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_free;
	}
	/*
	 * Each round reads as many names as fit and visits them after the
	 * directory's lock is dropped. Every round consumes at least one
	 * entry; an empty round is the end of the directory.
	 */
	for (;;) {
		batch.used = 0;
		ret = iterate_dir(file, &batch.ctx);
		if (ret || batch.used == 0)
			break;
		for (at = 0; at < batch.used; at += 2 + (u8)batch.buf[at + 1]) {
			const char *name = batch.buf + at + 2;
			int len = (u8)batch.buf[at + 1];
			int type = mars_entry_type(file->f_path.dentry, name,
						   len, (u8)batch.buf[at]);

			if (type < 0)
				continue;
			if (!visit(context, name, len, type))
				goto out_close;
		}
	}
out_close:
	filp_close(file, NULL);
out_free:
	kfree(batch.buf);
out:
	memalloc_noio_restore(noio);
	return ret;
}

int mars_glue_filesystem_space(const char *path, unsigned long long *free_bytes,
			       unsigned long long *total_bytes)
{
	struct kstatfs st;
	struct path where;
	u64 block;
	int ret;

	*free_bytes = 0;
	*total_bytes = 0;
	ret = kern_path(path, LOOKUP_FOLLOW, &where);
	if (ret)
		return ret;
	ret = vfs_statfs(&where, &st);
	path_put(&where);
	if (ret)
		return ret;
	block = st.f_frsize ? st.f_frsize : st.f_bsize;
	/* Available to unprivileged writers, as df(1) shows it. */
	*free_bytes = st.f_bavail * block;
	*total_bytes = st.f_blocks * block;
	return 0;
}
