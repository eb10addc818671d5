"""The preview's state, and the conductor thread that decides what the renderer does next.

Reload after a change, then the item on screen, then the checks, then other open items. An
item is re-rendered only if its cache key (`clinicpress.write.cache.JobKeys`, the build cache's
key) moved. The watcher and HTTP threads only note what happened and read the state, under `cond`.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
import traceback
from pathlib import Path

from ...errors import Finding, Problem
from ...render.raster import Image
from . import messages as msg
from .worker import Renderer, RendererGone

KEEP_REVISIONS = 3
"""Image sets kept per item, so a page that asks for the previous revision still gets it."""
KEEP_FRESH = 4
"""After a change, only the items viewed most recently (this many) are rebuilt at once; others
are rebuilt when they are opened again."""
MAX_CRASHES = 3
"""After this many renderer crashes in a row the conductor waits for the next change."""


class Preview:
    """State shared by the conductor, the watcher and the HTTP threads; guarded by `cond`."""

    def __init__(self, root: Path, practice: str, reporter, *, verbose: bool = False):
        self.root = root
        self.practice = practice
        self.reporter = reporter
        self.verbose = verbose
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.version = 0
        """Grows with every change of what the page shows; the event stream announces it."""
        self.loaded = False
        self.practice_name = practice
        self.items: list[msg.Item] = []
        self.ids: set[str] = set()
        self.keys: dict[str, str] = {}
        self.load_problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.findings: dict[str, list[Finding]] = {}
        self.check_problems: list[Problem] = []
        self.checks_pending = False
        self.reload_pending = True
        self.changed: list[str] = []
        self.views: dict[str, msg.View] = {}
        self.images: dict[tuple[str, int], tuple[Image, ...]] = {}
        self.wanted: dict[str, float] = {}
        """Items the page has asked for, with when: rendered on demand, kept fresh after changes."""
        self.todo: set[str] = set()
        self.busy: str | None = None
        self.rendering: str | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="clinicpress-preview-"))
        self.renderer = Renderer(root, practice, self.tmp, self.stopping)
        self._next_rev = 1

    # ---------------------------------------------------------------- called by the other threads
    def bump(self) -> None:
        """Announces a new state (call with `cond` held)."""
        self.version += 1
        self.cond.notify_all()

    def want(self, item_id: str) -> None:
        """Notes that the page shows `item_id`; queues its render if it has none yet."""
        with self.cond:
            if self.loaded and item_id not in self.ids:
                return
            self.wanted[item_id] = time.monotonic()  # before the first load: checked once it is done
            if not self.loaded:
                return
            if item_id not in self.views and item_id not in self.todo and item_id != self.rendering:
                self.todo.add(item_id)
                self.bump()

    def note_changes(self, paths: list[str]) -> None:
        """Called by the watcher: a rebuild is needed (or only a page refresh, for the page's own files)."""
        with self.cond:
            if all(p.startswith("templates/preview/") for p in paths):
                self.bump()
                return
            self.changed.extend(p for p in paths if p not in self.changed)
            self.reload_pending = True
            self.bump()

    def wait_for_view(self, item_id: str, timeout: float) -> msg.View | None:
        """Blocks until `item_id` has a render (for the HTML view opened directly); None if unknown."""
        deadline = time.monotonic() + timeout
        while True:
            self.want(item_id)
            with self.cond:
                if self.stopping.is_set() or (self.loaded and item_id not in self.ids):
                    return None
                if item_id in self.views and item_id not in self.todo and item_id != self.rendering:
                    return self.views[item_id]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self.views.get(item_id)
                self.cond.wait(min(remaining, 1.0))

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Blocks until the version differs from `seen` (or `timeout`); returns the version."""
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen or self.stopping.is_set(), timeout=timeout)
            return self.version

    def stop(self) -> None:
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        self.renderer.stop()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---------------------------------------------------------------- the conductor
    def conduct(self) -> None:
        """The conductor thread: reload after a change, render the item on screen, check, render the rest."""
        crashes = 0
        try:
            self.renderer.start()
            while (request := self._next_request()) is not None:
                started = time.perf_counter()
                try:
                    answer = self.renderer.call(request)
                except RendererGone as exc:
                    self.renderer.stop()
                    crashes += 1
                    answer = msg.Failed(
                        [
                            Problem(
                                "(preview)",
                                message=f"the renderer process stopped ({exc})",
                                hint="it restarts with the next change; if this repeats, run "
                                "with --verbose and report it",
                            )
                        ]
                    )
                    with self.cond:
                        # A new renderer must load the project first (unless it keeps crashing).
                        self.reload_pending = crashes < MAX_CRASHES
                else:
                    crashes = 0
                if answer is None or self.stopping.is_set():
                    return
                if self.verbose:
                    what = f"render {request.item}" if isinstance(request, msg.Render) else request.task
                    self.reporter.info(f"  [{what}: {time.perf_counter() - started:.2f} s]")
                self._after(request, answer)
        except Exception:  # a bug in the conductor must not leave the page spinning forever
            if not self.stopping.is_set():
                self.reporter.error("the preview stopped working:\n" + traceback.format_exc())
                self.stopping.set()

    def _next_request(self) -> msg.Request | None:
        """Waits for work and takes the most urgent; None when the preview is stopping."""
        with self.cond:
            self.cond.wait_for(
                lambda: self.stopping.is_set() or self.reload_pending or self.todo or self.checks_pending
            )
            if self.stopping.is_set():
                return None
            request: msg.Request
            if self.reload_pending:
                request = msg.Reload(self.changed)
                self.reload_pending, self.changed = False, []
                self.busy = "loading the project"
            else:
                current = self._current()
                if current in self.todo or (self.todo and not self.checks_pending):
                    item = current if current is not None and current in self.todo else self._next_todo()
                    self.todo.discard(item)
                    request = msg.Render(item)
                    self.rendering, self.busy = item, f"rendering {item}"
                else:
                    request = msg.Check()
                    self.checks_pending = False
                    self.busy = "running the checks"
            self.bump()
            return request

    def _current(self) -> str | None:
        return max(self.wanted, key=self.wanted.__getitem__) if self.wanted else None

    def _next_todo(self) -> str:
        return max(self.todo, key=lambda i: self.wanted.get(i, 0.0))

    def _after(self, request: msg.Request, answer: msg.Answer) -> None:
        """Takes in the renderer's answer to `request`."""
        if isinstance(request, msg.Reload):
            if isinstance(answer, msg.Loaded):
                self._after_load(request.changed, answer)
            else:
                self._after_failed_load(request.changed, answer)
        elif isinstance(request, msg.Render):
            self._after_render(request.item, answer)
        else:
            self._after_check(answer)

    def _after_failed_load(self, changed: list[str], answer: msg.Answer) -> None:
        assert isinstance(answer, msg.Failed)
        # The terminal hears of the problem before the page does, so neither lags the other.
        self._say_changed(changed)
        self._problems(answer)
        with self.cond:
            self.busy = None
            self.load_problems = list(answer.problems)
            self.bump()
            shown = any(v.rev for v in self.views.values())
        self.reporter.info(
            "  the page keeps showing the last good render; save a fix to rebuild"
            if shown
            else "  save a fix and the preview builds by itself"
        )

    def _after_load(self, changed: list[str], info: msg.Loaded) -> None:
        with self.cond:
            self.busy = None
            was_broken = bool(self.load_problems)
            new_warnings = info.warnings != self.warnings
            self.loaded = True
            self.items, self.keys, self.practice_name = info.items, info.keys, info.practice_name
            self.ids = {i.id for i in self.items}
            self.warnings = list(info.warnings)
            self.load_problems = []
            for item_id in list(self.wanted):
                if item_id not in self.ids:
                    del self.wanted[item_id]
            affected = self._affected(info.keys)
            self.todo = {i for i in self.todo if i in self.ids} | set(affected)
            self.checks_pending = True
            self.bump()
        self._say_changed(changed, affected)
        if was_broken:
            self.reporter.info("fixed: the project loads again")
        if new_warnings and info.warnings:
            self.reporter.problems(info.warnings, exit_code=0)

    def _affected(self, keys: dict[str, str]) -> list[str]:
        """Returns the recently viewed items to render again; forgets the others that are stale (`cond` held)."""
        fresh = set(sorted(self.wanted, key=self.wanted.__getitem__)[-KEEP_FRESH:])
        affected = []
        for item_id in list(self.views):
            view = self.views[item_id]
            if item_id not in self.ids:
                self._drop(item_id)
            elif view.problems or view.input_key is None or view.input_key != keys.get(item_id):
                if item_id in fresh:
                    affected.append(item_id)
                else:  # seen a while ago: rendered again when it is opened again
                    self._drop(item_id)
        for item_id in fresh:
            if item_id not in self.views and item_id not in affected:
                affected.append(item_id)
        return affected

    def _drop(self, item_id: str) -> None:
        """Forgets an item's render and images (call with `cond` held)."""
        self.views.pop(item_id, None)
        for key in [k for k in self.images if k[0] == item_id]:
            del self.images[key]

    def _after_render(self, item_id: str, answer: msg.Answer) -> None:
        with self.cond:
            # Cleared together with the new view, so a page asking meanwhile does not queue it again.
            self.busy = self.rendering = None
            old = self.views.get(item_id)
            if isinstance(answer, msg.Rendered):
                rev, self._next_rev = self._next_rev, self._next_rev + 1
                view = dataclasses.replace(answer.view, rev=rev, input_key=self.keys.get(item_id))
                self.images[(item_id, rev)] = view.pages
                for stale in sorted(k for k in self.images if k[0] == item_id)[:-KEEP_REVISIONS]:
                    del self.images[stale]
            else:
                assert isinstance(answer, msg.Failed)
                view = dataclasses.replace(old or msg.View(), problems=tuple(answer.problems), failed_at=time.time())
            self.views[item_id] = view
            self.bump()
        if isinstance(answer, msg.Rendered):
            what = f"{len(view.pages)} {'page' if 'pdf' in view.files else 'slide'}(s)" if view.pages else "no pictures"
            self.reporter.info(f"  {item_id}: rendered in {view.seconds:.2f} s ({what})")
        else:
            self._problems(answer)
            if old is not None and old.rev:
                self.reporter.info(f"  the page keeps showing the last good render of {item_id}")

    def _after_check(self, answer: msg.Answer) -> None:
        with self.cond:
            self.busy = None
            if isinstance(answer, msg.Checked):
                self.findings, self.check_problems = answer.findings, []
            else:
                assert isinstance(answer, msg.Failed)
                self.check_problems = list(answer.problems)
            self.bump()
        if isinstance(answer, msg.Failed):
            self._problems(answer)

    def _problems(self, failed: msg.Failed) -> None:
        # exit_code=0: the Reporter's "nothing was written" line is for builds; here it just counts.
        self.reporter.problems(failed.problems, exit_code=0)
        if failed.traceback and self.verbose:
            self.reporter.error(failed.traceback)

    def _say_changed(self, changed: list[str], affected: list[str] | None = None) -> None:
        if not changed:
            return
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        if affected is None:
            self.reporter.info(f"changed: {shown}")
        elif affected:
            self.reporter.info(f"changed: {shown} → rebuilding {', '.join(sorted(affected))}")
        else:
            self.reporter.info(f"changed: {shown} → no open item is affected")
