"""A practice folder → Practice details plus a Theme resolved from its `_brand.yml`.

`_brand.yml` is read with the `brand_yml` package (the format Quarto and Shiny use).
What cannot be honoured offline (fonts from Google or Bunny, remote files, files that
are missing) becomes a warning and a fallback; a brand file that `brand_yml` rejects is an
error naming the file, line and field.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from . import schema
from .errors import Problem, UserError, rel
from .loading import load_model, load_yaml, problems_from_validation

FONT_SUFFIXES = (".ttf", ".otf", ".woff", ".woff2")
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg")
DEFAULT_FONT = "Atkinson Hyperlegible"

DEFAULT_COLORS = {
    "foreground": "#1f2933",
    "background": "#ffffff",
    "primary": "#1d4e89",
    "secondary": "#52606d",
    "tertiary": "#e4ecf5",
    "success": "#2f7d32",
    "info": "#0b6e99",
    "warning": "#8a5a00",
    "danger": "#b3261e",
    "light": "#f5f7fa",
    "dark": "#1f2933",
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
    base_family: str = DEFAULT_FONT
    heading_family: str = DEFAULT_FONT
    heading_weight: int | str = 700
    heading_color: str | None = None
    line_height: float = 1.5
    fonts: tuple[FontFile, ...] = ()
    logos: dict[str, Logo] = field(default_factory=dict)
    """Logos by size: small, medium, large (each may be missing)."""

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


def load_practice(folder: Path, project_root: Path) -> PracticeContext:
    """Loads `practices/<slug>/`: practice.yml (required) and _brand.yml (optional)."""
    slug = folder.name
    problems: list[Problem] = []
    warnings: list[Problem] = []
    info = None
    try:
        info, _ = load_model(folder / "practice.yml", schema.Practice, project_root)
    except UserError as exc:
        problems.extend(exc.problems)
    if info is not None and info.deck_master:
        master = _inside(folder, info.deck_master)
        if master is None or not master.is_file() or master.suffix.lower() not in (".pptx", ".potx"):
            problems.append(Problem(rel(folder / "practice.yml", project_root), field="deck_master",
                                    message=f"master {info.deck_master!r} not found in the practice folder",
                                    hint="give a .pptx or .potx file inside practices/" + slug))
    theme = Theme(colors=dict(DEFAULT_COLORS))
    brand_path = folder / "_brand.yml"
    if brand_path.exists():
        try:
            theme = load_theme(brand_path, folder, project_root, warnings)
        except UserError as exc:
            problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    assert info is not None
    return PracticeContext(slug, folder, info, theme, tuple(warnings))


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
    images; brand_yml 0.2 rejects it, so the pair is resolved into the size entries.
    """
    data = copy.deepcopy(data)
    logo = data.get("logo")
    if isinstance(logo, dict) and isinstance(logo.get("images"), dict):
        images = logo["images"]
        for name, value in list(images.items()):
            if isinstance(value, dict) and set(value) <= {"light", "dark"}:
                pair = {k: images.get(v, v) if isinstance(v, str) else v for k, v in value.items()}
                pair = {k: (v["path"] if isinstance(v, dict) and "path" in v else v) for k, v in pair.items()}
                del images[name]
                for size in ("small", "medium", "large"):
                    if logo.get(size) == name:
                        logo[size] = pair
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
    data, positions = load_yaml(brand_path, project_root)
    if not isinstance(data, dict):
        raise UserError(Problem(shown, 1, 1, message="expected a mapping (brand.yml keys: meta, color, logo, typography)"))
    data = _normalise_brand(data, shown, positions, warnings)
    try:
        brand = Brand.from_yaml_str(yaml.safe_dump(data, sort_keys=False), path=brand_path)
    except ValidationError as exc:
        raise UserError(problems_from_validation(exc, Brand, positions, shown)) from None
    except (ValueError, TypeError) as exc:
        raise UserError(Problem(shown, message=f"brand.yml rejected: {exc}")) from None

    def warn(loc: tuple, message: str, hint: str | None = None) -> None:
        line = positions.get(loc, (None, None))[0]
        dotted = ".".join(str(p) for p in loc)
        warnings.append(Problem(shown, line, None, dotted or None, message, hint, "warning"))

    colors = dict(DEFAULT_COLORS)
    if brand.color is not None:
        for name in DEFAULT_COLORS:
            value = getattr(brand.color, name, None)
            if isinstance(value, str) and value.startswith("#"):
                colors[name] = value
            elif value is not None:
                warn(("color", name), f"colour {value!r} is not a hex colour; using the default",
                     hint="use #RRGGBB or a palette name")

    fonts: list[FontFile] = []
    families: set[str] = set()
    typo = brand.typography
    if typo is not None and typo.fonts:
        for i, font in enumerate(typo.fonts):
            source = getattr(font, "source", "system")
            if source in ("google", "bunny"):
                warn(("typography", "fonts", i), f"font {font.family!r} comes from {source} and cannot be fetched "
                     "offline; the fallback font is used", hint="download the files and list them with source: file")
                continue
            if source == "system":
                families.add(font.family)
                continue
            for j, f in enumerate(font.files):
                path_text = str(f.path)
                local = _inside(folder, path_text)
                if local is None:
                    warn(("typography", "fonts", i, "files", j, "path"),
                         f"font file {path_text!r} is remote or outside the practice folder; skipped",
                         hint="put the font file inside the practice folder")
                elif not local.is_file():
                    warn(("typography", "fonts", i, "files", j, "path"), f"font file {path_text!r} not found; skipped")
                elif local.suffix.lower() not in FONT_SUFFIXES:
                    warn(("typography", "fonts", i, "files", j, "path"), f"font file {path_text!r} is not TTF/OTF/WOFF")
                else:
                    weight = f.weight.root if hasattr(f.weight, "root") else f.weight
                    fonts.append(FontFile(font.family, local, _weight(weight), f.style))
                    families.add(font.family)

    def family_or_default(value: str | None, where: tuple) -> str:
        if not value:
            return DEFAULT_FONT
        if value in families or value == DEFAULT_FONT:
            return value
        warn(where, f"font family {value!r} has no usable files; {DEFAULT_FONT} is used instead")
        return DEFAULT_FONT

    base = getattr(typo, "base", None) if typo else None
    headings = getattr(typo, "headings", None) if typo else None
    base_family = family_or_default(getattr(base, "family", None), ("typography", "base", "family"))
    heading_family = family_or_default(getattr(headings, "family", None) or getattr(base, "family", None),
                                       ("typography", "headings", "family"))
    line_height = max(1.5, float(getattr(base, "line_height", None) or 1.5))
    heading_color = getattr(headings, "color", None)

    logos: dict[str, Logo] = {}
    if brand.logo is not None:
        logos = _resolve_logos(brand, folder, warn)

    return Theme(
        colors=colors,
        base_family=base_family,
        heading_family=heading_family,
        heading_weight=_weight(getattr(headings, "weight", None) or 700),
        heading_color=heading_color if isinstance(heading_color, str) and heading_color.startswith("#") else None,
        line_height=line_height,
        fonts=tuple(fonts),
        logos=logos,
    )


def _weight(value) -> int | str:
    names = {"thin": 100, "light": 300, "normal": 400, "regular": 400, "medium": 500,
             "semi-bold": 600, "bold": 700, "extra-bold": 800, "black": 900}
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return names.get(value, value if value == "auto" else 400)
    return 400


def _resolve_logos(brand, folder: Path, warn) -> dict[str, Logo]:
    out: dict[str, Logo] = {}
    logo = brand.logo
    for size in ("small", "medium", "large"):
        value = getattr(logo, size, None)
        if value is None:
            continue
        light = getattr(value, "light", None)
        dark = getattr(value, "dark", None)
        if light is None and dark is None:
            light = value
        found = []
        for variant in (light, dark):
            if variant is None:
                found.append(None)
                continue
            path_text = str(variant.path)
            local = _inside(folder, path_text)
            if local is None:
                warn(("logo", size), f"logo {path_text!r} is remote or outside the practice folder; skipped")
                found.append(None)
            elif not local.is_file():
                warn(("logo", size), f"logo file {path_text!r} not found; the practice name is shown instead",
                     hint=f"add the file to {folder.name}/ or fix the path")
                found.append(None)
            elif local.suffix.lower() not in IMAGE_SUFFIXES:
                warn(("logo", size), f"logo {path_text!r} is not SVG, PNG or JPEG; skipped")
                found.append(None)
            else:
                found.append(local)
        if found[0] or found[1]:
            alt = getattr(light or dark, "alt", None)
            out[size] = Logo(found[0] or found[1], found[1], alt)
    return out
