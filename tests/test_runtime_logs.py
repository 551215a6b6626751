"""Logs: every kind of output of one invocation, in order, nothing lost; the 4 KB display."""

import os
import time

from runtime_support import function_dir, invoke_json

BASIC = str(function_dir("basic"))


def test_all_output_is_captured_in_order():
    results, proc = invoke_json("index.chatty", "--code-dir", BASIC)
    assert proc.returncode == 0
    logs = results[0]["logs"]
    expected = [
        "line one from print",
        "line two from stderr",
        "INFO line three from logger 3",
        "line four from fd 1",
        "line five from a child process",
        "WARN {'dict': 'message'}",
        "ERROR bad format %d not-a-number",
    ]
    positions = [logs.find(text) for text in expected]
    assert -1 not in positions, logs
    assert positions == sorted(positions)
    request_id = results[0]["requestId"]
    assert f" {request_id} INFO line three" in logs
    assert logs.splitlines()[0].endswith(f"Start invoke request '{request_id}', version: latest")
    assert f"Finish invoke request '{request_id}'" in logs.splitlines()[-1]
    assert not results[0]["logsTruncated"]
    assert proc.stdout.count("\n") == 1  # the handler's output went to the log, not our stdout


def test_megabytes_of_output_lose_nothing_and_display_is_cut_at_4_kb():
    results, proc = invoke_json("index.flood", "--code-dir", BASIC, "--timeout", "60")
    assert proc.returncode == 0
    result = results[0]
    assert result["logsTruncated"] is True
    assert len(result["logs"].encode()) <= 4096
    assert "THE END" in result["logs"]
    with open(result["logFile"]) as log:
        lines = [line for line in log if line.startswith("flood line")]
    assert len(lines) == 200000
    assert lines[0].startswith("flood line 000000") and lines[-1].startswith("flood line 199999")
    assert os.path.getsize(result["logFile"]) > 9_000_000


def test_each_invocation_has_its_own_log():
    results, _ = invoke_json("index.chatty", "--code-dir", BASIC, "--repeat", "2")
    first, second = results
    assert first["logFile"] != second["logFile"]
    assert second["requestId"] in second["logs"]
    assert first["requestId"] not in second["logs"]


def test_human_display_says_when_it_cut(tmp_path):
    from runtime_support import run_cli

    proc = run_cli(
        "invoke", "index.flood", "--code-dir", BASIC, "--timeout", "60", "--event-json", '{"lines": 500}'
    )
    assert proc.returncode == 0
    out = proc.stdout
    assert "== Function return" in out and "== Execution summary ==" in out and "== Logs ==" in out
    assert "the console shows at most 4 KB" in out
    assert "Billed Duration" in out and "Memory Configured   128 MB" in out
    assert "\033[" not in out  # no colour when not on a terminal


def test_old_logs_are_pruned_and_the_running_invocation_keeps_its_log(tmp_path):
    from fglocal.config import load_config
    from fglocal.instance import LOG_FILES_KEPT, Instance, _prune_logs

    old = time.time() - 3600
    for i in range(LOG_FILES_KEPT + 20):
        path = tmp_path / ("old-%03d.log" % i)
        path.write_text("x")
        os.utime(path, (old + i, old + i))
    _prune_logs(str(tmp_path), 50)  # every 50th invocation prunes
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == LOG_FILES_KEPT
    assert "old-000.log" not in names and "old-%03d.log" % (LOG_FILES_KEPT + 19) in names
    # An invocation whose log file is removed while it runs still shows its whole log.
    config = load_config(BASIC).with_overrides(handler="index.chatty")
    with Instance(config, log_dir=str(tmp_path)) as instance:
        original = instance._finish

        def prune_everything_first(*args, **kwargs):
            for path in tmp_path.glob("*.log"):
                path.unlink()
            return original(*args, **kwargs)

        instance._finish = prune_everything_first
        result = instance.invoke({})
    assert result.ok
    assert "line one from print" in result.logs and "Finish invoke request" in result.logs
