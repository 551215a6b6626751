"""JSON schemas of the test event files, generated from the trigger types of :mod:`fglocal.events`.

``python -m fglocal.event_schemas --write`` writes one schema per trigger type into
``vscode-extension/schemas/events/`` and the extension's ``jsonValidation`` entries that apply them
to ``events/<template>.json`` (and ``events/<template>-N.json``), the files ``fglocal event new`` and
the extension create. A schema lists each key with its type, description and the template's value
as an example; other keys are allowed (a test event may carry more).
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path
from typing import Any, Dict, List, Tuple

from fglocal import events
from fglocal.event_templates import load_template

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "vscode-extension" / "schemas" / "events"
PACKAGE_JSON = ROOT / "vscode-extension" / "package.json"
_SCHEMA_URL = "./schemas/events/%s.schema.json"


def is_typed_dict(tp: Any) -> bool:
    """Whether ``tp`` is a TypedDict class."""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__")


def fields(tp: Any) -> Dict[str, Any]:
    """The keys of a TypedDict and their types, in definition order (base classes first)."""
    return typing.get_type_hints(tp)


def required_keys(tp: Any) -> List[str]:
    """The keys a TypedDict requires."""
    required = getattr(tp, "__required_keys__", None)
    if required is None:  # Python 3.8: all keys of a total TypedDict
        return list(fields(tp)) if getattr(tp, "__total__", True) else []
    return [k for k in fields(tp) if k in required]


def type_schema(tp: Any, example: Any = None) -> Dict[str, Any]:
    """The JSON schema of one type (a TypedDict, List, Dict, Optional or a JSON scalar)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if is_typed_dict(tp):
        properties = {}
        for key, field_type in fields(tp).items():
            value = example.get(key) if isinstance(example, dict) else None
            properties[key] = type_schema(field_type, value)
        schema: Dict[str, Any] = {"type": "object", "properties": properties}
        if tp.__doc__:
            schema["description"] = tp.__doc__.strip().split("\n\n")[0].replace("\n", " ")
        required = required_keys(tp)
        if required:
            schema["required"] = required
        return schema
    if origin is typing.Union:
        options = [a for a in args if a is not type(None)]
        inner = type_schema(options[0], example) if len(options) == 1 else {}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin in (list, List):
        item = example[0] if isinstance(example, list) and example else None
        return {"type": "array", "items": type_schema(args[0], item)}
    if origin in (dict, Dict):
        schema = {"type": "object", "additionalProperties": type_schema(args[1])}
        if isinstance(example, dict) and example:
            schema["examples"] = [example]
        return schema
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        schema = {"type": simple[tp]}
        if example is not None and not (isinstance(example, str) and len(example) > 200):
            schema["examples"] = [example]
        return schema
    return {}


def trigger_types() -> Dict[str, List[str]]:
    """Each trigger type's name and the templates that have it."""
    by_type: Dict[str, List[str]] = {}
    for template, tp in events.TEMPLATE_TYPES.items():
        by_type.setdefault(tp.__name__, []).append(template)
    return by_type


def schemas() -> Dict[str, Dict[str, Any]]:
    """The schema of each trigger type, by file name stem (the type's name)."""
    found = {}
    for name, templates in trigger_types().items():
        tp = getattr(events, name)
        schema = type_schema(tp, load_template(templates[0]))
        schema = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "FunctionGraph %s test event" % name,
            **schema,
        }
        found[name] = schema
    return found


def json_validation() -> List[Dict[str, Any]]:
    """The extension's ``jsonValidation`` entries for the test event files."""
    entries = []
    for name, templates in trigger_types().items():
        matches: List[str] = []
        for template in templates:
            matches += ["**/events/%s.json" % template, "**/events/%s-*.json" % template]
        entries.append({"fileMatch": matches, "url": _SCHEMA_URL % name})
    return entries


def rendered() -> List[Tuple[Path, str]]:
    """Every generated file and its text."""
    files = [
        (SCHEMA_DIR / ("%s.schema.json" % name), json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        for name, schema in schemas().items()
    ]
    package = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))
    kept = [e for e in package["contributes"].get("jsonValidation", []) if "/schemas/events/" not in e["url"]]
    package["contributes"]["jsonValidation"] = kept + json_validation()
    files.append((PACKAGE_JSON, json.dumps(package, indent=2, ensure_ascii=False) + "\n"))
    return files


def main(argv: List[str]) -> int:
    """``--write`` the generated files, or ``--check`` that they are up to date (exit 1 when not)."""
    parser = argparse.ArgumentParser(prog="python -m fglocal.event_schemas")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    stale = [
        path for path, text in rendered() if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.write:
        SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
        for path, text in rendered():
            path.write_text(text, encoding="utf-8")
        return 0
    for path in stale:
        print("stale: %s (run python -m fglocal.event_schemas --write)" % path, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
