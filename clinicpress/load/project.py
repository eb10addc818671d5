"""Phase one of a build: find, load and cross-check every input, collecting every problem.

Nothing is rendered or written here. A project with any error raises one UserError that
lists them all (as MkDocs does), so a writer fixes a batch of mistakes in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import Problem, UserError, dotted, rel
from . import schema
from .approvals import SignOff, approved_text, load_record, resolve
from .assets import font_problem, image_problems, template_problems
from .citations import Bibliography
from .i18n import has_catalogue, no_catalogue
from .loading import load_model
from .pictures import FOLDER, Pictures, is_library_name, load_pictures, svg_file_problems
from .practice import PracticeContext, load_practice


@dataclass(frozen=True)
class Source:
    """One loaded content file: its model, path and the line of every field."""

    kind: str  # "handout" or "deck"
    path: Path
    model: Any
    positions: dict = field(compare=False, hash=False)

    @property
    def slug(self) -> str:
        return self.model.slug

    @property
    def language(self) -> str:
        return self.model.language

    @property
    def key(self) -> str:
        """Stable id of a content item: kind:slug:language."""
        return f"{self.kind}:{self.slug}:{self.language}"

    def line_of(self, *loc) -> int | None:
        for n in range(len(loc), -1, -1):
            if tuple(loc[:n]) in self.positions:
                return self.positions[tuple(loc[:n])][0]
        return None

    def line_of_text(self, needle: str, *loc) -> int | None:
        """The line inside the field at `loc` where `needle` is written (a key in a long block of
        text), else the field's own line. Read again from the file: only problems ask for it."""
        start = self.line_of(*loc)
        if start is None:
            return None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return start
        first = lines[start - 1] if start <= len(lines) else ""
        indent = len(first) - len(first.lstrip(" -"))
        for number in range(start, len(lines) + 1):
            line = lines[number - 1]
            if number > start and line.strip() and len(line) - len(line.lstrip(" -")) <= indent:
                break  # the next field: the needle is not written in this one
            if needle in line:
                return number
        return start


@dataclass
class Project:
    """Everything a build reads, loaded and validated."""

    root: Path
    handouts: list[Source]
    decks: list[Source]
    practices: dict[str, PracticeContext]
    bibliography: Bibliography
    warnings: list[Problem]
    signoffs: dict[str, dict[str, SignOff]] = field(default_factory=dict)
    """Practice slug → content item key → whether the practice approved its current text."""
    pictures: Pictures = field(default_factory=lambda: Pictures(FOLDER, {}, ()))
    """The picture library (icons and diagrams) content names pictures from."""

    @property
    def sources(self) -> list[Source]:
        return self.handouts + self.decks

    def signoff(self, practice: str, src: Source) -> SignOff | None:
        """The practice's sign-off of this item's current text (None: no record for it; prints as a draft)."""
        return self.signoffs.get(practice, {}).get(src.key)

    @property
    def content_dir(self) -> Path:
        return self.root / "content"


CONTENT_DIRS: dict[str, tuple[str, type[BaseModel]]] = {
    "handout": ("content/handouts", schema.Handout),
    "deck": ("content/decks", schema.Deck),
}


def content_files(root: Path, kind: str) -> list[Path]:
    """Returns the YAML files of one kind, sorted, including language subfolders (es/)."""
    base = root / CONTENT_DIRS[kind][0]
    if not base.is_dir():
        return []
    return sorted(
        p
        for p in base.rglob("*")
        if p.suffix in (".yml", ".yaml") and p.is_file() and not p.name.startswith(("_", "."))
    )


def load_project(root: Path, *, practices: list[str] | None = None) -> Project:
    """Loads content, bibliography and practices; raises UserError listing every problem."""
    root = root.resolve()
    problems: list[Problem] = []
    try:
        bib = Bibliography.load(root / "content" / "references.json", root)
    except UserError as exc:
        problems.extend(exc.problems)
        bib = Bibliography([])
    pictures, picture_problems = load_pictures(root)
    problems.extend(picture_problems)
    loaded = _load_content(root, bib, pictures, problems)
    loaded_practices = _load_practices(root, practices, problems)
    warnings = [w for ctx in loaded_practices.values() for w in ctx.warnings]
    signoffs = _signoffs(root, loaded["handout"] + loaded["deck"], loaded_practices, bib, problems, warnings)
    if problems:
        raise UserError(sorted(problems, key=lambda p: (p.path, p.line or 0, p.col or 0)))
    return Project(root, loaded["handout"], loaded["deck"], loaded_practices, bib, warnings, signoffs, pictures)


def _signoffs(
    root: Path,
    sources: list[Source],
    practices: dict[str, PracticeContext],
    bib: Bibliography,
    problems: list[Problem],
    warnings: list[Problem],
) -> dict[str, dict[str, SignOff]]:
    """Each practice's approvals.yml read, and each item's sign-off state for each practice."""
    from .config import load_config

    try:
        config = load_config(root)
    except UserError as exc:
        problems.extend(exc.problems)
        return {}
    today = config.reference_date()
    texts = {src.key: approved_text(src.model, bib.items) for src in sources}
    by_slug_language = {(s.slug, s.language): s for s in sources}
    out: dict[str, dict[str, SignOff]] = {}
    for slug, ctx in practices.items():
        try:
            record = load_record(ctx.root, root)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        for item, by_language in record.approvals.items():
            for language in by_language:
                if (item, language) not in by_slug_language:
                    warnings.append(
                        Problem(
                            rel(record.path, root),
                            record.line_of(item, language),
                            None,
                            f"{item}.{language}",
                            f"approval for {item!r} ({language}), but there is no handout or deck with that slug "
                            "in that language",
                            hint="remove the entry if the item was deleted, or fix the slug",
                            severity="warning",
                        )
                    )
        states: dict[str, SignOff] = {}
        for src in sources:
            original = None
            if src.model.translation_of:
                orig = original_of(sources, src)
                if orig is not None:
                    original = (texts[orig.key], record.get(orig.slug, orig.language))
            states[src.key] = resolve(
                record.get(src.slug, src.language),
                texts[src.key],
                practice=ctx.info.name,
                original=original,
                today=today,
                expire_months=config.approval_error_months,
            )
        out[slug] = states
    return out


def _load_content(
    root: Path, bib: Bibliography, pictures: Pictures, problems: list[Problem]
) -> dict[str, list[Source]]:
    """Every handout and deck, validated and cross-checked; two items may not share a slug and language."""
    loaded: dict[str, list[Source]] = {"handout": [], "deck": []}
    for kind, (_, model) in CONTENT_DIRS.items():
        for path in content_files(root, kind):
            try:
                obj: BaseModel
                obj, positions = load_model(path, model, root)
            except UserError as exc:
                problems.extend(exc.problems)
                continue
            src = Source(kind, path, obj, positions)
            problems.extend(_cross_check(src, root, bib, pictures))
            if not has_catalogue(root, src.language):
                problems.append(no_catalogue(rel(path, root), src.line_of("language"), "language", src.language))
            loaded[kind].append(src)
    seen: dict[tuple[str, str], Path] = {}
    for src in loaded["handout"] + loaded["deck"]:
        key = (src.slug, src.language)
        if key in seen:
            problems.append(
                Problem(
                    rel(src.path, root),
                    src.line_of("slug"),
                    None,
                    "slug",
                    f"slug {src.slug!r} ({src.language}) is also used by {rel(seen[key], root)}",
                    hint="every handout and deck needs its own slug per language",
                )
            )
        seen[key] = src.path
    return loaded


def _load_practices(root: Path, wanted: list[str] | None, problems: list[Problem]) -> dict[str, PracticeContext]:
    """The practices (all, or the `wanted` ones: an unknown slug is a usage error) with their files checked."""
    folder = root / "practices"
    practice_dirs = (
        sorted(p for p in folder.glob("*") if p.is_dir() and (p / "practice.yml").exists()) if folder.is_dir() else []
    )
    available = [p.name for p in practice_dirs]
    if wanted:
        unknown = [s for s in wanted if s not in available]
        if unknown:
            from ..errors import UsageError

            raise UsageError(
                Problem(
                    "practices/",
                    message=f"practice {unknown[0]!r} not found",
                    hint=f"available: {', '.join(available) or '(none)'}",
                )
            )
        practice_dirs = [p for p in practice_dirs if p.name in wanted]
    loaded: dict[str, PracticeContext] = {}
    for path in practice_dirs:
        try:
            ctx = load_practice(path, root)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        practice_problems = _check_practice_files(ctx, root)
        if practice_problems:
            problems.extend(practice_problems)
            continue
        loaded[path.name] = ctx
    return loaded


def _cross_check(src: Source, root: Path, bib: Bibliography, pictures: Pictures) -> list[Problem]:
    """Checks what a schema cannot: file name, citation keys, pictures and figure files."""
    shown = rel(src.path, root)
    problems: list[Problem] = []
    if src.path.stem != src.slug:
        problems.append(
            Problem(
                shown,
                src.line_of("slug"),
                None,
                "slug",
                f"slug {src.slug!r} does not match the file name {src.path.name!r}",
                hint=f"rename the file to {src.slug}.yml or set slug: {src.path.stem}",
            )
        )
    for loc, text in walk_text(src.model):
        for key in schema.cite_keys(text):
            if key not in bib:
                import difflib

                close = difflib.get_close_matches(key, list(bib.items), n=1)
                problems.append(
                    Problem(
                        shown,
                        src.line_of_text(f"@{key}", *loc),
                        None,
                        dotted(loc),
                        f"unknown citation key [@{key}]",
                        hint=f"did you mean [@{close[0]}]?" if close else "add the source to content/references.json",
                    )
                )
    for loc, name in walk_icons(src.model):
        unknown = pictures.unknown(name, icon=True)
        if unknown:
            problems.append(Problem(shown, src.line_of(*loc), None, dotted(loc), unknown[0], hint=unknown[1]))
        elif pictures.meaning(name, src.language) is None:
            problems.append(
                Problem(
                    shown,
                    src.line_of(*loc),
                    None,
                    dotted(loc),
                    f"icon {name!r} has no meaning in {src.language} (its alternative text)",
                    hint=f"add `{src.language}: ...` to {name} in templates/pictures/icons.yml",
                )
            )
    for loc, fig in walk_figures(src.model):
        line = src.line_of(*loc, "src")
        field_path = dotted(loc + ("src",))
        if is_library_name(fig.src):
            unknown = pictures.unknown(fig.src, icon=False)
            if unknown:
                problems.append(Problem(shown, line, None, field_path, unknown[0], hint=unknown[1]))
            continue
        problem, real = _figure_target(src.path.parent, fig.src, root)
        if problem or real is None:
            problems.append(
                Problem(
                    shown,
                    line,
                    None,
                    field_path,
                    f"image {fig.src!r} {problem}",
                    hint="name a picture of the library (e.g. gut-gate), or put the image next to the "
                    "content file and give a relative path",
                )
            )
            continue
        for inner_line, message in image_problems(real):
            where = f"{rel(real, root)}" + (f":{inner_line}" if inner_line else "")
            problems.append(
                Problem(shown, line, None, field_path, f"image {where} {message}", hint="fix or replace the image file")
            )
    return problems


def _figure_target(folder: Path, src: str, root: Path) -> tuple[str | None, Path | None]:
    """Resolves a figure path; returns (problem, None) or (None, the real file)."""
    if (
        "://" in src
        or src.lower().startswith(("data:", "file:"))
        or src.startswith(("/", "\\", "~"))
        or Path(src).is_absolute()
    ):
        return "must be a relative path to a file inside the project", None
    try:
        real = (folder / src).resolve()
        if not real.is_relative_to(root):
            return "points outside the project folder", None
        if not real.is_file():
            return "file not found", None
    except (OSError, ValueError, RuntimeError):
        return "is not a usable file path", None
    if real.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
        return "must be PNG, JPEG or SVG", None
    return None, real


def _check_practice_files(ctx: PracticeContext, root: Path) -> list[Problem]:
    """Checks a practice's logo images, font files and template overrides (all untrusted)."""
    problems: list[Problem] = []
    brand = rel(ctx.root / "_brand.yml", root)
    seen: set[Path] = set()
    for size, logo in sorted(ctx.theme.logos.items()):
        for path in (logo.light, logo.dark):
            if path is None or path in seen:
                continue
            seen.add(path)
            for line, message in image_problems(path):
                problems.append(
                    Problem(
                        rel(path, root),
                        line,
                        None,
                        None,
                        f"logo ({size}) {message}",
                        hint=f"fix the logo file or remove it from {brand}",
                    )
                )
    for font in ctx.theme.fonts:
        why = font_problem(font.path)
        if why:
            problems.append(
                Problem(
                    rel(font.path, root),
                    None,
                    None,
                    None,
                    f"font {font.family!r} {why}",
                    hint=f"replace the font file or remove it from {brand}",
                )
            )
    templates = ctx.templates_dir
    if templates is not None:
        for path in sorted(templates.rglob("*")):
            if path.suffix.lower() not in (".j2", ".css", ".html", ".htm", ".svg", ".xml"):
                continue
            shown = rel(path, root)
            real = path.resolve()
            if not real.is_relative_to(templates.resolve()):
                problems.append(
                    Problem(
                        shown,
                        None,
                        None,
                        None,
                        "is a link to a file outside the practice's templates folder",
                        hint="copy the file in instead of linking to it",
                    )
                )
                continue
            if not real.is_file():
                continue
            if path.suffix.lower() == ".svg":  # pictures (the library's, replaced) are images too
                problems.extend(svg_file_problems(path, root, "picture"))
            for line, why in template_problems(real):
                problems.append(Problem(shown, line, None, None, why))
    return problems


def walk(model: Any, wanted: type | tuple[type, ...], loc: tuple = ()) -> list[tuple[tuple, Any]]:
    """Returns (loc, value) for every value of type `wanted` inside a model, in document order."""
    out: list[tuple[tuple, Any]] = []
    if isinstance(model, wanted):
        out.append((loc, model))
    elif isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            out.extend(walk(item, wanted, loc + (i,)))
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            out.extend(walk(getattr(model, name), wanted, loc + (name,)))
    return out


def original_of(sources, src):
    """The original a translation was made from: the item it names in `translation_of` that is not
    itself a translation (with several translations, another one has the same slug); else None."""
    for o in sources:
        if o.kind == src.kind and o.slug == src.model.translation_of and o.language != src.language:
            if not getattr(o.model, "translation_of", None):
                return o
    return None


def walk_text(model: Any) -> list[tuple[tuple, str]]:
    """Returns (loc, text) for every string in a model, in document order."""
    return walk(model, str)


def walk_icons(model: Any, loc: tuple = ()) -> list[tuple[tuple, str]]:
    """Returns (loc, name) for every icon a model names (`icon:` fields), in document order."""
    out: list[tuple[tuple, str]] = []
    if isinstance(model, (list, tuple)):
        for i, item in enumerate(model):
            out.extend(walk_icons(item, loc + (i,)))
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            value = getattr(model, name)
            if name == "icon" and isinstance(value, str):
                out.append((loc + (name,), value))
            else:
                out.extend(walk_icons(value, loc + (name,)))
    return out


def walk_figures(model: Any) -> list[tuple[tuple, schema.Figure]]:
    """Returns (loc, figure) for every figure or slide image in a model."""
    return walk(model, schema.Figure)
