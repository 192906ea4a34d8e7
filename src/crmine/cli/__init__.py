"""The command-line interface (``crmine --help``)."""

from crmine.cli._app import app, main

__all__ = ["app", "main"]
