"""Slide kinds → builders: the renderer's explicit table covers every kind the schema allows,
an unknown kind is a clear error, and rendering goes through the table."""
from __future__ import annotations

import typing
from pathlib import Path

import pytest

from clinicpress.load import schema
from clinicpress.load.project import load_project
from clinicpress.render import deck
from clinicpress.render.deck import renderer

REPO = Path(__file__).resolve().parents[1]


def test_every_schema_slide_kind_has_a_builder():
    kinds = set(typing.get_args(schema.SlideLayout))
    assert kinds, "schema.SlideLayout lists the slide kinds"
    assert set(deck.BUILDERS) == kinds
    assert all(callable(deck.builder_for(kind)) for kind in kinds)
    assert len(set(map(id, deck.BUILDERS.values()))) == len(kinds)  # one builder per kind


def test_an_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown slide kind 'timeline'.*known kinds: big_number, bullets"):
        deck.builder_for("timeline")


def _sample():
    project = load_project(REPO, practices=["summit-rheumatology"])
    src = next(s for s in project.decks if s.language == "en")
    return project, src


def test_rendering_dispatches_through_the_table(monkeypatch):
    project, src = _sample()
    called: list[tuple[str, int | None]] = []
    for kind, build in list(deck.BUILDERS.items()):
        def spy(r, index, sl, kind=kind, build=build):
            called.append((kind, index))
            build(r, index, sl)
        monkeypatch.setitem(deck.BUILDERS, kind, spy)
    data, _ = deck.render_deck(src, project.practices["summit-rheumatology"], project.bibliography, project.root)
    assert [kind for kind, index in called if index is not None] == [sl.layout for sl in src.model.slides]
    assert data[:2] == b"PK"


def test_a_planned_kind_without_a_builder_stops_the_render(monkeypatch):
    project, src = _sample()
    monkeypatch.setattr(renderer.DeckRenderer, "_plan", lambda self: [("timeline", 0, src.model.slides[0])])
    with pytest.raises(ValueError, match="unknown slide kind 'timeline'"):
        deck.render_deck(src, project.practices["summit-rheumatology"], project.bibliography, project.root)


def test_reset_caches_forgets_the_layout_map_and_font_metrics():
    project, src = _sample()
    deck.render_deck(src, project.practices["summit-rheumatology"], project.bibliography, project.root)
    assert deck.layout_spec.cache_info().currsize and deck.font_metrics.cache_info().currsize
    deck.reset_caches()
    assert deck.layout_spec.cache_info().currsize == 0 and deck.font_metrics.cache_info().currsize == 0
