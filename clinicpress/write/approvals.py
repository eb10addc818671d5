"""Writes a practice's approvals.yml: one approval recorded, everything else kept as it was.

The file is read and written with ruamel.yaml's round-trip mode, so comments, key order and
the other entries stay exactly as a person left them; the new text is written atomically
(temp file, fsync, rename), so an interrupted `approve` never leaves half a file.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from ..load.approvals import APPROVALS_FILE
from .store import write_atomic

HEADER = """\
# Sign-off record of {name}: who at the practice approved which handout and deck text, and when.
# Written by `python build.py approve --practice {slug} ITEM --by "Name, credentials"`; read it,
# diff it and review it, but do not edit entries by hand (the fingerprint must match the text).
# A handout prints "Reviewed DATE by NAME" only while its text is the one approved here;
# otherwise it prints "Draft — not yet approved by {name}".
"""


def record_approvals(folder: Path, practice_name: str, entries: list[dict]) -> Path:
    """Adds or replaces the approvals in `entries` (slug, language, by, date, fingerprint,
    source, text) in `folder`/approvals.yml; returns the file's path."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import LiteralScalarString

    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *args: True  # the loader refuses anchors (alias bombs)
    path = folder / APPROVALS_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER.format(name=practice_name, slug=folder.name)
    data = yaml.load(text)
    prefix = ""
    if data is None:  # a new file, or one with comments only: they stay on top
        prefix, data = text if text.endswith("\n") or not text else text + "\n", CommentedMap()
    for entry in entries:
        by_language = data.get(entry["slug"])
        if by_language is None:
            by_language = data[entry["slug"]] = CommentedMap()
        approval = CommentedMap()
        approval["by"] = entry["by"]
        approval["date"] = entry["date"] if isinstance(entry["date"], dt.date) else dt.date.fromisoformat(entry["date"])
        approval["fingerprint"] = entry["fingerprint"]
        if entry.get("source"):
            approval["source"] = entry["source"]
        approval["text"] = LiteralScalarString(entry["text"] + "\n")
        by_language[entry["language"]] = approval
    out = io.StringIO()
    yaml.dump(data, out)
    write_atomic(path, (prefix + out.getvalue()).encode("utf-8"))
    return path
