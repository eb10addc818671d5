"""YAML and JSON files → validated models, keeping line numbers for every error.

YAML is read with PyYAML's safe loader at the node level, so every value keeps its
line and column; duplicate keys, anchors/aliases (alias bombs) and absurd nesting are
refused before anything is built. Pydantic validation errors are mapped back to the line
of the offending key, with a "did you mean" for misspelled keys.
"""
from __future__ import annotations

import difflib
import json
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import Problem, UserError, rel

MAX_BYTES = 512 * 1024
"""Largest content or practice file accepted; real handouts are under 40 KiB."""
MAX_DEPTH = 40
"""Deepest nesting accepted; real content nests at most about 6 levels."""

M = TypeVar("M", bound=BaseModel)
Loc = tuple[Any, ...]


class _Positions(dict):
    """Maps a path of keys/indexes to (line, col), both 1-based."""


class _Loader(yaml.SafeLoader):
    """Safe loader that refuses aliases (no alias bombs) and limits nesting."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "anchors and aliases (*name) are not supported in content files", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_text(path: Path, root: Path | None = None) -> str:
    """Reads a UTF-8 text file with a size limit; a byte-order mark is dropped."""
    shown = rel(path, root)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UserError(Problem(shown, message=f"cannot read file: {exc.strerror}")) from None
    if size > MAX_BYTES:
        raise UserError(
            Problem(
                shown,
                message=f"file is {size // 1024} KiB; the limit is {MAX_BYTES // 1024} KiB",
                hint="split it into several handouts; real handouts are far smaller",
            )
        )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            Problem(shown, line, message=f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                    hint="save the file as UTF-8 in your editor")
        ) from None
    return text


def load_yaml(path: Path, root: Path | None = None) -> tuple[Any, _Positions]:
    """Parses a YAML file into plain data plus the position of every key and value."""
    shown = rel(path, root)
    text = read_text(path, root)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or exc.context or "invalid YAML"
        hint = None
        if "\\t" in str(msg) or "'\\t'" in str(exc):
            hint = "indent with spaces, not tabs"
            msg = "a tab character is used for indentation"
        raise UserError(
            Problem(shown, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                    message=f"YAML syntax error: {msg}", hint=hint or "check indentation and quoting near this line")
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(Problem(shown, message=f"YAML error: {exc}")) from None
    except RecursionError:
        raise UserError(Problem(shown, message="nesting is too deep")) from None
    if node is None:
        raise UserError(Problem(shown, 1, message="file is empty", hint="see content/README.md for a template"))
    positions = _Positions()
    problems: list[Problem] = []
    data = _construct(node, (), positions, problems, shown)
    if problems:
        raise UserError(problems)
    return data, positions


def _construct(node: yaml.Node, loc: Loc, pos: _Positions, problems: list[Problem], shown: str) -> Any:
    pos.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader.construct_object(_Loader(""), key_node) if not isinstance(
                key_node, yaml.ScalarNode) else _scalar(key_node)
            if not isinstance(key, (str, int)):
                problems.append(Problem(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        message="keys must be plain words"))
                continue
            if key in out:
                first = pos.get(("__key__",) + loc + (key,), (None, None))[0]
                problems.append(Problem(shown, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                                        _dotted(loc + (key,)), f"duplicate key (first defined on line {first})",
                                        hint="remove one of the two; YAML would silently keep only the last"))
                continue
            pos[("__key__",) + loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(value_node, loc + (key,), pos, problems, shown)
            pos[loc + (key,)] = pos[("__key__",) + loc + (key,)]
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), pos, problems, shown) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


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


def problems_from_validation(exc: ValidationError, model: type[BaseModel], positions: _Positions,
                             shown: str) -> list[Problem]:
    """Turns pydantic errors into located Problems with hints."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        clean = tuple(p for p in loc if not _is_union_tag(p))
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
            doc = next((m.model_fields[clean[-1]].description for m in parents
                        if clean[-1] in m.model_fields and m.model_fields[clean[-1]].description), None)
            msg = "required field is missing"
            hint = doc
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        problems.append(Problem(shown, line, col, _dotted(clean) or None, msg, hint))
    return _dedupe(problems)


_TYPE_TAGS = {"str", "int", "float", "bool", "date", "dict", "list"}


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


def _position_for(loc: Loc, positions: _Positions) -> tuple[int | None, int | None]:
    for n in range(len(loc), -1, -1):
        key = loc[:n]
        if key in positions:
            return positions[key]
    return None, None


def load_model(path: Path, model: type[M], root: Path | None = None, *, extra: dict | None = None) -> tuple[M, _Positions]:
    """Loads and validates one YAML file as `model`; raises UserError with every problem."""
    data, positions = load_yaml(path, root)
    shown = rel(path, root)
    if not isinstance(data, dict):
        raise UserError(Problem(shown, 1, 1, message=f"expected a mapping of keys, found {type(data).__name__}",
                                hint=f"the file should start with keys like: {', '.join(list(model.model_fields)[:3])}"))
    if extra:
        data = {**extra, **data}
    try:
        return model.model_validate(data), positions
    except ValidationError as exc:
        raise UserError(problems_from_validation(exc, model, positions, shown)) from None


def load_json(path: Path, root: Path | None = None) -> Any:
    """Reads a JSON file with the size limit, reporting syntax errors with their line."""
    shown = rel(path, root)
    text = read_text(path, root)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(Problem(shown, exc.lineno, exc.colno, message=f"JSON syntax error: {exc.msg}",
                                hint="check commas and quotes near this line")) from None
