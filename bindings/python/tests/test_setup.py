"""Glue tests for exporting and importing a setup: the document comes back as a dict, goes back
in as a dict or JSON text, and the report is the documented dict. The logic is tested in Rust."""

import json
from pathlib import Path

import pytest

import ringlet
from test_glue import make_profile


def test_a_setup_exports_and_imports_into_another_home(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path
) -> None:
    make_profile(r, "work", fake_agent)
    doc = r.export_setup()
    assert doc["format"] == "ringlet-setup"
    assert [p["settings"]["alias"] for p in doc["profiles"]] == ["work"]

    (tmp_path / "other" / "config").mkdir(parents=True)
    (tmp_path / "other" / "config" / "config.toml").write_text('[credentials]\nbackend = "file"\n')
    other = ringlet.Ringlet(home=str(tmp_path / "other"))
    dry = other.import_setup(doc, dry_run=True)
    assert dry["dry_run"] is True
    assert other.profiles() == []
    report = other.import_setup(json.dumps(doc), rename={"work": "job"})
    profile = next(i for i in report["items"] if i["kind"] == "profile")
    assert profile == {
        "kind": "profile",
        "name": "job",
        "renamed_from": "work",
        "outcome": "created",
    }
    assert [p["alias"] for p in other.profiles()] == ["job"]
    again = other.import_setup(doc, rename={"work": "job"})
    assert all(i["outcome"] == "unchanged" for i in again["items"])
    with pytest.raises(ringlet.InvalidInput, match="not a ringlet setup"):
        other.import_setup({"profiles": []})
