"""The instance's whole process tree: found in any session, counted for memory, ended with the instance."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from runtime_support import REPO, function_dir, gone, invoke_json, process_alive, wait_gone

from fglocal.config import load_config
from fglocal.instance import Instance

HOSTILE = str(function_dir("hostile"))
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="process trees are read from /proc"
)


def _instance(**overrides):
    return Instance(load_config(HOSTILE).with_overrides(handler="index.dispatch", **overrides))


def _pids(pidfile):
    return [int(line) for line in pidfile.read_text().split()]


@pytest.mark.parametrize("call", ["spawn_session_child", "double_fork"])
def test_descendants_in_any_session_end_with_the_instance(call, tmp_path):
    pidfile = tmp_path / "pids"
    with _instance() as instance:
        result = instance.invoke({"call": call, "pidfile": str(pidfile)})
        assert result.error is None, result.error
        (pid,) = _pids(pidfile)
        assert process_alive(pid)
        assert instance.invoke({"call": "echo"}).ok  # the child stays while the instance is warm
        assert process_alive(pid)
        worker = instance.pid
    assert gone(pid)  # closed: ended and reaped
    assert gone(worker)


@pytest.mark.parametrize(
    "call, overrides, error_type",
    [
        ("spawn_then_hang", {"timeout": 2}, "FunctionTimeout"),
        ("spawn_then_eat", {"timeout": 60, "memory_size": 128}, "MemoryLimitExceeded"),
        ("spawn_then_crash", {}, "RuntimeExited"),
    ],
)
def test_descendants_end_when_the_instance_is_killed_or_crashes(call, overrides, error_type, tmp_path):
    pidfile = tmp_path / "pids"
    with _instance(**overrides) as instance:
        result = instance.invoke({"call": call, "pidfile": str(pidfile)})
        assert result.error["errorType"] == error_type, result.error
        (pid,) = _pids(pidfile)
        assert gone(pid)  # at once, not only at close
        assert instance.invoke({"call": "echo"}).ok  # a fresh instance serves the next event


def test_the_cli_leaves_no_process_behind(tmp_path):
    pidfile = tmp_path / "pids"
    _, proc = invoke_json(
        "index.dispatch",
        "--code-dir",
        HOSTILE,
        "--event-json",
        json.dumps({"call": "spawn_session_child", "pidfile": str(pidfile)}),
        "--event-json",
        json.dumps({"call": "double_fork", "pidfile": str(pidfile)}),
    )
    assert proc.returncode == 0, proc.stderr
    pids = _pids(pidfile)
    assert len(pids) == 2
    assert wait_gone(pids) == []


@pytest.mark.parametrize(("sig", "times"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 3)])
def test_ctrl_c_of_invoke_leaves_no_process_behind(tmp_path, sig, times):
    marker = tmp_path / "running"
    pidfile = tmp_path / "pids"
    event = {"call": "wait_marked", "marker": str(marker), "pidfile": str(pidfile)}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "fglocal", "invoke", "index.dispatch", "--code-dir", HOSTILE),
            *("--timeout", "300", "--event-json", json.dumps(event)),
        ],
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for _ in range(1200):  # the handler writes the marker once its child is started
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists(), proc.communicate(timeout=30)
    (child,) = _pids(pidfile)
    for _ in range(times):  # impatient presses must not cut the cleanup short
        os.kill(proc.pid, sig)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert wait_gone([child]) == []


def test_ctrl_c_of_serve_leaves_no_process_behind(tmp_path):
    pidfile = tmp_path / "pids"
    proc = subprocess.Popen(
        [
            *(
                sys.executable,
                "-m",
                "fglocal",
                "serve",
                "index.env_spawn",
                "--code-dir",
                HOSTILE,
                "--port",
                "0",
            ),
            *("--timeout", "300", "--user-data", "PIDFILE=%s" % pidfile),
        ],
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    port = None
    for line in proc.stdout:
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if match:
            port = int(match.group(1))
            break
    assert port, "serve did not start"
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", "/")
    ready = tmp_path / "pids.ready"
    for _ in range(1200):
        if ready.exists():
            break
        time.sleep(0.05)
    assert ready.exists(), "the handler never started"
    pids = _pids(pidfile)
    assert len(pids) == 2 and all(process_alive(pid) for pid in pids)
    os.kill(proc.pid, signal.SIGINT)
    proc.communicate(timeout=60)
    connection.close()
    assert wait_gone(pids) == []


def test_a_child_process_counts_against_the_memory_limit():
    with _instance(memory_size=128, timeout=60) as instance:
        result = instance.invoke({"call": "child_memory", "mb": 300, "seconds": 2, "session": True})
        assert result.error is not None
        assert result.error["errorType"] == "MemoryLimitExceeded"
        assert result.summary["maxMemoryUsedMB"] > 128


def test_the_summary_reports_the_trees_peak():
    with _instance(memory_size=1024, timeout=60) as instance:
        result = instance.invoke({"call": "child_memory", "mb": 300, "seconds": 1})
        assert result.error is None, result.error
        assert result.summary["maxMemoryUsedMB"] > 300


def test_a_short_lived_child_over_the_limit_is_caught_too():
    # The child ends at once; its peak comes back from the instance (RUSAGE_CHILDREN) if no sample saw it.
    with _instance(memory_size=128, timeout=60) as instance:
        result = instance.invoke({"call": "child_memory", "mb": 300, "seconds": 0})
        assert result.error is not None
        assert result.error["errorType"] == "MemoryLimitExceeded"
        assert result.summary["maxMemoryUsedMB"] > 128


def test_adopted_orphans_that_end_are_reaped_but_the_functions_own_children_are_not(tmp_path):
    with _instance(timeout=30) as instance:
        own = json.loads(instance.invoke({"call": "own_zombie"}).body)
        orphans = []
        for n in range(3):
            pidfile = tmp_path / ("orphan-%d" % n)
            assert instance.invoke({"call": "orphan_zombie", "pidfile": str(pidfile)}).ok
            orphans.append(int(pidfile.read_text()))
        # The instance looks for adopted zombies at most once a second, after a reply: let one pass.
        assert instance.invoke({"call": "pause", "seconds": 1.2}).ok
        assert instance.invoke({"call": "echo"}).ok  # requests are served in order: the look is over
        zombies = json.loads(instance.invoke({"call": "zombie_children"}).body)
        assert zombies == [own]  # the orphans were reaped; the function's own child was left to it
        assert all(not os.path.exists("/proc/%d" % pid) for pid in orphans)
        assert instance.invoke({"call": "wait_own"}).body == "5"  # its os.waitpid still works


def test_a_module_that_ignores_signals_is_still_ended(tmp_path):
    # SIGTERM, SIGINT, SIGHUP, SIGUSR1/2 ignored and SIGCHLD set to SIG_IGN at import: the
    # supervisor ends instances with SIGSTOP/SIGKILL, which cannot be ignored.
    marker = tmp_path / "pid"
    config = load_config(HOSTILE).with_overrides(handler="signals.handler", timeout=1)
    with Instance(config) as instance:
        result = instance.invoke({"marker": str(marker), "seconds": 30})
        assert result.error["errorType"] == "FunctionTimeout"
        assert gone(int(marker.read_text()))
        assert instance.invoke({}).body == "ignoring signals"
        pid = instance.pid
    assert gone(pid)


def test_a_crashed_instances_zombies_are_reaped(tmp_path):
    pidfile = tmp_path / "pids"
    with _instance() as instance:
        result = instance.invoke({"call": "zombie_then_crash", "pidfile": str(pidfile)})
        assert result.error["errorType"] == "RuntimeExited"
        (pid,) = _pids(pidfile)
        assert gone(pid)  # re-parented to this process (a subreaper) and waited for
