"""The `nnbuilder` command (main.py) and its progress printer (progress.py)."""

from nnbuilder.cli.main import main

__all__ = ["main"]
