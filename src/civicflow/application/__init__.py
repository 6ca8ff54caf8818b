"""The application: use cases over one event store, composed from small parts."""

from civicflow.application.flow import CivicFlow

__all__ = ["CivicFlow"]
