"""Replication between hosts (issue 7), as far as it is built: the /mars tree.

Two VMs (alpha 10.77.0.1, beta 10.77.0.2) joined by a virtual cable; vda is
/mars on each. Each test starts from fresh /mars filesystems.

  test_join_and_tree_exchange  create-cluster on alpha; first a wrong secret
                               on beta: join-cluster times out, no tree entry
                               crosses, the refusal is in the kernel log; then
                               the right secret: beta pulls uuid and alpha's
                               address, alpha learns beta's; changes and
                               deletions travel both ways with their stamps; a
                               pulled cable delays but loses nothing; both
                               modules unload with the connection open

Run: testing/vm/run-tests replication   or
     python3 testing/vm/tests/test_replication.py --kernel 6.1
"""
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), ".."))
import vmkit  # noqa: E402

MARS_MB = 256
WAIT = int(os.environ.get("MARS_VM_WAIT", "120"))
TREE_WAIT = 120          # seconds for a tree change to reach the other host


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def start_mars(vm):
    """/mars on vda (fresh), then insmod."""
    vm.check("mkfs.ext4 -q -F /dev/vda && mkdir -p /mars && mount /dev/vda /mars "
             "&& insmod /mars.ko", timeout=300)


def marsadm(vm, args, timeout=None):
    return vm.run("marsadm %s --timeout %d" % (args, WAIT),
                  timeout=timeout or WAIT + 60)


def marsadm_ok(vm, args):
    rc, out = marsadm(vm, args)
    if rc != 0:
        raise vmkit.CommandFailed(vm, "marsadm " + args, rc,
                                  out + "\n" + vm.run("dmesg | grep -i mars | tail -30")[1])
    return out


def link(vm, path):
    """The value of /mars/PATH, or None."""
    rc, out = vm.run("readlink /mars/%s" % path)
    return out.strip() if rc == 0 else None


def wait_link(vm, path, value, what):
    vmkit.wait_until(lambda: link(vm, path) == value, TREE_WAIT,
                     "%s: /mars/%s -> %s (%s)" % (vm, path, value, what))


def copy_secret(src, dst, secret=None):
    data = secret if secret is not None else src.get("/mars/secret")
    dst.put("/mars/secret", data)
    dst.check("chmod 600 /mars/secret")


def test_join_and_tree_exchange(env):
    with env.cluster(2, mars=True, names=["alpha", "beta"], disks=[MARS_MB]) as c:
        a, b = c.vms
        for vm in (a, b):
            start_mars(vm)
        marsadm_ok(a, "create-cluster --ip %s" % a.ip)

        # a wrong secret: refused, nothing crosses, said once in the log
        copy_secret(a, b, secret=b"0123456789abcdef" * 4 + b"\n")
        rc, out = b.run("marsadm join-cluster alpha %s --ip %s --timeout 15" % (a.ip, b.ip),
                        timeout=120)
        expect(rc != 0, "join-cluster with a wrong secret succeeded:\n" + out)
        expect(link(b, "uuid") is None, "beta got alpha's uuid with a wrong secret")
        expect(link(a, "ips/ip-beta") is None, "alpha got beta's entry with a wrong secret")
        log = a.check("dmesg | grep 'mars:' || true") + b.check("dmesg | grep 'mars:' || true")
        refusals = re.findall(r"failed: handshake: peer (?:failed|refused) .*authentication", log)
        expect(refusals, "no word on the refusal in the kernel logs:\n" + log)
        expect(len(refusals) <= 4, "the refusal is logged per attempt, not once a "
               "minute:\n" + "\n".join(refusals))

        # the right secret: join-cluster again completes the join
        copy_secret(a, b)
        marsadm_ok(b, "join-cluster alpha %s --ip %s" % (a.ip, b.ip))
        expect(link(b, "uuid") == link(a, "uuid"),
               "uuid: beta %r, alpha %r" % (link(b, "uuid"), link(a, "uuid")))
        wait_link(a, "ips/ip-beta", b.ip, "alpha learns beta's address")
        expect(link(b, "ips/ip-alpha") == a.ip, "beta: ips/ip-alpha")

        # both directions, values and deletions, with their stamps
        marsadm_ok(b, "lowlevel-set-host-ip gamma 10.77.0.99")
        wait_link(a, "ips/ip-gamma", "10.77.0.99", "beta's change on alpha")
        stamp_b = b.check("stat -c %y /mars/ips/ip-gamma").strip()
        stamp_a = a.check("stat -c %y /mars/ips/ip-gamma").strip()
        expect(stamp_a == stamp_b, "the entry's stamp differs: beta %s, alpha %s"
               % (stamp_b, stamp_a))
        marsadm_ok(a, "lowlevel-delete-host gamma")
        wait_link(b, "ips/ip-gamma", ".deleted", "alpha's deletion on beta")

        # a pulled cable delays the exchange; nothing is lost
        a.set_link(b, False)
        marsadm_ok(a, "lowlevel-set-host-ip delta 10.77.0.98")
        a.set_link(b, True)
        wait_link(b, "ips/ip-delta", "10.77.0.98", "a change made while the cable was out")

        # both modules unload with the connection open
        for vm in (a, b):
            vm.check("rmmod mars", timeout=120)
        log = a.check("dmesg | grep 'mars:' || true")
        expect("connected to peer beta" in log, "alpha's log does not show the peer:\n" + log)


if __name__ == "__main__":
    sys.exit(vmkit.main(default_files=[__file__]))
