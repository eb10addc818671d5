"""A practice folder → Practice details plus a Theme resolved from its `_brand.yml`.

`_brand.yml` is read with the `brand_yml` package (the format Quarto and Shiny use).
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
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from . import schema
from ..errors import Problem, UserError, dotted, rel
from .loading import load_model, load_yaml, problems_from_validation

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2")
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")
DEFAULT_FONT = "Atkinson Hyperlegible"
"""Bundled in templates/handout/fonts/; the fallback for every family that cannot be used."""

BASE_SIZE_PT = 12.0
"""Handout body size when `typography.base.size` is not given (standards: at least 12 pt)."""
MAX_BASE_SIZE_PT = 16.0
"""Largest body size taken from a brand; larger print is the large-print variant's job."""
MIN_LINE_HEIGHT = 1.5

DEFAULT_COLORS = {
    "foreground": "#1F2933",
    "background": "#FFFFFF",
    "primary": "#1D4E89",
    "secondary": "#52606D",
    "tertiary": "#E4ECF5",
    "success": "#2F7D32",
    "info": "#0B6E99",
    "warning": "#8A5A00",
    "danger": "#B3261E",
    "light": "#F5F7FA",
    "dark": "#1F2933",
}

@dataclass(frozen=True)
class FontFile:
    """One local font file of a family."""

    family: str
    path: Path
    weight: int | str = 400
    style: str = "normal"


@dataclass(frozen=True)
class Logo:
    """A logo image, with an optional variant for dark backgrounds."""

    light: Path
    dark: Path | None = None
    alt: str | None = None


@dataclass(frozen=True)
class Theme:
    """Everything visual a renderer needs, resolved from `_brand.yml` with defaults."""

    colors: dict[str, str]
    """Theme colours by brand.yml name (foreground, background, primary, ...), each `#RRGGBB`."""
    base_family: str = DEFAULT_FONT
    heading_family: str = DEFAULT_FONT
    heading_weight: int | str = 700
    heading_color: str | None = None
    """`#RRGGBB` from `typography.headings.color`; None means use `primary`."""
    line_height: float = MIN_LINE_HEIGHT
    fonts: tuple[FontFile, ...] = ()
    logos: dict[str, Logo] = field(default_factory=dict)
    """Logos by size: small, medium, large (each may be missing)."""
    base_size_pt: float = BASE_SIZE_PT
    """Body text size in points from `typography.base.size` (12 to 16 pt)."""
    palette: dict[str, str] = field(default_factory=dict)
    """`color.palette` entries as `#RRGGBB`, in file order (for charts and deck accents)."""

    def logo(self, *sizes: str) -> Logo | None:
        """Returns the first logo found among `sizes` (then any size)."""
        for size in (*sizes, "large", "medium", "small"):
            if size in self.logos:
                return self.logos[size]
        return None


@dataclass(frozen=True)
class PracticeContext:
    """A loaded practice: details, theme, folder, and any warnings met while loading."""

    slug: str
    root: Path
    info: schema.Practice
    theme: Theme
    warnings: tuple[Problem, ...] = ()

    @property
    def templates_dir(self) -> Path | None:
        d = self.root / "templates"
        return d if d.is_dir() else None

    @property
    def master(self) -> Path | None:
        return self.root / self.info.deck_master if self.info.deck_master else None

    @property
    def qr_url(self) -> str:
        return self.info.booking_url or self.info.website

    def files(self) -> list[Path]:
        """Returns every file in the practice folder (for cache keys), sorted."""
        return sorted(p for p in self.root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- colours
def parse_color(value: object) -> tuple[str, float] | None:
    """Returns (`#RRGGBB`, alpha) for any CSS colour (hex, name, rgb(), hsl()); None if invalid."""
    if not isinstance(value, str):
        return None
    import tinycss2.color3

    rgba = tinycss2.color3.parse_color(value.strip())
    if rgba is None or isinstance(rgba, str):  # None, or the keyword "currentColor"
        return None
    hexa = "#" + "".join(f"{round(c * 255):02X}" for c in (rgba.red, rgba.green, rgba.blue))
    return hexa, rgba.alpha


def _over_white(hex_color: str, alpha: float) -> str:
    """Composites a translucent colour over white paper."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i:i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c * alpha + 255 * (1 - alpha)):02X}" for c in rgb)


# --------------------------------------------------------------------------- loading
def load_practice(folder: Path, project_root: Path) -> PracticeContext:
    """Loads `practices/<slug>/`: practice.yml (required) and _brand.yml (optional)."""
    slug = folder.name
    problems: list[Problem] = []
    warnings: list[Problem] = []
    info = None
    practice_yml = folder / "practice.yml"
    try:
        info, positions = load_model(practice_yml, schema.Practice, project_root)
    except UserError as exc:
        problems.extend(exc.problems)
    if info is not None and info.deck_master:
        problem = _check_master(folder, info.deck_master)
        if problem:
            line = positions.get(("deck_master",), (None, None))[0]
            problems.append(Problem(rel(practice_yml, project_root), line, None, "deck_master", problem,
                                    hint=f"give a .pptx or .potx file inside practices/{slug}/, "
                                         "e.g. deck_master: master.potx"))
    theme = Theme(colors=dict(DEFAULT_COLORS))
    brand_path = folder / "_brand.yml"
    if brand_path.exists():
        try:
            theme = load_theme(brand_path, folder, project_root, warnings)
        except UserError as exc:
            problems.extend(exc.problems)
    else:
        for other in ("_brand.yaml", "brand.yml", "_brand.yml.txt"):
            if (folder / other).exists():
                warnings.append(Problem(rel(folder / other, project_root), message="this file is not read; "
                                        "the default theme is used", hint="rename it to _brand.yml",
                                        severity="warning"))
    if problems:
        raise UserError(problems)
    assert info is not None
    warnings.sort(key=lambda p: (p.path, p.line or 0))  # file order (sort is stable)
    return PracticeContext(slug, folder, info, theme, tuple(warnings))


def _check_master(folder: Path, relpath: str) -> str | None:
    """Returns why `deck_master` cannot be used, or None when it is a PowerPoint package."""
    master = _inside(folder, relpath)
    if master is None:
        return f"master {relpath!r} must be a relative path inside the practice folder"
    if master.suffix.lower() not in (".pptx", ".potx"):
        return f"master {relpath!r} must be a .pptx or .potx file"
    if not master.is_file():
        return f"master {relpath!r} not found in the practice folder"
    try:
        with zipfile.ZipFile(master) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError):
        return f"master {relpath!r} is not a PowerPoint file (not a zip package)"
    if "[Content_Types].xml" not in names or "ppt/presentation.xml" not in names:
        return f"master {relpath!r} is not a PowerPoint presentation or template"
    return None


def _inside(folder: Path, relpath: str) -> Path | None:
    """Resolves `relpath` against `folder`; None if it leaves the folder or is absolute."""
    if not relpath or Path(relpath).is_absolute() or "://" in relpath or relpath.startswith("data:"):
        return None
    p = (folder / relpath).resolve()
    try:
        p.relative_to(folder.resolve())
    except ValueError:
        return None
    return p


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
                warnings.append(Problem(shown, line, None, f"logo.images.{name}",
                                        "light/dark pair inside logo.images resolved by image name",
                                        hint="brand_yml reads such pairs under logo.small/medium/large",
                                        severity="warning"))
    return data


def load_theme(brand_path: Path, folder: Path, project_root: Path, warnings: list[Problem]) -> Theme:
    """Reads `_brand.yml` with brand_yml and resolves colours, fonts and logos to a Theme."""
    from brand_yml import Brand

    shown = rel(brand_path, project_root)
    try:
        data, positions = load_yaml(brand_path, project_root)
    except UserError as exc:
        if [p.message for p in exc.problems] == ["file is empty"]:
            warnings.append(Problem(shown, 1, None, None, "_brand.yml is empty; the default theme is used",
                                    severity="warning"))
            return Theme(colors=dict(DEFAULT_COLORS))
        raise
    if not isinstance(data, dict):
        raise UserError(Problem(shown, 1, 1, message="expected a mapping (brand.yml keys: meta, color, logo, "
                                "typography, defaults)"))
    original = data
    data = _normalise_brand(data, shown, positions, warnings)
    try:
        brand = Brand.from_yaml_str(yaml.safe_dump(data, sort_keys=False), path=brand_path)
    except ValidationError as exc:
        raise UserError(_brand_problems(exc, Brand, positions, shown)) from None
    except Exception as exc:  # brand_yml raises its own errors, e.g. CircularReferenceError
        message = " ".join(str(exc).split())
        raise UserError(Problem(shown, message=f"brand.yml rejected: {message}",
                                hint="check color.palette: names must not refer to each other in a loop")
                        if "ircular" in type(exc).__name__ else
                        Problem(shown, message=f"brand.yml rejected: {type(exc).__name__}: {message}")) from None

    def warn(loc: tuple, message: str, hint: str | None = None) -> None:
        line = _line(positions, loc)
        warnings.append(Problem(shown, line, None, dotted(loc) or None, message, hint, "warning"))

    colors, palette = _resolve_colors(brand, warn)
    typo = brand.typography
    fonts, usable, why_not = _resolve_fonts(typo, folder, warn)

    def family_or_default(value: str | None, where: tuple) -> str:
        if not value:
            return DEFAULT_FONT
        if value in usable or value == DEFAULT_FONT:
            return value
        reason = why_not.get(value, "is not installed on this computer and has no files in typography.fonts")
        warn(where, f"font family {value!r} {reason}; {DEFAULT_FONT} is used instead",
             hint="list the font files under typography.fonts with source: file")
        return DEFAULT_FONT

    base = getattr(typo, "base", None) if typo else None
    headings = getattr(typo, "headings", None) if typo else None
    base_family = family_or_default(getattr(base, "family", None), ("typography", "base", "family"))
    if getattr(headings, "family", None):
        heading_family = family_or_default(headings.family, ("typography", "headings", "family"))
    else:
        heading_family = base_family

    line_height = MIN_LINE_HEIGHT
    raw_lh = getattr(base, "line_height", None)
    if raw_lh is not None:
        if float(raw_lh) < MIN_LINE_HEIGHT:
            warn(("typography", "base", "line-height"), f"line-height {raw_lh} is below {MIN_LINE_HEIGHT}; "
                 f"{MIN_LINE_HEIGHT} is used (patient handouts need at least 1.5)")
        else:
            line_height = float(raw_lh)

    base_size = BASE_SIZE_PT
    raw_size = getattr(base, "size", None)
    if raw_size is not None:
        size = _size_pt(str(raw_size))
        where = ("typography", "base", "size")
        if size is None:
            warn(where, f"size {raw_size!r} is not a length ClinicPress understands; {BASE_SIZE_PT:g}pt is used",
                 hint="write it as 12pt, 16px or 1rem")
        elif size < BASE_SIZE_PT:
            warn(where, f"size {raw_size!r} is {size:g}pt, below the {BASE_SIZE_PT:g}pt minimum for patient "
                 f"handouts; {BASE_SIZE_PT:g}pt is used")
        elif size > MAX_BASE_SIZE_PT:
            warn(where, f"size {raw_size!r} is {size:g}pt; {MAX_BASE_SIZE_PT:g}pt is used "
                 "(build the large-print variant for bigger type)")
            base_size = MAX_BASE_SIZE_PT
        else:
            base_size = size

    heading_color = None
    raw_hc = getattr(headings, "color", None)
    if raw_hc is not None:
        parsed = parse_color(raw_hc)
        if parsed is None:
            warn(("typography", "headings", "color"), f"heading colour {raw_hc!r} is not a colour or a "
                 "palette name; primary is used", hint="use #RRGGBB, a color.palette name or a theme colour name")
        else:
            heading_color = parsed[0] if parsed[1] >= 1 else _over_white(*parsed)

    logos: dict[str, Logo] = {}
    if brand.logo is not None:
        logos = _resolve_logos(brand.logo, original.get("logo"), folder, warn)

    return Theme(
        colors=colors,
        base_family=base_family,
        heading_family=heading_family,
        heading_weight=_weight(getattr(headings, "weight", None) or 700),
        heading_color=heading_color,
        line_height=line_height,
        fonts=tuple(fonts),
        logos=logos,
        base_size_pt=base_size,
        palette=palette,
    )


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
        problems = [p for p in problems if p.message != "required field is missing" or
                    not any(f and p.field and p.field.split(".")[0] == f.split(".")[0] for f in fields)]
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
    fields = [fld for _, fld, _, _ in cleaned if fld]
    out: list[Problem] = []
    seen: set[tuple] = set()
    for p, fld, line, col in cleaned:
        if fld and any(f.startswith(fld + ".") or f.startswith(fld + "[") for f in fields):
            continue
        if (line, fld, p.message) in seen:
            continue
        seen.add((line, fld, p.message))
        hint = p.hint if p.hint and not p.hint.rstrip().endswith(":") else None
        if hint is None and fld and fld.startswith("color."):
            hint = "write a colour as a quoted '#RRGGBB', a CSS colour name or a name from color.palette"
        out.append(Problem(p.path, line, col, fld, p.message,
                           hint or "see https://posit-dev.github.io/brand-yml/ for the format", p.severity))
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
            palette[name] = parsed[0] if parsed[1] >= 1 else _over_white(*parsed)
    for name in DEFAULT_COLORS:
        value = getattr(brand.color, name, None)
        if value is None:
            continue
        parsed = parse_color(value)
        if parsed is None:
            warn(("color", name), f"colour {value!r} is not a colour or a palette name; the default "
                 f"{DEFAULT_COLORS[name]} is used", hint="use #RRGGBB, a CSS colour name or a color.palette name")
            continue
        hexa, alpha = parsed
        if alpha < 1:
            hexa = _over_white(hexa, alpha)
            warn(("color", name), f"colour {value!r} is translucent; it is printed as {hexa} (over white paper)")
        colors[name] = hexa
    return colors, palette


@functools.cache
def _installed_families() -> frozenset[str] | None:
    """Font families fontconfig knows on this computer (None if fc-list is missing)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, ":", "family"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(f.strip().casefold() for line in out.splitlines() for f in line.split(","))


def _resolve_fonts(typo, folder: Path, warn) -> tuple[list[FontFile], set[str], dict[str, str]]:
    """Returns usable local font files, the usable family names, and why others are not."""
    fonts: list[FontFile] = []
    usable: set[str] = set()
    why_not: dict[str, str] = {}
    if typo is None or not typo.fonts:
        return fonts, usable, why_not
    for i, font in enumerate(typo.fonts):
        source = getattr(font, "source", "system")
        where = ("typography", "fonts", i)
        if source in ("google", "bunny"):
            warn(where, f"font {font.family!r} comes from {source.title()} Fonts and cannot be fetched "
                 f"offline; {DEFAULT_FONT} is used instead",
                 hint="download the font files into the practice folder and list them with source: file")
            why_not[font.family] = f"comes from {source.title()} Fonts (see typography.fonts[{i}])"
            continue
        if source == "system":
            installed = _installed_families()
            if font.family == DEFAULT_FONT or (installed is not None and font.family.casefold() in installed):
                usable.add(font.family)
            else:
                why_not[font.family] = "is not installed on this computer (source: system)"
            continue
        for j, f in enumerate(font.files):
            loc = (*where, "files", j, "path")
            path_text = str(f.path)
            local = _inside(folder, path_text)
            if local is None:
                warn(loc, f"font file {path_text!r} is remote or outside the practice folder; skipped",
                     hint="download it into the practice folder (with its licence) and give a relative path")
            elif not local.is_file():
                warn(loc, f"font file {path_text!r} not found; skipped",
                     hint=f"add the file to practices/{folder.name}/ or fix the path")
            elif not _is_font(local):
                warn(loc, f"font file {path_text!r} is not a TrueType, OpenType or WOFF font; skipped")
            else:
                weight = f.weight.root if hasattr(f.weight, "root") else f.weight
                if isinstance(weight, tuple):
                    warn((*where, "files", j, "weight"), f"weight range {weight[0]}..{weight[1]} (a variable "
                         "font) is used at weight 400 only; PDF output needs one file per weight")
                fonts.append(FontFile(font.family, local, _weight(weight), f.style))
                usable.add(font.family)
        if font.family not in usable:
            why_not.setdefault(font.family, f"has no usable files (see typography.fonts[{i}])")
    return fonts, usable, why_not


def _is_font(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in FONT_MAGIC


def _size_pt(text: str) -> float | None:
    """Converts a CSS length for body text to points (1rem = 1em = 16px = 12pt)."""
    m = re.fullmatch(r"\s*(\d*\.?\d+)\s*(pt|px|rem|em|%)\s*", text)
    if not m:
        return None
    value, unit = float(m.group(1)), m.group(2)
    return round({"pt": value, "px": value * 0.75, "rem": value * 12, "em": value * 12,
                  "%": value * 12 / 100}[unit], 2)


def _weight(value) -> int | str:
    names = {"thin": 100, "extra-light": 200, "ultra-light": 200, "light": 300, "normal": 400,
             "regular": 400, "medium": 500, "semi-bold": 600, "demi-bold": 600, "bold": 700,
             "extra-bold": 800, "ultra-bold": 800, "black": 900}
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else names.get(value, 400)
    return 400


def _logo_loc(raw_logo, size: str, variant: str | None) -> tuple:
    """Returns where in `_brand.yml` the file of one logo size/variant is written."""
    if not isinstance(raw_logo, dict):
        return ("logo",)
    images = raw_logo.get("images") if isinstance(raw_logo.get("images"), dict) else {}
    value, loc = raw_logo.get(size), ("logo", size)
    for _ in range(4):
        if isinstance(value, str) and value in images:
            value, loc = images[value], ("logo", "images", value)
        elif isinstance(value, dict) and variant in value and set(value) <= {"light", "dark"}:
            value, loc = value[variant], loc + (variant,)
        else:
            break
    if isinstance(value, dict) and "path" in value:
        loc = loc + ("path",)
    return loc


def _resolve_logos(logo, raw_logo, folder: Path, warn) -> dict[str, Logo]:
    """Resolves each logo size to local files; a plain `logo: file.svg` serves every size."""
    out: dict[str, Logo] = {}
    sizes = ("small", "medium", "large")
    plain = not hasattr(logo, "images")  # `logo: path` or `logo: {path, alt}`
    for size in sizes:
        value = logo if plain else getattr(logo, size, None)
        if value is None:
            continue
        light = getattr(value, "light", None)
        dark = getattr(value, "dark", None)
        if light is None and dark is None:
            light, variants = value, (None,)
        else:
            variants = ("light", "dark")
        found: dict[str, Path | None] = {}
        for variant, resource in zip(("light", "dark"), (light, dark)):
            if resource is None:
                found[variant] = None
                continue
            loc = ("logo",) if plain else _logo_loc(raw_logo, size, variant if variants != (None,) else None)
            found[variant] = _logo_file(resource, folder, loc, warn)
            if plain and found[variant] is None:
                return {}
        if found["light"] is None and found["dark"] is not None:
            warn(_logo_loc(raw_logo, size, "dark"), f"logo.{size} has only a dark-background variant usable; "
                 "no logo is shown on light pages", hint="add a light variant")
            continue
        if found["light"] is not None:
            alt = getattr(light, "alt", None) or getattr(dark, "alt", None)
            out[size] = Logo(found["light"], found["dark"], alt.strip() if alt else None)
    return out


def _logo_file(resource, folder: Path, loc: tuple, warn) -> Path | None:
    path_text = str(resource.path)
    local = _inside(folder, path_text)
    if local is None:
        warn(loc, f"logo {path_text!r} is remote or outside the practice folder; the practice name is shown "
             "instead", hint="save the image in the practice folder and give a relative path")
    elif not local.is_file():
        warn(loc, f"logo file {path_text!r} not found; the practice name is shown instead",
             hint=f"add the file to practices/{folder.name}/ or fix the path")
    elif local.suffix.lower() not in IMAGE_SUFFIXES:
        warn(loc, f"logo {path_text!r} is not SVG, PNG or JPEG; skipped")
    elif not _is_image(local):
        warn(loc, f"logo {path_text!r} is not a valid {local.suffix.lstrip('.').upper()} image; skipped")
    else:
        return local
    return None


def _is_image(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    suffix = path.suffix.lower()
    if suffix == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8")
    return b"<svg" in head
