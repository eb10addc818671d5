"""The `packet` command: one PDF for one patient (a cover page, then the chosen handouts).

The packet is made in memory (clinicpress.jobs.packet, shared with the print desk) and written
only to the file asked for, atomically. The default file name carries the practice, language,
variant and date, never the patient's name; nothing else is written: no cache, manifest,
report or log line holds the patient's words.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .console import Reporter
from .errors import Problem, UserError


def default_name(practice: str, language: str, variant: str, day: dt.date) -> str:
    """The file name when -o is not given (no patient data in it)."""
    suffix = "" if variant == "standard" else f"-{variant}"
    return f"packet-{practice}-{language}{suffix}-{day.isoformat()}.pdf"


def packet_day(root: Path) -> dt.date:
    """The cover's date: pyproject's `today`, SOURCE_DATE_EPOCH, or today (as review ages)."""
    from .load.config import load_config

    return load_config(root).reference_date()


def blocked_items(project) -> frozenset[str]:
    """Content keys whose checks fail (errors): a packet does not print them, as a build does not."""
    from .checker import failing_items, run_checks

    failing = failing_items(run_checks(project), strict=False)
    return frozenset(k for k in failing if k.startswith("handout:"))


def packet(
    root: Path,
    practice: str,
    items: list[str],
    reporter: Reporter,
    *,
    language: str,
    variant: str,
    patient,
    output: Path | None,
) -> int:
    """Makes the packet and writes it to `output` (default: a file in the current folder)."""
    from .jobs.packet import PacketRequest, make_packet
    from .load.project import load_project
    from .write.store import write_file

    root = root.resolve()
    project = load_project(root, practices=[practice])  # an unknown practice is a usage error listing them
    day = packet_day(root)
    request = PacketRequest(practice, tuple(items), language, variant, patient, blocked_items(project))
    pdf = make_packet(project, request, day)
    target = output if output is not None else Path.cwd() / default_name(practice, language, variant, day)
    if target.is_dir():
        raise UserError(Problem(str(target), message="is a folder", hint="give a file name, e.g. -o packet.pdf"))
    write_file(target, pdf)
    reporter.info(f"wrote {target} ({len(items)} handout(s){', with a cover page' if patient else ''})")
    return 0
