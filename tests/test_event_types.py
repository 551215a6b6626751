"""fglocal.events: one TypedDict per trigger, agreeing key for key with the ``event new`` templates;
the JSON schemas of the test event files generated from them; mypy checks handlers annotated with them."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, List

import pytest

from fglocal import event_schemas, events
from fglocal.event_templates import build_event, load_template, template_names


def mismatches(value: Any, tp: Any, path: str = "event") -> List[str]:
    """Where ``value`` does not have type ``tp`` (TypedDict keys exactly, all nested values)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if event_schemas.is_typed_dict(tp):
        if not isinstance(value, dict):
            return ["%s: not an object" % path]
        declared = event_schemas.fields(tp)
        found = ["%s: key %r not in %s" % (path, k, tp.__name__) for k in value if k not in declared]
        found += ["%s: %s's key %r missing" % (path, tp.__name__, k) for k in declared if k not in value]
        for key, field_type in declared.items():
            if key in value:
                found += mismatches(value[key], field_type, "%s[%r]" % (path, key))
        return found
    if origin is typing.Union:
        if value is None and type(None) in args:
            return []
        return mismatches(value, next(a for a in args if a is not type(None)), path)
    if origin is list:
        if not isinstance(value, list) or not value:
            return ["%s: not a non-empty list" % path]
        return [m for i, item in enumerate(value) for m in mismatches(item, args[0], "%s[%d]" % (path, i))]
    if origin is dict:
        if not isinstance(value, dict):
            return ["%s: not an object" % path]
        return [m for k, v in value.items() for m in mismatches(v, args[1], "%s[%r]" % (path, k))]
    if tp is Any:
        return []
    if tp is int and isinstance(value, bool):
        return ["%s: bool, not int" % path]
    return [] if isinstance(value, tp) else ["%s: %r is not %s" % (path, value, tp.__name__)]


@pytest.mark.parametrize("template", [t for t in template_names() if t != "blank"])
def test_each_template_has_its_type_key_for_key(template: str):
    assert template in events.TEMPLATE_TYPES
    assert mismatches(load_template(template), events.TEMPLATE_TYPES[template]) == []


def test_built_events_keep_the_type():
    event = build_event("apig", body=b'{"a": 1}', method="GET", path="/x", headers=[("X-Id", "1")])
    assert mismatches(event, events.APIGEvent) == []
    assert mismatches(build_event("kafka", messages=["m"]), events.KafkaEvent) == []


def test_mismatches_can_fail():
    event = load_template("apig")
    event["bdy"] = event.pop("body")
    found = mismatches(event, events.APIGEvent)
    assert "event: key 'bdy' not in APIGEvent" in found and "event: APIGEvent's key 'body' missing" in found


def test_every_trigger_of_the_platform_has_a_type():
    names = {tp.__name__ for tp in events.TEMPLATE_TYPES.values()}
    assert names == {
        "APIGEvent",
        "OBSEvent",
        "TimerEvent",
        "SMNEvent",
        "DMSKafkaEvent",
        "KafkaEvent",
        "DMSRocketMQEvent",
        "LTSEvent",
        "CTSEvent",
        "DDSEvent",
    }
    assert set(events.__all__) >= names | {"APIGResponse"}
    assert event_schemas.required_keys(events.APIGResponse) == ["statusCode", "body"]


def test_generated_schemas_and_json_validation_are_up_to_date():
    assert event_schemas.main([]) == 0, "run: python -m fglocal.event_schemas --write"


def test_schema_describes_the_template():
    schema = event_schemas.schemas()["OBSEvent"]
    record = schema["properties"]["Records"]["items"]
    assert record["required"] == list(event_schemas.fields(events.OBSRecord))
    assert record["properties"]["s3"]["properties"]["object"]["properties"]["size"]["type"] == "integer"
    headers = event_schemas.schemas()["APIGEvent"]["properties"]["headers"]
    assert headers["additionalProperties"] == {"type": "string"}


HANDLER = """\
import json

from fglocal.events import APIGEvent, APIGResponse


def handler(event: APIGEvent, context: object) -> APIGResponse:
    method: str = event["httpMethod"]
    agent = event["headers"].get("user-agent", "")
    return {"statusCode": 200, "body": json.dumps({"method": method, "agent": agent, "k": %s})}
"""


def run_mypy(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    module = tmp_path / "index.py"
    module.write_text(text)
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--strict", str(module)],
        capture_output=True,
        text=True,
        cwd=str(root),
        env={"MYPYPATH": str(root), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_annotated_handler_type_checks_and_unknown_keys_fail(tmp_path: Path):
    good = run_mypy(tmp_path, HANDLER % 'event["path"]')
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_mypy(tmp_path, HANDLER % 'event["bdy"]')
    assert bad.returncode == 1 and '"APIGEvent" has no key "bdy"' in bad.stdout, bad.stdout
