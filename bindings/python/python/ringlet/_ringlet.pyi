"""Type stubs for the Rust extension module ``ringlet._ringlet``.

Kept in step with the module by tests/test_stubs.py (every method and exception here exists at
run time and vice versa).
"""

from collections.abc import Callable
from os import PathLike
from typing import Any, Literal, TypedDict

from typing_extensions import NotRequired

__version__: str

WireShape = Literal["anthropic", "openai-chat", "openai-responses", "gemini"]

class Source(TypedDict):
    kind: Literal["built-in", "file", "registry"]
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
    one_shot: list[str]

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

SandboxMode = Literal["off", "always", "remote"]

# A profile's ``sandbox`` when its ``[sandbox]`` table adds to config.toml's (a plain mode
# otherwise); the keys are the TOML's.
ProfileSandbox = TypedDict(
    "ProfileSandbox",
    {
        "mode": SandboxMode,
        "extra-rw": NotRequired[list[str]],
        "extra-ro": NotRequired[list[str]],
        "network": NotRequired[Literal["shared", "none"]],
    },
)

class ProfileMetadata(TypedDict):
    created_at: str
    last_used: NotRequired[str]
    total_runs: int

class Profile(TypedDict):
    """One profile: agent + provider + key alias (never the key) + its own HOME. Unset options
    are absent keys, as in ``ringlet profiles list --json``."""

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
    sandbox: NotRequired[SandboxMode | ProfileSandbox]
    metadata: ProfileMetadata

class CredentialKey(TypedDict):
    provider: str
    alias: str

class DeleteReport(TypedDict):
    alias: str
    home: str
    key: CredentialKey | None
    key_outcome: Literal["no-key", "removed", "kept", "shared", "not-stored", "failed"]
    shared_with: list[str]
    key_error: NotRequired[str]
    dry_run: bool

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
    owned: NotRequired[list[str]]

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

class PromptAnswer(TypedDict):
    answer: str
    """The agent's answer, read from its output as its manifest says."""
    exit_code: int
    stdout: str
    stderr: str

class RunOutcome(TypedDict):
    exit_code: int
    started_at: str
    ended_at: str
    duration: int
    """Milliseconds."""
    pid: int

UsageGroup = Literal[
    "total", "day", "week", "month", "model", "profile", "agent", "provider", "session"
]

class UsageRow(TypedDict):
    key: str
    events: int
    input: int
    output: int
    cache_creation: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read: int
    reasoning: int
    total_tokens: int
    cost_nanos: int
    cost_usd: float
    priced_events: int
    unpriced_events: int

class UsageLine(UsageRow):
    profile: NotRequired[str]
    agent: NotRequired[str]
    provider: NotRequired[str]

class UsageReport(TypedDict):
    group: str
    since: str | None
    until: str | None
    rows: list[UsageLine]
    total: UsageRow

class UsageEvent(TypedDict):
    time: str
    profile: str
    agent: str
    provider: str
    model: str
    input: int
    output: int
    cache_creation: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read: int
    reasoning: int
    cost_nanos: int | None
    cost_source: Literal["computed", "reported", "unpriced"]
    session_id: str | None
    project: NotRequired[str]
    origin: str
    dedup_key: str
    rank: int

class Malformed(TypedDict):
    path: str
    line: int
    reason: str

class FileFailure(TypedDict):
    path: str
    message: str

class ImportSummary(TypedDict):
    files_seen: int
    files_scanned: int
    files_unchanged: int
    files_restarted: int
    bytes_read: int
    lines: int
    records: int
    inserted: int
    replaced: int
    duplicates: int
    malformed_lines: int
    malformed_samples: list[Malformed]
    ignored_lines: int
    pending_tails: int
    unpriced_models: list[str]
    failures: list[FileFailure]
    unknown_formats: list[str]

class ProfileSync(TypedDict):
    profile: str
    agent: str
    summary: ImportSummary
    error: str | None

class SyncReport(TypedDict):
    profiles: list[ProfileSync]
    total: ImportSummary

class ImportProgress(TypedDict):
    files_done: int
    files_total: int
    path: str
    inserted: int

class ImportReport(TypedDict):
    agent: str
    profile: str
    sources: list[str]
    summary: ImportSummary
    cost_nanos: int
    cost_usd: float
    unpriced_events: int
    first_event: str | None
    last_event: str | None

class ImportCandidate(TypedDict):
    agent: str
    name: str
    paths: list[str]
    files: int
    profiles: list[str]

class RepriceOutcome(TypedDict):
    examined: int
    updated: int
    unpriced: int

class PricingReport(TypedDict):
    source: str
    snapshot: str
    models: int
    skipped: int
    repriced: RepriceOutcome

class PricingStatus(TypedDict):
    snapshot: str | None
    updated_at: str | None
    models: int

class DoctorCheck(TypedDict):
    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    fix: str | None

class DoctorReport(TypedDict):
    checks: list[DoctorCheck]
    healthy: bool

class RegistryArtifact(TypedDict):
    kind: Literal["agent", "provider", "script", "template", "models", "pricing"]
    path: str
    sha256: str
    size: int

class RegistryStatus(TypedDict):
    url: str
    channel: str
    key: Literal["built-in", "config", "env"]
    dir: str
    commit: str | None
    serial: int | None
    published: str | None
    synced_at: str | None
    age_seconds: int | None
    stale: bool
    pinned: str | None
    verified: bool
    problem: str | None
    artifacts: list[RegistryArtifact]
    snapshots: list[str]

class StatsRow(TypedDict):
    profile: str
    agent: str
    provider: str
    runs: int
    succeeded: int
    failed: int
    unfinished: int
    total_duration_ms: int
    avg_duration_ms: int
    peak_rss_bytes: int | None
    cpu_user_ms: int
    cpu_system_ms: int
    last_run: str | None

class StatsReport(TypedDict):
    rows: list[StatsRow]
    total: StatsRow

HookEvent = Literal[
    "pre-tool-use", "tool-use", "stop", "start", "notify", "cost-threshold", "daily-rollup"
]

class HookAction(TypedDict):
    type: Literal["shell", "rhai", "webhook"]
    command: NotRequired[str]
    script: NotRequired[str]
    source: NotRequired[str]
    url: NotRequired[str]
    template: NotRequired[str]

class Threshold(TypedDict):
    period: Literal["day", "month"]
    usd: float
    of_usd: NotRequired[float]

class HookRule(TypedDict):
    id: str
    event: HookEvent
    matcher: NotRequired[str]
    timeout_ms: NotRequired[int]
    threshold: NotRequired[Threshold]
    action: HookAction

class HookEntry(TypedDict):
    profile: NotRequired[str]
    rule: HookRule

class HookImportReport(TypedDict):
    added: list[str]
    unchanged: list[str]

class ImportedItem(TypedDict):
    kind: Literal["profile", "hook", "routing", "config", "remote"]
    name: str
    renamed_from: str | None
    outcome: Literal["created", "unchanged", "skipped"]

class KeyToSet(TypedDict):
    provider: str
    alias: str
    used_by: list[str]
    remote_url: str | None

class EnvToSet(TypedDict):
    profile: str
    name: str

class SetupImportReport(TypedDict):
    dry_run: bool
    items: list[ImportedItem]
    keys_to_set: list[KeyToSet]
    env_to_set: list[EnvToSet]
    registry_pin: str | None

class FireReport(TypedDict):
    hook: str
    ok: bool
    detail: str

class Decision(TypedDict):
    decision: Literal["allow", "deny"]
    hook: NotRequired[str]
    reason: NotRequired[str]
    failed: NotRequired[bool]

class HookContext(TypedDict):
    event: HookEvent
    profile: str
    agent: str
    provider: str
    tool: NotRequired[str]
    tool_input: NotRequired[str]
    tool_result: NotRequired[str]
    tool_error: NotRequired[bool]
    message: NotRequired[str]
    cost_usd: NotRequired[float]
    threshold_usd: NotRequired[float]
    budget_usd: NotRequired[float]
    period: NotRequired[str]
    period_key: NotRequired[str]
    duration_ms: NotRequired[int]
    exit_code: NotRequired[int]
    total_usd: NotRequired[float]
    profile_count: NotRequired[int]
    top_profile: NotRequired[str]
    top_usd: NotRequired[float]
    session_id: NotRequired[str]
    cwd: NotRequired[str]

class HookTestReport(TypedDict):
    hook: HookEntry
    context: HookContext
    applies: bool
    decision: Decision | None
    fired: FireReport | None

_Path = str | PathLike[str]

class Ringlet:
    """ringlet as a library. ``home`` puts everything under one directory (like RINGLET_HOME);
    otherwise RINGLET_HOME or the platform's directories are used. Thread-safe; every method
    releases the GIL while it works."""

    def __init__(self, home: _Path | None = None, *, hook_program: _Path | None = None) -> None:
        """``hook_program``: the ``ringlet`` binary agents call back through for hooks
        (``ringlet hooks dispatch``); by default ``ringlet`` on PATH. Without one, a profile with
        pre-tool-use hooks refuses to start (``HookTransportMissing``)."""
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
    def update_profile(
        self,
        alias: str,
        *,
        sandbox: SandboxMode | None = None,
        model: str | None = None,
        endpoint: str | None = None,
        custom_endpoint: str | None = None,
        shape: str | None = None,
        set_env: dict[str, str] | None = None,
        unset_env: list[str] | None = None,
        args: list[str] | None = None,
        working_dir: _Path | None = None,
        clear_working_dir: bool | None = None,
        binary: _Path | None = None,
        clear_binary: bool | None = None,
    ) -> Profile: ...
    def delete_profile(
        self,
        alias: str,
        key: Literal["if-unused", "keep", "remove"] | None = None,
        dry_run: bool = False,
    ) -> DeleteReport: ...
    def plan_run(self, alias: str, args: list[str] = ...) -> LaunchPlan: ...
    def run(self, alias: str, args: list[str] = ...) -> RunOutcome: ...
    def prompt(
        self, alias: str, prompt: str, *, working_dir: str | PathLike[str] | None = ...
    ) -> PromptAnswer: ...
    def start(
        self,
        alias: str,
        args: list[str] = ...,
        *,
        io: Literal["inherit", "pty", "piped"] = "inherit",
        rows: int = 24,
        cols: int = 80,
        working_dir: _Path | None = None,
        search_path: str | None = None,
        env: Literal["inherit", "clean"] = "inherit",
        env_allow: list[str] | None = None,
        grace: float | None = None,
        sandbox: bool | None = None,
        time_zone: str | None = None,
    ) -> RunHandle:
        """Starts the agent without waiting: ``io="pty"`` gives it a terminal of ``rows`` ×
        ``cols``, ``io="piped"`` pipes its output; ``env="clean"`` passes only the core's
        allowlist (TERM, locale, PATH, proxies, CA bundles), ``env_allow`` exactly the names
        given; ``grace`` is in seconds; ``time_zone`` (an IANA name) is the agent's ``TZ``."""
    def subscribe(self) -> Subscription: ...
    def migrate_keys(self) -> MigrationReport: ...
    def set_key(self, provider: str, alias: str, secret: str, *, replace: bool = False) -> None: ...
    def remove_key(self, provider: str, alias: str) -> None: ...
    def list_keys(self) -> list[CredentialKey]: ...
    def usage(
        self,
        *,
        profile: str | None = None,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        since: str | None = None,
        until: str | None = None,
        group: UsageGroup | None = None,
        timezone: str | None = None,
        breakdown: str | None = None,
    ) -> UsageReport: ...
    def usage_events(
        self,
        *,
        profile: str | None = None,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        since: str | None = None,
        until: str | None = None,
        group: UsageGroup | None = None,
        timezone: str | None = None,
    ) -> list[UsageEvent]: ...
    def sync_usage(self) -> SyncReport: ...
    def import_usage(
        self,
        agent: str,
        profile: str,
        source: _Path | None = None,
        progress: Callable[[ImportProgress], object] | None = None,
    ) -> ImportReport: ...
    def import_candidates(self) -> list[ImportCandidate]: ...
    def update_pricing(self, source: _Path | None = None) -> PricingReport: ...
    def pricing_status(self) -> PricingStatus: ...
    def doctor(self) -> DoctorReport: ...
    def registry_status(self) -> RegistryStatus: ...
    def stats(
        self,
        *,
        profile: str | None = None,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        since: str | None = None,
        until: str | None = None,
        group: UsageGroup | None = None,
        timezone: str | None = None,
    ) -> StatsReport: ...
    def usage_db_path(self) -> str: ...
    def hooks(self) -> list[HookEntry]: ...
    def hooks_for(self, alias: str) -> list[HookEntry]: ...
    def add_hook(
        self,
        event: HookEvent,
        *,
        profile: str | None = None,
        shell: str | None = None,
        rhai_file: _Path | None = None,
        rhai_script: str | None = None,
        webhook: str | None = None,
        webhook_template: str | None = None,
        matcher: str | None = None,
        timeout_ms: int | None = None,
        period: Literal["day", "month"] | None = None,
        threshold: float | None = None,
        of: float | None = None,
    ) -> HookEntry: ...
    def remove_hook(self, id: str) -> HookEntry: ...
    def export_hooks(self) -> str: ...
    def import_hooks(self, text: str) -> HookImportReport: ...
    def test_hook(
        self, id: str, payload: dict[str, object] | None = None, profile: str | None = None
    ) -> HookTestReport: ...
    def run_scheduled_hooks(self) -> list[FireReport]: ...
    def export_setup(self) -> dict[str, Any]: ...
    def import_setup(
        self,
        document: dict[str, Any] | str,
        dry_run: bool = False,
        rename: dict[str, str] | None = None,
        skip_existing: bool = False,
    ) -> SetupImportReport: ...

class RunHandle:
    """A started agent. As a context manager, leaving the block kills an agent still running
    and waits for it, so the run is finished and recorded."""

    @property
    def pid(self) -> int: ...
    def wait(self) -> RunOutcome:
        """Blocks (GIL released) until the agent ends and its run is finished; later calls
        return the same outcome."""
    def signal(self, signal: int) -> None: ...
    def kill(self) -> None: ...
    def resize(self, rows: int, cols: int) -> None: ...
    def write(self, data: bytes) -> None: ...
    def read(self, size: int = 65536) -> bytes | None:
        """The next chunk of the terminal's output (``io="pty"``) or standard output
        (``io="piped"``); None at end of file."""
    def read_stderr(self, size: int = 65536) -> bytes | None: ...
    def __enter__(self) -> RunHandle: ...
    def __exit__(self, *exc: object) -> bool: ...

class Event(TypedDict, total=False):
    """One event; ``type`` says which (``profile-created``, ``profile-updated``,
    ``profile-deleted``, ``run-started``, ``run-ended``, ``usage-recorded``, ``hook-fired``,
    ``warning``, and kinds added later) and which other keys it has."""

    type: str
    alias: str
    pid: int
    started_at: str
    outcome: RunOutcome
    profile: str
    events: int
    event: str
    hook: str
    ok: bool
    code: str
    message: str

class Subscription:
    """Events from a ``Ringlet``, from the moment of subscribing. Iterating blocks for each
    event; a subscriber that stops reading loses events (counted in ``missed``)."""

    def next(self, timeout: float = 0.0) -> Event | None:
        """The next event, waiting at most ``timeout`` seconds; None when none came."""
    @property
    def missed(self) -> int: ...
    def __iter__(self) -> Subscription: ...
    def __next__(self) -> Event: ...

class RingletError(Exception):
    """Base class of every ringlet error. Catch a kind class (``NotFoundError``, …) or a code
    class (``ProfileNotFound``, …); every instance has all three attributes."""

    code: str
    """The stable error code (``profile_not_found``)."""
    kind: str
    """Its class: ``not_found``, ``conflict``, ``invalid_input``, ``unavailable`` or
    ``internal`` (HTTP 404, 409, 400, 503, 500)."""
    hint: str | None
    """The fix in Python's terms (``pass replace=True to overwrite it``), also at the end of
    the message; None when the message says it all."""

class NotFoundError(RingletError): ...
class ConflictError(RingletError): ...
class InvalidInputError(RingletError): ...
class UnavailableError(RingletError): ...
class InternalError(RingletError): ...
class ProfileNotFound(NotFoundError): ...
class ProfileExists(ConflictError): ...
class InvalidAlias(InvalidInputError): ...
class UnknownAgent(NotFoundError): ...
class UnknownProvider(NotFoundError): ...
class UnknownEndpoint(NotFoundError): ...
class UnknownModel(NotFoundError): ...
class Incompatible(InvalidInputError): ...
class InvalidInput(InvalidInputError): ...
class AgentNotInstalled(UnavailableError): ...
class MissingKey(ConflictError): ...
class KeyNotFound(NotFoundError): ...
class KeyExists(ConflictError): ...
class KeyAliasTaken(ConflictError): ...
class KeyNotMigrated(ConflictError): ...
class KeychainUnavailable(UnavailableError): ...
class KeychainLocked(UnavailableError): ...
class ParseError(InternalError): ...
class InsecurePermissions(InternalError): ...
class ScriptError(InternalError): ...
class CredentialError(InternalError): ...
class IoError(InternalError): ...
class SpawnError(InternalError): ...
class UsageStoreError(InternalError): ...
class DownloadError(UnavailableError): ...
class RegistryError(UnavailableError): ...
class HookError(InvalidInputError): ...
class HookNotFound(NotFoundError): ...
class HookExists(ConflictError): ...
class HookStateError(InternalError): ...
class SandboxUnavailable(UnavailableError): ...
class ProxyError(UnavailableError): ...
class HookTransportMissing(UnavailableError): ...
class SessionNotFound(NotFoundError): ...
class RemoteNotFound(NotFoundError): ...
class RemoteExists(ConflictError): ...
class NoHome(InternalError): ...
