"""Placeholder: see the issue for this package."""
