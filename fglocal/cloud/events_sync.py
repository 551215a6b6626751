"""``fglocal events pull`` / ``push``: the console's test events of a function and ``events/*.json``.

An event named ``N`` in the console is the file ``events/N.json``. A small sync-state file,
``events/.fglocal-sync.json``, records for each name the digest of the content as last synced (and
the function's URN): a side is "changed" when its digest differs from that record. When both sides
changed since the last sync (or the two differ and there is no record), that is a conflict: reported,
never overwritten, unless ``--force`` says which side wins. Digests are of the canonical JSON, so
re-indenting a file is not a change. The platform's ``content`` is base64 of the event JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

from fglocal.cloud.session import Cloud, CloudError

STATE_FILE = ".fglocal-sync.json"
# An event is at most 6 MB of JSON; leave room for indentation.
MAX_EVENT_FILE = 8 * 1024 * 1024
# Names that are safe file names (the console allows letters, digits, '-' and '_').
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def digest(data: bytes) -> str:
    """SHA-256 of the event's canonical JSON (sorted keys, no spaces); of the bytes when not JSON."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        pass
    return hashlib.sha256(data).hexdigest()


class EventsFolder:
    """``events/`` of a function folder and its sync state."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_path = folder / STATE_FILE

    def local(self) -> Dict[str, bytes]:
        """Each ``events/<name>.json``: name -> bytes ``events/<name>.json`` (hidden files, the state among them, left out)."""
        from fglocal.safe_read import UnreadableFile, read_bytes

        found: Dict[str, bytes] = {}
        if not self.folder.is_dir():
            return found
        for path in sorted(self.folder.glob("*.json")):
            if path.name.startswith("."):
                continue
            try:
                data = read_bytes(path, MAX_EVENT_FILE)
            except UnreadableFile as exc:
                raise CloudError(f"cannot read {path}: {exc}") from None
            try:
                json.loads(data.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                raise CloudError(f"{path} is not a JSON event; fix it before syncing") from None
            found[path.stem] = data
        return found

    def read_state(self, urn: str) -> Dict[str, str]:
        """Each name's digest as last synced with ``urn`` ({} when never synced with it)."""
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(state, dict) or state.get("functionUrn") != urn:
            return {}
        events = state.get("events")
        return {k: v for k, v in events.items() if isinstance(v, str)} if isinstance(events, dict) else {}

    def write_state(self, urn: str, synced: Dict[str, str]) -> None:
        """Record ``synced`` (name -> digest) as the last sync with ``urn``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"functionUrn": urn, "events": dict(sorted(synced.items()))}, indent=2) + "\n"
        tmp = self.state_path.with_name(STATE_FILE + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(str(tmp), str(self.state_path))

    def write_event(self, name: str, data: bytes) -> None:
        """Write ``events/<name>.json`` (indented JSON when the content is JSON)."""
        try:
            value = json.loads(data.decode("utf-8-sig"))
            data = (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except (ValueError, UnicodeDecodeError):
            pass
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / (name + ".json")
        tmp = path.with_name("." + path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(str(tmp), str(path))


def remote_events(cloud: Cloud, urn: str) -> Dict[str, Tuple[str, bytes]]:
    """Each name's (event ID, content bytes) among the function's test events in the console."""
    from huaweicloudsdkfunctiongraph.v2 import ListEventsRequest, ShowEventRequest

    listed = cloud.call("list_events", ListEventsRequest(function_urn=urn), "listing the test events")
    found: Dict[str, Tuple[str, bytes]] = {}
    for item in listed.events or []:
        shown = cloud.call(
            "show_event", ShowEventRequest(function_urn=urn, event_id=item.id), f"reading event {item.name}"
        )
        try:
            content = base64.b64decode(shown.content or "")
        except ValueError:
            content = (shown.content or "").encode("utf-8")
        found[item.name] = (item.id, content)
    return found


class SyncReport:
    """What a pull or push did, event by event."""

    def __init__(self, urn: str) -> None:
        self.function_urn = urn
        self.actions: List[Tuple[str, str]] = []  # (name, action)
        self.conflicts: List[str] = []

    def add(self, name: str, action: str) -> None:
        """Record what happened to event ``name``."""
        self.actions.append((name, action))
        if action == "conflict":
            self.conflicts.append(name)

    def to_json(self) -> Dict[str, Any]:
        """The ``--json`` object."""
        return {
            "functionUrn": self.function_urn,
            "events": [{"name": n, "action": a} for n, a in self.actions],
            "conflicts": self.conflicts,
        }


def pull(cloud: Cloud, urn: str, events: EventsFolder, force: bool) -> SyncReport:
    """Bring the console's test events into ``events/``; conflicts are reported, not overwritten."""
    report = SyncReport(urn)
    state = events.read_state(urn)
    local = events.local()
    synced = dict(state)
    for name, (_, content) in sorted(remote_events(cloud, urn).items()):
        if not _NAME.match(name):
            report.add(name, "skipped: not a safe file name")
            continue
        remote_digest = digest(content)
        base = state.get(name)
        if name not in local:
            events.write_event(name, content)
            report.add(name, "pulled (new)")
        else:
            local_digest = digest(local[name])
            if local_digest == remote_digest:
                report.add(name, "in sync")
            elif force or (base is not None and local_digest == base):
                events.write_event(name, content)
                report.add(name, "pulled (updated)")
            elif remote_digest == base:
                report.add(name, "kept (changed locally: push it)")
                continue
            else:
                report.add(name, "conflict")
                continue
        synced[name] = remote_digest
    events.write_state(urn, synced)
    return report


def push(cloud: Cloud, urn: str, events: EventsFolder, force: bool) -> SyncReport:
    """Send ``events/*.json`` to the console's test events; conflicts are reported, not overwritten."""
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateEventRequest,
        CreateEventRequestBody,
        UpdateEventRequest,
        UpdateEventRequestBody,
    )

    report = SyncReport(urn)
    state = events.read_state(urn)
    remote = remote_events(cloud, urn)
    synced = dict(state)
    for name, data in sorted(events.local().items()):
        content = base64.b64encode(data).decode("ascii")
        local_digest = digest(data)
        base = state.get(name)
        if name not in remote:
            body = CreateEventRequestBody(name=name, content=content)
            cloud.call(
                "create_event", CreateEventRequest(function_urn=urn, body=body), f"creating event {name}"
            )
            report.add(name, "pushed (new)")
        else:
            event_id, remote_content = remote[name]
            remote_digest = digest(remote_content)
            if local_digest == remote_digest:
                report.add(name, "in sync")
            elif force or (base is not None and remote_digest == base):
                body = UpdateEventRequestBody(content=content)
                cloud.call(
                    "update_event",
                    UpdateEventRequest(function_urn=urn, event_id=event_id, body=body),
                    f"updating event {name}",
                )
                report.add(name, "pushed (updated)")
            elif local_digest == base:
                report.add(name, "kept (changed in the console: pull it)")
                continue
            else:
                report.add(name, "conflict")
                continue
        synced[name] = local_digest
        # Recorded after each event: a later failure leaves an accurate record of what was pushed.
        events.write_state(urn, synced)
    events.write_state(urn, synced)
    return report
