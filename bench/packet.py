"""Patient packet latency: three handouts plus a cover page, warm (as the print desk makes them).

Loads the shipped project once, makes one packet cold (every handout laid out), then times
`--runs` more with a different patient each time: only the cover is laid out again; the
handouts come from the warm cache. Also prints the cold time of the `packet` command as a
user runs it (a fresh process).

    python bench/packet.py --runs 9
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRACTICE = "valle-community-health"
ITEMS = ("gut-and-immune-system", "diet-gluten-and-the-aip-diet", "stress-the-brain-and-the-gut")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from clinicpress.jobs.packet import PacketRequest, make_packet
    from clinicpress.load.project import load_project
    from clinicpress.render.packet import Patient

    project = load_project(ROOT, practices=[PRACTICE])
    day = dt.date(2026, 12, 8)

    def one(i: int, lang: str) -> float:
        patient = Patient.typed(name=f"Bench Patient {i}", note="Walk 20 minutes a day.\n\nBring your medicines.")
        started = time.perf_counter()
        make_packet(project, PacketRequest(PRACTICE, ITEMS, lang, "standard", patient), day)
        return time.perf_counter() - started

    for lang in ("en", "es"):
        first = one(0, lang)
        warm = [one(i, lang) for i in range(1, args.runs + 1)]
        print(f"packet ({lang}, 3 handouts + cover): first {first:.2f} s, warm median {statistics.median(warm):.2f} s "
              f"(min {min(warm):.2f}, max {max(warm):.2f}, {args.runs} runs)")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "packet", "--root", str(ROOT), "--practice", PRACTICE, *ITEMS,
             "--patient", "Bench Patient", "-o", str(Path(tmp) / "p.pdf"), "-q"],
            check=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        print(f"packet command, fresh process (imports, load, checks, layout): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
