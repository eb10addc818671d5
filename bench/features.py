"""What each feature of the handout's HTML/CSS costs WeasyPrint (a measurement, not a test).

    python bench/features.py                                        # Summit, gut-and-immune-system, 9 rounds
    python bench/features.py --practice thames-integrative-gi --handout stress-the-brain-and-the-gut --rounds 15

Renders one shipped handout's HTML (as a warm worker does), then the same HTML with one
feature taken out at a time (multi-column lists, and the columns of each list alone, flex and
grid boxes, custom properties, the @font-face set, the logo and QR code, page margin boxes,
hyphenation, the screen rules, PDF/UA tagging, whole sections, the language-help taglines), and
prints the median seconds of layout + PDF for each,
the difference to the document as it is, how many lines WeasyPrint broke and how many pages it
laid out (counts that do not depend on the machine's speed: every relayout breaks its lines
again, and a page laid out twice counts twice). Rounds are
interleaved, so a slow minute of the machine hits every variant alike.

Taking a feature out changes the look; this only says where the time goes. A rework that
keeps the look must pass tests/test_pixels.py.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _vars_resolved(html: str) -> str:
    values = dict(re.findall(r"--([\w-]+):\s*([^;]+);", html))
    for _ in range(3):
        html = re.sub(
            r"var\(--([\w-]+)(?:,\s*([^)]*))?\)", lambda m: values.get(m.group(1), m.group(2) or "").strip(), html
        )
    return html


def _without(pattern: str, flags: int = re.S):
    return lambda html: re.sub(pattern, "", html, flags=flags)


VARIANTS = {
    "multi-column lists": lambda h: re.sub(r"columns: \d;", "", h),
    "flex boxes": lambda h: h.replace("display: flex", "display: block"),
    "grid boxes": lambda h: h.replace("display: grid", "display: block"),
    "custom properties (var)": _vars_resolved,
    "@font-face set (system fonts)": _without(r"@font-face \{[^}]*\}"),
    "page margin boxes": _without(r"@bottom-(?:left|right) \{[^}]*\}"),
    "logo": _without(r'<img class="logo"[^>]*>'),
    "QR code (SVG)": lambda h: re.sub(r'<div class="qr-code">.*?</div>', '<div class="qr-code"></div>', h, flags=re.S),
    "hyphenation": lambda h: h.replace("hyphens: auto", "hyphens: manual"),
    "screen rules": _without(r"@media screen \{.*?\n\}\n@media screen and \(max-width: 40rem\) \{.*?\n\}\n"),
    "references section": _without(r'<section class="references".*?</section>'),
    "glossary section": _without(r'<section class="glossary".*?</section>'),
    "language-help taglines": _without(r'<div class="language-help">(?:\s*<div class="language-help-column">.*?</div>)*\s*</div>'),
    "references columns": lambda h: h.replace(".references ol { columns: 2;", ".references ol { columns: 1;"),
    "glossary columns": lambda h: h.replace(".terms { list-style: none; padding: 0; margin: 0; columns: 2;", ".terms { list-style: none; padding: 0; margin: 0; columns: 1;"),
    "body columns": lambda h: h.replace(".cols-2 .body:not(.wide) { columns: 2;", ".cols-2 .body:not(.wide) { columns: 1;"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--practice", default="summit-rheumatology")
    parser.add_argument("--handout", default="gut-and-immune-system")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)

    import weasyprint
    import weasyprint.text.line_break as line_break

    from clinicpress.jobs.model import plan
    from clinicpress.jobs.run import run_job, templates, warm_up
    from clinicpress.load.project import load_project
    from clinicpress.render.handout import render_html
    from clinicpress.render.handout.fetcher import SafeFetcher, font_config
    from clinicpress.render.handout.pdf import PDF_VARIANT

    project = load_project(ROOT)
    jobs = [j for j in plan(project) if j.key == f"{args.practice}/{args.handout}"]
    if not jobs:
        sys.exit(f"no handout {args.handout} for {args.practice}")
    job = jobs[0]
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "clinicpress-features"
    warm_up(project, {"handout"})
    run_job(project, job, out)
    html = render_html(
        job.source.model,
        job.practice,
        project.bibliography,
        job.variant,
        templates(ROOT),
        job.source.path.parent,
        out / job.practice.slug,
    )
    base = str((out / job.practice.slug).resolve()) + os.sep

    broken = [0]
    original = line_break.Layout.get_first_line

    def counted(self, *a, **k):
        broken[0] += 1
        return original(self, *a, **k)

    line_break.Layout.get_first_line = counted

    # Pages laid out: more than the document's pages when WeasyPrint lays a page out again (it
    # does for a later page that holds a running element, or when page counters change).
    import weasyprint.layout.page as page_module

    made = [0]
    make_page = page_module.make_page

    def counted_page(*a, **k):
        made[0] += 1
        return make_page(*a, **k)

    page_module.make_page = counted_page  # remake_page looks it up in its module at each call
    docs = {"(as it is)": (html, PDF_VARIANT), "PDF/UA tagging": (html, None)}
    docs.update({name: (f(html), PDF_VARIANT) for name, f in VARIANTS.items()})
    times: dict[str, list[float]] = {name: [] for name in docs}
    info: dict[str, tuple[int, int]] = {}
    for r in range(args.rounds):
        for name, (doc, variant) in docs.items():
            broken[0] = made[0] = 0
            t = time.perf_counter()
            document = weasyprint.HTML(string=doc, base_url=base, url_fetcher=SafeFetcher([ROOT])).render(
                font_config=font_config(), pdf_variant=variant
            )
            document.write_pdf(pdf_variant=variant)
            times[name].append(time.perf_counter() - t)
            if r == 0:
                info[name] = (broken[0], len(document.pages), made[0])
    as_is = statistics.median(times["(as it is)"])
    print(f"{job.key}: median of {args.rounds} interleaved rounds, layout + PDF")
    print(f"{'without':32}{'seconds':>9}{'change':>9}{'lines broken':>14}{'pages':>7}{'laid out':>10}")
    for name in docs:
        m = statistics.median(times[name])
        print(f"{name:32}{m:9.3f}{m - as_is:+9.3f}{info[name][0]:14}{info[name][1]:7}{info[name][2]:10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
