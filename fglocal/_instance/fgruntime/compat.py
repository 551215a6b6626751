"""The few differences between Python 2.7 and 3 that the instance side needs, in one place."""

from __future__ import absolute_import

import sys
import time

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover - exercised by the Python 2.7 runtime tests
    text_type = unicode  # noqa: F821
    string_types = (str, unicode)  # noqa: F821
    integer_types = (int, long)  # noqa: F821
else:
    text_type = str
    string_types = (str,)
    integer_types = (int,)

# time.perf_counter is 3.3+; time.time is the best 2.7 has without ctypes.
perf_counter = getattr(time, "perf_counter", time.time)


def native(value):  # type: (object) -> str
    """``value`` as the interpreter's native ``str`` (UTF-8 bytes on 2.7): for paths, names, environ."""
    if PY2 and isinstance(value, text_type):
        return value.encode("utf-8")  # type: ignore[return-value]
    return value  # type: ignore[return-value]


def to_text(value):  # type: (object) -> str
    """``value`` as text (``unicode`` on 2.7), never raising: for messages that go into JSON."""
    if isinstance(value, text_type):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        return text_type(value)
    except Exception:  # a __str__ that raises, or non-ASCII bytes on 2.7
        try:
            return str(value).decode("utf-8", "replace")  # type: ignore[attr-defined]
        except Exception:
            return "<%s object>" % type(value).__name__
