"""The tool's local web pages: the print desk (`desk`) on the Starlette/uvicorn core (`core`), and the
live preview (`preview`) on its route table (`server`), which runs on the same core.

This is the top stage: it may import anything of the tool, and nothing imports it but the CLI.
"""

from __future__ import annotations

from .preview.app import serve

__all__ = ["serve"]
