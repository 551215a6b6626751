"""The function config file (``fglocal.json``) and its validation.

One file in the function folder describes the function as the console would: entries, runtime,
memory, timeout, user data, names. Every tool of the kit reads it through :func:`load_config`, so a
field means the same thing to the CLI, the language server and the debug adapter. Command-line flags
and launch configurations override it with :meth:`FunctionConfig.with_overrides`.
"""

from __future__ import annotations

import json
import os

from fglocal.contract import (
    CONFIG_FILE_NAME,
    DEFAULT_HANDLER,
    DEFAULT_RUNTIME,
    FIELDS,
    INITIALIZER_TIMEOUT_RANGE,
    MEMORY_SIZES,
    RUNTIMES,
    TIMEOUT_RANGE,
    runtime_version,
)

# Not `from typing import TYPE_CHECKING`: importing typing costs the cold start ~3 ms. mypy treats any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Dict, Mapping, Optional, Tuple


__all__ = [
    "CONFIG_FILE_NAME",
    "CREDENTIAL_ENV",
    "DEFAULT_HANDLER",
    "DEFAULT_RUNTIME",
    "INITIALIZER_TIMEOUT_RANGE",
    "MEMORY_SIZES",
    "RUNTIMES",
    "TIMEOUT_RANGE",
    "ConfigError",
    "FunctionConfig",
    "check_entry",
    "load_config",
    "read_env_file",
    "split_entry",
]
# Environment variables that supply the agency's credentials locally (never written to the log).
CREDENTIAL_ENV = {
    "accessKey": "FGLOCAL_SECURITY_ACCESS_KEY",
    "secretKey": "FGLOCAL_SECURITY_SECRET_KEY",
    "securityToken": "FGLOCAL_SECURITY_TOKEN",
    "token": "FGLOCAL_TOKEN",
}
_IDENTIFIER_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENTIFIER_CHARS = _IDENTIFIER_START | set("0123456789")


class ConfigError(ValueError):
    """An invalid function configuration; ``field`` names what to fix."""

    def __init__(self, field_name: str, message: str, source: str = "") -> None:
        self.field = field_name
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid '{field_name}'{where}: {message}")


class FunctionConfig:
    """Everything the local runtime needs to know about a function besides its code and event.

    Immutable by convention: derive a changed copy with :meth:`with_overrides`. (A plain class rather
    than a dataclass: ``dataclasses`` imports ``inspect``, which would add ~7 ms to every cold start.)
    """

    __slots__ = (
        "alias",
        "app",
        "code_dir",
        "config_file",
        "credentials",
        "function_name",
        "handler",
        "initializer",
        "initializer_timeout",
        "memory_size",
        "project_id",
        "python",
        "runtime",
        "timeout",
        "user_data",
        "version",
    )

    def __init__(
        self,
        code_root: Any,
        handler: str = DEFAULT_HANDLER,
        initializer: Optional[str] = None,
        initializer_timeout: int = 3,
        runtime: str = DEFAULT_RUNTIME,
        memory_size: int = 128,
        timeout: float = 3,
        user_data: Optional[Dict[str, str]] = None,
        function_name: str = "",
        version: str = "latest",
        alias: str = "",
        app: str = "default",
        project_id: str = "",
        credentials: Optional[Dict[str, str]] = None,
        config_file: Optional[Any] = None,
        python: Optional[str] = None,
    ) -> None:
        self.code_dir = os.fspath(code_root)  # absolute path of the code root, as a str
        self.handler = handler
        self.initializer = initializer
        self.initializer_timeout = initializer_timeout
        self.runtime = runtime
        self.memory_size = memory_size
        self.timeout = timeout
        self.user_data = dict(user_data or {})
        self.function_name = function_name
        self.version = version
        self.alias = alias
        self.app = app
        self.project_id = project_id
        self.credentials = dict(credentials or {})
        self.config_file = None if config_file is None else os.fspath(config_file)
        # Local only: the interpreter fglocal.json names for this machine (never packaged).
        self.python = python

    @property
    def code_root(self) -> Path:
        """The code root (the folder that becomes the zip's root) as a Path."""
        from pathlib import Path

        return Path(self.code_dir)

    def _fields(self) -> Dict[str, Any]:
        values = {name: getattr(self, name) for name in self.__slots__ if name != "code_dir"}
        values["code_root"] = self.code_dir
        return values

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionConfig) and self._fields() == other._fields()

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._fields().items() if k != "credentials"}  # never show secrets
        return "FunctionConfig(%s)" % ", ".join("%s=%r" % item for item in sorted(shown.items()))

    def with_overrides(self, **overrides: Any) -> FunctionConfig:
        """A copy with the given (snake_case) fields replaced; None values are ignored."""
        values = self._fields()
        changes = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(changes) - set(values)
        if unknown:
            raise TypeError("unknown config fields: %s" % ", ".join(sorted(unknown)))
        values.update(changes)
        return _validated(FunctionConfig(**values), source="command line")

    @property
    def runtime_python(self) -> Tuple[int, int]:
        """The (major, minor) Python version of the configured cloud runtime."""
        return runtime_version(self.runtime)


# JSON field name -> (FunctionConfig attribute, expected JSON type(s), description for errors), from
# the contract; the fields load_config reads itself (codeUri, envFile, ...) are in _OTHER_FIELDS.
_JSON_TYPES: Dict[str, Any] = {
    "string": str,
    "null": type(None),
    "integer": int,
    "number": (int, float),
    "object": dict,
}


def _python_types(json_type: Any) -> Any:
    names = json_type if isinstance(json_type, list) else [json_type]
    kinds: Tuple[Any, ...] = ()
    for name in names:
        kind = _JSON_TYPES[name]
        kinds += kind if isinstance(kind, tuple) else (kind,)
    return kinds[0] if len(kinds) == 1 else kinds


_FIELDS: Dict[str, Tuple[str, Any, str]] = {
    name: (spec["attr"], _python_types(spec["schema"]["type"]), spec["expected"])
    for name, spec in FIELDS.items()
    if spec["attr"]
}
_OTHER_FIELDS = tuple(name for name, spec in FIELDS.items() if not spec["attr"])


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
    base = os.path.realpath(os.fspath(code_dir))
    path = os.path.realpath(os.fspath(config_file)) if config_file else os.path.join(base, CONFIG_FILE_NAME)
    data: Dict[str, Any] = {}
    if config_file or os.path.isfile(path):
        data = _read_json_object(path)
    source = path if data or config_file else ""
    unknown = sorted(set(data) - set(_FIELDS) - set(_OTHER_FIELDS))
    if unknown:
        raise ConfigError(unknown[0], "unknown field (known: {})".format(", ".join(sorted(_FIELDS))), source)

    values: Dict[str, Any] = {}
    for key, (attr, kind, description) in _FIELDS.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(key, f"expected {description}, got {json.dumps(value)}", source)
        values[attr] = value

    root_dir = os.path.dirname(path) if data else base
    code_uri = data.get("codeUri", ".")
    if not isinstance(code_uri, str):
        raise ConfigError("codeUri", "expected a folder path relative to the config file", source)
    code_root = os.path.realpath(os.path.join(root_dir, code_uri))
    if not os.path.isdir(code_root):
        field_name = "codeUri" if "codeUri" in data else "code folder"
        raise ConfigError(field_name, f"folder {code_root} does not exist", source)

    user_data: Dict[str, str] = {}
    env_file = data.get("envFile")
    if env_file is not None:
        if not isinstance(env_file, str):
            raise ConfigError("envFile", "expected a file path", source)
        user_data.update(read_env_file(os.path.join(root_dir, env_file), field_name="envFile"))
    user_data.update(values.pop("user_data", {}))
    values["user_data"] = user_data

    credentials = {k: environ[v] for k, v in CREDENTIAL_ENV.items() if environ.get(v)}
    credentials.update(values.pop("credentials", {}))
    values["credentials"] = credentials
    values.setdefault("function_name", os.path.basename(code_root))

    config = FunctionConfig(code_root=code_root, config_file=path if data else None, **values)
    return _validated(config, source)


def read_env_file(path: Any, field_name: str = "envFile") -> Dict[str, str]:
    """Parse a ``KEY=VALUE`` file (``#`` comments, optional quotes, optional ``export``)."""
    try:
        with open(path, encoding="utf-8") as env_file:
            text = env_file.read()
    except OSError as exc:
        raise ConfigError(field_name, f"cannot read {path}: {exc.strerror}") from None
    result: Dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if (
            not sep
            or not key
            or key[0] not in _IDENTIFIER_START
            or not set(key) <= _IDENTIFIER_CHARS | {".", "-"}
        ):
            raise ConfigError(field_name, "line %d of %s is not KEY=VALUE" % (number, path))
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[key] = value
    return result


def _read_json_object(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as config_file:
            text = config_file.read()
    except OSError as exc:
        raise ConfigError("config file", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError("config file", f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("config file", f"{path} must hold a JSON object")
    return data


def _validated(config: FunctionConfig, source: str) -> FunctionConfig:
    check_entry(config.handler, "handler", source)
    if config.initializer is not None:
        check_entry(config.initializer, "initializer", source)
    if config.runtime not in RUNTIMES:
        raise ConfigError(
            "runtime", "expected one of {}, got {!r}".format(", ".join(RUNTIMES), config.runtime), source
        )
    if config.memory_size not in MEMORY_SIZES:
        sizes = ", ".join(map(str, MEMORY_SIZES))
        raise ConfigError("memorySize", f"expected one of {sizes} (MB), got {config.memory_size!r}", source)
    low, high = TIMEOUT_RANGE
    if not low <= config.timeout <= high:
        raise ConfigError("timeout", "expected %d-%d seconds, got %r" % (low, high, config.timeout), source)
    low, high = INITIALIZER_TIMEOUT_RANGE
    if not low <= config.initializer_timeout <= high:
        message = "expected %d-%d seconds, got %r" % (low, high, config.initializer_timeout)
        raise ConfigError("initializerTimeout", message, source)
    for key, value in config.user_data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ConfigError(
                "userData", f"value of {key!r} must be a string, got {json.dumps(value)}", source
            )
    for key, value in config.credentials.items():
        if key not in CREDENTIAL_ENV or not isinstance(value, str):
            raise ConfigError(
                "credentials", "expected string fields {}".format(", ".join(CREDENTIAL_ENV)), source
            )
    return config


def check_entry(entry: str, field_name: str = "handler", source: str = "") -> None:
    """Raise :class:`ConfigError` unless ``entry`` looks like ``file.function`` or ``pkg.file.function``."""
    if not isinstance(entry, str) or not _is_entry(entry):
        message = f"expected 'file.function' (e.g. 'index.handler'), got {json.dumps(entry)}"
        raise ConfigError(field_name, message, source)


def _is_entry(entry: str) -> bool:
    parts = entry.split(".")
    return len(parts) >= 2 and all(
        part and part[0] in _IDENTIFIER_START and set(part) <= _IDENTIFIER_CHARS for part in parts
    )


def split_entry(entry: str) -> Tuple[str, str]:
    """Split ``pkg.file.function`` into the module path ``pkg.file`` and the function name."""
    module, _, function = entry.rpartition(".")
    return module, function
