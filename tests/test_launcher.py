"""The native launcher (fglocal/launcher): `fglocal invoke` as a C thin client of the runtime server.

Real server, real compiler, real runtimes. The launcher the server builds must give what the Python
fglocal gives with the server (stdout, stderr, exit code), run the command itself (not fall back) when
the Python client would, and fall back to the Python fglocal (identical output) whenever that one would
run the command in full. A recording peer on a private socket compares the bytes both clients send.

CI's machine (a fresh python image, /work/.library/env/machines/python.md) has gcc as `cc`: these
tests need it and fail, not skip, without it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from runtime_matrix import ALL_RUNTIMES
from runtime_support import process_alive, wait_ended, wait_gone
from test_runtime_server import THIN_FUNCTION, Server, _normalized, _runs, _zygote_children

from fglocal import runtime_server, thin_client
from fglocal.cli import PLUGIN_COMMANDS
from fglocal.launcher import CFLAGS, SOURCE, Build, c_string, compiler, fallback_command, header

SERVED = ("python2.7", "python3.12")  # every case; the other runtimes a few (the server serves all five)
OTHERS = tuple(r for r in ALL_RUNTIMES if r not in SERVED)
pytestmark = pytest.mark.skipif(
    not runtime_server.available(), reason="the runtime server needs Linux with pidfd and Python 3.9+"
)

LAUNCHER_FUNCTION = (
    THIN_FUNCTION
    + """

def environment(event, context):
    import os
    return {"count": len(os.environ), "big": len(os.environ.get("FG_BIG", "")), "event": event}


def sleeps(event, context):
    import os
    import time
    daemon = os.fork()  # a process of the instance's tree: it must end with the run
    if daemon == 0:
        time.sleep(300)
        os._exit(0)
    with open(event["marker"], "w") as handle:
        handle.write("%d %d\\n" % (os.getpid(), daemon))
    time.sleep(300)
"""
)


def _need_cc() -> None:
    if compiler()[0] is None:
        pytest.fail("these tests need a C compiler (cc or $CC): %s" % compiler()[1])


@pytest.fixture(scope="module")
def server():
    _need_cc()
    served = Server(tuple(ALL_RUNTIMES))
    try:
        assert served.launcher, "no FGLOCAL_LAUNCHER line: %s" % served.lines
        yield served
    finally:
        assert served.stop() == 0
    assert wait_gone([*served.zygotes.values(), served.supervisor]) == []
    assert not os.path.exists(served.folder)  # the launcher and its header went with it


@pytest.fixture(scope="module")
def probe(server, tmp_path_factory):
    """A launcher as the server builds it, but whose fallback is ``python -X importtime -m fglocal``.

    Its stderr tells how a command ran: no "import time:" line, the launcher ran it itself; with them,
    the Python fglocal ran (and without " fglocal.config", its own thin client had it run remotely).
    """
    return _build(tmp_path_factory.mktemp("probe"), thin_client.token())


def _build(folder: Path, token: bytes) -> str:
    fallback = ([sys.executable, "-X", "importtime", "-m", "fglocal"], fallback_command()[1])
    path, why = Build(str(folder), token=token, fallback=fallback, cache="").finish()  # not cached
    assert path is not None, why
    return path


@pytest.fixture
def function(tmp_path):
    (tmp_path / "index.py").write_text(LAUNCHER_FUNCTION, encoding="utf-8")
    (tmp_path / "fglocal.json").write_text(json.dumps({"functionName": "launched"}))
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "e.json").write_text('{"from": "file"}')
    return tmp_path


def _env(server_folder, **changes):
    env = dict(os.environ)
    env.pop("FGLOCAL_START_METHOD", None)
    env.pop("FGLOCAL_THIN_CLIENT", None)
    if server_folder is not None:
        env[runtime_server.ENV_VARIABLE] = server_folder
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(program, args, cwd, env, input=None, **options):
    """``PROGRAM ARGS`` (bytes or text arguments); (code, stdout, stderr) as text."""
    done = subprocess.run(
        [program, *args], cwd=str(cwd), env=env, input=input, capture_output=True, timeout=120, **options
    )
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def _python_fglocal() -> str:
    """The Python fglocal the launcher falls back to (its first word: the console script or python)."""
    return fallback_command()[0][0]


def _compare(server, probe, args, cwd, env=None, input=None, served=True):
    """Run ARGS with the server's launcher, the probe and the Python fglocal; all three must agree."""
    env = env or _env(server.folder)
    prefix = fallback_command()[0][1:]
    python = _run(_python_fglocal(), [*prefix, *args], cwd, env, input)
    launched = _run(server.launcher, args, cwd, env, input)
    probed = _run(probe, args, cwd, env, input)
    assert ("import time:" not in probed[2]) == served, probed[2][-3000:]
    without = [(code, _normalized(out), _normalized(err)) for code, out, err in (python, launched, probed)]
    assert without[1] == without[0]
    assert without[2] == without[0]
    return python


CASES = {
    "human": (["index.handler", "--event-json", '{"a": 1}'], 0),
    "json": (["invoke", "index.handler", "--event-json", '{"a": 1}', "--json", "--repeat", "2"], 0),
    "stdin event": (["index.handler", "--event", "-", "--json"], 0),
    "relative event file": (["index.text", "--event", "events/e.json"], 0),
    "handler error": (["index.boom"], 1),
    "handler error json": (["index.boom", "--json"], 1),
    "usage error": (["index.handler", "--bogus"], 2),
    "bad memory size": (["index.handler", "--memory-size", "7"], 2),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("runtime_name", SERVED)
def test_the_launcher_gives_what_the_python_fglocal_gives(server, probe, function, case, runtime_name):
    args, expected = CASES[case]
    stdin = b'{"from": "st\\u00fcdin"}\n' if "-" in args else None
    code, out, err = _compare(server, probe, [*args, "--runtime", runtime_name], function, input=stdin)
    assert code == expected, err
    if case == "stdin event":
        assert "\\u00fcdin" in out or "st\u00fcdin" in out  # the stdin event reached the handler
    if case == "usage error":
        assert "unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("case", ["human", "handler error json", "usage error"])
@pytest.mark.parametrize("runtime_name", OTHERS)
def test_the_launcher_on_the_other_runtimes(server, probe, function, case, runtime_name):
    args, expected = CASES[case]
    code, _, err = _compare(server, probe, [*args, "--runtime", runtime_name], function)
    assert code == expected, err


def test_the_server_builds_the_launcher_of_its_own_fglocal(server):
    """The header holds this fglocal's token, its commands and its fallback; the binary is private."""
    bin_folder = os.path.join(server.folder, "bin")
    with open(os.path.join(bin_folder, "launcher_config.h")) as handle:
        built = handle.read()
    assert built == header(thin_client.token(), *fallback_command(), PLUGIN_COMMANDS)
    assert server.launcher == os.path.join(bin_folder, "fglocal")
    assert os.stat(bin_folder).st_mode & 0o777 == 0o700
    assert os.access(server.launcher, os.X_OK)
    # No warning from this compiler, even pedantic ones (a warning would not turn the launcher off).
    command = compiler()[0]
    assert command is not None
    strict = [*command, *CFLAGS, "-Wpedantic", "-Wconversion", "-Wshadow", "-Werror", "-fsyntax-only"]
    done = subprocess.run([*strict, "-I", bin_folder, SOURCE], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    # Its line comes right after the folder's, before the "set ..." line the extension waits for.
    assert server.lines[1] == "FGLOCAL_LAUNCHER=%s\n" % server.launcher
    assert server.lines[-1].startswith("set ")


@pytest.mark.parametrize(
    "args",
    [["--help"], ["invoke", "--help"], ["index.handler", "-h"], ["--version"], ["event", "list"], ["python"]],
)
def test_other_commands_and_help_fall_back_with_identical_output(server, probe, function, args):
    code, out, _ = _compare(server, probe, args, function, served=False)
    assert out and code in (0, 2)


@pytest.mark.parametrize(
    "how", ["FGLOCAL_THIN_CLIENT=0", "no variable", "folder gone", "not private", "nobody listening"]
)
def test_no_usable_server_falls_back_with_identical_output(server, probe, function, how, tmp_path):
    args = ["index.handler", "--event-json", '{"a": 1}', "--json", "--runtime", "python3.12"]
    env = _env(server.folder)
    if how == "FGLOCAL_THIN_CLIENT=0":
        env["FGLOCAL_THIN_CLIENT"] = "0"
    elif how == "no variable":
        env.pop(runtime_server.ENV_VARIABLE)
    elif how == "folder gone":
        env[runtime_server.ENV_VARIABLE] = str(tmp_path / "gone")
    elif how == "nobody listening":  # a killed server's folder: its socket is left
        folder = tmp_path / "stale"
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
            dead.bind(str(folder / thin_client.SOCKET_NAME))
        env[runtime_server.ENV_VARIABLE] = str(folder)
    else:  # an open folder holding (a link to) the live socket: only the folder check keeps it out
        folder = tmp_path / "open"
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)
        os.link(os.path.join(server.folder, thin_client.SOCKET_NAME), folder / thin_client.SOCKET_NAME)
        env[runtime_server.ENV_VARIABLE] = str(folder)
    code, _, err = _compare(server, probe, args, function, env=env, served=False)
    assert code == 0, err


@pytest.mark.parametrize(
    "how", ["PYTHONCOERCECLOCALE=warn", "PYTHONUTF8=2", "UTF-8 mode differs", "long socket path"]
)
def test_what_python_would_start_otherwise_falls_back_with_identical_output(
    server, probe, function, how, tmp_path
):
    """Where a Python client would start otherwise (a coercion warning, an invalid PYTHONUTF8, another
    UTF-8 mode: another token) or cannot connect (a socket path longer than sun_path), the launcher
    runs the Python fglocal: the same output and exit code."""
    args = ["index.handler", "--event-json", '{"a": 1}', "--json", "--runtime", "python3.12"]
    env = _env(server.folder)
    if how == "PYTHONCOERCECLOCALE=warn":
        env = {k: v for k, v in env.items() if not k.startswith("LC_") and k not in ("LANG", "PYTHONUTF8")}
        env.update(LANG="C", PYTHONCOERCECLOCALE="warn")
    elif how == "PYTHONUTF8=2":
        env["PYTHONUTF8"] = "2"
    elif how == "UTF-8 mode differs":
        env["PYTHONUTF8"] = "0" if sys.flags.utf8_mode else "1"
    else:
        folder = tmp_path / ("s" * 120)
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)
        os.symlink(os.path.join(server.folder, thin_client.SOCKET_NAME), folder / thin_client.SOCKET_NAME)
        env[runtime_server.ENV_VARIABLE] = str(folder)
    prefix = fallback_command()[0][1:]
    python = _run(_python_fglocal(), [*prefix, *args], function, env)
    launched = _run(server.launcher, args, function, env)
    probed = _run(probe, args, function, env)
    without = [(code, _normalized(out), _normalized(err)) for code, out, err in (python, launched, probed)]
    assert without[1] == without[0]
    if how == "PYTHONUTF8=2":  # the interpreter refuses to start: the probe's says the same
        assert python[0] != 0 and "PYTHONUTF8" in python[2] and without[2] == without[0]
    else:
        assert python[0] == 0, python[2]
        assert "import time:" in probed[2] and without[2][:2] == without[0][:2]  # the probe fell back
    if how == "PYTHONCOERCECLOCALE=warn":
        assert "LC_CTYPE" in python[2]  # Python's coercion warning, printed by the fallback too


def test_a_refused_token_falls_back_with_identical_output(server, function, tmp_path):
    """A launcher of another fglocal (here: a wrong token) is refused ("NO"): the Python fglocal runs it."""
    wrong = _build(tmp_path, b'another fglocal "\\ ??= \xff\n')
    args = ["index.handler", "--event-json", '{"a": 1}', "--json", "--runtime", "python2.7"]
    env = _env(server.folder)
    python = _run(_python_fglocal(), [*fallback_command()[0][1:], *args], function, env)
    code, out, err = _run(wrong, args, function, env)
    assert "import time:" in err  # the fallback ran it
    assert (code, _normalized(out)) == (python[0], _normalized(python[1])) and code == 0


@pytest.mark.parametrize("redirect", ["<&-", ">&-", "2>&-"])
def test_a_closed_standard_descriptor_runs_in_full_as_without_the_server(server, probe, function, redirect):
    """fd 0, 1 or 2 closed: both clients run the command in full (their socket would take that number
    and be handed to the run as its stdin/stdout: a hang, or output lost), so the output and exit code
    are those of a run without the server."""
    args = ["index.handler", "--event", "-", "--json", "--runtime", "python3.12"]
    shell = ["sh", "-c", 'exec "$@" %s' % redirect, "sh"]
    python = [_python_fglocal(), *fallback_command()[0][1:]]
    alone = _run(shell[0], [*shell[1:], *python, *args], function, _env(None), b"{}")
    results = [
        _run(shell[0], [*shell[1:], *program, *args], function, _env(server.folder), b"{}")
        for program in (python, [server.launcher], [probe])
    ]
    normalized = [(code, _normalized(out), _normalized(err)) for code, out, err in [alone, *results]]
    assert normalized[1:3] == [normalized[0]] * 2
    # The probe fell back (its fallback reports its imports on stderr, mixed into a traceback's lines).
    assert results[2][0] == alone[0]
    assert "import time:" in results[2][2] or redirect == "2>&-"
    if redirect == "<&-":  # --event - without a stdin: an error, not a hang
        assert alone[0] != 0 and alone[2]
    elif redirect == ">&-":  # the output cannot be written: an error, not lost silently
        assert alone[0] != 0 and alone[2]
    else:  # the result is printed (whatever the instance makes of a closed stderr, as without the server)
        assert json.loads(alone[1])["requestId"]


def test_odd_bytes_in_argv_a_large_environment_and_a_long_cwd(server, probe, function):
    """Non-UTF-8 arguments, 2,000 variables and a 100 kB value, a cwd of ~3,000 characters: as Python."""
    deep = function
    for index in range(12):
        deep = deep / ("d%02d" % index + "x" * 240)
    deep.mkdir(parents=True)
    (deep / "e.json").write_text('{"deep": true}')
    env = _env(server.folder, FG_BIG="v" * 100_000)
    env.update({"FG_VAR_%d" % n: "value %d" % n for n in range(2000)})
    code, out, err = _compare(
        server,
        probe,
        ["index.environment", "--code-dir", str(function), "--event", "e.json", "--json"],
        deep,
        env,
    )
    assert code == 0, err
    body = json.loads(json.loads(out)["body"])
    assert body["big"] == 100_000 and body["count"] > 2000 and body["event"] == {"deep": True}
    odd = [b"index.handler", b"--event-json", b'{"a": "\xff\xfe"}', b"--runtime", b"python3.12"]
    code, out, err = _compare(server, probe, odd, function)
    assert code in (0, 1, 2)
    code, out, err = _compare(server, probe, [b"no\xffsuch.handler", b"--runtime", b"python2.7"], function)
    assert code == 2 and "udcffsuch.handler" in err  # the byte reached the command line as Python's


# ---------------------------------------------------------------------------------- signals


def _handler_started(marker, proc) -> list:
    """The pids the sleeping handler wrote to ``marker`` once it runs (the test fails if it never does)."""
    for _ in range(1200):
        if marker.exists() and marker.read_text().endswith("\n"):
            return [int(pid) for pid in marker.read_text().split()]
        threading.Event().wait(0.05)
    proc.kill()
    pytest.fail("the handler never started: %s" % (proc.communicate(timeout=30),))


def _start_sleeping(server, function, runtime_name, preexec=None, env=None):
    """The server's launcher running a handler that sleeps; (process, the instance's tree, the run's pids)."""
    marker = function / "started"
    event = ["--event-json", json.dumps({"marker": str(marker)})]
    runs_before = _runs(server.supervisor)
    proc = subprocess.Popen(
        [server.launcher, "index.sleeps", "--runtime", runtime_name, "--timeout", "300", *event],
        cwd=str(function),
        env=env or _env(server.folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
    )
    instance, daemon = _handler_started(marker, proc)  # the handler writes the marker once it runs
    assert instance in _zygote_children(server.zygotes[runtime_name])  # forked by the runtime's zygote
    runs = [p for p in _runs(server.supervisor) if p not in runs_before]
    assert len(runs) == 1  # the warm supervisor's child runs the command
    # The launcher itself waits for it (it did not fall back to the Python fglocal).
    assert os.readlink("/proc/%d/exe" % proc.pid) == server.launcher
    return proc, [instance, daemon], runs


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("runtime_name", SERVED)
def test_a_signal_to_the_launcher_ends_the_run_and_its_tree(server, function, signum, runtime_name):
    proc, tree, runs = _start_sleeping(server, function, runtime_name)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert wait_gone([*tree, *runs]) == []


def test_a_server_in_the_c_locale_serves_its_clients_there(function):
    """Server and clients in the C locale: Python coerced the server's LC_CTYPE and turned on its UTF-8
    mode (a flag in the token), and a Python client does the same; so must the warm supervisor (it
    refused them all) and the launcher (which then runs the command itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k not in ("LANG", "PYTHONUTF8")}
    env["LANG"] = "C"
    own = Server(("python3.12",), (), env)
    try:
        assert own.launcher
        args = ["-X", "importtime", "-m", "fglocal", "index.handler", "--runtime", "python3.12"]
        code, _, err = _run(sys.executable, args, function, _env(own.folder, **env))
        assert code == 0 and " fglocal.config\n" not in err, err  # the Python client was served
        proc, tree, runs = _start_sleeping(own, function, "python3.12", env=_env(own.folder, **env))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert wait_gone([*tree, *runs]) == []
    finally:
        assert own.stop() == 0


@pytest.mark.parametrize("flags", [("-O",), ("-B", "-s")])
def test_a_server_started_with_interpreter_flags_serves_its_launcher(function, flags):
    """`python -O -m fglocal runtime-server`: the warm supervisor runs without the server's flags, so
    its token is not the server's; the launcher carries the supervisor's and is served by it."""
    own = Server(("python3.12",), (), None, flags)
    try:
        assert own.launcher, own.lines
        proc, tree, runs = _start_sleeping(own, function, "python3.12")  # run by the supervisor's child
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert wait_gone([*tree, *runs]) == []
    finally:
        assert own.stop() == 0


@pytest.mark.parametrize("client", ["launcher", "python"])
def test_a_killed_run_of_an_instance_forked_on_fglocals_interpreter_ends_the_wait_and_the_tree(
    server, function, client
):
    """On fglocal's own interpreter the run forks the instance itself: the instance must not hold the
    client's connection (the client waited for the orphan's whole handler), and the warm supervisor
    (a subreaper) ends the tree a SIGKILLed run left."""
    marker = function / "started"
    event = ["--event-json", json.dumps({"marker": str(marker)})]
    args = ["index.sleeps", "--python", sys.executable, "--any-python", "--timeout", "300", *event]
    program = [server.launcher] if client == "launcher" else [_python_fglocal(), *fallback_command()[0][1:]]
    runs_before = _runs(server.supervisor)
    proc = subprocess.Popen(
        [*program, *args],
        cwd=str(function),
        env=_env(server.folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    instance, daemon = _handler_started(marker, proc)
    (run,) = [p for p in _runs(server.supervisor) if p not in runs_before]
    with open("/proc/%d/stat" % instance) as stat:
        assert int(stat.read().rsplit(")", 1)[1].split()[1]) == run  # forked by the run itself
    os.kill(run, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)  # ends now, not when the orphan's 300 s handler would
    assert proc.returncode == 1 and b"the runtime server ended during the run" in err, err
    assert wait_gone([instance, daemon, run]) == []


def test_a_server_started_through_another_name_of_its_interpreter_serves_the_console_script(function):
    """`venv/bin/python3 -m fglocal runtime-server` while the console script's #! is venv/bin/python: the
    clients are that script, so the supervisor runs on its interpreter (the token holds the path) and
    the launcher falls back to it (and sends its path as argv[0]); both clients are served."""
    script = fallback_command()[0][0]
    with open(script, "rb") as handle:
        shebang = os.fsdecode(handle.readline()[2:].strip())
    other = os.path.join(os.path.dirname(shebang), "python3")
    if not os.path.exists(other) or os.path.abspath(other) == os.path.abspath(shebang):
        pytest.fail("the venv has no second name for its python: %s" % other)
    own = Server(("python3.12",), python=other)
    try:
        assert own.launcher, own.lines
        with open(os.path.join(own.folder, "bin", "launcher_config.h")) as handle:
            built = handle.read()
        assert "fgl_argv0[] = %s;" % c_string(os.fsencode(script)) in built
        assert "fgl_fallback[] = {%s, NULL};" % c_string(os.fsencode(script)) in built
        with open("/proc/%d/cmdline" % own.supervisor, "rb") as handle:
            assert handle.read().split(b"\0")[0] == os.fsencode(shebang)
        proc, tree, runs = _start_sleeping(own, function, "python3.12")  # the launcher, served
        proc.send_signal(signal.SIGTERM)
        assert proc.communicate(timeout=60) and proc.returncode == 130
        assert wait_gone([*tree, *runs]) == []
        # The console script (a Python client) is served too: the run is the supervisor's child.
        marker = function / "started"
        marker.unlink()
        before = _runs(own.supervisor)
        event = json.dumps({"marker": str(marker)})
        client = subprocess.Popen(
            [script, "index.sleeps", "--runtime", "python3.12", "--timeout", "300", "--event-json", event],
            cwd=str(function),
            env=_env(own.folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        tree = _handler_started(marker, client)
        new_runs = [p for p in _runs(own.supervisor) if p not in before]
        client.send_signal(signal.SIGTERM)
        client.communicate(timeout=60)
        assert len(new_runs) == 1 and client.returncode == 130
        assert wait_gone([*tree, *new_runs]) == []
    finally:
        assert own.stop() == 0


def test_sigint_ignored_at_start_is_not_forwarded_and_sigkill_ends_the_run(server, function):
    """As the Python client: started with SIGINT ignored, Ctrl+C does not end it; a killed launcher ends its run."""
    ignore = lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)  # noqa: E731
    proc, tree, runs = _start_sleeping(server, function, "python3.12", ignore)
    proc.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=2)  # not a timing assertion: it must still run after any wait
    assert all(process_alive(pid) for pid in tree)
    proc.kill()
    proc.communicate(timeout=60)
    assert wait_gone([*tree, *runs]) == []


# ----------------------------------------------------------------- the bytes on the socket


class Peer:
    """A recording stand-in for the warm supervisor on a private socket: answers every connection ``reply``."""

    def __init__(self, folder: str, reply: bytes) -> None:
        self.folder = folder
        self.reply = reply
        self.requests: list = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(os.path.join(folder, thin_client.SOCKET_NAME))
        self.listener.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                pid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
                head, ancillary, _, _ = conn.recvmsg(4, socket.CMSG_SPACE(3 * 4))
                fds: list = []
                for _, _, data in ancillary:
                    fds += struct.unpack("%di" % (len(data) // 4), data[: len(data) // 4 * 4])
                files = [(os.fstat(fd).st_dev, os.fstat(fd).st_ino) for fd in fds]
                for fd in fds:
                    os.close(fd)
                size = struct.unpack(">I", head)[0]
                payload = b""
                while len(payload) < size:
                    chunk = conn.recv(size - len(payload))
                    if not chunk:
                        break
                    payload += chunk
                with open("/proc/%d/status" % pid) as handle:
                    ignored = [line for line in handle if line.startswith("SigIgn:")]
                self.requests.append((payload, files, ignored))
                try:
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


@pytest.fixture
def private_folder():
    folder = tempfile.mkdtemp(prefix="fglocal-launcher-test-")
    os.chmod(folder, 0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.fixture(scope="module")
def own_launcher(tmp_path_factory):
    """A launcher built here as the server builds its own (this fglocal's token, the default fallback)."""
    _need_cc()
    path, why = Build(str(tmp_path_factory.mktemp("own")), token=thin_client.token(), cache="").finish()
    assert path is not None, why
    return path


def _deep_cwd(base: str) -> list:
    """Folder names below ``base`` whose path is longer than PATH_MAX (4096): made one by one."""
    here = os.open(base, os.O_RDONLY)
    parts = []
    try:
        for index in range(20):
            name = "p%02d" % index + "y" * 250
            os.mkdir(name, dir_fd=here)
            below = os.open(name, os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = below
            parts.append(name)
    finally:
        os.close(here)
    return parts


def _enter(parts: list) -> None:
    for part in parts:  # one by one: a path this long is too long for one chdir
        os.chdir(part)


@pytest.mark.parametrize("refused", [False, True])
@pytest.mark.parametrize("locale", ["as is", "C locale"])
def test_the_launcher_sends_what_the_python_client_sends(private_folder, tmp_path, locale, refused):
    """The same payload (cwd past PATH_MAX, non-UTF-8 argv, a big environment), descriptors, ignored signals.

    In the C locale Python 3 sets LC_CTYPE=C.UTF-8 in its environment and turns on its UTF-8 mode (a
    flag in its token): the launcher, built for a server started so, must send the same. Refused, it
    runs the Python fglocal with the environment it got (not its LC_CTYPE): that one asks the same.
    """
    _need_cc()
    env = _env(private_folder, FG_BIG="w" * 120_000)
    env.update({"FG_VAR_%d" % n: "\xe9 %d" % n for n in range(1000)})
    if locale == "C locale":
        for key in ("LC_ALL", "LC_CTYPE", "PYTHONCOERCECLOCALE", "PYTHONUTF8"):
            env.pop(key, None)
        env["LANG"] = "C"
    client = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from fglocal import thin_client; "
            "sys.stdout.write(thin_client.token().hex() + ' %d' % sys.flags.utf8_mode)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert client[1] == ("1" if locale == "C locale" else str(sys.flags.utf8_mode))
    main = os.path.join(os.path.dirname(thin_client.__file__), "__main__.py")
    probe_fallback = ([sys.executable, "-X", "importtime", "-m", "fglocal"], main)
    launcher, why = Build(
        str(tmp_path / "built"), bytes.fromhex(client[0]), probe_fallback, int(client[1]), cache=""
    ).finish()
    assert launcher is not None, why
    peer = Peer(private_folder, b"NO test\n" if refused else b"OK\nX7\n")
    relative = _deep_cwd(str(tmp_path))
    args = [b"index.handler", b"--event-json", b'{"\xff": 1}', b"", b"--runtime", b"python3.12"]
    stdin = tmp_path / "stdin"
    stdin.write_text("")
    out, err = tmp_path / "out", tmp_path / "err"
    results = []
    try:
        for program in ([sys.executable, "-m", "fglocal"], [launcher]):
            with open(stdin, "rb") as inp, open(out, "ab") as output, open(err, "ab") as errors:
                results.append(
                    subprocess.run(
                        [*program, *args],
                        cwd=str(tmp_path),
                        env=env,
                        stdin=inp,
                        stdout=output,
                        stderr=errors,
                        preexec_fn=lambda: _enter(relative),
                        timeout=120,
                    ).returncode
                )
    finally:
        peer.close()
    if refused:  # run in full, both; the launcher's fallback asked again
        assert results[0] == results[1] and "import time:" in err.read_text()
        (python, files, ignored), launched, fallback = peer.requests
        assert fallback == launched
    else:
        assert results == [7, 7]
        assert err.read_text() == ""  # the launcher did not fall back (its fallback prints "import time:")
        (python, files, ignored), launched = peer.requests
    assert launched == (python, files, ignored)
    fields = python.split(b"\0")
    assert fields[0] == thin_client.PROTOCOL and fields[1] == bytes.fromhex(client[0])
    assert len(fields[2]) > 4096 and fields[2].endswith(os.fsencode("/".join(relative)))
    assert fields[4:11] == [b"7", os.fsencode(main), *args[:3], b"", b"--runtime"]
    assert b"FG_BIG=" + b"w" * 120_000 in fields
    assert files == [os.stat(p)[1:3][::-1] for p in (stdin, out, err)]
    assert ignored and int(ignored[0].split()[1], 16) & (1 << (signal.SIGPIPE - 1))  # as Python's
    if locale == "C locale":
        assert b"LC_CTYPE=C.UTF-8" in fields


@pytest.mark.parametrize(
    "reply, code, message",
    [
        (b"NO another fglocal or interpreter\n", None, None),
        (b"", None, None),  # closed at once
        (b"O", None, None),  # a short answer
        (b"OK\n", 1, "fglocal: error: the runtime server ended during the run\n"),
        (b"OK\nX300\n", 300 & 0xFF, ""),
        (b"OK\nX12", 1, "fglocal: error: the runtime server ended during the run\n"),  # no newline
    ],
)
def test_answers_before_and_after_ok_as_the_python_client(
    own_launcher, private_folder, function, reply, code, message
):
    """Before "OK" the launcher falls back (as the Python client runs it in full); after, the same ends."""
    peer = Peer(private_folder, reply)
    args = ["index.handler", "--event-json", '{"a": 1}', "--json", "--runtime", "python3.12"]
    env = _env(private_folder)
    try:
        python = _run(_python_fglocal(), [*fallback_command()[0][1:], *args], function, env)
        launched = _run(own_launcher, args, function, env)
    finally:
        peer.close()
    if code is None:  # run in full by the Python fglocal: identical output
        assert python[0] == 0, python[2]
        assert (launched[0], _normalized(launched[1])) == (python[0], _normalized(python[1]))
        # The launcher's fallback asks once more (FGLOCAL_THIN_CLIENT would reach the function's
        # environment if it were set to prevent that): two requests for it, one for Python.
        assert len(peer.requests) == 3
    else:
        assert launched == python == (code, "", message)
        assert len(peer.requests) == 2


# ------------------------------------------------------------------------ building it


def test_c_strings_keep_every_byte(tmp_path):
    """The header's escaping: quotes, backslashes, trigraphs, newlines, NUL, non-ASCII, a hex digit after an escape."""
    _need_cc()
    data = bytes(range(256)) + b'"\\??=??/\x00a\x01f?'
    (tmp_path / "t.c").write_text(
        "#include <stdio.h>\nstatic const char s[] = %s;\n"
        "int main(void) { fwrite(s, 1, sizeof s - 1, stdout); return 0; }\n" % c_string(data)
    )
    command = compiler()[0]
    assert command is not None
    subprocess.run(
        [*command, "-std=c99", "-Wall", "-o", str(tmp_path / "t"), str(tmp_path / "t.c")], check=True
    )
    assert subprocess.run([str(tmp_path / "t")], capture_output=True, check=True).stdout == data


@pytest.mark.parametrize("how", ["CC=/nonexistent", "no cc on PATH", "a compiler error", "--no-launcher"])
def test_without_a_launcher_the_server_still_serves(how, function, tmp_path):
    """No compiler, a failing one, or --no-launcher: one line says why, and everything else works."""
    env = dict(os.environ)
    options: tuple = ()
    if how == "CC=/nonexistent":
        env["CC"] = "/nonexistent"
        expected = "the C compiler CC=/nonexistent was not found"
    elif how == "no cc on PATH":
        env.pop("CC", None)
        python = os.path.realpath(sys.executable)
        shim = tmp_path / "bin"  # only the Pythons: fglocal finds the runtimes' through pyenv
        shim.mkdir()
        (shim / os.path.basename(python)).symlink_to(python)
        env["PATH"] = str(shim)
        expected = "no C compiler found (no cc on PATH, CC not set)"
    elif how == "a compiler error":
        env["CC"] = "cc -fno-such-option-for-the-test"
        expected = "the C compiler failed: "
    else:
        options = ("--no-launcher",)
        expected = "--no-launcher"
    own = Server(("python3.12",), options, env)
    try:
        assert own.launcher == ""
        assert not os.path.exists(os.path.join(own.folder, "bin", "fglocal"))
        code, out, err = _run(
            _python_fglocal(),
            [*fallback_command()[0][1:], "index.handler", "--runtime", "python3.12", "--json"],
            function,
            _env(own.folder),
        )
        assert code == 0, err
        assert json.loads(out)["python"]["version"].startswith("3.12")
    finally:
        assert own.stop() == 0
    assert own.proc.stderr is not None
    errors = own.proc.stderr.read()
    (line,) = [line for line in errors.splitlines() if "launcher" in line]
    assert line.startswith("fglocal runtime-server: the native launcher is off: " + expected), errors
    if how == "a compiler error":
        assert "no-such-option-for-the-test" in line


def test_a_cc_that_cannot_be_split_is_named(monkeypatch):
    monkeypatch.setenv("CC", "'cc -O2")
    command, why = compiler()
    assert command is None and why.startswith("CC='cc -O2 cannot be split into words: ")
    monkeypatch.setenv("CC", "  ")  # blank: as unset
    assert compiler() == ([shutil.which("cc")], "")


def test_a_reader_that_goes_away_is_no_error_as_in_python(server, function):
    """`fglocal ... | head -c 20`: the run gets the Python client's ignored SIGPIPE, so it exits 0 as in Python."""
    args = ["index.handler", "--json", "--repeat", "300", "--runtime", "python3.12"]
    codes = []
    for program in ([_python_fglocal(), *fallback_command()[0][1:]], [server.launcher]):
        proc = subprocess.Popen(
            [*program, *args],
            cwd=str(function),
            env=_env(server.folder),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(20).startswith(b'{"requestId"')
        proc.stdout.close()
        error = proc.stderr.read()
        codes.append((proc.wait(timeout=120), error))
    assert codes == [(0, b""), (0, b"")]


def test_a_built_launcher_is_reused_by_the_next_server(tmp_path, monkeypatch):
    """The same source, header and compiler command: the cached launcher, no compile; the least recently used go."""
    _need_cc()
    calls = tmp_path / "calls"
    counting = tmp_path / "counting-cc"
    counting.write_text('#!/bin/sh\necho x >> "%s"\nexec cc "$@"\n' % calls)
    counting.chmod(0o755)
    monkeypatch.setenv("CC", str(counting))
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)

    def build(name: str, token: bytes) -> Build:
        done = Build(str(tmp_path / name), token=token, cache=str(cache))
        assert done.finish()[0] == str(tmp_path / name / "bin" / "fglocal")
        return done

    first = build("one", b"token one")
    again = build("two", b"token one")
    assert not first.reused and again.reused and calls.read_text() == "x\n"
    assert (tmp_path / "one" / "bin" / "fglocal").read_bytes() == (
        tmp_path / "two" / "bin" / "fglocal"
    ).read_bytes()
    assert b"token one" in (tmp_path / "two" / "bin" / "fglocal").read_bytes()
    monkeypatch.setattr("fglocal.launcher.CACHED", 2)
    other = build("three", b"token two")  # another token: another launcher, compiled
    assert not other.reused and calls.read_text() == "x\nx\n"
    os.utime(str(first.cached), (1, 1))  # the least recently used
    last = build("four", b"token three")
    kept = sorted(os.path.basename(str(done.cached)) for done in (other, last))
    assert sorted(os.listdir(cache)) == kept


def test_an_empty_argv_runs_the_python_fglocal_without_a_memory_error(tmp_path):
    """argc 0 (an execve with no argv, which kernels before 5.18 allow): the fallback with no arguments,
    its argument vector within what was allocated (AddressSanitizer checks every write)."""
    _need_cc()
    command = compiler()[0]
    assert command is not None
    marker = tmp_path / "ran"
    fallback = ["/bin/sh", "-c", 'echo "$#" > "%s"' % marker, "sh"]
    (tmp_path / "launcher_config.h").write_text(
        header(thin_client.token(), fallback, "fglocal", PLUGIN_COMMANDS), encoding="ascii"
    )
    (tmp_path / "harness.c").write_text(
        "int launcher_main(int argc, char **argv);\n"
        "int main(void) { char *argv[] = {0}; return launcher_main(0, argv); }\n"
    )
    program = str(tmp_path / "harness")
    checked = ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-Dmain=launcher_main"]
    subprocess.run(
        [*command, *CFLAGS, *checked, "-I", str(tmp_path), "-c", "-o", program + ".o", SOURCE], check=True
    )
    subprocess.run(
        [*command, "-fsanitize=address", "-o", program, program + ".o", str(tmp_path / "harness.c")],
        check=True,
    )
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    done = subprocess.run([program], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "AddressSanitizer" not in done.stderr, done.stderr
    assert marker.read_text() == "0\n"  # the fallback ran, with no arguments


def test_a_stray_header_beside_the_installed_source_is_not_used(tmp_path, monkeypatch):
    """A launcher_config.h left beside launcher.c (in site-packages) would win `#include "..."`: the
    compiled file is a copy beside the generated header."""
    _need_cc()
    installed = tmp_path / "installed"
    installed.mkdir()
    shutil.copy(SOURCE, installed / "launcher.c")
    (installed / "launcher_config.h").write_text('#error "the stray header was used"\n')
    monkeypatch.setattr("fglocal.launcher.SOURCE", str(installed / "launcher.c"))
    path, why = Build(str(tmp_path / "server"), token=b"the given token", cache="").finish()
    assert path is not None, why
    assert b"the given token" in Path(path).read_bytes()


def test_a_cancelled_compile_ends_the_compilers_processes_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The server ends during the compile: the driver and what it started (cc1, as) end, and their
    temporary files are in the server's folder (removed with it), not in $TMPDIR."""
    started = tmp_path / "started"
    slow = tmp_path / "slow-cc"  # a driver that starts a "cc1" of its own, makes a temp file and waits
    slow.write_text(
        "#!/bin/sh\n"
        'tmp=$(mktemp "${TMPDIR:-/tmp}/ccXXXXXX.s")\n'
        "sleep 300 &\n"
        'echo "$$ $! $tmp" > "%s.tmp" && mv "%s.tmp" "%s"\n'
        "wait\n" % (started, started, started)
    )
    slow.chmod(0o755)
    monkeypatch.setenv("CC", str(slow))
    outside = tmp_path / "tmpdir"
    outside.mkdir()
    monkeypatch.setenv("TMPDIR", str(outside))
    build = Build(str(tmp_path / "server"), token=b"t", cache="")
    for _ in range(1200):
        if started.exists():
            break
        threading.Event().wait(0.05)
    driver, child, temporary = started.read_text().split()
    build.cancel()
    # The driver is this process's child (reaped by cancel); its child ends re-parented (to this
    # process once it is a subreaper: reaped here).
    assert wait_gone([int(driver)]) == [] and wait_ended([int(child)]) == []
    assert os.listdir(outside) == []
    assert os.path.dirname(temporary) == str(tmp_path / "server" / "bin")


def test_a_stale_part_file_in_the_cache_is_removed(tmp_path):
    """A server killed while it stored its launcher leaves <hash>.<pid>.part: the next store removes
    an old one (not one another server is writing now)."""
    _need_cc()
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    stale, fresh = cache / "a.1.part", cache / "b.2.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (1, 1))
    done = Build(str(tmp_path / "one"), token=b"token", cache=str(cache))
    assert done.finish()[0] is not None
    assert sorted(os.listdir(cache)) == sorted([os.path.basename(str(done.cached)), "b.2.part"])


EXEC_WITH_ENVIRON = """
import ctypes, os, sys
entries = [line.encode('utf-8', 'surrogateescape') for line in open(sys.argv[1], encoding='utf-8', errors='surrogateescape').read().split('\\n') if line]
argv = [os.fsencode(arg) for arg in sys.argv[2:]]
libc = ctypes.CDLL(None, use_errno=True)
array = lambda items: (ctypes.c_char_p * (len(items) + 1))(*items, None)
libc.execve(argv[0], array(argv), array(entries))
sys.exit('execve: %s' % os.strerror(ctypes.get_errno()))
"""


def test_a_large_environment_with_repeated_keys_is_sent_as_the_python_client_sends_it(
    private_folder, tmp_path
):
    """30,000 variables, a key given twice (the first one counts, as in os.environb) and an entry with
    no '=' (left out): the same payload as the Python client's, byte for byte."""
    _need_cc()
    env = _env(private_folder)
    entries = ["%s=%s" % item for item in env.items()]
    entries += ["FG_DUP=first", "FG_MANY_0=x", "NO_EQUALS_SIGN", "FG_DUP=second", "=empty key"]
    entries += ["FG_MANY_%d=value %d" % (n, n) for n in range(30_000)]
    entries += ["FG_DUP=third", "FG_MANY_29999=last"]
    environment = tmp_path / "environ"
    environment.write_text("\n".join(entries), encoding="utf-8")
    token = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from fglocal import thin_client; sys.stdout.write(thin_client.token().hex())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    main = os.path.join(os.path.dirname(thin_client.__file__), "__main__.py")  # the Python client's argv[0]
    fallback = ([sys.executable, "-m", "fglocal"], main)
    launcher, why = Build(str(tmp_path / "built"), bytes.fromhex(token), fallback, cache="").finish()
    assert launcher is not None, why
    peer = Peer(private_folder, b"OK\nX7\n")
    args = ["index.handler", "--runtime", "python3.12"]
    codes = []
    try:
        for program in ([sys.executable, "-m", "fglocal"], [launcher]):
            helper = [sys.executable, "-c", EXEC_WITH_ENVIRON, str(environment)]
            done = subprocess.run(
                [*helper, *program, *args], cwd=str(tmp_path), capture_output=True, timeout=300
            )
            codes.append((done.returncode, done.stderr))
    finally:
        peer.close()
    assert codes == [(7, b""), (7, b"")]
    (python, _, _), (launched, _, _) = peer.requests
    assert launched == python
    fields = python.split(b"\0")
    assert fields.count(b"FG_DUP=first") == 1 and not [f for f in fields if f.startswith(b"FG_DUP=s")]
    assert b"FG_MANY_29999=value 29999" in fields and b"NO_EQUALS_SIGN" not in fields


def test_the_console_script_of_a_user_install_is_found(tmp_path, monkeypatch):
    """`pip install --user`: the script is in the user scheme's scripts folder (~/.local/bin), not beside
    the interpreter; its #! must run this interpreter, else it is not fglocal's."""
    import sysconfig

    from fglocal.launcher import console_script

    interpreter = tmp_path / "bin" / "python"
    interpreter.parent.mkdir()
    interpreter.symlink_to(os.path.realpath(sys.executable))
    user_bin, other_bin = tmp_path / "local-bin", tmp_path / "scheme-bin"
    user_bin.mkdir()
    other_bin.mkdir()
    monkeypatch.setattr(sys, "executable", str(interpreter))
    real_get_path = sysconfig.get_path
    monkeypatch.setattr(
        sysconfig,
        "get_path",
        lambda name, scheme=None, *a, **k: (
            str(user_bin if scheme and scheme.endswith("_user") else other_bin)
            if name == "scripts"
            else real_get_path(name, scheme, *a, **k)
        ),
    )
    script = user_bin / "fglocal"
    script.write_text("#!/nonexistent/python\nfrom fglocal.cli import main\n")
    script.chmod(0o755)
    assert console_script() is None  # another interpreter's script
    script.write_text("#!%s\nfrom fglocal.cli import main\n" % interpreter)
    assert console_script() == (str(script), str(interpreter))
    assert fallback_command() == ([str(script)], str(script))
