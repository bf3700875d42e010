"""vmkit: boot Debian 12 cloud kernels under qemu (TCG) with mars.ko and marsadm.

Python 3 standard library only. See README.md beside this package for the
model (kernel cache, initramfs, guest agent protocol, power cut, network,
console rule). The short version for a test:

    def test_something(env):
        with env.cluster(2, mars=True, disks=[256]) as c:
            a, b = c.vms
            a.check("insmod /mars.ko")
            rc, out = b.run("ping -c1 -W5 %s" % a.ip, timeout=30)
            a.power_cut()
            a.boot()

Modules (one concept each; tests use only the names re-exported here):
    common     constants, exceptions, log/wait_until/cache helpers
    kernels    kernel short name -> headers -> apt-get download/unpack cache
    modules    .ko reading, .modinfo, module dependencies
    builds     make of mars.ko, marsadm and the guest test tools (testing/vm/tools)
    initramfs  cpio writer, ldd closure, guest init and agent scripts
    channel    the guest command protocol (VM.run/check/run_full/put/get)
    qemu       VM process, QMP, disks, console, networking
    cluster    Cluster and TestEnv (env)
    runner     test discovery, parallel kernels, reporting, main
"""

from .common import (AGENT_PORT, AGENT_READY, CONSOLE_BAD, DEFAULT_TOOLS, FIO_TOOLS, HERE,
                     KERNELS, KIT_VERSION, NET_PREFIX, TOP, VIRTIO_MODULES, BootError,
                     CommandFailed, ConsoleError, GuestTimeout, VMError, cache_dir, log,
                     set_verbose, wait_until)
from .modules import ModuleIndex, modinfo, read_ko
from .kernels import Kernel, get_kernel, kdir_for, uts_release
from .builds import (build_marsadm, build_module, build_vm_tools, marsadm_path, module_path,
                     vm_tools_dir)
from .initramfs import AGENT, INIT_RC, INITTAB, Cpio, build_initramfs
from .channel import AgentChannel
from .qemu import QMP, VM, Disk, connect_unix, free_udp_port, install_signal_handlers
from .cluster import Cluster, TestEnv
from .runner import collect_tests, main, run_tests

__all__ = [
    "AGENT_PORT", "AGENT_READY", "CONSOLE_BAD", "DEFAULT_TOOLS", "FIO_TOOLS", "HERE", "KERNELS",
    "KIT_VERSION", "NET_PREFIX", "TOP", "VIRTIO_MODULES", "BootError", "CommandFailed",
    "ConsoleError", "GuestTimeout", "VMError", "cache_dir", "log", "set_verbose", "wait_until",
    "ModuleIndex", "modinfo", "read_ko", "Kernel", "get_kernel", "kdir_for", "uts_release",
    "build_marsadm", "build_module", "build_vm_tools", "marsadm_path", "module_path", "vm_tools_dir", "AGENT", "INIT_RC", "INITTAB",
    "Cpio", "build_initramfs", "AgentChannel", "QMP", "VM", "Disk", "connect_unix", "free_udp_port",
    "install_signal_handlers", "Cluster", "TestEnv", "collect_tests", "main", "run_tests"
]
