"""Glue tests: each facade call reaches the core and comes back as the documented Python data or
exception. The logic itself is tested in Rust."""

import json
import os
import subprocess
import threading
import time

import pytest

import ringlet

KEY = "sk-canary-python-7d1f"
# A profile's fields, in the core's (and so the CLI's JSON) order.
PROFILE_FIELDS = (
    "alias",
    "agent",
    "provider",
    "endpoint",
    "endpoint_url",
    "shape",
    "model",
    "key_alias",
    "binary",
    "working_dir",
    "args",
    "env",
    "sandbox",
    "metadata",
)


def make_profile(r: ringlet.Ringlet, alias: str, fake_agent: str) -> dict:
    return r.create_profile(
        "claude", alias, "minimax", key=KEY, model="MiniMax-M2", binary=fake_agent
    )


def test_create_list_get_delete(r: ringlet.Ringlet, fake_agent: str) -> None:
    created = make_profile(r, "work", fake_agent)
    # A plain dict, like every result; an unset option is an absent key.
    assert isinstance(created, dict) and "working_dir" not in created
    assert created["alias"] == "work"
    assert created["agent"] == "claude"
    assert created["provider"] == "minimax"
    assert created["binary"] == fake_agent
    assert created["metadata"]["total_runs"] == 0
    assert [p["alias"] for p in r.profiles()] == ["work"]
    assert r.profile("work") == created
    assert r.has_profile("work")
    assert r.profile_home("work").endswith(os.path.join("work", "home"))
    with pytest.raises(ringlet.ProfileExists) as taken:
        make_profile(r, "work", fake_agent)
    assert isinstance(taken.value, ringlet.ConflictError)
    assert taken.value.hint == (
        "pick another alias or delete it first with Ringlet.delete_profile('work')"
    )
    plan = r.delete_profile("work", key="keep", dry_run=True)
    assert plan["dry_run"] and plan["key_outcome"] == "kept"
    assert plan["key"] == {"provider": "minimax", "alias": "work"}
    assert r.has_profile("work")
    with pytest.raises(ringlet.InvalidInputError):
        r.delete_profile("work", key="maybe")
    report = r.delete_profile("work")
    assert report["alias"] == "work" and not report["dry_run"]
    assert report["key_outcome"] == "removed", report
    assert r.profiles() == []
    assert not r.has_profile("work")
    with pytest.raises(ringlet.ProfileNotFound) as missing:
        r.delete_profile("work")
    assert missing.value.code == "profile_not_found"


def test_profile_matches_cli_json(
    r: ringlet.Ringlet, home, fake_agent: str, ringlet_cli: str, tmp_path
) -> None:
    """A profile is the same data `ringlet profiles list/inspect --json` prints for it."""
    r.create_profile(
        "claude",
        "full",
        "custom",
        custom_endpoint="http://127.0.0.1:9",
        shape="anthropic",
        model="m",
        key_alias="team",
        working_dir=tmp_path,
        binary=fake_agent,
        args=["--verbose"],
        env={"FOO": "bar", "ABC": "1"},
    )
    r.update_profile("full", sandbox="always")
    make_profile(r, "min", fake_agent)
    # A run fills metadata.last_used and total_runs, so the timestamps are compared too.
    assert r.run("min", ["--exit", "0"])["exit_code"] == 0

    def cli(*args: str):
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RINGLET_HOME": str(home)}
        out = subprocess.run(
            [ringlet_cli, *args, "--json"], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    listed = r.profiles()
    cli_listed = cli("profiles", "list")
    assert listed == cli_listed
    assert "last_used" in cli_listed[1]["metadata"] and cli_listed[1]["metadata"]["total_runs"] == 1
    # Between them the two profiles have every field.
    assert set(cli_listed[0]) | set(cli_listed[1]) == set(PROFILE_FIELDS)
    for profile, shown in zip(listed, cli_listed):
        assert cli("profiles", "inspect", profile["alias"]) == r.profile(profile["alias"])
        assert list(profile) == list(shown)


def test_agents_providers_and_keys(r: ringlet.Ringlet, fake_agent: str) -> None:
    assert "claude" in [a["id"] for a in r.agents()]
    assert r.agent("claude")["name"]
    assert r.provider("minimax")["needs_key"] is True
    assert "anthropic" in [p["id"] for p in r.providers()]
    assert r.missing_key("claude", "k", "minimax", model="MiniMax-M2") == {
        "provider": "minimax",
        "alias": "k",
    }
    r.set_key("minimax", "k", "sk-other-value")
    assert r.list_keys() == [{"provider": "minimax", "alias": "k"}]
    assert r.missing_key("claude", "k", "minimax", model="MiniMax-M2") is None
    with pytest.raises(ringlet.ConflictError) as conflict:
        r.set_key("minimax", "k", "sk-again")
    assert isinstance(conflict.value, ringlet.KeyExists)
    assert (conflict.value.code, conflict.value.kind) == ("key_exists", "conflict")
    # The fix in Python's terms, not the CLI's --replace.
    assert conflict.value.hint == "pass replace=True to overwrite it"
    assert str(conflict.value) == (
        "a key is already stored for minimax/k; pass replace=True to overwrite it"
    )
    r.set_key("minimax", "k", "sk-again", replace=True)
    r.remove_key("minimax", "k")
    with pytest.raises(ringlet.KeyNotFound) as err:
        r.remove_key("minimax", "k")
    assert err.value.code == "key_not_found"
    assert r.resolve_profile("claude", "x", "minimax", model="MiniMax-M2")["alias"] == "x"
    # None is "not given" for every option, as the stubs say.
    resolved = r.resolve_profile(
        "claude", "x", "minimax", model="MiniMax-M2", env=None, args=None, endpoint=None
    )
    assert "env" not in resolved and "args" not in resolved
    assert not r.has_profile("x")
    assert isinstance(r.warnings(), list)
    assert r.init()["config_dir"] == r.paths()["config_dir"]


def test_update_profile(r: ringlet.Ringlet, fake_agent: str, tmp_path) -> None:
    make_profile(r, "work", fake_agent)
    updated = r.update_profile(
        "work",
        sandbox="always",
        model="MiniMax-M3",
        endpoint="china",
        set_env={"A": "1", "B": "2"},
        args=["--x"],
        working_dir=tmp_path,
    )
    assert updated == r.profile("work")
    assert updated["sandbox"] == "always"
    assert updated["model"] == "MiniMax-M3"
    assert updated["endpoint"] == "china"
    assert updated["env"] == {"A": "1", "B": "2"}
    assert updated["args"] == ["--x"]
    assert updated["working_dir"] == str(tmp_path)
    # None is "not given"; clearing is said with the clear_* options and an empty list.
    cleared = r.update_profile(
        "work", unset_env=["B"], args=[], clear_working_dir=True, clear_binary=True, model=None
    )
    assert cleared["env"] == {"A": "1"}
    assert "args" not in cleared and "working_dir" not in cleared and "binary" not in cleared
    assert cleared["model"] == "MiniMax-M3"
    before = r.profile("work")
    with pytest.raises(ringlet.InvalidInput, match="has no environment variable NOPE to unset") as err:
        r.update_profile("work", unset_env=["NOPE"], model="other")
    assert err.value.hint == "check unset_env="
    with pytest.raises(ringlet.InvalidInput) as err:
        r.update_profile("work", working_dir=str(tmp_path), clear_working_dir=True)
    assert err.value.hint == "pass working_dir= or clear_working_dir=True, not both"
    assert "--" not in str(err.value)
    with pytest.raises(ringlet.InvalidInput, match="`always`"):
        r.update_profile("work", sandbox="never")
    with pytest.raises(ringlet.InvalidInput, match="nothing to change"):
        r.update_profile("work")
    with pytest.raises(ringlet.UnknownEndpoint):
        r.update_profile("work", endpoint="mars")
    with pytest.raises(ringlet.ProfileNotFound):
        r.update_profile("nobody", model="m")
    with pytest.raises(TypeError, match="unexpected profile update option 'modle'"):
        r.update_profile("work", modle="x")
    assert r.profile("work") == before


def test_plan_run_has_env_and_home_but_no_secret(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "work", fake_agent)
    plan = r.plan_run("work", ["-p", "hello"])
    assert plan["profile"] == "work"
    assert plan["home"] == r.profile_home("work")
    assert plan["env"]["HOME"] == r.profile_home("work")
    assert plan["args"][-2:] == ["-p", "hello"]
    assert plan["base_url"].startswith("https://")
    assert plan["secret_env"]["alias"] == "work"
    masked = {e["name"]: e for e in plan["masked_env"]}
    assert masked[plan["secret_env"]["var"]]["secret"] is True
    assert masked[plan["secret_env"]["var"]]["value"] == "********"
    assert KEY not in json.dumps(plan)


def test_run_fake_agent_returns_its_exit_code(
    r: ringlet.Ringlet, fake_agent: str, tmp_path, monkeypatch
) -> None:
    make_profile(r, "work", fake_agent)
    record = tmp_path / "record.json"
    monkeypatch.setenv("FAKE_AGENT_RECORD", str(record))
    outcome = r.run("work", ["--exit", "7"])
    assert outcome["exit_code"] == 7
    assert outcome["pid"] > 0
    seen = json.loads(record.read_text())
    assert seen["env"]["HOME"] == r.profile_home("work")
    assert r.profile("work")["metadata"]["total_runs"] == 1


def test_prompt_runs_the_agents_one_shot_form(
    r: ringlet.Ringlet, fake_agent: str, tmp_path, monkeypatch
) -> None:
    make_profile(r, "work", fake_agent)
    record = tmp_path / "record.json"
    monkeypatch.setenv("FAKE_AGENT_RECORD", str(record))
    got = r.prompt("work", "what is 2+2?", working_dir=tmp_path)
    assert got["exit_code"] == 0
    assert set(got) == {"answer", "exit_code", "stdout", "stderr"}
    seen = json.loads(record.read_text())
    # Claude's one-shot form: `-p PROMPT`, the prompt one argument.
    assert seen["argv"][:2] == ["-p", "what is 2+2?"]
    assert seen["cwd"] == str(tmp_path)
    with pytest.raises(ringlet.InvalidInputError):
        r.prompt("work", "   ")


def test_typed_errors(r: ringlet.Ringlet, fake_agent: str) -> None:
    with pytest.raises(ringlet.ProfileNotFound) as err:
        r.plan_run("nobody")
    assert err.value.code == "profile_not_found"
    assert isinstance(err.value, ringlet.RingletError)
    assert isinstance(err.value, ringlet.NotFoundError) and err.value.kind == "not_found"
    assert err.value.hint == "see Ringlet.profiles()"
    assert str(err.value) == "profile 'nobody' not found; see Ringlet.profiles()"
    with pytest.raises(ringlet.InvalidAlias) as err:
        r.create_profile("claude", "../evil", "minimax", key=KEY, model="MiniMax-M2")
    assert err.value.code == "invalid_alias"
    assert isinstance(err.value, ringlet.InvalidInputError) and err.value.hint is None
    with pytest.raises(ringlet.InvalidAlias):
        r.profile_home("../evil")
    with pytest.raises(ringlet.UnknownAgent):
        r.create_profile("no-such-agent", "a", "minimax")
    with pytest.raises(TypeError, match="unexpected profile option 'modle'"):
        r.create_profile("claude", "a", "minimax", modle="x")


def test_a_missing_field_is_named_as_a_keyword_argument(r: ringlet.Ringlet) -> None:
    """The core's message names the field; the hint names Python's keyword, never a CLI flag."""
    with pytest.raises(ringlet.InvalidInput) as err:
        r.create_profile("claude", "gw", "custom", custom_endpoint="http://127.0.0.1:9")
    assert err.value.code == "invalid_input" and err.value.kind == "invalid_input"
    assert err.value.hint == "pass model="
    assert str(err.value) == "provider 'custom' has no default model; pass model="
    assert "--" not in str(err.value)
    with pytest.raises(ringlet.InvalidInput) as err:
        r.create_profile("claude", "gw", "minimax", model="m", env={"HOME": "/tmp"})
    assert err.value.hint == "check env="
    assert "--" not in str(err.value)
    assert r.profiles() == []


def test_missing_binary_is_agent_not_installed(r: ringlet.Ringlet, tmp_path) -> None:
    r.create_profile(
        "claude", "gone", "minimax", key=KEY, model="MiniMax-M2", binary=tmp_path / "no" / "agent"
    )
    with pytest.raises(ringlet.AgentNotInstalled) as err:
        r.run("gone")
    assert err.value.code == "agent_not_installed"
    assert isinstance(err.value, ringlet.UnavailableError)
    assert err.value.hint is not None and err.value.hint.endswith(
        "or create the profile with binary=PATH"
    )
    assert "--binary" not in str(err.value)


def test_io_error_keeps_its_cause(home, fake_agent: str) -> None:
    # An unreadable profiles directory: the core's Io error arrives with an OSError as __cause__.
    (home / "data").mkdir()
    (home / "data" / "profiles").write_text("not a directory")
    r = ringlet.Ringlet(home=home)
    with pytest.raises(ringlet.RingletError) as err:
        make_profile(r, "work", fake_agent)
    assert err.value.code == "io"
    assert isinstance(err.value, ringlet.IoError)
    assert isinstance(err.value, ringlet.InternalError) and err.value.kind == "internal"
    assert isinstance(err.value.__cause__, OSError)
    assert err.value.__cause__.errno is not None


def test_two_threads_run_at_once(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "a", fake_agent)
    make_profile(r, "b", fake_agent)
    results: dict[str, int] = {}

    def run(alias: str, code: str) -> None:
        results[alias] = r.run(alias, ["--sleep-ms", "700", "--exit", code])["exit_code"]

    threads = [threading.Thread(target=run, args=a) for a in (("a", "3"), ("b", "4"))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - start
    assert not any(t.is_alive() for t in threads), "a run deadlocked"
    assert results == {"a": 3, "b": 4}
    # Serialised runs would take at least 1.4 s.
    assert elapsed < 1.3, f"the two runs did not overlap ({elapsed:.2f}s)"


def test_gil_is_released_during_run(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "slow", fake_agent)
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (r.run("slow", ["--sleep-ms", "800"]), done.set())
    )
    thread.start()
    # Pure-Python work on this thread while the other one is inside run(): if run() held the
    # GIL, this loop would stall for the agent's whole 800 ms.
    ticks, longest, last = 0, 0.0, time.monotonic()
    while not done.is_set() and ticks < 10_000_000:
        now = time.monotonic()
        longest = max(longest, now - last)
        last = now
        ticks += 1
    # The gap that ends the loop counts too: a held GIL shows up as exactly that gap.
    longest = max(longest, time.monotonic() - last)
    thread.join(timeout=30)
    assert done.is_set()
    assert longest < 0.3, f"this thread was blocked for {longest:.2f}s during run()"
    assert ticks > 100_000, f"only {ticks} iterations ran beside run()"
