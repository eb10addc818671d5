"""The watcher thread: notes which project files changed (watchfiles) and wakes the conductor."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import rel
from .conductor import Preview

WATCHED = ("content", "templates", "practices")
"""Project folders whose changes trigger a rebuild (and the only ones the page serves files from)."""
DEBOUNCE_MS, STEP_MS = 400, 40
"""watchfiles yields once no new event came for STEP_MS (at most DEBOUNCE_MS after the first)."""


def _watch_filter():
    from watchfiles import DefaultFilter

    base = DefaultFilter()

    def keep(change, path: str) -> bool:
        name = os.path.basename(path)
        if name.startswith(".") or name.endswith(("~", ".tmp", ".swp", ".swx")) or name == "4913":
            return False  # editors' temporary files (vim writes a probe file named 4913)
        return base(change, path)

    return keep


def watch(preview: Preview) -> None:
    """The watcher thread: tells the preview which project files changed."""
    from watchfiles import watch as watch_paths

    folders = [preview.root / name for name in WATCHED if (preview.root / name).is_dir()]
    if not folders:
        return
    try:
        for changes in watch_paths(
            *folders,
            watch_filter=_watch_filter(),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=preview.stopping,
            rust_timeout=500,
            raise_interrupt=False,
        ):
            kinds: dict[str, set] = {}
            for change, path in changes:
                kinds.setdefault(path, set()).add(change.name)
            # A file that came and went within one batch (an editor's or sed's temporary file) is noise.
            paths = sorted(
                rel(Path(p), preview.root)
                for p, k in kinds.items()
                if not ({"added", "deleted"} <= k and not os.path.exists(p))
            )
            if paths:
                preview.note_changes(paths)
    except Exception as exc:  # the page still works; only live updates stop
        if not preview.stopping.is_set():
            preview.reporter.error(
                f"watching for changes stopped: {type(exc).__name__}: {exc}; restart the preview to see new changes"
            )
