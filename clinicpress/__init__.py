"""ClinicPress: branded patient handouts and talk decks from YAML content.

The command line is a thin layer over this API, so a group can drive ClinicPress from its
own scripts::

    import clinicpress

    project = clinicpress.load_project("path/to/project")      # validated; raises UserError
    code = clinicpress.build("path/to/project", practices=("summit-rheumatology",), jobs=2)

`build` and `check` take the fields of `clinicpress.settings.BuildSettings` as keywords and
return the exit code the CLI would (0 ok, 1 content or check errors, 3 an internal error);
invalid input raises `clinicpress.errors.UserError`, whose `.problems` name file, line and field.
Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from .console import Reporter
    from .load.project import Project
    from .settings import BuildSettings

__all__ = ["__version__", "build", "check", "load_project"]


def load_project(root: str | Path = ".", *, practices: list[str] | None = None) -> Project:
    """Loads and validates every input of the project at `root` (only `practices`, if given)."""
    from .load.project import load_project as load

    return load(Path(root).resolve(), practices=practices)


def build(root: str | Path = ".", *, reporter: Reporter | None = None, **options: Any) -> int:
    """Builds what changed into ROOT/output (or `output=`), as `python build.py build` does."""
    from .builder import build as run

    settings = _settings(root, options)
    return run(settings, reporter or _reporter(settings))


def check(root: str | Path = ".", *, reporter: Reporter | None = None, **options: Any) -> int:
    """Validates every input and runs the quality checks, as `python build.py check` does; writes nothing."""
    from .checker import check as run

    settings = _settings(root, options)
    return run(settings, reporter or _reporter(settings))


def _settings(root: str | Path, options: dict[str, Any]) -> BuildSettings:
    from .settings import BuildSettings

    return BuildSettings(root=Path(root), **options)


def _reporter(settings: BuildSettings) -> Reporter:
    from .console import Reporter

    return Reporter(quiet=settings.quiet)
