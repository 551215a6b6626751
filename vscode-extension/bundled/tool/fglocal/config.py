"""The function config file (``fglocal.json``) and its validation.

One file in the function folder describes the function as the console would: entries, runtime,
memory, timeout, user data, names. Every tool of the kit reads it through :func:`load_config`, so a
field means the same thing to the CLI, the language server and the debug adapter. Command-line flags
and launch configurations override it with :meth:`FunctionConfig.with_overrides`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

CONFIG_FILE_NAME = "fglocal.json"
DEFAULT_HANDLER = "index.handler"
DEFAULT_RUNTIME = "python3.9"
RUNTIMES = ("python2.7", "python3.6", "python3.9", "python3.10", "python3.12")
# The console's memory steps (MB); current regions also offer 8 and 10 GB.
MEMORY_SIZES = (128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 10240)
# The platform accepts 3-900 s for synchronous calls. fglocal also accepts 1-2 s so that timeout
# behaviour can be tested quickly; `fglocal package` warns about values the console would refuse.
TIMEOUT_RANGE = (1, 900)
INITIALIZER_TIMEOUT_RANGE = (1, 300)
# Environment variables that supply the agency's credentials locally (never written to the log).
CREDENTIAL_ENV = {
    "accessKey": "FGLOCAL_SECURITY_ACCESS_KEY",
    "secretKey": "FGLOCAL_SECURITY_SECRET_KEY",
    "securityToken": "FGLOCAL_SECURITY_TOKEN",
    "token": "FGLOCAL_TOKEN",
}
_ENTRY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class ConfigError(ValueError):
    """An invalid function configuration; ``field`` names what to fix."""

    def __init__(self, field_name: str, message: str, source: str = "") -> None:
        self.field = field_name
        self.source = source
        where = " in %s" % source if source else ""
        super().__init__("invalid '%s'%s: %s" % (field_name, where, message))


@dataclass(frozen=True)
class FunctionConfig:
    """Everything the local runtime needs to know about a function besides its code and event."""

    code_root: Path
    handler: str = DEFAULT_HANDLER
    initializer: Optional[str] = None
    initializer_timeout: int = 3
    runtime: str = DEFAULT_RUNTIME
    memory_size: int = 128
    timeout: float = 3
    user_data: Dict[str, str] = field(default_factory=dict)
    function_name: str = ""
    version: str = "latest"
    alias: str = ""
    app: str = "default"
    project_id: str = ""
    credentials: Dict[str, str] = field(default_factory=dict, repr=False)
    config_file: Optional[Path] = None

    def with_overrides(self, **overrides: Any) -> FunctionConfig:
        """A copy with the given (snake_case) fields replaced; None values are ignored."""
        known = {f.name for f in fields(self)}
        changes = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(changes) - known
        if unknown:
            raise TypeError("unknown config fields: %s" % ", ".join(sorted(unknown)))
        updated = replace(self, **changes)
        return _validated(updated, source="command line")

    @property
    def runtime_python(self) -> Tuple[int, int]:
        """The (major, minor) Python version of the configured cloud runtime."""
        major, minor = self.runtime[len("python") :].split(".")
        return int(major), int(minor)


# JSON field name -> (dataclass field, expected type(s), description for errors)
_FIELDS: Dict[str, Tuple[str, Any, str]] = {
    "handler": ("handler", str, "an entry such as 'index.handler'"),
    "initializer": ("initializer", (str, type(None)), "an entry such as 'index.initializer', or null"),
    "initializerTimeout": ("initializer_timeout", int, "whole seconds, 1-300"),
    "runtime": ("runtime", str, "one of " + ", ".join(RUNTIMES)),
    "memorySize": ("memory_size", int, "MB, one of " + ", ".join(map(str, MEMORY_SIZES))),
    "timeout": ("timeout", (int, float), "seconds, 1-900"),
    "userData": ("user_data", dict, "an object of string values"),
    "functionName": ("function_name", str, "a string"),
    "version": ("version", str, "a string"),
    "alias": ("alias", str, "a string"),
    "app": ("app", str, "a string"),
    "projectId": ("project_id", str, "a string"),
    "credentials": ("credentials", dict, "an object with accessKey, secretKey, securityToken, token"),
}
_OTHER_FIELDS = ("codeUri", "envFile", "$schema", "description")


def load_config(
    code_dir: os.PathLike | str = ".",
    config_file: Optional[os.PathLike | str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> FunctionConfig:
    """Read the function config of ``code_dir`` (its ``fglocal.json`` when present).

    ``codeUri`` in the file moves the code root (e.g. to ``src``); ``envFile`` adds user data from a
    ``KEY=VALUE`` file; credentials come from the file's ``credentials`` or the ``FGLOCAL_*``
    environment variables. Raises :class:`ConfigError` naming the field that is wrong.
    """
    environ = os.environ if environ is None else environ
    base = Path(code_dir).resolve()
    path = Path(config_file).resolve() if config_file else base / CONFIG_FILE_NAME
    data: Dict[str, Any] = {}
    if config_file or path.is_file():
        data = _read_json_object(path)
    source = str(path) if data or config_file else ""
    unknown = sorted(set(data) - set(_FIELDS) - set(_OTHER_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "unknown field (known: %s)" % ", ".join(sorted(_FIELDS)), source)

    values: Dict[str, Any] = {}
    for key, (attr, kind, description) in _FIELDS.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(key, "expected %s, got %s" % (description, json.dumps(value)), source)
        values[attr] = value

    root_dir = path.parent if data else base
    code_uri = data.get("codeUri", ".")
    if not isinstance(code_uri, str):
        raise ConfigError("codeUri", "expected a folder path relative to the config file", source)
    code_root = (root_dir / code_uri).resolve()
    if not code_root.is_dir():
        field_name = "codeUri" if "codeUri" in data else "code folder"
        raise ConfigError(field_name, "folder %s does not exist" % code_root, source)

    user_data: Dict[str, str] = {}
    env_file = data.get("envFile")
    if env_file is not None:
        if not isinstance(env_file, str):
            raise ConfigError("envFile", "expected a file path", source)
        user_data.update(read_env_file(root_dir / env_file, field_name="envFile"))
    user_data.update(values.pop("user_data", {}))
    values["user_data"] = user_data

    credentials = {k: environ[v] for k, v in CREDENTIAL_ENV.items() if environ.get(v)}
    credentials.update(values.pop("credentials", {}))
    values["credentials"] = credentials
    values.setdefault("function_name", code_root.name)

    config = FunctionConfig(code_root=code_root, config_file=path if data else None, **values)
    return _validated(config, source)


def read_env_file(path: Path, field_name: str = "envFile") -> Dict[str, str]:
    """Parse a ``KEY=VALUE`` file (``#`` comments, optional quotes, optional ``export``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(field_name, "cannot read %s: %s" % (path, exc.strerror)) from None
    result: Dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", key):
            raise ConfigError(field_name, "line %d of %s is not KEY=VALUE" % (number, path))
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[key] = value
    return result


def _read_json_object(path: Path) -> Dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config file", "cannot read %s: %s" % (path, exc.strerror)) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError("config file", "%s is not valid JSON: %s" % (path, exc)) from None
    if not isinstance(data, dict):
        raise ConfigError("config file", "%s must hold a JSON object" % path)
    return data


def _validated(config: FunctionConfig, source: str) -> FunctionConfig:
    check_entry(config.handler, "handler", source)
    if config.initializer is not None:
        check_entry(config.initializer, "initializer", source)
    if config.runtime not in RUNTIMES:
        raise ConfigError("runtime", "expected one of %s, got %r" % (", ".join(RUNTIMES), config.runtime), source)
    if config.memory_size not in MEMORY_SIZES:
        sizes = ", ".join(map(str, MEMORY_SIZES))
        raise ConfigError("memorySize", "expected one of %s (MB), got %r" % (sizes, config.memory_size), source)
    low, high = TIMEOUT_RANGE
    if not low <= config.timeout <= high:
        raise ConfigError("timeout", "expected %d-%d seconds, got %r" % (low, high, config.timeout), source)
    low, high = INITIALIZER_TIMEOUT_RANGE
    if not low <= config.initializer_timeout <= high:
        message = "expected %d-%d seconds, got %r" % (low, high, config.initializer_timeout)
        raise ConfigError("initializerTimeout", message, source)
    for key, value in config.user_data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError("userData", "value of %r must be a string, got %s" % (key, json.dumps(value)), source)
    for key, value in config.credentials.items():
        if key not in CREDENTIAL_ENV or not isinstance(value, str):
            raise ConfigError("credentials", "expected string fields %s" % ", ".join(CREDENTIAL_ENV), source)
    return config


def check_entry(entry: str, field_name: str = "handler", source: str = "") -> None:
    """Raise :class:`ConfigError` unless ``entry`` looks like ``file.function`` or ``pkg.file.function``."""
    if not isinstance(entry, str) or not _ENTRY_RE.match(entry):
        message = "expected 'file.function' (e.g. 'index.handler'), got %s" % json.dumps(entry)
        raise ConfigError(field_name, message, source)


def split_entry(entry: str) -> Tuple[str, str]:
    """Split ``pkg.file.function`` into the module path ``pkg.file`` and the function name."""
    module, _, function = entry.rpartition(".")
    return module, function
