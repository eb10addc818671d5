"""The pptx_adapter API on real python-pptx objects: the shipped default master, changed through
the adapter, saved to bytes and opened again."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from PIL import Image as PILImage
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE

from clinicpress.checks.accessibility import master_body_pt
from clinicpress.render import pptx_adapter as ad

MASTER = Path(__file__).resolve().parents[1] / "templates" / "deck" / "default-master.pptx"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def saved(prs) -> bytes:
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def reopen(data: bytes):
    return Presentation(io.BytesIO(data))


def layout(prs, name: str):
    return next(lay for lay in prs.slide_layouts if lay.name == name)


def test_open_and_empty_a_template_leaves_no_orphan_parts():
    prs = ad.open_presentation(MASTER)
    prs.slides.add_slide(layout(prs, "Title"))
    prs.slides.add_slide(layout(prs, "Quote"))
    assert ad.remove_all_slides(prs) == 2
    data = saved(prs)
    assert len(reopen(data).slides) == 0
    names, reachable = ad.reachable_parts(data)
    assert not [n for n in names if n.startswith("ppt/slides/slide")]
    assert {n for n in names if n.endswith(".xml") and not n.endswith(".rels")} - {"[Content_Types].xml"} <= reachable


def test_a_potx_opens_as_a_presentation(tmp_path: Path):
    potx = tmp_path / "master.potx"
    potx.write_bytes(ad.swap_main_content_type(MASTER.read_bytes(), ad.PRESENTATION_MAIN, ad.TEMPLATE_MAIN))
    with zipfile.ZipFile(potx) as z:
        assert ad.TEMPLATE_MAIN.encode() in z.read("[Content_Types].xml")
    prs = ad.open_presentation(potx)
    assert [lay.name for lay in prs.slide_layouts] == [lay.name for lay in Presentation(str(MASTER)).slide_layouts]


def test_layout_placeholders_resolve_boxes_and_master_body_size():
    prs = ad.open_presentation(MASTER)
    phs = ad.layout_placeholders(layout(prs, "Title and Bullets"))
    kinds = [p.kind for p in phs]
    assert "title" in kinds and "text" in kinds
    assert all(p.box is not None and p.box.w > 0 for p in phs if p.kind in ("title", "text"))
    body = next(p for p in phs if p.kind == "text")
    style = ad.inherited_style(body.element, prs.slide_masters[0], 0)
    sizes = [ad.master_body_size(prs.slide_masters[0], level) for level in (0, 1)]
    assert all(s is not None and s >= 24 for s in sizes)
    assert style.size == sizes[0]  # the layout's body level 1 takes the master's size
    assert master_body_pt(MASTER) == min(sizes)
    assert master_body_pt(Path(__file__)) is None  # not a package


def test_text_footer_alt_text_and_names_survive_a_save():
    prs = ad.open_presentation(MASTER)
    ad.remove_all_slides(prs)
    lay = layout(prs, "Title and Bullets")
    slide = prs.slides.add_slide(lay)
    body = next(s for s in slide.shapes if s.is_placeholder and s.placeholder_format.type != 1)  # not the title
    p = body.text_frame.paragraphs[0]
    p.add_run().text = "sample text"
    ad.clear_runs(p)
    ad.set_paragraph(p, bullet="autonum", autonum_start=3, mar_l=12700, indent=-12700, space_before=6,
                     bullet_color="accent1")
    ad.paragraph_colours_rgb(p, "#12ab34")
    run = p.add_run()
    run.text = "Gut microbes"
    ad.set_run_lang(run, "en-US")
    ad.set_superscript(run)
    ad.set_run_font_ref(run, "+mj-lt")
    box = ad.Box(100000, 6000000, 4000000, 300000)
    ad.add_latent_placeholder(slide, "ftr", 11, box, "Demo & Clinic", "en-US")
    pic_box = slide.shapes.add_textbox(0, 0, 100, 100)
    ad.set_shape_name(pic_box, "Note")
    ad.set_alt_text(pic_box, "A decorative note", decorative=True)

    again = reopen(saved(prs)).slides[0]
    para = next(s for s in again.shapes if s.shape_id == body.shape_id).text_frame.paragraphs[0]
    assert [r.text for r in para.runs] == ["Gut microbes"]  # the sample run is gone
    ppr = para._p.pPr
    auto = ppr.find(f"{A}buAutoNum")
    assert auto is not None and auto.get("startAt") == "3"
    assert ppr.find(f"{A}buClr/{A}srgbClr").get("val") == "12AB34"
    assert ppr.find(f"{A}buClr/{A}schemeClr") is None
    rpr = para.runs[0]._r.rPr
    assert rpr.get("lang") == "en-US" and rpr.get("baseline") == "30000"
    assert rpr.find(f"{A}latin").get("typeface") == "+mj-lt"
    footer = next(s for s in again.placeholders if s.placeholder_format.idx == 11)
    assert footer.text_frame.text == "Demo & Clinic" and footer.left == box.x and footer.top == box.y
    note = next(s for s in again.shapes if s.name == "Note")
    cnvpr = note._element.xpath("./*[1]/p:cNvPr")[0]
    assert cnvpr.get("descr") == "A decorative note" and b"decorative" in cnvpr.xml.encode()


def test_charts_and_tables_go_into_a_placeholder_or_a_box():
    prs = ad.open_presentation(MASTER)
    ad.remove_all_slides(prs)
    data = CategoryChartData()
    data.categories = ["a", "b"]
    data.add_series("s", (1, 2))
    slide = prs.slides.add_slide(layout(prs, "Chart"))
    holder = next(s for s in slide.placeholders if s.placeholder_format.idx != 0)
    ad.add_chart(slide, holder, ad.Box(0, 0, 1, 1), XL_CHART_TYPE.BAR_CLUSTERED, data)
    free = prs.slides.add_slide(layout(prs, "Title"))
    box = ad.Box(914400, 914400, 4000000, 2000000)
    ad.add_table(free, None, box, 3, 2)
    again = reopen(saved(prs))
    charts = [s for s in again.slides[0].shapes if s.has_chart]
    assert len(charts) == 1 and charts[0].is_placeholder  # kept in the layout's placeholder
    tables = [s for s in again.slides[1].shapes if s.has_table]
    assert len(tables) == 1 and (tables[0].left, tables[0].top) == (box.x, box.y)
    assert len(tables[0].table.rows) == 3 and len(tables[0].table.columns) == 2


def test_theme_and_master_text_colours():
    prs = ad.open_presentation(MASTER)
    scheme = {slot: "#102030" for slot in ad.SCHEME_SLOTS}
    ad.apply_theme(prs, scheme, "Heading Font", "Body Font", "Demo")
    asked: list[str] = []

    def printed(slot: str) -> str:
        asked.append(slot)
        return "#ABCDEF" if slot == "accent1" else slot

    ad.recolour_master_text(prs, printed)
    again = reopen(saved(prs))
    assert set(ad.theme_colors(again).values()) == {"102030"}
    assert ad.theme_fonts(again) == ("Heading Font", "Body Font")
    assert "accent1" in asked  # the default master colours some text with accent1
    xml = b"".join(part.blob for m in again.slide_masters for part in [m.part, *(lay.part for lay in m.slide_layouts)])
    assert b'<a:srgbClr val="ABCDEF"/>' in xml


def test_package_bytes_are_python_pptx_saved_and_normalised_in_one_pass():
    """`package_bytes` writes the entries python-pptx's `save` would, compressed once: the same
    bytes as saving and then normalising, for a deck with a slide, notes and a chart workbook."""
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE

    day = dt.date(2026, 1, 2)
    prs = ad.open_presentation(MASTER)
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.notes_slide.notes_text_frame.text = "What to say."
    data = CategoryChartData()
    data.categories = ["a", "b"]
    data.add_series("share", (1, 2))
    slide.shapes.add_chart(XL_CHART_TYPE.PIE, 0, 0, 3_000_000, 3_000_000, data)
    one_pass = ad.package_bytes(prs, day)
    assert one_pass == ad.normalise_zip(saved(prs), day)
    with zipfile.ZipFile(io.BytesIO(one_pass)) as z:
        names = z.namelist()
        assert names[0] == "[Content_Types].xml" and any(n.endswith(".xlsx") for n in names)
        assert "ppt/notesSlides/notesSlide1.xml" in names


def test_slides_and_notes_copied_per_layout_are_the_bytes_python_pptx_makes_slide_by_slide():
    """`add_slide` and `notes_slide` copy the first slide of each layout and the first notes
    page instead of cloning placeholders for every slide: the package is byte for byte what
    python-pptx's own `add_slide` and `notes_slide` give, over slides of several layouts."""
    day = dt.date(2026, 1, 2)

    def deck(copying: bool) -> bytes:
        prs = ad.open_presentation(MASTER)
        layouts = list(prs.slide_masters[0].slide_layouts)
        slide_models: dict = {}
        notes_model: dict = {}
        for n, index in enumerate([1, 1, 0, 1, 2, 0, 2, 1]):
            layout = layouts[index % len(layouts)]
            slide = ad.add_slide(prs, layout, slide_models) if copying else prs.slides.add_slide(layout)
            notes = ad.notes_slide(slide, notes_model) if copying else slide.notes_slide
            notes.notes_text_frame.text = f"Notes for slide {n + 1}."
        return ad.package_bytes(prs, day)

    copied = deck(copying=True)
    assert copied == deck(copying=False)
    with zipfile.ZipFile(io.BytesIO(copied)) as z:
        assert sum(n.startswith("ppt/notesSlides/notesSlide") and n.endswith(".xml") for n in z.namelist()) == 8
        assert b"Notes for slide 8." in z.read("ppt/notesSlides/notesSlide8.xml")


def png(colour: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), colour).save(out, fmt)
    return out.getvalue()


def test_indexed_image_parts_name_and_reuse_pictures_as_python_pptx_does():
    """`index_image_parts` keeps python-pptx's answers without its walks over the package: a
    picture already in the package reuses its part, a new one takes the first free
    /ppt/media/imageN number (here a gap left by a removed slide), in any format."""
    day = dt.date(2026, 1, 2)
    red, green, blue = png((200, 0, 0)), png((0, 150, 0)), png((0, 0, 200))
    grey, teal = png((90, 90, 90)), png((0, 128, 128), "JPEG")
    start = ad.open_presentation(MASTER)
    for picture in (red, green, blue):
        slide = start.slides.add_slide(layout(start, "Title"))
        slide.shapes.add_picture(io.BytesIO(picture), 0, 0)
    template = saved(start)

    def deck(indexed: bool) -> bytes:
        prs = reopen(template)
        sld_ids = prs.slides._sldIdLst  # remove slide 2 (green, /ppt/media/image2.png): a gap
        prs.part.drop_rel(sld_ids[1].rId)
        sld_ids.remove(sld_ids[1])
        if indexed:
            ad.index_image_parts(prs)
        for picture in (grey, red, teal, grey, green):
            prs.slides[0].shapes.add_picture(io.BytesIO(picture), 0, 0)
        return ad.package_bytes(prs, day)

    indexed = deck(indexed=True)
    assert indexed == deck(indexed=False)
    with zipfile.ZipFile(io.BytesIO(indexed)) as z:
        media = sorted(n for n in z.namelist() if n.startswith("ppt/media/"))
        assert media == [f"ppt/media/image{n}" for n in ("1.png", "2.png", "3.png", "4.jpg", "5.png")]
        assert z.read("ppt/media/image2.png") == grey and z.read("ppt/media/image4.jpg") == teal
        # pictures are compressed already and stored as they are; the XML is deflated
        kinds = {n: z.getinfo(n).compress_type for n in z.namelist()}
        assert {kinds[n] for n in media} == {zipfile.ZIP_STORED}
        assert {kinds[n] for n in kinds if n.endswith(".xml")} == {zipfile.ZIP_DEFLATED}
    assert len(reopen(indexed).slides[0].shapes) >= 5  # python-pptx reads the stored pictures back


def test_normalise_zip_gives_the_same_bytes_for_the_same_input():
    day = dt.date(2026, 1, 2)
    first = ad.normalise_zip(saved(ad.open_presentation(MASTER)), day)
    second = ad.normalise_zip(saved(ad.open_presentation(MASTER)), day)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as z:
        assert {info.date_time for info in z.infolist()} == {(2026, 1, 2, 0, 0, 0)}
