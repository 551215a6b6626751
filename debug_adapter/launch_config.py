"""The ``functiongraph`` launch configuration: validated in one place, turned into a run plan.

The JSON Schema published for the extension (``launch-schema.json``) is the source of the field
types; this module checks a launch request against it, then checks what a schema cannot (files,
interpreter, entry), and fills missing values from the function's ``fglocal.json``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from fglocal.config import ConfigError, FunctionConfig, json_kind, load_config, read_env_file, split_entry
from fglocal.contract import entry_files, find_entry_file
from fglocal.interpreters import Interpreter, InterpreterError, resolve_interpreter
from fglocal.printable import printable
from fglocal.result import MAX_BODY_BYTES
from fglocal.safe_read import UnreadableFile, check_config_files, read_bytes, read_text

SCHEMA_PATH = Path(__file__).with_name("launch-schema.json")
# An event file may be pretty-printed: 4x the platform's 6 MB request limit (the run checks the limit).
MAX_EVENT_FILE_BYTES = 4 * MAX_BODY_BYTES
MAX_SOURCE_BYTES = 10_000_000  # an entry module bigger than this is left to the runtime to check
# launch.json keys VS Code (or debugpy-style clients) add that are not ours.
_CLIENT_KEYS = {
    "type",
    "request",
    "name",
    "cwd",
    "preLaunchTask",
    "postDebugTask",
    "presentation",
    "internalConsoleOptions",
    "debugServer",
    "suppressMultipleSessionWarning",
}

# Fields people bring from Python launch configurations, and what to use here instead.
_HINTS = {
    "env": "set the function's environment variables with 'userData' or 'envFile'",
    "program": "name the function with 'handler' (e.g. 'index.handler') and 'codeUri'",
    "args": "give the test event with 'event' or 'eventFile'",
}


class LaunchError(ValueError):
    """A launch configuration the adapter cannot run; the message says what to fix."""


@dataclass(frozen=True)
class LaunchPlan:
    """Everything needed to run one debug session of a function."""

    config: FunctionConfig
    code_dir: Path
    python: str  # the tools' interpreter: runs fglocal's supervisor (and debugpy's adapter)
    event_json: str
    repeat: int = 1
    no_debug: bool = False
    just_my_code: bool = True
    stop_on_entry: bool = False
    extra_env: Dict[str, str] = field(default_factory=dict)
    # The function's own interpreter, its runtime's (fglocal.interpreters): the instance runs on it.
    interpreter: Optional[Interpreter] = None

    @property
    def entries(self) -> List[str]:
        """The user entries that run, initializer first."""
        return [e for e in (self.config.initializer, self.config.handler) if e]


@lru_cache(maxsize=1)
def launch_schema() -> Dict[str, Any]:
    """The published JSON Schema of the launch configuration."""
    schema: Dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def parse_launch(arguments: Mapping[str, Any], default_folder: Optional[str] = None) -> LaunchPlan:
    """Validate launch ``arguments`` and return the plan; raise :class:`LaunchError` naming the fix."""
    if not isinstance(arguments, Mapping):
        raise LaunchError("the launch configuration must be a JSON object")
    _check_schema(arguments)
    if "event" in arguments and "eventFile" in arguments:
        raise LaunchError("launch configuration: give either 'event' or 'eventFile', not both")

    if default_folder is not None and not isinstance(default_folder, str):
        raise LaunchError("cwd: expected a folder path, got %s" % json_kind(default_folder))
    folder = _relative(Path(default_folder or os.getcwd()), arguments.get("codeUri") or ".", "codeUri")
    if not folder.is_dir():
        raise LaunchError("codeUri: folder %s does not exist; set 'codeUri' to the function folder" % folder)
    folder = folder.resolve()

    try:
        check_config_files(folder)  # a FIFO, device, huge or non-UTF-8 fglocal.json / envFile: named
        config = load_config(folder)
        user_data: Dict[str, str] = dict(config.user_data)
        if "envFile" in arguments:
            env_file = _relative(folder, arguments["envFile"], "envFile")
            try:
                read_text(env_file)
            except UnreadableFile as exc:
                raise LaunchError("envFile: %s; give a UTF-8 KEY=VALUE file" % exc) from None
            user_data.update(read_env_file(env_file, field_name="envFile"))
        user_data.update(arguments.get("userData") or {})
        config = config.with_overrides(
            handler=arguments.get("handler"),
            initializer=arguments.get("initializer"),
            initializer_timeout=arguments.get("initializerTimeout"),
            runtime=arguments.get("runtime"),
            memory_size=arguments.get("memorySize"),
            timeout=arguments.get("timeout"),
            function_name=arguments.get("functionName"),
            version=arguments.get("version"),
            alias=arguments.get("alias"),
            user_data=user_data,
        )
    except ConfigError as exc:
        raise LaunchError("%s (launch configuration or fglocal.json)" % exc) from None

    check_entry_exists(config.code_root, config.handler, "handler")
    if config.initializer:
        check_entry_exists(config.code_root, config.initializer, "initializer")

    return LaunchPlan(
        config=config,
        code_dir=folder,
        python=sys.executable,
        interpreter=function_interpreter(config, arguments.get("python")),
        event_json=_event_json(arguments, folder),
        repeat=int(arguments.get("repeat", 1)),
        no_debug=bool(arguments.get("noDebug", False)),
        just_my_code=bool(arguments.get("justMyCode", True)),
        stop_on_entry=bool(arguments.get("stopOnEntry", False)),
    )


def _relative(folder: Path, path: str, field_name: str = "path") -> Path:
    if "\0" in path:
        raise LaunchError("%s: the path contains a NUL character" % field_name)
    try:
        candidate = Path(path).expanduser()
    except RuntimeError:  # "~user" of a user that does not exist
        raise LaunchError("%s: %s names an unknown user's home folder" % (field_name, path)) from None
    return candidate if candidate.is_absolute() else folder / candidate


def _event_json(arguments: Mapping[str, Any], folder: Path) -> str:
    if "eventFile" in arguments:
        path = _relative(folder, arguments["eventFile"], "eventFile")
        try:
            text = read_text(path, MAX_EVENT_FILE_BYTES)
        except UnreadableFile as exc:
            raise LaunchError("eventFile: %s; give a UTF-8 JSON file" % exc) from None
        problem = _json_problem(text)
        if problem:
            raise LaunchError("eventFile: %s is not valid JSON: %s" % (path, problem))
        return text
    event = arguments.get("event", {})
    if isinstance(event, str):
        problem = _json_problem(event)
        if problem:
            raise LaunchError(
                "event: the string is not valid JSON (%s); write the event as a JSON object" % problem
            )
        return event
    try:
        return json.dumps(event)
    except (ValueError, RecursionError):
        raise LaunchError("event: nested too deeply to send; give a flatter event") from None


def _json_problem(text: str) -> Optional[str]:
    """Why ``text`` is not JSON (position and reason, never the text), None when it is."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return "%s at line %d column %d" % (exc.msg, exc.lineno, exc.colno)
    except RecursionError:
        return "nested too deeply to parse"
    return None


def check_entry_exists(code_root: Path, entry: str, field_name: str) -> None:
    """Raise :class:`LaunchError` unless ``entry``'s file exists and defines the function."""
    module, function = split_entry(entry)
    found = find_entry_file(str(code_root), entry)
    if found is None:
        base = code_root.joinpath(*module.split("."))
        if any(base.parent.glob(base.name + ".*.so")):
            return  # compiled extension module: the runtime will tell
        raise LaunchError(
            "%s '%s': there is no %s in %s; fix '%s' or 'codeUri'"
            % (field_name, entry, entry_files(entry)[0], code_root, field_name)
        )
    if found.endswith(".pyc"):
        return  # compiled module: the runtime will tell
    source = Path(found)
    if function not in _top_level_names(source):
        # Named as the entry names it, from the code root (pkg/__init__.py, not __init__.py).
        shown = source.relative_to(code_root).as_posix() if source.is_relative_to(code_root) else source.name
        raise LaunchError(
            "%s '%s': %s defines no function '%s'; fix '%s'"
            % (field_name, entry, shown, function, field_name)
        )


def _top_level_names(source: Path) -> set[str] | _Anything:
    try:
        tree = ast.parse(read_bytes(source, MAX_SOURCE_BYTES), str(source))
    except (SyntaxError, ValueError, UnreadableFile, RecursionError, MemoryError):
        return _Anything()  # the runtime reports syntax errors with the platform's message
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return _Anything()
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        else:
            return _Anything()  # conditional definitions, exec, ...: leave it to the runtime
    return names


class _Anything:
    def __contains__(self, item: object) -> bool:
        return True


def function_interpreter(config: FunctionConfig, python: Optional[str]) -> Interpreter:
    """Resolve the function's interpreter as ``fglocal invoke`` does, or raise fglocal's refusal.

    ``python`` is the launch's own choice (like ``--python``); the refusal is a :class:`LaunchError`.
    """
    try:
        return resolve_interpreter(config, os.path.expanduser(python) if python else None)
    except InterpreterError as exc:
        # fglocal's words for its CLI, said for a launch configuration (which has no --any-python).
        message = str(exc).replace("--python PATH", "'python' in the launch configuration")
        message = message.replace("--python", "'python'")
        message = message.replace(", or pass --any-python to run on it anyway", "")
        raise LaunchError(re.sub(r"; --any-python runs on [^;]* instead$", "", message)) from None


def _check_schema(arguments: Mapping[str, Any]) -> None:
    properties: Dict[str, Any] = launch_schema()["properties"]
    for key, value in arguments.items():
        spec = properties.get(key)
        if spec is None:
            if key not in _CLIENT_KEYS and not key.startswith("__"):
                known = ", ".join(sorted(properties))
                hint = _HINTS.get(key, "the known fields are %s" % known)
                raise LaunchError("unknown launch field '%s'; %s" % (key, hint))
            continue
        # Never the value of a field that holds user data (it may be a secret): only its kind.
        problem = _schema_problem(value, spec, show=key not in SECRET_LAUNCH_FIELDS)
        if problem:
            raise LaunchError("%s: %s (%s)" % (key, problem, spec.get("description", "")))


_JSON_TYPES: Dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
    "null": type(None),
}


SECRET_LAUNCH_FIELDS = ("userData",)


def _schema_problem(value: Any, spec: Mapping[str, Any], show: bool = True) -> Optional[str]:
    def shown(value: Any) -> str:
        return json.dumps(value) if show else json_kind(value)

    kinds = spec.get("type")
    if kinds is not None:
        names = kinds if isinstance(kinds, list) else [kinds]
        ok = any(
            isinstance(value, _JSON_TYPES[name]) and (name == "boolean" or not isinstance(value, bool))
            for name in names
        )
        if not ok:
            return "expected %s, got %s" % (" or ".join(names), shown(value))
    if value is None:
        return None
    if "enum" in spec and value not in spec["enum"]:
        return "expected one of %s, got %s" % (", ".join(map(json.dumps, spec["enum"])), shown(value))
    if "minimum" in spec and value < spec["minimum"]:
        return "must be at least %s, got %s" % (spec["minimum"], value)
    if "maximum" in spec and value > spec["maximum"]:
        return "must be at most %s, got %s" % (spec["maximum"], value)
    if "pattern" in spec and not re.match(spec["pattern"], value):
        if "=" in value:  # KEY=VALUE user data where an entry belongs: never echo it
            return "KEY=VALUE text does not look like 'file.function' (user data goes in userData)"
        return "%s does not look like 'file.function'" % shown(value)
    extra = spec.get("additionalProperties")
    if isinstance(extra, dict) and isinstance(value, dict):
        for item_key, item in value.items():
            problem = _schema_problem(item, extra, show)
            if problem:
                return "%s: %s" % (item_key if show else printable(str(item_key)), problem)
    return None
