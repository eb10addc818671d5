"""What WeasyPrint may read: files under the project folder only, with one shared font setup."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

GENERATED_SCHEME = "clinicpress-subset"
_GENERATED: dict[str, bytes] = {}
"""Files the renderer made itself, in memory (a tagline's cut font, `subset.py`), by URL."""


def serve_generated(name: str, data: bytes) -> str:
    """Keeps `data` for this process's renders and returns the URL the fetcher serves it under."""
    url = f"{GENERATED_SCHEME}:{name}"
    _GENERATED[url] = data
    return url


def forget_generated() -> None:
    """Drops every file made for earlier documents (call between documents, never during one)."""
    _GENERATED.clear()


def generated_bytes() -> int:
    """How much the renderer keeps in memory for `serve_generated` (callers keep it bounded)."""
    return sum(len(data) for data in _GENERATED.values())


class SafeFetcher:
    """URL fetcher that reads only files under the allowed roots; no network, no data: URLs.
    The one other thing it serves is what the renderer itself made in memory (`serve_generated`).

    `sources` are the template folders (the practice's, then the defaults) whose files can ask
    for a resource; `origin()` finds the file and line that asked for the first refused one."""

    def __init__(self, roots: list[Path], sources: Iterable[Path | None] = ()):
        import weasyprint.urls

        self._urls = weasyprint.urls
        self.roots = [r.resolve() for r in roots]
        self.sources = [s for s in sources if s is not None]
        self.refused: list[str] = []
        self.refused_urls: list[str] = []

    def __call__(self, url: str, headers=None):
        return self.fetch(url, headers)

    def fetch(self, url: str, headers=None):
        urls = self._urls
        parsed = urlparse(url)
        if url in _GENERATED:
            return urls.URLFetcherResponse(url, body=_GENERATED[url], headers={})
        if parsed.scheme == GENERATED_SCHEME:
            return self._refuse(url, "no such font was made for this document")
        if parsed.scheme != "file":
            return self._refuse(url, f"scheme {parsed.scheme or '(none)'}: is not allowed")
        path = Path(unquote(parsed.path))
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return self._refuse(url, "file not found")
        if not any(real.is_relative_to(root) for root in self.roots):
            return self._refuse(url, "file is outside the project folder")
        if not real.is_file():
            return self._refuse(url, "not a regular file")
        return urls.URLFetcherResponse(real.as_uri(), body=real.read_bytes(), headers={})

    def _refuse(self, url: str, why: str):
        self.refused.append(f"{url[:120]} ({why})")
        self.refused_urls.append(url)
        raise self._urls.FatalURLFetchingError(f"refused {url[:120]}: {why}")

    def origin(self) -> tuple[Path, int] | None:
        """The template or stylesheet file, and its line, that asked for the first refused URL."""
        return locate(self.refused_urls[0], self.sources) if self.refused_urls else None


SOURCE_SUFFIXES = (".j2", ".css", ".html", ".htm", ".svg", ".xml")
"""Files of a templates folder that can ask for a resource (templates, stylesheets, pictures)."""
MIN_TAIL = 4
"""Shortest end of a URL searched for (shorter ones would match anywhere)."""


def locate(url: str, folders: Iterable[Path]) -> tuple[Path, int] | None:
    """Finds where a template or stylesheet asked for `url`: the file and line holding the longest
    end of it (by path segments, as written or percent-decoded), in the first folder that has one.

    WeasyPrint reports the URL resolved against the page; the source holds it as written
    (relative, or assembled by a template expression such as `"ht" ~ "tp://host/x.png"`), so
    the search goes from the whole URL down to its last segment."""
    texts: list[tuple[Path, str]] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.suffix not in SOURCE_SUFFIXES or path.is_symlink() or not path.is_file():
                continue
            try:
                texts.append((path, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError):
                continue
    for tail in _tails(url):
        for path, text in texts:
            pos = text.find(tail)
            if pos >= 0:
                return path, text.count("\n", 0, pos) + 1
    return None


def _tails(url: str) -> list[str]:
    """`url` and its ends by path segment, longest first, as written and percent-decoded."""
    out: list[str] = []
    for form in (url, unquote(url)):
        parts = form.split("/")
        for i in range(len(parts)):
            tail = "/".join(parts[i:])
            if len(tail.strip("/")) >= MIN_TAIL and tail not in out:
                out.append(tail)
    return sorted(out, key=len, reverse=True)


@functools.cache
def font_config():
    """Returns the font configuration all handouts of this process share (fonts load once).

    WeasyPrint copies each @font-face file into a temporary folder and deletes it when the
    configuration is collected, which never happens for one kept for the whole process (and a
    worker ends with os._exit). The folder is deleted when the process ends instead: at exit
    in the main process, by multiprocessing's exit hooks in a worker.
    """
    import atexit
    import multiprocessing.util
    import shutil

    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()

    def remove_folder() -> None:
        folder = getattr(config, "_folder", None)  # WeasyPrint's own name for it
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            config._folder = None

    atexit.register(remove_folder)
    multiprocessing.util.Finalize(None, remove_folder, exitpriority=10)
    _FONT_FOLDERS.append(remove_folder)
    return config


_FONT_FOLDERS: list = []
"""How to delete the temporary font folder of each font configuration made so far."""


def reset_fonts() -> None:
    """Starts a new font configuration (with its own folder) and forgets the font cuts.

    WeasyPrint's configuration keeps every @font-face it loaded under a name made from the
    rule, not from the file, so a font file replaced under the same name would keep printing
    the old letters in a long-running process (`build --watch`, the preview)."""
    import sys

    font_config.cache_clear()
    while _FONT_FOLDERS:
        _FONT_FOLDERS.pop()()
    subset = sys.modules.get("clinicpress.render.handout.subset")
    if subset is not None:
        subset.forget_cuts()
