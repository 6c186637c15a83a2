"""Plateau: an open-source contact centre that is also a training call centre."""

__version__ = "0.1.0"
