"""Start a runtime server for one runtime: ``<runtime python> run_zygote.py SOCKET LIFETIME_FD READY_FD``.

Imports what a spawned instance (``run_worker.py``) imports before it loads the user's code, notes
that set of modules, then serves fork requests (:mod:`fgruntime.zygote`). Python 2.7 and 3.6+.
"""

import sys

import fgruntime.orphans  # imported by every spawned instance's serve()
import fgruntime.worker  # the instance side, loaded once for every forked instance

fgruntime.worker.preload()  # and what serve() imports at every start (_ctypes, _posixsubprocess)
BASELINE = set(sys.modules)

from fgruntime.zygote import main  # noqa: E402 - after the baseline: its modules are the server's own

if __name__ == "__main__":
    main(BASELINE)
