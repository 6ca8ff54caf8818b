"""The ``civicflow`` command: a thin command line over the application and the views."""

from civicflow.cli.main import main

__all__ = ["main"]
