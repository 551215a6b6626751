"""A Debug Adapter Protocol server for FunctionGraph Python functions (``python -m debug_adapter``).

It speaks DAP over stdio to the editor and runs the handler with the local runtime (``fglocal``)
under debugpy: debugpy's own adapter runs as a child process and this package relays DAP to it,
turning the ``functiongraph`` launch configuration into debugpy's launch of ``fglocal invoke``.
"""
