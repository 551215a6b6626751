"""The function config file, command-line overrides, event input and exit codes."""

import json
import subprocess
import sys

import pytest
from runtime_support import REPO, function_dir, invoke_json, run_cli

from fglocal.config import ConfigError, load_config

BASIC = str(function_dir("basic"))
SRC = str(function_dir("src_layout"))


def test_config_file_code_uri_env_file_and_names():
    results, proc = invoke_json("--code-dir", SRC)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(results[0]["body"])
    assert body["user"] == {"FROM_FILE": "1", "QUOTED": "two words", "inline": "yes"}  # inline beats file
    assert (body["name"], body["version"], body["alias"], body["app"], body["project"]) == (
        "srcfn",
        "v2",
        "prod",
        "shop",
        "proj-123",
    )
    assert (body["memory"], body["timeout"]) == (256, 5)
    assert body["envFromFile"] == "1"
    assert results[0]["summary"]["memorySizeMB"] == 256


def test_flags_override_the_config_file():
    results, _ = invoke_json("--code-dir", SRC, "--memory", "1024", "--user-data", "inline=flag")
    body = json.loads(results[0]["body"])
    assert body["memory"] == 1024
    assert body["user"]["inline"] == "flag"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"memorySize": 100}, "memorySize"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "3"}, "timeout"),
        ({"handler": "index"}, "handler"),
        ({"runtime": "python3.7"}, "runtime"),
        ({"userData": {"a": 1}}, "userData"),
        ({"hanlder": "index.handler"}, "hanlder"),
        ({"codeUri": "nowhere"}, "codeUri"),
        ({"initializerTimeout": 301}, "initializerTimeout"),
    ],
)
def test_invalid_config_names_the_field(tmp_path, content, field):
    (tmp_path / "fglocal.json").write_text(json.dumps(content))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.field == field
    proc = run_cli("invoke", "--code-dir", str(tmp_path))
    assert proc.returncode == 2
    assert f"invalid '{field}'" in proc.stderr


def test_config_that_is_not_json(tmp_path):
    (tmp_path / "fglocal.json").write_text("{handler: index.handler}")
    proc = run_cli("invoke", "--code-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "is not valid JSON" in proc.stderr


def test_malformed_event_is_a_usage_error_that_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,}')
    proc = run_cli("invoke", "index.echo", "--code-dir", BASIC, "--event", str(bad))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "not valid JSON" in proc.stderr
    assert bad.read_text() == '{"a": 1,}'  # nothing lost


def test_missing_event_file(tmp_path):
    proc = run_cli("invoke", "index.echo", "--code-dir", BASIC, "--event", str(tmp_path / "none.json"))
    assert proc.returncode == 2
    assert "cannot read event file" in proc.stderr


def test_event_from_stdin():
    results, _proc = invoke_json("index.echo", "-", "--code-dir", BASIC, input='{"from": "stdin"}')
    assert json.loads(results[0]["body"]) == {"from": "stdin"}


def test_default_entry_and_empty_event():
    results, _proc = invoke_json("--code-dir", BASIC)
    assert results[0]["body"] == "default entry"


def test_result_file_side_channel(tmp_path):
    side = tmp_path / "results.jsonl"
    proc = run_cli("invoke", "index.count", "--code-dir", BASIC, "--repeat", "2", "--result-file", str(side))
    assert proc.returncode == 0
    lines = [json.loads(line) for line in side.read_text().splitlines()]
    assert [r["body"] for r in lines] == ["1", "2"]


def test_usage_errors_exit_2():
    assert run_cli("invoke", "a.b", "c.d", "--code-dir", BASIC).returncode == 2
    assert run_cli("invoke", "--repeat", "0", "--code-dir", BASIC).returncode == 2
    assert run_cli("invoke", "--user-data", "novalue", "--code-dir", BASIC).returncode == 2
    assert run_cli("invoke", "--bogus-flag").returncode == 2


def test_console_script_and_bare_entry_form():
    fglocal = [
        sys.executable,
        "-c",
        "import sys; from fglocal.cli import main; sys.argv[0]='fglocal'; main()",
    ]
    proc = subprocess.run(
        [*fglocal, "index.return_str", "--code-dir", BASIC, "--json"],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        timeout=60,
    )
    assert json.loads(proc.stdout)["body"] == "plain text"


def test_interrupt_leaves_no_instance_behind(tmp_path):
    import os
    import signal

    from runtime_support import process_alive, start_sleeping_handler

    proc = start_sleeping_handler(BASIC, tmp_path / "m", timeout=60, seconds=50)
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _parent_of(int(p)) == proc.pid]
    assert children
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    for pid in children:
        assert not process_alive(pid)


def _parent_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return int(stat.read().split(")")[-1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
