"""Split a module into runs of whole top-level statements, so each run can be parsed on its own.

Parsing a large module in one ``ast.parse`` call holds the parser's tokens, memo and C arena for the
whole file at once, and a module with a syntax error is parsed twice over (CPython's second pass with
its error rules); parsing run by run bounds that peak by the size of a run. A run starts only at a
line that begins a top-level statement for certain: column 0, not inside a string, brackets or a
backslash continuation, not ``else``/``elif``/``except``/``finally``, not right after a decorator.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

RUN_LINES = 256  # a run grows by whole statements until it has at least this many lines

# Strings are matched whole (a backslash escapes any character, the newline included, as in the
# tokenizer); an unterminated single-quoted string ends at its line. A backslash is matched with or
# without a character after it (``\\.?``), so a string's body always runs on to its end or the text's:
# a string match never fails, so it never backtracks. With ``\\.``, a backslash ending the text inside
# an unterminated string failed the match after trying every split of the ``[^...]+`` runs before it,
# exponential in their length (20 characters took 3 s; longer ones held the analysis thread, and so
# every later diagnostics run, for good). Found by tests/test_server_hypothesis.py.
_TOKENS = re.compile(
    r'(?P<string>"""(?:[^"\\]+|\\.?|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]+|\\.?|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\\n]+|\\.?)*(?:"|(?=\n)|\Z)'
    r"|'(?:[^'\\\n]+|\\.?)*(?:'|(?=\n)|\Z))"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<continuation>\\\n)"
    r"|(?P<newline>\n)"
    r"|(?P<code>[^'\"#\\\n]+|\\)",
    re.S,
)
_CONTINUES = re.compile(r"(?:else|elif|except|finally)\b")


def statement_starts(text: str, lines: Sequence[str]) -> List[int]:
    """The 0-based lines where a top-level statement certainly starts (line 0 always)."""
    starts = [0]
    depth = 0
    line = 0
    after_decorator = bool(lines) and lines[0].startswith("@")
    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind == "code":
            code = match.group()
            depth += code.count("(") + code.count("[") + code.count("{")
            depth -= code.count(")") + code.count("]") + code.count("}")
        elif kind == "string" or kind == "continuation":
            line += match.group().count("\n")
        elif kind == "newline":
            line += 1
            if depth == 0 and line < len(lines):
                first = lines[line][:1]
                if first and first not in " \t\f#\r" and not _CONTINUES.match(lines[line]):
                    if not after_decorator:
                        starts.append(line)
                    after_decorator = first == "@"
    return starts


def likely_starts(lines: Sequence[str]) -> List[int]:
    """The 0-based lines that begin a top-level statement unless a string, brackets or a continuation span them.

    A fraction of :func:`statement_starts`' cost (no tokens, only each line's first character). A run
    ending at a line that a string, brackets or a continuation spans does not parse on its own (the
    tokenizer is inside one at the run's end, as it is at that line in the whole text), so when every
    run from these starts parses, each start was a real one and the runs' trees are the module's.
    """
    starts = [0]
    after_decorator = bool(lines) and lines[0].startswith("@")
    for number in range(1, len(lines)):
        first = lines[number][:1]
        if first and first not in " \t\f#\r)]}" and not _CONTINUES.match(lines[number]):
            if not after_decorator:
                starts.append(number)
            after_decorator = first == "@"
    return starts


def runs(
    text: str, lines: Sequence[str], size: int = RUN_LINES, starts: Sequence[int] = ()
) -> List[Tuple[int, int]]:
    """``(start, end)`` line ranges of whole top-level statements, each about ``size`` lines or more.

    ``starts``: the statement starts to group (default: :func:`statement_starts`).
    """
    result: List[Tuple[int, int]] = []
    start = 0
    for line in (starts or statement_starts(text, lines))[1:]:
        if line - start >= size:
            result.append((start, line))
            start = line
    result.append((start, len(lines)))
    return result
