"""FunctionGraph language server: completion, hover, diagnostics and quick fixes for handlers.

Start it with ``python -m server`` (LSP over stdio). The analysis lives in :mod:`server.analysis`
(pure functions over text); :mod:`server.server` wires it to LSP messages.
"""

from fglocal import __version__

__all__ = ["__version__"]
