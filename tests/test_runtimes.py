"""The runtime suite on every FunctionGraph runtime: the function runs on its runtime's own Python.

Each test runs on python2.7, 3.6, 3.9, 3.10 and 3.12 (a missing interpreter fails, see
runtime_matrix.py). The function (fixtures/functions/runtimes) is written to run on all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from runtime_matrix import ALL_RUNTIMES, require
from runtime_support import REPO, function_dir, invoke_json, process_alive

from fglocal.config import load_config
from fglocal.instance import RUN_WORKER, Instance

FUNCTION = str(function_dir("runtimes"))
TUTORIAL = str(function_dir("py27_tutorial"))


@pytest.fixture(params=ALL_RUNTIMES)
def runtime(request) -> str:
    require(request.param)
    return request.param


def _instance(runtime: str, handler: str, **overrides) -> Instance:
    config = load_config(FUNCTION).with_overrides(handler=handler, runtime=runtime, **overrides)
    return Instance(config)


def _version(runtime: str) -> list:
    return [int(x) for x in runtime[len("python") :].split(".")]


def test_the_handler_runs_on_the_runtimes_python(runtime):
    with _instance(runtime, "index.version") as instance:
        result = instance.invoke({})
    assert result.ok, result.error
    assert json.loads(result.body)["python"][:2] == _version(runtime)
    assert result.python is not None
    assert result.python["version"].split(".")[:2] == [str(x) for x in _version(runtime)]
    assert result.to_json()["python"] == result.python and result.warnings == []


def test_return_rules(runtime):
    with _instance(runtime, "index.return_dict") as instance:
        result = instance.invoke({"k": [1, 2]})
    assert result.content_type == "application/json"
    assert json.loads(result.body) == {"echo": {"k": [1, 2]}, "big": 2**70, "text": "中文"}
    for handler, body, content_type in (
        ("index.return_str", "plain text", None),
        ("index.return_none", "", None),
    ):
        with _instance(runtime, handler) as instance:
            result = instance.invoke({})
        assert (result.body, result.content_type, result.error) == (body, content_type, None)
    for handler, kind in (("index.return_set", "set"), ("index.return_nan", "float")):
        with _instance(runtime, handler) as instance:
            error = instance.invoke({}).error
        assert error is not None
        assert error["errorMessage"].startswith("function result is invalid, error: ")
        assert "the handler returned a %s" % kind in error["errorMessage"]
    with _instance(runtime, "index.return_too_big") as instance:
        assert instance.invoke({}).error["errorType"] == "ResponseTooLarge"


def test_exception_gives_the_error_object_with_user_frames_only(runtime):
    with _instance(runtime, "index.fail") as instance:
        error = instance.invoke({"k": "v"}).error
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "function invocation exception, error: bad input: v"
    assert error["stackTrace"] == [
        'File "./index.py", line 50, in fail',
        "    helper(event)",
        'File "./index.py", line 54, in helper',
        '    raise ValueError("bad input: %s" % event.get("k"))',
    ]


ERROR_KEYS = ["errorMessage", "errorType", "stackTrace"]


def test_the_error_object_has_the_platforms_key_order(runtime):
    """As on 3.x: errorMessage, errorType, stackTrace (a Python 2.7 dict has no order of its own)."""
    for handler, extra in (("index.fail", ()), ("index.version", ("--initializer", "index.fail"))):
        results, proc = invoke_json(handler, "--code-dir", FUNCTION, "--runtime", runtime, *extra)
        assert proc.returncode == 1 and len(results) == 1, proc.stderr
        assert list(results[0]["error"]) == ERROR_KEYS, results[0]["error"]
        human = subprocess.run(
            [sys.executable, "-m", "fglocal", handler, "--code-dir", FUNCTION, "--runtime", runtime, *extra],
            capture_output=True,
            text=True,
            cwd=str(REPO),
            timeout=120,
        ).stdout
        shown = [human.index('"%s"' % key) for key in ERROR_KEYS]
        assert shown == sorted(shown), human
    with _instance(runtime, "index.fail") as instance:
        assert list(instance.invoke({"k": "v"}).error) == ERROR_KEYS


def test_exits_are_errors(runtime):
    with _instance(runtime, "index.call_exit") as instance:
        error = instance.invoke({}).error
    assert error["errorType"] == "SystemExit" and "sys.exit(3)" in error["errorMessage"]
    with _instance(runtime, "index.hard_exit") as instance:
        error = instance.invoke({}).error
    assert error["errorType"] == "RuntimeExited" and "exited with code 5" in error["errorMessage"]


def test_timeout_and_memory_limit(runtime):
    with _instance(runtime, "index.sleep_long", timeout=1) as instance:
        result = instance.invoke({})
        pid = instance.pid
    assert result.error["errorType"] == "FunctionTimeout"
    assert not process_alive(pid)
    with _instance(runtime, "index.eat_memory", timeout=30) as instance:
        result = instance.invoke({})
    assert result.error["errorType"] == "MemoryLimitExceeded"
    assert result.summary["maxMemoryUsedMB"] > 128


def test_logs_capture_every_kind_of_output_in_order(runtime):
    with _instance(runtime, "index.logs") as instance:
        result = instance.invoke({})
    assert result.ok, result.error
    lines = result.logs.splitlines()
    body = [line for line in lines[1:-1]]
    assert body[0] == "print line" and body[1] == "stderr line" and body[2] == "fd line"
    assert body[3].endswith(" INFO logger line") and result.request_id in body[3]
    assert body[4] == "child line"
    assert lines[0].startswith(lines[0][:24]) and "Start invoke request" in lines[0]
    assert "Finish invoke request" in lines[-1]


def test_initializer_once_and_warm_state(runtime):
    with _instance(runtime, "index.version", initializer="index.init") as instance:
        first = instance.invoke({})
        second = instance.invoke({})
    assert "initializer ran" in first.logs and "initializer ran" not in second.logs
    assert json.loads(second.body)["initialized"] == 1
    with _instance(runtime, "index.count") as instance:
        assert [instance.invoke({}).body for _ in range(3)] == ["1", "2", "3"]


def test_context_and_isolation_from_the_tool(runtime):
    overrides = {"user_data": {"bucket": "b1"}, "memory_size": 256}
    with _instance(runtime, "index.context_info", **overrides) as instance:
        info = json.loads(instance.invoke({}).body)
    assert info["memory"] == 256 and info["cpu"] == 400 and info["env"] == "256"
    assert info["userData"] == "b1" and info["missing"] == "default"
    assert 0 < info["remaining"] <= 3000 and info["function"] == "runtimes"
    assert os.path.realpath(info["cwd"]) == os.path.realpath(FUNCTION)
    # The tool is not on the function's path (unless the instance is forked from the tool itself),
    # nor is the instance package's folder.
    if not Instance(load_config(FUNCTION).with_overrides(runtime=runtime)).interpreter.is_tool:
        assert info["fglocalImportable"] is False
    assert os.path.dirname(RUN_WORKER) not in info["sysPath"]


def test_cli_reports_the_interpreter_in_both_outputs(runtime):
    interpreter = require(runtime)
    results, proc = invoke_json("index.version", "--code-dir", FUNCTION, "--runtime", runtime)
    assert proc.returncode == 0, proc.stderr
    assert results[0]["python"] == {"version": interpreter.version_text, "path": interpreter.path}
    human = subprocess.run(
        [sys.executable, "-m", "fglocal", "index.version", "--code-dir", FUNCTION, "--runtime", runtime],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=120,
    )
    assert "Python              %s (%s)" % (interpreter.version_text, interpreter.path) in human.stdout


def test_instance_package_compiles_and_stands_alone(runtime):
    """Every instance-side module compiles on the runtime and imports nothing of the rest of fglocal."""
    interpreter = require(runtime)
    folder = os.path.dirname(RUN_WORKER)
    sources = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith(".py")
    )
    done = subprocess.run([interpreter.path, "-m", "py_compile", *sources], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    code = (
        "import sys; sys.path.insert(0, %r); import fgruntime.worker, fgruntime.context; "
        "print(sorted(m for m in sys.modules if m.startswith('fglocal')))" % folder
    )
    done = subprocess.run([interpreter.path, "-c", code], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_reference_page_python27_tutorial():
    """The reference page's own example: index.py + helloworld.py with `print 'hello world!'`."""
    interpreter = require("python2.7")
    results, proc = invoke_json("--code-dir", TUTORIAL, "--event-json", '{"key": "value"}')
    assert proc.returncode == 0, proc.stderr
    result = results[0]
    assert result["error"] is None
    assert json.loads(result["body"]) == {"key": "value"}  # json.dumps(event) returned as a str
    assert result["contentType"] is None
    logs = result["logs"].splitlines()
    assert logs.count("hello world!") == 2  # the initializer's print statement, then the handler's
    assert result["python"]["version"] == interpreter.version_text


def test_python2_types_and_text():
    """Under python2.7 the platform's rules apply to Python 2's types: str/unicode, long."""
    require("python2.7")
    with _instance("python2.7", "types2.types", user_data={"u": "v"}) as instance:
        assert json.loads(instance.invoke({"k": "v"}).body) == {
            "key": "unicode",
            "big": "long",
            "userData": "unicode",
        }
    for handler, body in (("types2.unicode_body", "中文"), ("types2.native_str_body", "café")):
        with _instance("python2.7", handler) as instance:
            result = instance.invoke({})
        assert (result.body, result.content_type, result.error) == (body, None, None)
    with _instance("python2.7", "types2.print_statement_free") as instance:
        result = instance.invoke({})
    assert result.ok, result.error
    assert "unicode write 中\n" in result.logs and "print of unicode 中\n" in result.logs


def test_python3_code_under_python27_is_a_syntax_error_as_on_the_platform():
    require("python2.7")
    config = load_config(str(function_dir("py3only"))).with_overrides(runtime="python2.7")
    with Instance(config) as instance:
        error = instance.invoke({}).error
    assert error["errorType"] == "SyntaxError"
    assert error["errorMessage"] == "Syntax error in module 'index'(invalid syntax (index.py, line 2))"
    assert error["stackTrace"][0] == 'File "./index.py", line 2'
    config = config.with_overrides(runtime="python3.6")
    if require("python3.6"):
        with Instance(config) as instance:
            assert instance.invoke({"a": 1}).body == '{"a": 1}'


def test_the_tools_folders_on_pythonpath_do_not_reach_the_function(tmp_path):
    """An editor starts fglocal with its bundle on PYTHONPATH: the function's interpreter does not see it."""
    require("python3.9")
    user_lib = tmp_path / "userlib"
    user_lib.mkdir()
    (user_lib / "userthing.py").write_text("X = 1\n")
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(user_lib)])}  # REPO holds fglocal, like a bundle
    results, proc = invoke_json(
        "index.context_info", "--code-dir", FUNCTION, "--runtime", "python3.9", env=env
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(results[0]["body"])
    assert info["fglocalImportable"] is False
    assert str(user_lib) in info["sysPath"] and str(REPO) not in info["sysPath"]


def test_initializer_failure_and_timeout(runtime):
    with _instance(runtime, "index.version", initializer="index.init_fails") as instance:
        first, second = instance.invoke({}), instance.invoke({})
    assert first.error["errorType"] == "RuntimeError"
    assert first.error["errorMessage"] == "function initialization exception, error: init broke"
    assert first.error["stackTrace"][0].startswith('File "./index.py", line ')
    assert second.error == first.error  # every event of that instance fails with it
    with _instance(
        runtime, "index.version", initializer="index.init_slow", initializer_timeout=1
    ) as instance:
        error = instance.invoke({}).error
    assert error["errorType"] == "InitializerTimeout"


HOSTILE_CALLS = [
    "close_std_fds",
    "close_std_streams",
    "replace_std_streams",
    "dup2_devnull",
    "fork_and_return",
]


def test_hostile_handlers_on_every_runtime(runtime):
    """What a handler does to its process does not break capture on any runtime (fixtures/functions/hostile)."""
    config = load_config(str(function_dir("hostile"))).with_overrides(
        handler="index.dispatch", runtime=runtime
    )
    for call in HOSTILE_CALLS:
        with Instance(config) as instance:
            assert instance.invoke({"call": "echo"}).error is None
            pid = instance.pid
            assert instance.invoke({"call": call}).error is None, call
            after = instance.invoke({"call": "echo"})
            assert after.error is None and "echo output 2" in after.logs, (call, after.logs)
            assert instance.pid == pid, call
    with Instance(config) as instance:
        error = instance.invoke({"call": "close_all_fds"}).error
        assert "closed or replaced" in error["errorMessage"]
        assert instance.invoke({"call": "echo"}).error is None  # a fresh instance serves the next event
