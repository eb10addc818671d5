"""clinicpress.render.templating: the one sandboxed Jinja2 environment and its Markdown filter."""
from __future__ import annotations

from pathlib import Path

import pytest

from clinicpress.errors import UserError
from clinicpress.render.templating import Templates, render_markdown, safe_link, strip_citations


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "templates" / "handout").mkdir(parents=True)
    (tmp_path / "templates" / "handout" / "base.html.j2").write_text(
        "<h1>{% block title %}{{ title }}{% endblock %}</h1>\n<p>{{ body | md_inline }}</p>\n", encoding="utf-8")
    return tmp_path


def practice_templates(root: Path, name: str, text: str) -> Path:
    folder = root / "practices" / "p" / "templates"
    (folder / "handout").mkdir(parents=True, exist_ok=True)
    (folder / "handout" / name).write_text(text, encoding="utf-8")
    return folder


def test_values_are_escaped_and_markdown_is_rendered(project: Path):
    html = Templates(project).render("handout/base.html.j2", None, title="<script>x</script>", body="**bold**")
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "<strong>bold</strong>" in html


def test_an_override_replaces_one_block_of_the_default(project: Path):
    folder = practice_templates(project, "base.html.j2",
                                '{% extends "!default/handout/base.html.j2" %}{% block title %}Ours{% endblock %}')
    html = Templates(project).render("handout/base.html.j2", folder, title="Theirs", body="b")
    assert "<h1>Ours</h1>" in html and "Theirs" not in html


def test_unsafe_operations_and_unknown_variables_name_the_template_line(project: Path):
    folder = practice_templates(project, "base.html.j2", "ok\n{{ title.__class__.__mro__ }}\n")
    with pytest.raises(UserError) as exc:
        Templates(project).render("handout/base.html.j2", folder, title="t", body="b")
    problem = exc.value.problems[0]
    assert problem.path == "practices/p/templates/handout/base.html.j2" and "unsafe" in problem.message
    folder = practice_templates(project, "base.html.j2", "{{ titel }}")
    with pytest.raises(UserError, match="titel"):
        Templates(project).render("handout/base.html.j2", folder, title="t", body="b")


def test_a_template_cannot_include_files_outside_its_folders(project: Path):
    (project / "secret.html.j2").write_text("secret", encoding="utf-8")
    folder = practice_templates(project, "base.html.j2", '{% include "../../../secret.html.j2" %}')
    with pytest.raises(UserError, match="not found"):
        Templates(project).render("handout/base.html.j2", folder, title="t", body="b")


def test_attachment_links_are_refused(project: Path):
    """The PDF renderer refuses them on its own parse of the templated HTML (issue 17)."""
    from clinicpress.render.handout import layout

    folder = practice_templates(project, "base.html.j2", '<link rel="attachment" href="/etc/passwd">')
    html = Templates(project).render("handout/base.html.j2", folder, title="t", body="b")
    with pytest.raises(UserError, match="attachment"):
        layout(html, base_url=project, root=project)


def test_links_in_content_keep_only_safe_schemes():
    assert 'href="https://example.org"' in render_markdown("[a](https://example.org)", None)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/html,x"):
        assert "href" not in render_markdown(f"[a]({url})", None)  # left as text, never a link
    assert safe_link("TEL:+15551234") and safe_link("#refs", fragment=True) and not safe_link("#refs")


def test_citations_are_stripped_for_plain_text():
    assert strip_citations("Fibre helps [@smith2020; @doe2021].") == "Fibre helps."
