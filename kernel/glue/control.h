/* SPDX-License-Identifier: GPL-2.0 */
/* The /proc/sys/mars control interface (control.c). */
#ifndef _MARS_CONTROL_H
#define _MARS_CONTROL_H

int mars_control_init(void);
void mars_control_exit(void);

#endif /* _MARS_CONTROL_H */
