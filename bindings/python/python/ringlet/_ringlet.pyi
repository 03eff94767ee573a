"""Type stubs for the Rust extension module ``ringlet._ringlet``.

Kept in step with the module by tests/test_stubs.py (every method and exception here exists at
run time and vice versa).
"""

from os import PathLike
from typing import Literal, TypedDict

from typing_extensions import NotRequired

__version__: str

WireShape = Literal["anthropic", "openai-chat", "openai-responses", "gemini"]

class Source(TypedDict):
    kind: Literal["built-in", "file"]
    path: NotRequired[str]

class Paths(TypedDict):
    config_dir: str
    data_dir: str
    cache_dir: str

class Warning(TypedDict):
    code: str
    message: str

class AgentInfo(TypedDict):
    id: str
    name: str
    installed: bool
    path: str | None
    version: str | None
    version_error: str | None
    checked_at: str
    speaks: list[WireShape]
    profiles: int
    install: str
    source: Source

class ProviderInfo(TypedDict):
    id: str
    name: str
    endpoints: dict[str, dict[WireShape, str]]
    default_endpoint: str | None
    shapes: list[WireShape]
    auth_env: str | None
    needs_key: bool
    default_model: str | None
    models: list[str]
    profiles: int
    source: Source

class InitReport(TypedDict):
    config_dir: str
    data_dir: str
    cache_dir: str
    agents: list[AgentInfo]

class ProfileMetadata(TypedDict):
    created_at: str
    last_used: NotRequired[str]
    total_runs: int

class Profile(TypedDict):
    alias: str
    agent: str
    provider: str
    endpoint: NotRequired[str]
    endpoint_url: NotRequired[str]
    shape: WireShape
    model: NotRequired[str]
    key_alias: NotRequired[str]
    binary: NotRequired[str]
    working_dir: NotRequired[str]
    args: NotRequired[list[str]]
    env: NotRequired[dict[str, str]]
    metadata: ProfileMetadata

class CredentialKey(TypedDict):
    provider: str
    alias: str

class MigrationReport(TypedDict):
    moved: list[CredentialKey]
    already_present: list[CredentialKey]
    conflicts: list[CredentialKey]

class SecretEnv(TypedDict):
    var: str
    provider: str
    alias: str

class EnvEntry(TypedDict):
    name: str
    value: str
    secret: bool

class PlannedFile(TypedDict):
    path: str
    format: Literal["json", "toml", "text"]
    merge: Literal["replace", "merge", "create"]
    content: str
    holds_key: bool

class LaunchPlan(TypedDict):
    profile: str
    agent: str
    provider: str
    shape: WireShape
    base_url: str
    model: str | None
    program: str
    args: list[str]
    cwd: str
    home: str
    env: dict[str, str]
    secret_env: SecretEnv | None
    env_remove: list[str]
    dirs: list[str]
    files: list[PlannedFile]
    masked_env: list[EnvEntry]

class RunOutcome(TypedDict):
    exit_code: int
    started_at: str
    ended_at: str
    duration: int
    """Milliseconds."""
    pid: int

_Path = str | PathLike[str]

class Ringlet:
    """ringlet as a library. ``home`` puts everything under one directory (like RINGLET_HOME);
    otherwise RINGLET_HOME or the platform's directories are used. Thread-safe; every method
    releases the GIL while it works."""

    def __init__(self, home: _Path | None = None) -> None: ...
    def paths(self) -> Paths: ...
    def warnings(self) -> list[Warning]: ...
    def check_credentials(self) -> None: ...
    def init(self) -> InitReport: ...
    def agents(self) -> list[AgentInfo]: ...
    def agent(self, id: str) -> AgentInfo: ...
    def providers(self) -> list[ProviderInfo]: ...
    def provider(self, id: str) -> ProviderInfo: ...
    def profiles(self) -> list[Profile]: ...
    def profile(self, alias: str) -> Profile: ...
    def profile_home(self, alias: str) -> str: ...
    def has_profile(self, alias: str) -> bool: ...
    def resolve_profile(
        self,
        agent: str,
        alias: str,
        provider: str,
        *,
        endpoint: str | None = None,
        custom_endpoint: str | None = None,
        shape: str | None = None,
        model: str | None = None,
        key_alias: str | None = None,
        env: dict[str, str] | None = None,
        working_dir: _Path | None = None,
        binary: _Path | None = None,
        args: list[str] | None = None,
    ) -> Profile: ...
    def missing_key(
        self,
        agent: str,
        alias: str,
        provider: str,
        *,
        endpoint: str | None = None,
        custom_endpoint: str | None = None,
        shape: str | None = None,
        model: str | None = None,
        key_alias: str | None = None,
        env: dict[str, str] | None = None,
        working_dir: _Path | None = None,
        binary: _Path | None = None,
        args: list[str] | None = None,
    ) -> CredentialKey | None: ...
    def create_profile(
        self,
        agent: str,
        alias: str,
        provider: str,
        *,
        key: str | None = None,
        endpoint: str | None = None,
        custom_endpoint: str | None = None,
        shape: str | None = None,
        model: str | None = None,
        key_alias: str | None = None,
        env: dict[str, str] | None = None,
        working_dir: _Path | None = None,
        binary: _Path | None = None,
        args: list[str] | None = None,
    ) -> Profile: ...
    def delete_profile(self, alias: str) -> None: ...
    def plan_run(self, alias: str, args: list[str] = ...) -> LaunchPlan: ...
    def run(self, alias: str, args: list[str] = ...) -> RunOutcome: ...
    def migrate_keys(self) -> MigrationReport: ...
    def set_key(self, provider: str, alias: str, secret: str, *, replace: bool = False) -> None: ...
    def remove_key(self, provider: str, alias: str) -> None: ...
    def list_keys(self) -> list[CredentialKey]: ...

class RingletError(Exception):
    """Base class of every ringlet error."""

    code: str

class ProfileNotFound(RingletError): ...
class ProfileExists(RingletError): ...
class InvalidAlias(RingletError): ...
class UnknownAgent(RingletError): ...
class UnknownProvider(RingletError): ...
class UnknownEndpoint(RingletError): ...
class Incompatible(RingletError): ...
class InvalidInput(RingletError): ...
class AgentNotInstalled(RingletError): ...
class MissingKey(RingletError): ...
class KeyNotFound(RingletError): ...
class KeyNotMigrated(RingletError): ...
class KeychainUnavailable(RingletError): ...
class KeychainLocked(RingletError): ...
class ParseError(RingletError): ...
class InsecurePermissions(RingletError): ...
class ScriptError(RingletError): ...
class CredentialError(RingletError): ...
class IoError(RingletError): ...
class SpawnError(RingletError): ...
class UsageStoreError(RingletError): ...
class NoHome(RingletError): ...
