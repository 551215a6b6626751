"""The instance side: what runs inside the function's process, on every FunctionGraph runtime.

``fgruntime`` (worker loop, Context, loader, result encoding, log capture) runs on Python 2.7 and
3.6+: no f-strings, annotations, keyword-only arguments or ``from __future__ import annotations``
in it (type hints are comments). A spawned instance runs ``<runtime python> run_worker.py`` with
only this folder on its path, never the rest of the tool; the tool imports it as
``fglocal._instance.fgruntime`` (its modules import each other relatively, so both work). Each
module starts with ``from __future__ import absolute_import``: without it Python 2.7 looks for
``fgruntime/struct.py`` (and ``.so``, ``module.so``, ``.pyc``) before the standard library's
``struct``, four failed opens for every standard module the instance imports.
"""
