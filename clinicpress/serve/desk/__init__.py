"""The print desk: a local page where clinic staff find, preview and print handouts for a patient."""

from .app import desk

__all__ = ["desk"]
