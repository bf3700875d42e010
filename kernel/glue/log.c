// SPDX-License-Identifier: GPL-2.0
/* Kernel log backend for the C++ engine. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/bug.h>

#include "mars_glue.h"

void mars_glue_vlog(int level, const char *fmt, va_list ap)
{
	va_list args;
	struct va_format vaf;

	va_copy(args, ap);
	vaf.fmt = fmt;
	vaf.va = &args;
	switch (level) {
	case 0:
	case 1:
	case 2:
	case 3:
		pr_err("%pV\n", &vaf);
		break;
	case 4:
		pr_warn("%pV\n", &vaf);
		break;
	case 5:
		pr_notice("%pV\n", &vaf);
		break;
	case 6:
		pr_info("%pV\n", &vaf);
		break;
	default:
		pr_debug("%pV\n", &vaf);
		break;
	}
	va_end(args);
}

void mars_glue_report_bug(const char *file, int line)
{
	WARN(1, KBUILD_MODNAME ": internal error at %s:%d\n", file, line);
}
