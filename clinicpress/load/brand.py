"""`_brand.yml` → Theme: read with the `brand_yml` package (the format Quarto and Shiny use).

What cannot be honoured offline (fonts from Google or Bunny, remote files, files that
are missing or not installed) becomes a warning and a fallback; a brand file that
`brand_yml` rejects is an error naming the file, line and field. Every warning names the
line of `_brand.yml` where the value is written. Colours are normalised to `#RRGGBB`;
whether text colours have enough contrast is checked in `checks/contrast.py`.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import Problem, UserError, dotted, rel
from .brand_files import font_weight, resolve_fonts, resolve_logos
from .loading import load_yaml
from .theme import (
    BASE_SIZE_PT,
    DEFAULT_COLORS,
    DEFAULT_FONT,
    MAX_BASE_SIZE_PT,
    MIN_LINE_HEIGHT,
    Logo,
    Theme,
    over_white,
    parse_color,
)
from .validation import problems_from_validation


def _normalise_brand(data: dict, shown: str, positions, warnings: list[Problem]) -> dict:
    """Rewrites spec-valid forms that the brand_yml package does not accept yet.

    The brand.yml spec allows a light/dark pair inside `logo.images` that names other
    images; brand_yml 0.2 rejects it, so the pair is resolved into the size entries
    (keeping each image's `alt`).
    """
    data = copy.deepcopy(data)
    logo = data.get("logo")
    if isinstance(logo, dict) and isinstance(logo.get("images"), dict):
        images = logo["images"]
        for name, value in list(images.items()):
            if isinstance(value, dict) and value and set(value) <= {"light", "dark"}:
                pair = {k: images.get(v, v) if isinstance(v, str) else v for k, v in value.items()}
                del images[name]
                for size in ("small", "medium", "large"):
                    if logo.get(size) == name:
                        logo[size] = copy.deepcopy(pair)
                line = positions.get(("logo", "images", name), (None, None))[0]
                warnings.append(
                    Problem(
                        shown,
                        line,
                        None,
                        f"logo.images.{name}",
                        "light/dark pair inside logo.images resolved by image name",
                        hint="brand_yml reads such pairs under logo.small/medium/large",
                        severity="warning",
                    )
                )
    return data


def load_theme(brand_path: Path, folder: Path, project_root: Path, warnings: list[Problem]) -> Theme:
    """Reads `_brand.yml` with brand_yml and resolves colours, fonts and logos to a Theme."""
    shown = rel(brand_path, project_root)
    read = _read_brand(brand_path, shown, project_root, warnings)
    if read is None:
        return Theme(colors=dict(DEFAULT_COLORS))
    brand, original, positions = read

    def warn(loc: tuple, message: str, hint: str | None = None) -> None:
        line = _line(positions, loc)
        warnings.append(Problem(shown, line, None, dotted(loc) or None, message, hint, "warning"))

    colors, palette = _resolve_colors(brand, warn)
    typo = brand.typography
    fonts, usable, why_not = resolve_fonts(typo, folder, warn)
    base = getattr(typo, "base", None) if typo else None
    headings = getattr(typo, "headings", None) if typo else None
    family = functools.partial(_family_or_default, usable=usable, why_not=why_not, warn=warn)
    base_family = family(getattr(base, "family", None), ("typography", "base", "family"))
    if headings is not None and getattr(headings, "family", None):
        heading_family = family(headings.family, ("typography", "headings", "family"))
    else:
        heading_family = base_family
    line_height = _line_height(getattr(base, "line_height", None), warn)
    base_size = _base_size(getattr(base, "size", None), warn)
    heading_color = _heading_color(getattr(headings, "color", None), warn)
    logos: dict[str, Logo] = {}
    if brand.logo is not None:
        logos = resolve_logos(brand.logo, original.get("logo"), folder, warn)
    return Theme(
        colors=colors,
        base_family=base_family,
        heading_family=heading_family,
        heading_weight=font_weight(getattr(headings, "weight", None) or 700),
        heading_color=heading_color,
        line_height=line_height,
        fonts=tuple(fonts),
        logos=logos,
        base_size_pt=base_size,
        palette=palette,
    )


def _read_brand(brand_path: Path, shown: str, project_root: Path, warnings: list[Problem]):
    """Returns (brand, the YAML as written, its positions), or None for an empty file (default theme)."""
    from brand_yml import Brand

    try:
        data, positions = load_yaml(brand_path, project_root)
    except UserError as exc:
        if [p.message for p in exc.problems] == ["file is empty"]:
            warnings.append(
                Problem(shown, 1, None, None, "_brand.yml is empty; the default theme is used", severity="warning")
            )
            return None
        raise
    if not isinstance(data, dict):
        raise UserError(
            Problem(shown, 1, 1, message="expected a mapping (brand.yml keys: meta, color, logo, typography, defaults)")
        )
    normalised = _normalise_brand(data, shown, positions, warnings)
    try:
        brand = Brand.from_yaml_str(yaml.safe_dump(normalised, sort_keys=False), path=brand_path)
    except ValidationError as exc:
        raise UserError(_brand_problems(exc, Brand, positions, shown)) from None
    except Exception as exc:  # brand_yml raises its own errors, e.g. CircularReferenceError
        message = " ".join(str(exc).split())
        raise UserError(
            Problem(
                shown,
                message=f"brand.yml rejected: {message}",
                hint="check color.palette: names must not refer to each other in a loop",
            )
            if "ircular" in type(exc).__name__
            else Problem(shown, message=f"brand.yml rejected: {type(exc).__name__}: {message}")
        ) from None
    return brand, data, positions


def _family_or_default(value: str | None, where: tuple, *, usable: set[str], why_not: dict[str, str], warn) -> str:
    """The font family to use: the brand's if it can be had, else the bundled default (with a warning)."""
    if not value:
        return DEFAULT_FONT
    if value in usable or value == DEFAULT_FONT:
        return value
    reason = why_not.get(value, "is not installed on this computer and has no files in typography.fonts")
    warn(
        where,
        f"font family {value!r} {reason}; {DEFAULT_FONT} is used instead",
        hint="list the font files under typography.fonts with source: file",
    )
    return DEFAULT_FONT


def _line_height(raw, warn) -> float:
    """typography.base.line-height, never below the 1.5 patient handouts need."""
    if raw is None:
        return MIN_LINE_HEIGHT
    if float(raw) < MIN_LINE_HEIGHT:
        warn(
            ("typography", "base", "line-height"),
            f"line-height {raw} is below {MIN_LINE_HEIGHT}; "
            f"{MIN_LINE_HEIGHT} is used (patient handouts need at least 1.5)",
        )
        return MIN_LINE_HEIGHT
    return float(raw)


def _base_size(raw, warn) -> float:
    """typography.base.size in points, kept between the handout minimum and maximum."""
    if raw is None:
        return BASE_SIZE_PT
    size = _size_pt(str(raw))
    where = ("typography", "base", "size")
    if size is None:
        warn(
            where,
            f"size {raw!r} is not a length ClinicPress understands; {BASE_SIZE_PT:g}pt is used",
            hint="write it as 12pt, 16px or 1rem",
        )
        return BASE_SIZE_PT
    if size < BASE_SIZE_PT:
        warn(
            where,
            f"size {raw!r} is {size:g}pt, below the {BASE_SIZE_PT:g}pt minimum for patient "
            f"handouts; {BASE_SIZE_PT:g}pt is used",
        )
        return BASE_SIZE_PT
    if size > MAX_BASE_SIZE_PT:
        warn(
            where,
            f"size {raw!r} is {size:g}pt; {MAX_BASE_SIZE_PT:g}pt is used "
            "(build the large-print variant for bigger type)",
        )
        return MAX_BASE_SIZE_PT
    return size


def _heading_color(raw, warn) -> str | None:
    """typography.headings.color as #RRGGBB on white paper, or None (primary is used)."""
    if raw is None:
        return None
    parsed = parse_color(raw)
    if parsed is None:
        warn(
            ("typography", "headings", "color"),
            f"heading colour {raw!r} is not a colour or a palette name; primary is used",
            hint="use #RRGGBB, a color.palette name or a theme colour name",
        )
        return None
    return parsed[0] if parsed[1] >= 1 else over_white(*parsed)


def _line(positions, loc: tuple) -> int | None:
    """Returns the line of `loc` in the file, or of its nearest written ancestor."""
    for n in range(len(loc), 0, -1):
        if tuple(loc[:n]) in positions:
            return positions[tuple(loc[:n])][0]
    return None


_FONT_SOURCE_TAG = re.compile(r"(fonts\[\d+\])\.(?:file|google|bunny|system)\b")
_UNION_TAGS = re.compile(r"\.(?:resource|light-dark|range|weights)(?=\.|$)")
"""Discriminator tags brand_yml's unions put in an error's location."""


def _undotted(dotted: str) -> tuple:
    """Turns `a.b[0].c` back into ('a', 'b', 0, 'c')."""
    loc: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", dotted):
        loc.append(int(index) if index else name)
    return tuple(loc)


def _brand_problems(exc: ValidationError, model, positions, shown: str) -> list[Problem]:
    """Located problems from brand_yml's validation; union noise (e.g. logo forms) reduced."""
    problems = problems_from_validation(exc, model, positions, shown)
    # A union (logo: a path or a mapping) reports every alternative; keep unknown-key errors
    # and drop "required field is missing" for the other form, which misleads.
    fields = {p.field for p in problems if p.message == "unknown key"}
    if fields:
        problems = [
            p
            for p in problems
            if p.message != "required field is missing"
            or not any(f and p.field and p.field.split(".")[0] == f.split(".")[0] for f in fields)
        ]
    cleaned = []
    for p in problems:
        fld, line, col = p.field, p.line, p.col
        if fld and (_FONT_SOURCE_TAG.search(fld) or _UNION_TAGS.search(fld)):  # union tags in the path
            fld = _UNION_TAGS.sub("", _FONT_SOURCE_TAG.sub(r"\1", fld))
            loc = _undotted(fld)
            if loc in positions:
                line, col = positions[loc]
        cleaned.append((p, fld, line, col))
    # An error inside a value is more precise than the other union branch's complaint about it.
    located: list[str] = [fld for _, fld, _, _ in cleaned if fld]
    out: list[Problem] = []
    seen: set[tuple] = set()
    for p, fld, line, col in cleaned:
        if fld and any(f.startswith(fld + ".") or f.startswith(fld + "[") for f in located):
            continue
        if (line, fld, p.message) in seen:
            continue
        seen.add((line, fld, p.message))
        hint = p.hint if p.hint and not p.hint.rstrip().endswith(":") else None
        if hint is None and fld and fld.startswith("color."):
            hint = "write a colour as a quoted '#RRGGBB', a CSS colour name or a name from color.palette"
        out.append(
            Problem(
                p.path,
                line,
                col,
                fld,
                p.message,
                hint or "see https://posit-dev.github.io/brand-yml/ for the format",
                p.severity,
            )
        )
    return out


def _resolve_colors(brand, warn) -> tuple[dict[str, str], dict[str, str]]:
    colors = dict(DEFAULT_COLORS)
    palette: dict[str, str] = {}
    if brand.color is None:
        return colors, palette
    for name, value in (brand.color.palette or {}).items():
        parsed = parse_color(value)
        if parsed is None:
            warn(("color", "palette", name), f"palette colour {value!r} is not a CSS colour; ignored")
        else:
            palette[name] = parsed[0] if parsed[1] >= 1 else over_white(*parsed)
    for name in DEFAULT_COLORS:
        value = getattr(brand.color, name, None)
        if value is None:
            continue
        parsed = parse_color(value)
        if parsed is None:
            warn(
                ("color", name),
                f"colour {value!r} is not a colour or a palette name; the default {DEFAULT_COLORS[name]} is used",
                hint="use #RRGGBB, a CSS colour name or a color.palette name",
            )
            continue
        hexa, alpha = parsed
        if alpha < 1:
            hexa = over_white(hexa, alpha)
            warn(("color", name), f"colour {value!r} is translucent; it is printed as {hexa} (over white paper)")
        colors[name] = hexa
    return colors, palette


@functools.cache
def _size_pt(text: str) -> float | None:
    """Converts a CSS length for body text to points (1rem = 1em = 16px = 12pt)."""
    m = re.fullmatch(r"\s*(\d*\.?\d+)\s*(pt|px|rem|em|%)\s*", text)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    return round({"pt": value, "px": value * 0.75, "rem": value * 12, "em": value * 12, "%": value * 12 / 100}[unit], 2)
