"""Hostile functions: whatever a handler does to its process, the runtime keeps capturing and answering."""

import json

import pytest
from runtime_support import function_dir, invoke_json

from fglocal.config import load_config
from fglocal.instance import Instance

HOSTILE = str(function_dir("hostile"))


def _instance(**overrides):
    return Instance(load_config(HOSTILE).with_overrides(handler="index.dispatch", **overrides))


def _echo_works(instance, n):
    """An echo on the warm instance is captured and answered (call number ``n`` of the instance)."""
    result = instance.invoke({"call": "echo"})
    assert result.error is None, result.error
    assert json.loads(result.body)["n"] == n
    assert "echo output %d" % n in result.logs
    assert "echo error output" in result.logs


@pytest.mark.parametrize(
    "event",
    [
        {"call": "close_std_fds"},
        {"call": "close_std_fds", "stdin": True},
        {"call": "close_std_streams"},
        {"call": "replace_std_streams"},
        {"call": "dup2_devnull"},
    ],
    ids=["close-fd-1-2", "close-fd-0-1-2", "close-sys-streams", "replace-sys-streams", "dup2-devnull"],
)
def test_every_invocation_starts_with_working_capture(event):
    with _instance() as instance:
        _echo_works(instance, 1)
        pid = instance.pid
        broken = instance.invoke(event)
        assert broken.error is None, broken.error
        _echo_works(instance, 2)
        _echo_works(instance, 3)
        assert instance.pid == pid  # the same warm instance: nothing was restarted


def test_broken_capture_through_the_cli():
    events = [
        '{"call": "close_std_fds"}',
        '{"call": "echo"}',
        '{"call": "close_std_streams"}',
        '{"call": "echo"}',
    ]
    args = ["index.dispatch", "--code-dir", HOSTILE]
    for event in events:
        args += ["--event-json", event]
    results, proc = invoke_json(*args)
    assert proc.returncode == 0, proc.stderr
    assert [r["error"] for r in results] == [None] * 4
    assert "echo output 1" in results[1]["logs"]
    assert "echo output 2" in results[3]["logs"]


@pytest.mark.parametrize("call", ["close_all_fds", "replace_pipe_fds"])
def test_a_handler_that_takes_the_runtime_pipes_fails_clearly(call, tmp_path):
    with _instance(timeout=30) as instance:
        _echo_works(instance, 1)
        result = instance.invoke({"call": call, "dir": str(tmp_path)})
        assert result.error is not None
        assert result.error["errorType"] == "RuntimeExited"
        assert "closed or replaced the file descriptors of the runtime's pipe" in result.error["errorMessage"]
        assert "this instance cannot continue" in result.logs
        # Not a timeout: it failed at once, and the next event gets a fresh instance.
        assert result.summary["durationMs"] < 30000
        _echo_works(instance, 1)


def test_process_state_a_handler_changes_does_not_break_the_runtime():
    # cwd, sys.path, os.environ, signal handlers, json.dumps/json.loads and the recursion limit:
    # the function keeps what it changed (module state, as on the platform); the runtime still answers.
    with _instance() as instance:
        assert instance.invoke({"call": "change_process_state"}).body == "changed"
        after = instance.invoke({"call": "recursion_limit"})
        assert after.error is None, after.error
        assert after.body == "60"  # the function's own limit is given back before each call
        failing = instance.invoke({"call": "low_recursion_then_raise"})
        assert failing.error["errorType"] == "ValueError"
        assert any("low_recursion_then_raise" in line for line in failing.error["stackTrace"])
        echo = instance.invoke({"call": "echo"})
        assert echo.error is None
        assert echo.body == "patched"  # its own json.dumps encodes its own results
        assert "echo output" in echo.logs


def test_a_relative_log_dir_survives_a_handler_that_changes_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Instance(load_config(HOSTILE).with_overrides(handler="index.dispatch"), log_dir="logs") as instance:
        assert instance.invoke({"call": "change_process_state"}).ok
        result = instance.invoke({"call": "echo"})
        assert result.error is None, result.error
        assert "echo output 1" in result.logs
        assert (tmp_path / "logs").is_dir()


def test_a_forked_child_that_returns_from_the_handler_does_not_answer():
    with _instance() as instance:
        result = instance.invoke({"call": "fork_and_return"})
        assert result.body == "parent"
        _echo_works(instance, 1)
        _echo_works(instance, 2)


def test_an_initializer_that_forks():
    with _instance(initializer="index.init_forks") as instance:
        _echo_works(instance, 1)
        _echo_works(instance, 2)


def test_a_thread_still_printing_after_the_handler_returned():
    with _instance() as instance:
        assert instance.invoke({"call": "thread_keeps_printing"}).body == "started"
        for n in (1, 2, 3):
            _echo_works(instance, n)


def test_a_return_value_too_deep_to_encode_is_an_error():
    with _instance() as instance:
        result = instance.invoke({"call": "deep_return"})
        assert result.error is not None
        assert result.error["errorType"] == "RecursionError"
        _echo_works(instance, 1)


def test_a_module_that_closes_the_pipes_at_import_fails_clearly():
    config = load_config(HOSTILE).with_overrides(handler="closes_at_import.handler", timeout=30)
    with Instance(config) as instance:
        result = instance.invoke({})
        assert result.error["errorType"] == "RuntimeExited"
        assert "closed or replaced the file descriptors of the runtime's pipe" in result.error["errorMessage"]
