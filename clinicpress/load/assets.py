"""Checks of untrusted files the renderers read: images, SVG, fonts and practice templates.

WeasyPrint only logs a broken image or font and leaves it out, and it renders SVG that can
point at other files or the network. These checks run at load time, before anything is
rendered, so every such file is either known good or reported with its path and line:

- PNG/JPEG must open and decode fully with Pillow, within a pixel limit;
- SVG is parsed (lxml, no entities, DTDs or network) and walked: no scripts, event handlers,
  foreignObject, animations, entities or `xml:base`, no reference other than `#id` inside
  the same file (in attributes, `style` and `<style>`, CSS parsed by tinycss2), and limits on
  the elements, their nesting, and what `<use>`/`url(#id)` references expand to;
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


MAX_SVG_ELEMENTS = 20_000
"""Most elements an SVG file may hold (the shipped logos hold under 20; a detailed figure a few thousand)."""
MAX_SVG_EXPANDED = 40_000
"""Most elements an SVG may draw, counting each `<use>` or `url(#id)` reference as a copy of its
target (WeasyPrint draws about 10,000 a second; a 1.3 KB file of nested `<use>` is 40 million)."""
MAX_SVG_DEPTH = 64
"""Deepest nesting of an SVG, counting a reference as one level above what it points to."""

_SVG_ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform", "animatecolor", "discard"}
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
_FETCHING = {"url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "element"}
"""CSS functions that name a file or address (a `url()` token is one too)."""


def svg_problems(data: bytes) -> list[tuple[int | None, str]]:
    """Returns (line, message) for everything in an SVG that could fetch, run, embed or explode.

    The file is parsed with lxml with entities, DTD loading and the network off, then walked:
    no scripts, event handlers, `<foreignObject>`, `<image>`, animations, entity declarations or
    references, `xml:base`, style-sheet instructions, and no reference (in `href`, `src`,
    CSS `url()` and friends, in attributes, `style` and `<style>`, CSS escapes decoded by
    tinycss2) to anything but `#id` in the same file. The elements, their nesting and what
    the references expand to are counted against the limits above.
    """
    return _SvgAudit(data).run()


class _SvgAudit:
    """One parse and one walk of an SVG, collecting problems with their lines."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.problems: list[tuple[int | None, str]] = []

    def add(self, line: int | None, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append((line, message))

    def run(self) -> list[tuple[int | None, str]]:
        from lxml import etree

        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.fromstring(self.data, parser)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) else None
            return [(line, f"is not a valid SVG file: {exc.msg.split(' (')[0][:120]}")]
        except ValueError as exc:  # e.g. a declared encoding lxml does not know
            return [(None, f"is not a valid SVG file: {str(exc)[:120]}")]
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and (list(dtd.iterentities()) or list(dtd.iterelements())):
            at = self.data.find(b"<!ENTITY")
            line = self.data.count(b"\n", 0, at) + 1 if at >= 0 else 1
            self.add(line, "declares entities in a DOCTYPE; entity declarations are not allowed")
        for node in root.itersiblings(preceding=True):
            self.node(node, etree)
        self.walk(root, etree)
        return self.problems

    def node(self, node, etree) -> bool:
        """Checks a comment, instruction or entity; True if `node` is an element to look into."""
        if isinstance(node, etree._ProcessingInstruction):
            if (node.target or "").lower() == "xml-stylesheet":
                self.add(node.sourceline, "links a stylesheet (<?xml-stylesheet?>); not allowed in images")
            return False
        if isinstance(node, etree._Entity):
            self.add(node.sourceline, f"uses the entity &{node.name};; entities are not allowed")
            return False
        return isinstance(node.tag, str)

    def walk(self, root, etree) -> None:
        elements = []
        for el in root.iter():
            if not self.node(el, etree):
                continue
            elements.append(el)
            if len(elements) > MAX_SVG_ELEMENTS:
                self.add(el.sourceline, f"has more than {MAX_SVG_ELEMENTS:,} elements")
                return
        ids: dict = {}
        for el in elements:
            for key in ("id", _XML_NS + "id"):
                value = el.get(key)
                if value:
                    ids.setdefault(value.strip(), el)
        refs: dict = {}
        for el in elements:
            refs[el] = [ids[r] for r in self.element(el, etree) if r in ids]
        rules = [
            (selectors, targets)
            for found, selectors in self.style_rules(elements, etree)
            if (targets := [ids[r] for r in found if r in ids])
        ]
        if rules:
            self.apply_rules(root, rules, refs)
        self.expansion(root, refs, etree)

    # ----------------------------------------------------------------- one element
    def element(self, el, etree) -> list[str]:
        """Checks one element's name and attributes; returns the ids it refers to."""
        line = el.sourceline
        local = etree.QName(el).localname
        low = local.lower()
        if low == "script":
            self.add(line, "contains a <script>; scripts are not allowed in images")
        elif low == "foreignobject":
            self.add(line, "contains a <foreignObject>; embedded HTML is not allowed in images")
        elif low in (
            "image",
            "feimage",
        ):  # outside the file is refused anyway; '#id' makes the renderer fetch the figure again
            self.add(line, f"contains an <{local}>; pictures inside SVG figures are not allowed (draw shapes instead)")
        elif low in _SVG_ANIMATIONS:
            self.add(line, f"contains an animation <{local}> (it can change references); not allowed in images")
        out: list[str] = []
        for key, value in el.attrib.items():
            attr = etree.QName(key).localname if key.startswith("{") else key
            if key == _XML_NS + "base":
                self.add(line, "sets xml:base (it changes where references point); not allowed")
            elif attr.lower().startswith("on"):
                self.add(line, f"has an event handler {attr}=; scripts are not allowed in images")
            elif attr.lower() in ("href", "src"):
                out.extend(self.ref(value, f"<{local} {attr}=>", line))
            elif attr == "style" or "(" in value:  # a CSS function needs its bracket (fill=, filter=, ...)
                import tinycss2

                out.extend(self.css(tinycss2.parse_component_value_list(value), line))
        return out

    def ref(self, value: str, what: str, line: int | None) -> list[str]:
        v = value.strip()
        if not v:
            return []
        if not v.startswith("#"):
            self.add(
                line,
                f"{what} refers to {v[:80]!r}; only references to '#id' inside the SVG "
                "are allowed (nothing outside the file is loaded)",
            )
            return []
        return [v[1:]]

    def css(self, tokens, line: int | None) -> list[str]:
        """Walks CSS component values (escapes already decoded); returns the '#id' references."""
        out: list[str] = []
        stack = list(tokens)
        while stack:
            tok = stack.pop()
            kind = tok.type
            if kind == "url":
                out.extend(self.ref(tok.value, "url()", line))
            elif kind == "function":
                if tok.lower_name in _FETCHING:
                    for arg in tok.arguments:
                        if arg.type in ("string", "url"):
                            out.extend(self.ref(arg.value, f"{tok.lower_name}()", line))
                stack.extend(tok.arguments)
            elif kind in ("() block", "[] block", "{} block"):
                stack.extend(tok.content)
            elif kind == "at-keyword" and tok.lower_value == "import":
                self.add(line, "@import in CSS; not allowed in images")
        return out

    def style_rules(self, elements, etree):
        """Each <style> rule that refers to an '#id': (ids, selector tokens); problems noted on the way."""
        import tinycss2

        for el in elements:
            if etree.QName(el).localname.lower() != "style":
                continue
            text = "".join(el.itertext())
            for rule in tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True):
                line = el.sourceline + rule.source_line - 1 if el.sourceline else None
                if rule.type == "at-rule":
                    if rule.lower_at_keyword == "import":
                        self.add(line, "@import in CSS; not allowed in images")
                    self.css(list(rule.prelude) + list(rule.content or []), line)
                elif rule.type == "qualified-rule":
                    found = self.css(rule.content, line)
                    if found:
                        yield found, rule.prelude

    @staticmethod
    def apply_rules(root, rules, refs) -> None:
        """Adds each rule's targets to the references of the elements its selectors match (one
        cssselect2 matcher, as the renderer uses, and one pass over the elements)."""
        import cssselect2

        matcher = cssselect2.Matcher()
        for selectors, targets in rules:
            try:
                for selector in cssselect2.compile_selector_list(selectors):
                    matcher.add_selector(selector, targets)
            except Exception:  # a selector the renderer would not understand either matches nothing
                continue
        for wrapper in cssselect2.ElementWrapper.from_xml_root(root).iter_subtree():
            element = wrapper.etree_element
            if element in refs:
                for *_, targets in matcher.match(wrapper):
                    refs[element].extend(targets)

    # ----------------------------------------------------------------- expansion
    def expansion(self, root, refs, etree) -> None:
        """Counts what the drawing expands to (elements and depth), following references."""
        size: dict = {}
        depth: dict = {}
        on_path: set = set()
        stack = [(root, False)]
        while stack:
            el, done = stack.pop()
            if done:
                on_path.discard(el)
                nexts = [c for c in el if isinstance(c.tag, str)] + refs.get(el, [])
                size[el] = min(MAX_SVG_EXPANDED + 1, 1 + sum(size[n] for n in nexts))
                depth[el] = 1 + max((depth[n] for n in nexts), default=0)
                if size[el] > MAX_SVG_EXPANDED:
                    self.add(
                        el.sourceline,
                        f"expands to more than {MAX_SVG_EXPANDED:,} elements through <use> and url(#id) "
                        "references (a reference bomb?)",
                    )
                    return
                if depth[el] > MAX_SVG_DEPTH:
                    self.add(
                        el.sourceline,
                        f"is nested more than {MAX_SVG_DEPTH} levels deep (counting each <use> or url(#id) "
                        "reference as a level)",
                    )
                    return
                continue
            if el in size:
                continue
            on_path.add(el)
            stack.append((el, True))
            for n in [c for c in el if isinstance(c.tag, str)] + refs.get(el, []):
                if n in on_path:
                    self.add(el.sourceline, "has a reference that leads back to itself (a reference loop)")
                    return
                if n not in size:
                    stack.append((n, False))


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
