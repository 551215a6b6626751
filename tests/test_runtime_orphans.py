"""Listing a process's children (fgruntime.channel / fgruntime.orphans), on every runtime's Python.

The instance, the zygote and the supervisor list children from /proc/PID/task/TID/children (a few
small reads); where the kernel has no such files (CONFIG_PROC_CHILDREN off) they scan every
process's stat instead. Both ways run here on each runtime, the fallback by pointing
``channel.CHILDREN_FILE`` at a file that does not exist: the same children (the function's own
zombie, an adopted orphan's zombie, a child started from another thread), the orphan reaped, the own
child left for the function to wait for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from runtime_matrix import ALL_RUNTIMES, require

from fglocal import proctree
from fglocal._instance.fgruntime import channel
from fglocal.instance import RUN_WORKER

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="children are read from /proc")

# Run on the runtime's interpreter with the instance package on its path (Python 2.7 and 3.6+).
SCRIPT = r"""
import json, os, sys, threading, time
sys.path.insert(0, sys.argv[1])
from fgruntime import channel, orphans

fallback = sys.argv[2] == "scan"
if fallback:
    channel.CHILDREN_FILE = "/nonexistent/%d/%s/children"
assert channel.set_child_subreaper()
orphans.record_own_children()
me = os.getpid()

own = os.fork()  # the function's own child: a zombie it will wait for itself
if own == 0:
    os._exit(5)
told_r, told_w = os.pipe()  # the orphan's pid comes back on this one
go_r, go_w = os.pipe()  # the orphan ends when this one has a byte
middle = os.fork()  # exits at once: its child is orphaned, adopted by this subreaper, and ends
if middle == 0:
    orphan = os.fork()
    if orphan == 0:
        os.read(go_r, 1)
        os._exit(0)
    os.write(told_w, str(orphan).encode("ascii") + b"\n")
    os._exit(0)
os.waitpid(middle, 0)
data = b""
while not data.endswith(b"\n"):
    data += os.read(told_r, 64)
orphan = int(data)
from_thread = []


def start():
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    from_thread.append(pid)


thread = threading.Thread(target=start)
thread.start()
thread.join()
os.write(go_w, b"x")  # the orphan ends now


def zombie(pid):
    fields = channel.proc_stat(pid)
    return fields is not None and fields[0] == b"Z"


deadline = time.time() + 30
while time.time() < deadline and not (zombie(orphan) and zombie(own)):
    time.sleep(0.01)
listed = channel.listed_children(me)
seen = sorted(orphans.child_pids(me))
scanned = sorted(pid for pid, _ in orphans.child_states(me))
reaped = orphans.reap_adopted(now=time.time() + 10)
after = sorted(orphans.child_pids(me))
waited = os.waitpid(own, 0)[1] >> 8
os.kill(from_thread[0], 9)
os.waitpid(from_thread[0], 0)
print(json.dumps({
    "listed": sorted(listed) if listed is not None else None,
    "seen": seen, "scanned": scanned, "expected": sorted([own, orphan, from_thread[0]]),
    "reaped": reaped, "after": after, "afterExpected": sorted([own, from_thread[0]]),
    "ownStatus": waited, "left": sorted(orphans.child_pids(me)),
}))
"""


@pytest.mark.parametrize("mode", ["children files", "scan"])
@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_children_are_listed_and_orphans_reaped_either_way(runtime, mode):
    if mode == "children files" and proctree.children_files() is False:
        pytest.fail("this kernel has no /proc/PID/task/TID/children: the fast path cannot be tested here")
    interpreter = require(runtime)
    folder = os.path.dirname(RUN_WORKER)
    done = subprocess.run(
        [interpreter.path, "-c", SCRIPT, folder, "scan" if mode == "scan" else "files"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    if mode == "scan":
        assert found["listed"] is None  # the children files are out of reach: every look was a scan
    else:
        assert found["listed"] == found["expected"]
    # The own zombie, the adopted orphan's zombie, and the child started from another thread.
    assert found["seen"] == found["scanned"] == found["expected"]
    assert found["reaped"] == 1  # the orphan, not the function's own child
    assert found["after"] == found["afterExpected"]
    assert found["ownStatus"] == 5  # the function's os.waitpid still gets its child's status
    assert found["left"] == []


# A listing that misses the function's own child (as when the thread that started it ends between the
# listing of /proc/PID/task and the read of its children file) must not make it look like an orphan.
MISSED = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from fgruntime import channel, orphans

assert channel.set_child_subreaper()
orphans.record_own_children()
me = os.getpid()
own = os.fork()
if own == 0:
    os._exit(5)
deadline = time.time() + 30
while time.time() < deadline and (channel.proc_stat(own) or [b""])[0] != b"Z":
    time.sleep(0.01)
full = orphans.listed_children
orphans.listed_children = lambda parent: [pid for pid in full(parent) if pid != own]
first = orphans.reap_adopted(now=time.time() + 10)  # the listing misses it
orphans.listed_children = full
second = orphans.reap_adopted(now=time.time() + 20)  # it is listed again, an ended child
print(json.dumps({"reaped": [first, second], "status": os.waitpid(own, 0)[1] >> 8}))
"""


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_an_own_child_the_listing_missed_is_still_the_functions(runtime):
    if proctree.children_files() is False:
        pytest.fail("this kernel has no /proc/PID/task/TID/children: the fast path cannot be tested here")
    interpreter = require(runtime)
    done = subprocess.run(
        [interpreter.path, "-c", MISSED, os.path.dirname(RUN_WORKER)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # the function's os.waitpid got its child
    assert json.loads(done.stdout) == {"reaped": [0, 0], "status": 5}


def test_the_supervisors_tree_walk_and_scan_agree(monkeypatch, tmp_path):
    """proctree.TreeWatch walks the root's children files, or scans /proc without them: the same tree."""
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    subprocess.Popen(['sleep', '60'])\n"
        "    time.sleep(60)\n"
        "print(child.pid, pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    # Both made before the tree exists, as the supervisor makes its watch before the instance.
    monkeypatch.setattr(proctree, "_children_files", False)
    scanned = proctree.TreeWatch()
    monkeypatch.setattr(proctree, "_children_files", None)
    walked = proctree.TreeWatch()
    root = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    killed = [root.pid]
    try:
        assert root.stdout is not None
        child, forked = (int(x) for x in root.stdout.readline().split())
        grandchild = 0
        for _ in range(3000):  # the forked child starts its own sleep
            grandchild = next(iter(channel.listed_children(forked) or ()), 0)
            if grandchild:
                break
            time.sleep(0.01)
        expected = {child, forked, grandchild}
        walked.root = scanned.root = root.pid
        assert proctree.children_files()
        from_walk = walked.members()
        monkeypatch.setattr(proctree, "_children_files", False)
        from_scan = scanned.members()
        assert set(from_walk) == set(from_scan) == expected
        assert from_walk == from_scan  # the same start times too
    finally:
        killed = proctree.end_tree(root.pid)[0]
        root.wait()
        proctree.reap(killed[1:])


# A process that names itself like the rest of a stat line: only the last ")" ends the command name.
TRICKY_NAME = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from fgruntime import channel

with open("/proc/self/comm", "w") as comm:
    comm.write(") Z 1 1 (x")
fields = channel.proc_stat(os.getpid())
print(json.dumps([f.decode("ascii") for f in fields[:4]] + [fields[19].decode("ascii"), os.getppid(), os.getsid(0)]))
sys.stdout.flush()
sys.stdin.read()
"""


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_the_stat_of_a_process_named_like_stat_fields_is_read_alike_on_both_sides(runtime):
    """channel.proc_stat (the instance side, every runtime) and proctree.stat (built on it) read the real fields."""
    interpreter = require(runtime)
    child = subprocess.Popen(
        [interpreter.path, "-c", TRICKY_NAME, os.path.dirname(RUN_WORKER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        state, ppid, _, session, started, real_ppid, real_session = json.loads(child.stdout.readline())
        assert (
            (state, int(ppid), int(session))
            == ("R", real_ppid, real_session)
            == ("R", os.getpid(), os.getsid(0))
        )
        info = proctree.stat(child.pid)
        assert info is not None and info[:3] == (os.getpid(), os.getsid(0), int(started))
        assert info[3] in ("R", "S")  # about to wait on stdin, or waiting
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)
    assert proctree.stat(child.pid) is None
