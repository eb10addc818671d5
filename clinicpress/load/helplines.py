"""Emergency, urgent-advice and crisis numbers by country (templates/help-lines.yml).

A handout prints the lines of its practice's country (practice.yml `country`) in "When to get
help". The numbers are data, kept in one catalogue, so a template never hard-codes one; a
practice in a country the catalogue does not know, or offering a language a line has no text
in, is an error naming what is missing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, field_validator

from ..errors import Problem, UserError, rel
from .loading import load_yaml
from .schema.base import Language, Model

CATALOGUE = Path("templates") / "help-lines.yml"
"""Where the catalogue lives, under the project root."""


class HelpLine(Model):
    """One phone line: its number and, per language, the sentence that names it."""

    number: str = Field(min_length=2, max_length=20)
    """The number as it is dialled and printed, e.g. "988" or "116 123"."""
    text: dict[Language, str]
    """The printed sentence per language; `{number}` marks where the number goes."""
    source: str = Field(pattern=r"^https://[^\s]+$")
    """The page that confirms the number and the wording (recorded in docs/evidence.md)."""

    @field_validator("text")
    @classmethod
    def _shows_number(cls, v: dict[str, str]) -> dict[str, str]:
        for language, sentence in v.items():
            if "{number}" not in sentence:
                raise ValueError(f"the {language} text must show the number: put {{number}} where it goes")
        return v

    def say(self, language: str) -> str:
        """The sentence in `language` with the number filled in."""
        return self.text[language].replace("{number}", self.number)


class CountryLines(Model):
    """The help lines of one country."""

    emergency: str = Field(min_length=2, max_length=6, pattern=r"^[0-9]+$")
    """The emergency number (911, 999)."""
    emergency_source: str = Field(pattern=r"^https://[^\s]+$")
    """The page that confirms the emergency number and when to call it."""
    urgent: list[HelpLine] = Field(default_factory=list)
    """Lines for urgent advice that is not an emergency (NHS 111), printed with "call today"."""
    crisis: list[HelpLine] = Field(min_length=1)
    """Mental-health crisis lines (988 in the US, Samaritans in the UK), printed with "call now"."""


@functools.cache
def _catalogue(path: Path, root: Path) -> tuple[dict[str, CountryLines], dict]:
    from pydantic import ValidationError

    data, positions = load_yaml(path, root)
    shown = rel(path, root)
    if not isinstance(data, dict):
        raise UserError(
            Problem(shown, 1, None, None, "the help-line catalogue maps country codes (US, GB) to their lines")
        )
    out: dict[str, CountryLines] = {}
    problems: list[Problem] = []
    for country, entry in data.items():
        try:
            out[str(country)] = CountryLines.model_validate(entry)
        except ValidationError as exc:
            for err in exc.errors():
                where = (country, *err["loc"])
                line = next((positions[where[:n]][0] for n in range(len(where), 0, -1) if where[:n] in positions), None)
                problems.append(
                    Problem(
                        shown,
                        line,
                        None,
                        ".".join(str(p) for p in where),
                        err["msg"],
                        hint="see the comment at the top of the file for the fields of a country",
                    )
                )
    if problems:
        raise UserError(problems)
    return out, positions


def reset_caches() -> None:
    """Forgets the catalogue read so far (after it changed on disk)."""
    _catalogue.cache_clear()


def country_lines(
    root: Path, country: str, languages: list[str], *, practice_yml: Path, line: int | None
) -> CountryLines | None:
    """The lines of `country`, checked to have a text in every one of `languages`.

    Raises a UserError naming the practice's `country` line when the catalogue has no entry,
    or the catalogue's line when a language has no text. A project without the catalogue (no
    templates at all) loads; printing a handout then fails (`missing_catalogue`).
    """
    path = root / CATALOGUE
    if not path.is_file():
        return None
    catalogue, positions = _catalogue(path.resolve(), root.resolve())
    lines = catalogue.get(country)
    if lines is None:
        raise UserError(
            Problem(
                rel(practice_yml, root),
                line,
                None,
                "country",
                f"no emergency or crisis numbers for country {country!r} in {CATALOGUE.as_posix()}",
                hint=f"add a {country}: entry (emergency number, crisis lines, each with its source); "
                f"countries known: {', '.join(sorted(catalogue)) or '(none)'}",
            )
        )
    problems = []
    for group in ("urgent", "crisis"):
        for i, entry in enumerate(getattr(lines, group)):
            for language in languages:
                if language not in entry.text:
                    problems.append(
                        Problem(
                            CATALOGUE.as_posix(),
                            positions.get((country, group, i), (None,))[0],
                            None,
                            f"{country}.{group}[{i}].text",
                            f"the {entry.number} line has no {language!r} text, and {rel(practice_yml, root)} offers {language!r}",
                            hint=f"add `{language}:` with the sentence in that language",
                        )
                    )
    if problems:
        raise UserError(problems)
    return lines


def missing_catalogue() -> UserError:
    """The error when a handout is printed in a project without templates/help-lines.yml."""
    return UserError(
        Problem(
            CATALOGUE.as_posix(),
            message="no help-line catalogue: handouts cannot print the emergency and crisis numbers",
            hint="restore templates/help-lines.yml from ClinicPress (it lists each country's numbers)",
        )
    )
