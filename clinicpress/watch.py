"""`build --watch`: build, then build again after every saved change, with warm workers.

A writer's edit loop. A build from the command line starts Python, imports WeasyPrint in
fresh worker processes and warms their fonts and templates before the first page; here all
of that happens once. Each change is built by the same incremental build as `python build.py`
(same plan, checks, cache and bytes); only the processes stay: the worker pool is kept between
builds (clinicpress.jobs.pool.keep_warm) and gets the newly loaded project with its next jobs,
and the checks' language model stays loaded. After a change under templates/ or practices/
every worker drops its compiled templates, catalogues and fonts (jobs.run.reset_render_caches).

The preview (`clinicpress preview`) watches the same folders with the same filter.
"""

from __future__ import annotations

import os
from pathlib import Path

from .console import Reporter
from .errors import UserError, rel
from .settings import BuildSettings

WATCHED = ("content", "templates", "practices")
"""Project folders whose changes trigger a rebuild (and the only ones the preview page serves
files from). The options (clinicpress.toml,
pyproject.toml) are read again by every build but do not start one: watchfiles loses a single
file that an editor saves by renaming a new copy over it."""
DEBOUNCE_MS, STEP_MS = 400, 40
"""watchfiles yields once no new event came for STEP_MS (at most DEBOUNCE_MS after the first)."""


def watch_filter():
    """watchfiles' default filter, also leaving out editors' temporary and hidden files."""
    from watchfiles import DefaultFilter

    base = DefaultFilter()

    def keep(change, path: str) -> bool:
        name = os.path.basename(path)
        if name.startswith(".") or name.endswith(("~", ".tmp", ".swp", ".swx")) or name == "4913":
            return False  # editors' temporary files (vim writes a probe file named 4913)
        return base(change, path)

    return keep


def changed_paths(changes, root: Path) -> list[str]:
    """The project-relative paths of a batch of watchfiles changes, without the files that came
    and went within the batch (an editor's or sed's temporary file)."""
    kinds: dict[str, set] = {}
    for change, path in changes:
        kinds.setdefault(path, set()).add(change.name)
    return sorted(
        rel(Path(p), root) for p, k in kinds.items() if not ({"added", "deleted"} <= k and not os.path.exists(p))
    )


def watch(settings: BuildSettings, reporter: Reporter) -> int:
    """Builds, then builds what each saved change affects, until Ctrl-C (exit 0)."""
    from watchfiles import watch as watch_paths

    from .jobs import pool
    from .jobs.run import reset_render_caches

    root = settings.root
    paths = [root / name for name in WATCHED if (root / name).is_dir()]
    pool.keep_warm()
    try:
        _build(settings, reporter)
        shown = ", ".join(rel(p, root) + ("/" if p.is_dir() else "") for p in paths)
        ready = False
        for changes in watch_paths(
            *paths,
            watch_filter=watch_filter(),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            raise_interrupt=True,
            yield_on_timeout=True,  # an empty batch every rust_timeout: the first says the watch is in place
            rust_timeout=250,
        ):
            if not ready:  # said only now, so a save right after this line is seen
                reporter.info(f"watching {shown} for changes (Ctrl-C stops)")
                ready = True
            changed = changed_paths(changes, root)
            if not changed:
                continue
            reporter.info(
                f"changed: {', '.join(changed[:3])}" + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            )
            if reset_render_caches(changed):  # this process (it renders with -j 1) drops what it compiled
                pool.templates_changed()  # and so do the kept workers
            _build(settings, reporter)
    except KeyboardInterrupt:
        reporter.info("stopped watching")
        return 0
    finally:
        pool.close_kept()
    return 0  # pragma: no cover  (watchfiles only ends on Ctrl-C)


def _build(settings: BuildSettings, reporter: Reporter) -> int:
    """One build; an error in the content is printed and the watch goes on (the next save may fix it)."""
    from .builder import build

    try:
        return build(settings, reporter)
    except UserError as exc:
        reporter.problems(exc.problems, exit_code=exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # a bug: said as the CLI says it, and the watch goes on
        reporter.internal_error(exc)
        return 3
