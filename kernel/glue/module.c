// SPDX-License-Identifier: GPL-2.0
/* Module entry and exit: starts the C++ engine, then the control interface. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/bug.h>

#include "control.h"
#include "errno_map.h"
#include "glue_block.h"
#include "mars_glue.h"

static ushort listen_port = 7777;
module_param(listen_port, ushort, 0444);
MODULE_PARM_DESC(listen_port,
		 "TCP port for peers, on every host of a cluster (default 7777)");

unsigned int mars_glue_listen_port(void)
{
	return listen_port;
}

/* Referenced from the vtable slot of a pure virtual function; never called. */
void __cxa_pure_virtual(void)
{
	BUG();
}

static int __init mars_init(void)
{
	int ret;

	ret = mars_glue_block_init();
	if (ret)
		goto err_out;
	ret = mars_status_to_errno(mars_core_init());
	if (ret)
		goto err_block;
	ret = mars_control_init();
	if (ret)
		goto err_core;
	ret = mars_status_to_errno(mars_core_start());
	if (ret)
		goto err_control;
	pr_info("version %s loaded\n", MARS_VERSION);
	return 0;

err_control:
	mars_control_exit();
err_core:
	mars_core_exit();
err_block:
	mars_glue_block_exit();
err_out:
	return ret;
}

static void __exit mars_exit(void)
{
	mars_core_stop();
	mars_control_exit();
	mars_core_exit();
	mars_glue_block_exit();
	pr_info("version %s unloaded\n", MARS_VERSION);
}

module_init(mars_init);
module_exit(mars_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("MARS asynchronous block-level replication");
MODULE_VERSION(MARS_VERSION);
