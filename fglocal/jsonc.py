"""JSON with comments and trailing commas (VS Code's ``launch.json`` and ``settings.json``), read."""

from __future__ import annotations

import json
from typing import Any


def loads(text: str) -> Any:
    """Parse JSONC: ``//`` and ``/* */`` comments and trailing commas are dropped, strings kept."""
    return json.loads(_strip(text))


def _string_end(text: str, start: int) -> int:
    """The index just past the JSON string literal opening at ``start`` (escapes skipped)."""
    end, length = start + 1, len(text)
    while end < length and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return min(end + 1, length)


def _strip(text: str) -> str:
    out = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == '"':
            end = _string_end(text, index)
            out.append(text[index:end])
            index = end
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = length if newline < 0 else newline
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = length if close < 0 else close + 2
            out.append(" ")
        else:
            out.append(char)
            index += 1
    return _drop_trailing_commas("".join(out))


def _drop_trailing_commas(text: str) -> str:
    out = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == '"':
            end = _string_end(text, index)
            out.append(text[index:end])
            index = end
            continue
        if char == ",":
            following = index + 1
            while following < length and text[following] in " \t\r\n":
                following += 1
            if following < length and text[following] in "}]":
                index += 1
                continue
        out.append(char)
        index += 1
    return "".join(out)
