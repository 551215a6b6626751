"""`fglocal event list|new`: trigger templates, their shapes, encoding of plain input, file handling."""

from __future__ import annotations

import argparse
import base64
import json
from pathlib import Path
from typing import Any, List

import pytest

from fglocal import event_templates as et
from fglocal.commands import event as event_command

FIXTURES = Path(__file__).parent / "fixtures" / "triggers"


def run_cli(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="fglocal")
    event_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.run(args)


def test_every_template_file_is_listed_and_loads():
    files = sorted(p.stem for p in et.TEMPLATE_DIR.glob("*.json"))
    assert files == sorted(et.template_names())
    for name in et.template_names():
        assert isinstance(et.load_template(name), dict)


def test_list_prints_each_template(capsys):
    assert run_cli(["event", "list"]) == 0
    out = capsys.readouterr().out
    for name in et.template_names():
        assert any(line.split()[0] == name for line in out.splitlines())
    assert run_cli(["event", "list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in items] == et.template_names()


def test_apig_templates_have_the_documented_fields():
    keys = {
        "body",
        "requestContext",
        "queryStringParameters",
        "httpMethod",
        "pathParameters",
        "headers",
        "path",
        "isBase64Encoded",
    }
    plain = et.load_template("apig")
    encoded = et.load_template("apig-base64")
    assert set(plain) == keys == set(encoded)
    assert set(plain["requestContext"]) == {"apiId", "requestId", "stage"}
    assert plain["isBase64Encoded"] is False and encoded["isBase64Encoded"] is True
    assert base64.b64decode(encoded["body"]).decode() == plain["body"]
    assert all(k == k.lower() for k in plain["headers"])


def test_lts_data_decodes_to_logs_owner_and_ids():
    data = et.decode_lts_data(et.load_template("lts")["lts"]["data"])
    assert list(data) == ["logs", "owner", "log_group_id", "log_topic_id"]
    logs = json.loads(data["logs"])
    assert {"message", "time", "host_name", "ip", "path", "log_uid", "line_no"} <= set(logs[0])


def test_new_apig_base64_encodes_the_plain_body(tmp_path: Path):
    assert run_cli(["event", "new", "apig-base64", "--code-dir", str(tmp_path), "--body", "héllo wörld"]) == 0
    event = json.loads((tmp_path / "events" / "apig-base64.json").read_text(encoding="utf-8"))
    assert base64.b64decode(event["body"]).decode("utf-8") == "héllo wörld"
    assert event["isBase64Encoded"] is True
    assert event["headers"]["content-type"] == "text/plain; charset=utf-8"


def test_new_apig_binary_body_file(tmp_path: Path):
    blob = bytes(range(256))
    (tmp_path / "blob.bin").write_bytes(blob)
    out = tmp_path / "custom.json"
    argv = ["event", "new", "apig-base64", "--body-file", str(tmp_path / "blob.bin"), "--out", str(out)]
    argv += ["--method", "put", "--path", "items/7", "--query", "v=2", "--header", "X-Trace=abc"]
    assert run_cli(argv) == 0
    event = json.loads(out.read_text())
    assert base64.b64decode(event["body"]) == blob
    assert event["httpMethod"] == "PUT"
    assert event["path"] == "/items/7"
    assert event["queryStringParameters"] == {"v": "2"}
    assert event["headers"]["x-trace"] == "abc"
    assert event["headers"]["content-type"] == "application/octet-stream"


def test_plain_apig_refuses_binary_body(tmp_path: Path, capsys):
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00")
    code = run_cli(
        ["event", "new", "apig", "--code-dir", str(tmp_path), "--body-file", str(tmp_path / "blob.bin")]
    )
    assert code == 2
    assert "apig-base64" in capsys.readouterr().err
    assert not (tmp_path / "events").exists()


def test_new_lts_encodes_messages(tmp_path: Path):
    argv = ["event", "new", "lts", "--code-dir", str(tmp_path), "--message", "first", "--message", "二"]
    assert run_cli(argv) == 0
    event = json.loads((tmp_path / "events" / "lts.json").read_text(encoding="utf-8"))
    logs = json.loads(et.decode_lts_data(event["lts"]["data"])["logs"])
    assert [entry["message"] for entry in logs] == ["first", "二"]
    assert [entry["line_no"] for entry in logs] == [1, 2]


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("timer", lambda e: e["user_event"]),
        ("smn", lambda e: e["record"][0]["smn"]["message"]),
        ("dms-kafka", lambda e: e["records"][0]["messages"][0]),
        ("kafka", lambda e: e["records"][0]["messages"][0]),
        ("dms-rocketmq", lambda e: e["records"][0]["messages"][0]),
    ],
)
def test_message_goes_where_the_trigger_carries_it(name: str, read: Any):
    assert read(et.build_event(name, messages=["payload 1"])) == "payload 1"


def test_new_obs_bucket_and_key():
    event = et.build_event("obs", bucket="media", key="a/b.png")
    s3 = event["Records"][0]["s3"]
    assert s3["bucket"]["name"] == "media" and s3["object"]["key"] == "a/b.png"
    assert s3["bucket"]["arn"].endswith(":::media")


def test_option_that_does_not_apply_is_refused(tmp_path: Path, capsys):
    assert run_cli(["event", "new", "cts", "--code-dir", str(tmp_path), "--body", "x"]) == 2
    assert "--body" in capsys.readouterr().err
    assert (
        run_cli(["event", "new", "timer", "--code-dir", str(tmp_path), "--message", "a", "--message", "b"])
        == 2
    )
    assert run_cli(["event", "new", "apig", "--code-dir", str(tmp_path), "--query", "novalue"]) == 2
    assert run_cli(["event", "new", "nosuch", "--code-dir", str(tmp_path)]) == 2
    assert not (tmp_path / "events").exists()


def test_refuses_to_overwrite_without_force(tmp_path: Path, capsys):
    target = tmp_path / "events" / "timer.json"
    target.parent.mkdir()
    target.write_text("precious")
    assert run_cli(["event", "new", "timer", "--code-dir", str(tmp_path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert target.read_text() == "precious"
    assert run_cli(["event", "new", "timer", "--code-dir", str(tmp_path), "--force"]) == 0
    assert json.loads(target.read_text())["trigger_type"] == "TIMER"


def test_out_dash_prints_the_event(capsys):
    assert run_cli(["event", "new", "blank", "--out", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == {}


def test_real_command_writes_an_event_that_invoke_runs(tmp_path: Path):
    import shutil
    import subprocess
    import sys

    code = tmp_path / "fn"
    shutil.copytree(FIXTURES / "reader", code)
    new = [sys.executable, "-m", "fglocal", "event", "new", "apig-base64", "--code-dir", str(code)]
    done = subprocess.run([*new, "--body", "from the CLI"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "events" in done.stdout
    invoke = [sys.executable, "-m", "fglocal", "invoke", "--code-dir", str(code), "--json"]
    invoke += ["--event", str(code / "events" / "apig-base64.json")]
    done = subprocess.run(invoke, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert json.loads(result["body"])["body"] == "from the CLI"


def test_missing_function_folder_is_refused(tmp_path: Path, capsys):
    assert run_cli(["event", "new", "timer", "--code-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()
