"""Pictures of the library as inline SVG in the practice's colour, for handouts and slides.

A library picture (`load.pictures`) draws with `currentColor`; setting the `color` of its root
element prints it in any colour, with no second copy of the file. Its `<title>` becomes the
alternative text: WeasyPrint tags an inline SVG as a Figure whose /Alt is that title, and
the slides take the same text as the picture's description.
"""

from __future__ import annotations

import functools
from pathlib import Path

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"


def svg_markup(path: Path, colour: str, title: str | None, css_class: str) -> Markup:
    """The picture at `path` as inline SVG markup: drawn in `colour` (`#RRGGBB`), sized by CSS
    (`css_class`), with `title` as its alternative text (None: decorative, hidden from screen
    readers and made an artifact). The file has passed `load.assets.svg_problems`."""
    st = path.stat()
    return Markup(_markup(path.resolve(), (st.st_mtime_ns, st.st_size), colour, title, css_class))


@functools.lru_cache(maxsize=256)
def _markup(path: Path, _stamp: tuple, colour: str, title: str | None, css_class: str) -> str:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    root = etree.fromstring(path.read_bytes(), parser)
    for old in [el for el in root if isinstance(el.tag, str) and etree.QName(el).localname in ("title", "desc")]:
        root.remove(old)
    for name in ("width", "height", "class", "role", "aria-hidden", "aria-label", "color"):
        root.attrib.pop(name, None)
    root.set("class", css_class)
    root.set("color", colour)
    if title:
        root.set("role", "img")
        element = etree.Element(f"{{{SVG_NS}}}title")
        element.text = title
        root.insert(0, element)
    else:
        root.set("aria-hidden", "true")
    return etree.tostring(root, encoding="unicode")
