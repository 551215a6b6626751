"""Plain data the analysis functions return; the server turns them into LSP types.

Positions are 0-based lines and columns counted in Python characters (code points); the server
converts them to the client's units (UTF-16 by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

# The kinds of value the server knows: the FunctionGraph Context and its logger.
CONTEXT = "context"
LOGGER = "logger"

ERROR = "error"
WARNING = "warning"
INFORMATION = "information"
HINT = "hint"


@dataclass(frozen=True)
class Span:
    """A range of text: start inclusive, end exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, line: int, col: int) -> Span:
        """An empty span at one position."""
        return cls(line, col, line, col)


@dataclass(frozen=True)
class Edit:
    """Replace ``span`` by ``new_text``."""

    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A quick fix: a title and the edits that apply it."""

    title: str
    edits: Tuple[Edit, ...]
    preferred: bool = False


@dataclass(frozen=True)
class Finding:
    """One diagnostic: where, how bad, which rule, what to do about it, and how to fix it."""

    span: Span
    severity: str
    code: str
    message: str
    fixes: Tuple[Fix, ...] = ()
    deprecated: bool = False


@dataclass(frozen=True)
class Roles:
    """Which functions of a module the function config names as handler and initializer."""

    handler: Optional[str] = None
    initializer: Optional[str] = None


NO_ROLES = Roles()


@dataclass(frozen=True)
class ModuleContext:
    """What the analysis of one module needs to know besides its text."""

    roles: Roles = NO_ROLES
    runtime: Tuple[int, int] = (3, 9)
    module_name: str = ""  # dotted name relative to the code root, "" when outside it
    module_file: str = ""  # path relative to the code root, for messages
    folder_entries: Tuple[Tuple[str, bool], ...] = ()  # (name, is_dir) of the code root
    handler_entry: str = "index.handler"
    initializer_entry: Optional[str] = None
    # Roles whose entry (configured or inferred) names this module; ``roles`` may name functions of
    # other modules too (every handler of the folder is checked), these are the runtime's entry.
    entry_roles: Tuple[str, ...] = ()
    # Roles whose entry a config file or setting names explicitly: a missing function is an error.
    required_roles: Tuple[str, ...] = ()
    # Functions of this module inferred as candidate entries (no config names the handler).
    candidates: Tuple[str, ...] = ()

    @property
    def is_entry_module(self) -> bool:
        """Whether an entry (configured or inferred) names a function of this module."""
        return bool(self.entry_roles)

    def entry_for(self, role: str, name: str) -> str:
        """The entry that runs function ``name`` of this module in ``role``."""
        configured = self.handler_entry if role == "handler" else self.initializer_entry
        if role in self.entry_roles and configured and configured.rpartition(".")[2] == name:
            return configured
        return "%s.%s" % (self.module_name, name) if self.module_name else configured or name


@dataclass(frozen=True)
class CompletionData:
    """One completion item in plain data."""

    label: str
    kind: str  # "method", "field" or "snippet"
    detail: str
    documentation: str  # Markdown
    insert_text: str
    is_snippet: bool
    sort_text: str
    deprecated: bool = False
    filter_text: Optional[str] = None
    replace_start: Optional[int] = None  # column where the text the item replaces starts (to the cursor)
