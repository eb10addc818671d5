"""What WeasyPrint may read: files under the project folder only, with one shared font setup."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import unquote, urlparse


class SafeFetcher:
    """URL fetcher that reads only files under the allowed roots; no network, no data: URLs."""

    def __init__(self, roots: list[Path]):
        import weasyprint.urls

        self._urls = weasyprint.urls
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []

    def __call__(self, url: str, headers=None):
        return self.fetch(url, headers)

    def fetch(self, url: str, headers=None):
        urls = self._urls
        parsed = urlparse(url)
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
        raise self._urls.FatalURLFetchingError(f"refused {url[:120]}: {why}")


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
    return config
