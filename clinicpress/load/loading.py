"""YAML and JSON files → validated models, keeping line numbers for every error.

YAML is read with PyYAML's safe loader at the node level, so every value keeps its
line and column; duplicate keys, anchors/aliases (alias bombs) and absurd nesting are
refused before anything is built. `load_model` validates with pydantic; its errors are
mapped back to the line of the offending key by `clinicpress.load.validation`.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Problem, UserError, dotted, rel
from .validation import Loc, problems_from_validation

MAX_BYTES = 512 * 1024
"""Largest content or practice file accepted; real handouts are under 40 KiB."""
MAX_DEPTH = 40
"""Deepest nesting accepted; real content nests at most about 6 levels."""

M = TypeVar("M", bound=BaseModel)


class _Positions(dict):
    """Maps a path of keys/indexes to (line, col), both 1-based."""


class _Guards:
    """Refuses aliases (no alias bombs) and limits nesting, while nodes are composed."""

    def compose_node(self, parent, index):
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


class _Loader(_Guards, yaml.SafeLoader):
    """The pure-Python safe loader with the guards; its error messages are the ones shown."""


if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(_Guards, yaml.composer.Composer, yaml.cyaml.CParser, yaml.resolver.Resolver):  # type: ignore[name-defined]
        """libyaml's parser (C) under PyYAML's composer (Python), with the same guards: the
        same nodes, marks and positions, ten times faster. Only nodes are made here; values
        come from `_construct`. A file it cannot parse is parsed again by `_Loader`, whose
        messages (and hints) are the ones users see."""

        def __init__(self, stream):
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = _Loader  # type: ignore[misc,assignment]


def read_text(path: Path, root: Path | None = None) -> str:
    """Reads a UTF-8 text file with a size limit; a byte-order mark is dropped.

    With `root`, a file that is (or links to) something outside the project is refused, as is
    anything but a regular file (a FIFO or /dev/zero would block or never end).
    """
    shown = rel(path, root)
    if root is not None:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(Path(os.path.realpath(root))):
            raise UserError(
                Problem(
                    shown,
                    message="is a link to a file outside the project folder",
                    hint="copy the file into the project instead of linking to it",
                )
            )
    try:
        st = path.stat()
    except OSError as exc:
        raise UserError(Problem(shown, message=f"cannot read file: {exc.strerror}")) from None
    if not stat.S_ISREG(st.st_mode):
        raise UserError(Problem(shown, message="is not a regular file"))
    size = st.st_size
    if size > MAX_BYTES:
        raise UserError(
            Problem(
                shown,
                message=f"file is {size // 1024} KiB; the limit is {MAX_BYTES // 1024} KiB",
                hint="split it into several handouts; real handouts are far smaller",
            )
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(Problem(shown, message=f"cannot read file: {exc.strerror}")) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            Problem(
                shown,
                line,
                message=f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                hint="save the file as UTF-8 in your editor",
            )
        ) from None
    return text


def load_yaml(path: Path, root: Path | None = None) -> tuple[Any, _Positions]:
    """Parses a YAML file into plain data plus the position of every key and value."""
    data, positions, problems = _parse_yaml(path, root)
    if problems:
        raise UserError(problems)
    return data, positions


def _parse_yaml(path: Path, root: Path | None) -> tuple[Any, _Positions, list[Problem]]:
    """Like load_yaml, but returns the problems of single values (a tag, an impossible date) with
    the data, so a model check can report them beside every other problem of the file."""
    shown = rel(path, root)
    text = read_text(path, root)
    try:
        try:
            node = yaml.compose(text, Loader=_FastLoader)
        except yaml.YAMLError:
            node = yaml.compose(text, Loader=_Loader)  # the same failure, in PyYAML's words
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or exc.context or "invalid YAML"
        hint = None
        if "\\t" in str(msg) or "'\\t'" in str(exc):
            hint = "indent with spaces, not tabs"
            msg = "a tab character is used for indentation"
        elif "aliases" in str(msg):
            hint = "write the repeated value out in full"
        elif "nesting deeper" in str(msg):
            hint = "content nests a few levels at most; check for runaway brackets or indentation"
        raise UserError(
            Problem(
                shown,
                mark.line + 1 if mark else None,
                mark.column + 1 if mark else None,
                message=f"YAML syntax error: {msg}",
                hint=hint or "check indentation and quoting near this line",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise UserError(Problem(shown, message=f"YAML error: {exc}")) from None
    except RecursionError:
        raise UserError(Problem(shown, message="nesting is too deep")) from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL and node.value in ("", "~", "null")):
        raise UserError(Problem(shown, 1, message="file is empty", hint="see content/README.md for a template"))
    positions = _Positions()
    problems: list[Problem] = []
    data = _construct(node, (), positions, problems, shown)
    return data, positions, problems


_TAG = "tag:yaml.org,2002:"
_NULL = _TAG + "null"
_PLAIN_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}


class _Bad(Exception):
    """A node that cannot become plain data; the Problem is already recorded."""


def _at(shown: str, node: yaml.Node, message: str, loc: Loc | None = None, hint: str | None = None) -> Problem:
    """A problem at a node's line and column (with the field, where `loc` is given)."""
    field = dotted(loc) or None if loc is not None else None
    return Problem(shown, node.start_mark.line + 1, node.start_mark.column + 1, field, message, hint)


def _construct(node: yaml.Node, loc: Loc, pos: _Positions, problems: list[Problem], shown: str) -> Any:
    pos.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if node.tag not in _PLAIN_TAGS:
        tag = node.tag.replace(_TAG, "!!")
        hint = "content holds plain text, numbers, dates, lists and keys only; remove the tag or quote the value"
        problems.append(_at(shown, node, f"YAML tag {tag} is not supported", loc, hint))
        return None
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, loc, pos, problems, shown)
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), pos, problems, shown) for i, item in enumerate(node.value)]
    try:
        return _scalar(node)
    except _Bad as exc:
        if node.tag == _TAG + "timestamp":
            message = f"{node.value} is not a real date ({exc})"
            hint = "write the date as YYYY-MM-DD with a real month and day, e.g. 2026-11-02"
        else:
            message, hint = f"invalid value: {exc}", "quote the value to keep it as text"
        problems.append(_at(shown, node, message, loc, hint))
        return node.value


def _mapping(node: yaml.MappingNode, loc: Loc, pos: _Positions, problems: list[Problem], shown: str) -> dict:
    """A mapping of plain keys; odd, unquotable and duplicate keys are problems at their line."""
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
            problems.append(_at(shown, key_node, "keys must be plain words"))
            continue
        try:
            key = _scalar(key_node)
        except _Bad as exc:
            problems.append(_at(shown, key_node, f"invalid key: {exc}"))
            continue
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            hint = f'quote the key: "{key_node.value}":' if key_node.value else None
            problems.append(_at(shown, key_node, f"keys must be plain words, not {key_node.value!r}", hint=hint))
            continue
        if key in out:
            first = pos.get(("__key__",) + loc + (key,), (None, None))[0]
            problems.append(
                _at(
                    shown,
                    key_node,
                    f"duplicate key (first defined on line {first})",
                    loc + (key,),
                    "remove one of the two; YAML would silently keep only the last",
                )
            )
            continue
        pos[("__key__",) + loc + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        out[key] = _construct(value_node, loc + (key,), pos, problems, shown)
        pos[loc + (key,)] = pos[("__key__",) + loc + (key,)]
    return out


_SCALARS = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.Node) -> Any:
    """Builds one plain scalar; impossible dates and huge numbers become `_Bad`."""
    try:
        return _SCALARS.construct_document(node)  # construct_document also forgets the node
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        _SCALARS.constructed_objects, _SCALARS.recursive_objects = {}, {}
        raise _Bad(str(exc).splitlines()[0]) from None


def load_model(
    path: Path, model: type[M], root: Path | None = None, *, extra: dict | None = None
) -> tuple[M, _Positions]:
    """Loads and validates one YAML file as `model`; raises UserError with every problem."""
    data, positions, problems = _parse_yaml(path, root)
    shown = rel(path, root)
    if not isinstance(data, dict):
        if problems:
            raise UserError(problems)
        names: dict[type, str] = {list: "a list", str: "a single piece of text"}
        found = names.get(type(data), type(data).__name__)
        raise UserError(
            Problem(
                shown,
                1,
                1,
                message=f"expected a mapping of keys, found {found}",
                hint=f"the file should start with keys like: {', '.join(list(model.model_fields)[:3])}",
            )
        )
    if extra:
        data = {**extra, **data}
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        # A value already reported while reading (an impossible date) is not reported twice.
        known = {p.field for p in problems if p.field}
        for problem in problems_from_validation(exc, model, positions, shown):
            if not any(problem.field and (problem.field + ".").startswith(f + ".") for f in known):
                problems.append(problem)
    if problems:
        raise UserError(sorted(problems, key=lambda p: (p.line or 0, p.col or 0)))
    return validated, positions


def load_json(path: Path, root: Path | None = None) -> Any:
    """Reads a JSON file with the size limit, reporting syntax errors with their line."""
    shown = rel(path, root)
    text = read_text(path, root)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            Problem(
                shown,
                exc.lineno,
                exc.colno,
                message=f"JSON syntax error: {exc.msg}",
                hint="check commas and quotes near this line",
            )
        ) from None
    except RecursionError:
        raise UserError(Problem(shown, 1, message="JSON nesting is too deep")) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise UserError(Problem(shown, 1, message=f"JSON value error: {exc}")) from None
