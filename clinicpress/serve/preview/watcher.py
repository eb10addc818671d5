"""The watcher thread: notes which project files changed (watchfiles) and wakes the conductor."""

from __future__ import annotations

from ...watch import DEBOUNCE_MS, STEP_MS, WATCHED, changed_paths, watch_filter
from .conductor import Preview


def watch(preview: Preview) -> None:
    """The watcher thread: tells the preview which project files changed."""
    from watchfiles import watch as watch_paths

    folders = [preview.root / name for name in WATCHED if (preview.root / name).is_dir()]
    if not folders:
        return
    try:
        for changes in watch_paths(
            *folders,
            watch_filter=watch_filter(),
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=preview.stopping,
            rust_timeout=500,
            raise_interrupt=False,
        ):
            paths = changed_paths(changes, preview.root)
            if paths:
                preview.note_changes(paths)
    except Exception as exc:  # the page still works; only live updates stop
        if not preview.stopping.is_set():
            preview.reporter.error(
                f"watching for changes stopped: {type(exc).__name__}: {exc}; restart the preview to see new changes"
            )
