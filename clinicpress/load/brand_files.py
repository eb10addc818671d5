"""The font and logo files `_brand.yml` names: found inside the practice folder, checked, or warned about.

Fonts must be files in the practice folder (or installed on this computer); fonts from
Google or Bunny are not fetched. Logos must be SVG, PNG or JPEG files in the folder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .theme import DEFAULT_FONT, FONT_MAGIC, IMAGE_SUFFIXES, FontFile, Logo


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


def resolve_fonts(typo, folder: Path, warn) -> tuple[list[FontFile], set[str], dict[str, str]]:
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
            warn(
                where,
                f"font {font.family!r} comes from {source.title()} Fonts and cannot be fetched "
                f"offline; {DEFAULT_FONT} is used instead",
                hint="download the font files into the practice folder and list them with source: file",
            )
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
            local = _local_file(
                folder,
                path_text,
                loc,
                warn,
                what="font file",
                instead="skipped",
                hint="download it into the practice folder (with its licence) and give a relative path",
            )
            if local is None:
                continue
            if not _is_font(local):
                warn(loc, f"font file {path_text!r} is not a TrueType, OpenType or WOFF font; skipped")
            else:
                weight = f.weight.root if hasattr(f.weight, "root") else f.weight
                if isinstance(weight, tuple):
                    warn(
                        (*where, "files", j, "weight"),
                        f"weight range {weight[0]}..{weight[1]} (a variable "
                        "font) is used at weight 400 only; PDF output needs one file per weight",
                    )
                fonts.append(FontFile(font.family, local, font_weight(weight), f.style))
                usable.add(font.family)
        if font.family not in usable:
            why_not.setdefault(font.family, f"has no usable files (see typography.fonts[{i}])")
    return fonts, usable, why_not


def _head(path: Path, size: int) -> bytes | None:
    """The first `size` bytes of a file, or None if it cannot be read."""
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError:
        return None


def _is_font(path: Path) -> bool:
    return _head(path, 4) in FONT_MAGIC


def _logo_loc(raw_logo, size: str, variant: str | None) -> tuple:
    """Returns where in `_brand.yml` the file of one logo size/variant is written."""
    if not isinstance(raw_logo, dict):
        return ("logo",)
    images: dict = raw_logo["images"] if isinstance(raw_logo.get("images"), dict) else {}
    value = raw_logo.get(size)
    loc: tuple = ("logo", size)
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


def resolve_logos(logo, raw_logo, folder: Path, warn) -> dict[str, Logo]:
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
        variants: tuple[str | None, ...]
        if light is None and dark is None:
            light, variants = value, (None,)
        else:
            variants = ("light", "dark")
        found: dict[str, Path | None] = {}
        for variant, resource in zip(("light", "dark"), (light, dark), strict=True):
            if resource is None:
                found[variant] = None
                continue
            loc = ("logo",) if plain else _logo_loc(raw_logo, size, variant if variants != (None,) else None)
            found[variant] = _logo_file(resource, folder, loc, warn)
            if plain and found[variant] is None:
                return {}
        if found["light"] is None and found["dark"] is not None:
            warn(
                _logo_loc(raw_logo, size, "dark"),
                f"logo.{size} has only a dark-background variant usable; no logo is shown on light pages",
                hint="add a light variant",
            )
            continue
        if found["light"] is not None:
            alt = getattr(light, "alt", None) or getattr(dark, "alt", None)
            out[size] = Logo(found["light"], found["dark"], alt.strip() if alt else None)
    return out


def _logo_file(resource, folder: Path, loc: tuple, warn) -> Path | None:
    path_text = str(resource.path)
    local = _local_file(
        folder,
        path_text,
        loc,
        warn,
        what="logo",
        instead="the practice name is shown instead",
        hint="save the image in the practice folder and give a relative path",
    )
    if local is None:
        return None
    if local.suffix.lower() not in IMAGE_SUFFIXES:
        warn(loc, f"logo {path_text!r} is not SVG, PNG or JPEG; skipped")
    elif not _is_image(local):
        warn(loc, f"logo {path_text!r} is not a valid {local.suffix.lstrip('.').upper()} image; skipped")
    else:
        return local
    return None


def _local_file(folder: Path, path_text: str, loc: tuple, warn, *, what: str, instead: str, hint: str) -> Path | None:
    """The file a brand entry names inside the practice folder, or None after a warning (remote, outside, missing)."""
    local = inside(folder, path_text)
    if local is None:
        warn(loc, f"{what} {path_text!r} is remote or outside the practice folder; {instead}", hint=hint)
    elif not local.is_file():
        file = what if what.endswith("file") else f"{what} file"
        warn(
            loc,
            f"{file} {path_text!r} not found; {instead}",
            hint=f"add the file to practices/{folder.name}/ or fix the path",
        )
    else:
        return local
    return None


def _is_image(path: Path) -> bool:
    head = _head(path, 65536)
    if head is None:
        return False
    suffix = path.suffix.lower()
    if suffix == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if suffix in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8")
    return b"<svg" in head


def font_weight(value) -> int | str:
    names = {
        "thin": 100,
        "extra-light": 200,
        "ultra-light": 200,
        "light": 300,
        "normal": 400,
        "regular": 400,
        "medium": 500,
        "semi-bold": 600,
        "demi-bold": 600,
        "bold": 700,
        "extra-bold": 800,
        "ultra-bold": 800,
        "black": 900,
    }
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else names.get(value, 400)
    return 400


def inside(folder: Path, relpath: str) -> Path | None:
    """Resolves `relpath` against `folder`; None if it leaves the folder or is absolute."""
    if not relpath or Path(relpath).is_absolute() or "://" in relpath or relpath.startswith("data:"):
        return None
    p = (folder / relpath).resolve()
    try:
        p.relative_to(folder.resolve())
    except ValueError:
        return None
    return p
