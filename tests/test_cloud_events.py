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
    # A byte order mark (Windows editors write one) is not sent: the console gets the JSON.
    (folder / "events" / "bom.json").write_bytes(b'\xef\xbb\xbf{"bom": true}')
    assert _events(cloud, folder, "push").returncode == 0
    (sent,) = [c.json() for c in cloud.api.calls("POST", "/events") if c.json()["name"] == "bom"]
    assert base64.b64decode(sent["content"]) == b'{"bom": true}'
    (folder / "events" / "bom.json").unlink()
    assert _events(cloud, folder, "push").json()["deleted"] == ["bom"]
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


def _actions(run):
    return {e["name"]: e["action"] for e in run.json()["events"]}


def test_deleted_in_the_console_is_deleted_locally_on_pull(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    gone = cloud.api.add_event(urn, "gone", {"v": 1})
    edited = cloud.api.add_event(urn, "edited", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    del cloud.api.events[urn][gone], cloud.api.events[urn][edited]
    (folder / "events" / "edited.json").write_text('{"v": "changed locally"}')
    # Pushing first: the console's deletions are not undone (push says to pull).
    push = _events(cloud, folder, "push")
    assert _actions(push)["gone"].startswith("kept (deleted in the console: pull")
    assert _actions(push)["edited"] == "conflict (deleted in the console, changed locally)"
    assert _remote(cloud, urn) == {} and cloud.api.calls("POST", "/events") == []
    (folder / "events" / "mine.json").write_text('{"never": "synced"}')  # local only: never deleted
    run = _events(cloud, folder, "pull")
    assert run.returncode == 1, run  # the edited one is a conflict
    report = run.json()
    assert _actions(run)["gone"] == "deleted locally (deleted in the console)"
    assert _actions(run)["edited"] == "conflict (deleted in the console, changed locally)"
    assert report["deleted"] == ["gone"] and report["conflicts"] == ["edited"]
    assert "mine" not in _actions(run)
    assert not (folder / "events" / "gone.json").exists()
    assert json.loads((folder / "events" / "edited.json").read_text()) == {"v": "changed locally"}
    assert (folder / "events" / "mine.json").exists()
    state = json.loads((folder / "events" / ".fglocal-sync.json").read_text())
    assert "gone" not in state["events"] and "edited" in state["events"]
    # The human output says it too; --force lets the console's deletion win.
    text = cloud.run("events", "pull", "--code-dir", str(folder), "--force")
    assert text.returncode == 0, text
    assert "edited: deleted locally (deleted in the console)" in text.stdout
    assert _files(folder) == ["mine.json"]


def test_deleted_locally_is_deleted_in_the_console_on_push(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    for name in ("gone", "edited", "kept"):
        cloud.api.add_event(urn, name, {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    (gone_id,) = [i for i, e in cloud.api.events[urn].items() if e["name"] == "gone"]
    (edited,) = [i for i, e in cloud.api.events[urn].items() if e["name"] == "edited"]
    cloud.api.events[urn][edited]["content"] = base64.b64encode(b'{"v": "changed in the console"}').decode()
    (folder / "events" / "gone.json").unlink()
    (folder / "events" / "edited.json").unlink()
    # Pulling first: the local deletions are not undone.
    pull = _events(cloud, folder, "pull")
    assert _actions(pull)["gone"].startswith("kept (deleted locally: push")
    assert _actions(pull)["edited"] == "conflict (deleted locally, changed in the console)"
    assert not (folder / "events" / "gone.json").exists() and not (folder / "events" / "edited.json").exists()
    cloud.api.add_event(urn, "console-only", {"never": "synced"})  # never deleted
    run = _events(cloud, folder, "push")
    assert run.returncode == 1, run
    assert _actions(run)["gone"] == "deleted in the console (deleted locally)"
    assert _actions(run)["edited"] == "conflict (deleted locally, changed in the console)"
    assert _actions(run)["kept"] == "in sync" and "console-only" not in _actions(run)
    assert run.json()["deleted"] == ["gone"] and run.json()["conflicts"] == ["edited"]
    (delete,) = cloud.api.calls("DELETE")
    assert delete.path.endswith(f"/events/{gone_id}") and delete.body == b""
    assert _remote(cloud, urn) == {
        "edited": {"v": "changed in the console"},
        "kept": {"v": 1},
        "console-only": {"never": "synced"},
    }
    text = cloud.run("events", "push", "--code-dir", str(folder), "--force")
    assert text.returncode == 0, text
    assert "edited: deleted in the console (deleted locally)" in text.stdout
    assert _remote(cloud, urn) == {"kept": {"v": 1}, "console-only": {"never": "synced"}}
    # Deleted on both sides: forgotten, nothing sent.
    (folder / "events" / "kept.json").unlink()
    cloud.api.events[urn] = {i: e for i, e in cloud.api.events[urn].items() if e["name"] != "kept"}
    before = len(cloud.api.calls("DELETE"))
    assert _actions(_events(cloud, folder, "push"))["kept"] == "forgotten (deleted on both sides)"
    assert len(cloud.api.calls("DELETE")) == before
    assert "kept" not in json.loads((folder / "events" / ".fglocal-sync.json").read_text())["events"]


def test_a_sync_with_another_function_deletes_nothing(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    cloud.api.add_event(urn, "e", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    # The same folder now names another function: its state is not this function's.
    (folder / "fglocal.json").write_text(json.dumps({"functionName": "ev2"}))
    assert cloud.run("deploy", "--code-dir", str(folder)).returncode == 0
    run = _events(cloud, folder, "push")
    assert _actions(run) == {"e": "pushed (new)"} and cloud.api.calls("DELETE") == []
    (folder / "events" / "e.json").unlink()
    other = cloud.api.urn("ev2")
    cloud.api.events[other].clear()
    (folder / "fglocal.json").write_text(json.dumps({"functionName": "ev"}))
    run = _events(cloud, folder, "pull")  # the state is ev2's: the file is "new", never deleted
    assert _actions(run) == {"e": "pulled (new)"}


def test_a_push_that_fails_midway_says_what_it_did(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    cloud.api.add_event(urn, "old", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    (folder / "events" / "old.json").unlink()
    (folder / "events" / "zz-new.json").write_text('{"v": 2}')
    cloud.api.fail_next("POST", "/events$", 403, "FSS.0403", "denied")
    run = _events(cloud, folder, "push")
    assert run.returncode == 1, run
    assert run.json()["error"]["done"] == "old deleted in the console (deleted locally)"
    assert run.json()["deleted"] == ["old"]
    assert "NOT finished: old deleted in the console" in run.stderr
    # The record is accurate: the next push only creates the new one.
    assert _actions(_events(cloud, folder, "push")) == {"zz-new": "pushed (new)"}


def test_an_incomplete_list_changes_nothing(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    for name in ("a", "b"):
        cloud.api.add_event(urn, name, {"v": name})
    assert _events(cloud, folder, "pull").returncode == 0
    cloud.api.event_list_limit = 1
    for action in ("pull", "push"):
        run = _events(cloud, folder, action)
        assert run.returncode == 1 and "listed 1 of the function's 2" in run.json()["error"]["message"]
    assert _files(folder) == ["a.json", "b.json"]
    assert cloud.api.calls("DELETE") == []


def _files(folder):
    return sorted(p.name for p in (folder / "events").glob("*.json") if not p.name.startswith("."))


def test_a_cancelled_push_says_what_it_did(cloud, tmp_path):
    """SIGTERM is what the extension's Cancel sends."""
    import signal

    folder, urn = _deployed(cloud, tmp_path)
    (folder / "events").mkdir()
    (folder / "events" / "a.json").write_text('{"a": 1}')
    (folder / "events" / "b.json").write_text('{"b": 1}')
    reached, release = cloud.api.stall_next("POST", "/events$", skip=1)  # a passes, b stalls
    try:
        proc = cloud.start("events", "push", "--code-dir", str(folder))
        assert reached.wait(60)
        proc.send_signal(signal.SIGTERM)
        run = cloud.finish(proc)
    finally:
        release.set()
    assert run.returncode == 130, run
    assert "interrupted while creating event b" in run.stderr
    assert "NOT finished: a pushed (new)" in run.stderr
    assert _remote(cloud, urn) == {"a": {"a": 1}}
    assert _actions(_events(cloud, folder, "push")) == {"a": "in sync", "b": "pushed (new)"}


def test_a_create_performed_but_answered_5xx_is_read_back(cloud, tmp_path):
    """The retry is refused (the name exists): the event is read back and its content compared."""
    folder, urn = _deployed(cloud, tmp_path)
    (folder / "events").mkdir()
    (folder / "events" / "a.json").write_text('{"a": 1}')
    cloud.api.fail_after_next("POST", "/events$", 502, "FSS.0502", "bad gateway")
    run = _events(cloud, folder, "push")
    assert run.returncode == 0, run
    (action,) = _actions(run).values()
    assert action.startswith("pushed (new); its create was answered HTTP 502 FSS.0502 (request ID req-")
    assert action.endswith("but had been performed (read back: the same content)")
    assert len(cloud.api.calls("POST", "/events")) == 2 and _remote(cloud, urn) == {"a": {"a": 1}}
    assert cloud.api.calls("PUT") == []
    assert _actions(_events(cloud, folder, "push")) == {"a": "in sync"}


def test_a_create_performed_then_changed_in_the_console_is_updated(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    (folder / "events").mkdir()
    (folder / "events" / "b.json").write_text('{"b": "mine"}')

    def edited_in_the_console():
        for event in cloud.api.events[urn].values():
            event["content"] = base64.b64encode(b'{"b": "theirs"}').decode()

    cloud.api.fail_after_next("POST", "/events$", 500, "FSS.0500", then=edited_in_the_console)
    run = _events(cloud, folder, "push")
    assert run.returncode == 0, run
    assert _actions(run)["b"].endswith("(read back: other content, so it was updated)")
    assert _remote(cloud, urn) == {"b": {"b": "mine"}} and len(cloud.api.calls("PUT", "/events/")) == 1


def test_a_delete_performed_but_answered_5xx_is_done(cloud, tmp_path):
    """The retry of the delete finds it gone (404): the earlier attempt deleted it."""
    folder, urn = _deployed(cloud, tmp_path)
    cloud.api.add_event(urn, "old", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    (folder / "events" / "old.json").unlink()
    cloud.api.fail_after_next("DELETE", "/events/", 503, "FSS.0503", "busy")
    run = _events(cloud, folder, "push")
    assert run.returncode == 0, run
    action = _actions(run)["old"]
    assert action.startswith("deleted in the console (deleted locally); its delete was answered HTTP 503")
    assert action.endswith("had been performed (its retry found it gone)")
    assert run.json()["deleted"] == ["old"] and _remote(cloud, urn) == {}
    assert len(cloud.api.calls("DELETE")) == 2


def test_an_update_answered_5xx_is_retried_as_it_is(cloud, tmp_path):
    folder, urn = _deployed(cloud, tmp_path)
    cloud.api.add_event(urn, "u", {"v": 1})
    assert _events(cloud, folder, "pull").returncode == 0
    (folder / "events" / "u.json").write_text('{"v": 2}')
    cloud.api.fail_after_next("PUT", "/events/", 500, "FSS.0500")
    run = _events(cloud, folder, "push")
    assert run.returncode == 0 and _actions(run) == {"u": "pushed (updated)"}, run
    assert _remote(cloud, urn) == {"u": {"v": 2}} and len(cloud.api.calls("PUT", "/events/")) == 2
