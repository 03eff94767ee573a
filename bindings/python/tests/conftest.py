"""Fixtures: a throwaway ringlet home with the file credential backend (never the developer's
keychain), the fake agent binary built by `cargo build -p ringlet-tests --bin fake-agent` and the
`ringlet` CLI built by `cargo build -p ringlet-cli --bin ringlet` (tests/bindings.sh builds both
and sets RINGLET_FAKE_AGENT and RINGLET_CLI)."""

import os
from pathlib import Path

import pytest

import ringlet

REPO = Path(__file__).resolve().parents[3]


def built(variable: str, package: str, binary: str) -> str:
    """The path in `variable`, else the workspace's debug build of `binary`; fails if missing."""
    path = Path(os.environ.get(variable, REPO / "target" / "debug" / binary))
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: build it with `cargo build -p {package} --bin {binary}` "
            f"(or set {variable})"
        )
    return str(path)


@pytest.fixture(scope="session")
def fake_agent() -> str:
    return built("RINGLET_FAKE_AGENT", "ringlet-tests", "fake-agent")


@pytest.fixture(scope="session")
def ringlet_cli() -> str:
    return built("RINGLET_CLI", "ringlet-cli", "ringlet")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('[credentials]\nbackend = "file"\n')
    return tmp_path


@pytest.fixture
def r(home: Path) -> ringlet.Ringlet:
    return ringlet.Ringlet(home=home)
