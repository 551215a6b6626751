# -*- coding: utf-8 -*-
"""The Context object FunctionGraph passes to handlers and initializers.

This module is the single source of truth for the runtime SDK: the language server builds its
completions, hovers and diagnostics from these methods (names, signatures, docstrings and the
``deprecated``/``sensitive`` marks below), so the docstrings are written for the user reading them in
an editor. Keep this file free of imports beyond the standard library: it is loaded into the user's
function process.
"""

from __future__ import absolute_import

import sys
import time

from .compat import to_text

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing is not on 2.7, and importing it is slow
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Any])


def deprecated(replacement):  # type: (str) -> Callable[[_F], _F]
    """Mark a Context method as no longer maintained by the platform, naming its successor."""

    def mark(method):  # type: (_F) -> _F
        method.__fg_deprecated__ = replacement  # type: ignore[attr-defined]
        return method

    return mark


def sensitive(method):  # type: (_F) -> _F
    """Mark a Context method whose return value is a credential that must never be logged."""
    method.__fg_sensitive__ = True  # type: ignore[attr-defined]
    return method


def _utc_timestamp():  # type: () -> str
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (int(now * 1000) % 1000)


class Logger(object):
    """The logger returned by ``context.getLogger()``.

    Each call writes one line ``<UTC time> <request ID> <LEVEL> <message>`` to the invocation's log,
    in order with ``print`` output. Messages may be any object (dicts are printed as they are) and
    take ``%``-style arguments like the standard ``logging`` module.
    """

    def __init__(self, request_id, write=None):  # type: (str, Optional[Callable[[str], Any]]) -> None
        self._request_id = request_id
        self._write = write

    def _emit(self, level, message, args):  # type: (str, Any, tuple) -> None
        text = to_text(message)
        if args:
            try:
                text = text % args
            except (TypeError, ValueError):
                # The platform's logger does not raise on a bad format; show what was given.
                text = " ".join([text] + [to_text(a) for a in args])
        line = "%s %s %s %s\n" % (_utc_timestamp(), self._request_id, level, text)
        # Written through sys.stdout (not a saved handle) so that it interleaves with print() in order.
        (self._write or sys.stdout.write)(line)

    def info(self, message, *args):  # type: (Any, *Any) -> None
        """Write an INFO line: ``<time> <request ID> INFO <message>``.

        ``message`` may be any object; ``%``-style ``args`` are applied as in ``logging``.
        Example: ``log.info("got %d records", len(records))``.
        """
        self._emit("INFO", message, args)

    def warn(self, message, *args):  # type: (Any, *Any) -> None
        """Write a WARN line: ``<time> <request ID> WARN <message>``. Same as ``warning``."""
        self._emit("WARN", message, args)

    def warning(self, message, *args):  # type: (Any, *Any) -> None
        """Write a WARN line: ``<time> <request ID> WARN <message>``. Same as ``warn``."""
        self._emit("WARN", message, args)

    def error(self, message, *args):  # type: (Any, *Any) -> None
        """Write an ERROR line: ``<time> <request ID> ERROR <message>``."""
        self._emit("ERROR", message, args)

    def debug(self, message, *args):  # type: (Any, *Any) -> None
        """Write a DEBUG line: ``<time> <request ID> DEBUG <message>``."""
        self._emit("DEBUG", message, args)


class Credentials(object):
    """Delegated (agency) credentials of a function; empty strings when no agency is configured."""

    __slots__ = ("access_key", "secret_key", "security_token", "token")

    def __init__(self, access_key="", secret_key="", security_token="", token=""):
        # type: (str, str, str, str) -> None
        self.access_key = access_key
        self.secret_key = secret_key
        self.security_token = security_token
        self.token = token

    def __repr__(self):  # type: () -> str
        # Never show the values: a repr can end up in a log or a debugger's variables view.
        return "Credentials(<hidden>)"


class Context(object):
    """The runtime context FunctionGraph passes as the handler's second argument.

    It also is the initializer's only argument. Use it to read the request ID, the time left, the
    function's configuration, its user data (environment variables), delegated credentials and a
    logger. A new Context is created for every invocation.
    """

    def __init__(
        self,
        request_id,
        function_name="",
        version="latest",
        alias="",
        package="default",
        project_id="",
        memory_size=128,
        timeout_seconds=3,
        user_data=None,
        credentials=None,
        remaining_ms=None,
        write_log=None,
    ):
        # type: (str, str, str, str, str, str, int, int, Optional[Dict[str, str]], Optional[Credentials], Optional[Callable[[], int]], Optional[Callable[[str], Any]]) -> None
        # Callers pass everything but request_id by keyword (keyword-only arguments are 3.0+).
        self._request_id = request_id
        self._function_name = function_name
        self._version = version
        self._alias = alias
        self._package = package
        self._project_id = project_id
        self._memory_size = memory_size
        self._timeout_seconds = timeout_seconds
        self._user_data = dict(user_data or {})
        self._credentials = credentials or Credentials()
        if remaining_ms is None:
            deadline = time.time() + timeout_seconds
            remaining_ms = lambda: max(0, int((deadline - time.time()) * 1000))  # noqa: E731
        self._remaining_ms = remaining_ms
        self._write_log = write_log
        self._warned_deprecated = set()  # type: set

    def __repr__(self):  # type: () -> str
        return "<FunctionGraph Context request_id=%s function=%s>" % (self._request_id, self._function_name)

    def getRequestID(self):  # type: () -> str
        """Return the ID of the current request (a UUID string, new for every invocation).

        Include it in log lines and error reports to find the invocation in the console's logs.
        """
        return self._request_id

    def getRemainingTimeInMilliSeconds(self):  # type: () -> int
        """Return how many milliseconds this invocation has left before it times out.

        Counts down from the configured timeout (``getRunningTimeInSeconds()`` × 1000) since the
        invocation started; 0 when the time is up. Check it before starting long work.
        """
        return self._remaining_ms()

    @sensitive
    @deprecated("getSecurityAccessKey")
    def getAccessKey(self):  # type: () -> str
        """Return the delegated AccessKey (AK). Deprecated: use ``getSecurityAccessKey()``.

        FunctionGraph no longer maintains this method: it cannot be used to obtain a temporary AK.
        Sensitive: never log or return this value.
        """
        self._warn_deprecated("getAccessKey", "getSecurityAccessKey")
        return self._credentials.access_key

    @sensitive
    @deprecated("getSecuritySecretKey")
    def getSecretKey(self):  # type: () -> str
        """Return the delegated SecretKey (SK). Deprecated: use ``getSecuritySecretKey()``.

        FunctionGraph no longer maintains this method: it cannot be used to obtain a temporary SK.
        Sensitive: never log or return this value.
        """
        self._warn_deprecated("getSecretKey", "getSecuritySecretKey")
        return self._credentials.secret_key

    @sensitive
    def getSecurityAccessKey(self):  # type: () -> str
        """Return the temporary AccessKey (AK) of the function's agency, valid for 24 hours.

        Needs an agency configured on the function; returns ``""`` when there is none. Use it with
        ``getSecuritySecretKey()`` and ``getSecurityToken()`` to call other cloud services.
        Sensitive: never log or return this value.
        """
        return self._credentials.access_key

    @sensitive
    def getSecuritySecretKey(self):  # type: () -> str
        """Return the temporary SecretKey (SK) of the function's agency, valid for 24 hours.

        Needs an agency configured on the function; returns ``""`` when there is none.
        Sensitive: never log or return this value.
        """
        return self._credentials.secret_key

    @sensitive
    def getSecurityToken(self):  # type: () -> str
        """Return the security token that goes with the temporary AK/SK, valid for 24 hours.

        Needs an agency configured on the function; returns ``""`` when there is none.
        Sensitive: never log or return this value.
        """
        return self._credentials.security_token

    def getUserData(self, key, default=None):  # type: (str, Optional[str]) -> Optional[str]
        """Return the value of the function's environment variable (user data) ``key``.

        Returns ``default`` (``None`` unless given) when the variable is not configured. Encrypted
        variables are returned decrypted. Example: ``context.getUserData("bucket", "my-bucket")``.
        """
        return self._user_data.get(key, default)

    def getFunctionName(self):  # type: () -> str
        """Return the name of the function."""
        return self._function_name

    def getRunningTimeInSeconds(self):  # type: () -> int
        """Return the function's configured timeout in seconds (3 to 900 for synchronous calls)."""
        return self._timeout_seconds

    def getVersion(self):  # type: () -> str
        """Return the version of the function being run (``"latest"`` unless a version is published)."""
        return self._version

    def getMemorySize(self):  # type: () -> int
        """Return the memory configured for the function, in MB (for example 128)."""
        return self._memory_size

    def getCPUNumber(self):  # type: () -> int
        """Return the CPU the function holds, in millicores.

        FunctionGraph derives it from the memory size: ``memory / 128 × 100 + 200``, so 128 MB → 300
        and 1024 MB → 1000.
        """
        return cpu_millicores(self._memory_size)

    def getPackage(self):  # type: () -> str
        """Return the function's app (function group), ``"default"`` unless configured."""
        return self._package

    @sensitive
    def getToken(self):  # type: () -> str
        """Return the delegated IAM token of the function's agency, valid for 24 hours.

        Needs an agency configured on the function; returns ``""`` when there is none.
        Sensitive: never log or return this value.
        """
        return self._credentials.token

    def getLogger(self):  # type: () -> Logger
        """Return a logger that writes ``<time> <request ID> <LEVEL> <message>`` lines to the log.

        Example: ``log = context.getLogger(); log.info("processing %s", key)``. It has ``info``,
        ``warn``/``warning``, ``error`` and ``debug``.
        """
        return Logger(self._request_id, self._write_log)

    def getAlias(self):  # type: () -> str
        """Return the alias the function was invoked through, ``""`` when invoked without one."""
        return self._alias

    def getProjectID(self):  # type: () -> str
        """Return the ID of the project (region tenant) the function belongs to."""
        return self._project_id

    def _warn_deprecated(self, name, replacement):  # type: (str, str) -> None
        if name in self._warned_deprecated:
            return
        self._warned_deprecated.add(name)
        self.getLogger().warning(
            "context.%s() is deprecated and no longer returns temporary credentials; use context.%s()",
            name,
            replacement,
        )


def cpu_millicores(memory_mb):  # type: (int) -> int
    """CPU share FunctionGraph gives a function of ``memory_mb``: memory/128 × 100 + 200 millicores."""
    return int(memory_mb * 100 // 128 + 200)
