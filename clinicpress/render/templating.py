"""The one Jinja2 environment: sandboxed, autoescaping, strict, practice-first search path.

Practice templates come from outside designers, so they run in a hardened
ImmutableSandboxedEnvironment: no underscore attributes, no file paths, modules or classes,
no class methods, no huge ranges, powers or repeats, and template files are read only from
inside the search path (a symlink that leads out is refused). Links that would embed a file
(`rel="attachment"`) are refused by the PDF renderer on its own parse of the HTML
(`handout.pdf`). Content is data passed to templates and never itself
compiled as a template, so `{{ ... }}` typed in content is shown as text. A practice
override of `handout/base.html.j2` replaces the default; it can also
`{% extends "!default/handout/base.html.j2" %}` and replace one block.
"""

from __future__ import annotations

import functools
import io
import os
import re
import types
from collections.abc import Generator
from pathlib import Path, PurePath
from typing import cast

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from ..errors import BUDGET_HINT, OverBudget, Problem, UserError, rel
from ..load.citations import Numbering, compress
from ..load.i18n import direction, html_lang
from ..load.schema import CITE_RE

DEFAULT_PREFIX = "!default"
LINK_SCHEMES = ("https://", "http://", "mailto:", "tel:")
"""The only links content may make (in handouts, also #fragments within the page)."""


def safe_link(url: str, *, fragment: bool = False) -> bool:
    """True if content may link to `url`: web, e-mail or phone (and `#...` where `fragment`)."""
    url = url.lower()
    return url.startswith(LINK_SCHEMES) or (fragment and url.startswith("#"))


@functools.cache
def _markdown() -> MarkdownIt:
    """CommonMark without raw HTML or images (content cannot pull in files or markup)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = lambda url: safe_link(url, fragment=True)  # type: ignore[method-assign]  # markdown-it-py's documented hook
    return md


_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")
_CJK_CITE_RE = re.compile(
    "([^\\s<>])\ue000(\\d+)\ue001([\u3001\u3002\uff01\uff09\uff0c\uff1a\uff1b\uff1f\u300d\u300f]+)"
)


def render_markdown(text: str, numbering: Numbering | None, *, inline: bool = False) -> Markup:
    """Renders CommonMark with `[@key]` citations as linked superscript numbers."""
    groups: list[list[str]] = []

    def stash(m: re.Match) -> str:
        groups.append([p.strip().lstrip("@") for p in m.group(1).split(";")])
        return _PLACEHOLDER.format(len(groups) - 1)

    text = CITE_RE.sub(stash, text or "")
    md = _markdown()
    out = md.renderInline(text) if inline else md.render(text)

    def cite_html(m: re.Match, group: int = 1) -> str:
        keys = groups[int(m.group(group))]
        if numbering is None:
            return ""
        nums = numbering.numbers(keys)
        if not nums:
            return ""
        label = compress(nums)
        return f'<sup class="cite"><a href="#ref-{nums[0]}" aria-label="references {label}">{label}</a></sup>'

    # Drop the space before a citation so the number hugs the word it supports.
    out = re.sub(r"\s+(?=\ue000)", "", out)
    # In Chinese text a line may break between any two characters, and WeasyPrint breaks between
    # the superscript and a closing 。 or ，: keep the character before, the number and the
    # punctuation on one line (a line never starts with closing punctuation).
    out = _CJK_CITE_RE.sub(lambda m: f'<span class="nowrap">{m.group(1)}{cite_html(m, 2)}{m.group(3)}</span>', out)
    return Markup(_PLACEHOLDER_RE.sub(cite_html, out).strip())


def strip_citations(text: str) -> str:
    """Returns prose without `[@key]` markers (for readability scores and slide text)."""
    return re.sub(r"\s*" + CITE_RE.pattern, "", text or "")


_MAX_REPEAT = 100_000
"""Longest string or list a template may build with `*`, and the largest `**` result."""

_UNSAFE_TYPES = (
    PurePath,
    io.IOBase,
    types.ModuleType,
    type,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.GeneratorType,
)


def lang_attr(ctx, value) -> Markup:
    """` lang="es-US"` (and `dir` when it differs) for a passage written in another language than
    the document (`value.lang`: a practice's `LangText`, a reference's `Entry`); nothing for text
    in the document's own language or without a language. The PDF's structure gets the same
    language (`render.handout.tags`)."""
    tag = getattr(value, "lang", None)
    practice = ctx.get("practice")
    if not tag or practice is None:
        return Markup("")
    full = html_lang(tag, practice.country)
    if full == ctx.get("locale"):
        return Markup("")
    attrs = f' lang="{escape(full)}"'
    if direction(tag) != ctx.get("dir", "ltr"):
        attrs += f' dir="{direction(tag)}"'
    return Markup(attrs)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, tightened for templates from outside designers.

    Templates receive data (pydantic models, strings, numbers, lists, small helper objects).
    The sandbox already refuses underscore attributes; this also refuses anything that leads
    to the file system or to code: paths, open files, modules, classes (and so class
    methods), and bounds `*` and `**` so a template cannot exhaust memory or CPU with one
    expression.
    """

    intercepted_binops = frozenset({"*", "**", "/", "//", "%"})

    def is_safe_attribute(self, obj, attr, value) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, _UNSAFE_TYPES) or isinstance(value, _UNSAFE_TYPES):
            return False
        if isinstance(getattr(value, "__self__", None), _UNSAFE_TYPES):  # class methods
            return False
        from pydantic import BaseModel

        if isinstance(obj, BaseModel):  # fields and properties only, not model_* machinery
            return attr in type(obj).model_fields or isinstance(getattr(type(obj), attr, None), property)
        return True

    def is_safe_callable(self, obj) -> bool:
        if not super().is_safe_callable(obj):
            return False
        owner = getattr(obj, "__self__", None)
        return not isinstance(owner, _UNSAFE_TYPES)

    def call_binop(self, context, operator, left, right):
        if isinstance(left, PurePath) or isinstance(right, PurePath):
            raise SecurityError("templates cannot build file paths")
        if operator == "**":
            if (
                isinstance(right, (int, float))
                and abs(right) > 64
                or isinstance(left, (int, float))
                and abs(left) > _MAX_REPEAT
            ):
                raise SecurityError("power too large for a template")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > _MAX_REPEAT:
                    raise SecurityError("repeat too large for a template")
        return super().call_binop(context, operator, left, right)


class _ContainedLoader(jinja2.FileSystemLoader):
    """FileSystemLoader that refuses files whose real path leaves the search folder.

    Jinja already refuses `..` and absolute names; this also stops a symlink inside a
    practice's templates/ from reading /etc/passwd or another practice's files.
    """

    def get_source(self, environment, template):
        for folder in self.searchpath:
            candidate = os.path.join(folder, *jinja2.loaders.split_template_path(template))
            if os.path.isfile(candidate):
                real, base = os.path.realpath(candidate), os.path.realpath(folder)
                if os.path.commonpath([real, base]) != base:
                    raise SecurityError(f"template {template!r} is a link to a file outside {folder}")
                break
        return super().get_source(environment, template)


class Templates:
    """Builds sandboxed environments whose search path is practice folder → defaults."""

    def __init__(self, project_root: Path):
        self.root = project_root
        self.default_dir = project_root / "templates"

    @functools.lru_cache(maxsize=64)  # noqa: B019  (one Templates per project root lives as long as the process)
    def environment(self, practice_templates: Path | None) -> jinja2.Environment:
        """Returns the environment for one practice (cached per folder)."""
        search = [str(practice_templates)] if practice_templates else []
        search.append(str(self.default_dir))
        loader = jinja2.ChoiceLoader(
            [
                jinja2.PrefixLoader({DEFAULT_PREFIX: _ContainedLoader(str(self.default_dir))}, delimiter="/"),
                _ContainedLoader(search, followlinks=False),
            ]
        )
        env = _Sandbox(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        env.filters["md"] = jinja2.pass_context(lambda ctx, text: render_markdown(text, ctx.get("numbering")))
        env.filters["md_inline"] = jinja2.pass_context(
            lambda ctx, text: render_markdown(text, ctx.get("numbering"), inline=True)
        )
        env.filters["plain"] = strip_citations
        env.filters["lang_attr"] = jinja2.pass_context(lang_attr)
        env.globals["escape"] = escape
        return env

    def render(self, name: str, practice_templates: Path | None, **context) -> str:
        """Renders template `name`; every template error names the template file and line."""
        env = self.environment(practice_templates)
        try:
            template = env.get_template(name)
            html = _written(template, context)
        except UserError:
            raise
        except (Exception, RecursionError) as exc:  # anything a template expression can raise
            problem = self._problem(exc, name, rel(practice_templates or self.default_dir, self.root))
            if problem is None:  # not raised by a template: a bug, shown as one
                raise
            raise UserError(problem) from None
        return html

    def _problem(self, exc: BaseException, name: str, where: str) -> Problem | None:
        """The located problem for an error raised while rendering template `name` (None: not a template's)."""
        if isinstance(exc, jinja2.TemplateSyntaxError):
            path = rel(exc.filename or exc.name or name, self.root)
            return Problem(path, exc.lineno, message=f"template syntax error: {exc.message}", hint=_HINTS["syntax"])
        file, line = _template_frame(exc, self.root)
        if file is None and getattr(exc, "template_at", None):  # stopped between two pieces it wrote
            file, line = rel(exc.template_at[0], self.root), exc.template_at[1]  # type: ignore[attr-defined]
        found: tuple[str, str, str | None]
        if isinstance(exc, jinja2.TemplateNotFound):
            found = (file or where, f"template {exc.name!r} not found on the search path", _HINTS["not_found"])
        elif isinstance(exc, SecurityError):
            found = (file or where, f"template tried an unsafe operation: {exc}", _HINTS["unsafe"])
        elif isinstance(exc, OverBudget):
            found = (file or where, f"template ran over its time budget: {exc}", BUDGET_HINT)
        elif isinstance(exc, TooMuchOutput):
            found = (file or where, str(exc), BUDGET_HINT)
        elif isinstance(exc, MemoryError):
            found = (file or where, "template ran over its memory budget (render_memory_mib)", BUDGET_HINT)
        elif isinstance(exc, jinja2.UndefinedError):
            found = (file or name, f"template error: {exc.message}", _HINTS["undefined"])
        elif file is not None:
            found = (file, f"template error: {type(exc).__name__}: {str(exc)[:200]}", None)
        else:
            return None
        return Problem(found[0], line, message=found[1], hint=found[2])


_HINTS = {
    "syntax": "check the {% %} and {{ }} tags near this line",
    "not_found": "templates can only include files inside the practice's templates/ folder or the defaults "
    "(prefix !default/)",
    "unsafe": "templates may only read the values they are given",
    "undefined": "check the variable name; see templates/README.md for what templates get",
}
"""What to do about each kind of template error."""


MAX_OUTPUT_CHARS = 16 * 1024 * 1024
"""The most text one template may write: a handout's HTML is about 50,000 characters, so only a
runaway loop reaches it; it is stopped here, at its line, before it fills the memory budget."""


class TooMuchOutput(Exception):
    """A template wrote more than MAX_OUTPUT_CHARS."""


def _written(template: jinja2.Template, context: dict) -> str:
    """The template's output, piece by piece (as `render` joins it), stopped at MAX_OUTPUT_CHARS.

    An exception raised here, between two pieces (the time budget's alarm, the size limit,
    memory), carries the template line the output had reached as `template_at`, since its
    traceback holds no template frame; one raised inside the template has that frame."""
    pieces = cast(Generator[str, None, None], template.generate(**context))  # typed Iterator; it is a generator
    joined: list[str] = []
    batch: list[str] = []
    size = 0
    try:
        for piece in pieces:
            batch.append(piece)
            if len(batch) >= 4096:  # a list of millions of one-letter pieces would cost 8 bytes each
                joined.append("".join(batch))
                batch.clear()
                size += len(joined[-1])
                if size > MAX_OUTPUT_CHARS:
                    raise TooMuchOutput(
                        f"template wrote more than {MAX_OUTPUT_CHARS // (1024 * 1024)} million characters "
                        "and was stopped"
                    )
        joined.append("".join(batch))
        return "".join(joined)
    except BaseException as exc:
        exc.template_at = _suspended_at(pieces)  # type: ignore[attr-defined]
        raise
    finally:
        pieces.close()


def _suspended_at(pieces) -> tuple[str, int] | None:
    """The template file and line where a paused template generator is (None once it ended)."""
    found = None
    while pieces is not None and getattr(pieces, "gi_frame", None) is not None:
        template = pieces.gi_frame.f_globals.get("__jinja_template__")
        if template is not None and template.filename:
            found = (template.filename, template.get_corresponding_lineno(pieces.gi_frame.f_lineno))
        pieces = pieces.gi_yieldfrom
    return found


def _template_frame(exc: BaseException, root: Path) -> tuple[str | None, int | None]:
    """Finds the innermost template file and line in a traceback."""
    tb = exc.__traceback__
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if fname.endswith(".j2") or "/templates/" in fname:
            found = (rel(fname, root), tb.tb_lineno)
        tb = tb.tb_next
    return found
