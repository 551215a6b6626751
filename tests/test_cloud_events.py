"""fglocal events pull/push end to end: the real command and SDK against the signature-checking test API."""

from __future__ import annotations

import base64
import json

from cloud_support import cloud_fixture, make_function  # noqa: F401


def _deployed(cloud, tmp_path):
    folder = make_function(tmp_path / "fn", {"functionName": "ev"})
    assert cloud.run("deploy", "--code-dir", str(folder)).returncode == 0
    return folder, cloud.api.urn("ev")


def _remote(cloud, urn):
    return {
        e["name"]: json.loads(base64.b64decode(e["content"])) for e in cloud.api.events.get(urn, {}).values()
    }


def _events(cloud, folder, action, *extra):
    return cloud.run("events", action, "--code-dir", str(folder), "--json", *extra)


def test_pull_writes_the_console_events(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    cloud.api.add_event(urn, "order-created", {"order": 1, "name": "ünïcode"})
    cloud.api.add_event(urn, "empty", {})
    run = _events(cloud, folder, "pull")
    assert run.returncode == 0, run
    actions = {e["name"]: e["action"] for e in run.json()["events"]}
    assert actions == {"order-created": "pulled (new)", "empty": "pulled (new)"}
    assert json.loads((folder / "events" / "order-created.json").read_text("utf-8")) == {
        "order": 1,
        "name": "ünïcode",
    }
    # A second pull: in sync, nothing rewritten.
    again = _events(cloud, folder, "pull").json()
    assert {e["action"] for e in again["events"]} == {"in sync"}
    # The state file is not a test event and is never packaged.
    listed = cloud.run("package", "--code-dir", str(folder), "--dry-run", "--json").json()
    assert not any("events/" in f["path"] for f in listed["files"])


def test_push_creates_and_updates_with_base64_content(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    (folder / "events").mkdir()
    (folder / "events" / "hello.json").write_text('{"greeting": "hi"}')
    run = _events(cloud, folder, "push")
    assert run.returncode == 0, run
    assert run.json()["events"] == [{"name": "hello", "action": "pushed (new)"}]
    (create,) = cloud.api.calls("POST", "/events")
    assert json.loads(base64.b64decode(create.json()["content"])) == {"greeting": "hi"}
    assert create.json()["name"] == "hello"
    (folder / "events" / "hello.json").write_text('{"greeting": "hello"}')
    assert _events(cloud, folder, "push").json()["events"] == [
        {"name": "hello", "action": "pushed (updated)"}
    ]
    assert _remote(cloud, urn) == {"hello": {"greeting": "hello"}}
    # Re-indenting the file is not a change.
    (folder / "events" / "hello.json").write_text('{\n    "greeting":   "hello"\n}\n')
    assert _events(cloud, folder, "push").json()["events"] == [{"name": "hello", "action": "in sync"}]


def test_one_side_changed_goes_the_right_way(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    event_id = cloud.api.add_event(urn, "e", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    # Changed in the console only: pull updates the file; push leaves the console alone.
    cloud.api.events[urn][event_id]["content"] = base64.b64encode(b'{"v": 2}').decode()
    assert (
        _events(cloud, folder, "push")
        .json()["events"][0]["action"]
        .startswith("kept (changed in the console")
    )
    assert _remote(cloud, urn) == {"e": {"v": 2}}
    assert _events(cloud, folder, "pull").json()["events"][0]["action"] == "pulled (updated)"
    assert json.loads((folder / "events" / "e.json").read_text()) == {"v": 2}
    # Changed locally only: pull keeps the file.
    (folder / "events" / "e.json").write_text('{"v": 3}')
    assert _events(cloud, folder, "pull").json()["events"][0]["action"].startswith("kept (changed locally")
    assert json.loads((folder / "events" / "e.json").read_text()) == {"v": 3}


def test_conflict_is_reported_never_overwritten(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    event_id = cloud.api.add_event(urn, "e", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    cloud.api.events[urn][event_id]["content"] = base64.b64encode(b'{"v": "console"}').decode()
    (folder / "events" / "e.json").write_text('{"v": "local"}')
    for action in ("pull", "push"):
        run = _events(cloud, folder, action)
        assert run.returncode == 1, run
        assert run.json()["conflicts"] == ["e"]
        assert json.loads((folder / "events" / "e.json").read_text()) == {"v": "local"}
        assert _remote(cloud, urn) == {"e": {"v": "console"}}
    assert cloud.api.calls("PUT") == []
    text = cloud.run("events", "push", "--code-dir", str(folder))
    assert text.returncode == 1 and "conflict" in text.stderr and "--force" in text.stderr
    # A file and a console event that differ and were never synced: a conflict too.
    cloud.api.add_event(urn, "fresh", {"console": True})
    (folder / "events" / "fresh.json").write_text('{"local": true}')
    assert "fresh" in _events(cloud, folder, "pull").json()["conflicts"]
    # --force says which side wins.
    assert _events(cloud, folder, "push", "--force").returncode == 0
    assert _remote(cloud, urn) == {"e": {"v": "local"}, "fresh": {"local": True}}


def test_errors(cloud, tmp_path):
    folder, _ = _deployed(cloud, tmp_path)
    cloud.api.fail_next("GET", "/events$", 403, "FSS.0403", "denied")
    run = cloud.run("events", "pull", "--code-dir", str(folder))
    assert run.returncode == 1 and "FSS.0403" in run.stderr and "permission" in run.stderr
    cloud.api.fail_next("GET", "/events$", 500, "FSS.0500", "boom", times=4)
    run = _events(cloud, folder, "pull")
    assert run.returncode == 1 and run.json()["error"]["status"] == 500
    (folder / "events").mkdir(exist_ok=True)
    (folder / "events" / "bad.json").write_text("{not json")
    run = _events(cloud, folder, "push")
    assert run.returncode == 1 and "bad.json is not a JSON event" in run.stderr
    assert cloud.api.calls("POST", "/events") == []
    missing = make_function(tmp_path / "other", {"functionName": "other"})
    run = cloud.run("events", "pull", "--code-dir", str(missing))
    assert run.returncode == 1 and "not deployed" in run.stderr
