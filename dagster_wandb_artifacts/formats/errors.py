"""The errors of W&B formats: the base of every error the client raises, and bad input."""

from __future__ import annotations


class WandbError(Exception):
    """Base of every error this client raises."""


class InvalidInputError(WandbError, ValueError):
    """Bad input (names, types, aliases, metadata, paths), refused before anything is written."""
