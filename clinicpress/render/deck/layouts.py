"""Master layouts for slide kinds (by name from `layouts.yml`, else by placeholders), new slides,
and handing out their placeholders by role."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import pptx_adapter as ad
from .constants import TITLE_KINDS

if TYPE_CHECKING:
    from .renderer import DeckRenderer


@functools.lru_cache(maxsize=4)
def layout_spec(path: Path) -> dict:
    """Returns the slide-kind → layout map (`layouts.yml`), read once per process."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    """Returns a layout name folded for matching (case, spaces and punctuation ignored)."""
    return re.sub(r"[\W_]+", "", (name or "").casefold())


@dataclass
class Target:
    """Where one piece of a slide goes: a slide placeholder (and its layout twin) or a free box."""

    box: ad.Box
    shape: Any = None
    ph: ad.Ph | None = None


def textbox(slide, box: ad.Box, name: str) -> Target:
    """Draws a text box (for text the layout has no placeholder for)."""
    tb = slide.shapes.add_textbox(box.x, box.y, box.w, box.h)
    ad.set_shape_name(tb, name)
    tb.text_frame.word_wrap = True
    return Target(box, tb, None)


def as_target(pair) -> Target | None:
    """Returns the target of a (placeholder, shape) pair, or None for no pair."""
    if pair is None:
        return None
    ph, shape = pair
    return Target(ph.box or ad.Box(int(shape.left), int(shape.top), int(shape.width), int(shape.height)), shape, ph)


def box_of(pair: tuple[ad.Ph, Any]) -> ad.Box:
    """Returns the box of a placeholder pair that `Slots.texts` handed out (those all have one)."""
    box = pair[0].box
    assert box is not None
    return box


class Slots:
    """The placeholders of a new slide, handed out by role."""

    def __init__(self, pairs: list[tuple[ad.Ph, object]]):
        self.free = list(pairs)

    def _pop(self, pred, key=None) -> tuple[ad.Ph, object] | None:
        found = [p for p in self.free if pred(p[0])]
        if not found:
            return None
        if key:
            found.sort(key=lambda pair: key(pair[0]))
        self.free.remove(found[0])
        return found[0]

    def title(self):
        return self._pop(lambda p: p.kind == "title")

    def picture(self, *words: str, exclude: tuple[str, ...] = ()):
        def ok(p: ad.Ph) -> bool:
            name = p.name.casefold()
            if p.kind != "picture" or any(w in name for w in exclude):
                return False
            return all(w in name for w in words) if words else True

        return self._pop(ok)

    def of_kind(self, kind: str):
        return self._pop(lambda p: p.kind == kind)

    def text(self, *, largest: bool = False, prefer: str | None = None, obj_only: bool = False):
        """Next text placeholder in reading order (or the largest); `prefer` a ph type first."""

        def ok(p: ad.Ph) -> bool:
            return p.kind == "text" and p.box is not None and (not obj_only or p.type == "obj")

        if prefer:
            got = self._pop(lambda p: ok(p) and p.type == prefer, key=lambda p: (p.box.y, p.box.x))
            if got:
                return got
        if largest:
            return self._pop(ok, key=lambda p: -p.box.area)
        return self._pop(ok, key=lambda p: (p.box.y, p.box.x))

    def texts(self) -> list[tuple[ad.Ph, object]]:
        """Returns the free text placeholders that have a box."""
        return [p for p in self.free if p[0].kind == "text" and p[0].box is not None]

    def take(self, pair) -> None:
        """Marks a placeholder as used."""
        self.free.remove(pair)


def layout_for(r: DeckRenderer, kind: str, index: int | None):
    """Returns (layout, approximated) for a slide kind: by name, then a near name, then by placeholders."""
    if kind in r.layout_cache:
        return r.layout_cache[kind]
    spec = r.spec.get(kind, {})
    masters = r.title_masters if kind in TITLE_KINDS else r.content_masters
    chosen, how = None, "exact"
    for key, found in (("names", "exact"), ("approximate", "name")):
        for master in masters:
            by_name: dict[str, Any] = {}
            for lay in master.slide_layouts:
                by_name.setdefault(_norm(lay.name), lay)
            match = next((by_name[_norm(n)] for n in spec.get(key, []) if _norm(n) in by_name), None)
            if match is not None:
                chosen, how = match, found
                break
        if chosen is not None:
            break
    if chosen is None:
        layouts = list(masters[0].slide_layouts)
        chosen, how = _by_placeholders(r, layouts, spec.get("needs", ["title", "text"]), kind), "types"
    approximated = how != "exact"
    if approximated:
        wanted = spec.get("names", [kind])[0]
        why = "its name is a near fit" if how == "name" else "its placeholders are the closest match"
        r.find(
            "deck.layout",
            "warning",
            f"slide kind {kind!r}: the master has no {wanted!r} layout; approximated with {chosen.name!r} ({why})",
            index,
            field_=f"slides[{index}].layout" if index is not None else None,
            loc=("layout",),
            hint=f"add a layout named {wanted!r} to the master (see templates/deck/layouts.yml)",
            kind=kind,
            layout=chosen.name,
        )
    r.layout_cache[kind] = (chosen, approximated)
    return chosen, approximated


def _by_placeholders(r: DeckRenderer, layouts, needs: list[str], kind: str):
    """Scores layouts by how many needed placeholders they have (and, as a tie-break, by a
    title-slide look for title kinds or by the size of the text boxes for the others)."""
    best, best_score = layouts[0], -1e9
    slide_area = max(r.W * r.H, 1)
    for lay in layouts:
        phs = [p for p in placeholders_of(r, lay) if p.kind != "latent"]
        free = list(phs)
        score = 0.0
        text_areas: list[int] = []
        for need in needs:
            match = next((p for p in free if p.kind == need), None)
            weight = 1.0
            if match is None and need in ("picture", "chart", "table"):
                match, weight = next((p for p in free if p.type == "obj"), None), 0.8
            if match is not None:
                free.remove(match)
                score += weight
                if need == "text" and match.box is not None:
                    text_areas.append(match.box.area)
        score -= 0.1 * len(free)
        if kind in TITLE_KINDS:
            score += 0.5 * any(p.type in ("ctrTitle", "subTitle") for p in phs)
        else:
            # The smallest text box the kind uses: two columns want two big boxes.
            score += 0.5 * min(text_areas, default=0) / slide_area
        if score > best_score:
            best, best_score = lay, score
    return best


@dataclass
class Page:
    """A slide being built: its kind, the slide, all its layout's placeholders (latent ones too),
    the placeholders still free, whether the layout is an approximation, its number and title."""

    kind: str
    slide: Any
    all_phs: list[ad.Ph]
    slots: Slots
    approximated: bool
    n: int
    title: str = ""
    title_target: Target | None = None


def placeholders_of(r: DeckRenderer, layout) -> list[ad.Ph]:
    """A layout's placeholders (`ad.layout_placeholders`), read once per deck: a slide never
    changes its layout, and reading them walks every shape of the layout and its master."""
    if layout.part not in r.placeholder_cache:
        r.placeholder_cache[layout.part] = ad.layout_placeholders(layout)
    return list(r.placeholder_cache[layout.part])


def new_slide(r: DeckRenderer, kind: str, index: int | None) -> Page:
    """Adds a slide of the kind's layout (placeholders set to the layout's boxes when their idx
    values clash, so each lands where its layout twin is)."""
    layout, approximated = layout_for(r, kind, index)
    r.master = layout.slide_master
    slide = ad.add_slide(r.prs, layout, r.slide_models)
    all_phs = placeholders_of(r, layout)
    phs = [p for p in all_phs if p.kind != "latent"]
    shapes = [s for s in slide.shapes if s.is_placeholder]  # document order, as cloned
    pairs = list(zip(phs, shapes, strict=False))  # a slide may lack a placeholder its layout has
    if ad.has_duplicate_idx(phs):
        for ph, shape in pairs:
            if ph.box is not None:
                ad.set_box(shape, ph.box)
    return Page(kind, slide, all_phs, Slots(pairs), approximated, len(r.prs.slides))


def body_area(r: DeckRenderer, all_phs: list[ad.Ph]) -> ad.Box:
    """The free area under the title and above the footer (for drawn text boxes)."""
    title = next((p.box for p in all_phs if p.kind == "title" and p.box), None)
    latent = [p.box.y for p in all_phs if p.kind == "latent" and p.box and p.box.y > r.H * 0.6]
    top = title.bottom + r.emu(0.15) if title else int(r.H * 0.2)
    bottom = (min(latent) - r.emu(0.1)) if latent else int(r.H * 0.9)
    left = title.x if title else int(r.W * 0.06)
    right = title.right if title else int(r.W * 0.94)
    if bottom - top < r.H * 0.25:
        top, bottom = int(r.H * 0.2), int(r.H * 0.9)
    return ad.Box(left, top, right - left, bottom - top)
