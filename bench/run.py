"""Build benchmark (not a test): generates a synthetic library and reports medians.

    python bench/run.py                                  # 10 handouts x 3 practices, 3 runs
    python bench/run.py --handouts 30 --practices 12 --runs 5 --json bench.json
    python bench/run.py --profile                        # also print where the time goes
    python bench/run.py --group 10 30 100 --runs 1       # group scale: cost per document as it grows

The synthetic library lives in a temporary folder: the shipped English handouts are copied
(cycling) to N handouts with new slugs and titles, the shipped practices to M practices with
new folder names and practice names; the shipped decks come along. Nothing in the repository
is changed. Builds run as a user runs them (`python build.py build ...` in a subprocess,
started with this interpreter, so a pyenv shim's start-up is not counted).

Measured (median over --runs):
- warm handout render: one handout rendered in a warm process (HTML + PDF, as a worker does),
  and pages per second;
- deck render: the shipped 30-40 slide deck, warm;
- full cold build with -j 1 and -j 2 (empty output folder) and the speed-up;
- no-op rebuild (nothing changed), for the synthetic and for the shipped library;
- rebuild after editing one handout, after changing one practice's logo;
- peak memory of a worker (-j 2), as the build records it (ru_maxrss of each worker);
- the anchors (bench/anchors.py): the same text of each timed handout printed by plain
  WeasyPrint, by Pandoc + WeasyPrint and by Typst, in the same process and run; seconds per
  page of each and our ratio to each (per page, and for the same text);
- the shipped library: cold -j 2 build (without slide pictures, as every build row, and again
  with them: LibreOffice's deck thumbnails, a default build), one-word edit in one handout (a
  `python build.py` each, and under `build --watch`: from the save to the build's last line), no-op;
- the preview (bench/preview.py), in Chromium: from a save to the new page image on screen.

`--group` runs only the group-scale measurement (N practices x 10 handouts, cost per document).
Needs for the anchors: `pip install -e '.[bench]'` (typst) and Debian's pandoc; for the
preview: the test extras and Chromium (`bash scripts/test.sh` installs both). A missing
anchor is reported as "-", never guessed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import anchors  # noqa: E402
import preview  # noqa: E402

TARGETS = {  # issue 16
    "seconds_per_page": ("<=", 0.06),
    "ratio_per_page_plain": ("<=", 2.0),
    "deck_render_s": ("<=", 0.15),
    "cold_shipped_j2_s": ("<=", 10.0),
    "edit_shipped_s": ("<=", 1.5),
    "edit_shipped_watch_s": ("<=", 1.5),
    "noop_shipped_s": ("<=", 0.20),
    "speedup_j2": (">=", 1.7),
    "worker_peak_mib": ("<=", 250.0),
    "preview_save_to_image_s": ("<=", 1.0),
}


# --------------------------------------------------------------------------- the library
def make_library(dest: Path, handouts: int, practices: int) -> Path:
    """Copies the shipped project and grows or trims it to N English handouts and M practices."""
    copy_shipped(dest)
    hdir = dest / "content" / "handouts"
    shipped = sorted(p for p in hdir.glob("*.yml") if not p.name.startswith(("_", ".")))
    shutil.rmtree(hdir / "es", ignore_errors=True)  # translations would double the count; keep it simple
    texts = {p.stem: p.read_text(encoding="utf-8") for p in shipped}
    for p in shipped:
        p.unlink()
    for i in range(handouts):
        src = shipped[i % len(shipped)]
        text = texts[src.stem]
        copy = i // len(shipped)
        slug = src.stem if copy == 0 else f"{src.stem}-{copy + 1}"
        if copy:
            text = re.sub(r"(?m)^slug: .*$", f"slug: {slug}", text, count=1)
            text = re.sub(r"(?m)^title: (.*)$", lambda m, n=copy + 1: f"title: {m.group(1)[:100]} ({n})", text, count=1)
        (hdir / f"{slug}.yml").write_text(text, encoding="utf-8")
    pdir = dest / "practices"
    base = sorted(p for p in pdir.iterdir() if p.is_dir() and (p / "practice.yml").exists())
    for p in base:
        shutil.move(str(p), str(dest / f".shipped-{p.name}"))
    for i in range(practices):
        src = dest / f".shipped-{base[i % len(base)].name}"
        copy = i // len(base)
        name = src.name.removeprefix(".shipped-") + ("" if copy == 0 else f"-{copy + 1}")
        shutil.copytree(src, pdir / name)
        if copy:
            yml = pdir / name / "practice.yml"
            text = yml.read_text(encoding="utf-8")
            yml.write_text(
                re.sub(r"(?m)^name: (.*)$", lambda m, n=copy + 1: f"name: {m.group(1)[:90]} {n}", text, count=1),
                encoding="utf-8",
            )
    for p in base:
        shutil.rmtree(dest / f".shipped-{p.name}")
    return dest


def copy_shipped(dest: Path) -> Path:
    for part in ("content", "practices", "templates", "pyproject.toml"):
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / part)
    return dest


# --------------------------------------------------------------------------- measuring
def run_build(root: Path, *args: str, slide_images: bool = False) -> tuple[float, dict, int]:
    """Runs a build; returns (wall seconds, the build's own record of it, exit code).

    The record's "cpu_seconds" is the CPU time of the build process plus each worker's own
    (workers report it; the fork server that starts them outlives the build, so the
    operating system's child accounting would miss them).
    """
    options = () if slide_images else ("--no-slide-images",)  # LibreOffice's deck thumbnails: a row of their own
    cmd = [sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "-q", *options, *args]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.exit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    try:
        state = json.loads((root / "output" / ".clinicpress-cache.json").read_text())
    except (OSError, ValueError):
        state = {}
    return wall, state.get("last_build", {}), proc.returncode


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def _burn(_=None) -> float:
    t = time.perf_counter()
    x = 0
    for i in range(6_000_000):
        x += i * i
    return time.perf_counter() - t


def cpu_scaling(runs: int) -> float:
    """What two processes gain over one on this machine for pure Python work (2.0 = two full cores)."""
    from concurrent.futures import ProcessPoolExecutor

    ratios = []
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_burn, range(2)))  # start both workers
        for _ in range(runs):
            single = _burn()
            t = time.perf_counter()
            list(pool.map(_burn, range(2)))
            ratios.append(2 * single / (time.perf_counter() - t))
    return round(statistics.median(ratios), 2)


def warm_renders(root: Path, runs: int, profile: bool) -> dict:
    """Times warm handout and deck renders in this process (as a warm worker does them)."""
    from clinicpress.jobs.model import plan
    from clinicpress.jobs.run import run_job, warm_up
    from clinicpress.load.project import load_project

    project = load_project(root)
    first = sorted(project.practices)[0]
    jobs = [j for j in plan(project) if j.practice.slug == first]
    handouts = [j for j in jobs if j.source.kind == "handout"]
    decks = [j for j in jobs if j.source.kind == "deck" and j.source.language == "en"]
    out = root / "output"
    warm_up(project, {"handout", "deck"})
    run_job(project, handouts[0], out)  # first render compiles the templates
    if decks:
        run_job(project, decks[0], out)
    per_handout, pages_per_s, deck_times, slides = [], [], [], None
    texts = {job.key: anchor_texts(project, job, out) for job in handouts}
    anchors.warm(next(iter(texts.values()))[0])
    ratios: dict[str, list[float]] = {"plain": [], "pandoc": [], "typst": []}
    per_page: dict[str, list[float]] = {"ours": [], "plain": [], "pandoc": [], "typst": []}
    for _ in range(runs):
        for job in handouts:
            t = time.perf_counter()
            result = run_job(project, job, out)
            took = time.perf_counter() - t
            per_handout.append(took)
            pages_per_s.append(result.pages / took)
            per_page["ours"].append(took / result.pages)
            _, plain, typst_src = texts[job.key]
            for name, measured in (
                ("plain", anchors.weasyprint_seconds(plain)),
                ("pandoc", anchors.pandoc_weasyprint_seconds(plain)),
                ("typst", anchors.typst_seconds(typst_src)),
            ):
                if measured is not None:
                    seconds, pages = measured
                    per_page[name].append(seconds / pages)
                    ratios[name].append(took / seconds)
        for job in decks[:1]:
            t = time.perf_counter()
            result = run_job(project, job, out)
            deck_times.append(time.perf_counter() - t)
            from clinicpress.render.raster import pptx_slides

            slides = pptx_slides(result.files["pptx"])
    report = {
        "warm_handout_s": median(per_handout),
        "warm_handout_max_s": round(max(per_handout), 4),
        "pages_per_s": median(pages_per_s),
        "seconds_per_page": round(1 / median(pages_per_s), 4),
        "deck_render_s": median(deck_times),
        "deck_slides": slides,
        "handouts_timed": len(handouts),
        **{f"anchor_{name}_s_per_page": median(v) for name, v in per_page.items() if name != "ours"},
        **{f"ratio_same_text_{name}": median(v) for name, v in ratios.items()},
        **{
            f"ratio_per_page_{name}": round(median(per_page["ours"]) / median(v), 2)
            for name, v in per_page.items()
            if name != "ours" and v
        },
    }
    if profile:
        report["profile_handout"] = _profile(lambda: [run_job(project, j, out) for j in handouts[:3]])
        if decks:
            report["profile_deck"] = _profile(lambda: run_job(project, decks[0], out))
    return report


def anchor_texts(project, job, out: Path) -> tuple[str, str, str]:
    """Our HTML of a handout, and the same text as bare HTML and as Typst markup."""
    from clinicpress.jobs.run import templates
    from clinicpress.render.handout import render_html

    html = render_html(
        job.source.model,
        job.practice,
        project.bibliography,
        job.variant,
        templates(project.root),
        job.source.path.parent,
        out / job.practice.slug,
    )
    blocks = anchors.text_blocks(html)
    paper = "a4" if "size: A4" in html else "us-letter"
    return html, anchors.plain_html(blocks, job.source.language), anchors.typst_source(blocks, paper)


def _profile(fn, top: int = 18) -> str:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def profile_full_path(root: Path) -> str:
    """Where an incremental build spends its time before rendering (load, checks, report)."""
    from clinicpress.checks import check_project
    from clinicpress.load.project import load_project

    def run():
        project = load_project(root)
        check_project(project)

    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumtime").print_stats(25)
    return buf.getvalue()


def phase_times(root: Path) -> dict:
    """Seconds to import, load and check the project (what every non-no-op build pays)."""
    code = (
        "import time; t0 = time.perf_counter(); from pathlib import Path; "
        "from clinicpress.load.project import load_project; from clinicpress.checks import check_project; "
        f"t1 = time.perf_counter(); p = load_project(Path({str(root)!r})); t2 = time.perf_counter(); "
        "check_project(p); t3 = time.perf_counter(); print(t1 - t0, t2 - t1, t3 - t2)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    return {"import_s": round(float(out[0]), 3), "load_s": round(float(out[1]), 3), "checks_s": round(float(out[2]), 3)}


def touch_handout(root: Path, n: int) -> None:
    path = sorted((root / "content" / "handouts").glob("*.yml"))[0]
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^title: (.*?)( v\d+)?$", lambda m: f"title: {m.group(1)} v{n}", text, count=1)
    path.write_text(text, encoding="utf-8")


def touch_word(root: Path, n: int) -> None:
    """Changes one word in the first English handout (as a writer's edit does): the first
    " the " becomes " this " on odd runs and back on even ones."""
    path = sorted((root / "content" / "handouts").glob("*.yml"))[0]
    text = path.read_text(encoding="utf-8")
    old, new = (" the ", " this ") if n % 2 else (" this ", " the ")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def touch_logo(root: Path, n: int) -> None:
    practice = sorted(p for p in (root / "practices").iterdir() if p.is_dir())[0]
    for logo in sorted(practice.glob("logo*.svg")):
        svg = re.sub(r"<!-- bench \d+ -->", "", logo.read_text(encoding="utf-8"))
        logo.write_text(
            svg.replace("</svg>", f'<rect width="{n % 5 + 1}" height="1" fill="#ffffff"/></svg>'), encoding="utf-8"
        )


def watch_edits(root: Path, runs: int) -> tuple[float | None, int | None]:
    """Median seconds from saving a one-word edit to `build --watch` printing its build's last
    line (every affected PDF written), and how many documents each edit rendered."""
    import queue
    import threading

    cmd = [sys.executable, str(ROOT / "build.py"), "build", "--root", str(root), "-q", "--no-slide-images", "--watch"]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.perf_counter(), line)) for line in proc.stderr], daemon=True).start()

    def wait_for(text: str) -> tuple[float, str]:
        while True:
            at, line = lines.get(timeout=300)
            if text in line:
                return at, line

    times, rendered = [], None
    try:
        wait_for("watching ")
        for i in range(max(runs, 3)):
            time.sleep(1.0)  # the edits of a writer, not a burst
            saved = time.perf_counter()
            touch_word(root, i + 1)
            at, line = wait_for(" rendered, ")
            times.append(at - saved)
            rendered = int(line.split()[0])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            sys.exit("build --watch did not stop on Ctrl-C within 60 s")
    return median(times), rendered


def bench(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="clinicpress-bench-"))
    try:
        lib = make_library(tmp / "lib", args.handouts, args.practices)
        shipped = copy_shipped(tmp / "shipped")
        results: dict = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            },
            "library": {"handouts": args.handouts, "practices": args.practices, "runs": args.runs},
        }
        print(f"library: {args.handouts} handouts x {args.practices} practices (+ decks) in {lib}", file=sys.stderr)
        results["machine"]["two_process_speedup"] = cpu_scaling(max(args.runs, 3))
        results.update(warm_renders(lib, args.runs, args.profile))
        results.update(phase_times(lib))

        cold: dict[int, list[float]] = {1: [], 2: []}
        cold_cpu: dict[int, list[float]] = {1: [], 2: []}
        peaks: list[float] = []
        documents = None
        for _ in range(args.runs):
            for jobs in (1, 2):
                shutil.rmtree(lib / "output", ignore_errors=True)
                wall, last, _ = run_build(lib, "-j", str(jobs))
                cold[jobs].append(wall)
                cold_cpu[jobs].append(last.get("cpu_seconds"))
                documents = last.get("rendered")
                if jobs == 2 and last.get("worker_peak_rss_mib"):
                    peaks.append(last["worker_peak_rss_mib"])
        results["documents"] = documents
        results["cold_j1_s"] = median(cold[1])
        results["cold_j2_s"] = median(cold[2])
        results["speedup_j2"] = round(results["cold_j1_s"] / results["cold_j2_s"], 2)
        results["cold_j1_cpu_s"] = median(cold_cpu[1])
        results["cold_j2_cpu_s"] = median(cold_cpu[2])
        # With two free cores, -j 2 takes at least half its CPU time (plus the serial start):
        results["speedup_j2_two_free_cores"] = round(
            results["cold_j1_cpu_s"] / max(results["cold_j2_cpu_s"] / 2, 1e-9), 2
        )
        results["worker_peak_mib"] = max(peaks) if peaks else None

        noop, edit, logo = [], [], []
        edit_rendered = logo_rendered = None
        run_build(lib)
        for i in range(args.runs):
            noop.append(run_build(lib)[0])
            touch_handout(lib, i + 1)
            wall, last, _ = run_build(lib)
            edit.append(wall)
            edit_rendered = last.get("rendered")
            touch_logo(lib, i + 1)
            wall, last, _ = run_build(lib)
            logo.append(wall)
            logo_rendered = last.get("rendered")
        results.update(
            {
                "noop_s": median(noop),
                "edit_one_handout_s": median(edit),
                "edit_rendered": edit_rendered,
                "change_logo_s": median(logo),
                "logo_rendered": logo_rendered,
            }
        )

        shipped_cold, shipped_edit = [], []
        for _ in range(args.runs):
            shutil.rmtree(shipped / "output", ignore_errors=True)
            wall, last, _ = run_build(shipped, "-j", "2")
            shipped_cold.append(wall)
            results["shipped_documents"] = last.get("rendered")
        shipped_pictures = []
        for _ in range(args.runs):  # the default build: each deck's thumbnail drawn by LibreOffice
            shutil.rmtree(shipped / "output", ignore_errors=True)
            shipped_pictures.append(run_build(shipped, "-j", "2", slide_images=True)[0])
        results["cold_shipped_j2_pictures_s"] = median(shipped_pictures)
        for i in range(args.runs):
            touch_word(shipped, i + 1)
            wall, last, _ = run_build(shipped)
            shipped_edit.append(wall)
            results["shipped_edit_rendered"] = last.get("rendered")
        results["cold_shipped_j2_s"] = median(shipped_cold)
        results["edit_shipped_s"] = median(shipped_edit)
        results["edit_shipped_watch_s"], results["watch_edit_rendered"] = watch_edits(shipped, args.runs)
        results["noop_shipped_s"] = median([run_build(shipped)[0] for _ in range(max(args.runs, 3))])
        why = preview.available()
        if why is None:
            results.update(preview.preview_latency(copy_shipped(tmp / "preview"), max(args.runs, 3)))
        else:
            results["preview_skipped"] = why
        results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        if args.profile:
            results["profile_load_and_checks"] = profile_full_path(lib)
        return results
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def group_scale(args) -> dict:
    """Cost per document as a group's library grows: N practices x 10 handouts, cold, -j 2.

    Handouts only (PDF + HTML), one English copy each. Flat means the per-document cost at 100
    practices is close to the one at 10: nothing in loading, planning, checking or writing grows
    faster than the library.
    """
    rows = []
    for practices in args.group:
        tmp = Path(tempfile.mkdtemp(prefix="clinicpress-group-"))
        try:
            lib = make_library(tmp / "lib", 10, practices)
            walls, per_doc, documents = [], [], None
            for _ in range(args.runs):
                shutil.rmtree(lib / "output", ignore_errors=True)
                wall, last, _ = run_build(lib, "-j", "2", "--format", "pdf", "--format", "html")
                documents = last.get("rendered") or 0
                walls.append(wall)
                per_doc.append(wall / max(documents, 1))
            noop = median([run_build(lib, "--format", "pdf", "--format", "html")[0] for _ in range(args.runs)])
            phases = phase_times(lib)
            rows.append(
                {
                    "practices": practices,
                    "documents": documents,
                    "cold_j2_s": median(walls),
                    "seconds_per_document": median(per_doc),
                    "noop_s": noop,
                    **phases,
                }
            )
            print(f"group: {practices} practices, {documents} documents, {median(walls)} s", file=sys.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return {"group_scale": rows}


def print_group(rows: list[dict]) -> None:
    print("\nGroup scale: N practices x 10 handouts (PDF + HTML), cold build -j 2")
    print(
        f"{'practices':>10}{'documents':>11}{'cold s':>9}{'s/document':>12}{'no-op s':>9}{'load s':>8}{'checks s':>10}"
    )
    for r in rows:
        print(
            f"{r['practices']:>10}{r['documents']:>11}{r['cold_j2_s']:>9.2f}{r['seconds_per_document']:>12.3f}"
            f"{r['noop_s']:>9.2f}{r['load_s']:>8.2f}{r['checks_s']:>10.2f}"
        )
    if len(rows) > 1:
        growth = rows[-1]["seconds_per_document"] / rows[0]["seconds_per_document"]
        print(
            f"cost per document at {rows[-1]['practices']} practices / at {rows[0]['practices']}: {growth:.2f}x "
            f"({'flat' if growth <= 1.2 else 'GROWS'}; flat is at most 1.2x)"
        )


def verdict(name: str, value) -> str:
    if name not in TARGETS or value is None:
        return ""
    op, target = TARGETS[name]
    ok = value <= target if op == "<=" else value >= target
    return f"{'met' if ok else 'MISSED'} ({op} {target:g})"


def print_table(r: dict) -> None:
    rows = [
        ("warm handout render (median)", "warm_handout_s", "s"),
        ("  slowest handout", "warm_handout_max_s", "s"),
        ("pages per second (warm)", "pages_per_s", "pages/s"),
        ("seconds per page (warm)", "seconds_per_page", "s"),
        ("  anchor: plain WeasyPrint, same text", "anchor_plain_s_per_page", "s/page"),
        ("  anchor: Pandoc + WeasyPrint, same text", "anchor_pandoc_s_per_page", "s/page"),
        ("  anchor: Typst, same text", "anchor_typst_s_per_page", "s/page"),
        ("  ours / plain WeasyPrint, per page", "ratio_per_page_plain", "x"),
        ("  ours / plain WeasyPrint, same text", "ratio_same_text_plain", "x"),
        ("  ours / Pandoc + WeasyPrint, same text", "ratio_same_text_pandoc", "x"),
        ("  ours / Typst, same text", "ratio_same_text_typst", "x"),
        (f"deck render ({r.get('deck_slides')} slides)", "deck_render_s", "s"),
        ("import + load + checks", None, ""),
        ("  import", "import_s", "s"),
        ("  load and validate", "load_s", "s"),
        ("  quality checks", "checks_s", "s"),
        (f"full cold build -j 1 ({r.get('documents')} documents)", "cold_j1_s", "s"),
        ("full cold build -j 2", "cold_j2_s", "s"),
        ("speed-up 1 -> 2 workers", "speedup_j2", "x"),
        ("  CPU time of the -j 1 build", "cold_j1_cpu_s", "s"),
        ("  CPU time of the -j 2 build (all workers)", "cold_j2_cpu_s", "s"),
        ("  upper bound on two free cores: CPU j1 / (CPU j2 / 2)", "speedup_j2_two_free_cores", "x"),
        ("no-op rebuild (synthetic)", "noop_s", "s"),
        ("no-op rebuild (shipped library)", "noop_shipped_s", "s"),
        (
            f"full cold build of the shipped library -j 2 ({r.get('shipped_documents')} documents)",
            "cold_shipped_j2_s",
            "s",
        ),
        ("  the same with slide pictures (LibreOffice's deck thumbnails, the default)", "cold_shipped_j2_pictures_s", "s"),
        (
            f"shipped library: edit one word in one handout ({r.get('shipped_edit_rendered')} rendered)",
            "edit_shipped_s",
            "s",
        ),
        (
            f"  the same under `build --watch`: save -> every affected PDF written ({r.get('watch_edit_rendered')} rendered)",
            "edit_shipped_watch_s",
            "s",
        ),
        (f"rebuild after editing one handout ({r.get('edit_rendered')} rendered)", "edit_one_handout_s", "s"),
        (f"rebuild after one practice's logo ({r.get('logo_rendered')} rendered)", "change_logo_s", "s"),
        ("peak memory per worker (-j 2)", "worker_peak_mib", "MiB"),
        ("preview: save -> new page image on screen (Chromium)", "preview_save_to_image_s", "s"),
        ("  slowest save", "preview_save_to_image_max_s", "s"),
        ("preview: first open of a handout", "preview_first_open_s", "s"),
    ]
    m = r["machine"]
    lib = r["library"]
    print(
        f"ClinicPress build benchmark: {lib['handouts']} handouts x {lib['practices']} practices, "
        f"median of {lib['runs']} runs"
    )
    print(
        f"machine: {m['cpus']} CPUs, {m['processor']}, Python {m['python']}, {m['platform']}; "
        f"load average {m['load_average_at_start']} -> {m.get('load_average_at_end')}"
    )
    print(
        f"two processes vs one on this machine (pure Python loop): {m.get('two_process_speedup')}x "
        "(2.0 = two free cores; the -j 2 speed-up cannot exceed it)"
    )
    width = max(len(label) for label, _, _ in rows) + 2
    for label, key, unit in rows:
        if key is None:
            print(label)
            continue
        value = r.get(key)
        shown = "-" if value is None else (f"{value:.3f}" if isinstance(value, float) else str(value))
        print(f"{label:<{width}}{shown:>10} {unit:<8}{verdict(key, value)}")
    for key in ("profile_handout", "profile_deck", "profile_load_and_checks"):
        if key in r:
            print(f"\n--- {key} ---\n{r[key]}")


def main(argv: list[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started in the background by a shell (`... &`): SIGINT is ignored here and in every
        # process started from here, so the watch row's Ctrl-C would never stop its watch.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--handouts", type=int, default=10, help="handouts in the synthetic library (default 10)")
    parser.add_argument("--practices", type=int, default=3, help="practices in the synthetic library (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; medians are reported (default 3)")
    parser.add_argument(
        "--json",
        metavar="FILE",
        nargs="?",
        const="-",
        help="also write the results as JSON (to FILE, or stdout with no FILE)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile summaries of renders and checks")
    parser.add_argument("--keep", action="store_true", help="keep the temporary library")
    parser.add_argument(
        "--group",
        type=int,
        nargs="*",
        metavar="N",
        help="only the group-scale run: libraries of N practices x 10 handouts (default 10 30 100)",
    )
    args = parser.parse_args(argv)
    if args.handouts < 1 or args.practices < 1 or args.runs < 1:
        parser.error("--handouts, --practices and --runs must be at least 1")
    if args.group is not None:
        args.group = args.group or [10, 30, 100]
        results = group_scale(args)
        if args.json == "-":
            json.dump(results, sys.stdout, indent=2)
            print()
        else:
            print_group(results["group_scale"])
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        return 0
    results = bench(args)
    if args.json == "-":
        json.dump(results, sys.stdout, indent=2)
        print()
    else:
        print_table(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
