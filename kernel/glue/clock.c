// SPDX-License-Identifier: GPL-2.0
/* Clocks for the C++ engine. */
#include <linux/ktime.h>
#include <linux/timekeeping.h>

#include "mars_glue.h"

unsigned long long mars_glue_real_time_ns(void)
{
	return ktime_get_real_ns();
}
