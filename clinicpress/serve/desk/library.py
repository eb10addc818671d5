"""What the print desk knows: the practice's handouts, their sign-off and check states, their
pictures, and the packets it makes (in memory; nothing here writes a file).

The project is loaded once and again whenever a file of content/, templates/ or the practice
changes (checked on each page load). One lock keeps WeasyPrint to one document at a time.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from ...errors import UserError

TOKEN_SECONDS = 12 * 3600
"""How long a page load's print token stays valid."""
TOKENS_KEPT = 256
"""Most page loads whose tokens are remembered (the oldest are forgotten first)."""
PREVIEW_WIDTH = 900
"""Width in pixels of a page in the preview."""
THUMB_WIDTH = 240


class Library:
    """The desk's state for one practice."""

    def __init__(self, root: Path, practice: str):
        self.root = root
        self.practice = practice
        self.lock = threading.RLock()
        self._tokens: OrderedDict[str, float] = OrderedDict()
        self._stamp: tuple | None = None
        self._images: dict[tuple, list] = {}
        self.project: Any = None
        self.blocked: dict[str, list[str]] = {}
        self.load_problems: list[str] = []
        self.refresh()

    # ------------------------------------------------------------------ loading
    def _fingerprint(self) -> tuple:
        folders = [self.root / "content", self.root / "templates", self.root / "practices" / self.practice]
        out = []
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                try:
                    st = path.stat()
                except OSError:
                    continue
                out.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def refresh(self) -> None:
        """Loads the project again if a file changed; a broken file keeps the last good state and says why."""
        stamp = self._fingerprint()
        with self.lock:
            if stamp == self._stamp:
                return
            from ...checker import failing_items, run_checks
            from ...jobs import packet, run
            from ...load import i18n
            from ...load.project import load_project

            try:
                project = load_project(self.root, practices=[self.practice])
                failing = failing_items(run_checks(project), strict=False)
            except UserError as exc:
                self.load_problems = [str(p) for p in exc.problems]
                if self.project is None:
                    raise
                self._stamp = stamp
                return
            self.project = project
            self.blocked = {k: [f.message for f in fs] for k, fs in failing.items() if k.startswith("handout:")}
            self.load_problems = []
            self._images.clear()
            packet.reset()
            run.reset_caches()
            i18n.reset_caches()
            self._stamp = stamp

    # ------------------------------------------------------------------ what the page lists
    def catalogue(self) -> dict:
        """The page's data: languages, variants and every handout in every language it has."""
        from ...jobs.packet import languages
        from ...load.i18n import language_name

        project = self.project
        ctx = project.practices[self.practice]
        signoffs = project.signoffs.get(self.practice, {})
        items: dict[str, dict] = {}
        for src in sorted(project.handouts, key=lambda s: (s.slug, s.language)):
            model = src.model
            signoff = signoffs.get(src.key)
            status = signoff.status if signoff is not None else "unapproved"
            entry = items.setdefault(src.slug, {"slug": src.slug, "versions": {}})
            entry["versions"][src.language] = {
                "title": model.title,
                "description": model.description or "",
                "keywords": list(model.keywords),
                "topics": [s.heading for s in model.sections],
                "status": status,
                "draft": status != "approved",
                "reason": signoff.reason if signoff is not None and status != "approved" else "",
                "failed": self.blocked.get(src.key, []),
            }
        return {
            "practice": {"slug": self.practice, "name": ctx.info.name},
            "languages": languages(project),
            "language_names": {tag: language_name(tag) for tag in languages(project)},
            "default_language": ctx.info.languages[0] if ctx.info.languages else "en",
            "items": list(items.values()),
            "problems": self.load_problems,
        }

    # ------------------------------------------------------------------ tokens
    def new_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = time.monotonic()
            while len(self._tokens) > TOKENS_KEPT:
                self._tokens.popitem(last=False)
        return token

    def token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        with self.lock:
            made = self._tokens.get(token)
        return made is not None and time.monotonic() - made < TOKEN_SECONDS

    # ------------------------------------------------------------------ pictures
    def source(self, slug: str, language: str) -> Any:
        from ...jobs.packet import handouts_in

        return handouts_in(self.project, language).get(slug)

    def images(self, slug: str, language: str, variant: str, *, thumb: bool) -> list:
        """The pages of one handout as PNG pictures (page one only for a thumbnail), kept in memory."""
        from ...jobs.packet import handout_pdf
        from ...render import raster
        from ...render.handout import VARIANTS

        if variant not in VARIANTS:
            raise KeyError(variant)
        key = (slug, language, variant, thumb)
        with self.lock:
            if key not in self._images:
                src = self.source(slug, language)
                if src is None:
                    raise KeyError(slug)
                pdf = handout_pdf(self.project, src, self.practice, variant)
                if thumb:
                    self._images[key] = raster.pdf_images(pdf, width=THUMB_WIDTH, first=1, compress_level=6)
                else:
                    self._images[key] = raster.pdf_images(pdf, width=PREVIEW_WIDTH)
            return self._images[key]

    # ------------------------------------------------------------------ packets
    def packet(self, items: list[str], language: str, variant: str, patient: Any) -> bytes:
        """The packet PDF for these choices (the same function and date as the `packet` command)."""
        from ...jobs.packet import PacketRequest, make_packet
        from ...packet import packet_day

        with self.lock:
            request = PacketRequest(self.practice, tuple(items), language, variant, patient, frozenset(self.blocked))
            return make_packet(self.project, request, packet_day(self.root))
