"""The package as a whole: opening a .potx, emptying a template, file properties, same bytes."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.packuri import PackURI
from pptx.oxml.ns import qn
from pptx.package import _ImageParts
from pptx.parts.image import Image, ImagePart

from ...load.ooxml import package_problems, read_capped
from .oxml import P14_SECTIONS, PRESENTATION_MAIN, TEMPLATE_MAIN, THUMBNAIL_RT, xml_escape


def open_presentation(path: Path):
    """Opens a .pptx or .potx (a .potx gets the presentation content type, python-pptx #1070).

    The bytes python-pptx gets are the bytes audited here (`load.ooxml`): a package over a
    limit or with macros, controls, OLE objects or external links raises ValueError saying why.
    """
    data = read_capped(path)
    problems = package_problems(data)
    if problems:
        part, why = problems[0]
        raise ValueError((f"part {part}: " if part else "") + why)
    if path.suffix.lower() == ".potx":
        data = _retype_template(data)
    return Presentation(io.BytesIO(data))


def _retype_template(data: bytes) -> bytes:
    return swap_main_content_type(data, TEMPLATE_MAIN, PRESENTATION_MAIN)


def swap_main_content_type(data: bytes, old: str, new: str) -> bytes:
    """Rewrites the main part's content type in [Content_Types].xml (.potx <-> .pptx, #1070)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            blob = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                blob = blob.replace(old.encode(), new.encode())
            dst.writestr(info, blob)
    return out.getvalue()


def first_slide_only(pptx: bytes) -> bytes:
    """The deck with its first slide only (what a thumbnail shows): LibreOffice draws it in a
    fraction of the time the whole deck takes. Slide one is unchanged: the same master, layout,
    theme and embedded fonts; the other slides' parts are left out with their relationships."""
    prs = Presentation(io.BytesIO(pptx))
    remove_all_slides(prs, keep=1)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def remove_all_slides(prs, *, keep: int = 0) -> int:
    """Removes every slide (after the first `keep`): sldId and relationship together, then
    stale sections and custom shows."""
    pres = prs.part._element
    sld_id_lst = prs.slides._sldIdLst
    removed = 0
    for sld_id in list(sld_id_lst)[keep:]:
        rid = sld_id.rId
        sld_id_lst.remove(sld_id)
        prs.part.drop_rel(rid)
        removed += 1
    # Sections (p14:sectionLst) and custom shows name the removed slides: drop them.
    for section_list in list(pres.iter(P14_SECTIONS)):
        ext = section_list.getparent()
        ext.getparent().remove(ext)
    for ext_lst in pres.findall(qn("p:extLst")):
        if len(ext_lst) == 0:
            pres.remove(ext_lst)
    for cust in pres.findall(qn("p:custShowLst")):
        for rel_id in cust.iter(qn("p:sld")):
            rid = rel_id.get(qn("r:id"))
            if rid:
                rel_id.getparent().remove(rel_id)
                prs.part.drop_rel(rid)
        pres.remove(cust)
    show = pres.find(qn("p:showPr"))
    if show is not None:
        for custom in show.findall(qn("p:custShow")):
            show.remove(custom)
    return removed


def drop_thumbnail(prs) -> None:
    """Drops the template's thumbnail (a picture of its sample slides)."""
    pkg = prs.part.package
    for rid, rel in list(pkg._rels.items()):
        if rel.reltype == THUMBNAIL_RT:
            pkg._rels.pop(rid)


class _IndexedImageParts(_ImageParts):
    """python-pptx's image registry for one package, with an index.

    python-pptx finds a picture's part by walking every relationship of the package and
    hashing every image part's bytes, then walks every part again for a free name: twice the
    package per picture, about a tenth of a 40-slide deck's render. This keeps the answer those
    walks give: the first part (in relationship order) with the picture's hash, else a new part
    named with the first free `/ppt/media/imageN` number by python-pptx's own rule. It holds
    while parts are only added, as rendering does; it is installed after the template's slides
    are removed."""

    def __init__(self, package) -> None:
        super().__init__(package)
        self._by_sha1: dict[str, ImagePart] = {}
        for part in super().__iter__():
            if hasattr(part, "sha1"):  # python-pptx skips parts it cannot read (SVG)
                self._by_sha1.setdefault(part.sha1, part)
        self._numbers = [
            part.partname.idx
            for part in package.iter_parts()
            if part.partname.startswith("/ppt/media/image") and part.partname.idx is not None
        ]

    def get_or_add_image_part(self, image_file) -> ImagePart:
        image = Image.from_file(image_file)
        part = self._by_sha1.get(image.sha1)
        if part is None:
            number = self._first_free_number()
            self._numbers.append(number)
            partname = PackURI(f"/ppt/media/image{number}.{image.ext}")
            part = self._by_sha1[image.sha1] = ImagePart(
                partname, image.content_type, self._package, image.blob, image.filename
            )
        return part

    def _first_free_number(self) -> int:
        """`pptx.package.Package.next_image_partname`'s rule, on the numbers in use."""
        numbers = sorted(self._numbers)
        for i, number in enumerate(numbers):
            if i + 1 < number:
                return i + 1
        return len(numbers) + 1


def index_image_parts(prs) -> None:
    """Gives the presentation's package the indexed image registry (`_IndexedImageParts`).

    python-pptx keeps the registry in a lazy property; a value in the instance's `__dict__` is
    what that property returns from then on."""
    package = prs.part.package
    vars(package)["_image_parts"] = _IndexedImageParts(package)


def set_app_properties(prs, *, slides: int, notes: int, company: str) -> None:
    """Rewrites docProps/app.xml so it describes this deck, not the template's sample."""
    pkg = prs.part.package
    for rel in pkg._rels.values():
        if rel.reltype == RT.EXTENDED_PROPERTIES:
            xml = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
                f"<Application>ClinicPress</Application><PresentationFormat>On-screen Show</PresentationFormat>"
                f"<Slides>{slides}</Slides><Notes>{notes}</Notes><HiddenSlides>0</HiddenSlides>"
                f"<Company>{xml_escape(company)}</Company></Properties>"
            )
            rel.target_part._blob = xml.encode("utf-8")


def package_bytes(prs, when: dt.date) -> bytes:
    """The saved presentation with fixed zip dates (same input, same bytes), compressed once.

    python-pptx's `save` would deflate every part into a zip that `normalise_zip` then reads
    back and deflates again; its own package writer hands over the same entries, in the same
    order, without a zip in between (a 40-slide deck is written in half the time).
    """
    from pptx.opc.serialized import PackageWriter

    entries: list[tuple[str, bytes]] = []

    class _Entries:
        """The physical-package side of python-pptx's writer: keeps each entry as it is written."""

        def write(self, uri, blob: bytes) -> None:
            entries.append((uri.membername, blob))

    class _Writer(PackageWriter):
        def _write(self) -> None:  # the sequence of `PackageWriter._write`, into `_Entries`
            sink = _Entries()
            self._write_content_types_stream(sink)  # type: ignore[arg-type]
            self._write_pkg_rels(sink)  # type: ignore[arg-type]
            self._write_parts(sink)  # type: ignore[arg-type]

    package = prs.part.package
    _Writer.write(io.BytesIO(), package._rels, tuple(package.iter_parts()))
    return _zip_entries(entries, when)


def slide_one_digest(pptx: bytes) -> str:
    """What a deck's thumbnail shows, as a SHA-256: every part of the package but the other
    slides, the notes pages and the file properties (docProps: title, sign-off status, counts;
    never drawn on a slide). That leaves slide one, its layout, master, theme, pictures and
    fonts, and the slide size. A deck edited after slide one keeps its thumbnail, and
    LibreOffice (1-2 s a deck) is not started again. Adding or removing a slide changes the
    package's lists of slides, and so the digest: the thumbnail is drawn again then, which is
    never wrong."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with zipfile.ZipFile(io.BytesIO(pptx)) as z:
            first = _first_slide(z)
            folder, _, base = first.rpartition("/")
            keep = (first, f"{folder}/_rels/{base}.rels")
            for info in z.infolist():
                name = info.filename
                if name.startswith(("ppt/notesSlides/", "docProps/")) or (
                    re.fullmatch(r"ppt/slides/(_rels/)?slide\d+\.xml(\.rels)?", name) and name not in keep
                ):
                    continue
                blob = z.read(name)
                digest.update(f"{name}\0{len(blob)}\0".encode() + blob)
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError, SyntaxError):  # XMLSyntaxError is one
        return hashlib.sha256(pptx).hexdigest()  # a deck this cannot read: its own bytes
    return digest.hexdigest()


def _first_slide(z: zipfile.ZipFile) -> str:
    """The part name of the first slide in the deck's order (ValueError if there is none)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    first = etree.fromstring(z.read("ppt/presentation.xml"), parser).find(f"{qn('p:sldIdLst')}/{qn('p:sldId')}")
    if first is None:
        raise ValueError("no slides")
    rels = etree.fromstring(z.read("ppt/_rels/presentation.xml.rels"), parser)
    target = next((rel.get("Target") for rel in rels if rel.get("Id") == first.get(qn("r:id"))), None)
    if not target:
        raise ValueError("slide one has no part")
    return _resolve("ppt", target)


def add_slide(prs, layout, model: dict):
    """Adds a slide of `layout`, as python-pptx's `slides.add_slide` does, cloning the layout's
    placeholders once per layout instead of once per slide.

    python-pptx scans the layout's shapes and numbers each clone anew for every slide, but a new
    slide of a layout always starts with the same placeholders: the first slide of each layout
    is made by python-pptx and its shapes kept in `model` (the deck's own dict, by layout part);
    the next ones get copies of them.
    """
    import copy

    if layout.part not in model:
        slide = prs.slides.add_slide(layout)
        model[layout.part] = [copy.deepcopy(shape) for shape in slide.shapes._spTree.iter_shape_elms()]
        return slide
    slides = prs.slides
    rid, slide = slides.part.add_slide(layout)
    tree = slide.shapes._spTree
    for shape in model[layout.part]:
        tree.insert_element_before(copy.deepcopy(shape), "p:extLst")
    slides._sldIdLst.add_sldId(rid)
    return slide


def notes_slide(slide, model: dict):
    """The slide's notes page, made as python-pptx makes it, without its walks per slide.

    python-pptx (`SlidePart.notes_slide`) finds a free part name by walking every part of the
    package, and clones the notes master's placeholders by scanning its shapes again, for each
    slide. Every new notes page is the same until its text is written: the first is made by
    python-pptx and kept in `model` (the deck's own dict); the next ones are copies of it under
    the following part names, related as python-pptx relates them (notes master, then slide).
    """
    import copy

    from pptx.opc.constants import CONTENT_TYPE as CT
    from pptx.opc.packuri import PackURI
    from pptx.parts.slide import NotesSlidePart

    if "element" not in model:
        notes = slide.notes_slide
        model["element"] = copy.deepcopy(notes._element)
        model["number"] = int(re.search(r"(\d+)\.xml$", str(notes.part.partname)).group(1))  # type: ignore[union-attr]
        return notes
    slide_part, package = slide.part, slide.part.package
    model["number"] += 1
    part = NotesSlidePart(
        PackURI(f"/ppt/notesSlides/notesSlide{model['number']}.xml"),
        CT.PML_NOTES_SLIDE,
        package,
        copy.deepcopy(model["element"]),
    )
    part.relate_to(package.presentation_part.notes_master_part, RT.NOTES_MASTER)
    part.relate_to(slide_part, RT.SLIDE)
    slide_part.relate_to(part, RT.NOTES_SLIDE)
    return slide.notes_slide


def normalise_zip(data: bytes, when: dt.date) -> bytes:
    """Rewrites a saved package with fixed zip dates in the same entry order (same input, same bytes).

    Embedded workbooks (chart data written by XlsxWriter) carry the time of writing in their
    own core properties and zip entries: those are fixed too.
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    return _zip_entries([(info.filename, src.read(info.filename)) for info in src.infolist()], when)


STORED = (".png", ".jpg", ".jpeg", ".gif")
"""Zip entries written without deflate: formats that are compressed already."""


def _zip_entries(entries: list[tuple[str, bytes]], when: dt.date) -> bytes:
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    iso = f"{stamp[0]:04d}-{stamp[1]:02d}-{stamp[2]:02d}T00:00:00Z"
    is_workbook = any(name == "xl/workbook.xml" for name, _ in entries)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, blob in entries:
            if name.endswith(".xlsx"):
                blob = normalise_zip(blob, when)
            elif is_workbook and name == "docProps/core.xml":
                blob = _fix_core_dates(blob, iso)
            zi = zipfile.ZipInfo(name, stamp)
            # Pictures are compressed already: deflating them again saved 11 % of their bytes
            # for 11 ms of a 40-slide deck's render. They are stored, as `zip -n` stores them.
            zi.compress_type = zipfile.ZIP_STORED if name.lower().endswith(STORED) else zipfile.ZIP_DEFLATED
            zi.create_system = 3
            zi.external_attr = 0o644 << 16
            # Embedded fonts are most of a deck's bytes: the fastest deflate (a deck renders ~15 ms sooner).
            dst.writestr(zi, blob, compresslevel=1 if name.endswith(".fntdata") else None)
    return out.getvalue()


def _fix_core_dates(blob: bytes, iso: str) -> bytes:
    return re.sub(
        rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + iso.encode() + rb"\g<2>", blob
    )


def reachable_parts(data: bytes) -> tuple[set[str], set[str]]:
    """Returns (zip entries, parts reachable from the package relationships): for orphan checks."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    seen: set[str] = set()
    todo = ["/"]
    while todo:
        source = todo.pop()
        folder, _, base = source.rpartition("/")
        rels_name = f"{folder}/_rels/{base}.rels".lstrip("/") if source != "/" else "_rels/.rels"
        if rels_name not in names:
            continue
        root = etree.fromstring(zf.read(rels_name))
        for rel in root:
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target")
            path = _resolve(folder if source != "/" else "", target)
            if path not in seen:
                seen.add(path)
                todo.append("/" + path)
    return names, seen


def _resolve(folder: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    parts = [p for p in folder.strip("/").split("/") if p]
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)
