"""Small text helpers shared by the analysis modules."""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def split_lines(text: str) -> List[str]:
    """The document's lines without their line endings (always at least one line)."""
    return text.split("\n") if "\r" not in text else re.split(r"\r\n|\r|\n", text)


def indentation(line: str) -> int:
    """Width of a line's leading whitespace (a tab counts to the next multiple of 8, as Python does)."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width = (width // 8 + 1) * 8
        elif char == "\f":
            width = 0
        else:
            break
    return width


def is_code_line(line: str) -> bool:
    """Whether a line holds code (not blank, not only a comment)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def char_column(line: str, byte_offset: int) -> int:
    """Convert an ``ast`` UTF-8 byte column to a character column of ``line``."""
    if line.isascii():
        return min(byte_offset, len(line))
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "ignore"))


def word_around(line: str, col: int) -> tuple:
    """The identifier touching column ``col`` as (start, end); (col, col) when there is none."""
    col = max(0, min(col, len(line)))
    start = col
    while start > 0 and line[start - 1] in _IDENT_CHARS:
        start -= 1
    end = col
    while end < len(line) and line[end] in _IDENT_CHARS:
        end += 1
    return start, end


def line_at(lines: Sequence[str], line: int) -> str:
    """Line ``line`` of ``lines``, or "" when out of range."""
    return lines[line] if 0 <= line < len(lines) else ""


def code_scan(text: str) -> Tuple[List[Tuple[int, str]], bool]:
    """Characters outside string literals and comments as (offset, char); and whether the text ends in one.

    A half-typed line often ends inside a string or a comment, where completion must stay quiet.
    """
    code: List[Tuple[int, str]] = []
    quote = ""
    i = 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char == "#":
            newline = text.find("\n", i)
            if newline < 0:
                return code, True
            i = newline
            continue
        elif char in "'\"":
            quote = char * 3 if text.startswith(char * 3, i) else char
            i += len(quote) - 1
        else:
            code.append((i, char))
        i += 1
    return code, bool(quote)
