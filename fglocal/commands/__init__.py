"""The command line's subcommands, one module each, that register their options and run them.

``invoke`` (the default), ``event``, ``serve``, ``package``, ``python``, ``deploy``, ``events``;
``options`` holds what they share (the function's options, the config they give, usage errors).
``fglocal.cli`` only parses and dispatches; no module here imports it. The work itself stays in
its own module (``fglocal.package`` builds zips, ``fglocal.serve`` serves, ``fglocal.cloud`` talks
to FunctionGraph).
"""
