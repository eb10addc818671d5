"""A practice folder → its details (practice.yml) plus a Theme resolved from its `_brand.yml`.

What `_brand.yml` may say, and how it is read, lives in `clinicpress.load.brand`; the Theme
itself in `clinicpress.load.theme`. A deck master named in practice.yml must be a
PowerPoint package inside the practice folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, UserError, rel
from . import schema
from .brand import load_theme
from .brand_files import inside
from .helplines import CountryLines, country_lines, missing_catalogue
from .loading import load_model
from .ooxml import package_problems, read_capped
from .theme import DEFAULT_COLORS, Theme


@dataclass(frozen=True)
class PracticeContext:
    """A loaded practice: details, theme, folder, and any warnings met while loading."""

    slug: str
    root: Path
    info: schema.Practice
    theme: Theme
    warnings: tuple[Problem, ...] = ()
    help_lines: CountryLines | None = None
    """The emergency, urgent-advice and crisis lines of the practice's country (templates/help-lines.yml)."""

    @property
    def lines(self) -> CountryLines:
        """The help lines of the practice's country; an error when the project has no catalogue."""
        if self.help_lines is None:
            raise missing_catalogue()
        return self.help_lines

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
        line = positions.get(("deck_master",), (None, None))[0]
        for problem in _check_master(folder, info.deck_master):
            problems.append(
                Problem(
                    rel(practice_yml, project_root),
                    line,
                    None,
                    "deck_master",
                    problem,
                    hint=f"give a .pptx or .potx file inside practices/{slug}/ with no macros, controls, "
                    "embedded objects or links to other files (save it again from PowerPoint as .pptx or "
                    ".potx); see the README's Safety section for the size limits",
                )
            )
    if info is not None and info.reviewer is not None:
        warnings.append(
            Problem(
                rel(practice_yml, project_root),
                positions.get(("reviewer",), (None, None))[0],
                None,
                "reviewer",
                "reviewer is no longer printed: a handout names only the clinician who approved its exact text",
                hint=f"delete the line; a clinician approves each handout with "
                f'`python build.py approve --practice {slug} ITEM --by "Name, credentials"`',
                severity="warning",
            )
        )
    if info is not None and info.emergency_number is not None:
        warnings.append(
            Problem(
                rel(practice_yml, project_root),
                positions.get(("emergency_number",), (None, None))[0],
                None,
                "emergency_number",
                "emergency_number is no longer read: the emergency and crisis numbers come from the "
                "practice's country in templates/help-lines.yml",
                hint="delete the line; check that `country` is right",
                severity="warning",
            )
        )
    help_lines = None
    if info is not None:
        try:
            help_lines = country_lines(
                project_root,
                info.country,
                list(info.languages),
                practice_yml=practice_yml,
                line=positions.get(("country",), (None, None))[0],
            )
        except UserError as exc:
            problems.extend(exc.problems)
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
                warnings.append(
                    Problem(
                        rel(folder / other, project_root),
                        message="this file is not read; the default theme is used",
                        hint="rename it to _brand.yml",
                        severity="warning",
                    )
                )
    if problems:
        raise UserError(problems)
    assert info is not None
    warnings.sort(key=lambda p: (p.path, p.line or 0))  # file order (sort is stable)
    return PracticeContext(slug, folder, info, theme, tuple(warnings), help_lines)


def _check_master(folder: Path, relpath: str) -> list[str]:
    """Returns why `deck_master` cannot be used (nothing when it is a safe PowerPoint package).

    The package is read as an untrusted zip (`load.ooxml`): within the size limits, with no
    macros, ActiveX, OLE objects or external relationships. python-pptx opens it only after.
    """
    master = inside(folder, relpath)
    if master is None:
        return [f"master {relpath!r} must be a relative path inside the practice folder"]
    if master.suffix.lower() not in (".pptx", ".potx"):
        return [f"master {relpath!r} must be a .pptx or .potx file"]
    if not master.is_file():
        return [f"master {relpath!r} not found in the practice folder"]
    try:
        data = read_capped(master)
    except ValueError as exc:
        return [f"master {relpath!r} {exc}"]
    except OSError as exc:
        return [f"master {relpath!r} cannot be read ({exc.strerror})"]
    return [f"master {relpath!r}: " + (f"part {part}: " if part else "") + why for part, why in package_problems(data)]
