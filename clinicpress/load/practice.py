"""A practice folder → its details (practice.yml) plus a Theme resolved from its `_brand.yml`.

What `_brand.yml` may say, and how it is read, lives in `clinicpress.load.brand`; the Theme
itself in `clinicpress.load.theme`. A deck master named in practice.yml must be a
PowerPoint package inside the practice folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem, UserError, dotted, rel
from . import schema
from .brand import load_theme
from .brand_files import inside
from .helplines import CountryLines, country_lines, missing_catalogue
from .i18n import has_catalogue, language, no_catalogue
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


# --------------------------------------------------------------------------- texts per language
class LangText(str):
    """A practice text with the language it is written in (`lang`, a tag): a passage in another
    language than the document's is printed with its own `lang` (`lang_attr` in templates)."""

    lang: str

    def __new__(cls, text: str, lang: str) -> LangText:
        obj = super().__new__(cls, text)
        obj.lang = lang
        return obj


LOCALIZED_FIELDS = ("tagline", "hours", "footer_note", "notices.language_assistance", "notices.nondiscrimination")
"""The fields of practice.yml a handout prints that may be given per language."""


def _same_language(a: str, b: str) -> bool:
    return a.split("-")[0] == b.split("-")[0]


def pick(value: str | dict | None, language: str, default: str) -> LangText | None:
    """The text of a per-language field for a handout in `language`: its own text, else the text
    for the same language without region (en for en-GB), else the default language's (or first) text.
    A plain string is in the practice's `default` language."""
    if value is None:
        return None
    if isinstance(value, str):
        return LangText(value, default)
    for tag in (language, *[t for t in value if _same_language(t, language)], default, *value):
        if tag in value:
            return LangText(value[tag], tag)
    return None  # an empty mapping: validation refuses it


def localized_fields(info: schema.Practice) -> list[tuple[tuple, str | dict]]:
    """(location in practice.yml, value) of every printed per-language field that is set."""
    out: list[tuple[tuple, str | dict]] = []
    for name in LOCALIZED_FIELDS:
        owner: object = info
        loc: tuple = ()
        for part in name.split("."):
            owner = getattr(owner, part, None) if owner is not None else None
            loc += (part,)
        if isinstance(owner, list):
            out += [((*loc, i), v) for i, v in enumerate(owner)]
        elif owner is not None:
            out.append((loc, owner))  # type: ignore[arg-type]
    return out


def for_language(info: schema.Practice, language: str) -> schema.Practice:
    """The practice's details as a handout in `language` prints them: each per-language field
    becomes the `LangText` for that language."""
    default = info.languages[0]
    update: dict = {
        "tagline": pick(info.tagline, language, default),
        "hours": [pick(h, language, default) for h in info.hours],
        "footer_note": pick(info.footer_note, language, default),
    }
    if info.notices is not None:
        update["notices"] = info.notices.model_copy(
            update={
                "language_assistance": pick(info.notices.language_assistance, language, default),
                "nondiscrimination": pick(info.notices.nondiscrimination, language, default),
            }
        )
    return info.model_copy(update=update)


def untranslated(info: schema.Practice, positions: dict, shown: str) -> list[Problem]:
    """A warning for each printed field that has no text in one of the practice's languages:
    those handouts print the default text, and the writer is told which field and language."""
    default = info.languages[0]
    out: list[Problem] = []
    for tag in info.languages:
        for loc, value in localized_fields(info):
            got = pick(value, tag, default)
            if got is None or _same_language(got.lang, tag):
                continue
            out.append(
                Problem(
                    shown,
                    positions.get(loc, (None, None))[0],
                    None,
                    dotted(loc),
                    f"no {tag} text: handouts in {tag} print the {got.lang} text",
                    hint=f'write it per language, e.g. {{{got.lang}: "...", {tag}: "..."}}',
                    severity="warning",
                )
            )
    return out


def _taglines_missing(info: schema.Practice, positions: dict, shown: str, root: Path) -> list[Problem]:
    """An error for each `language_help` language with no tagline in its language record (and
    each of a practice's other `languages`, which its handouts reach with a tagline too)."""
    problems = [
        Problem(
            shown,
            positions.get(("languages", i), (None, None))[0],
            None,
            f"languages[{i}]",
            f"no language-help tagline for {tag!r}: the practice's handouts in its other languages print one, "
            f"and templates/languages/{tag}.yml has no `language_help`",
            hint=f'add `language_help: "...{{phone}}..."` to templates/languages/{tag}.yml (see templates/languages/vi.yml)',
        )
        for i, tag in enumerate(info.languages)
        if len(info.languages) > 1 and has_catalogue(root, tag) and not language(root, tag).language_help
    ]
    return problems + [
        Problem(
            shown,
            positions.get(("language_help", i), (None, None))[0],
            None,
            f"language_help[{i}]",
            f"no language-help tagline for {tag!r}: templates/languages/{tag}.yml has no `language_help`",
            hint=f'add templates/languages/{tag}.yml with `language_help: "...{{phone}}..."` (see '
            "templates/languages/vi.yml), or remove the language",
        )
        for i, tag in enumerate(info.language_help)
        if not language(root, tag).language_help
    ]


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
    if info is not None:
        problems.extend(
            no_catalogue(
                rel(practice_yml, project_root),
                positions.get(("languages", i), (None, None))[0],
                f"languages[{i}]",
                tag,
            )
            for i, tag in enumerate(info.languages)
            if not has_catalogue(project_root, tag)
        )
    if info is not None:
        problems.extend(_taglines_missing(info, positions, rel(practice_yml, project_root), project_root))
        warnings.extend(untranslated(info, positions, rel(practice_yml, project_root)))
    retired = {  # fields a practice.yml may still hold that are no longer read: (message, hint)
        "reviewer": (
            "reviewer is no longer printed: a handout names only the clinician who approved its exact text",
            f"delete the line; a clinician approves each handout with "
            f'`python build.py approve --practice {slug} ITEM --by "Name, credentials"`',
        ),
        "emergency_number": (
            "emergency_number is no longer read: the emergency and crisis numbers come from the "
            "practice's country in templates/help-lines.yml",
            "delete the line; check that `country` is right",
        ),
    }
    for name, (message, hint) in retired.items():
        if info is not None and getattr(info, name) is not None:
            warnings.append(
                Problem(
                    rel(practice_yml, project_root),
                    positions.get((name,), (None, None))[0],
                    None,
                    name,
                    message,
                    hint=hint,
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
