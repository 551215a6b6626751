"""Timeouts, memory limits and crashes: reported as the platform reports them, never as success."""

import json
import os
import signal

from runtime_support import function_dir, invoke_json, process_alive, start_sleeping_handler

from fglocal.config import load_config
from fglocal.instance import Instance

BASIC = str(function_dir("basic"))


def test_timeout_kills_the_invocation_and_reports_it():
    results, proc = invoke_json("index.sleep_long", "--code-dir", BASIC, "--timeout", "1")
    assert proc.returncode == 1
    result = results[0]
    assert result["error"]["errorType"] == "FunctionTimeout"
    assert "timeout of 1 s" in result["error"]["errorMessage"]
    assert result["summary"]["durationMs"] == 1000.0
    assert result["summary"]["billedDurationMs"] == 1000


def test_after_a_timeout_the_next_event_gets_a_fresh_instance():
    config = load_config(BASIC).with_overrides(handler="index.count_or_hang", timeout=1)
    with Instance(config) as instance:
        assert instance.invoke({}).body == "1"
        assert instance.invoke({}).body == "2"  # warm: module state kept
        first_pid = instance.pid
        assert instance.invoke({"hang": True}).error["errorType"] == "FunctionTimeout"
        assert not process_alive(first_pid)
        assert instance.invoke({}).body == "1"  # cold start: module state is new
        assert instance.pid != first_pid


def test_memory_limit_exceeded():
    results, proc = invoke_json("index.eat_memory", "--code-dir", BASIC, "--memory", "128", "--timeout", "30")
    assert proc.returncode == 1
    error = results[0]["error"]
    assert error["errorType"] == "MemoryLimitExceeded"
    assert error["errorMessage"].startswith("runtime memory limit exceeded")
    assert results[0]["summary"]["maxMemoryUsedMB"] > 128


def test_more_memory_lets_it_finish():
    results, proc = invoke_json(
        "index.eat_memory", "--code-dir", BASIC, "--memory", "2048", "--timeout", "60"
    )
    assert proc.returncode == 0, results
    assert results[0]["body"] == "100"


def test_sys_exit_is_an_error():
    results, proc = invoke_json("index.call_exit", "--code-dir", BASIC)
    assert proc.returncode == 1
    assert results[0]["error"]["errorType"] == "SystemExit"
    assert "sys.exit(3)" in results[0]["error"]["errorMessage"]


def test_os_exit_is_an_error():
    results, proc = invoke_json("index.hard_exit", "--code-dir", BASIC)
    assert proc.returncode == 1
    assert results[0]["error"]["errorType"] == "RuntimeExited"
    assert "exited with code 7" in results[0]["error"]["errorMessage"]


def test_segfault_is_an_error():
    results, proc = invoke_json("index.segfault", "--code-dir", BASIC)
    assert proc.returncode == 1
    assert "SIGSEGV" in results[0]["error"]["errorMessage"]


def test_crashed_instance_is_replaced_for_the_next_event():
    config = load_config(BASIC).with_overrides(handler="index.hard_exit")
    with Instance(config) as instance:
        assert instance.invoke({}).error["errorType"] == "RuntimeExited"
        assert instance.invoke({}).error["errorType"] == "RuntimeExited"  # started again, failed again


def test_background_processes_do_not_outlive_the_instance():
    config = load_config(BASIC).with_overrides(handler="index.background")
    instance = Instance(config)
    result = instance.invoke({})
    assert result.ok
    instance_pid = instance.pid
    sleepers = _children_named(instance_pid, "sleep")
    instance.close()
    assert not process_alive(instance_pid)
    for pid in sleepers:
        assert not process_alive(pid)


def _children_named(session_id, name):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().split(")")
            comm = fields[0].split("(", 1)[1]
            sid = int(fields[1].split()[4])
        except (OSError, IndexError, ValueError):
            continue
        if comm == name and sid == session_id:
            pids.append(int(entry))
    return pids


def test_paused_clock_stops_the_timeout(tmp_path):
    proc = start_sleeping_handler(BASIC, tmp_path / "started", timeout=1, seconds=2)
    proc.send_signal(signal.SIGUSR1)  # a debugger stopped at a breakpoint
    out, _err = proc.communicate(timeout=60)
    result = json.loads(out)
    assert result["error"] is None, result["error"]
    remaining = json.loads(result["body"])["remaining"]
    assert 0 < remaining <= 1000  # frozen at the moment of the pause
    # The paused time is left out of the execution duration: the handler slept 2 s, nearly all of it
    # after the pause.
    assert result["summary"]["durationMs"] < 1500


def test_resumed_clock_counts_only_running_time(tmp_path):
    config = load_config(BASIC).with_overrides(handler="index.sleep_marked", timeout=2)
    with Instance(config) as instance:
        result = instance.invoke({"marker": str(tmp_path / "m"), "seconds": 0.2})
        assert result.ok
        assert result.summary["durationMs"] >= 200  # not paused: all of it counts
