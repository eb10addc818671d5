"""The time and memory budget of rendering one document.

Practice templates come from outside designers: a loop nested in a loop, a macro that calls
itself twice, a string doubled in a loop can each run for hours or take all the memory of the
machine. Rendering one document therefore runs under a budget, in the process that renders it
(a pool worker, the build itself with `-j 1`, or the preview's renderer):

* time: a timer (SIGALRM) raises `OverBudget` in the rendering code once the document has
  taken `render_seconds` of wall-clock time. Python checks for signals between bytecodes, so
  it stops Jinja loops, macro recursion and WeasyPrint's layout (pure Python) alike, and the
  traceback still shows the template line that was running;
* memory: the process's data segment (RLIMIT_DATA: heap and private mappings, which hold
  every Python object) may grow by at most `render_memory_mib` while the document renders; a
  larger allocation raises MemoryError where it happens instead of swapping the machine or
  waking the kernel's OOM killer.

Both are cheap (one timer, two setrlimit calls a document) and, unlike counting operations in
the Jinja sandbox, they also bound what a template can make the rest of the pipeline do (a huge
HTML page laid out by WeasyPrint). The budget is undone after the document, so the next one
starts afresh. Where the platform lacks SIGALRM or RLIMIT_DATA (Windows), or rendering runs
outside the main thread, the budget is not enforced.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import BUDGET_HINT, OverBudget


@dataclass(frozen=True)
class Budget:
    """What one document may use while it renders: `render_seconds` and `render_memory_mib`
    of `[tool.clinicpress]` (defaults and limits in load/config.py)."""

    seconds: float
    memory_mib: int

    @classmethod
    def of(cls, config=None) -> "Budget":
        """The budget a project's options set (the defaults without `config`)."""
        if config is None:
            from ..load.config import Config

            config = Config.model_validate({})
        return cls(config.render_seconds, config.render_memory_mib)


def _stop(what: str, budget: Budget) -> None:
    import os
    import sys

    sys.stderr.write(
        f"error: {what} took longer than {hard_seconds(budget):g} s and did not stop at its budget of "
        f"{budget.seconds:g} s; stopped (outputs already written are complete)\n"
        f"    hint: {BUDGET_HINT}\n"
    )
    sys.stderr.flush()
    os._exit(1)


def _data_size() -> int | None:
    """The process's data segment (VmData) in bytes, or None where /proc is unavailable."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def hard_seconds(budget: Budget) -> float:
    """When rendering is stopped the hard way: the time budget (which the timer enforces) plus
    half of it and ten seconds, for code stuck where the timer cannot reach (a C library)."""
    return budget.seconds * 1.5 + 10


@contextlib.contextmanager
def enforced(budget: Budget, *, stop_process: str | None = None) -> Iterator[None]:
    """Runs the body under the budget: OverBudget after `seconds`, MemoryError past `memory_mib` more.

    With `stop_process` (what is being rendered), this process ends (exit code 1, after saying
    so) should the body still run at `hard_seconds`: used where no other process watches the
    rendering (a build with -j 1, the preview's renderer); pool workers are watched by the build."""
    try:
        import resource
        import signal
    except ImportError:  # pragma: no cover  (Windows)
        yield
        return
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old_limit = None
    base = _data_size()
    if base is not None and hasattr(resource, "RLIMIT_DATA"):
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = base + budget.memory_mib * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or limit < soft:
            resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
            old_limit = (soft, hard)
    old_handler = None
    if main:

        def expired(signum, frame):
            # An exception raised while Python runs a __del__ or a gc callback is printed and
            # dropped ("Exception ignored in ..."), so the rendering would go on: ring again
            # shortly until the exception reaches the rendering code (the `finally` stops it).
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            if isinstance(sys.exc_info()[1], OverBudget):
                # the first is on its way out (Jinja is rewriting its traceback to name the
                # template line, say): a second one raised in there would lose that line
                return
            raise OverBudget(budget.seconds)

        old_handler = signal.signal(signal.SIGALRM, expired)
        signal.setitimer(signal.ITIMER_REAL, budget.seconds)
    killer = None
    if stop_process is not None:
        killer = threading.Timer(hard_seconds(budget), _stop, args=(stop_process, budget))
        killer.daemon = True
        killer.start()
    try:
        yield
    finally:
        if killer is not None:
            killer.cancel()
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        if old_limit is not None:
            resource.setrlimit(resource.RLIMIT_DATA, old_limit)
