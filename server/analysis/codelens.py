"""Where the "Run locally" / "Debug" lenses go: above each handler and initializer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

from server.analysis.context_inference import ScopeIndex, is_handler_like, parse_header
from server.analysis.model import ModuleContext, Span

HANDLER = "handler"
INITIALIZER = "initializer"


@dataclass(frozen=True)
class LensTarget:
    """A function to run: its name's span, its role, and the entries to run it with."""

    span: Span
    role: str
    entry: str  # the handler entry to invoke
    initializer: Optional[str]  # the initializer entry to run first, if any


def lens_targets(
    lines: Sequence[str], module: ModuleContext, index: Optional[ScopeIndex] = None
) -> List[LensTarget]:
    """Top-level handlers (configured or ``(event, context)``-shaped) and the configured initializer.

    ``index``: a :class:`ScopeIndex` of the same lines kept between requests (headers parsed once).
    """
    targets = []
    for number, text in enumerate(lines):
        if not text.startswith(("def ", "async def ")):
            continue
        header = index.header(number) if index is not None else parse_header(lines, number)
        if header is None:
            continue
        span = Span(number, header.name_col, number, header.name_col + len(header.name))
        if header.name == module.roles.initializer and INITIALIZER in module.entry_roles:
            targets.append(LensTarget(span, INITIALIZER, module.handler_entry, module.initializer_entry))
        elif header.name == module.roles.handler or (is_handler_like(header) and module.module_name):
            entry = module.entry_for(HANDLER, header.name)
            targets.append(LensTarget(span, HANDLER, entry, module.initializer_entry))
    return targets
