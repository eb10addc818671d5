"""The one Jinja2 environment: sandboxed, autoescaping, strict, practice-first search path.

Practice templates come from outside designers, so they run in Jinja's
ImmutableSandboxedEnvironment; content is data passed to templates and never itself
compiled as a template, so `{{ ... }}` typed in content is shown as text. A practice
override of `handout/base.html.j2` replaces the default; it can also
`{% extends "!default/handout/base.html.j2" %}` and replace one block.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from .citations import Numbering, compress
from .errors import Problem, UserError, rel
from .schema import CITE_RE

DEFAULT_PREFIX = "!default"


@functools.cache
def _markdown() -> MarkdownIt:
    """CommonMark without raw HTML or images (content cannot pull in files or markup)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = lambda url: url.lower().startswith(("https://", "http://", "mailto:", "tel:", "#"))
    return md


_PLACEHOLDER = "\ue000{}\ue001"
_PLACEHOLDER_RE = re.compile("\ue000(\\d+)\ue001")


def render_markdown(text: str, numbering: Numbering | None, *, inline: bool = False) -> Markup:
    """Renders CommonMark with `[@key]` citations as linked superscript numbers."""
    groups: list[list[str]] = []

    def stash(m: re.Match) -> str:
        groups.append([p.strip().lstrip("@") for p in m.group(1).split(";")])
        return _PLACEHOLDER.format(len(groups) - 1)

    text = CITE_RE.sub(stash, text or "")
    md = _markdown()
    out = md.renderInline(text) if inline else md.render(text)

    def cite_html(m: re.Match) -> str:
        keys = groups[int(m.group(1))]
        if numbering is None:
            return ""
        nums = numbering.numbers(keys)
        if not nums:
            return ""
        label = compress(nums)
        return (f'<sup class="cite"><a href="#ref-{nums[0]}" '
                f'aria-label="references {label}">{label}</a></sup>')

    # Drop the space before a citation so the number hugs the word it supports.
    out = re.sub(r"\s+(?=\ue000)", "", out)
    return Markup(_PLACEHOLDER_RE.sub(cite_html, out).strip())


def strip_citations(text: str) -> str:
    """Returns prose without `[@key]` markers (for readability scores and slide text)."""
    return re.sub(r"\s*" + CITE_RE.pattern, "", text or "")


class Templates:
    """Builds sandboxed environments whose search path is practice folder → defaults."""

    def __init__(self, project_root: Path):
        self.root = project_root
        self.default_dir = project_root / "templates"

    @functools.lru_cache(maxsize=64)
    def environment(self, practice_templates: Path | None) -> jinja2.Environment:
        """Returns the environment for one practice (cached per folder)."""
        search = [str(practice_templates)] if practice_templates else []
        search.append(str(self.default_dir))
        loader = jinja2.ChoiceLoader([
            jinja2.PrefixLoader({DEFAULT_PREFIX: jinja2.FileSystemLoader(str(self.default_dir))}, delimiter="/"),
            jinja2.FileSystemLoader(search, followlinks=False),
        ])
        env = ImmutableSandboxedEnvironment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        env.filters["md"] = jinja2.pass_context(
            lambda ctx, text: render_markdown(text, ctx.get("numbering")))
        env.filters["md_inline"] = jinja2.pass_context(
            lambda ctx, text: render_markdown(text, ctx.get("numbering"), inline=True))
        env.filters["plain"] = strip_citations
        env.globals["escape"] = escape
        return env

    def render(self, name: str, practice_templates: Path | None, **context) -> str:
        """Renders template `name`; template errors name the template file and line."""
        env = self.environment(practice_templates)
        try:
            template = env.get_template(name)
            return template.render(**context)
        except jinja2.TemplateSyntaxError as exc:
            path = exc.filename or exc.name or name
            raise UserError(Problem(rel(path, self.root), exc.lineno, None, None,
                                    f"template syntax error: {exc.message}",
                                    hint="check the {% %} and {{ }} tags near this line")) from None
        except jinja2.TemplateNotFound as exc:
            raise UserError(Problem(rel(practice_templates or self.default_dir, self.root), None, None, None,
                                    f"template {exc.name!r} not found on the search path",
                                    hint="templates can only include files inside the practice's templates/ "
                                         "folder or the defaults (prefix !default/)")) from None
        except jinja2.exceptions.SecurityError as exc:
            file, line = _template_frame(exc, self.root)
            raise UserError(Problem(file or name, line, None, None, f"template tried an unsafe operation: {exc}",
                                    hint="templates may only read the values they are given")) from None
        except jinja2.UndefinedError as exc:
            file, line = _template_frame(exc, self.root)
            raise UserError(Problem(file or name, line, None, None, f"template error: {exc.message}",
                                    hint="check the variable name; see templates/README.md for what templates get")) from None
        except (TypeError, ValueError, AttributeError, ZeroDivisionError, KeyError, IndexError) as exc:
            file, line = _template_frame(exc, self.root)
            if file is None:
                raise
            raise UserError(Problem(file, line, None, None, f"template error: {type(exc).__name__}: {exc}")) from None


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
