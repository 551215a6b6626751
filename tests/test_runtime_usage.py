"""Bad input to `fglocal invoke` is a usage error (exit 2, one message naming what to fix), never a traceback."""

import json
import os
import stat

import pytest
from runtime_support import function_dir, invoke_json, run_cli

from fglocal.config import load_config
from fglocal.instance import Instance

HOSTILE = str(function_dir("hostile"))
DEEP = "[" * 100000 + "]" * 100000


def usage_error(proc, *parts):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("fglocal: error: "), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for part in parts:
        assert part in proc.stderr, proc.stderr
    assert proc.stdout == ""  # nothing ran


def invoke(*args, **kwargs):
    return run_cli("invoke", "index.dispatch", "--code-dir", HOSTILE, *args, **kwargs)


def test_a_deeply_nested_event_inline(tmp_path):
    deep = "[" * 60000 + "]" * 60000  # a command-line argument is at most 128 KB
    usage_error(invoke("--event-json", deep), "--event-json is nested too deeply")


def test_a_deeply_nested_event_file(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    usage_error(invoke("--event", str(path)), f"event file {path} is nested too deeply")


def test_a_deeply_nested_event_on_stdin():
    usage_error(invoke("-", input=DEEP), "stdin is nested too deeply")


def test_a_deeply_nested_event_through_the_api():
    # The Python API builds events itself: too deep to encode is an error result, not an exception.
    event: list = []
    for _ in range(100000):
        event = [event]
    with Instance(load_config(HOSTILE).with_overrides(handler="index.dispatch")) as instance:
        result = instance.invoke(event)
        assert result.error["errorType"] == "InvalidEvent"
        assert "nested too deeply" in result.error["errorMessage"]
        assert instance.invoke({"call": "echo"}).ok


def test_an_event_deep_enough_to_pass_the_cli_but_not_the_instance():
    # 950 levels: the CLI decodes it; whatever the instance's own decoder says, the answer is clear.
    depth = 950
    results, proc = invoke_json(
        "index.handler", "--code-dir", HOSTILE, "--event-json", "[" * depth + "]" * depth
    )
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 1:
        assert results[0]["error"]["errorType"] == "InvalidEvent"


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: os.mkfifo(p), "is not a regular file (a FIFO"),
        (lambda p: p.mkdir(), "is a folder, not a JSON file"),
        (
            lambda p: p.write_bytes(b'{"name": "caf\xe9"}'),
            "is not UTF-8 text (line 1: byte 0xe9 at offset 13)",
        ),
        (lambda p: p.write_text("{not json"), "is not valid JSON"),
        (lambda p: p.write_text(""), "is not valid JSON"),
        (lambda p: os.truncate(str(p), 0) if p.exists() else _huge(p), "bytes; an event is at most 6 MB"),
    ],
    ids=["fifo", "folder", "not-utf8", "not-json", "empty", "huge"],
)
def test_bad_event_files_are_named(tmp_path, make, expected):
    path = tmp_path / "event.json"
    make(path)
    usage_error(invoke("--event", str(path), timeout=60), f"event file {path}", expected)


def _huge(path):
    with open(path, "wb") as out:  # sparse: 65 MB without writing them
        out.truncate(65 * 1024 * 1024)


def test_a_device_as_the_event_file():
    usage_error(invoke("--event", "/dev/zero", timeout=60), "event file /dev/zero is not a regular file")


def test_a_missing_event_file():
    usage_error(
        invoke("--event", "/nonexistent/event.json"), "cannot read event file /nonexistent/event.json"
    )


def test_a_byte_order_mark_is_not_part_of_the_event(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"call": "echo"}')
    results, proc = invoke_json("index.dispatch", "--code-dir", HOSTILE, "--event", str(path))
    assert proc.returncode == 0, proc.stderr
    assert results[0]["error"] is None


def test_log_dir_naming_a_file(tmp_path):
    path = tmp_path / "logs.txt"
    path.write_text("")
    usage_error(invoke("--log-dir", str(path)), f"the log folder {path} is a file, not a folder")


def test_log_dir_under_a_file(tmp_path):
    path = tmp_path / "logs.txt"
    path.write_text("")
    usage_error(invoke("--log-dir", str(path / "sub")), f"cannot create the log folder {path / 'sub'}")


def test_log_dir_that_cannot_be_written():
    # /proc refuses new folders even to root (the tests may run as root, who may write anywhere else).
    usage_error(invoke("--log-dir", "/proc/fglocal-logs"), "cannot create the log folder /proc/fglocal-logs")


def test_result_file_naming_a_folder(tmp_path):
    usage_error(invoke("--result-file", str(tmp_path)), f"--result-file {tmp_path} is a folder")


@pytest.mark.parametrize("path", ["/nonexistent/results.jsonl", "/proc/results.jsonl"])
def test_result_file_that_cannot_be_written(path):
    usage_error(invoke("--result-file", path), f"cannot write --result-file {path}")


# -- the text output ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env",
    [{}, {"PYTHONIOENCODING": "ascii"}, {"PYTHONIOENCODING": "latin-1"}, {"LANG": "C", "LC_ALL": "C"}],
    ids=["utf8", "ascii", "latin1", "lang-c"],
)
@pytest.mark.parametrize("as_json", [False, True], ids=["str", "json"])
def test_text_output_escapes_what_it_cannot_print(env, as_json):
    proc = invoke("--event-json", json.dumps({"call": "weird_text", "json": as_json}), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.startswith("== Function return")
    assert "\\ud800" in proc.stdout  # the lone surrogate, escaped
    assert "log: " in proc.stdout and "logger: " in proc.stdout  # the logs are shown, not lost
    if env.get("PYTHONIOENCODING") in ("ascii", "latin-1"):
        assert "\\u62a5\\u544a" in proc.stdout  # 报告, escaped for a terminal that cannot show it
    elif not env:
        assert "报告" in proc.stdout


def test_json_output_carries_everything_escaped():
    results, proc = invoke_json(
        "index.dispatch",
        "--code-dir",
        HOSTILE,
        "--event-json",
        '{"call": "weird_text"}',
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert proc.returncode == 0, proc.stderr
    assert results[0]["body"] == "return: 报告 \ud800 \U0001f600"


def test_usage_errors_are_printed_on_an_ascii_terminal(tmp_path):
    path = tmp_path / "事件.json"
    path.write_text("{not json")
    proc = invoke("--event", str(path), env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "\\u4e8b\\u4ef6.json" in proc.stderr


# -- the private log folder (issue 9, part 2) ------------------------------------------------------------


def _tmp_env(tmp_path):
    return {"TMPDIR": str(tmp_path), "TEMP": "", "TMP": ""}


def _base(tmp_path):
    return tmp_path / ("fglocal-%d" % os.getuid())


def test_the_log_folder_is_created_private(tmp_path):
    results, proc = invoke_json("index.dispatch", "--code-dir", HOSTILE, env=_tmp_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.lstat(_base(tmp_path)).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(_base(tmp_path) / "logs").st_mode) == 0o700
    log = results[0]["logFile"]
    assert log.startswith(str(_base(tmp_path)))
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_an_own_log_folder_readable_by_others_is_made_private(tmp_path):
    _base(tmp_path).mkdir(mode=0o755)
    os.chmod(_base(tmp_path), 0o755)
    _, proc = invoke_json("index.dispatch", "--code-dir", HOSTILE, env=_tmp_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.lstat(_base(tmp_path)).st_mode) == 0o700


def test_a_log_folder_writable_by_others_is_refused(tmp_path):
    _base(tmp_path).mkdir()
    os.chmod(_base(tmp_path), 0o777)
    proc = invoke(env=_tmp_env(tmp_path))
    usage_error(
        proc, f"fglocal's log folder {_base(tmp_path)} is writable by other users (mode 777)", "remove it"
    )


def test_a_log_folder_that_is_a_symlink_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    _base(tmp_path).symlink_to(target)
    usage_error(invoke(env=_tmp_env(tmp_path)), f"fglocal's log folder {_base(tmp_path)} is a symbolic link")
    assert list(target.iterdir()) == []  # nothing was written through it


@pytest.mark.skipif(os.getuid() != 0, reason="making a folder another user owns needs root")
def test_a_log_folder_of_another_user_is_refused(tmp_path):
    _base(tmp_path).mkdir(mode=0o700)
    os.chown(_base(tmp_path), 12345, 12345)
    usage_error(invoke(env=_tmp_env(tmp_path)), "belongs to another user (uid 12345)")


def test_serve_refuses_the_same_log_folder(tmp_path):
    _base(tmp_path).mkdir()
    os.chmod(_base(tmp_path), 0o777)
    proc = run_cli(
        "serve", "index.dispatch", "--code-dir", HOSTILE, "--port", "0", env=_tmp_env(tmp_path), timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "is writable by other users" in proc.stderr


def test_an_event_through_an_open_descriptor_is_read(tmp_path):
    # `--event /dev/stdin` and bash's `--event <(...)` name pipes that already have their writer.
    results, proc = invoke_json(
        "index.dispatch", "--code-dir", HOSTILE, "--event", "/dev/stdin", input='{"call": "echo"}'
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(results[0]["body"])["n"] == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_result_file_that_fills_up():
    usage_error_after_run = invoke("--event-json", '{"call": "echo"}', "--result-file", "/dev/full")
    assert usage_error_after_run.returncode == 2
    assert "cannot write --result-file /dev/full: No space left on device" in usage_error_after_run.stderr
    assert "Traceback" not in usage_error_after_run.stderr


def test_a_log_planted_as_a_symlink_is_not_followed(tmp_path):
    from fglocal.instance import LogDirError

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    logs = tmp_path / "shared-logs"
    logs.mkdir()
    (logs / "planted.log").symlink_to(victim)
    config = load_config(HOSTILE).with_overrides(handler="index.dispatch")
    with Instance(config, log_dir=str(logs)) as instance:
        with pytest.raises(LogDirError, match=r"cannot write the log .*planted\.log"):
            instance.invoke({"call": "echo"}, request_id="planted")
        assert instance.invoke({"call": "echo"}).ok  # other invocations are unaffected
    assert victim.read_text() == "precious\n"
