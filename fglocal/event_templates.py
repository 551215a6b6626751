"""Test events shaped like FunctionGraph's trigger payloads: ``fglocal event list`` and ``event new``.

The templates live in ``fglocal/templates/<name>.json``; their field names and nesting follow the
platform's documented trigger events (APIG, OBS, timer, SMN, DMS for Kafka/RocketMQ, open-source
Kafka, LTS, CTS, DDS). ``event new`` copies one into the function folder's ``events/`` and, where the
platform encodes a field (the APIG body, the LTS log data), takes the plain content and encodes it.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from fglocal.contract import EVENTS_DIR

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


class Template(NamedTuple):
    """One trigger template: its name, a one-line description and the ``event new`` options it takes."""

    name: str
    description: str
    options: Tuple[str, ...]


TEMPLATES: Tuple[Template, ...] = (
    Template("apig", "APIG (API gateway) request, plain-text body", ("body", "http")),
    Template(
        "apig-base64",
        "APIG request, body base64-encoded (isBase64Encoded: true, the default)",
        ("body", "http"),
    ),
    Template("obs", "OBS object created (S3-style Records)", ("obs",)),
    Template("timer", "timer trigger with plain user event text", ("message",)),
    Template("timer-json", "timer trigger whose user_event carries JSON text", ("message",)),
    Template("smn", "SMN topic notification", ("message",)),
    Template("dms-kafka", "DMS for Kafka messages", ("messages",)),
    Template("kafka", "open-source Kafka messages", ("messages",)),
    Template("dms-rocketmq", "DMS for RocketMQ messages", ("messages",)),
    Template("lts", "LTS log subscription (log data base64-encoded)", ("messages",)),
    Template("cts", "CTS audit trace", ()),
    Template("dds", "DDS change stream record", ()),
    Template("blank", "an empty event {}", ()),
)
_BY_NAME = {t.name: t for t in TEMPLATES}

# The owner and ids of the LTS log stream the template's records come from.
_LTS_STREAM = {
    "owner": "20f61ed86aa3899d4a6d7587da963455",
    "log_group_id": "e7da99f5-df0b-455a-8d6a-cb43bb00551f",
    "log_topic_id": "02700ee2-422c-41fd-87e7-26a546c167fc",
}
_LTS_DEFAULT_MESSAGES = (
    "2026-03-14 17:26:53,589 INFO  [http-nio-8080] GET /orders/A-1029 200 12ms",
    "2026-03-14 17:26:54,102 WARN  [http-nio-8080] slow query on orders: 1480ms",
)


class EventError(ValueError):
    """A template or option that cannot make an event; the message says what to change."""


def template_names() -> List[str]:
    """Return the names ``event new`` accepts, in display order."""
    return [t.name for t in TEMPLATES]


def load_template(name: str) -> Dict[str, Any]:
    """Load the event of template ``name`` as a fresh dict."""
    if name not in _BY_NAME:
        raise EventError(f"unknown trigger {name!r} (known: {', '.join(template_names())})")
    with open(str(TEMPLATE_DIR / (name + ".json")), encoding="utf-8") as f:
        event = json.load(f)
    if not isinstance(event, dict):
        raise EventError(f"template {name} is not a JSON object")
    return event


def encode_lts_data(messages: Sequence[str], first_time_ms: int = 1773480413589) -> str:
    """Encode ``lts.data`` (base64) for log lines ``messages``, as an LTS subscription delivers them."""
    records = []
    for number, message in enumerate(messages, 1):
        records.append(
            {
                "message": message,
                "time": first_time_ms + 500 * (number - 1),
                "host_name": "ecs-web-01",
                "ip": "192.168.0.12",
                "path": "/var/log/app/app.log",
                "log_uid": f"663d6930-792d-11e8-8b08-{number:012x}",
                "line_no": number,
            }
        )
    payload: Dict[str, Any] = {"logs": json.dumps(records, separators=(",", ":"), ensure_ascii=False)}
    payload.update(_LTS_STREAM)
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_lts_data(data: str) -> Dict[str, Any]:
    """Decode the JSON object inside an ``lts.data`` value (its ``logs`` field stays a JSON string)."""
    return json.loads(base64.b64decode(data).decode("utf-8"))


def build_event(
    name: str,
    *,
    body: Optional[bytes] = None,
    method: Optional[str] = None,
    path: Optional[str] = None,
    query: Sequence[Tuple[str, str]] = (),
    headers: Sequence[Tuple[str, str]] = (),
    messages: Sequence[str] = (),
    bucket: Optional[str] = None,
    key: Optional[str] = None,
) -> Dict[str, Any]:
    """Template ``name`` with the given plain values put in (and encoded where the platform does)."""
    template = _BY_NAME.get(name)
    if template is None:
        raise EventError(f"unknown trigger {name!r} (known: {', '.join(template_names())})")
    given = {
        "body": body is not None,
        "http": bool(method or path or query or headers),
        "obs": bool(bucket or key),
        "messages": bool(messages),
    }
    allowed = set(template.options)
    if "message" in allowed:
        allowed.add("messages")
    for option, present in given.items():
        if present and option not in allowed:
            raise EventError(f"{_OPTION_HELP[option]} does not apply to the {name} template")
    event = load_template(name)
    if name.startswith("apig"):
        _fill_apig(event, name == "apig-base64", body, method, path, query, headers)
    elif name == "obs":
        record = event["Records"][0]["s3"]
        if bucket:
            record["bucket"]["name"] = bucket
            record["bucket"]["arn"] = "arn:aws:s3:::" + bucket
        if key:
            record["object"]["key"] = key
    elif messages:
        _fill_messages(event, name, list(messages))
    return event


_OPTION_HELP = {
    "body": "--body/--body-file",
    "http": "--method/--path/--query/--header",
    "obs": "--bucket/--key",
    "messages": "--message",
}


def _fill_apig(
    event: Dict[str, Any],
    encoded: bool,
    body: Optional[bytes],
    method: Optional[str],
    path: Optional[str],
    query: Sequence[Tuple[str, str]],
    headers: Sequence[Tuple[str, str]],
) -> None:
    if body is not None:
        if encoded:
            event["body"] = base64.b64encode(body).decode("ascii")
        else:
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                raise EventError(
                    "the body is not UTF-8 text: use the apig-base64 template for binary bodies"
                ) from None
        event["headers"]["content-type"] = _guess_content_type(body)
    if method:
        event["httpMethod"] = method.upper()
    if path:
        event["path"] = path if path.startswith("/") else "/" + path
        event["pathParameters"] = {}
    if query:
        event["queryStringParameters"] = dict(query)
    for header, value in headers:
        event["headers"][header.lower()] = value


def _guess_content_type(body: bytes) -> str:
    try:
        json.loads(body.decode("utf-8"))
        return "application/json"
    except (UnicodeDecodeError, ValueError):
        pass
    try:
        body.decode("utf-8")
        return "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        return "application/octet-stream"


def _fill_messages(event: Dict[str, Any], name: str, messages: List[str]) -> None:
    if name.startswith("timer") or name == "smn":
        if len(messages) > 1:
            raise EventError(f"the {name} template takes one --message")
        if name == "smn":
            event["record"][0]["smn"]["message"] = messages[0]
        else:
            event["user_event"] = messages[0]
    elif name == "lts":
        event["lts"]["data"] = encode_lts_data(messages)
    else:
        event["records"][0]["messages"] = messages


def default_event_path(code_dir: os.PathLike[str] | str, name: str) -> Path:
    """Where ``event new`` writes by default: ``<function folder>/events/<name>.json``."""
    return Path(code_dir) / EVENTS_DIR / (name + ".json")


def write_event(event: Dict[str, Any], out: Path, force: bool = False) -> None:
    """Write ``event`` as indented JSON to ``out``; refuses to replace an existing file unless ``force``."""
    if out.exists() and not force:
        raise EventError(f"{out} already exists (use --force to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(event, indent=2, ensure_ascii=False) + "\n"
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(str(tmp), str(out))
