"""Smoke test of mars.ko and marsadm in a VM, for each kernel.

Run: testing/vm/run-tests smoke   or   python3 testing/vm/tests/test_smoke.py --kernel 6.12
"""
import os
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import vmkit  # noqa: E402

LOAD_CYCLES = 10


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def loaded_modules(vm):
    return [l.split()[0] for l in vm.check("cat /proc/modules").splitlines() if l.strip()]


def check_control_values(vm):
    """The documented values of /proc/sys/mars (docu/control-interface.md)."""
    expect(vm.check("cat /proc/sys/mars/trigger").strip() == "1", "trigger does not read back 1")
    rc, _ = vm.run("echo 3 > /proc/sys/mars/trigger")
    expect(rc != 0, "trigger accepted the out-of-range value 3")
    expect(vm.check("cat /proc/sys/mars/trigger").strip() == "1", "refused write changed trigger")
    first = int(vm.check("cat /proc/sys/mars/lamport_clock").strip())
    second = int(vm.check("cat /proc/sys/mars/lamport_clock").strip())
    expect(second > first, "lamport_clock not increasing: %d then %d" % (first, second))
    rc, _ = vm.run("echo 5 > /proc/sys/mars/lamport_clock")
    expect(rc != 0, "lamport_clock accepted a write")


def test_load_unload(env):
    """insmod/rmmod mars.ko 10 times; /proc/sys/mars appears and goes; marsadm runs."""
    with env.cluster(1, mars=True) as c:
        vm = c[0]
        expect("mars" not in loaded_modules(vm), "mars loaded before insmod")
        for i in range(LOAD_CYCLES):
            vm.check("insmod /mars.ko")
            expect("mars" in loaded_modules(vm), "cycle %d: mars not in /proc/modules" % i)
            version = vm.check("cat /proc/sys/mars/version").strip()
            expect(version, "cycle %d: /proc/sys/mars/version is empty" % i)
            if i == 0:
                print("    /proc/sys/mars/version: %s" % version)
            vm.check("test -e /proc/sys/mars/trigger && echo 1 > /proc/sys/mars/trigger")
            if i == 0:
                check_control_values(vm)
            vm.check("rmmod mars")
            rc, out = vm.run("ls /proc/sys/mars")
            expect(rc != 0, "cycle %d: /proc/sys/mars still there after rmmod: %r" % (i, out))
            expect("mars" not in loaded_modules(vm), "cycle %d: mars still loaded after rmmod" % i)
            expect("mars" not in vm.check("lsmod").split(), "cycle %d: lsmod shows mars" % i)
            vm.check_console()
        out = vm.check("marsadm --version")
        expect(out.strip(), "marsadm --version printed nothing")
        print("    marsadm --version: %s" % out.strip().splitlines()[0])


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
