"""Terminal output: problems without tracebacks, progress, summaries (rich; plain when quiet)."""
from __future__ import annotations

import sys

from rich.console import Console

from .errors import Finding, Problem


class Reporter:
    """Prints to stderr; `quiet` gives plain lines for CI logs (no colour, no progress bar)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False, soft_wrap=True,
                               no_color=quiet, force_terminal=None if not quiet else False)

    def info(self, message: str) -> None:
        self.console.print(message, markup=False)

    def warning(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {_esc(message)}")

    def error(self, message: str) -> None:
        self.console.print(f"[bold red]error:[/bold red] {_esc(message)}")

    def problems(self, problems: list[Problem], *, exit_code: int = 1) -> None:
        for p in problems:
            label = "[bold red]error[/bold red]" if p.severity == "error" else "[yellow]warning[/yellow]"
            where = _esc(p.location())
            field = f"[cyan]{_esc(p.field)}[/cyan]: " if p.field else ""
            hint = f"\n    [dim]hint: {_esc(p.hint)}[/dim]" if p.hint else ""
            self.console.print(f"{where}: {label}: {field}{_esc(p.message)}{hint}")
        errors = sum(1 for p in problems if p.severity == "error")
        if errors:
            self.console.print(f"[bold red]{errors} error(s); nothing was written.[/bold red]"
                               if exit_code == 1 else f"[bold red]{errors} error(s).[/bold red]")

    def findings(self, findings: list[Finding]) -> None:
        for f in findings:
            colour = {"error": "bold red", "warning": "yellow"}.get(f.severity, "dim")
            self.console.print(f"[{colour}]{f.severity}[/{colour}]: {_esc(str(f))}")


def _esc(text: str | None) -> str:
    from rich.markup import escape

    return escape(text or "")


def is_tty() -> bool:
    return sys.stderr.isatty()
