"""Command line: parsing and reporting only; it turns the arguments into BuildSettings and calls the API."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from .errors import Problem, UsageError, UserError

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2, no traceback) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(Problem(self.prog, message=message, hint=f"run '{self.prog} --help'"))


def _root(p: argparse.ArgumentParser) -> None:
    """--root: every command that works inside a project takes it (and is refused outside one)."""
    p.add_argument("--root", type=Path, default=Path.cwd(), help="project folder (default: current folder)")


def _common(p: argparse.ArgumentParser) -> None:
    _root(p)
    p.add_argument("--practice", action="append", metavar="SLUG", help="only this practice (repeatable)")
    p.add_argument("--only", action="append", metavar="SLUG", help="only this handout or deck (repeatable)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="plain, minimal output (for CI logs)")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks for unexpected errors")


def program_name(argv0: str | None = None) -> str:
    """How the user called the tool: `python build.py` through the entry script, else `clinicpress`."""
    name = Path(sys.argv[0] if argv0 is None else argv0).name
    return f"python {name}" if name.endswith(".py") and name != "__main__.py" else "clinicpress"


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog=program_name(),
        description="ClinicPress: branded patient handouts (PDF) and talk decks "
        "(PPTX) from YAML content, for every practice.",
    )
    parser.add_argument("--version", action="version", version=f"clinicpress {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    _build_command(sub)
    c = sub.add_parser(
        "check",
        help="validate content and run the quality checks; write nothing",
        description="Validate every input and run the quality gates without rendering.",
    )
    _common(c)
    c.add_argument(
        "--format",
        dest="report_format",
        choices=["table", "json"],
        default="table",
        help="table (default) or json: the report (shape: docs/report.schema.json) on standard output",
    )

    i = sub.add_parser(
        "init",
        help="start a project of your own: templates, an example handout and a practice",
        description="Create a new ClinicPress project in DIR (default: this folder): the default "
        "templates, one example handout with its references, a starter practice and a README for "
        "the team. It builds as it is.",
    )
    i.add_argument("dir", nargs="?", type=Path, default=Path.cwd(), help="the new project folder")
    i.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)

    n = sub.add_parser(
        "new-practice",
        help="create a practice folder with commented starter files",
        description="Scaffold practices/SLUG/ with practice.yml, _brand.yml and a logo.",
    )
    n.add_argument("slug", help="folder name: lowercase letters, digits and hyphens")
    _root(n)
    n.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)

    r = sub.add_parser(
        "review",
        help="list what a practice has approved, what changed since, and what was never approved",
        description="List every handout and deck a practice prints as approved, changed since approval "
        "(with the changed words), never approved, or expired. Exit status 1 while anything needs a clinician.",
    )
    r.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
    r.add_argument("--only", action="append", metavar="SLUG", help="only this handout or deck (repeatable)")
    _root(r)
    r.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    r.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)

    a = sub.add_parser(
        "approve",
        help="record a clinician's approval of the current text of handouts or decks",
        description="Record in practices/SLUG/approvals.yml that a clinician approved the current text of "
        "each ITEM (a slug for English, slug:es for a translation). Refuses placeholder names and items "
        "with check errors.",
    )
    a.add_argument("items", nargs="+", metavar="ITEM", help="slug (English) or slug:LANG")
    a.add_argument("--practice", required=True, metavar="SLUG", help="the practice")
    a.add_argument("--by", required=True, metavar='"NAME, CREDENTIALS"', help='who approves, e.g. "Dana Ortiz, MD"')
    _root(a)
    a.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    a.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)

    _packet_command(sub)
    _desk_command(sub)

    pv = sub.add_parser(
        "preview",
        help="serve a live preview on 127.0.0.1 that follows every save",
        description="Serve a local page (127.0.0.1 only) with each handout's pages, each deck's "
        "slides and their check findings; it rebuilds and refreshes when content/, "
        "templates/ or practices/ change. Nothing is written to the output folder.",
    )
    pv.add_argument("--practice", metavar="SLUG", default=None, help="practice to preview (default: the first)")
    pv.add_argument("--port", type=int, default=8765, metavar="N", help="port on 127.0.0.1 (default: 8765)")
    _root(pv)
    pv.add_argument("-v", "--verbose", action="store_true", help="log requests and show tracebacks")

    comp = sub.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description="Print a script that makes your shell complete ClinicPress commands and options. "
        'bash: eval "$(clinicpress completion bash)" in ~/.bashrc; zsh: the same in ~/.zshrc; '
        "fish: clinicpress completion fish > ~/.config/fish/completions/clinicpress.fish",
    )
    comp.add_argument("shell", choices=["bash", "zsh", "fish"], help="your shell")
    return parser


def _packet_command(sub) -> None:
    """The packet command: one PDF for one patient."""
    k = sub.add_parser(
        "packet",
        help="one PDF for a patient: a cover page with their name and your note, then the chosen handouts",
        description="Print chosen handouts as one PDF in any language and variant the content has, for any "
        "practice, with an optional cover page for the patient (name, date, clinician, note, next visit). "
        "Nothing about the patient is kept: only the file you ask for is written.",
    )
    k.add_argument("items", nargs="+", metavar="ITEM", help="handout slug, in the order to print")
    k.add_argument("--practice", required=True, metavar="SLUG", help="the practice whose brand to print in")
    k.add_argument("--lang", default="en", metavar="LANG", help="language (default: en)")
    k.add_argument("--variant", default="standard", metavar="NAME", help="standard, large-print or print-shop")
    k.add_argument("--patient", metavar='"NAME"', help="patient's name for the cover page")
    k.add_argument(
        "--note", metavar='"TEXT"', help="the clinician's note and next steps (a blank line starts a paragraph)"
    )
    k.add_argument("--next-visit", metavar='"WHEN"', help="next visit, as it should be printed")
    k.add_argument("--clinician", metavar='"NAME"', help="the clinician, as it should be printed")
    k.add_argument(
        "-o", "--output", type=Path, default=None, help="PDF to write (default: packet-PRACTICE-LANG-DATE.pdf here)"
    )
    _root(k)
    k.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    k.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)


def _desk_command(sub) -> None:
    """The desk command: the print desk's local page."""
    d = sub.add_parser(
        "desk",
        help="the print desk: a local page to find, preview and print handouts for a patient",
        description="Serve the print desk on 127.0.0.1: search and preview a practice's handouts, "
        "pick several, type the patient's name and a note, and print one PDF. Nothing is kept.",
    )
    d.add_argument("--practice", metavar="SLUG", default=None, help="practice (default: the first)")
    d.add_argument("--port", type=int, default=8766, metavar="N", help="port on 127.0.0.1 (default: 8766)")
    _root(d)
    d.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")


def _build_command(sub) -> None:
    """The build command and its options (the default command)."""
    b = sub.add_parser(
        "build",
        help="render every handout and deck for every practice (default)",
        description="Render handouts (PDF + HTML) and decks (PPTX) into the output folder.",
    )
    _common(b)
    b.add_argument(
        "--format",
        action="append",
        choices=["pdf", "html", "pptx", "slides-pdf"],
        help="only these formats (slides-pdf: a deck's slides with their speaker notes, through LibreOffice; "
        "only when asked for)",
    )
    b.add_argument(
        "--variant",
        action="append",
        choices=["standard", "large-print", "print-shop"],
        help="handout variants to build (default: standard)",
    )
    b.add_argument("-o", "--output", type=Path, default=None, help="output folder (default: ROOT/output)")
    b.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: number of cores; 1 renders in this process)",
    )
    b.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="render on a Dask cluster: its scheduler (tcp://HOST:8786), or local-cluster to start one "
        "here; `local` is the process pool (default: the project's executor option)",
    )
    b.add_argument(
        "--no-cache",
        action="store_true",
        help="render every selected output again, trusting no cached hash (outputs outside the selection stay valid; the results are the same bytes)",
    )
    b.add_argument(
        "--watch",
        action="store_true",
        help="after building, build again whenever a file under content/, templates/ or practices/ is saved "
        "(warm workers: an edit reaches its PDFs in about a second); Ctrl-C stops",
    )
    b.add_argument(
        "--no-slide-images",
        action="store_true",
        help="skip LibreOffice slide pictures for decks in output/index.html (faster)",
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["build", *argv]
    verbose = "-v" in argv or "--verbose" in argv
    from .console import Reporter

    reporter = Reporter(quiet="-q" in argv or "--quiet" in argv)
    if "_ARGCOMPLETE" in os.environ:  # the shell is asking for completions (argcomplete); answers and exits
        import argcomplete

        argcomplete.autocomplete(build_parser())
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            args = build_parser().parse_args(["build", *argv])
        return _dispatch(args, reporter)
    except UserError as exc:
        reporter.problems(exc.problems, exit_code=exc.exit_code)
        return exc.exit_code
    except KeyboardInterrupt:
        reporter.error("interrupted; outputs already written are complete, nothing is half-written")
        return 130
    except Exception as exc:  # an unexpected bug: say so plainly, traceback only on request
        if verbose:
            raise
        reporter.internal_error(exc)
        return 3


def settings_from_args(args: argparse.Namespace):
    """The BuildSettings a `build` or `check` command line asks for."""
    from .settings import BuildSettings

    return BuildSettings(
        root=args.root,
        output=getattr(args, "output", None),
        practices=tuple(args.practice or ()),
        only=tuple(args.only or ()),
        formats=tuple(getattr(args, "format", None) or ()),
        variants=tuple(getattr(args, "variant", None) or ()),
        strict=bool(args.strict),
        jobs=getattr(args, "jobs", None),
        scheduler=getattr(args, "scheduler", None),
        no_cache=bool(getattr(args, "no_cache", False)),
        slide_images=not getattr(args, "no_slide_images", False),
        quiet=bool(args.quiet),
        verbose=bool(getattr(args, "verbose", False)),
        report_format=getattr(args, "report_format", "table"),
    )


def _dispatch(args: argparse.Namespace, reporter) -> int:
    if args.command == "build":
        if args.watch:
            from .watch import watch

            return watch(settings_from_args(args), reporter)
        from .builder import build

        return build(settings_from_args(args), reporter)
    if args.command == "check":
        from .checker import check

        return check(settings_from_args(args), reporter)
    if args.command == "completion":
        import argcomplete

        sys.stdout.write(argcomplete.shellcode(["clinicpress"], shell=args.shell))
        return EXIT_OK
    if args.command == "init":
        from .scaffold import init_project

        path = init_project(args.dir)
        prog = program_name()
        if prog != "clinicpress":  # through a script: name it in full, it is not in the new folder
            prog = f"python {Path(sys.argv[0]).resolve()}"
        reporter.info(f"created a ClinicPress project in {path}; build it with: {prog} build --root {path}")
        return EXIT_OK
    from .settings import require_project

    require_project(args.root.resolve())  # every command below works inside a project
    if args.command == "new-practice":
        from .scaffold import new_practice

        path = new_practice(args.root.resolve(), args.slug)
        reporter.info(
            f"created {path}; edit practice.yml and _brand.yml, then run: {program_name()} --practice {args.slug}"
        )
        return EXIT_OK
    if args.command == "review":
        from .signoff import review

        return review(args.root.resolve(), args.practice, reporter, only=tuple(args.only or ()))
    if args.command == "approve":
        from .signoff import approve

        return approve(args.root.resolve(), args.practice, args.items, args.by, reporter)
    if args.command == "packet":
        from .packet import packet
        from .render.packet import Patient

        fields = (args.patient, args.note, args.next_visit, args.clinician)
        patient = (
            Patient.typed(name=args.patient, note=args.note, next_visit=args.next_visit, clinician=args.clinician)
            if any(fields)
            else None
        )
        return packet(
            args.root,
            args.practice,
            args.items,
            reporter,
            language=args.lang,
            variant=args.variant,
            patient=patient,
            output=args.output,
        )
    if args.command == "desk":
        from .serve.desk import desk

        return desk(args.root, practice=args.practice, port=args.port, reporter=reporter, verbose=args.verbose)
    if args.command == "preview":
        from .serve import serve

        return serve(args.root, practice=args.practice, port=args.port, reporter=reporter, verbose=args.verbose)
    raise UsageError(Problem("build.py", message=f"unknown command {args.command!r}"))
