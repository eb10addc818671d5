"""PDF/UA-1 finishing: the tagging WeasyPrint leaves incomplete, fixed before the file is written."""

from __future__ import annotations

import re
from typing import Any

import pydyf


def tag_languages() -> None:
    """Every structure element made for an HTML element with its own `lang` gets that /Lang.

    WeasyPrint 70 writes the language only once, in the catalog (from `<html lang>`), and never
    on the structure elements (checked in its source, weasyprint/pdf/tags.py), so a Spanish
    notice in an English handout was read with the English voice (PDF/UA-1, Matterhorn 11-006).
    Which structure element a box became is known only while WeasyPrint builds the tree, not
    after it (the finisher below sees the finished objects only), so its tree builder is wrapped
    once per process: the element built for a box whose HTML element has a `lang` attribute gets
    /Lang; the text inside inherits it. Installed before each PDF is written; idempotent.
    """
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf import tags as wp_tags

    build = wp_tags._build_box_tree
    if getattr(build, "sets_lang", False):
        return

    def with_lang(box, parent, pdf, *args):
        real = box._box if isinstance(box, AbsolutePlaceholder) else box
        element = real.element
        lang = element.get("lang") if element is not None and not isinstance(element, str) else None
        own = (
            lang and real.element_tag not in ("html", "body") and not isinstance(real, (boxes.PageBox, boxes.MarginBox))
        )
        for made in build(box, parent, pdf, *args):
            if own and isinstance(made, pydyf.Dictionary) and "Lang" not in made:
                made["Lang"] = pydyf.String(lang)
            yield made

    with_lang.sets_lang = True  # type: ignore[attr-defined]
    wp_tags._build_box_tree = with_lang


def finish_tags(document: Any, pdf: Any, *, t=None) -> None:
    """Completes WeasyPrint's tagging for PDF/UA-1 before the file is written.

    - Content of page-margin boxes (the running footer and page numbers) is tagged by
      WeasyPrint but left out of the structure tree; it becomes /Artifact (pagination).
    - Figures without alternative text (decorative images) become artifacts too.
    - Header cells get a /Scope (Column in the table head, Row in the body).
    - Pages with links get /Tabs /S; citation links get a readable /Contents.
    """
    objects = pdf.objects
    catalog = pdf.catalog
    if "StructTreeRoot" not in catalog:
        return
    tree = _deref(objects, catalog["StructTreeRoot"])
    _drop_decorative_figures(objects)
    reachable = _reachable(objects, tree)
    _scope_header_cells(objects, reachable)
    nums = _deref(objects, tree["ParentTree"])["Nums"]
    for index, page in enumerate(_pages(pdf)):
        _mark_orphans_as_artifacts(objects, page, nums[2 * index + 1], reachable)
        _label_links(objects, page, t)


def _deref(objects: list, value: Any) -> Any:
    """Returns the object an indirect reference ("12 0 R") points to; any other value as it is."""
    if isinstance(value, (bytes, str)):
        m = re.fullmatch(rb"(\d+) 0 R", value if isinstance(value, bytes) else value.encode())
        if m:
            return objects[int(m.group(1))]
    return value


def _number(objects: list, value: Any) -> int | None:
    """Returns the object number `value` refers to, or None if it is not an object."""
    obj = _deref(objects, value)
    return getattr(obj, "number", None)


def _pages(pdf: Any) -> list:
    """Returns the page objects in order (Kids holds each page as three items: number 0 R)."""
    kids = pdf.pages["Kids"]
    return [pdf.objects[kids[i]] for i in range(0, len(kids), 3)]


def _drop_decorative_figures(objects: list) -> None:
    """Decorative figures: drop them from their parents so they become artifacts below."""
    for obj in objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("S") == "/Figure" and "Alt" not in obj:
            parent = _deref(objects, obj.get("P"))
            if isinstance(parent, pydyf.Dictionary) and "K" in parent:
                ref = obj.reference
                parent["K"] = pydyf.Array([k for k in parent["K"] if k != ref])


def _reachable(objects: list, tree: Any) -> set[int]:
    """Returns the numbers of the structure elements reachable from the root."""
    reachable: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        kids = node.get("K") if isinstance(node, pydyf.Dictionary) else None
        if kids is None:
            continue
        for kid in kids if isinstance(kids, list) else [kids]:
            child = _deref(objects, kid)
            if isinstance(child, pydyf.Dictionary) and child.number not in reachable:
                reachable.add(child.number)
                stack.append(child)
    return reachable


def _scope_header_cells(objects: list, reachable: set[int]) -> None:
    """Header cells: /Scope from their row group (Row in the table body, else Column)."""
    for obj in objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("S") == "/TH" and obj.number in reachable:
            group = _deref(objects, _deref(objects, obj.get("P")).get("P"))
            scope = "/Row" if isinstance(group, pydyf.Dictionary) and group.get("S") == "/TBody" else "/Column"
            attributes = obj.get("A")
            if isinstance(attributes, pydyf.Dictionary):
                attributes["Scope"] = scope


def _mark_orphans_as_artifacts(objects: list, page: Any, mcid_refs: list, reachable: set[int]) -> None:
    """Marked content of unreachable elements on one page → pagination artifacts."""
    orphans = {mcid for mcid, ref in enumerate(mcid_refs) if _number(objects, ref) not in reachable}
    if not orphans:
        return
    ops = _deref(objects, page["Contents"]).stream
    done = set()
    for i, op in enumerate(ops):
        if (
            isinstance(op, pydyf.Dictionary)
            and op.get("MCID") in orphans
            and i >= 1
            and i + 1 < len(ops)
            and ops[i + 1] == b"BDC"
        ):
            ops[i - 1] = "/Artifact"
            ops[i] = pydyf.Dictionary({"Type": "/Pagination", "Subtype": "/Footer"})
            done.add(op["MCID"])
    for mcid in done:
        mcid_refs[mcid] = "null"


def _label_links(objects: list, page: Any, t) -> None:
    """A page with links gets /Tabs /S; each citation link gets a readable /Contents ("Reference 3")."""
    annots = page.get("Annots")
    if not annots:
        return
    page["Tabs"] = "/S"
    for ref in annots:
        annot = _deref(objects, ref)
        contents = annot.get("Contents") if isinstance(annot, pydyf.Dictionary) else None
        if contents is not None and "Dest" in annot:
            m = re.fullmatch(r"ref-(\d+)", str(getattr(contents, "string", "")))
            if m and t is not None:
                annot["Contents"] = pydyf.String(t.fmt("reference_link", n=m.group(1)))
