"""Entry point: ``python -m server`` speaks LSP over stdio."""

from server.server import main

if __name__ == "__main__":
    main()
