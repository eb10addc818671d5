"""The picture library: the icons and diagrams in `templates/pictures/`, what each icon means,
and a practice's own versions of them.

Content names a picture by its name (`icon: medicines`, `figure: {src: gut-gate, ...}`); the
renderers draw it in the practice's primary colour. Icons are Health Icons (MIT, see
`templates/pictures/icons/LICENSE`); their meanings, one per language, are their alternative
text (`templates/pictures/icons.yml`). Diagrams are drawn for ClinicPress; their alternative
text is written by the content, which says what the picture means in its context.

Every file of the library, and every replacement a practice puts in
`practices/<slug>/templates/pictures/`, is an input like any other: it goes through the SVG
checks of `load.assets` when the project loads.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from ..errors import Problem, UserError, rel
from .assets import image_problems
from .i18n import chain
from .schema import ICON_RE, Language

FOLDER = Path("templates") / "pictures"
"""Where the library lives inside a project (and inside a practice's templates folder)."""
MEANINGS = "icons.yml"
"""The icons and their meanings, in the library folder."""


IconMeaning = dict[Language, Annotated[str, Field(min_length=2, max_length=80)]]
"""What an icon stands for, per language tag (its alternative text): English is required; a
language reads its own tag, then its base language (`en-GB` → `en`)."""
_MEANING = TypeAdapter(IconMeaning)


def is_library_name(src: str) -> bool:
    """True when a figure's `src` names a picture of the library rather than a file."""
    return re.fullmatch(ICON_RE, src) is not None


@dataclass(frozen=True)
class Pictures:
    """The library of one project: its folder, the icons with their meanings, the diagrams."""

    folder: Path
    icons: dict[str, IconMeaning]
    diagrams: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        return sorted(self.diagrams) + sorted(self.icons)

    def meaning(self, name: str, language: str) -> str | None:
        """The meaning of an icon in `language` (its alternative text), or None when the library
        has none in that language (a located error when content is loaded)."""
        meanings = self.icons[name]
        for tag in reversed(chain(language)):
            if tag in meanings and (tag != "en" or language.split("-")[0] == "en"):
                return meanings[tag]
        return None

    def alt(self, name: str, language: str) -> str:
        """The meaning of an icon in `language`; loading made sure there is one."""
        return self.meaning(name, language) or self.icons[name]["en"]

    def file(self, name: str, practice_templates: Path | None = None) -> Path:
        """The SVG drawn for `name`: the practice's own version if it has one, else the library's."""
        sub = "icons" if name in self.icons else "diagrams"
        if practice_templates is not None:
            own = practice_templates / "pictures" / sub / f"{name}.svg"
            if own.is_file():
                return own
        return self.folder / sub / f"{name}.svg"

    def unknown(self, name: str, *, icon: bool) -> tuple[str, str] | None:
        """(message, hint) when content names a picture the library does not have, else None."""
        known = sorted(self.icons) if icon else self.names
        if name in known:
            return None
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        what = "icon" if icon else "picture"
        hint = f"did you mean {close[0]!r}? " if close else ""
        hint += f"{what}s in {FOLDER.as_posix()}: {', '.join(known) or '(none)'}"
        return f"unknown {what} {name!r}", hint


def load_pictures(root: Path) -> tuple[Pictures, list[Problem]]:
    """Reads the library of the project at `root`; problems name the file, line and icon."""
    from .loading import load_yaml

    folder = root / FOLDER
    problems: list[Problem] = []
    icons: dict[str, IconMeaning] = {}
    meanings = folder / MEANINGS
    if meanings.is_file():
        shown = rel(meanings, root)
        data: Any = {}
        positions: dict = {}
        try:
            data, positions = load_yaml(meanings, root)
        except UserError as exc:
            problems.extend(exc.problems)
        if not isinstance(data, dict):
            problems.append(Problem(shown, 1, None, None, "expected icon names, each with its meanings"))
            data = {}
        for name, value in data.items():
            line = positions.get((name,), (None,))[0]
            if not isinstance(name, str) or not re.fullmatch(ICON_RE, name):
                problems.append(Problem(shown, line, None, str(name), "an icon name is lower-case words joined by '-'"))
                continue
            try:
                icons[name] = _MEANING.validate_python(value)
                if "en" not in icons[name]:
                    raise ValueError("no English meaning")
            except (ValidationError, ValueError) as exc:
                problems.append(
                    Problem(
                        shown,
                        line,
                        None,
                        name,
                        f"the icon's meaning: {_first_error(exc)}",
                        hint="give the meaning per language tag, English at least, e.g. {en: Medicines, es: Medicamentos}",
                    )
                )
                continue
            if not (folder / "icons" / f"{name}.svg").is_file():
                problems.append(
                    Problem(shown, line, None, name, f"no file icons/{name}.svg for this icon", hint="add the SVG file")
                )
    diagrams = tuple(sorted(p.stem for p in (folder / "diagrams").glob("*.svg"))) if folder.is_dir() else ()
    library = Pictures(folder, icons, diagrams)
    for name in library.names:
        problems.extend(svg_file_problems(library.file(name), root, f"picture {name!r}"))
    return library, problems


def svg_file_problems(path: Path, root: Path, what: str) -> list[Problem]:
    """The SVG checks of `load.assets` for one picture file, as problems located in the file."""
    out: list[Problem] = []
    if path.suffix.lower() != ".svg":
        return [Problem(rel(path, root), None, None, None, f"{what}: must be an SVG file")]
    for line, message in image_problems(path):
        out.append(Problem(rel(path, root), line, None, None, f"{what}: {message}", hint="fix or replace the file"))
    return out


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{first['msg']} ({'.'.join(map(str, first['loc'])) or 'value'})"
    return str(exc)
