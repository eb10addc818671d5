"""The package's shape: imports run down the stages, and no two modules import each other.

Stages, from the bottom: load → render → checks → jobs → write → builder → cli/serve. The
shared base (errors, settings, console) may be imported from anywhere and imports nothing above.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "clinicpress"
BASE = {"clinicpress.errors", "clinicpress.settings", "clinicpress.console"}
STAGES = ["load", "render", "checks", "jobs", "write", "builder", "top"]
COMMANDS = {"builder", "checker", "signoff", "packet", "watch"}
"""The build, check, sign-off, packet and watch commands form one stage."""
"""Bottom to top; a module may import its own stage, lower stages and the base."""
TOP = {"cli", "scaffold", "serve", "__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str | None:
    """The stage of a clinicpress module, or None for the shared base."""
    if module in BASE:
        return None
    if module == "clinicpress":  # the public API on top of everything
        return "top"
    first = module.split(".")[1]
    return "top" if first in TOP else "builder" if first in COMMANDS else first


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:` (names for annotations, not run-time imports)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            out.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return out


def imports(path: Path, *, type_only: bool = True) -> set[str]:
    """Every clinicpress module `path` imports, at module level or inside functions.

    `type_only=False` leaves out the imports made only for type annotations.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    skip = set() if type_only else _type_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("clinicpress"):
                continue
            for alias in node.names:  # `from . import schema` names a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("clinicpress"))
    found.discard(me)
    return found


def _exists(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph(*, type_only: bool = True) -> dict[str, set[str]]:
    return {module_name(p): imports(p, type_only=type_only) for p in sorted(PACKAGE.rglob("*.py"))}


def test_the_stage_list_knows_every_top_level_name():
    names = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())}
    known = {m.split(".")[1] for m in BASE if "." in m} | set(STAGES) | TOP | COMMANDS | {"__init__"}
    assert names <= known, f"add {sorted(names - known)} to a stage in this test and to docs/architecture.md"


def test_imports_run_down_the_stages():
    upward = []
    for module, targets in graph().items():
        mine = stage(module)
        for target in targets:
            theirs = stage(target)
            if theirs is None or target == "clinicpress":  # the base, or `from .. import __version__`
                continue
            if mine is None or STAGES.index(theirs) > STAGES.index(mine):
                upward.append(f"{module} ({mine or 'base'}) imports {target} ({theirs})")
    assert not upward, "imports that run up the stages:\n" + "\n".join(sorted(upward))


def test_no_two_modules_import_each_other():
    """At run time; a slide builder may name the DeckRenderer type it is handed (TYPE_CHECKING)."""
    g = graph(type_only=False)
    mutual = sorted({tuple(sorted((a, b))) for a, targets in g.items() for b in targets
                     if a in g.get(b, set()) and not _is_package_of(a, b)})
    assert not mutual, f"modules that import each other: {mutual}"


def _is_package_of(a: str, b: str) -> bool:
    """A package's __init__ re-exporting its own submodule is not a cycle of two modules."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def test_the_checker_sees_an_upward_import(tmp_path: Path):
    """The test above can fail: a load module importing the writer is reported."""
    fake = PACKAGE / "load" / "_arch_probe.py"
    fake.write_text("from ..write.store import write_atomic\n", encoding="utf-8")
    try:
        offenders = [t for t in imports(fake) if STAGES.index(stage(t) or "load") > STAGES.index("load")]
    finally:
        fake.unlink()
    assert offenders == ["clinicpress.write.store"]
