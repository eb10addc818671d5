"""Accessibility: alt text, body text size, and the slide rules (bullets, titles, notes, tables).

Colour contrast lives in `contrast.py`. The handout body size is read from the template
CSS (`html`/`body` font-size; a practice's own `templates/handout/handout.css` wins) unless
`handout_body_pt` is set. The slide body size is `slide_body_pt` if set, else the size the
deck renderer's body placeholders inherit from the slide master each practice uses (its
`deck_master`, or templates/deck/default-master.pptx): the first two levels of its body text
style, read with python-pptx through `pptx_adapter`. The minimum is `slide_body_pt_min`, whose
default is the renderer's MIN_BODY_PT (one number, in `clinicpress.load.config`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Finding
from ..load.config import Config
from ..load.i18n import Messages, messages
from ..load.project import walk_figures
from . import prose

GENERIC_ALT = {
    "image",
    "picture",
    "photo",
    "photograph",
    "figure",
    "graphic",
    "img",
    "chart",
    "diagram",
    "illustration",
    "icon",
    "logo",
    "imagen",
    "foto",
    "figura",
    "gráfico",
    "ilustración",
}


# --------------------------------------------------------------------------- alt text
def alt_problem(fig) -> str | None:
    """Why a figure's alt text would not help a screen-reader user (None when it is fine)."""
    if fig.decorative:
        return None
    alt = (fig.alt or "").strip()
    if not alt:
        return "has no alt text"
    if re.search(r"\.(png|jpe?g|svg|gif|webp)$", alt, re.IGNORECASE) or alt == Path(fig.src).name:
        return f"alt text {alt!r} is a file name"
    if alt.casefold().strip(" .") in GENERIC_ALT:
        return f"alt text {alt!r} does not say what the image shows"
    return None


def check_alt(src, ctx) -> list[Finding]:
    findings = []
    for loc, fig in walk_figures(src.model):
        problem = alt_problem(fig)
        if problem:
            findings.append(
                ctx.at(
                    src,
                    "accessibility.alt_text",
                    "error",
                    f"image {fig.src!r} {problem}",
                    loc + ("alt",),
                    hint="describe what the image shows and why it is there, "
                    "or set decorative: true if it carries no information",
                )
            )
    return findings


# --------------------------------------------------------------------------- font sizes
_RULE_RE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def css_body_pt(css: str) -> float | None:
    """Body text size in points from `html { font-size }` / `body { font-size }` (last one wins)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    root_pt = 12.0
    found: float | None = None
    # Only top-level rules: drop @page and other at-rule blocks first.
    css = re.sub(r"@[\w-]+[^{;]*\{(?:[^{}]|\{[^{}]*\})*\}", "", css)
    for selectors, body in _RULE_RE.findall(css):
        names = {s.strip() for s in selectors.split(",")}
        if not names & {"html", "body", ":root"}:
            continue
        sizes = list(re.finditer(r"(?:^|;)\s*font-size\s*:\s*([\d.]+)\s*(pt|px|em|rem|%)?", body))
        m = sizes[-1] if sizes else None  # the last declaration wins
        if m is None:
            m = re.search(r"(?:^|;)\s*font\s*:[^;]*?([\d.]+)(pt|px|em|rem|%)", body)
        if m is None:
            continue
        value, unit = float(m.group(1)), (m.group(2) or "px")
        base = found if "body" in names and found is not None else root_pt
        pt = {"pt": value, "px": value * 0.75, "em": value * base, "rem": value * root_pt, "%": value / 100 * base}[
            unit
        ]
        if names & {"html", ":root"}:
            root_pt = pt
        found = pt
    return found


def handout_css_path(root: Path, practice=None) -> Path:
    if practice is not None and practice.templates_dir is not None:
        own = practice.templates_dir / "handout" / "handout.css"
        if own.is_file():
            return own
    return root / "templates" / "handout" / "handout.css"


def check_practice_fonts(slug: str, practice, ctx) -> list[Finding]:
    """The handout body size for this practice's template is at least `handout_body_pt_min`."""
    config = ctx.config
    path = handout_css_path(ctx.root, practice)
    if config.handout_body_pt is not None:
        size, shown, line = config.handout_body_pt, "pyproject.toml", None
    elif path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        size, shown = css_body_pt(text), ctx.rel(path)
        line = next(
            (
                n
                for n, ln in enumerate(text.splitlines(), 1)
                if re.match(r"\s*(html|body)\b[^{]*\{", ln) and "font" in ln
            ),
            None,
        )
    else:
        return []
    if size is None and isinstance(getattr(practice.theme, "base_size_pt", None), (int, float)):
        # The CSS takes its size from the theme (e.g. var(--base-size)): check the brand's size.
        size, shown, line = float(practice.theme.base_size_pt), ctx.rel(practice.root / "_brand.yml"), None
    if size is None:
        return [
            Finding(
                "accessibility.font_size",
                "warning",
                "cannot read the body font size from the handout CSS",
                shown,
                None,
                None,
                "set html { font-size: 12pt } or handout_body_pt in [tool.clinicpress]",
            )
        ]
    if size + 1e-9 < config.handout_body_pt_min:
        return [
            Finding(
                "accessibility.font_size",
                "error",
                f"handout body text is {size:g} pt; at least {config.handout_body_pt_min:g} pt is needed",
                shown,
                line,
                "font-size",
                "set html { font-size: 12pt } (or larger)",
                {"pt": size},
            )
        ]
    return []


def slide_body_pt(config) -> tuple[float | None, str]:
    """Returns the slide body size the project sets for every deck and where it came from (None
    if unset: the renderer has no size of its own, its body text takes the master's)."""
    if config.slide_body_pt is not None:
        return config.slide_body_pt, "slide_body_pt in the project config"
    return None, ""


DEFAULT_MASTER = Path("templates") / "deck" / "default-master.pptx"
MIN_BODY_PT = Config.model_validate({}).slide_body_pt_min
"""The body size the deck renderer raises a smaller master's to (its MIN_BODY_PT: the default
of slide_body_pt_min)."""


def master_body_pt(path: Path) -> float | None:
    """Smallest of the first two body levels (bullets, sub-bullets) of a .pptx/.potx master's
    body text style, in points; None if the file cannot be opened or sets neither size."""
    from ..render import pptx_adapter as ad

    try:
        masters = ad.open_presentation(path).slide_masters
    except Exception:
        return None
    if not len(masters):
        return None
    sizes = [size for size in (ad.master_body_size(masters[0], level) for level in (0, 1)) if size is not None]
    return min(sizes) if sizes else None


def check_practice_slides(slug: str, practice, ctx) -> list[Finding]:
    """Slide body size of the master this practice's decks use (when no renderer-wide size is set)."""
    config = ctx.config
    if not ctx.project.decks or slide_body_pt(config)[0] is not None:
        return []
    master = practice.master or ctx.root / DEFAULT_MASTER
    if not master.is_file():
        return []
    size = master_body_pt(master)
    if size is None:
        return [
            Finding(
                "accessibility.font_size",
                "warning",
                "cannot read the body text size of the slide master",
                ctx.rel(master),
                None,
                None,
                "set slide_body_pt in [tool.clinicpress] to the size it uses",
            )
        ]
    least = config.slide_body_pt_min
    built = max(size, MIN_BODY_PT)  # the deck renderer raises a smaller master body size to this
    if size + 1e-9 < least <= built + 1e-9:
        return [
            Finding(
                "accessibility.font_size",
                "warning",
                f"slide body text in the master is {size:g} pt, under the {least:g} pt minimum "
                f"(slide_body_pt_min): decks are built with it at {built:g} pt",
                ctx.rel(master),
                None,
                "bodyStyle",
                f"set the master's body text (first two bullet levels) to {least:g} pt or more to "
                "see in PowerPoint what the decks show",
                {"pt": size, "built_pt": built},
            )
        ]
    if size + 1e-9 < least:
        return [
            Finding(
                "accessibility.font_size",
                "error",
                f"slide body text in the master is {size:g} pt; at least {least:g} pt is needed",
                ctx.rel(master),
                None,
                "bodyStyle",
                f"set the master's body text (first two bullet levels) to {least:g} pt or more",
                {"pt": size},
            )
        ]
    return []


# --------------------------------------------------------------------------- slides
def slide_title(slide, deck, t) -> str:
    """The title a slide shows (title, closing and references slides have defaults)."""
    if slide.title:
        return slide.title
    if slide.layout == "title":
        return deck.title
    if slide.layout == "closing":
        return t.get("closing_title", "Thank you")
    if slide.layout == "references":
        return t.get("references_slide", "References")
    return ""


def _lines(bullets) -> int:
    n = 0
    for b in bullets:
        n += 1 + (0 if isinstance(b, str) else len(b.sub))
    return n


def check_deck(src, ctx) -> list[Finding]:
    """Slide body size, bullets per slide, unique titles, notes on every slide, short tables."""
    config = ctx.config
    deck = src.model
    findings: list[Finding] = []
    size, origin = slide_body_pt(config)
    least = config.slide_body_pt_min
    if size is not None and size + 1e-9 < least:
        findings.append(
            ctx.at(
                src,
                "accessibility.font_size",
                "error",
                f"slide body text is {size:g} pt ({origin}); at least {least:g} pt is needed",
                ("slides",),
                hint=f"raise the deck body size to {least:g} pt or more",
                pt=size,
            )
        )
    try:
        t = messages(ctx.root, deck.language)
    except Exception:  # a broken catalogue is reported by loading; titles then use the plain texts
        t = Messages()
    seen: dict[str, int] = {}
    for i, slide in enumerate(deck.slides):
        title = slide_title(slide, deck, t)
        key = re.sub(r"\s+", " ", prose.strip_cites(title)).casefold().strip()
        if key in seen:
            findings.append(
                ctx.at(
                    src,
                    "accessibility.slide_titles",
                    "error",
                    f"slide {i + 1} has the same title as slide {seen[key] + 1}: {title!r}",
                    ("slides", i, "title") if slide.title else ("slides", i),
                    hint="give every slide its own title (screen readers list slides by title)",
                )
            )
        else:
            seen[key] = i
        findings.extend(_slide_findings(src, ctx, i, slide, title))
    return findings


def _slide_findings(src, ctx, i: int, slide, title: str) -> list[Finding]:
    """One slide's bullets per column, table rows and speaker notes."""
    config = ctx.config
    found: list[Finding] = []
    columns = [("bullets", slide.bullets)]
    columns += [(name, col.bullets) for name, col in (("left", slide.left), ("right", slide.right)) if col is not None]
    for name, bullets in columns:
        n = _lines(bullets)
        if n > config.slide_bullets_max:
            where = "" if name == "bullets" else f" ({name} column)"
            found.append(
                ctx.at(
                    src,
                    "accessibility.slide_bullets",
                    "warning",
                    f"slide {i + 1}{where} has {n} bullet lines; at most {config.slide_bullets_max}",
                    ("slides", i, name),
                    hint="split the slide in two or cut bullets (one idea per slide)",
                    lines=n,
                )
            )
    if slide.table is not None and len(slide.table.rows) > config.slide_table_rows_max:
        found.append(
            ctx.at(
                src,
                "accessibility.slide_table_rows",
                "warning",
                f"slide {i + 1} table has {len(slide.table.rows)} rows; at most {config.slide_table_rows_max}",
                ("slides", i, "table", "rows"),
                hint="split the table or move details to the handout",
            )
        )
    if slide.layout != "references" and not (slide.notes or "").strip():
        found.append(
            ctx.at(
                src,
                "accessibility.slide_notes",
                "warning",
                f"slide {i + 1} ({title or slide.layout!r}) has no speaker notes",
                ("slides", i),
                hint="add notes: what to say, and a description of any image",
            )
        )
    return found


def check(src, ctx) -> list[Finding]:
    out = check_alt(src, ctx)
    if src.kind == "deck":
        out += check_deck(src, ctx)
    return out


def check_practice(slug: str, practice, ctx) -> list[Finding]:
    findings = check_practice_fonts(slug, practice, ctx) + check_practice_slides(slug, practice, ctx)
    for size, logo in sorted(practice.theme.logos.items()):
        if not (logo.alt or "").strip():
            findings.append(
                Finding(
                    "accessibility.alt_text",
                    "warning",
                    f"the {size} logo has no alt text",
                    ctx.rel(practice.root / "_brand.yml"),
                    None,
                    f"logo.{size}",
                    "add alt: <practice name> to the logo entry",
                )
            )
    return findings
