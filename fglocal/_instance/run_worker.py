"""Start a spawned instance: ``<runtime python> run_worker.py READ_FD WRITE_FD`` (Python 2.7 and 3.6+)."""

from fgruntime.worker import main

if __name__ == "__main__":
    main()
