"""``python -m fglocal``: the same as the ``fglocal`` command."""

from fglocal.cli import main

if __name__ == "__main__":
    main()
