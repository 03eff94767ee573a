"""Glue tests: each facade call reaches the core and comes back as the documented Python data or
exception. The logic itself is tested in Rust."""

import copy
import json
import os
import pickle
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
    "metadata",
)


def make_profile(r: ringlet.Ringlet, alias: str, fake_agent: str) -> ringlet.Profile:
    return r.create_profile(
        "claude", alias, "minimax", key=KEY, model="MiniMax-M2", binary=fake_agent
    )


def test_create_list_get_delete(r: ringlet.Ringlet, fake_agent: str) -> None:
    created = make_profile(r, "work", fake_agent)
    assert created["alias"] == "work"
    assert created["agent"] == "claude"
    assert created["provider"] == "minimax"
    assert created["binary"] == fake_agent
    assert created["metadata"]["total_runs"] == 0
    assert [p["alias"] for p in r.profiles()] == ["work"]
    assert r.profile("work") == created
    assert r.has_profile("work")
    assert r.profile_home("work").endswith(os.path.join("work", "home"))
    with pytest.raises(ringlet.ProfileExists):
        make_profile(r, "work", fake_agent)
    r.delete_profile("work")
    assert r.profiles() == []
    assert not r.has_profile("work")


def test_cached_profiles_follow_changes(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "a", fake_agent)
    assert r.cached_profiles() is None
    r.profiles()
    r.profiles()
    cached = r.cached_profiles()
    assert cached is not None and [p.alias for p in cached] == ["a"]
    assert cached == r.profiles()
    # A change made behind the binding's back (another process, an editor) is seen at once.
    manifest = os.path.join(r.paths()["data_dir"], "profiles", "a", "profile.toml")
    with open(manifest) as f:
        text = f.read()
    with open(manifest, "w") as f:
        f.write(text.replace('model = "MiniMax-M2"', 'model = "edited"'))
    assert r.cached_profiles() is None
    assert r.profiles()[0].model == "edited"
    make_profile(r, "b", fake_agent)
    assert [p.alias for p in r.profiles()] == ["a", "b"]
    assert [p.alias for p in r.cached_profiles() or []] == ["a", "b"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_leaves_the_parents_listing_current(
    r: ringlet.Ringlet, fake_agent: str
) -> None:
    make_profile(r, "a", fake_agent)
    r.profiles()
    r.profiles()
    manifest = os.path.join(r.paths()["data_dir"], "profiles", "a", "profile.toml")
    # multiprocessing's fork start method: the child inherits the Ringlet, changes a profile
    # and lists. Its listing must not eat the change's event out from under the parent.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with open(manifest) as f:
                text = f.read()
            with open(manifest, "w") as f:
                f.write(text.replace('model = "MiniMax-M2"', 'model = "forked"'))
            code = 0 if r.profiles()[0].model == "forked" else 2
        finally:
            os._exit(code)
    # Never wait forever on a child that hangs (a lock held across fork): kill it and fail.
    deadline = time.monotonic() + 30
    while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    if waited[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child did not finish in 30 s")
    assert os.waitstatus_to_exitcode(waited[1]) == 0
    assert r.profiles()[0].model == "forked"


def test_profile_object(r: ringlet.Ringlet, fake_agent: str) -> None:
    created = make_profile(r, "work", fake_agent)
    assert isinstance(created, ringlet.Profile)
    # Attributes: None / [] / {} for what is unset.
    assert (created.alias, created.agent, created.provider) == ("work", "claude", "minimax")
    assert created.model == "MiniMax-M2"
    assert created.binary == fake_agent
    assert created.endpoint_url is None and created.working_dir is None
    assert created.args == [] and created.env == {}
    assert created.shape in ("anthropic", "openai-chat", "openai-responses", "gemini")
    assert created.metadata["total_runs"] == 0 and "last_used" not in created.metadata
    # The mapping view is to_dict(): unset options are absent keys, as in the old dicts.
    as_dict = created.to_dict()
    assert isinstance(as_dict, dict)
    assert as_dict["alias"] == "work" and "working_dir" not in as_dict
    assert list(created) == created.keys() == list(as_dict)
    assert dict(created) == as_dict and len(created) == len(as_dict)
    assert "model" in created and "working_dir" not in created
    assert created.get("working_dir") is None and created.get("working_dir", 1) == 1
    with pytest.raises(KeyError):
        created["working_dir"]
    with pytest.raises(KeyError):
        created["no_such_field"]
    with pytest.raises(AttributeError):
        created.alias = "other"  # type: ignore[misc]
    # Equality with a Profile or its dict; not hashable, like the dict it replaced.
    assert r.profile("work") == created == as_dict
    assert created != {**as_dict, "model": "other"}
    with pytest.raises(TypeError):
        hash(created)
    assert repr(created) == "Profile(alias='work', agent='claude', provider='minimax', model='MiniMax-M2')"
    # Immutable, so copying gives the same object (as dicts, copies compare equal).
    assert copy.copy(created) is created and copy.deepcopy([created]) == [as_dict]
    # Round trip through JSON, via to_dict().
    assert json.loads(json.dumps(created.to_dict())) == as_dict
    # Pickles (multiprocessing, caches) into an equal Profile, whatever the fields set.
    full = r.create_profile(
        "claude", "full", "custom", key=KEY, custom_endpoint="http://127.0.0.1:9",
        shape="anthropic", model="m", binary=fake_agent, working_dir="/tmp",
        args=["--verbose"], env={"FOO": "bar"},
    )
    r.run("full", [])
    for p in (created, r.profile("full")):
        back = pickle.loads(pickle.dumps(p))
        assert isinstance(back, ringlet.Profile) and back == p and back.to_dict() == p.to_dict()
    assert r.profile("full").metadata["total_runs"] == 1
    with pytest.raises(ringlet.InvalidInput):
        ringlet._ringlet._profile_from_dict({"alias": "x"})


def test_profile_matches_cli_json(
    r: ringlet.Ringlet, home, fake_agent: str, ringlet_cli: str, tmp_path
) -> None:
    """A Profile reads as the same data `ringlet profiles list/inspect --json` prints for it:
    to_dict() is that JSON, and each attribute is its value (None / [] / {} where absent)."""
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
    assert [p.to_dict() for p in listed] == cli_listed
    assert listed == cli_listed
    assert "last_used" in cli_listed[1]["metadata"] and cli_listed[1]["metadata"]["total_runs"] == 1
    # Between them the two profiles have every field, so every attribute is compared below.
    assert set(cli_listed[0]) | set(cli_listed[1]) == set(PROFILE_FIELDS)
    for profile, shown in zip(listed, cli_listed):
        assert cli("profiles", "inspect", profile.alias) == r.profile(profile.alias).to_dict()
        assert list(profile) == list(shown)
        for key in PROFILE_FIELDS:
            empty = {"args": [], "env": {}}.get(key)
            assert getattr(profile, key) == shown.get(key, empty), key


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
    with pytest.raises(ringlet.InvalidInput):
        r.set_key("minimax", "k", "sk-again")
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


def test_typed_errors(r: ringlet.Ringlet, fake_agent: str) -> None:
    with pytest.raises(ringlet.ProfileNotFound) as err:
        r.plan_run("nobody")
    assert err.value.code == "profile_not_found"
    assert isinstance(err.value, ringlet.RingletError)
    assert "nobody" in str(err.value)
    with pytest.raises(ringlet.InvalidAlias) as err:
        r.create_profile("claude", "../evil", "minimax", key=KEY, model="MiniMax-M2")
    assert err.value.code == "invalid_alias"
    with pytest.raises(ringlet.InvalidAlias):
        r.profile_home("../evil")
    with pytest.raises(ringlet.UnknownAgent):
        r.create_profile("no-such-agent", "a", "minimax")
    with pytest.raises(TypeError, match="unexpected profile option 'modle'"):
        r.create_profile("claude", "a", "minimax", modle="x")


def test_missing_binary_is_agent_not_installed(r: ringlet.Ringlet, tmp_path) -> None:
    r.create_profile(
        "claude", "gone", "minimax", key=KEY, model="MiniMax-M2", binary=tmp_path / "no" / "agent"
    )
    with pytest.raises(ringlet.AgentNotInstalled) as err:
        r.run("gone")
    assert err.value.code == "agent_not_installed"


def test_io_error_keeps_its_cause(home, fake_agent: str) -> None:
    # An unreadable profiles directory: the core's Io error arrives with an OSError as __cause__.
    (home / "data").mkdir()
    (home / "data" / "profiles").write_text("not a directory")
    r = ringlet.Ringlet(home=home)
    with pytest.raises(ringlet.RingletError) as err:
        make_profile(r, "work", fake_agent)
    assert err.value.code == "io"
    assert isinstance(err.value, ringlet.IoError)
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
