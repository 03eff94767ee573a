"""Glue tests for the usage ledger and hooks: the calls reach the core and come back as the
documented dicts and exceptions. The logic itself is tested in Rust."""

from pathlib import Path

import pytest

import ringlet
from test_glue import make_profile


def test_usage_on_a_fresh_home_is_an_empty_report(r: ringlet.Ringlet) -> None:
    report = r.usage()
    assert report["group"] == "profile"
    assert report["rows"] == []
    assert report["total"]["events"] == 0
    assert r.usage_events(since="today") == []
    assert r.stats()["rows"] == []
    assert r.usage_db_path().endswith("usage.db")
    with pytest.raises(TypeError, match="unexpected usage query option 'profil'"):
        r.usage(profil="work")
    with pytest.raises(ringlet.InvalidInput, match="fortnight"):
        r.usage(group="fortnight")
    # A filter naming a profile that does not exist is an error, not "nothing spent".
    with pytest.raises(ringlet.ProfileNotFound):
        r.usage(profile="nobody")


def test_a_run_with_a_claude_log_shows_up_in_usage(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "work", fake_agent)
    make_profile(r, "idle", fake_agent)
    assert r.run("work", ["--claude-log", "3"])["exit_code"] == 0
    report = r.usage()
    assert [row["profile"] for row in report["rows"]] == ["work"]
    assert report["rows"][0]["agent"] == "claude"
    assert report["rows"][0]["events"] == 3
    assert report["rows"][0]["input"] == 3000
    assert report["total"]["output"] == 300
    events = r.usage_events(profile="work")
    assert len(events) == 3
    assert {e["profile"] for e in events} == {"work"}
    assert r.usage(profile="idle")["total"]["events"] == 0
    by_day = r.usage(group="day", since="today")
    assert by_day["group"] == "day" and by_day["total"]["events"] == 3
    stats = r.stats(profile="work")
    assert stats["rows"][0]["runs"] == 1 and stats["rows"][0]["succeeded"] == 1
    # Everything is in the ledger already: a sync finds nothing new.
    assert r.sync_usage()["total"]["inserted"] == 0
    assert r.pricing_status()["models"] > 0
    doctor = r.doctor()
    ledger = next(c for c in doctor["checks"] if c["name"] == "ledger")
    assert ledger["status"] == "ok" and "integrity_check" in ledger["detail"], ledger
    assert isinstance(doctor["healthy"], bool)
    assert r.registry_status()["commit"] is None


def test_add_list_remove_a_hook(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "work", fake_agent)
    assert r.hooks() == []
    added = r.add_hook("stop", profile="work", shell="true", timeout_ms=500)
    hook_id = added["rule"]["id"]
    assert added["profile"] == "work"
    assert added["rule"]["event"] == "stop"
    assert added["rule"]["action"] == {"type": "shell", "command": "true"}
    assert r.hooks() == [added]
    assert r.hooks_for("work") == [added]
    exported = r.export_hooks()
    assert hook_id in exported
    tested = r.test_hook(hook_id, {"session_id": "s1"})
    assert tested["applies"] is True
    assert tested["fired"]["ok"] is True, tested
    assert tested["context"]["session_id"] == "s1"
    assert r.run_scheduled_hooks() == []
    assert r.remove_hook(hook_id) == added
    assert r.hooks() == []
    assert r.import_hooks(exported) == {"added": [hook_id], "unchanged": []}
    assert r.import_hooks(exported) == {"added": [], "unchanged": [hook_id]}
    with pytest.raises(TypeError, match="unexpected hook option 'shel'"):
        r.add_hook("stop", shel="true")


def test_hook_errors_are_typed(r: ringlet.Ringlet) -> None:
    with pytest.raises(ringlet.HookNotFound) as err:
        r.remove_hook("h00000000")
    assert err.value.code == "hook_not_found"
    assert isinstance(err.value, ringlet.RingletError)
    with pytest.raises(ringlet.HookNotFound):
        r.test_hook("h00000000")
    with pytest.raises(ringlet.InvalidInput):
        r.add_hook("stop", shell="true", webhook="http://127.0.0.1:9/")
    with pytest.raises(ringlet.ParseError):
        r.import_hooks("not = [toml")


def test_import_from_another_home_and_pricing(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path
) -> None:
    make_profile(r, "work", fake_agent)
    r.run("work", ["--claude-log", "2"])
    # A second ringlet home imports the first profile's Claude logs into its own profile.
    other_home = tmp_path / "other"
    (other_home / "config").mkdir(parents=True)
    (other_home / "config" / "config.toml").write_text('[credentials]\nbackend = "file"\n')
    other = ringlet.Ringlet(home=other_home)
    make_profile(other, "copy", fake_agent)
    seen: list[dict] = []
    report = other.import_usage(
        "claude", "copy", source=Path(r.profile_home("work")), progress=seen.append
    )
    assert report["profile"] == "copy"
    assert report["summary"]["inserted"] == 2
    assert other.usage()["total"]["events"] == 2
    # One report before each log file and one at the end, which counts what went in.
    assert len(seen) >= 2
    assert seen[-1]["files_done"] == seen[-1]["files_total"] == len(seen) - 1
    assert seen[-1]["inserted"] == 2
    assert [p["files_done"] for p in seen] == list(range(len(seen)))
    assert all(p["path"].endswith(".jsonl") for p in seen)

    # An exception in the callback reaches the caller, once the import has finished.
    calls = []

    def broken(p: dict) -> None:
        calls.append(p)
        raise KeyboardInterrupt("stop")

    with pytest.raises(KeyboardInterrupt):
        other.import_usage("claude", "copy", r.profile_home("work"), progress=broken)
    assert len(calls) == 1
    assert other.import_usage("claude", "copy", r.profile_home("work"))["summary"]["inserted"] == 0
    with pytest.raises(ringlet.InvalidInput):
        other.import_usage("codex", "copy", r.profile_home("work"))

    feed = tmp_path / "prices.json"
    feed.write_text(
        '{"claude-bindings-test": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}'
    )
    priced = r.update_pricing(feed)
    assert priced["source"] == str(feed)
    assert priced["models"] == 1
    assert r.pricing_status()["snapshot"] == priced["snapshot"]
    with pytest.raises(ringlet.DownloadError) as err:
        r.update_pricing("http://127.0.0.1:9/prices.json")
    assert err.value.code == "download"
