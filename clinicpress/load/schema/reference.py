"""The field reference for writers and practice staff, made from the models themselves.

`docs/reference.md` is this module's output (`python -m clinicpress.load.schema.reference`
writes it; a test fails when it no longer matches the code). Each model is a heading with its
docstring, then one row a field: name, type and allowed values, whether it is required or its
default, and the field's own docstring. Examples come from the shipped content, so they are
real and valid by construction.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .deck import Deck, Slide, SlideLayout
from .handout import Handout
from .language import LanguageRecord
from .practice import Practice

TOP = (
    (Handout, "content/handouts/<slug>.yml", "content/handouts/gut-and-immune-system.yml"),
    (Deck, "content/decks/<slug>.yml", "content/decks/gut-and-autoimmune-disease.yml"),
    (Practice, "practices/<slug>/practice.yml", "practices/valle-community-health/practice.yml"),
    (LanguageRecord, "templates/languages/<tag>.yml", "templates/languages/en-GB.yml"),
)
"""The files a person writes: the model, where it lives, and the shipped file examples come from."""

HEADER = """# Field reference

Every field of the files you write, made from ClinicPress's own models
(`clinicpress/load/schema/`), so it always matches what the tool accepts. Unknown keys are
errors; prose fields are CommonMark and may cite sources as `[@key]`. Examples are taken from
the shipped content. Regenerate with `python -m clinicpress.load.schema.reference` after a
schema change (a test checks this file is current).
"""


def _type_name(annotation: Any) -> str:
    """A readable type: text, number, yes/no, date, list of X, one of "a", "b", or a model name."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(_type_name(a) for a in parts)
    if origin is dict:
        return "per language (`{en: ..., es: ...}`)"
    if origin in (list, tuple):
        args = get_args(annotation)
        return f"list of {_type_name(args[0])}" if args else "list"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    names = {str: "text", int: "whole number", float: "number", bool: "`true` or `false`"}
    if annotation in names:
        return names[annotation]
    name = getattr(annotation, "__name__", str(annotation))
    return {"date": "date (YYYY-MM-DD)"}.get(name, name)


def _constraints(info: FieldInfo) -> str:
    """Length, size and pattern limits of a field, in words."""
    out = []
    for meta in info.metadata:
        if isinstance(meta, annotated_types.MinLen) and meta.min_length:
            out.append(f"at least {meta.min_length}")
        elif isinstance(meta, annotated_types.MaxLen):
            out.append(f"at most {meta.max_length}")
        elif isinstance(meta, annotated_types.Ge):
            out.append(f"≥ {meta.ge}")
        elif isinstance(meta, annotated_types.Le):
            out.append(f"≤ {meta.le}")
        elif getattr(meta, "pattern", None):
            out.append(f"pattern `{meta.pattern}`")
    return "; ".join(out)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "empty" if value in ([], {}, ()) else f"`{value}`"
    if info.default is None or info.default is PydanticUndefined:
        return "optional"
    value = info.default
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    """The model and every model its fields use, depth first, each once."""
    if model in seen:
        return
    seen.add(model)
    yield model
    for info in model.model_fields.values():
        yield from _nested(info.annotation, seen)


def _nested(annotation: Any, seen: set[type[BaseModel]]) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _models(annotation, seen)
    for arg in get_args(annotation):
        yield from _nested(arg, seen)


def _table(model: type[BaseModel]) -> list[str]:
    rows = ["| field | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        kind = _type_name(info.annotation)
        limits = _constraints(info)
        if limits:
            kind += f" ({limits})"
        text = " ".join((info.description or "").split()).replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {_default(info)} | {text} |")
    return rows


FALLBACK_EXAMPLES: dict[str, dict] = {
    "Figure": {
        "src": "figures/gut-lining.svg",
        "alt": "The gut lining as a row of cells with tight seals between them.",
        "caption": "The lining lets food in and keeps most germs out.",
    },
    "Quote": {"text": "Ask me before you stop a medicine.", "attribution": "Your care team"},
    "HumanReview": {"by": "Dana Ortiz, MD", "date": "2026-11-02", "items": ["purpose_evident", "logical_order"]},
    "Bullet": {"text": "Keep a food and symptom diary", "sub": ["What you ate", "How you felt"]},
    "Slide:image": {
        "layout": "image",
        "title": "The gut lining is a gate",
        "image": {"src": "figures/gut-lining.svg", "alt": "Cells of the gut lining with seals between them."},
        "notes": "Describe the picture in words for people who cannot see it.",
    },
    "Slide:quote": {
        "layout": "quote",
        "title": "In a patient's words",
        "quote": {"text": "Writing it down helped me see patterns.", "attribution": "A patient"},
        "notes": "Read the quote, then say what it shows.",
    },
}
"""Examples for models and slide layouts the shipped content does not use (validated when made)."""


def _mappings(node: Any) -> Iterator[dict]:
    """Every mapping in a parsed YAML tree, in document order."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _mappings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _mappings(value)


def _fits(model: type[BaseModel], data: dict) -> bool:
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    if not required or not required <= data.keys() or not data.keys() <= model.model_fields.keys():
        return False
    try:
        model.model_validate(data)
    except ValueError:
        return False
    return True


def _shipped(root: Path) -> list[Any]:
    import yaml

    trees = []
    for folder in ("content/handouts", "content/decks", "practices"):
        for path in sorted((root / folder).rglob("*.yml")):
            if not path.name.startswith("_"):
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or data.get("language", "en") == "en":  # English examples only
                    trees.append(data)
    return trees


def _trim(data: Any, depth: int = 0) -> Any:
    """Keeps an example short: at most three items of a list, nested lists shortened too."""
    if isinstance(data, dict):
        return {k: _trim(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_trim(v, depth + 1) for v in data[:3]]
    return data


def _yaml_block(label: str, data: dict) -> list[str]:
    import yaml

    text = yaml.safe_dump(_trim(data), sort_keys=False, allow_unicode=True, width=95, default_flow_style=False)
    return ["", f"Example ({label}):", "", "```yaml", *text.rstrip().splitlines(), "```"]


def _example(model: type[BaseModel], trees: list[Any], key: str | None = None) -> list[str]:
    """A real example of `model` from the shipped content, else a validated fallback."""
    name = key or model.__name__
    layout = name.split(":", 1)[1] if ":" in name else None
    if model in {top for top, _, _ in TOP}:
        return []
    for tree in trees:
        for data in _mappings(tree):
            if (layout is None or data.get("layout") == layout) and _fits(model, data):
                return _yaml_block("from the shipped content", data)
    if name in FALLBACK_EXAMPLES:
        model.model_validate(FALLBACK_EXAMPLES[name])
        return _yaml_block("not used by the shipped content yet", FALLBACK_EXAMPLES[name])
    return []


TRANSLATIONS = """
### Translations

A translation is its own file under `content/handouts/<language>/` (or `content/decks/<language>/`)
with the same `slug`, its `language`, `translation_of:` the original's slug and
`translated_from_review:` the original's `reviewed.date` it follows. It is a whole edition:
every section, action, question, warning sign and glossary word in that language, with the
same citations. When the original is reviewed again, the check warns until the translation is
updated and its `translated_from_review` moved to the new date. A practice that lists a
language in `languages` gets a warning for each handout with no edition in it.
"""


def _translations(root: Path) -> list[str]:
    lines = TRANSLATIONS.rstrip().splitlines()
    sample = root / "content" / "handouts" / "es" / "gut-and-immune-system.yml"
    if sample.is_file():
        head = sample.read_text(encoding="utf-8").splitlines()
        end = next((i for i, line in enumerate(head) if line.startswith("translated_from_review")), 5)
        lines += ["", "Example (the first lines of `content/handouts/es/gut-and-immune-system.yml`):", ""]
        lines += ["```yaml", *head[: end + 1], "```"]
    return lines


def reference(root: Path) -> str:
    """The whole reference as Markdown, examples read from the project at `root`."""
    out = [HEADER]
    seen: set[type[BaseModel]] = set()
    trees = _shipped(root)
    for top, where, example in TOP:
        out += ["", f"## `{where}`: {top.__name__}", "", " ".join((top.__doc__ or "").split())]
        out += ["", f"A complete example: `{example}`."]
        for model in _models(top, seen):
            out += ["", f"### {model.__name__}", "", " ".join((model.__doc__ or "").split()), "", *_table(model)]
            out += _example(model, trees)
            if model is Slide:
                for layout in get_args(SlideLayout):
                    out += ["", f"#### Slide layout `{layout}`"]
                    out += _example(model, trees, f"Slide:{layout}") or ["", "(No fields beyond `layout` and `notes`.)"]
        if top is Handout:
            out += _translations(root)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    project = Path(__file__).resolve().parents[3]
    target = project / "docs" / "reference.md"
    target.write_text(reference(project), encoding="utf-8")
    print(f"wrote {target}")
