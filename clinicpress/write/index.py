"""output/index.html: every output per practice, with a page-one thumbnail, check status and links.

Thumbnails are small PNGs under output/<practice>/thumbs/, made with pypdfium2 from the
PDF's first page; a deck's first slide is drawn the same way after LibreOffice (`soffice`)
turns the PPTX into a PDF, when it is installed (otherwise the deck gets a plain card).
A thumbnail is remade only when what it shows changes (the manifest records the sha256 it
was made from: a PDF's bytes; a deck's slide one, `pptx_adapter.slide_one_digest`, so an
edit to a later slide does not start LibreOffice). The page is one self-contained file
(inline CSS, no scripts), built only from the manifest, so the same manifest always gives
the same bytes.
"""

from __future__ import annotations

import html
import os
from urllib.parse import quote


def language_name(tag: str) -> str:
    """A language's name for itself (Babel), capitalised: English, Español, Tiếng Việt, العربية."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return tag
    name = locale.get_display_name(locale) or tag
    return name[:1].upper() + name[1:]


KIND_NAMES = {"handout": "Handout", "deck": "Talk deck"}
VARIANT_NAMES = {"standard": "", "large-print": "Large print", "print-shop": "Print shop (bleed and crop marks)"}


def thumb_path(output: str) -> str:
    """Returns where the thumbnail of an output (relative path) lives: <practice>/thumbs/<stem>.png."""
    practice, name = output.split("/", 1)
    stem = name.rsplit(".", 1)[0]
    return f"{practice}/thumbs/{stem}.png"


# --------------------------------------------------------------------------- the page
def render_index(manifest: dict) -> str:
    """Returns the HTML of output/index.html for a manifest (deterministic)."""
    outputs: dict = manifest.get("outputs", {})
    practices: dict = manifest.get("practices", {})
    jobs = _jobs(outputs)
    by_practice: dict[str, list[dict]] = {}
    for job in jobs.values():
        by_practice.setdefault(job["entry"]["practice"], []).append(job)
    parts = [_HEAD, _header(jobs, by_practice, practices), "</header>\n<main>\n", _unbuilt(manifest, outputs)]
    if not jobs:
        parts.append("<p>No outputs yet. Run <code>python build.py</code>.</p>\n")
    for slug in sorted(by_practice):
        parts.append(_practice(slug, practices.get(slug, {}).get("name", slug), by_practice[slug]))
    parts.append(
        "</main>\n<footer><p>Made by ClinicPress from output/manifest.json. "
        "Status comes from the quality checks; see output/report.json for details.</p></footer>\n"
        "</body>\n</html>\n"
    )
    return "".join(parts)


LINK_LABELS = {"pdf": "PDF", "html": "HTML", "pptx": "PPTX", "slides-pdf": "Slides with notes (PDF)"}
"""The links of a document's card, by format, in this order."""


def _jobs(outputs: dict) -> dict[str, dict]:
    """Groups the outputs by document: {job key: {"files": {format: path}, "entry": main entry}}."""
    jobs: dict[str, dict] = {}
    for path, entry in sorted(outputs.items()):
        job = jobs.setdefault(entry.get("job", path), {"files": {}, "entry": entry})
        job["files"][entry["format"]] = path
        if entry["format"] in ("pdf", "pptx"):
            job["entry"] = entry
    return jobs


def _header(jobs: dict, by_practice: dict, practices: dict) -> str:
    """The page title, the status counts and the list of practices."""
    e = _e
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for job in jobs.values():
        counts[job["entry"].get("status", "pass")] = counts.get(job["entry"].get("status", "pass"), 0) + 1
    parts = [
        '<header class="top">\n<h1>ClinicPress outputs</h1>\n',
        f'<p class="summary">{len(jobs)} document{"s" if len(jobs) != 1 else ""} for '
        f"{len(by_practice)} practice{'s' if len(by_practice) != 1 else ''}: "
        f"{counts['pass']} pass, {counts['warn']} with warnings, {counts['fail']} failing checks.</p>\n",
    ]
    if by_practice:
        parts.append('<nav aria-label="Practices"><ul class="toc">\n')
        for slug in sorted(by_practice):
            name = practices.get(slug, {}).get("name", slug)
            parts.append(f'<li><a href="#{e(slug)}">{e(name)}</a></li>\n')
        parts.append("</ul></nav>\n")
    return "".join(parts)


def _unbuilt(manifest: dict, outputs: dict) -> str:
    """The items that failed their checks and have no output at all, with the first error."""
    e = _e
    built = {entry.get("item") for entry in outputs.values()}
    unbuilt = [
        (key, item)
        for key, item in sorted(manifest.get("items", {}).items())
        if item.get("status") == "fail" and item.get("kind") in ("handout", "deck") and key not in built
    ]
    if not unbuilt:
        return ""
    parts = [
        '<section class="unbuilt" aria-labelledby="unbuilt-h">\n'
        '<h2 id="unbuilt-h">Not built: failing checks</h2>\n<ul>\n'
    ]
    for key, item in unbuilt:
        first: dict = next((f for f in item.get("findings", []) if f.get("severity") == "error"), {})
        where = first.get("path", item.get("source", "")) + (f":{first['line']}" if first.get("line") else "")
        parts.append(
            f"<li><strong>{e(item.get('title') or key)}</strong> ({e(item.get('language', ''))}): "
            f'{e(first.get("message", "fails checks"))} <span class="where">{e(where)}</span></li>\n'
        )
    parts.append("</ul>\n</section>\n")
    return "".join(parts)


def _practice(slug: str, name: str, group: list[dict]) -> str:
    """One practice's section: its documents as cards, by language."""
    e = _e
    parts = [
        f'<section class="practice" id="{e(slug)}" aria-labelledby="{e(slug)}-h">\n',
        f'<h2 id="{e(slug)}-h">{e(name)}</h2>\n',
    ]
    languages = sorted({j["entry"].get("language", "en") for j in group}, key=lambda x: (x != "en", x))
    for lang in languages:
        items = sorted(
            (j for j in group if j["entry"].get("language", "en") == lang),
            key=lambda j: (
                j["entry"].get("kind", ""),
                j["entry"].get("title", "").casefold(),
                j["entry"].get("variant", ""),
            ),
        )
        heading = None
        if len(languages) > 1:
            heading = f"{slug}-{lang}"
            parts.append(f'<h3 id="{e(heading)}">{e(language_name(lang))}</h3>\n')
        label = f' aria-labelledby="{e(heading)}"' if heading else ""
        parts.append(f'<ul class="cards"{label}>\n')
        parts.extend(_card(job, name) for job in items)
        parts.append("</ul>\n")
    parts.append("</section>\n")
    return "".join(parts)


def _card(job: dict, practice: str) -> str:
    e = _e
    entry = job["entry"]
    files = job["files"]
    title = entry.get("title") or entry.get("job", "")
    kind = entry.get("kind", "handout")
    status = entry.get("status", "pass")
    findings = entry.get("findings", [])
    errors = sum(1 for f in findings if f.get("severity") == "error")
    warnings = sum(1 for f in findings if f.get("severity") == "warning")
    cid = "c-" + entry.get("job", title).replace("/", "--")
    meta = [KIND_NAMES.get(kind, kind)]
    if entry.get("pages"):
        meta.append(f"{entry['pages']} page{'s' if entry['pages'] != 1 else ''}")
    if entry.get("slides"):
        meta.append(f"{entry['slides']} slides")
    if VARIANT_NAMES.get(entry.get("variant", "standard"), entry.get("variant")):
        meta.append(VARIANT_NAMES.get(entry["variant"], entry["variant"]))
    main_file = files.get("pdf") or files.get("pptx") or next(iter(files.values()))
    thumb = (entry.get("thumbnail") or {}).get("path")
    out = [f'<li class="card status-{e(status)}"><article aria-labelledby="{e(cid)}">\n']
    if thumb:
        shape = "slide" if kind == "deck" else "page"
        out.append(
            f'<a class="thumb {shape}" href="{_href(main_file)}" tabindex="-1" aria-hidden="true">'
            f'<img src="{_href(thumb)}" alt="" loading="lazy"></a>\n'
        )
    else:
        out.append(
            f'<div class="thumb plain {"slide" if kind == "deck" else "page"}" aria-hidden="true">'
            f"<span>{e(title)}</span></div>\n"
        )
    out.append(f'<h4 id="{e(cid)}">{e(title)}</h4>\n')
    out.append(f'<p class="meta">{e(" · ".join(meta))}</p>\n')
    icon, text = _status_line(status, errors, warnings)
    out.append(f'<p class="status"><span class="icon" aria-hidden="true">{icon}</span> {e(text)}</p>\n')
    signoff = entry.get("signoff")
    if isinstance(signoff, dict):
        out.append(_signoff_line(signoff, practice))
    if entry.get("stale"):
        out.append(
            '<p class="stale">This file is from an earlier build: the current source has errors, '
            "so it was not rebuilt.</p>\n"
        )
    links = []
    for fmt, label in LINK_LABELS.items():
        if fmt in files:
            links.append(f'<a href="{_href(files[fmt])}">{label}<span class="vh"> of {e(title)}</span></a>')
    out.append(f'<p class="links">{" ".join(links)}</p>\n')
    if findings:
        out.append(_details(findings, errors, warnings))
    out.append("</article></li>\n")
    return "".join(out)


def _signoff_line(signoff: dict, practice: str) -> str:
    """What the document prints about the practice's sign-off: who approved it, or that it is a draft."""
    e = _e
    if signoff.get("approved"):
        return f'<p class="signoff">Reviewed {e(signoff.get("date"))} by {e(signoff.get("by"))}</p>\n'
    why = f' <span class="why">({e(signoff["reason"])})</span>' if signoff.get("reason") else ""
    return f'<p class="signoff draft"><strong>Draft — not yet approved by {e(practice)}</strong>{why}</p>\n'


def _status_line(status: str, errors: int, warnings: int) -> tuple[str, str]:
    """The icon and words of a card's check status."""
    if status == "fail":
        text = f"Fails checks: {errors} error{'s' if errors != 1 else ''}"
        if warnings:
            text += f", {warnings} warning{'s' if warnings != 1 else ''}"
        return "✕", text
    if status == "warn":
        return "!", f"{warnings} warning{'s' if warnings != 1 else ''}"
    return "✓", "Passes checks"


def _details(findings: list[dict], errors: int, warnings: int) -> str:
    """A card's folded list of findings, each with its file and line."""
    e = _e
    notes = len(findings) - errors - warnings
    label = ", ".join(
        f"{n} {word}{'s' if n != 1 else ''}"
        for n, word in ((errors, "error"), (warnings, "warning"), (notes, "note"))
        if n
    )
    out = [f'<details><summary>Check details: {e(label)}</summary>\n<ul class="findings">\n']
    for f in findings:
        where = f.get("path", "") + (f":{f['line']}" if f.get("line") else "")
        out.append(
            f'<li class="sev-{e(f.get("severity", "info"))}"><strong>{e(f.get("severity", ""))}</strong> '
            f"{e(f.get('message', ''))}" + (f' <span class="where">{e(where)}</span>' if where else "") + "</li>\n"
        )
    out.append("</ul></details>\n")
    return "".join(out)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _href(path: str) -> str:
    return html.escape(quote(path.replace(os.sep, "/")), quote=True)


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ClinicPress">
<title>ClinicPress outputs</title>
<style>
:root { color-scheme: light; --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --bg: #f5f7fa;
  --accent: #1d4e89; --pass: #1b5e20; --pass-bg: #e8f5e9; --warn: #6d4200; --warn-bg: #fff4dc;
  --fail: #a4231b; --fail-bg: #fdecea; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Atkinson Hyperlegible", sans-serif;
  color: var(--ink); background: var(--bg); }
.top, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1.25rem; }
.top { padding-top: 1.5rem; }
h1 { font-size: 1.75rem; margin: 0 0 .25rem; }
h2 { font-size: 1.4rem; margin: 2rem 0 .75rem; padding-bottom: .25rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; color: var(--muted); }
h4 { font-size: 1rem; margin: .5rem 0 .25rem; line-height: 1.3; }
.summary { color: var(--muted); margin: 0 0 .75rem; }
.toc { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .5rem 1rem; }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(13.5rem, 1fr)); }
.card article { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: .75rem;
  height: 100%; display: flex; flex-direction: column; }
.card.status-fail article { border-color: var(--fail); }
.thumb { display: flex; align-items: center; justify-content: center; background: #eef2f7;
  border-radius: .25rem; overflow: hidden; aspect-ratio: 8.5 / 11; }
.thumb.slide { aspect-ratio: 16 / 9; }
.thumb img { width: 100%; height: 100%; object-fit: contain; display: block; }
.thumb.plain { background: var(--accent); color: #fff; padding: 1rem; text-align: center; font-weight: 600; }
.meta { color: var(--muted); font-size: .875rem; margin: 0 0 .5rem; }
.status { display: inline-block; align-self: flex-start; margin: 0 0 .5rem; padding: .1rem .5rem;
  border-radius: 1rem; font-size: .875rem; font-weight: 600; }
.status-pass .status { color: var(--pass); background: var(--pass-bg); }
.status-warn .status { color: var(--warn); background: var(--warn-bg); }
.status-fail .status { color: var(--fail); background: var(--fail-bg); }
.unbuilt { background: var(--fail-bg); border: 1px solid var(--fail); border-radius: .5rem; padding: 0 1rem;
  margin-top: 1.5rem; }
.unbuilt h2 { border: 0; color: var(--fail); margin-top: 1rem; }
.stale { font-size: .875rem; color: var(--fail); margin: 0 0 .5rem; }
.signoff { font-size: .875rem; margin: 0 0 .5rem; }
.signoff.draft { color: var(--fail); }
.links { margin: auto 0 0; display: flex; gap: .75rem; font-weight: 600; }
details { margin-top: .5rem; font-size: .875rem; }
summary { cursor: pointer; color: var(--accent); }
.findings { padding-left: 1.1rem; margin: .25rem 0 0; }
.findings li { margin: .2rem 0; }
.where { color: var(--muted); font-family: ui-monospace, monospace; font-size: .8rem; word-break: break-all; }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { color: var(--muted); font-size: .875rem; padding-bottom: 2rem; margin-top: 2rem; }
@media print { body { background: #fff; } .thumb { display: none; } }
</style>
</head>
<body>
"""
