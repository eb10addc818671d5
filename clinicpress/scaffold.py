"""`new-practice SLUG`: a practice folder with commented starter files that build as they are.

The folder is written to a temporary sibling and renamed into place, so it either appears
complete or not at all. The starter `_brand.yml` passes the contrast check, and the list of
blocks a practice can replace is read from the default handout template, so it stays true.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .errors import Problem, UsageError, UserError, rel
from .load.schema import SLUG_RE
from .settings import require_project

HANDOUT_TEMPLATE = "handout/handout.html.j2"


def new_practice(root: Path, slug: str) -> Path:
    """Creates `practices/<slug>/` under `root` and returns its path."""
    if not re.fullmatch(SLUG_RE, slug or "") or len(slug) > 80:
        suggestion = re.sub(r"[^a-z0-9]+", "-", (slug or "").lower()).strip("-")[:80]
        raise UsageError(
            Problem(
                "new-practice",
                field="SLUG",
                message=f"{slug!r} is not a valid practice slug",
                hint="use lowercase letters, digits and single hyphens"
                + (f", e.g. {suggestion!r}" if suggestion and suggestion != slug else ""),
            )
        )
    require_project(root)
    practices = root / "practices"
    target = practices / slug
    if target.exists() or target.is_symlink():
        raise UserError(
            Problem(
                rel(target, root),
                message=f"practice {slug!r} already exists; nothing was changed",
                hint="choose another slug, or edit the files in that folder",
            )
        )
    practices.mkdir(parents=True, exist_ok=True)
    name = " ".join(w.capitalize() for w in slug.split("-"))
    files = {
        "practice.yml": practice_yml(name, slug),
        "_brand.yml": brand_yml(name, slug),
        "logo.svg": logo_svg(name, root / "templates" / "handout" / "fonts" / "AtkinsonHyperlegible-Bold.ttf"),
        "templates/README.md": templates_readme(_blocks(root / "templates" / HANDOUT_TEMPLATE)),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".new-{slug}-", dir=practices))
    try:
        for relpath, text in files.items():
            path = tmp / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _blocks(template: Path) -> list[str]:
    """Returns the block names of the default handout template, in order."""
    try:
        text = template.read_text(encoding="utf-8")
    except OSError:
        return []
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)  # block names in comments are not blocks
    names: list[str] = []
    for name in re.findall(r"{%-?\s*block\s+(\w+)", text):
        if name not in names:
            names.append(name)
    return names


def practice_yml(name: str, slug: str) -> str:
    return f"""\
# {name}: who the practice is and how its handouts print.
# Every field is listed with a placeholder value: replace them all before printing.
# Checked against Practice in clinicpress/schema.py; unknown keys are errors.
# `python build.py check --practice {slug}` names the line of any mistake.

# Practice name as printed on handouts and slides (required).
name: {name}
# Short line under the name (optional).
tagline: Care for the whole family

# Clinicians who see patients and present talks (optional): name, credentials, role.
clinicians:
  - name: Alex Example
    credentials: MD
    role: Family Physician

# Postal address, one line per item (required).
address:
  - 100 Example Street
  - Example Town, ST 00000
# Phone number exactly as it should be printed (required). Quote it if it starts with + or 0.
phone: "(555) 555-0100"
# Fax and email (optional; delete the line if there is none).
fax: "(555) 555-0101"
email: reception@{slug}.example
# Website (required, https). The QR code on handouts links here unless booking_url is set.
website: https://{slug}.example
# Online booking page (optional, https); preferred for the QR code.
booking_url: https://{slug}.example/book
# Opening hours, one line per item (optional). Quote lines that contain a colon.
hours:
  - "Monday to Friday: 8 a.m. to 5 p.m."

# Languages the practice offers: [en] or [en, es]. A handout is built in each that exists.
languages: [en]
# Paper size: letter (US) or a4. Handout body in 1 or 2 columns.
paper: letter
columns: 1
# Handout variants every build makes: standard, large-print (18 pt), print-shop (bleed, crop marks).
variants: [standard]
# ISO country code (US, GB, ...): sets the date format, spelling of built-in texts and the
# emergency and crisis numbers printed (templates/help-lines.yml lists the countries known).
country: US
# reviewer: no longer used. Each handout prints "Draft — not yet approved by {name}" until a
# clinician of the practice approves its text (`python build.py review --practice {slug}`, then
# `python build.py approve --practice {slug} ITEM --by "Name, credentials"`); approvals.yml
# records who approved what, and the handout prints their name.
# emergency_number: no longer used. The emergency and crisis numbers come from `country`
# (templates/help-lines.yml).

# Languages the language-help notice must reach (optional, up to 15; US Section 1557: the top 15
# of your state). Each prints a one-line tagline in its own language and script.
# language_help: [es, zh-Hans, vi, ko, tl]

# Notices for the back page (optional). US practices: Section 1557. A text may be given per
# language, e.g. nondiscrimination: {{en: "...", es: "..."}}; a handout prints its own language's.
notices:
  language_assistance: >-
    Free language help is available. To ask for an interpreter or for this handout in
    another language or format, call (555) 555-0100.
  nondiscrimination: >-
    {name} follows federal civil rights laws and does not discriminate on the basis of
    race, color, national origin, age, disability, or sex.

# One extra line in the footer (optional).
footer_note: After hours, call (555) 555-0100 for the on-call clinician.

# PowerPoint master (.pptx or .potx) in this folder whose layouts the decks use (optional).
# deck_master: master.potx

# Only for a fictional practice made to try ClinicPress: its placeholder details are then one
# note instead of a warning each. A real practice leaves this out.
# sample: true
"""


def brand_yml(name: str, slug: str) -> str:
    return f"""\
# Brand for {name}, in the brand.yml format used by Quarto and Shiny
# (https://posit-dev.github.io/brand-yml/). See practices/README.md for what ClinicPress uses.

meta:                         # not used by ClinicPress; other tools read it
  name: {name}
  link:
    home: https://{slug}.example

color:
  # Name your brand colours once here; the theme colours below refer to them by name.
  palette:
    ink: "#1F2933"            # body text, 15:1 on white
    blue: "#1D4E89"           # 8.6:1 on white
    slate: "#4A5866"          # 7.2:1 on white
    tint: "#E4ECF5"           # box background, not for text
    paper: "#F5F7FA"          # page tint, not for text
    green: "#2F7D32"
    sea: "#0B6E99"
    amber: "#8A5A00"
    red: "#B3261E"
    white: "#FFFFFF"
  # Text colours should reach 4.5:1 contrast on white, `light` and `tertiary`; a brand colour below
  # that is a warning and is printed in a readable substitute; body text below it stops the build.
  foreground: ink             # body text
  background: white           # page
  primary: blue               # headings, links, rules, table headers
  secondary: slate            # captions, footer, tagline
  tertiary: tint              # main-message box
  success: green
  info: sea
  warning: amber
  danger: red                 # "When to get help" box
  light: paper                # callout boxes
  dark: blue                  # dark slide backgrounds

logo:
  # SVG (preferred), PNG or JPEG inside this folder. Draw text as outlines, not <text>.
  # `alt` is read aloud in the tagged PDF: say whose logo it is.
  images:
    main:
      path: logo.svg
      alt: {name}
  small: main                 # square icon
  medium: main                # handout header
  large: main                 # title slides
  # A version for dark backgrounds:
  # medium:
  #   light: main
  #   dark: main-reverse      # add it under images first

typography:
  # Extra fonts: files inside this folder with their licence (OFL.txt). Fonts from Google or
  # Bunny cannot be fetched offline and fall back to Atkinson Hyperlegible with a warning.
  # fonts:
  #   - family: Public Sans
  #     source: file
  #     files:
  #       - path: fonts/PublicSans-Bold.ttf
  #         weight: 700
  #         style: normal
  base:
    family: Atkinson Hyperlegible   # bundled with ClinicPress
    size: 12pt                      # 12pt to 16pt
    line-height: 1.5                # at least 1.5
  headings:
    family: Atkinson Hyperlegible
    weight: 700
    color: blue
"""


def logo_svg(name: str, font: Path | None = None) -> str:
    """A placeholder logo: a square icon and the practice name drawn as outlines.

    The name is traced from the bundled font with fontTools, so the SVG needs no font;
    without the font file the name is left out (bars stand in for it).
    """
    title = name.replace("&", "&amp;").replace("<", "&lt;")
    traced = _trace_text(name, font, size=26, x=72, baseline=42) if font else None
    if traced:
        path_d, width = traced
        word = f'  <path d="{path_d}" fill="#1D4E89"/>\n'
        total = int(72 + width + 8)
    else:
        word = (
            '  <rect x="72" y="18" width="150" height="10" rx="5" fill="#1D4E89"/>\n'
            '  <rect x="72" y="36" width="108" height="8" rx="4" fill="#4A5866"/>\n'
        )
        total = 240
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total} 64" width="{total}" height="64" '
        f'role="img" aria-labelledby="placeholder-logo-title">\n'
        f'  <title id="placeholder-logo-title">{title}</title>\n'
        f"  <!-- Placeholder made by new-practice: replace it with the practice's own logo. -->\n"
        f'  <rect x="4" y="4" width="56" height="56" rx="12" fill="#1D4E89"/>\n'
        f'  <path d="M26 16h12v10h10v12H38v10H26V38H16V26h10z" fill="#FFFFFF"/>\n'
        f"{word}</svg>\n"
    )


def _trace_text(text: str, font_path: Path, *, size: float, x: float, baseline: float) -> tuple[str, float] | None:
    """Returns SVG path data for `text` set in `font_path`, and its width; None on failure."""
    try:
        from fontTools.pens.svgPathPen import SVGPathPen
        from fontTools.pens.transformPen import TransformPen
        from fontTools.ttLib import TTFont

        font = TTFont(str(font_path), lazy=True)
        cmap, glyphs, hmtx = font.getBestCmap(), font.getGlyphSet(), font["hmtx"]
        scale = size / font["head"].unitsPerEm
        pen = SVGPathPen(glyphs, ntos=lambda v: f"{v:.1f}".rstrip("0").rstrip("."))
        advance = 0.0
        for ch in text:
            glyph = cmap.get(ord(ch), ".notdef")
            glyphs[glyph].draw(TransformPen(pen, (scale, 0, 0, -scale, x + advance, baseline)))
            advance += hmtx[glyph][0] * scale
        return pen.getCommands(), advance
    except Exception:  # a placeholder must never stop the scaffold
        return None


def templates_readme(blocks: list[str]) -> str:
    listed = ", ".join(f"`{b}`" for b in blocks) if blocks else "(see the default template)"
    return f"""\
# Template overrides for this practice

Files here replace ClinicPress's defaults (the project's `templates/` folder) by the same
relative path. Leave this folder with only this README to use the defaults unchanged.

## Replace a whole file

Copy the default and edit the copy, keeping its path. For example, to restyle the handouts,
copy `templates/handout/handout.css` to `handout/handout.css` here. To change built-in
wording, put the changed keys in `i18n/en.yml` (or `i18n/es.yml`) here.

## Replace one part only

Extend the default template and replace one block; everything else stays the default and
keeps receiving updates. For example, `handout/handout.html.j2` here containing:

```jinja
{{% extends "!default/{HANDOUT_TEMPLATE}" %}}
{{% block footer_note %}}Open late on Thursdays.{{% endblock %}}
```

`!default/` always means the project's own template, so an override can extend the file it
replaces. Blocks in the default handout template: {listed}.
Call `{{{{ super() }}}}` inside a block to keep the default text and add to it.

Templates run in a sandbox: they can use the values they are given (see the project's
`templates/README.md`) but cannot read files or run code. Images and fonts must be files
inside the project.
"""


TOOL_ROOT = Path(__file__).resolve().parents[1]
"""The ClinicPress checkout this code runs from: its templates/ and shipped content seed a new project."""
EXAMPLE_HANDOUT = "gut-and-immune-system"
EXAMPLE_PRACTICE = "my-practice"


def init_project(target: Path) -> Path:
    """Creates a project of one's own in `target`: the default templates, one example handout
    with the references it cites, one starter practice and a README for the team. It builds
    as it is. The parts are made in a temporary folder and moved in only when all are ready."""
    target = target.resolve()
    taken = [part for part in ("content", "practices", "templates", "output") if (target / part).exists()]
    if taken:
        raise UserError(
            Problem(
                str(target),
                message=f"this folder already has {', '.join(p + '/' for p in taken)}; nothing was changed",
                hint="choose an empty or new folder: clinicpress init NEW-FOLDER",
            )
        )
    templates = TOOL_ROOT / "templates"
    example = TOOL_ROOT / "content" / "handouts" / f"{EXAMPLE_HANDOUT}.yml"
    if not templates.is_dir() or not example.is_file():
        raise UserError(
            Problem(
                str(TOOL_ROOT),
                message="the default templates and example content are not beside this copy of ClinicPress",
                hint="install ClinicPress from its source folder (bash scripts/setup.sh), then run init again",
            )
        )
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clinicpress-init-", dir=target))
    try:
        shutil.copytree(templates, tmp / "templates", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        handouts = tmp / "content" / "handouts"
        handouts.mkdir(parents=True)
        shutil.copy2(example, handouts / example.name)
        shutil.copy2(TOOL_ROOT / "content" / "jargon.yml", tmp / "content" / "jargon.yml")
        (tmp / "content" / "references.json").write_text(_cited_references(example), encoding="utf-8")
        new_practice(tmp, EXAMPLE_PRACTICE)
        (tmp / "README.md").write_text(team_readme(target.name), encoding="utf-8")
        (tmp / ".gitignore").write_text("output/\n.venv/\n", encoding="utf-8")
        for part in sorted(tmp.iterdir()):
            if not (target / part.name).exists():
                part.rename(target / part.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _cited_references(handout: Path) -> str:
    """The shipped bibliography's entries that `handout` cites, as CSL-JSON."""
    import json

    from .load.schema import cite_keys

    keys = set(cite_keys(handout.read_text(encoding="utf-8")))
    items = json.loads((TOOL_ROOT / "content" / "references.json").read_text(encoding="utf-8"))
    return json.dumps([item for item in items if item.get("id") in keys], indent=2, ensure_ascii=False) + "\n"


def team_readme(name: str) -> str:
    return f"""\
# {name}: patient handouts with ClinicPress

This folder is a ClinicPress project. `clinicpress build` (or `python -m clinicpress build`)
turns it into branded PDF handouts in `output/`; open `output/index.html` to see them.

| folder | what it holds | who edits it |
| --- | --- | --- |
| `content/handouts/` | one YAML file per handout (an example: `{EXAMPLE_HANDOUT}.yml`) | medical writers |
| `content/references.json` | the sources the handouts cite, as CSL-JSON | medical writers |
| `content/jargon.yml` | medical words that need a plain meaning in the glossary | medical writers |
| `practices/{EXAMPLE_PRACTICE}/` | your practice: `practice.yml` (contact details), `_brand.yml` (colours, fonts, logo) | practice staff |
| `practices/{EXAMPLE_PRACTICE}/templates/` | optional changes to the handout's layout, block by block | designers |
| `templates/` | the default handout templates, fonts and slide master | rarely: prefer practice overrides |

Everyday commands: `clinicpress check` (validate and run the quality checks), `clinicpress
build`, `clinicpress preview` (a live preview while you edit), `clinicpress new-practice SLUG`
(another practice). Every field of these files is described in ClinicPress's field reference
(`docs/reference.md` in its source folder).

Before a handout goes to patients, a clinician at the practice must review and approve it.
"""
