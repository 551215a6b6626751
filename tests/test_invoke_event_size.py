"""The 6 MB synchronous request limit of `fglocal invoke`, measured as the platform does (UTF-8 JSON bytes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_support import function_dir, invoke_json, run_cli

from fglocal.config import load_config
from fglocal.instance import EventTooLarge, Instance, event_size
from fglocal.result import MAX_BODY_BYTES

BASIC = str(function_dir("basic"))
CHINESE = "中文报告" * 300_000  # 1.2 M characters: 3.6 MB as UTF-8, 7.2 MB as \\u-escaped JSON


def test_event_size_counts_utf8_bytes_not_escapes():
    assert event_size({"t": "é"}) == len('{"t": "é"}'.encode())
    assert event_size({"t": CHINESE}) == len(CHINESE.encode()) + len('{"t": ""}')
    assert len(json.dumps({"t": CHINESE})) > MAX_BODY_BYTES  # what used to be counted


def test_a_3_6_mb_chinese_event_runs(tmp_path: Path):
    event = tmp_path / "big.json"
    event.write_text(json.dumps({"t": CHINESE}, ensure_ascii=False), encoding="utf-8")
    results, proc = invoke_json("index.echo", "--code-dir", BASIC, "--event", str(event))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(results[0]["body"]) == {"t": CHINESE}


@pytest.mark.parametrize("stdin", [False, True])
def test_an_oversize_event_is_a_usage_error_and_nothing_runs(tmp_path: Path, stdin: bool):
    text = json.dumps({"t": "报" * 2_200_000}, ensure_ascii=False)  # 6.6 MB as UTF-8
    size = len(text.encode())
    if stdin:
        proc = run_cli("invoke", "index.echo", "-", "--code-dir", BASIC, input=text)
    else:
        (tmp_path / "big.json").write_text(text, encoding="utf-8")
        proc = run_cli("invoke", "index.echo", "--code-dir", BASIC, "--event", str(tmp_path / "big.json"))
    assert proc.returncode == 2
    assert f"{size:,} bytes" in proc.stderr and f"({MAX_BODY_BYTES:,} bytes) limit" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_instance_refuses_an_oversize_event_before_it_runs():
    config = load_config(BASIC).with_overrides(handler="index.return_none")
    with Instance(config) as instance:
        with pytest.raises(EventTooLarge) as raised:
            instance.invoke({"t": "x" * MAX_BODY_BYTES})
        assert raised.value.size == MAX_BODY_BYTES + len('{"t": ""}')
        assert instance.pid == 0 and instance.invocations == 0  # no instance started, nothing counted
        # A caller that measured the request itself (serve) lifts the check.
        result = instance.invoke({"t": "x" * MAX_BODY_BYTES}, max_event_bytes=None)
        assert result.ok and instance.invocations == 1
