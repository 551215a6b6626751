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
import stat

from fglocal.contract import (
    CONFIG_FILE_NAME,
    DEFAULT_HANDLER,
    DEFAULT_RUNTIME,
    FIELDS,
    INITIALIZER_TIMEOUT_RANGE,
    MEMORY_SIZES,
    RUNTIMES,
    TIMEOUT_RANGE,
    USER_DATA_KEY_PATTERN,
    runtime_version,
)
from fglocal.printable import printable

# Not `from typing import TYPE_CHECKING`: importing typing costs the cold start ~3 ms. mypy treats any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Dict, List, Mapping, Optional, Tuple


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
        where = f" in {printable(source)}" if source else ""
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
        "region",
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
        region: str = "",
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
        # Where the cloud commands deploy and invoke (the region's ID, e.g. cn-north-4); "" when unset.
        self.region = region

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
        # Never show secrets: credentials are left out, user data shows its keys only.
        shown = {k: v for k, v in self._fields().items() if k != "credentials"}
        shown["user_data"] = {key: "***" for key in self.user_data}
        return "FunctionConfig(%s)" % ", ".join("%s=%r" % item for item in sorted(shown.items()))

    def checked(self) -> FunctionConfig:
        """Return this config once validated (raises :class:`ConfigError` naming what is wrong)."""
        return _validated(self, source="")

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
# Fields whose values are never shown in a message: they hold credentials or user data.
_SECRET_FIELDS = ("userData", "credentials")


def load_config(
    code_dir: os.PathLike | str = ".",
    config_file: Optional[os.PathLike | str] = None,
    environ: Optional[Mapping[str, str]] = None,
    text: Optional[str] = None,
) -> FunctionConfig:
    """Read the function config of ``code_dir`` (its ``fglocal.json`` when present).

    ``codeUri`` in the file moves the code root (e.g. to ``src``); ``envFile`` adds user data from a
    ``KEY=VALUE`` file; credentials come from the file's ``credentials`` or the ``FGLOCAL_*``
    environment variables. Raises :class:`ConfigError` naming the field that is wrong. ``text``:
    the config file's content as an editor holds it (unsaved), checked instead of the file's.
    """
    environ = os.environ if environ is None else environ
    base = os.path.realpath(os.fspath(code_dir))
    path = os.path.realpath(os.fspath(config_file)) if config_file else os.path.join(base, CONFIG_FILE_NAME)
    data: Dict[str, Any] = {}
    if text is not None:
        data = _json_object(text, path)
    elif config_file or os.path.isfile(path):
        data = _read_json_object(path)
    source = path if data or config_file else ""
    unknown = sorted(set(data) - set(_FIELDS) - set(_OTHER_FIELDS))
    if unknown:
        known = ", ".join(sorted(_FIELDS))
        raise ConfigError(printable(unknown[0]), f"unknown field (known: {known})", source)

    values: Dict[str, Any] = {}
    for key, (attr, kind, description) in _FIELDS.items():
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            # Never the value itself for the fields that hold secrets: only what kind of value it is.
            got = json_kind(value) if key in _SECRET_FIELDS else _shown_value(value)
            raise ConfigError(key, f"expected {description}, got {got}", source)
        values[attr] = value
    if "user_data" in values:
        check_user_data(values["user_data"], "userData", source)
    if "credentials" in values:
        _check_credentials(values["credentials"], source)

    for key in _PATH_FIELDS:
        if isinstance(data.get(key), str):
            _check_path_text(key, data[key], source)

    root_dir = os.path.dirname(path) if data else base
    code_uri = data.get("codeUri", ".")
    if not isinstance(code_uri, str):
        raise ConfigError("codeUri", "expected a folder path relative to the config file", source)
    code_root = os.path.realpath(os.path.join(root_dir, code_uri))
    if not os.path.isdir(code_root):
        field_name = "codeUri" if "codeUri" in data else "code folder"
        raise ConfigError(field_name, f"folder {printable(code_root)} does not exist", source)

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


# Fields that name files or folders: the operating system must be able to take them.
_PATH_FIELDS = ("codeUri", "envFile", "python")


def _check_path_text(field_name: str, value: str, source: str) -> None:
    if "\0" in value:
        raise ConfigError(field_name, "a path cannot hold a NUL character", source)
    try:
        os.fsencode(value)
    except UnicodeError:
        raise ConfigError(
            field_name, "a path cannot hold a lone surrogate (\\ud800-\\udfff)", source
        ) from None
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in value):
        # Legal on Linux, but no real folder has one, and messages would carry it to the terminal.
        raise ConfigError(field_name, "a path cannot hold control characters (newline, ESC...)", source)


ENV_FILE_LIMIT = 1024 * 1024  # far above what the platform takes (its user data is a few KB)


def read_env_file(path: Any, field_name: str = "envFile", regular_only: bool = True) -> Dict[str, str]:
    """Read a dotenv file of user data (the syntax of python-dotenv and docker compose; see README).

    A file a config names must be a regular file (a FIFO in a cloned repository would block); the
    command line's ``--env-file`` may also be a pipe (``--env-file <(vault read ...)``). Either way it
    is read up to ENV_FILE_LIMIT bytes.
    """
    shown = printable(os.fspath(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) if regular_only else os.O_RDONLY)
        with os.fdopen(fd, "rb") as env_file:
            if regular_only and not stat.S_ISREG(os.fstat(env_file.fileno()).st_mode):
                raise ConfigError(field_name, f"{shown} is not a regular file")
            data = env_file.read(ENV_FILE_LIMIT + 1)
    except OSError as exc:
        raise ConfigError(field_name, f"cannot read {shown}: {exc.strerror}") from None
    if len(data) > ENV_FILE_LIMIT:
        raise ConfigError(field_name, f"{shown} is over {ENV_FILE_LIMIT // 1024} KB: not an env file")
    return parse_env_text(_decode_utf8(data, field_name, path), field_name, os.fspath(path))


def _decode_utf8(data: bytes, field_name: str, path: Any) -> str:
    """The text of a file's bytes (UTF-8, a BOM allowed); the error names the line, never the text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    # Raised outside the except block: the decode error holds the file's bytes.
    raise ConfigError(field_name, f"{printable(os.fspath(path))} is not UTF-8 text (line {line})")


class _EnvLine:
    """A cursor over a dotenv text: where it is, which line it is on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def skip_blanks(self) -> None:
        while self.peek() in (" ", "\t", "\r", "\f", "\v"):
            self.pos += 1

    def rest_of_line(self) -> str:
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        rest = self.text[self.pos : end]
        self.pos = end
        return rest


# Escapes inside double quotes, as python-dotenv decodes them; any other backslash is kept as written.
_DOUBLE_QUOTE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


def parse_env_text(text: str, field_name: str = "envFile", source: str = "") -> Dict[str, str]:
    """Parse dotenv text into user data; errors name the line and what is wrong, never a value."""
    result: Dict[str, str] = {}
    text = text.replace("\r\n", "\n")  # read as text files are: a CRLF file means what an LF one does
    cursor = _EnvLine(text)
    where = f" of {printable(source)}" if source else ""

    def fail(line: int, problem: str) -> ConfigError:
        return ConfigError(field_name, f"line {line}{where}: {problem}")

    while cursor.pos < len(text):
        cursor.skip_blanks()
        line = cursor.line
        char = cursor.peek()
        if char in ("\n", ""):
            cursor.take()
            continue
        if char == "#":
            cursor.rest_of_line()
            continue
        if text.startswith("export", cursor.pos) and text[cursor.pos + 6 : cursor.pos + 7] in (" ", "\t"):
            cursor.pos += 6
            cursor.skip_blanks()
        start = cursor.pos
        while cursor.peek() not in ("=", "\n", "") and cursor.peek() not in " \t\r\f\v":
            cursor.pos += 1
        key = text[start : cursor.pos]
        cursor.skip_blanks()
        if cursor.peek() != "=":
            if not key:
                raise fail(line, "expected KEY=VALUE")
            raise fail(line, "expected KEY=VALUE (write KEY= for an empty value)")
        cursor.take()
        problem = user_data_key_problem(key)
        if problem:
            raise fail(line, f"the key {problem}")
        after_equals = cursor.pos
        cursor.skip_blanks()
        quote = cursor.peek()
        if quote in ("'", '"'):
            cursor.take()
            value = _quoted_value(cursor, quote)
            if value is None:
                raise fail(line, f"the {'single' if quote == chr(39) else 'double'} quote is never closed")
            after = cursor.rest_of_line().strip()
            if after and not after.startswith("#"):
                raise fail(cursor.line, "unexpected text after the closing quote (quote the whole value)")
        else:
            blank_before = cursor.pos > after_equals
            value = cursor.rest_of_line()
            value = _strip_inline_comment(value, blank_before).rstrip()
        if "\0" in value:
            raise fail(line, f"the value of {key} holds a NUL character, which no environment can hold")
        result[key] = value
    return result


def _quoted_value(cursor: _EnvLine, quote: str) -> Optional[str]:
    """The value up to the closing ``quote`` (lines included); None when the quote is never closed."""
    out: List[str] = []
    while True:
        char = cursor.take()
        if char == "":
            return None
        if char == quote:
            return "".join(out)
        if char == "\\":
            following = cursor.peek()
            if quote == "'" and following in ("'", "\\"):
                out.append(cursor.take())  # python-dotenv: \' and \\ inside single quotes
                continue
            if quote == '"' and following in _DOUBLE_QUOTE_ESCAPES:
                out.append(_DOUBLE_QUOTE_ESCAPES[cursor.take()])
                continue
        out.append(char)


def _strip_inline_comment(value: str, blank_before: bool) -> str:
    """An unquoted value without its `` # comment``: a ``#`` after whitespace starts one."""
    if value.startswith("#") and blank_before:
        return ""  # KEY= # comment (the blanks after '=' were skipped); KEY=#1 keeps its '#'
    for index in range(1, len(value)):
        if value[index] == "#" and value[index - 1] in " \t":
            return value[:index]
    return value


def _read_json_object(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as config_file:
            raw = config_file.read()
    except OSError as exc:
        raise ConfigError("config file", f"cannot read {printable(path)}: {exc.strerror}") from None
    return _json_object(_decode_utf8(raw, "config file", path), path)


def _json_object(text: str, path: str) -> Dict[str, Any]:
    """The JSON object of the config file ``path`` whose content is ``text``."""
    problem = ""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Where and what, from the decoder's fields: never the offending text (it may be a secret).
        problem = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        problem = "nested too deeply"
    except ValueError:  # an integer of more digits than int() accepts (Python 3.11+)
        problem = "a number in it is too long"
    if problem:
        raise ConfigError("config file", f"{printable(path)} is not valid JSON: {problem}")
    if not isinstance(data, dict):
        raise ConfigError("config file", f"{printable(path)} must hold a JSON object")
    return data


def json_kind(value: Any) -> str:
    """What kind of JSON value ``value`` is (for messages that must not show it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a " + type(value).__name__


def _shown_value(value: Any) -> str:
    """A value of a non-secret field as a message shows it: scalars as JSON, containers by kind."""
    if isinstance(value, (dict, list, tuple)):
        return json_kind(value)
    text = json.dumps(value, default=repr)
    return printable(text if len(text) <= 80 else text[:77] + "...")


def user_data_key_problem(key: Any) -> str:
    """What is wrong with ``key`` as a user-data (environment variable) name, or "" when nothing.

    The platform's rule: letters, digits and underscores, starting with a letter. The description
    never repeats the key (a mistyped line can put a secret there); callers say where it is.
    """
    if not isinstance(key, str):
        return f"is {json_kind(key)}, not a name"
    if not key:
        return "is empty"
    if "=" in key:
        return "contains '=', which cannot be in an environment variable name"
    if "\0" in key:
        return "contains a NUL character"
    if not re.fullmatch(USER_DATA_KEY_PATTERN, key):  # fullmatch: '$' would let a final newline in
        return (
            "is not an environment variable name: FunctionGraph accepts letters, digits and "
            "underscores, starting with a letter"
        )
    return ""


def check_user_data(user_data: Any, field_name: str = "userData", source: str = "") -> None:
    """Raise :class:`ConfigError` unless ``user_data`` maps names to strings an environment can hold."""
    if not isinstance(user_data, dict):
        raise ConfigError(
            field_name, f"expected an object of string values, got {json_kind(user_data)}", source
        )
    for number, (key, value) in enumerate(user_data.items(), 1):
        problem = user_data_key_problem(key)
        if problem:
            raise ConfigError(field_name, f"key #{number} {problem}", source)
        if not isinstance(value, str):
            raise ConfigError(
                field_name, f"the value of {key} must be a string, got {json_kind(value)}", source
            )
        if "\0" in value:
            raise ConfigError(
                field_name, f"the value of {key} holds a NUL character, which no environment can hold", source
            )
        try:
            os.fsencode(value)  # what os.environ does with it
        except UnicodeError:
            raise ConfigError(
                field_name,
                f"the value of {key} holds a lone surrogate (\\ud800-\\udfff), which is not text",
                source,
            ) from None


def _check_credentials(credentials: Any, source: str) -> None:
    if not isinstance(credentials, dict):
        raise ConfigError("credentials", f"expected an object, got {json_kind(credentials)}", source)
    known = ", ".join(CREDENTIAL_ENV)
    for number, (key, value) in enumerate(credentials.items(), 1):
        if key not in CREDENTIAL_ENV:
            raise ConfigError("credentials", f"key #{number} is not one of {known}", source)
        if not isinstance(value, str):
            raise ConfigError("credentials", f"{key} must be a string, got {json_kind(value)}", source)


def _validated(config: FunctionConfig, source: str) -> FunctionConfig:
    check_entry(config.handler, "handler", source)
    if config.initializer is not None:
        check_entry(config.initializer, "initializer", source)
    if config.runtime not in RUNTIMES:
        runtimes = ", ".join(RUNTIMES)
        raise ConfigError(
            "runtime", f"expected one of {runtimes}, got {_shown_value(config.runtime)}", source
        )
    if config.memory_size not in MEMORY_SIZES:
        sizes = ", ".join(map(str, MEMORY_SIZES))
        got = _shown_value(config.memory_size)
        raise ConfigError("memorySize", f"expected one of {sizes} (MB), got {got}", source)
    low, high = TIMEOUT_RANGE
    if not low <= config.timeout <= high:
        raise ConfigError("timeout", "expected %d-%d seconds, got %r" % (low, high, config.timeout), source)
    low, high = INITIALIZER_TIMEOUT_RANGE
    if not low <= config.initializer_timeout <= high:
        message = "expected %d-%d seconds, got %r" % (low, high, config.initializer_timeout)
        raise ConfigError("initializerTimeout", message, source)
    check_user_data(config.user_data, "userData", source)
    _check_credentials(config.credentials, source)
    return config


def check_entry(entry: str, field_name: str = "handler", source: str = "") -> None:
    """Raise :class:`ConfigError` unless ``entry`` looks like ``file.function`` or ``pkg.file.function``."""
    if not isinstance(entry, str) or not _is_entry(entry):
        if isinstance(entry, str) and "=" in entry:
            # KEY=VALUE where an entry belongs: user data given without its flag; never echo it.
            got = "KEY=VALUE text (user data goes in --user-data or userData)"
        else:
            got = _shown_value(entry)
        message = f"expected 'file.function' (e.g. 'index.handler'), got {got}"
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
