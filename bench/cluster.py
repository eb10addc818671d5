"""Group scale on a Dask cluster (issue 24): the local process pool against a 2-worker LocalCluster.

    python bench/cluster.py                                  # 100 practices x 10 handouts (the issue's size)
    python bench/cluster.py --practices 3 10 --runs 3        # two smaller libraries (a few minutes)

For each library size (N practices x --handouts handouts, PDF + HTML, the synthetic library of
bench/run.py), cold builds (empty output folder, `--no-slide-images`) with `-j 2` (the local
pool) and with `--scheduler local-cluster -j 2` (a LocalCluster of 2 worker processes, started
by the build). Reports medians over --runs: documents per second of each, and what going
through the scheduler costs: extra seconds per document at each size and, with two or more
sizes, split into a fixed start-up (cluster start, shipping the project, the workers' first
imports) and a cost per document (the slope of the extra time over the documents).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import make_library, median, run_build

MODES = {"local pool -j 2": ["-j", "2"], "LocalCluster 2 workers": ["--scheduler", "local-cluster", "-j", "2"]}


def measure(practices: int, handouts: int, runs: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="clinicpress-cluster-"))
    try:
        lib = make_library(tmp / "lib", handouts, practices)
        walls: dict[str, list[float]] = {mode: [] for mode in MODES}
        documents = 0
        for _ in range(runs):
            for mode, args in MODES.items():  # interleaved, so a busy moment on the machine hits both
                shutil.rmtree(lib / "output", ignore_errors=True)
                wall, last, code = run_build(lib, *args, "--format", "pdf", "--format", "html")
                if code != 0:
                    sys.exit(f"{mode} build ended with exit code {code}")
                documents = last.get("rendered") or 0
                walls[mode].append(wall)
        local, cluster = (median(walls[mode]) or 0.0 for mode in MODES)
        row = {
            "practices": practices,
            "documents": documents,
            "local_s": local,
            "cluster_s": cluster,
            "local_docs_per_s": round(documents / local, 2),
            "cluster_docs_per_s": round(documents / cluster, 2),
            "extra_s_per_document": round((cluster - local) / max(documents, 1), 4),
        }
        print(f"cluster bench: {row}", file=sys.stderr)
        return row
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--practices", type=int, nargs="+", default=[100], metavar="N", help="library sizes (default 100)"
    )
    parser.add_argument("--handouts", type=int, default=10, help="handouts per practice (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="cold builds per mode and size; medians (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    rows = [measure(n, args.handouts, args.runs) for n in sorted(set(args.practices))]
    result: dict = {"rows": rows}
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        extra = [r["cluster_s"] - r["local_s"] for r in (first, last)]
        per_doc = (extra[1] - extra[0]) / max(last["documents"] - first["documents"], 1)
        result["scheduler_s_per_document"] = round(per_doc, 4)
        result["cluster_startup_s"] = round(extra[0] - per_doc * first["documents"], 2)
    print(f"\nCold builds, {args.handouts} handouts per practice (PDF + HTML), median of {args.runs}")
    print(
        f"{'practices':>10}{'documents':>11}{'pool s':>9}{'docs/s':>8}{'cluster s':>11}{'docs/s':>8}{'extra s/doc':>13}"
    )
    for r in rows:
        print(
            f"{r['practices']:>10}{r['documents']:>11}{r['local_s']:>9.2f}{r['local_docs_per_s']:>8.2f}"
            f"{r['cluster_s']:>11.2f}{r['cluster_docs_per_s']:>8.2f}{r['extra_s_per_document']:>13.3f}"
        )
    if result.get("cluster_startup_s", 0) < 0:
        print("the split into start-up and per document is noise at these sizes (negative start-up): use larger sizes")
    elif "scheduler_s_per_document" in result:
        print(
            f"going through the scheduler: {result['cluster_startup_s']:.2f} s once (cluster start, project shipped, "
            f"workers' first imports) + {result['scheduler_s_per_document']:.3f} s per document"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
