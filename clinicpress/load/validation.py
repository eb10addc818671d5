"""Pydantic validation errors → Problems located at the line of the offending key, with hints.

A misspelled key gets "did you mean"; a value in a union (a bullet that is text or a
mapping) reports the branch that came closest rather than every alternative.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem, dotted

Loc = tuple[Any, ...]


def _model_at(model: type[BaseModel], loc: Loc) -> list[type[BaseModel]]:
    """Returns the model classes that can stand at `loc` inside `model`."""
    current: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            for t in _unwrap(tp):
                if isinstance(part, int):
                    if typing.get_origin(t) in (list, tuple):
                        nxt.extend(typing.get_args(t)[:1])
                elif isinstance(t, type) and issubclass(t, BaseModel) and part in t.model_fields:
                    nxt.append(t.model_fields[part].annotation)
        current = nxt
    return [t for tp in current for t in _unwrap(tp) if isinstance(t, type) and issubclass(t, BaseModel)]


def _unwrap(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [x for a in typing.get_args(tp) for x in _unwrap(a)]
    return [tp]


def problems_from_validation(
    exc: ValidationError, model: type[BaseModel], positions: dict, shown: str
) -> list[Problem]:
    """Turns pydantic errors into located Problems with hints."""
    problems: list[Problem] = []
    for err in _best_branches([dict(e) for e in exc.errors(include_url=False)], model):
        clean = _clean_loc(model, tuple(err["loc"]), _names_key(err))
        line, col = _position_for(clean, positions)
        hint = None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            parents = _model_at(model, clean[:-1])
            allowed = sorted({f for m in parents for f in m.model_fields})
            close = difflib.get_close_matches(str(clean[-1]), allowed, n=1)
            msg = "unknown key"
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        elif err["type"] == "missing":
            parents = _model_at(model, clean[:-1])
            doc = next(
                (
                    m.model_fields[clean[-1]].description
                    for m in parents
                    if clean[-1] in m.model_fields and m.model_fields[clean[-1]].description
                ),
                None,
            )
            msg = "required field is missing"
            hint = doc
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
            hint = _field_doc(model, clean)  # what the field takes (e.g. a language tag's examples)
        else:
            msg, hint = _in_our_words(err, _field_doc(model, clean)) or (msg, hint)
        problems.append(Problem(shown, line, col, dotted(clean) or None, msg, hint))
    return _dedupe(problems)


def _field_doc(model: type[BaseModel], loc: Loc) -> str | None:
    """The docstring of the field at `loc` (for list items, the list's field)."""
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    at = loc[: max(i for i, part in enumerate(loc) if isinstance(part, str))]
    for parent in _model_at(model, at):
        info = parent.model_fields.get(keys[-1])
        if info is not None and info.description:
            return " ".join(info.description.split())
    return None


def _found(value: Any) -> str:
    """What the writer gave, in words."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "keys and values"
    if isinstance(value, bool):
        return f"yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"{str(value)!r}"


def _in_our_words(err: dict, doc: str | None) -> tuple[str, str | None] | None:
    """ClinicPress's own message and hint for a pydantic error, or None to keep pydantic's."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    about = f" (this field: {doc})" if doc else ""
    if kind == "string_type":
        if isinstance(value, dict) and len(value) == 1:
            key, val = next(iter(value.items()))
            text = f"{key}: {val}"
            return (
                f"found {text!r} read as a key and a value, because of the colon",
                f'put the whole text in quotes: "{text}"',
            )
        if isinstance(value, list):
            return (
                "found a list where one piece of text is expected",
                "write it as one text; use >- to spread it over lines" + about,
            )
        return f"found {_found(value)} where text is expected", f"quote it if it is meant as text{about}"
    if kind == "string_too_short":
        if value == "":
            return "is empty", "write the text" + about
        return f"is too short: at least {ctx.get('min_length')} characters", doc or "write a little more"
    if kind in ("too_short", "list_type") and isinstance(value, list) and not value:
        return "is an empty list", "give at least one item" + about
    if kind == "list_type":
        return (
            f"found {_found(value)} where a list is expected",
            "write each item on its own line starting with '- '" + about,
        )
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"found {_found(value)} where keys and values are expected", "indent the keys under this one" + about
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{_found(value)} is not a date", "write the date as YYYY-MM-DD, e.g. 2026-11-02"
    if kind == "literal_error":
        options = [o.strip(" '") for o in str(ctx.get("expected", "")).replace(" or ", ",").split(",") if o.strip()]
        close = difflib.get_close_matches(str(value).lower(), options, n=1)
        hint = f"did you mean '{close[0]}'?" if close else (doc or "use one of the values listed")
        return f"{_found(value)} is not one of: {', '.join(options)}", hint
    if kind == "string_pattern_mismatch":
        return f"{_found(value)} does not have the expected form", doc or f"it must match {ctx.get('pattern')}"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type"):
        return f"found {_found(value)} where a number is expected", doc or "write a number, e.g. 12"
    if kind in ("bool_parsing", "bool_type"):
        return f"found {_found(value)} where true or false is expected", doc or "write true or false"
    return None


_TYPE_TAGS = {"str", "int", "float", "bool", "date", "dict", "list"}


def _tag_positions(model: type[BaseModel], loc: Loc, keep_last: bool = False) -> list[int]:
    """Indexes of pydantic's union-member tags in an error loc (`keep_last`: the last part is a key)."""
    out, clean = [], []
    for i, part in enumerate(loc):
        if keep_last and i == len(loc) - 1:
            clean.append(part)
        elif _is_union_tag(part) and not any(part in m.model_fields for m in _model_at(model, tuple(clean))):
            out.append(i)
        else:
            clean.append(part)
    return out


def _best_branches(errors: list[dict], model: type[BaseModel]) -> list[dict]:
    """Keeps, for each union, only the errors of the member that matched furthest.

    A value that fits no member of a union gets errors from every member; the member whose
    errors go deepest is the one the writer meant (ties keep every tied member).
    """
    errors = [dict(e, loc=tuple(e["loc"]), _tags=_tag_positions(model, tuple(e["loc"]), _names_key(e))) for e in errors]
    for level in sorted({i for e in errors for i in e["_tags"]}):
        groups: dict[Loc, dict[Any, list[dict]]] = {}
        for e in errors:
            if level in e["_tags"]:
                groups.setdefault(e["loc"][:level], {}).setdefault(e["loc"][level], []).append(e)
        drop: set[int] = set()
        for branches in groups.values():
            if len(branches) < 2:
                continue
            depth = {b: max(len(e["loc"]) for e in es) for b, es in branches.items()}
            deepest = max(depth.values())
            drop.update(id(e) for b, es in branches.items() if depth[b] < deepest for e in es)
        errors = [e for e in errors if id(e) not in drop]
    return errors


def _names_key(err: dict) -> bool:
    """True when the last part of an error's loc is a key the writer typed (never a union tag)."""
    return err["type"] in ("extra_forbidden", "missing")


def _clean_loc(model: type[BaseModel], loc: Loc, keep_last: bool = False) -> Loc:
    """Drops pydantic's union-member tags from an error loc, keeping real field names.

    A field may be called like a tag (`reviewed.date`), so a part is dropped only when no
    model at that position has a field of that name.
    """
    drop = set(_tag_positions(model, loc, keep_last))
    return tuple(part for i, part in enumerate(loc) if i not in drop)


def _is_union_tag(part: Any) -> bool:
    """True for the type tags pydantic puts in an error's loc for union members."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or part[:1].isupper())


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple] = set()
    out = []
    for p in problems:
        key = (p.line, p.field, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _position_for(loc: Loc, positions: dict) -> tuple[int | None, int | None]:
    for n in range(len(loc), -1, -1):
        key = loc[:n]
        if key in positions:
            return positions[key]
    return None, None
