"""CSS values the handout stylesheet receives: quoted strings, counters and the checked theme."""

from __future__ import annotations

import functools
import re
from collections import Counter

from markupsafe import Markup

from ...load.colour import Inks, contrast
from .variants import MIN_BODY_PT

_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def css_str(text: str) -> Markup:
    """Returns `text` as a quoted CSS string, safe inside a <style> element."""
    out = []
    for ch in str(text):
        if ch in "\"\\<>&'" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def css_counter_content(template: str) -> Markup:
    """Turns a catalogue text like "Page {page} of {pages}" into a CSS `content` value."""
    parts = []
    for piece in re.split(r"(\{page\}|\{pages\})", template):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_str(piece))
    return Markup(" ".join(parts) or '""')


def hex_colour(value: str | None, fallback: str) -> str:
    """Returns `value` as a lower-case six-digit hex colour, or `fallback` if it is not one."""
    if isinstance(value, str) and _HEX_RE.match(value):
        if len(value) == 4:
            value = "#" + "".join(c * 2 for c in value[1:])
        return value.lower()
    return fallback


TEXT_SURFACES = {
    "c-heading": ("background", "tertiary"),  # headings; main-message label, action box on the tint
    "c-link": ("background", "tertiary", "light"),  # links anywhere
    "c-muted": ("background", "tertiary", "light"),  # footer, captions, citation numbers, review line
    "c-secondary-text": ("background",),  # questions box heading
    "c-danger": ("background", "light"),  # help box, call line; emergency line in the disclaimer
    "c-picture": ("background", "light"),  # icons and diagrams (load.pictures), on the page and in callouts
}
"""The page surfaces each text colour variable of handout.css is printed on."""


def css_variables(theme, band_dark: bool, script_families: tuple[str, ...] = ()) -> dict[str, Markup]:
    """Returns the theme as CSS custom properties, every value checked (hex colours, quoted fonts).

    `script_families` are the fonts of the language's script (`load.script`), listed after the
    practice's and the bundled font, so they draw only the characters those lack.

    Text colours come from `clinicpress.load.colour.Inks`, the rule the deck and the contrast check
    share: a brand colour is printed as text only where it reaches 4.5:1, else a readable
    substitute; tints are lightened until body text is readable on them.
    """
    from ...load.theme import DEFAULT_COLORS

    c = {name: hex_colour(theme.colors.get(name), default) for name, default in DEFAULT_COLORS.items()}
    heading = hex_colour(theme.heading_color, c["primary"])
    inks = Inks(c, heading)
    on = TEXT_SURFACES
    danger = inks.text("danger", on=on["c-danger"])  # also the emergency band and the help box's border
    on_primary = inks.text("background", on="primary")
    values = {
        "c-fg": c["foreground"],
        "c-bg": c["background"],
        "c-primary": c["primary"],
        "c-secondary": c["secondary"],
        "c-tint": inks.surfaces["tertiary"],
        "c-light": inks.surfaces["light"],
        "c-success": c["success"],
        "c-warning": c["warning"],
        "c-danger": danger,
        "c-heading": inks.text("heading", on=on["c-heading"]),
        "c-link": inks.text("primary", on=on["c-link"]),
        "c-picture": inks.text("primary", on=on["c-picture"]),
        "c-muted": inks.text("secondary", on=on["c-muted"]),
        "c-secondary-text": inks.text("secondary", on=on["c-secondary-text"]),
        "c-rule": c["tertiary"] if contrast(c["tertiary"], c["background"]) > 1.15 else c["secondary"],
        "c-on-primary": on_primary,
        "c-on-danger": inks.text("background", on=danger),
        "c-band": c["primary"] if band_dark else c["background"],
        "c-on-band": on_primary if band_dark else inks.text("heading", on="background"),
        "c-band-rule": c["secondary"] if band_dark else c["primary"],
    }
    out = {k: Markup(v.lower()) for k, v in values.items()}
    fallback = ", ".join(['"Atkinson Hyperlegible"', *map(css_str, script_families), "Arial, Helvetica, sans-serif"])
    out["f-base"] = Markup(f"{css_str(theme.base_family)}, {fallback}")
    out["f-heading"] = Markup(f"{css_str(theme.heading_family)}, {fallback}")
    weight = theme.heading_weight if isinstance(theme.heading_weight, int) else 700
    out["heading-weight"] = Markup(str(weight))
    out["line-height"] = Markup(str(max(1.5, float(theme.line_height))))
    out["base-size"] = Markup(f"{base_size_pt(theme):g}pt")
    return out


def base_size_pt(theme) -> float:
    """Body text size of the standard handout: the brand's `typography.base.size`, at least 12 pt
    (the large-print variant sets its own 18 pt in the stylesheet)."""
    try:
        size = float(getattr(theme, "base_size_pt", MIN_BODY_PT))
    except (TypeError, ValueError):
        size = MIN_BODY_PT
    return max(MIN_BODY_PT, size) if size == size else MIN_BODY_PT  # NaN → the minimum


_STYLE_RE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)
_DEFINITION_RE = re.compile(r"--([A-Za-z0-9_-]+)\s*:")
_VAR_RE = re.compile(r"var\(\s*--([A-Za-z0-9_-]+)\s*(?:,[^()]*)?\)")


def inline_constants(html: str) -> str:
    """Writes the value of each constant custom property in place of its `var()` in <style>.

    A property is constant when the document defines it once, at the top level of a stylesheet,
    on `:root`, as a plain value; every `var()` of it then means that value in every media, so
    the document means the same. Properties defined again anywhere (in `@media screen`, on an
    element, in a style attribute) keep their `var()`. WeasyPrint resolves each `var()` per
    element and property; on a handout that was about a seventh of the layout time.
    """
    blocks = _STYLE_RE.findall(html)
    if not blocks or "var(" not in html:
        return html
    constants = _constants("\n".join(b[1] for b in blocks))
    defined = Counter(_DEFINITION_RE.findall(html))
    values = {name: value for name, value in constants.items() if defined.get(name) == 1}
    if not values:
        return html

    def one(m: re.Match) -> str:
        value = values.get(m.group(1))
        return m.group(0) if value is None else value

    return _STYLE_RE.sub(lambda m: m.group(1) + _VAR_RE.sub(one, m.group(2)) + m.group(3), html)


@functools.lru_cache(maxsize=64)
def _constants(css: str) -> dict[str, str]:
    """Custom properties set on a top-level `:root` rule, with plain values (no var(), no !important)."""
    import tinycss2

    out: dict[str, str] = {}
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule" or tinycss2.serialize(rule.prelude).strip() != ":root":
            continue
        for decl in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
            if decl.type == "declaration" and decl.name.startswith("--") and not decl.important:
                value = tinycss2.serialize(decl.value).strip()
                if value and "var(" not in value and ";" not in value and "}" not in value:
                    out[decl.name[2:]] = value
    return out
