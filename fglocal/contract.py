"""The function contract, defined once: fields of ``fglocal.json``, runtimes, memory sizes, ranges, entries.

Every other copy is derived from this module: :mod:`fglocal.config` validates with it, the packager,
the debug adapter and the language server find an entry's file with :func:`entry_files`, and
``python -m fglocal.contract --write`` regenerates the JSON schema of ``fglocal.json``, the enums of
the launch schema and of the extension's ``package.json``, and the extension's TypeScript constants
(``tests/test_contract.py`` fails while a generated copy is stale). Standard library only (3.8+).
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing slows every cold start
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

CONFIG_FILE_NAME = "fglocal.json"
DEFAULT_HANDLER = "index.handler"
# The cloud runtimes of FunctionGraph's Python functions (the console's list).
RUNTIMES = ("python2.7", "python3.6", "python3.9", "python3.10", "python3.12")
DEFAULT_RUNTIME = "python3.9"
# The console's memory steps (MB); current regions also offer 8 and 10 GB.
MEMORY_SIZES = (128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 10240)
DEFAULT_MEMORY_SIZE = 128
# The platform accepts 3-900 s for synchronous calls. fglocal also accepts 1-2 s so that timeout
# behaviour can be tested quickly; `fglocal package` warns about values the console would refuse.
TIMEOUT_RANGE = (1, 900)
CONSOLE_MIN_TIMEOUT = 3
DEFAULT_TIMEOUT = 3
INITIALIZER_TIMEOUT_RANGE = (1, 300)
DEFAULT_INITIALIZER_TIMEOUT = 3
# `file.function` or `pkg.sub.file.function`: dotted Python identifiers, at least two.
ENTRY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
# User-data keys, the console's rule: letters, digits and underscores, starting with a letter.
USER_DATA_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
CREDENTIAL_FIELDS = ("accessKey", "secretKey", "securityToken", "token")
# Fields that describe the local machine only: never packaged, never deployed.
LOCAL_ONLY_FIELDS = ("python",)

# A function's test events: ``<function folder>/events/<name>.json``. Hidden files there are not events:
# ``.fglocal-sync.json``, the record of ``fglocal events pull/push``, is one.
EVENTS_DIR = "events"


def is_test_event_file(name: str) -> bool:
    """Whether a file named ``name`` in ``events/`` is a test event (``*.json``, not hidden)."""
    return name.endswith(".json") and not name.startswith(".")


_STRING = {"type": "string"}


def _field(attr: Optional[str], schema: Dict[str, Any], expected: str) -> Dict[str, Any]:
    return {"attr": attr, "schema": schema, "expected": expected}


# JSON field -> FunctionConfig attribute (None: read by load_config itself), its JSON schema (the
# published one, which also gives the editor's hover text) and how errors describe a valid value.
FIELDS: Dict[str, Dict[str, Any]] = {
    "$schema": _field(None, dict(_STRING), "a string"),
    "description": _field(None, {"type": "string", "description": "Free text."}, "a string"),
    "handler": _field(
        "handler",
        {
            "type": "string",
            "default": DEFAULT_HANDLER,
            "pattern": ENTRY_PATTERN,
            "markdownDescription": "Function execution entry `file.function`: `index.handler` is `handler` "
            "in `index.py` at the root of the code folder.",
        },
        "an entry such as 'index.handler'",
    ),
    "initializer": _field(
        "initializer",
        {
            "type": ["string", "null"],
            "pattern": ENTRY_PATTERN,
            "markdownDescription": "Initializer entry `file.function`, run once per instance before the "
            "first event with `(context)`.",
        },
        "an entry such as 'index.initializer', or null",
    ),
    "initializerTimeout": _field(
        "initializer_timeout",
        {
            "type": "integer",
            "minimum": INITIALIZER_TIMEOUT_RANGE[0],
            "maximum": INITIALIZER_TIMEOUT_RANGE[1],
            "default": DEFAULT_INITIALIZER_TIMEOUT,
            "description": "Initializer timeout in seconds.",
        },
        "whole seconds, %d-%d" % INITIALIZER_TIMEOUT_RANGE,
    ),
    "runtime": _field(
        "runtime",
        {
            "type": "string",
            "enum": list(RUNTIMES),
            "default": DEFAULT_RUNTIME,
            "description": "The FunctionGraph runtime the function is deployed on: the code runs locally "
            "on that Python version and is checked against it.",
        },
        "one of " + ", ".join(RUNTIMES),
    ),
    "python": _field(
        "python",
        {
            "type": "string",
            "markdownDescription": "Local only (never packaged or deployed): the Python interpreter that "
            "runs the function on this machine, e.g. `~/.pyenv/versions/3.9.18/bin/python`. It must be "
            "the runtime's version. Default: found from the runtime (`pythonX.Y` on `PATH`, pyenv, uv, "
            "asdf, conda).",
        },
        "the path of a Python interpreter",
    ),
    "memorySize": _field(
        "memory_size",
        {
            "type": "integer",
            "enum": list(MEMORY_SIZES),
            "default": DEFAULT_MEMORY_SIZE,
            "description": "Memory (MB); the local run enforces it.",
        },
        "MB, one of " + ", ".join(map(str, MEMORY_SIZES)),
    ),
    "timeout": _field(
        "timeout",
        {
            "type": "number",
            "minimum": TIMEOUT_RANGE[0],
            "maximum": TIMEOUT_RANGE[1],
            "default": DEFAULT_TIMEOUT,
            "description": "Execution timeout in seconds.",
        },
        "seconds, %d-%d" % TIMEOUT_RANGE,
    ),
    "userData": _field(
        "user_data",
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "propertyNames": {"pattern": USER_DATA_KEY_PATTERN},
            "markdownDescription": "User data (environment variables) returned by `context.getUserData(key)`; "
            "keys are letters, digits and underscores, starting with a letter.",
        },
        "an object of string values",
    ),
    "envFile": _field(
        None,
        {
            "type": "string",
            "markdownDescription": "A dotenv file (`KEY=VALUE` lines, `#` comments, quotes, `export`) whose "
            "entries are added to the user data; never packaged.",
        },
        "a file path",
    ),
    "codeUri": _field(
        None,
        {"type": "string", "default": ".", "description": "The code folder, relative to this file."},
        "a folder path relative to the config file",
    ),
    "functionName": _field(
        "function_name",
        {
            "type": "string",
            "description": "Function name (context.getFunctionName()); default: the folder's name.",
        },
        "a string",
    ),
    "version": _field(
        "version",
        {"type": "string", "default": "latest", "description": "Function version (context.getVersion())."},
        "a string",
    ),
    "alias": _field(
        "alias", {"type": "string", "description": "Function alias (context.getAlias())."}, "a string"
    ),
    "app": _field(
        "app",
        {
            "type": "string",
            "default": "default",
            "description": "Application the function belongs to (context.getPackage()).",
        },
        "a string",
    ),
    "region": _field(
        "region",
        {
            "type": "string",
            "markdownDescription": "The region the cloud commands (`fglocal deploy`, `fglocal invoke --cloud`, "
            "`fglocal events`) use, e.g. `cn-north-4`; `--region` overrides it, `HUAWEICLOUD_SDK_REGION` "
            "is the fallback.",
        },
        "a region ID such as 'cn-north-4'",
    ),
    "projectId": _field("project_id", {"type": "string", "description": "Project ID."}, "a string"),
    "credentials": _field(
        "credentials",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: dict(_STRING) for name in CREDENTIAL_FIELDS},
            "markdownDescription": "Agency credentials for `getSecurityAccessKey()` and friends. Prefer the "
            "`FGLOCAL_SECURITY_ACCESS_KEY`, `FGLOCAL_SECURITY_SECRET_KEY`, `FGLOCAL_SECURITY_TOKEN` and "
            "`FGLOCAL_TOKEN` environment variables: never commit credentials.",
        },
        "an object with " + ", ".join(CREDENTIAL_FIELDS),
    ),
}
# Launch configuration fields that are function config fields: their types, enums and ranges come
# from FIELDS (the launch schema keeps its own descriptions).
LAUNCH_SHARED_FIELDS = ("handler", "initializer", "initializerTimeout", "memorySize", "timeout", "runtime")


def runtime_version(runtime: str) -> Tuple[int, int]:
    """The ``(major, minor)`` Python version of a runtime name such as ``python3.9``."""
    if not runtime.startswith("python"):
        raise ValueError("not a Python runtime: %r" % runtime)
    major, _, minor = runtime[len("python") :].partition(".")
    return int(major), int(minor)


def runtime_name(version: Tuple[int, int]) -> str:
    """The runtime name of a ``(major, minor)`` version: ``(3, 9)`` → ``python3.9``."""
    return "python%d.%d" % (version[0], version[1])


def entry_module(entry: str) -> str:
    """The module an entry names: ``pkg.file.handler`` → ``pkg.file``."""
    return entry.rpartition(".")[0]


def entry_files(entry: str) -> Tuple[str, str, str]:
    """The files (relative, ``/``-separated, most usual first) that can hold an entry's module.

    ``pkg.file.handler`` → ``pkg/file.py``, ``pkg/file/__init__.py``, ``pkg/file.pyc``: the import
    system's order for source, package and compiled module (compiled extension modules ``.so`` are
    left to the import itself).
    """
    base = entry_module(entry).replace(".", "/")
    return base + ".py", base + "/__init__.py", base + ".pyc"


def find_entry_file(code_root: str, entry: str) -> Optional[str]:
    """The path of the file under ``code_root`` that holds ``entry``'s module, or None."""
    for relative in entry_files(entry):
        candidate = os.path.join(code_root, *relative.split("/"))
        if os.path.isfile(candidate):
            return candidate
    return None


# ---------------------------------------------------------------------------------------- generation

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_SCHEMA_FILE = os.path.join(_ROOT, "vscode-extension", "schemas", "fglocal.schema.json")
LAUNCH_SCHEMA_FILE = os.path.join(_ROOT, "debug_adapter", "launch-schema.json")
PACKAGE_JSON_FILE = os.path.join(_ROOT, "vscode-extension", "package.json")
TS_CONSTANTS_FILE = os.path.join(_ROOT, "vscode-extension", "src", "contract.generated.ts")
_SCHEMA_KEYS = ("type", "enum", "pattern", "minimum", "maximum")


def config_schema() -> Dict[str, Any]:
    """The JSON Schema of ``fglocal.json``."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "FunctionGraph local function config (fglocal.json)",
        "description": "Describes a FunctionGraph function the way the console does; read by fglocal, "
        "the language server and the debugger. Generated from fglocal/contract.py: do not edit.",
        "type": "object",
        "additionalProperties": False,
        "properties": {name: spec["schema"] for name, spec in FIELDS.items()},
    }


def launch_schema(current: Dict[str, Any]) -> Dict[str, Any]:
    """``current`` (the launch schema) with the shared fields' types, enums and ranges from the contract."""
    schema = json.loads(json.dumps(current))
    for name in LAUNCH_SHARED_FIELDS:
        prop = schema["properties"].setdefault(name, {})
        source = FIELDS[name]["schema"]
        for key in _SCHEMA_KEYS:
            if key in source:
                prop[key] = json.loads(json.dumps(source[key]))
            else:
                prop.pop(key, None)
    return schema


def package_json(current: Dict[str, Any], launch: Dict[str, Any]) -> Dict[str, Any]:
    """``current`` (the extension manifest) with the runtime setting's enum and the launch attributes."""
    manifest = json.loads(json.dumps(current))
    setting = manifest["contributes"]["configuration"]["properties"]["functiongraph.runtime"]
    setting["enum"] = ["", *RUNTIMES]
    setting["enumDescriptions"] = [
        setting["enumDescriptions"][0],
        *("Python %d.%d" % runtime_version(r) for r in RUNTIMES),
    ]
    attributes = {
        k: v for k, v in launch.items() if k not in ("$schema", "$id", "title", "additionalProperties")
    }
    manifest["contributes"]["debuggers"][0]["configurationAttributes"] = {"launch": attributes}
    return manifest


def ts_constants() -> str:
    """The extension's TypeScript constants module."""
    lines = [
        "// Generated from fglocal/contract.py by `python -m fglocal.contract --write`: do not edit.",
        "export const CONFIG_FILE_NAME = %s;" % json.dumps(CONFIG_FILE_NAME),
        "export const DEFAULT_HANDLER = %s;" % json.dumps(DEFAULT_HANDLER),
        "export const DEFAULT_RUNTIME = %s;" % json.dumps(DEFAULT_RUNTIME),
        "export const RUNTIMES = %s as const;" % _ts_list(RUNTIMES),
        "export const MEMORY_SIZES = %s as const;" % _ts_list(MEMORY_SIZES),
        "export const DEFAULT_MEMORY_SIZE = %d;" % DEFAULT_MEMORY_SIZE,
        "export const DEFAULT_TIMEOUT = %d;" % DEFAULT_TIMEOUT,
        "export const TIMEOUT_RANGE = %s as const;" % _ts_list(TIMEOUT_RANGE),
        "export const INITIALIZER_TIMEOUT_RANGE = %s as const;" % _ts_list(INITIALIZER_TIMEOUT_RANGE),
        "export const LOCAL_ONLY_FIELDS = %s as const;" % _ts_list(LOCAL_ONLY_FIELDS),
        "export const ENTRY_PATTERN = /%s/;" % ENTRY_PATTERN,
        "/** The files that can hold an entry's module, relative to the code root, most usual first. */",
        "export function entryFiles(entry: string): readonly [string, string, string] {",
        "  const base = entry.slice(0, entry.lastIndexOf('.')).split('.').join('/');",
        "  return [`${base}.py`, `${base}/__init__.py`, `${base}.pyc`];",
        "}",
        "",
    ]
    return "\n".join(lines)


def _ts_list(values: Any) -> str:
    return "[" + ", ".join(json.dumps(v) if isinstance(v, str) else str(v) for v in values) + "]"


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def generated_files() -> List[Tuple[str, str]]:
    """Every generated copy of the contract: ``(path, expected text)``."""
    launch = launch_schema(_read_json(LAUNCH_SCHEMA_FILE))
    return [
        (CONFIG_SCHEMA_FILE, _json_text(config_schema())),
        (LAUNCH_SCHEMA_FILE, _json_text(launch)),
        (PACKAGE_JSON_FILE, _json_text(package_json(_read_json(PACKAGE_JSON_FILE), launch))),
        (TS_CONSTANTS_FILE, ts_constants()),
    ]


def stale_files() -> List[str]:
    """The generated files whose content differs from what the contract generates."""
    stale = []
    for path, text in generated_files():
        try:
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        except OSError:
            current = None
        if current != text:
            stale.append(path)
    return stale


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m fglocal.contract [--write | --check]``: regenerate or check the generated copies."""
    args = sys.argv[1:] if argv is None else argv
    if args not in (["--write"], ["--check"]):
        print("usage: python -m fglocal.contract --write | --check", file=sys.stderr)
        return 2
    if args == ["--check"]:
        stale = stale_files()
        for path in stale:
            print(
                "stale: %s (run python -m fglocal.contract --write)" % os.path.relpath(path), file=sys.stderr
            )
        return 1 if stale else 0
    for path, text in generated_files():
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("wrote " + os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
