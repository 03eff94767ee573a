"""Ringlet.start and its RunHandle: a PTY run of the fake agent's interactive mode (size, resize,
input, exit code), a piped run read to the end, kill, the context manager, the hook transport
(hook_program) and subscribe()."""

import threading
import time
from pathlib import Path

import pytest

import ringlet
from test_glue import make_profile

TIMEOUT = 20.0


class Output:
    """Reads a handle's output on a thread; `wait_for` fails the test on timeout or EOF."""

    def __init__(self, read) -> None:
        self.seen = ""
        self.ended = False
        self.lock = threading.Condition()
        threading.Thread(target=self._pump, args=(read,), daemon=True).start()

    def _pump(self, read) -> None:
        while (chunk := read()) is not None:
            assert isinstance(chunk, bytes)
            with self.lock:
                self.seen += chunk.decode(errors="replace")
                self.lock.notify_all()
        with self.lock:
            self.ended = True
            self.lock.notify_all()

    def wait_for(self, needle: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        with self.lock:
            while needle not in self.seen:
                left = deadline - time.monotonic()
                assert left > 0 and not self.ended, f"no {needle!r} in {self.seen!r}"
                self.lock.wait(left)

    def wait_end(self) -> str:
        deadline = time.monotonic() + TIMEOUT
        with self.lock:
            while not self.ended:
                left = deadline - time.monotonic()
                assert left > 0, f"output never ended: {self.seen!r}"
                self.lock.wait(left)
            return self.seen


def test_pty_run_sees_size_resize_and_input(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path
) -> None:
    make_profile(r, "tty", fake_agent)
    handle = r.start(
        "tty", ["--exit", "7", "--interactive"], io="pty", rows=24, cols=80,
        working_dir=tmp_path,
    )
    assert isinstance(handle, ringlet.RunHandle)
    out = Output(handle.read)
    out.wait_for(f"size 24 80 pid {handle.pid}")
    # wait() on another thread (GIL released) while this one resizes and types.
    result: dict = {}
    waiter = threading.Thread(target=lambda: result.update(handle.wait()))
    waiter.start()
    handle.resize(30, 100)
    out.wait_for("winch 30 100")
    handle.write(b"hello\n")
    out.wait_for("got hello")
    handle.write(b"quit\n")
    waiter.join(TIMEOUT)
    assert result["exit_code"] == 7 and result["pid"] == handle.pid
    assert handle.wait() == result, "a second wait() gives the same outcome"
    out.wait_end()
    assert r.profile("tty")["metadata"]["total_runs"] == 1


def test_piped_run_is_read_to_the_end(r: ringlet.Ringlet, fake_agent: str, tmp_path: Path) -> None:
    make_profile(r, "pipe", fake_agent)
    handle = r.start("pipe", ["--interactive"], io="piped", working_dir=tmp_path)
    out = Output(handle.read)
    out.wait_for(f"pid {handle.pid}")
    # Standard input is /dev/null: the interactive agent sees end of input and exits 0.
    assert handle.wait()["exit_code"] == 0
    out.wait_end()
    assert handle.read_stderr() is None or isinstance(handle.read_stderr(), bytes)
    with pytest.raises(ringlet.InvalidInputError, match="no terminal"):
        handle.write(b"x")


def test_kill_ends_a_run_and_the_context_manager_finishes_it(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path
) -> None:
    make_profile(r, "long", fake_agent)
    handle = r.start("long", ["--sleep-ms", "60000"], io="piped", working_dir=tmp_path)
    handle.kill()
    assert handle.wait()["exit_code"] == 128 + 9
    with r.start("long", ["--sleep-ms", "60000"], io="pty", working_dir=tmp_path) as h:
        pid = h.pid
    # Leaving the block killed the agent and finished the run (counted, like the first).
    assert h.wait()["pid"] == pid and h.wait()["exit_code"] == 128 + 9
    assert r.profile("long")["metadata"]["total_runs"] == 2


def test_start_options_are_checked(r: ringlet.Ringlet, fake_agent: str) -> None:
    make_profile(r, "work", fake_agent)
    with pytest.raises(ringlet.InvalidInputError, match="io must be"):
        r.start("work", io="tty")
    with pytest.raises(ringlet.InvalidInputError, match="env must be"):
        r.start("work", env="none")
    with pytest.raises(ringlet.ProfileNotFound):
        r.start("nobody")


def test_clean_env_passes_only_the_allowlist(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path, monkeypatch
) -> None:
    import json

    make_profile(r, "env", fake_agent)
    record = tmp_path / "record.json"
    monkeypatch.setenv("FAKE_AGENT_RECORD", str(record))
    monkeypatch.setenv("RINGLET_TEST_SECRET_TOKEN", "server-only")
    handle = r.start("env", env_allow=["FAKE_AGENT_RECORD"], io="piped", working_dir=tmp_path)
    assert handle.wait()["exit_code"] == 0
    env = json.loads(record.read_text())["env"]
    assert "RINGLET_TEST_SECRET_TOKEN" not in env and env["FAKE_AGENT_RECORD"] == str(record)
    assert json.loads(record.read_text())["cwd"] == str(tmp_path)


def test_the_time_zone_is_the_agents(
    r: ringlet.Ringlet, fake_agent: str, tmp_path: Path, monkeypatch
) -> None:
    import json

    make_profile(r, "tz", fake_agent)
    record = tmp_path / "record.json"
    monkeypatch.setenv("FAKE_AGENT_RECORD", str(record))
    handle = r.start("tz", io="piped", working_dir=tmp_path, time_zone="Asia/Kolkata")
    assert handle.wait()["exit_code"] == 0
    assert json.loads(record.read_text())["env"]["TZ"] == "Asia/Kolkata"
    with pytest.raises(ringlet.InvalidInputError, match="Europe/Berlin or UTC"):
        r.start("tz", io="piped", time_zone="Mars/Olympus_Mons")


def test_a_gated_profile_needs_a_hook_program(
    home: Path, fake_agent: str, ringlet_cli: str, tmp_path: Path, monkeypatch
) -> None:
    # No `ringlet` on PATH: without hook_program, nothing could carry the pre-tool-use gate.
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    r = ringlet.Ringlet(home=home)
    make_profile(r, "gated", fake_agent)
    r.add_hook("pre-tool-use", profile="gated", shell="true")
    with pytest.raises(ringlet.HookTransportMissing) as err:
        r.start("gated", io="piped", working_dir=tmp_path)
    assert isinstance(err.value, ringlet.UnavailableError)
    assert err.value.code == "hook_transport_missing"

    r = ringlet.Ringlet(home=home, hook_program=ringlet_cli)
    handle = r.start("gated", io="piped", working_dir=tmp_path)
    assert handle.wait()["exit_code"] == 0
    settings = (Path(r.profile_home("gated")) / ".claude" / "settings.json").read_text()
    assert ringlet_cli in settings


def test_subscribe_sees_a_run(r: ringlet.Ringlet, fake_agent: str, tmp_path: Path) -> None:
    events = r.subscribe()
    assert events.next(0.0) is None
    make_profile(r, "seen", fake_agent)
    handle = r.start("seen", ["--exit", "3"], io="piped", working_dir=tmp_path)
    handle.wait()
    seen = []
    while (event := events.next(1.0)) is not None:
        seen.append(event)
    kinds = [e["type"] for e in seen]
    assert kinds[:1] == ["profile-created"] and seen[0]["alias"] == "seen"
    started = next(e for e in seen if e["type"] == "run-started")
    ended = next(e for e in seen if e["type"] == "run-ended")
    assert started["pid"] == handle.pid and ended["outcome"]["exit_code"] == 3
    assert events.missed == 0
