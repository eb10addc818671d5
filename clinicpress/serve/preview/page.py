"""What the preview page shows: its templates (templates/preview/) and the state they are filled from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ...errors import Finding
from ...load.i18n import language_name
from .conductor import Preview
from .messages import View
from .worker import PREVIEW_OUT

TOOL_PAGE_DIR = Path(__file__).resolve().parents[3] / "templates" / "preview"
"""The page's own templates and static files, in the tool's templates folder (beside the package)."""


def page_dirs(root: Path) -> list[Path]:
    """The page's own templates: the project's templates/preview first, then the tool's."""
    return [d for d in dict.fromkeys([root / "templates" / "preview", TOOL_PAGE_DIR]) if d.is_dir()]


class PageTemplates:
    """The page's Jinja templates, reloaded when their files change (so the page itself can be edited live)."""

    def __init__(self, root: Path):
        self.root = root
        self._env: Any = None

    def env(self):
        if self._env is None:
            import jinja2

            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader([str(d) for d in page_dirs(self.root)]),
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                auto_reload=True,
            )
            env.filters["clock"] = lambda t: dt.datetime.fromtimestamp(t).strftime("%H:%M:%S") if t else ""
            env.filters["seconds"] = lambda s: f"{s:.1f} s" if s >= 0.95 else f"{s * 1000:.0f} ms"
            env.globals["quote"] = lambda s: quote(str(s), safe="")
            env.globals["language_name"] = language_name
            self._env = env
        return self._env

    def render(self, name: str, preview: Preview, item_id: str | None) -> str:
        """Renders the page (or its fragment) for the item on screen."""
        return self.env().get_template(name).render(**snapshot(preview, item_id))


def snapshot(preview: Preview, item_id: str | None) -> dict[str, Any]:
    """Returns everything the page template needs, copied under the lock."""
    p = preview
    with p.cond:
        item = next((i for i in p.items if i.id == item_id), None)
        view = p.views.get(item_id) if item and item_id else None
        findings = (list(view.findings if view else []) + _item_findings(p, item.source_key)) if item else []
        return {
            "version": p.version,
            "practice": {"slug": p.practice, "name": p.practice_name},
            "items": list(p.items),
            "statuses": {i.id: _status(_item_findings(p, i.source_key), p.views.get(i.id)) for i in p.items},
            "item": item,
            "item_id": item_id,
            "view": view,
            "findings": findings,
            "counts": _counts(findings),
            "checked": bool(p.findings),
            "practice_findings": list(p.findings.get(f"practice:{p.practice}", [])),
            "warnings": list(p.warnings),
            "load_problems": list(p.load_problems),
            "check_problems": list(p.check_problems),
            "busy": p.busy,
            "pending": item is not None and (item.id in p.todo or p.reload_pending or p.rendering == item.id),
            "loaded": p.loaded,
            "html_url": html_url(p.practice, item.id) if item and item.kind == "handout" else None,
            "draft": item is not None and _is_draft(p, item.source_key),
        }


def state_json(preview: Preview) -> dict[str, Any]:
    """Returns the state as /api/state answers it (for the HTML view's live reload and for tests)."""
    p = preview
    with p.cond:
        return {
            "version": p.version,
            "practice": p.practice,
            "busy": p.busy,
            "load_problems": [dataclasses.asdict(x) for x in p.load_problems],
            "items": [
                {
                    "id": i.id,
                    "kind": i.kind,
                    "title": i.title,
                    "language": i.language,
                    "path": i.path,
                    "rev": p.views[i.id].rev if i.id in p.views else None,
                    "problems": [dataclasses.asdict(x) for x in p.views[i.id].problems] if i.id in p.views else [],
                }
                for i in p.items
            ],
        }


def html_url(practice: str, item_id: str) -> str:
    """Returns where the page links a handout's HTML view (under /files/, where its assets resolve)."""
    return "/files/" + quote((PREVIEW_OUT / practice / f"{item_id}.html").as_posix())


def _item_findings(p: Preview, source_key: str) -> list[Finding]:
    """An item's check findings and the practice's sign-off findings about it (a draft says so)."""
    signoff = [f for f in p.findings.get(f"signoff:{p.practice}", []) if f.data.get("item") == source_key]
    return list(p.findings.get(source_key, [])) + signoff


def _is_draft(p: Preview, source_key: str) -> bool:
    """Whether the item prints the draft mark (not approved, changed or expired approval)."""
    return any(
        f.check == "governance.signoff" or (f.check == "governance.approval_age" and f.severity == "error")
        for f in p.findings.get(f"signoff:{p.practice}", [])
        if f.data.get("item") == source_key
    )


def _status(findings: list[Finding], view: View | None) -> str:
    if view is not None and view.problems:
        return "error"
    severities = {f.severity for f in findings} | {f.severity for f in (view.findings if view else ())}
    return "error" if "error" in severities else "warning" if "warning" in severities else "ok"


def _counts(findings: list[Finding]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out
