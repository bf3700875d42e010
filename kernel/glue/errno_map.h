/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MARS_ERRNO_MAP_H
#define _MARS_ERRNO_MAP_H

/* Returns the -errno for a mars::StatusCode value (0 for ok). */
int mars_status_to_errno(int status);

#endif /* _MARS_ERRNO_MAP_H */
