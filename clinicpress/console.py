"""Terminal output: problems without tracebacks, progress, summaries (rich; plain when quiet)."""

from __future__ import annotations

import sys
import time
from typing import Any

from .errors import Finding, Problem


class Reporter:
    """Prints to stderr; `quiet` gives plain lines for CI logs (no colour, no progress bar)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._console = None

    @property
    def console(self):
        """The rich Console (created on first use: a no-op build never needs it)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                stderr=True,
                highlight=False,
                soft_wrap=True,
                no_color=self.quiet,
                force_terminal=None if not self.quiet else False,
            )
        return self._console

    @property
    def interactive(self) -> bool:
        """True when a live progress bar makes sense: a terminal, and not --quiet."""
        return not self.quiet and self.console.is_terminal and not self.console.is_dumb_terminal

    def info(self, message: str) -> None:
        """Prints a plain line (no markup, no rich needed)."""
        if self._console is not None:
            self._console.print(message, markup=False)
        else:
            print(message, file=sys.stderr, flush=True)

    def warning(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {_esc(message)}")

    def error(self, message: str) -> None:
        self.console.print(f"[bold red]error:[/bold red] {_esc(message)}")

    def internal_error(self, exc: BaseException) -> None:
        """Says that ClinicPress hit a bug, without the traceback (`--verbose` shows it)."""
        self.error(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in ClinicPress; "
            "run again with --verbose and report the traceback."
        )

    def problems(self, problems: list[Problem], *, exit_code: int = 1, written: bool = False) -> None:
        for p in problems:
            label = "[bold red]error[/bold red]" if p.severity == "error" else "[yellow]warning[/yellow]"
            where = _esc(p.location())
            field = f"[cyan]{_esc(p.field)}[/cyan]: " if p.field else ""
            hint = f"\n    [dim]hint: {_esc(p.hint)}[/dim]" if p.hint else ""
            self.console.print(f"{where}: {label}: {field}{_esc(p.message)}{hint}")
        errors = sum(1 for p in problems if p.severity == "error")
        if errors and not written:
            self.console.print(
                f"[bold red]{errors} error(s); nothing was written.[/bold red]"
                if exit_code == 1
                else f"[bold red]{errors} error(s).[/bold red]"
            )

    def findings(self, findings: list[Finding]) -> None:
        for f in findings:
            colour = {"error": "bold red", "warning": "yellow"}.get(f.severity, "dim")
            self.console.print(f"[{colour}]{f.severity}[/{colour}]: {_esc(str(f))}")

    def blocked(self, key: str, why: list[Finding], documents: int) -> None:
        """Says an item was not rendered because of these findings (its earlier outputs are kept)."""
        where = f" ({documents} document(s); earlier outputs left as they were)" if documents else ""
        self.console.print(f"[bold red]not rendered:[/bold red] {_esc(key)}{_esc(where)}")
        self.findings(why)

    def summary(self, s: dict, practices: int, out_root) -> None:
        """Prints the build's last line: what was rendered, kept, removed, blocked or failed."""
        parts = [f"{s['rendered']} rendered", f"{s['up_to_date']} up to date"]
        if s["removed"]:
            parts.append(f"{s['removed']} removed")
        if s["blocked"]:
            parts.append(f"{s['blocked']} not rendered (checks failed)")
        if s["failed"]:
            parts.append(f"{s['failed']} failed")
        how = f", {s['workers']} workers" if s["workers"] else ""
        self.info(f"{', '.join(parts)} for {practices} practice(s) in {s['seconds']:.2f} s{how} → {out_root}")

    def progress(self, total: int, what: str = "rendering") -> "Progress":
        """Returns a progress display: a rich bar with counts and ETA on a terminal, else plain lines."""
        return Progress(self, total, what)


class Progress:
    """Counts finished jobs; a context manager around the rendering loop."""

    def __init__(self, reporter: Reporter, total: int, what: str):
        self.reporter = reporter
        self.total = total
        self.what = what
        self.done = 0
        self.started = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> "Progress":
        if self.reporter.interactive and self.total > 1:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar
            from rich.table import Column

            self._bar = Bar(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn(
                    "[dim]{task.fields[current]}", table_column=Column(no_wrap=True, overflow="ellipsis", min_width=10)
                ),
                console=self.reporter.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.what, total=self.total, current="")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def advance(self, label: str, *, ok: bool = True, seconds: float | None = None, note: str = "") -> None:
        """Records one finished job; prints a plain line when there is no bar."""
        self.done += 1
        if self._bar is not None:
            width = max(12, self.reporter.console.width - 62)
            short = label if len(label) <= width else "…" + label[-(width - 1) :]
            self._bar.update(self._task, advance=1, current=short + (_esc(note) if ok else ""))
            if not ok:
                self._bar.console.print(f"[bold red]failed[/bold red] {_esc(label)}{_esc(note)}")
            return
        took = f" ({seconds:.2f} s)" if seconds is not None else ""
        state = "rendered" if ok else "FAILED"
        width = len(str(self.total))
        self.reporter.console.print(
            f"[{self.done:>{width}}/{self.total}] {state} {label}{took}{note}", markup=False, highlight=False
        )


def _esc(text: str | None) -> str:
    from rich.markup import escape

    return escape(text or "")
