// SPDX-License-Identifier: GPL-2.0
/* Maps the engine's status codes (core/base/status.h) to kernel errno values. */
#include <linux/errno.h>

#include "errno_map.h"

int mars_status_to_errno(int status)
{
	switch (status) {
	case 0:
		return 0;
	case 1: /* kInvalidArgument */
		return -EINVAL;
	case 2: /* kOutOfRange */
		return -ERANGE;
	case 3: /* kCorruption */
		return -EBADMSG;
	case 4: /* kNoMemory */
		return -ENOMEM;
	case 5: /* kIoError */
		return -EIO;
	case 6: /* kNotFound */
		return -ENOENT;
	case 7: /* kAlreadyExists */
		return -EEXIST;
	case 8: /* kUnavailable */
		return -EAGAIN;
	default: /* kInternal and unknown codes */
		return -EFAULT;
	}
}
