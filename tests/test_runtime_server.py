"""The runtime server (``fglocal runtime-server``): instances forked by a per-runtime zygote.

The runtime suite of test_runtimes.py runs again here with FGLOCAL_RUNTIME_SERVER set, on Python 2.7
and 3.12, and every instance it starts must have been forked by the server (a silent fallback to
spawning fails the test). Then what only the server path can get wrong: the forked instance is what
a spawned one is, a timeout or crash ends its whole tree, the server's end leaves no process behind,
and a foreign uid or a malformed request is refused. Last, the thin client (fglocal.thin_client):
`fglocal invoke` run by the server's warm supervisor gives what the same command run in full gives.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Optional

import pytest
from runtime_matrix import ALL_RUNTIMES, require
from runtime_support import REPO, function_dir, process_alive, switchable_python, wait_ended, wait_gone

# The runtime suite, collected again here: its `runtime` fixture is this module's (the served runtimes).
from test_runtimes import (  # noqa: F401
    test_cli_reports_the_interpreter_in_both_outputs,
    test_context_and_isolation_from_the_tool,
    test_exception_gives_the_error_object_with_user_frames_only,
    test_exits_are_errors,
    test_hostile_handlers_on_every_runtime,
    test_initializer_failure_and_timeout,
    test_initializer_once_and_warm_state,
    test_logs_capture_every_kind_of_output_in_order,
    test_python2_types_and_text,
    test_reference_page_python27_tutorial,
    test_return_rules,
    test_the_handler_runs_on_the_runtimes_python,
    test_timeout_and_memory_limit,
)

from fglocal import runtime_server
from fglocal.config import load_config
from fglocal.instance import Instance

SERVED = ("python2.7", "python3.12")
FUNCTION = str(function_dir("server"))
pytestmark = pytest.mark.skipif(
    not runtime_server.available(), reason="the runtime server needs Linux with pidfd and Python 3.9+"
)


class Server:
    """A running ``fglocal runtime-server`` (a child of the test), stopped by closing its stdin."""

    def __init__(
        self,
        runtimes: tuple,
        options: tuple = (),
        env: Optional[dict] = None,
        flags: tuple = (),
        python: str = sys.executable,
    ) -> None:
        for runtime in runtimes:
            require(runtime)
        args = [python, *flags, "-m", "fglocal", "runtime-server", "--until-stdin-closes", *options]
        for runtime in runtimes:
            args += ["--runtime", runtime]
        self.proc = subprocess.Popen(
            args,
            cwd=str(REPO),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first.startswith(runtime_server.ENV_VARIABLE + "="), (first, self.proc.stderr.read())
        self.folder = first.strip().split("=", 1)[1]
        self.supervisor = 0  # the warm supervisor of thin clients (fglocal.warm_supervisor)
        self.launcher = ""  # the native launcher (fglocal/launcher), when it was built
        self.lines = [first]
        while True:
            line = self.proc.stdout.readline()
            assert line, self.proc.stderr.read()
            self.lines.append(line)
            if line.startswith("set "):
                break
            if line.startswith("FGLOCAL_LAUNCHER="):
                self.launcher = line.strip().split("=", 1)[1]
            if line.startswith("serving fglocal invoke"):
                self.supervisor = int(line.rsplit("pid", 1)[1])
        with open(os.path.join(self.folder, runtime_server.MANIFEST)) as handle:
            self.servers = json.load(handle)["servers"]
        self.zygotes = {entry["runtime"]: entry["pid"] for entry in self.servers.values()}

    def stop(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server():
    served = Server(SERVED)
    old = os.environ.get(runtime_server.ENV_VARIABLE)
    os.environ[runtime_server.ENV_VARIABLE] = served.folder
    try:
        yield served
    finally:
        if old is None:
            os.environ.pop(runtime_server.ENV_VARIABLE, None)
        else:
            os.environ[runtime_server.ENV_VARIABLE] = old
        assert served.stop() == 0
    assert wait_gone([*served.zygotes.values(), served.supervisor]) == []
    assert not os.path.exists(served.folder)


@pytest.fixture(autouse=True)
def forked_by_the_server(server, monkeypatch):
    """Every instance this process starts must come from the server: a fallback to spawning fails."""
    attempts = []
    real = runtime_server.fork_instance

    def recording(*args, **kwargs):
        remote = real(*args, **kwargs)
        attempts.append(remote is not None)
        return remote

    monkeypatch.setattr(runtime_server, "fork_instance", recording)
    yield attempts
    assert all(attempts), "an instance was spawned instead of forked by the runtime server: %s" % attempts


@pytest.fixture(params=SERVED)
def runtime(request) -> str:
    require(request.param)
    return request.param


def _config(runtime: str, handler: str = "index.describe", **overrides):
    return load_config(FUNCTION).with_overrides(handler=handler, runtime=runtime, **overrides)


def _describe(runtime: str, **instance_options) -> dict:
    with Instance(_config(runtime), **instance_options) as instance:
        result = instance.invoke({})
    assert result.ok, result.error
    return json.loads(result.body)


def test_the_instance_is_forked_by_the_runtimes_server(server, runtime, forked_by_the_server):
    described = _describe(runtime)
    assert described["ppid"] == server.zygotes[runtime]
    assert forked_by_the_server == [True]


def test_fglocal_through_a_symlink_is_served(server, tmp_path):
    """The debug adapter's runs without the debugger import fglocal through a folder holding only a
    ``fglocal`` symlink (debug_adapter/invocation.py): the same instance side, so the zygote forks."""
    shim = tmp_path / "path"
    shim.mkdir()
    (shim / "fglocal").symlink_to(REPO / "fglocal", target_is_directory=True)
    args = ["invoke", "index.describe", "--code-dir", FUNCTION, "--runtime", "python3.12", "--json"]
    code, stdout, stderr, _ = _fglocal(args, tmp_path, thin=False, env={"PYTHONPATH": str(shim)})
    assert code == 0, stderr
    described = json.loads(json.loads(stdout.strip().splitlines()[-1])["body"])
    assert described["ppid"] == server.zygotes["python3.12"]


def test_a_forked_instance_is_what_a_spawned_one_is(runtime, monkeypatch, forked_by_the_server):
    """Session, descriptors, stdin, umask, rlimits, environment, cwd, signals, sys.path and modules."""
    monkeypatch.setenv("FG_SERVER_TEST_MARKER", "from the supervisor")
    old_mask = os.umask(0o027)
    import resource

    old_core = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, old_core[1]))
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        forked = _describe(runtime)
        spawned = _describe(runtime, start_method="spawn")
    finally:
        signal.signal(signal.SIGHUP, previous)
        resource.setrlimit(resource.RLIMIT_CORE, old_core)
        os.umask(old_mask)
    assert forked_by_the_server == [True]  # the spawned one did not ask the server
    assert forked.pop("ppid") != spawned.pop("ppid") == os.getpid()
    assert forked == spawned
    assert forked["marker"] == "from the supervisor" and forked["umask"] == 0o027
    assert forked["serverVariable"] is None  # the tool's own variable does not reach the function
    assert forked["core"][0] == 0 and forked["sighup"] in ("1", "Handlers.SIG_IGN")
    # 0-2, the two pipes, and on 2.7 the /dev/urandom descriptor os.urandom keeps open: as spawned.
    assert forked["ownSession"] and forked["stdin"] and forked["fds"][:5] == [0, 1, 2, 3, 4]
    assert "fgruntime.zygote" not in forked["modules"] and "socket" not in forked["modules"]


@pytest.fixture(scope="module", params=["plain", "random imported at start-up"])
def every_runtime_server(request, tmp_path_factory):
    """A server for all five runtimes; for the second, their start-up imports random (a sitecustomize)."""
    old = os.environ.get("PYTHONPATH")
    startup = {}
    if request.param != "plain":
        folder = tmp_path_factory.mktemp("startup")
        (folder / "sitecustomize.py").write_text("import random\n")
        startup["PYTHONPATH"] = str(folder)  # the server's, and the test's instances' (same start-up)
    os.environ.update(startup)
    try:
        served = Server(tuple(ALL_RUNTIMES))
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    try:
        yield served, startup
    finally:
        assert served.stop() == 0


@pytest.mark.parametrize("runtime", ALL_RUNTIMES)
def test_forked_instances_draw_anew_what_a_fresh_process_draws(
    runtime, every_runtime_server, monkeypatch, tmp_path, forked_by_the_server
):
    """Nothing a fresh process seeds at start-up is shared by two forked instances (but the hash seed).

    On 2.7 and 3.6 a module seeded at import (random) that the zygote had loaded would give every
    instance it forks the same numbers: 3.7+ reseeds random after fork, they do not.
    """
    served, startup = every_runtime_server
    monkeypatch.setenv(runtime_server.ENV_VARIABLE, served.folder)
    for key, value in startup.items():
        monkeypatch.setenv(key, value)
    draws = []
    for _ in range(2):
        with Instance(_config(runtime, "index.draws")) as instance:
            result = instance.invoke({"dir": str(tmp_path)})
        assert result.ok, result.error
        draws.append(json.loads(result.body))
    assert forked_by_the_server == [True, True]
    first, second = draws
    assert sorted(first) == sorted(second)
    assert [key for key in first if first[key] == second[key]] == []


@pytest.mark.parametrize(
    "handler, overrides, error_type",
    [
        ("index.daemon_then_hang", {"timeout": 2}, "FunctionTimeout"),
        ("index.daemon_then_crash", {}, "RuntimeExited"),
    ],
)
def test_a_timeout_or_crash_ends_the_whole_tree(runtime, handler, overrides, error_type, tmp_path):
    pidfile = tmp_path / "pids"
    with Instance(_config(runtime, handler, **overrides)) as instance:
        result = instance.invoke({"pidfile": str(pidfile)})
        assert result.error["errorType"] == error_type, result.error
        if error_type == "RuntimeExited":
            assert "exited with code 9" in result.error["errorMessage"]
        (daemon,) = [int(line) for line in pidfile.read_text().split()]
        assert wait_gone([daemon]) == []
        # A fresh (forked) instance serves the next event: its handler runs (and fails on the empty event).
        assert instance.invoke({}).error["errorType"] == "KeyError"


def test_closing_the_instance_ends_its_daemons(runtime, tmp_path):
    pidfile = tmp_path / "pids"
    with Instance(_config(runtime, "index.daemon")) as instance:
        assert instance.invoke({"pidfile": str(pidfile)}).ok
        (daemon,) = [int(line) for line in pidfile.read_text().split()]
        worker = instance.pid
        assert process_alive(daemon) and process_alive(worker)
    assert wait_gone([daemon, worker]) == []


@pytest.mark.parametrize("runtime_name", SERVED)
def test_ctrl_c_of_invoke_ends_the_forked_tree(server, runtime_name, tmp_path):
    pidfile = tmp_path / "pids"
    zygote = server.zygotes[runtime_name]
    before = _zygote_children(zygote)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "fglocal", "invoke", "index.daemon_then_hang", "--code-dir", FUNCTION),
            *("--runtime", runtime_name, "--timeout", "300"),
            *("--event-json", json.dumps({"pidfile": str(pidfile)})),
        ],
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    for _ in range(1200):  # the handler writes the pidfile once its daemon runs
        if pidfile.exists() and pidfile.read_text().endswith("\n"):
            break
        time.sleep(0.05)
    assert pidfile.exists(), proc.communicate(timeout=30)
    (daemon,) = [int(line) for line in pidfile.read_text().split()]
    (instance,) = [pid for pid in _zygote_children(zygote) if pid not in before]  # forked by the server
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert wait_gone([daemon, instance]) == []


@pytest.mark.parametrize("how", ["stdin closes", "SIGTERM", "SIGKILL"])
def test_the_servers_end_leaves_no_process_behind(how, tmp_path, monkeypatch, forked_by_the_server):
    own = Server(("python3.12",))
    monkeypatch.setenv(runtime_server.ENV_VARIABLE, own.folder)
    pidfile = tmp_path / "pids"
    instance = Instance(_config("python3.12", "index.daemon"))
    try:
        assert instance.invoke({"pidfile": str(pidfile)}).ok  # a warm instance with a daemon
        (daemon,) = [int(line) for line in pidfile.read_text().split()]
        worker = instance.pid
        assert process_alive(daemon) and process_alive(worker)
        spares = _children(own.supervisor)  # the warm supervisor's child waiting for a connection
        assert len(spares) == 1
        if how == "stdin closes":
            assert own.stop() == 0
        else:
            own.proc.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
            own.proc.wait(timeout=60)
        # Nothing keeps running. Killed, the server cannot reap its zygotes: they are re-parented to
        # the nearest subreaper, which is this test process (it hosts instances), and reaped here.
        assert own.supervisor  # the warm supervisor of thin clients ends with the server too
        assert wait_ended([*own.zygotes.values(), own.supervisor, *spares, worker, daemon]) == []
        if how == "SIGKILL":  # killed, it cannot clean up its folder: the next server does
            # (not asserted to be there first: any server started meanwhile on this machine, by
            # another user of /tmp/fglocal-<uid>, removes it as well)
            Server(("python3.12",)).stop()
        assert not os.path.exists(own.folder)
        error = instance.invoke({}).error  # its instance is gone: reported, then a new one is spawned
        assert error is not None and error["errorType"] == "RuntimeExited"
        assert instance.invoke({"pidfile": str(pidfile)}).ok
        assert forked_by_the_server == [True, False]  # forked by the server, then spawned without it
        forked_by_the_server.clear()
    finally:
        instance.close()
        own.proc.kill()
        own.proc.wait()


WHICH_PYTHON = """import os, sys


def handler(event, context):
    return {"version": list(sys.version_info[:2]), "ppid": os.getppid()}
"""


@pytest.mark.parametrize("thin", [False, True], ids=["full run", "thin client"])
def test_a_zygote_of_another_version_than_the_run_resolved_is_not_used(thin, tmp_path, forked_by_the_server):
    """A wrapper retargeted after the server started (``pyenv local``): the run spawns what it resolved."""
    py39, py312 = require("python3.9"), require("python3.12")
    wrapper, target = switchable_python(tmp_path, py39.path)
    function = tmp_path / "fn"
    function.mkdir()
    (function / "index.py").write_text(WHICH_PYTHON)
    env = dict(os.environ, FGLOCAL_PYTHON=str(wrapper))
    own = Server(("python3.9",), env=env)
    try:
        (zygote,) = own.zygotes.values()
        run_env = {"FGLOCAL_PYTHON": str(wrapper), runtime_server.ENV_VARIABLE: own.folder}

        def which(runtime: str) -> dict:
            args = ["invoke", "index.handler", "--code-dir", str(function), "--runtime", runtime, "--json"]
            code, stdout, stderr, served = _fglocal(args, tmp_path, thin, env=run_env)
            assert code == 0, stderr
            assert served == thin, stderr
            result = json.loads(stdout.strip().splitlines()[-1])
            return dict(json.loads(result["body"]), reported=result["python"]["version"])

        first = which("python3.9")
        assert first == {"version": [3, 9], "ppid": zygote, "reported": py39.version_text}
        target.write_text(py312.path)  # the wrapper now runs 3.12: the 3.9 zygote must not fork it
        second = which("python3.12")
        assert second["version"] == [3, 12] and second["reported"] == py312.version_text
        assert second["ppid"] != zygote
    finally:
        own.stop()
    forked_by_the_server.clear()  # the runs were other processes: nothing of this one's to check


def _zygote_children(zygote: int) -> list:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == zygote:
                        found.append(int(name))
            except OSError:
                continue
    return found


def _ask(path: str, fds: list, line: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(30)
        conn.connect(path)
        try:
            for fd in fds:
                socket.send_fds(conn, [b"F"], [fd])
            conn.sendall(line)
            conn.shutdown(socket.SHUT_WR)
        except OSError:  # refused before all was sent (a foreign uid is refused at once): read the answer
            pass
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    return json.loads(reply)


@pytest.mark.parametrize("served", SERVED)
def test_bad_requests_are_refused_and_fork_nothing(server, served):
    entry = next(e for e in server.servers.values() if e["runtime"] == served)
    pipes = [os.pipe(), os.pipe()]
    fds = [pipes[0][0], pipes[1][1], 1, 2]
    good = {"op": "fork", "env": {}, "cwd": "/", "umask": 18, "rlimits": [], "ignoredSignals": []}
    cases = [
        ([], json.dumps(good).encode() + b"\n"),  # no descriptors
        (fds[:2], json.dumps(good).encode() + b"\n"),  # too few
        (fds, b"not json\n"),
        (fds, json.dumps(dict(good, op="exec")).encode() + b"\n"),
        (fds, json.dumps(dict(good, env=["PATH=/bin"])).encode() + b"\n"),
        (fds, json.dumps(dict(good, env={"A=B": "c"})).encode() + b"\n"),
        (fds, json.dumps(dict(good, umask="022")).encode() + b"\n"),
        (fds, json.dumps(dict(good, rlimits=[[7, 1]])).encode() + b"\n"),
        (fds, json.dumps(good).encode()),  # no newline before the end
    ]
    try:
        for sent, line in cases:
            before = _zygote_children(entry["pid"])
            answer = _ask(entry["socket"], sent, line)
            assert "error" in answer and "pid" not in answer, (sent, line, answer)
            assert _zygote_children(entry["pid"]) == before
    finally:
        for pair in pipes:
            for fd in pair:
                os.close(fd)
    # Still serving.
    assert _describe(served)["ppid"] == entry["pid"]


def test_a_foreign_uid_is_refused(server):
    """The zygote checks its peer's uid (SO_PEERCRED), not only the folder's permissions."""
    if os.geteuid() != 0:
        pytest.skip("connecting as another uid needs root (the check itself runs on every request)")
    import shutil
    import tempfile

    entry = next(iter(server.servers.values()))
    # The socket's folder is 0700: reach the socket through a hard link in an open folder instead.
    # Beside the per-user folder ($TMPDIR): the same file system, and open to other users.
    folder = tempfile.mkdtemp(prefix="fglocal-test-", dir=os.path.dirname(os.path.dirname(server.folder)))
    os.chmod(folder, 0o755)
    link = os.path.join(folder, "zygote.sock")
    os.link(entry["socket"], link)
    mode = os.stat(entry["socket"]).st_mode & 0o777
    os.chmod(link, 0o777)  # the same inode: its own folder still keeps everyone else out
    before = _zygote_children(entry["pid"])
    read_end, write_end = os.pipe()
    try:
        child = os.fork()
        if child == 0:  # as nobody: connect and ask for an instance
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                r, w = os.pipe()
                good = {"op": "fork", "env": {}, "cwd": "/", "umask": 18, "rlimits": [], "ignoredSignals": []}
                try:
                    reply = _ask(link, [r, w, 1, 2], json.dumps(good).encode() + b"\n")
                except Exception as exc:  # reported to the parent's assertion
                    reply = {"childError": repr(exc)}
                os.write(write_end, json.dumps(reply).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        answer = os.read(read_end, 65536)
        assert os.waitpid(child, 0)[1] == 0
    finally:
        os.close(read_end)
        os.chmod(entry["socket"], mode)
        shutil.rmtree(folder)
    reply = json.loads(answer)
    assert "pid" not in reply and "serves its own user" in reply.get("error", ""), reply
    assert _zygote_children(entry["pid"]) == before


def test_unknown_runtime_is_a_usage_error():
    done = subprocess.run(
        [sys.executable, "-m", "fglocal", "runtime-server", "--runtime", "python9.9"],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "unknown runtime python9.9" in done.stderr


# ------------------------------------------------------------------------------ the thin client

THIN_FUNCTION = """\
# -*- coding: utf-8 -*-
from __future__ import print_function


def handler(event, context):
    print(u"got \u00fc", event)
    return {"event": event, "function": context.getFunctionName()}


def boom(event, context):
    raise ValueError("no \u00fc here")


def text(event, context):
    return "plain text"
"""
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")
_AMOUNT = re.compile(r"\b\d+(\.\d+)? ?(ms|MB)\b")
_VARYING = ("durationMs", "maxMemoryUsedMB", "billedDurationMs", "initDurationMs")


def _normalized(text: str) -> str:
    """Output with what differs between any two runs (ids, times, memory) replaced by placeholders."""
    lines = []
    for line in text.splitlines():
        if line.startswith("import time:"):
            continue  # -X importtime's report (how the test sees which process ran the command)
        if line.startswith("{"):
            try:
                line = json.dumps(_without_varying(json.loads(line)), sort_keys=True)
            except ValueError:
                pass
        lines.append(_AMOUNT.sub("<n>", _STAMP.sub("<time>", _UUID.sub("<id>", line))))
    return "\n".join(lines)


def _without_varying(value):
    if isinstance(value, dict):
        return {k: (None if k in _VARYING else _without_varying(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_varying(v) for v in value]
    return value


def _fglocal(args, cwd, thin, input=None, env=None, launcher=None):
    """``python -X importtime -m fglocal ARGS``; (returncode, stdout, stderr, served by the supervisor)."""
    full_env = dict(os.environ)
    full_env.pop("FGLOCAL_START_METHOD", None)
    full_env.update(env or {})
    full_env["FGLOCAL_THIN_CLIENT"] = "1" if thin else "0"
    command = launcher or [sys.executable, "-m", "fglocal"]
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:], *args],
        cwd=str(cwd),
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    # Run here, the command imports fglocal's modules in this process; run by the supervisor, not.
    served = " fglocal.config\n" not in done.stderr and " fglocal.commands.options\n" not in done.stderr
    return done.returncode, done.stdout, done.stderr, served


@pytest.fixture
def thin_function(tmp_path):
    (tmp_path / "index.py").write_text(THIN_FUNCTION, encoding="utf-8")
    (tmp_path / "fglocal.json").write_text(json.dumps({"functionName": "thin"}))
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "e.json").write_text('{"from": "file"}')
    return tmp_path


THIN_CASES = {
    "human": ["index.handler", "--event-json", '{"a": 1}'],
    "json": ["invoke", "index.handler", "--event-json", '{"a": 1}', "--json", "--repeat", "2"],
    "stdin event": ["index.handler", "--event", "-", "--json"],
    "relative event file": ["index.text", "--event", "events/e.json"],
    "result file": ["index.handler", "--result-file", "out.jsonl", "--json"],
    "function error": ["index.boom"],
    "function error json": ["index.boom", "--json"],
    "missing module": ["nothere.handler", "--json"],
    "bad memory size": ["index.handler", "--memory-size", "7"],
    "unknown option": ["index.handler", "--bogus"],
    "bad event json": ["index.handler", "--event-json", "{nope"],
}


@pytest.mark.parametrize("case", sorted(THIN_CASES))
@pytest.mark.parametrize("runtime_name", SERVED)
def test_the_thin_client_gives_what_a_full_run_gives(server, thin_function, case, runtime_name):
    args = [*THIN_CASES[case], "--runtime", runtime_name]
    stdin = '{"from": "st\u00fcdin"}\n' if "-" in args else None
    runs = {}
    for thin in (True, False):
        result = thin_function / "out.jsonl"
        if result.exists():
            result.unlink()
        code, out, err, served = _fglocal(args, thin_function, thin, input=stdin)
        assert served == thin, (case, thin, err[-2000:])
        written = _normalized(result.read_text()) if result.exists() else None
        runs[thin] = (code, _normalized(out), _normalized(err), written)
    assert runs[True] == runs[False]
    code, out, err, written = runs[True]
    expected = {"function error": 1, "function error json": 1, "missing module": 1}
    assert code == expected.get(
        case, 2 if case in ("bad memory size", "unknown option", "bad event json") else 0
    )
    if case == "result file":
        assert written is not None and written.count("\n") == 0 and '\\"thin' in written
    if case == "stdin event":
        assert "u00fcdin" in out or "st\u00fcdin" in out  # the stdin event reached the handler
    if case == "unknown option":
        assert "unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("args", [["--help"], ["invoke", "--help"], ["--version"], ["event", "--help"]])
def test_other_commands_and_help_run_in_full(server, thin_function, args):
    runs = [_fglocal(args, thin_function, thin) for thin in (True, False)]
    assert [r[3] for r in runs] == [False, False] or args == ["--version"]
    assert runs[0][:2] == runs[1][:2]
    assert runs[0][0] == 0 and runs[0][1]


def _children(pid: int) -> list:
    return _zygote_children(pid)


def _runs(supervisor: int) -> list:
    """The warm supervisor's children that run a command: they watch their client from a second thread.

    (Its other child is the spare waiting for the next connection, single-threaded.)
    """
    found = []
    for pid in _children(supervisor):
        try:
            if len(os.listdir("/proc/%d/task" % pid)) > 1:
                found.append(pid)
        except OSError:
            continue
    return found


def _start_hanging(server, runtime_name, pidfile, thin):
    env = dict(os.environ, FGLOCAL_THIN_CLIENT="1" if thin else "0")
    before = _zygote_children(server.zygotes[runtime_name])
    runs_before = _runs(server.supervisor)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "fglocal", "invoke", "index.daemon_then_hang", "--code-dir", FUNCTION),
            *("--runtime", runtime_name, "--timeout", "300"),
            *("--event-json", json.dumps({"pidfile": str(pidfile)})),
        ],
        cwd=str(REPO),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    for _ in range(1200):  # the handler writes the pidfile once its daemon runs
        if pidfile.exists() and pidfile.read_text().endswith("\n"):
            break
        time.sleep(0.05)
    assert pidfile.exists(), proc.communicate(timeout=30)
    (daemon,) = [int(line) for line in pidfile.read_text().split()]
    (instance,) = [p for p in _zygote_children(server.zygotes[runtime_name]) if p not in before]
    runs = [p for p in _runs(server.supervisor) if p not in runs_before]
    assert len(runs) == (1 if thin else 0)  # the warm supervisor's child runs it, or nobody does
    return proc, daemon, instance, runs


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_thin_client_ends_the_run_and_its_tree(server, tmp_path, signum):
    proc, daemon, instance, runs = _start_hanging(server, "python3.12", tmp_path / "pids", thin=True)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert wait_gone([daemon, instance, *runs]) == []


@pytest.mark.parametrize("runtime_name", SERVED)
def test_sigkill_of_the_thin_client_ends_its_run(server, tmp_path, runtime_name):
    proc, daemon, instance, runs = _start_hanging(server, runtime_name, tmp_path / "pids", thin=True)
    proc.kill()
    proc.communicate(timeout=60)
    assert wait_gone([daemon, instance, *runs]) == []


def test_ctrl_c_without_the_thin_client_still_ends_the_tree(server, tmp_path):
    proc, daemon, instance, _ = _start_hanging(server, "python3.12", tmp_path / "pids", thin=False)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert wait_gone([daemon, instance]) == []


def test_a_stale_or_foreign_server_is_not_used(server, thin_function, tmp_path_factory):
    """Nobody listening, an open folder, another copy of fglocal, a module changed: all run in full."""
    import shutil

    from fglocal import thin_client

    args = ["index.handler", "--event-json", '{"a": 1}', "--json", "--runtime", "python3.12"]
    base = os.path.dirname(server.folder)
    expected = _fglocal(args, thin_function, thin=True)
    assert expected[0] == 0 and expected[3]

    def check(env=None, launcher=None):
        code, out, err, served = _fglocal(args, thin_function, True, env=env, launcher=launcher)
        assert not served, err[-2000:]
        assert (code, _normalized(out)) == (0, _normalized(expected[1])), err[-2000:]

    # A server that was killed: its folder and socket are left, nobody listens.
    stale = tempfile.mkdtemp(prefix="runtime-server-stale-", dir=base)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
            dead.bind(os.path.join(stale, thin_client.SOCKET_NAME))
        check({runtime_server.ENV_VARIABLE: stale})
        # A folder others can enter, holding (a link to) the live socket: not this user's private folder.
        os.unlink(os.path.join(stale, thin_client.SOCKET_NAME))
        os.link(
            os.path.join(server.folder, thin_client.SOCKET_NAME), os.path.join(stale, thin_client.SOCKET_NAME)
        )
        os.chmod(stale, 0o755)
        check({runtime_server.ENV_VARIABLE: stale})
    finally:
        shutil.rmtree(stale)
    # Another copy of fglocal (another version or checkout) is refused by the supervisor.
    copy = tmp_path_factory.mktemp("other-fglocal")
    shutil.copytree(
        str(REPO / "fglocal"), str(copy / "fglocal"), ignore=shutil.ignore_patterns("__pycache__")
    )
    launcher = [
        sys.executable,
        "-c",
        "import sys; sys.path.insert(0, %r); from fglocal.cli import main; "
        "sys.argv[0] = 'fglocal'; main()" % str(copy),
    ]
    check(launcher=launcher)
    # A module of this fglocal changed on disk since the server imported it.
    render = str(REPO / "fglocal" / "render.py")
    info = os.stat(render)
    os.utime(render, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    try:
        check()
    finally:
        os.utime(render, ns=(info.st_atime_ns, info.st_mtime_ns))
    # Another start-up environment (PYTHON* shapes the interpreter): run in full.
    check({"PYTHONWARNINGS": "default"})
    assert _fglocal(args, thin_function, thin=True)[3]  # and the server still serves the rest


def _on_a_terminal(args, cwd, thin):
    """Run ``fglocal ARGS`` with stdout and stderr on a pseudo-terminal; (code, output, served)."""
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, FGLOCAL_THIN_CLIENT="1" if thin else "0", TERM="xterm")
    env.pop("NO_COLOR", None)
    env.pop("FGLOCAL_START_METHOD", None)
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "fglocal", *args],
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    code = proc.wait(timeout=120)
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    served = " fglocal.config\n" not in text and " fglocal.commands.options\n" not in text
    return code, _normalized(text), served


def test_the_thin_client_on_a_terminal_is_a_terminal_run(server, thin_function):
    """isatty (the colours of the human output) is the client's terminal's, as in a run in full."""
    args = ["index.handler", "--event-json", '{"a": 1}', "--runtime", "python3.12"]
    thin = _on_a_terminal(args, thin_function, True)
    full = _on_a_terminal(args, thin_function, False)
    assert thin[2] and not full[2]
    assert thin[:2] == full[:2]
    assert thin[0] == 0 and "\x1b[" in thin[1]  # coloured: the run saw a terminal
