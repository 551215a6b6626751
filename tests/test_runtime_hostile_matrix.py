"""The hostile-function guarantees on every FunctionGraph runtime's own interpreter (2.7 included)."""

import json

import pytest
from runtime_matrix import ALL_RUNTIMES, require
from runtime_support import function_dir, invoke_json, process_alive

HOSTILE = str(function_dir("hostile"))


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_hostile_handlers_on_each_runtime(runtime, tmp_path):
    require(runtime)
    pidfile = tmp_path / "pids"
    calls = [
        {"call": "close_std_fds"},
        {"call": "echo"},
        {"call": "close_std_streams"},
        {"call": "echo"},
        {"call": "double_fork", "pidfile": str(pidfile)},
        {"call": "fork_and_return"},
        {"call": "echo"},
        {"call": "close_all_fds"},
        {"call": "echo"},
    ]
    args = ["index.dispatch", "--code-dir", HOSTILE, "--runtime", runtime]
    for call in calls:
        args += ["--event-json", json.dumps(call)]
    results, proc = invoke_json(*args)
    assert len(results) == len(calls), proc.stderr
    assert [r["error"] is None for r in results] == [True] * 7 + [False, True], results
    assert [json.loads(results[i]["body"])["n"] for i in (1, 3, 6, 8)] == [1, 2, 3, 1]
    assert "echo output 2" in results[3]["logs"]
    assert "closed or replaced the file descriptors" in results[7]["error"]["errorMessage"]
    (grandchild,) = [int(line) for line in pidfile.read_text().split()]
    assert not process_alive(grandchild)  # double-forked into its own session, ended with the instance


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_adopted_orphans_are_reaped_on_each_runtime(runtime, tmp_path):
    require(runtime)
    pidfile = tmp_path / "orphan"
    calls = [
        {"call": "own_zombie"},
        {"call": "orphan_zombie", "pidfile": str(pidfile)},
        {"call": "pause", "seconds": 1.2},  # the instance looks at most once a second, after a reply
        {"call": "echo"},
        {"call": "zombie_children"},
        {"call": "wait_own"},
    ]
    args = ["index.dispatch", "--code-dir", HOSTILE, "--runtime", runtime, "--timeout", "30"]
    for call in calls:
        args += ["--event-json", json.dumps(call)]
    results, proc = invoke_json(*args)
    assert [r["error"] for r in results] == [None] * len(calls), proc.stderr
    own = json.loads(results[0]["body"])
    assert json.loads(results[4]["body"]) == [own]
    assert results[5]["body"] == "5"
