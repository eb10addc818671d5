"""Checks of untrusted files the renderers read: images, SVG, fonts and practice templates.

WeasyPrint only logs a broken image or font and leaves it out, and it renders SVG that can
point at other files or the network. These checks run at load time, before anything is
rendered, so every such file is either known good or reported with its path and line:

- PNG/JPEG must open and decode fully with Pillow, within a pixel limit;
- SVG must be well-formed XML with no scripts, no foreignObject, no entity declarations,
  and no reference other than `#id` inside the same file (no http:, file:, data: or paths);
- fonts must open with fontTools;
- practice templates may not name remote, absolute, `data:` or climbing (`..`) URLs for
  anything the renderer fetches (CSS `url()`, `@import`, `src=`, `<link href>`), nor
  `rel="attachment"` links.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""Largest image file accepted (print-quality figures are far smaller)."""
MAX_IMAGE_PIXELS = 40_000_000
"""Largest image accepted, in pixels (about 7300 x 5500; stops decompression bombs)."""

RASTER_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}

_SCHEME_RE = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.\-]*:")
_CSS_URL_RE = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))\s*\)", re.IGNORECASE)
_CSS_IMPORT_RE = re.compile(r"@import\s+(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE)


def image_problems(path: Path) -> list[tuple[int | None, str]]:
    """Returns (line, message) problems of one image file; line is inside an SVG, else None."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return [(None, f"cannot read: {exc.strerror}")]
    if size > MAX_IMAGE_BYTES:
        return [(None, f"is {size // (1024 * 1024)} MiB; images may be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")]
    suffix = path.suffix.lower()
    if suffix == ".svg":
        try:
            return svg_problems(path.read_bytes())
        except OSError as exc:
            return [(None, f"cannot read: {exc.strerror}")]
    if suffix in RASTER_SUFFIXES:
        return _raster_problems(path, RASTER_SUFFIXES[suffix])
    return [(None, "must be PNG, JPEG or SVG")]


def _raster_problems(path: Path, expected: str) -> list[tuple[int | None, str]]:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.format != expected:
                    return [(None, f"is not a {expected} image (the file holds {im.format or 'something else'})")]
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    return [(None, f"is {im.width}x{im.height} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels")]
                im.verify()
            with Image.open(path) as im:
                im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return [(None, "has too many pixels (a decompression bomb?)")]
    except Exception as exc:  # Pillow raises many kinds for broken files
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return [(None, f"is not a valid {expected} image ({detail})")]
    return []


def svg_problems(data: bytes) -> list[tuple[int | None, str]]:
    """Returns (line, message) for everything in an SVG that could fetch, run or embed."""
    return _SvgAudit().run(data)


class _SvgAudit:
    """One pass of expat over an SVG, collecting what could fetch, run or embed."""

    def __init__(self) -> None:
        from xml.parsers import expat

        self.expat = expat
        self.problems: list[tuple[int | None, str]] = []
        self.in_style: list[bool] = []
        self.parser = parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.chars
        parser.EntityDeclHandler = self.entity_decl
        parser.ProcessingInstructionHandler = self.pi
        parser.ExternalEntityRefHandler = self.external_entity
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def run(self, data: bytes) -> list[tuple[int | None, str]]:
        try:
            self.parser.Parse(data, True)
        except self.expat.ExpatError as exc:
            if not self.problems:
                self.problems.append((exc.lineno, f"is not a valid SVG file: {self.expat.ErrorString(exc.code)}"))
        return self.problems

    def add(self, message: str) -> None:
        self.problems.append((self.parser.CurrentLineNumber, message))

    def check_ref(self, value: str, what: str) -> None:
        v = value.strip()
        if v and not v.startswith("#"):
            self.add(
                f"{what} refers to {v[:80]!r}; only references to '#id' inside the SVG "
                "are allowed (nothing outside the file is loaded)"
            )

    def check_css(self, text: str) -> None:
        for m in _CSS_URL_RE.finditer(text):
            self.check_ref(next(g for g in m.groups() if g is not None), "url()")
        for m in _CSS_IMPORT_RE.finditer(text):
            self.check_ref(m.group(1) or m.group(2), "@import")

    def start(self, name: str, attrs: dict) -> None:
        local = name.rsplit(" ", 1)[-1]
        if local.lower() == "script":
            self.add("contains a <script>; scripts are not allowed in images")
        if local == "foreignObject":
            self.add("contains a <foreignObject>; embedded HTML is not allowed in images")
        for key, value in attrs.items():
            attr = key.rsplit(" ", 1)[-1]
            if attr.lower().startswith("on"):
                self.add(f"has an event handler {attr}=; scripts are not allowed in images")
            elif attr in ("href", "src"):
                self.check_ref(value, f"<{local} {attr}=>")
            elif "url(" in value.lower() or "@import" in value.lower():
                self.check_css(value)
        self.in_style.append(local == "style")

    def end(self, name: str) -> None:
        if self.in_style:
            self.in_style.pop()

    def chars(self, text: str) -> None:
        if self.in_style and self.in_style[-1]:
            self.check_css(text)

    def entity_decl(self, name, *args) -> None:
        self.add(f"declares an entity {name!r}; entity declarations are not allowed")

    def pi(self, target: str, data: str) -> None:
        if target.lower() == "xml-stylesheet":
            self.add("links a stylesheet (<?xml-stylesheet?>); not allowed in images")

    def external_entity(self, *args) -> int:
        self.add("refers to an external entity; not allowed")
        return 1


def font_problem(path: Path) -> str | None:
    """Returns why a font file cannot be used, or None if fontTools opens it with a cmap."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True) as font:
            if not font.getBestCmap():
                return "is not a usable font file (it has no character map)"
    except Exception as exc:  # fontTools raises many kinds for broken files
        return f"is not a usable font file ({type(exc).__name__}: {str(exc)[:100]})"
    return None


def template_problems(path: Path) -> list[tuple[int, str]]:
    """Returns (line, message) for URLs a practice template would make the renderer fetch.

    Literal URLs only; what a template builds at render time is refused by the PDF
    renderer's fetcher instead. Links (`<a href>`) are not fetched and are not checked.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [(1, "cannot be read as UTF-8 text")]
    problems: list[tuple[int, str]] = []

    def lineno(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    def check(value: str, pos: int, what: str) -> None:
        v = value.strip()
        if not v or v.startswith(("#", "{{", "{%")) or "{{" in v:
            return
        if _SCHEME_RE.match(v):
            why = (
                "remote and data: URLs are never fetched"
                if not v.lower().startswith("file:")
                else "file: URLs are not allowed"
            )
        elif v.startswith(("/", "\\")):
            why = "absolute paths are not allowed"
        elif ".." in re.split(r"[/\\]", v):
            why = "paths may not climb out with '..'"
        else:
            return
        problems.append(
            (lineno(pos), f"{what} {v[:80]!r}: {why}; use the files and variables ClinicPress passes to templates")
        )

    for m in _CSS_URL_RE.finditer(text):
        check(next(g for g in m.groups() if g is not None), m.start(), "url()")
    for m in _CSS_IMPORT_RE.finditer(text):
        check(m.group(1) or m.group(2), m.start(), "@import")
    for m in re.finditer(r"<[a-zA-Z][^<>]*>", text):
        tag = m.group(0)
        opening = re.match(r"<([a-zA-Z][\w:-]*)", tag)
        name = opening.group(1).lower() if opening else ""
        for am in re.finditer(r"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", tag):
            attr = am.group(1).lower()
            value = next(g for g in am.groups()[1:] if g is not None)
            pos = m.start() + am.start()
            if attr == "rel" and "attachment" in value.lower().split():
                problems.append((lineno(pos), f'<{name} rel="attachment"> would embed a file in the PDF; not allowed'))
            fetched = attr in ("src", "srcset", "data", "poster") or (
                attr in ("href", "xlink:href") and name in ("link", "image", "use", "feimage", "object")
            )
            if fetched:
                check(value, pos, f"<{name} {attr}=>")
            elif attr == "style":
                for um in _CSS_URL_RE.finditer(value):
                    check(next(g for g in um.groups() if g is not None), pos, "url()")
    return sorted(set(problems))
