"""clinicpress.write.cache: file hashes, job keys that change exactly when an input does, the state file."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from clinicpress.jobs.model import plan
from clinicpress.load.project import load_project
from clinicpress.write.cache import STATE_FILE, FileHashes, JobKeys, explain, load_state, save_state

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for name in ("content", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "practices").mkdir()
    for slug in ("summit-rheumatology", "thames-integrative-gi"):
        shutil.copytree(ROOT / "practices" / slug, tmp_path / "practices" / slug)
    return tmp_path


def keys(root: Path) -> dict[str, str]:
    project = load_project(root)
    job_keys = JobKeys(project, FileHashes(), root / "output")
    return {job.key: job_keys.key(job) for job in plan(project, only=["gut-and-immune-system"])}


def test_file_hashes_reuse_a_known_hash_until_the_file_changes(tmp_path: Path):
    path = tmp_path / "a.txt"
    path.write_text("one", encoding="utf-8")
    time.sleep(FileHashes.RACY_FINE_NS / 1e9 * 2)  # a file written this instant is re-hashed (racy)
    first = FileHashes()
    digest = first.file(path)
    again = FileHashes(first.state())
    assert again.file(path) == digest and not again.hashed
    path.write_text("two!", encoding="utf-8")
    assert FileHashes(first.state()).file(path) != digest
    assert FileHashes().maybe(tmp_path / "missing") is None


def test_a_content_edit_changes_that_items_keys_only(project_copy: Path):
    before = keys(project_copy)
    other = project_copy / "content" / "handouts" / "stress-the-brain-and-the-gut.yml"
    other.write_text(other.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert keys(project_copy) == before
    mine = project_copy / "content" / "handouts" / "gut-and-immune-system.yml"
    mine.write_text(mine.read_text(encoding="utf-8").replace("title:", "title: X", 1), encoding="utf-8")
    after = keys(project_copy)
    assert set(after) == set(before) and all(after[k] != before[k] for k in before)


def test_a_practice_edit_changes_that_practices_keys_only(project_copy: Path):
    before = keys(project_copy)
    yml = project_copy / "practices" / "thames-integrative-gi" / "practice.yml"
    yml.write_text(yml.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = keys(project_copy)
    for key in before:
        assert (after[key] != before[key]) == key.startswith("thames-integrative-gi/")


def test_explain_names_what_changed():
    assert explain(None, {"content": "a"}) == "not built before"
    assert "content" in explain({"content": "a", "tool": "t"}, {"content": "b", "tool": "t"})


def test_a_damaged_state_file_is_not_trusted(tmp_path: Path):
    from clinicpress.write.state import BadState

    save_state(tmp_path, {"fingerprint": "x", "hashes": {}})
    assert load_state(tmp_path)["fingerprint"] == "x"
    (tmp_path / STATE_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(BadState, match="not valid JSON"):
        load_state(tmp_path)
    (tmp_path / STATE_FILE).write_text(json.dumps(["a list"]), encoding="utf-8")
    with pytest.raises(BadState, match="array"):
        load_state(tmp_path)
    (tmp_path / STATE_FILE).write_text(json.dumps({"version": 0}), encoding="utf-8")
    assert load_state(tmp_path) == {}  # another version of the tool: replaced without a word
