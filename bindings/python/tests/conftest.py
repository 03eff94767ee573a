"""Fixtures: a throwaway ringlet home with the file credential backend (never the developer's
keychain), the fake agent binary built by `cargo build -p ringlet-tests --bin fake-agent` and the
`ringlet` CLI built by `cargo build -p ringlet-cli --bin ringlet` (tests/bindings.sh builds both
and sets RINGLET_FAKE_AGENT and RINGLET_CLI)."""

import os
from pathlib import Path

import pytest

import ringlet

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def fake_agent() -> str:
    path = Path(os.environ.get("RINGLET_FAKE_AGENT", REPO / "target" / "debug" / "fake-agent"))
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: build it with `cargo build -p ringlet-tests --bin fake-agent` "
            "(or set RINGLET_FAKE_AGENT)"
        )
    return str(path)


@pytest.fixture(scope="session")
def ringlet_cli() -> str:
    path = Path(os.environ.get("RINGLET_CLI", REPO / "target" / "debug" / "ringlet"))
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: build it with `cargo build -p ringlet-cli --bin ringlet` "
            "(or set RINGLET_CLI)"
        )
    return str(path)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('[credentials]\nbackend = "file"\n')
    return tmp_path


@pytest.fixture
def r(home: Path) -> ringlet.Ringlet:
    return ringlet.Ringlet(home=home)
