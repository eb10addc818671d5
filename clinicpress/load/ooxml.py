"""Office packages (a deck master, a built deck) read as untrusted zips, with limits.

A .pptx/.potx is a zip of parts. One from outside can carry a zip bomb, macros, ActiveX
controls, OLE objects, or relationships that make a reader (LibreOffice drawing the slides)
fetch a URL or open a local file. `package_problems` reads every part with a cap on what it
really inflates to (sizes in the zip headers are not trusted) and returns what is wrong, part
by part; a package with problems is never handed to python-pptx or LibreOffice.

Allowed, because ClinicPress itself writes them into decks: hyperlinks to web, e-mail and
phone addresses (external relationships of the hyperlink type only), and the workbook behind
a chart (an embedded .xlsx, audited the same way, one level deep).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote

MAX_PACKAGE_BYTES = 64 * 1024 * 1024
"""Largest package file accepted, as stored (compressed)."""
MAX_PARTS = 1000
"""Most parts (zip entries) in one package."""
MAX_PART_BYTES = 32 * 1024 * 1024
"""Largest part once inflated (a full-slide photo is a few MiB)."""
MAX_TOTAL_BYTES = 128 * 1024 * 1024
"""Most bytes all parts may inflate to together (nested workbooks included)."""
MAX_RATIO = 100
"""Highest inflation ratio of a part over 1 MiB (XML packs about 10:1, a zip bomb 1000:1)."""
_RATIO_FLOOR = 1024 * 1024
_CHUNK = 64 * 1024

_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_PACKAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"
_WORKBOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LINK_SCHEMES = ("https://", "http://", "mailto:", "tel:")
_MAIN_TYPES = {
    "presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml",
    ),
    "workbook": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",),
}
_MAIN_PARTS = {"presentation": "ppt/presentation.xml", "workbook": "xl/workbook.xml"}

# What is refused, by content type, relationship type or part name (lower case).
_ACTIVE = (
    ("macroenabled", "macros"),
    ("vbaproject", "macros"),
    ("vbadata", "macros"),
    ("activex", "ActiveX controls"),
    ("oleobject", "OLE objects"),
)
_ACTIVE_RELS = {
    "/vbaproject": "macros",
    "/control": "ActiveX controls",
    "/activexcontrolbinary": "ActiveX controls",
    "/oleobject": "OLE objects",
}
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


@dataclass
class _Budget:
    """What the parts read so far have inflated to (shared with nested workbooks)."""

    total: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


class _Refused(Exception):
    """Reading stops: the package is over a limit or not a zip."""


def read_capped(path, limit: int = MAX_PACKAGE_BYTES) -> bytes:
    """Reads a file, refusing (ValueError) one larger than `limit` bytes without reading it all."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"is larger than {limit // (1024 * 1024)} MiB")
    return data


def package_problems(data: bytes, kind: str = "presentation") -> list[tuple[str, str]]:
    """Returns (part, message) for everything in an OOXML package that is unsafe or over a limit.

    `kind` is "presentation" (a .pptx or .potx) or "workbook" (a chart's .xlsx). An empty
    list means every part was read within the limits and nothing active or external is in it.
    """
    budget = _Budget()
    try:
        _audit(data, kind, budget, nested=False)
    except _Refused:
        pass
    return budget.problems


def _audit(data: bytes, kind: str, budget: _Budget, *, nested: bool) -> None:
    add = budget.problems.append
    if len(data) > MAX_PACKAGE_BYTES:
        add(("", f"is larger than {MAX_PACKAGE_BYTES // (1024 * 1024)} MiB"))
        raise _Refused
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        add(("", "is not a zip package (not a PowerPoint file)"))
        raise _Refused from None
    if len(infos) > MAX_PARTS:
        add(("", f"has {len(infos)} parts; at most {MAX_PARTS} are allowed"))
        raise _Refused
    parts: dict[str, bytes] = {}
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name.endswith("/") and info.file_size == 0:
            continue  # a folder entry some zip tools write
        why = _name_problem(name)
        if why is None and name.casefold() in seen:
            why = "appears twice in the package"
        if why is None and info.flag_bits & 0x1:
            why = "is encrypted"
        if why:
            add((name[:120], why))
            raise _Refused
        seen.add(name.casefold())
        parts[name] = _read_part(zf, info, budget)
    _check_parts(parts, kind, budget, nested=nested)


def _name_problem(name: str) -> str | None:
    if not name or len(name) > 255:
        return "has an empty or overlong part name"
    if name.startswith("/") or _BAD_NAME.search(name):
        return "has a part name with an absolute path or characters a part name may not hold"
    if any(piece in ("", ".", "..") for piece in name.split("/")):
        return "has a part name with an empty, '.' or '..' segment"
    return None


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """Inflates one part in chunks, stopping at the per-part and total caps (headers are not trusted)."""
    add = budget.problems.append
    chunks: list[bytes] = []
    size = 0
    try:
        with zf.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                budget.total += len(chunk)
                if size > MAX_PART_BYTES:
                    add((info.filename, f"inflates to more than {MAX_PART_BYTES // (1024 * 1024)} MiB"))
                    raise _Refused
                if budget.total > MAX_TOTAL_BYTES:
                    add((info.filename, f"the parts inflate to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MiB"))
                    raise _Refused
                if size > _RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
                    add((info.filename, f"inflates more than {MAX_RATIO} times (a zip bomb?)"))
                    raise _Refused
                chunks.append(chunk)
    except _Refused:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        add((info.filename, f"cannot be read ({str(exc)[:80] or type(exc).__name__})"))
        raise _Refused from None
    except Exception as exc:  # zlib.error and friends: a broken stream
        add((info.filename, f"cannot be read ({type(exc).__name__})"))
        raise _Refused from None
    return b"".join(chunks)


def _xml(data: bytes, part: str, budget: _Budget):
    """Parses an XML part with entities, DTDs and the network off; None (and a problem) if it cannot."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        budget.problems.append((part, f"is not well-formed XML ({str(exc)[:80]})"))
        return None
    if root.getroottree().docinfo.doctype:
        budget.problems.append((part, "has a DOCTYPE (entity declarations are not allowed)"))
        return None
    return root


def _content_types(parts: dict[str, bytes], budget: _Budget) -> tuple[dict[str, str], dict[str, str]] | None:
    blob = parts.get("[Content_Types].xml")
    if blob is None:
        budget.problems.append(("[Content_Types].xml", "is missing (not an Office package)"))
        return None
    root = _xml(blob, "[Content_Types].xml", budget)
    if root is None:
        return None
    defaults = {
        (e.get("Extension") or "").lower(): (e.get("ContentType") or "") for e in root.iter(f"{{{_CT_NS}}}Default")
    }
    overrides = {
        (e.get("PartName") or "").lstrip("/").casefold(): (e.get("ContentType") or "")
        for e in root.iter(f"{{{_CT_NS}}}Override")
    }
    return defaults, overrides


def _active(ctype: str) -> str | None:
    """What a content type makes active (macros, ActiveX, OLE), or None."""
    low = ctype.lower()
    return next((what for needle, what in _ACTIVE if needle in low), None)


def _check_parts(parts: dict[str, bytes], kind: str, budget: _Budget, *, nested: bool) -> None:
    add = budget.problems.append
    types = _content_types(parts, budget)
    if types is None:
        return
    defaults, overrides = types
    present = {name.casefold() for name in parts}
    for declared, ctype in overrides.items():  # a declared type counts even without its part
        what = _active(ctype)
        if what and declared not in present:
            add((declared, f"is declared with the content type {ctype}: {what} are not allowed"))
    main = overrides.get(_MAIN_PARTS[kind], "")
    if main not in _MAIN_TYPES[kind]:
        add((_MAIN_PARTS[kind], f"is missing or not a {kind} (content type {main or 'none'})"))
    for name, blob in parts.items():
        ctype = _ctype(name, defaults, overrides)
        low = f"/{name.lower()}"
        what = _active(ctype) or (
            "macros" if "vbaproject" in low or "vbadata" in low else "ActiveX controls" if "/activex/" in low else None
        )
        if what:
            add((name, f"holds {what} (content type {ctype or 'none'}); not allowed"))
        elif "/embeddings/" in low:
            if ctype != _WORKBOOK_TYPE or nested:
                add((name, "is an embedded object; only the workbook behind a chart is allowed"))
            else:
                _audit(blob, "workbook", budget, nested=True)
    rel_ids: dict[str, set[str]] = {}
    for name, blob in parts.items():
        if name.endswith(".rels"):
            rel_ids[name] = _check_rels(name, blob, budget, present)
    for name, blob in parts.items():
        ctype = _ctype(name, defaults, overrides)
        if ctype.endswith("xml") and not name.endswith(".rels") and name != "[Content_Types].xml":
            root = _xml(blob, name, budget)
            if root is not None:
                _check_references(name, root, rel_ids, budget)


def _ctype(name: str, defaults: dict[str, str], overrides: dict[str, str]) -> str:
    """A part's content type: its Override, else the Default for its extension."""
    base = name.rsplit("/", 1)[-1]
    return overrides.get(name.casefold()) or defaults.get(base.rsplit(".", 1)[-1].lower() if "." in base else "", "")


def _check_references(name: str, root, rel_ids: dict[str, set[str]], budget: _Budget) -> None:
    """Every relationship id a part uses (r:id, r:embed, ...) is defined in the part's .rels."""
    folder, _, base = name.rpartition("/")
    ids = rel_ids.get(f"{folder}/_rels/{base}.rels".lstrip("/"), set())
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith(_R_NS) and value not in ids:
                budget.problems.append(
                    (name, f"refers to relationship {value[:40]!r}, which its .rels does not define")
                )
                return


def _check_rels(name: str, blob: bytes, budget: _Budget, present: set[str]) -> set[str]:
    """Relationships: nothing active, nothing external but web/e-mail/phone hyperlinks, nothing outside the package."""
    add = budget.problems.append
    root = _xml(blob, name, budget)
    if root is None:
        return set()
    ids = {rel.get("Id") or "" for rel in root.iter(f"{{{_REL_NS}}}Relationship")}
    source_dir = posixpath.dirname(posixpath.dirname(name))  # ppt/slides/_rels/x.rels -> ppt/slides
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        rtype = (rel.get("Type") or "").lower()
        target = rel.get("Target") or ""
        for suffix, what in _ACTIVE_RELS.items():
            if rtype.endswith(suffix):
                add((name, f"links {what} ({target[:80]!r}); not allowed"))
                break
        else:
            if (rel.get("TargetMode") or "").lower() == "external":
                if rtype != _HYPERLINK.lower() or not target.lower().startswith(_LINK_SCHEMES):
                    add(
                        (
                            name,
                            f"has an external relationship to {target[:80]!r}; a package may not "
                            "refer to files or addresses outside itself (only web, e-mail and phone links)",
                        )
                    )
            else:
                if target.startswith("/"):
                    resolved = posixpath.normpath(target.lstrip("/"))
                else:
                    resolved = posixpath.normpath(posixpath.join(source_dir, target))
                if resolved.startswith("..") or re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or "\\" in target:
                    add((name, f"has a relationship that leaves the package ({target[:80]!r})"))
                elif target.split("#", 1)[0] and unquote(resolved.split("#", 1)[0]).casefold() not in present:
                    add((name, f"points at {target[:80]!r}, a part the package does not hold"))
            if rtype == _PACKAGE_REL.lower() and not target.lower().endswith(".xlsx"):
                add((name, f"embeds a package {target[:80]!r}; only chart workbooks are allowed"))
    return ids
