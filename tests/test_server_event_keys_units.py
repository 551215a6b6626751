"""Pure-function tests of server.analysis.event_keys and event_types."""

from __future__ import annotations

from server.analysis import event_keys, event_types
from server.analysis.context_inference import ScopeIndex
from server.analysis.event_keys import FunctionEvents, KeyAccess, access_at, open_access, walk
from server.analysis.model import Roles
from server.analysis.text import split_lines


def test_open_access_paths():
    assert open_access('    x = event["') == KeyAccess("event", (), "", 15)
    assert open_access("event['Records'][0]['s3'][\"buc") == KeyAccess(
        "event", ("Records", 0, "s3"), "buc", 27
    )
    assert open_access('e.get("headers", {}).get("Con') == KeyAccess("e", ("headers",), "Con", 26)
    assert open_access('x = "event["') is None  # inside a string
    assert open_access("event[name") is None  # not a string key
    assert open_access('obj.event["') is None  # an attribute, not the parameter


def test_access_at_finds_the_key_under_the_cursor():
    text = '    return event["headers"]["host"] + 1'
    assert access_at(text, text.index("host")) == ("event", ("headers", "host"), (28, 34))
    assert access_at(text, text.index("head")) == ("event", ("headers",), (17, 26))
    assert access_at(text, 2) is None


def test_walk_and_for_keys():
    event = {"Records": [{"s3": {"bucket": {"name": "b"}}}]}
    assert walk(event, ("Records", 0, "s3", "bucket", "name")) == "b"
    assert walk(event, ("Records", 3)) is None and walk(event, ("Records", "s3")) is None
    events = FunctionEvents((("events/a.json", {"a": 1}), ("events/b.json", {"b": 2})), "events/b.json")
    assert events.for_keys() == (("events/b.json", {"b": 2}),)
    assert FunctionEvents(events.files, "events/gone.json").for_keys() == events.files


def test_event_parameter_needs_a_handler():
    lines = split_lines("def handler(event, context):\n    pass\ndef process(event):\n    pass\n")
    index = ScopeIndex(lines)
    assert event_keys.event_parameter(index, Roles(), "event", 1) is not None
    assert event_keys.event_parameter(index, Roles(), "event", 3) is None


def test_event_types_resolve_and_annotation():
    assert event_types.annotation_type("fglocal.events.OBSEvent") == "OBSEvent"
    assert event_types.annotation_type("'APIGEvent'") == "APIGEvent"
    assert event_types.annotation_type("dict") is None
    keys = event_types.keys_at("OBSEvent", ("Records", 0, "s3", "object"))
    assert keys is not None and [k.name for k in keys] == ["key", "eTag", "size", "sequencer"]
    assert event_types.keys_at("APIGEvent", ("headers",)) is None  # the caller's keys
    assert event_types.has_fixed_keys("SMNEvent", ("record", 0, "smn"))
    assert event_types.type_text(event_types.resolve("SMNEvent", ("record",))) == "List[SMNRecord]"
