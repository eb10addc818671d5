"""The printed result stays the same: every shipped handout, in every variant, page by page,
against the reference images in tests/fixtures/pages/ (remade on purpose only, by
tests/fixtures/make_reference_pages.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pagepixels import REFERENCE, build_reference_set, compare, page_images, reference_name


@pytest.fixture(scope="module")
def reference_build(tmp_path_factory) -> list[Path]:
    return build_reference_set(tmp_path_factory.mktemp("pixels") / "out")


def test_the_reference_set_covers_every_variant(reference_build):
    names = {p.relative_to(REFERENCE).as_posix() for p in REFERENCE.glob("*/*.png")}
    assert any(".large-print." in n for n in names) and any(".print-shop." in n for n in names)
    assert any(".es." in n for n in names)
    built = {reference_name(pdf, 1) for pdf in reference_build}
    first_pages = {n for n in names if n.endswith(".p1.png")}
    assert built == first_pages, (
        f"built but without reference: {sorted(built - first_pages)[:5]}; "
        f"reference but not built: {sorted(first_pages - built)[:5]}"
    )


def test_every_page_looks_as_it_did(reference_build, tmp_path_factory):
    from PIL import Image

    failures, pages = [], 0
    diffs = tmp_path_factory.mktemp("pixel-diffs")
    for pdf in reference_build:
        images = page_images(pdf)
        expected = sorted(REFERENCE.glob(f"{pdf.parent.name}/{pdf.stem}.p*.png"))
        expected = [p for p in expected if p.name.removeprefix(pdf.stem + ".p").removesuffix(".png").isdigit()]
        if len(images) != len(expected):
            failures.append(f"{pdf.parent.name}/{pdf.name}: {len(images)} pages, the reference has {len(expected)}")
            continue
        for number, image in enumerate(images, start=1):
            name = reference_name(pdf, number)
            reference = Image.open(io.BytesIO((REFERENCE / name).read_bytes())).convert("L")
            diff, picture = compare(name, image, reference)
            pages += 1
            if not diff.ok:
                failures.append(str(diff))
                if picture is not None:
                    out = diffs / name.replace("/", "__")
                    picture.save(out)
    assert pages > 100
    assert not failures, (
        f"{len(failures)} page(s) no longer look as they did (changed pixels in {diffs}):\n  "
        + "\n  ".join(failures[:20])
        + "\nIf the change was on purpose, run python tests/fixtures/make_reference_pages.py and commit the images."
    )
