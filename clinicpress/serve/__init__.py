"""The tool's local web pages: a reusable loopback server (`server`) and the live preview (`preview`).

This is the top stage: it may import anything of the tool, and nothing imports it but the CLI.
"""

from __future__ import annotations

from .preview.app import serve

__all__ = ["serve"]
