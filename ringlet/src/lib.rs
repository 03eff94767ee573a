//! # ringlet
//!
//! Run many coding-agent CLIs (Claude Code, Codex CLI, OpenCode, Grok CLI, Gemini CLI, Droid)
//! side by side. A **profile** binds an agent to a provider, a credential alias and its own
//! HOME; launching a profile starts the real agent with that HOME and the provider's base URL,
//! key and model, and nothing from the shell or other profiles leaking in.
//!
//! Everything goes through the [`Ringlet`] facade:
//!
//! ```no_run
//! use ringlet::{NewProfile, Ringlet, RunOptions, Secret};
//!
//! let ringlet = Ringlet::builder().home("/tmp/ringlet-demo").build()?;
//! let req = NewProfile::new("claude", "work", "anthropic").model("claude-sonnet-5");
//! ringlet.create_profile(&req, Some(&Secret::new("sk-ant-…")))?;
//! let plan = ringlet.plan_run("work", &["-p".into(), "hello".into()])?;
//! assert_eq!(plan.home, ringlet.profile_home("work")?);
//! let outcome = ringlet.run("work", &[], RunOptions::default())?;
//! std::process::exit(outcome.exit_code);
//! # Ok::<(), ringlet::Error>(())
//! ```
//!
//! The traits [`Agent`], [`Provider`], [`ProfileStore`], [`CredentialStore`] and [`Launcher`]
//! are the seams: the built-in implementations are manifest-, file- and process-based, and
//! [`RingletBuilder`] swaps any of them.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod alias;
mod base_url;
mod catalog;
mod config;
pub mod conformance;
mod credentials;
mod doctor;
mod error;
mod error_kind;
mod facade;
mod fsio;
mod hooks;
mod launch;
mod mcp;
mod paths;
mod profile;
#[cfg(feature = "proxy")]
pub mod proxy;
mod registry;
#[cfg(unix)]
pub mod session;
mod setup;
mod state;
mod suggest;
#[cfg(feature = "team")]
mod team;
mod telemetry;
mod usage;
mod warning;

pub use alias::{MAX_ALIAS_LEN, validate_alias};
pub use catalog::agent::{
    Agent, AgentEnv, AgentManifest, DetectProgress, Detection, LogLocation, ManifestAgent,
    OneShotAnswer, PROMPT_PLACEHOLDER, one_shot_answer, one_shot_args,
};
pub use catalog::catalogue::Catalogue;
pub use catalog::manifest::Source;
pub use catalog::provider::{
    AuthScheme, ManifestProvider, Provider, ProviderAuth, ProviderManifest, ProviderModels,
};
pub use catalog::wire::WireShape;
pub use config::{
    Config, CredentialBackend, CredentialsConfig, FallbackWarning, RegistryConfig, RemoteConfig,
    TeamConfig, TelemetryConfig,
};
pub use credentials::{
    AuditedCredentialStore, CredentialKey, CredentialStore, EnvCredentialStore,
    FileCredentialStore, KEYCHAIN_SERVICE, MemoryCredentialStore, MigrationReport, Secret,
    SystemCredentialStore, migrate_credentials,
};
pub use doctor::{Check, CheckStatus, DoctorReport, TESTED_VERSIONS};
pub use error::{Error, Result};
pub use error_kind::{ErrorKind, Field, FieldProblem, Hint};
pub use facade::usage::{
    BlocksQuery, BlocksReport, ImportCandidate, ImportProgress, ImportReport, ImportRequest,
    LITELLM_PRICES_URL, PricingReport, PricingStatus, ProfileSync, SessionDetail, SessionLine,
    SessionReport, SortOrder, StatsReport, StatsRow, SyncReport, TokenLimit, USAGE_REPORT_VERSION,
    UsageLine, UsageQuery, UsageReport,
};
pub use facade::{
    AgentInfo, EVENT_QUEUE, Event, HookImportReport, HookTestReport, InitReport, MAX_PROMPT_OUTPUT,
    NewHook, NewProfile, ProfileUpdate, PromptAnswer, ProviderInfo, REMOTE_TOKEN_PROVIDER,
    RUN_STARTED_ENV, ReconcileLine, Remote, Ringlet, RingletBuilder, RunHandle, Subscription,
};
pub use facade::{DeleteOptions, DeleteReport, KeyOnDelete, KeyOutcome};
pub use facade::{
    EnvToSet, ImportOutcome, ImportedItem, KeyToSet, SetupImportOptions, SetupImportReport,
    SetupItemKind, ShimReport, ShimRequest, StatusLine, StatuslineBlock, StatuslineContext,
    StatuslineInput, StatuslineModel,
};
pub use fsio::{read_capped, read_file_capped};
pub use hooks::{
    DEFAULT_TIMEOUT_MS, DENY_EXIT_CODE, Decision, DispatchOutcome, FireReport, FiredLedger, Firing,
    HOOKS_DIR, HookAction, HookActionFields, HookContext, HookEntry, HookEvent, HookRule,
    HookScope, HookStore, MAX_HOOK_INPUT_BYTES, MAX_HOOKS_FILE_BYTES, MAX_RHAI_SCRIPT_BYTES,
    MAX_TIMEOUT_MS, Period, ProfileRef, ROLLUP_AFTER, STATE_FILE, Threshold, ThresholdScope,
    check_cost_thresholds, check_daily_rollup,
};
pub use launch::AgentCommand;
pub use launch::sandbox::{
    AgentRuntime, GUARDED_PATHS, HookAccess, Network, ProfileSandbox, RingletDirs,
    SANDBOX_ENV_REMOVE, SANDBOX_EXEC, SandboxMode, SandboxPolicy, SandboxProbe, SandboxRun,
    SandboxedCommand, Terminal, WorkspaceGuard, bwrap_command, find_bwrap, probe, probe_remembered,
    seatbelt_command,
};
pub use launch::script::{KEY_PLACEHOLDER, ScriptContext, ScriptOutput};
pub use launch::{
    AgentSignaller, DEFAULT_GRACE, EnvEntry, EnvPolicy, FileFormat, LaunchPlan, Launcher,
    MergeMode, PipedOutput, PlannedFile, ProcessLauncher, RunIo, RunOptions, RunOutcome,
    RunningAgent, SecretEnv,
};
#[cfg(unix)]
pub use launch::{PtyChild, PtyReader, PtyResizer, PtyWriter};
pub use mcp::{
    MCP_SECRET_PROVIDER, McpEntry, McpScope, McpServer, SECRET_REF_PREFIX, ScriptMcp, secret_ref,
};
pub use paths::{Paths, RINGLET_HOME_ENV};
pub use profile::{
    BrokenKind, BrokenProfile, Budget, FileProfileStore, Profile, ProfileHold, ProfileListing,
    ProfileMetadata, ProfileStore, ProxyConfig, ProxyMode,
};
pub use registry::{
    ArtifactKind, BUILTIN_PUBLIC_KEY, DEFAULT_CHANNEL, DEFAULT_MAX_AGE_HOURS, DEFAULT_REGISTRY_URL,
    INDEX_FILE, INDEX_SCHEMA, KeyOrigin, REGISTRY_CHANNEL_ENV, REGISTRY_PUBLIC_KEY_ENV,
    REGISTRY_URL_ENV, RegistryArtifact, RegistryIndex, RegistryLock, RegistryStatus,
    RegistrySyncReport, SIGNATURE_FILE, SyncOptions, SyncSource,
};
pub use setup::{
    DEFAULT_PROFILE_ENV, DirectoryMapping, KeyRef, PortableProfile, PortableRemote, ProfileChoice,
    ProfileChoiceSource, SETUP_FORMAT, SETUP_VERSION, SHIM_MARKER, SetupDocument, SetupTask, Shim,
    TaskInfo, TaskOrigin, TaskRunReport,
};
pub use state::{
    StateAction, StateImportReport, StateItem, StateLayout, import_state, strip_secrets,
};
#[cfg(feature = "team")]
pub use team::{
    DEFAULT_PUSH_BATCH, DEFAULT_TEAM_SCHEMA, MACHINE_ID_FILE, PgUsageStore, PushReport, PushStatus,
    TeamConnect, TeamGroup, TeamOnlyGroup, check_team_cost_thresholds, default_user, machine_id,
    push, push_status, shared_origin,
};
pub use telemetry::{
    MAX_LABEL_LEN, MAX_SERIES, MetricsSnapshot, RunSeries, UsageSeries, export_otlp, otlp_json,
    otlp_metrics_url, snapshot as metrics_snapshot,
};
pub use usage::{
    Attribution, ClaudeImporter, CodexImporter, CostSource, DroidImporter, FileFailure,
    FileIdentity, FileReport, GeminiImporter, HourUsage, ImportOptions, ImportState, ImportSummary,
    Importer, LazyPriceBook, Malformed, MatchKind, ModelPrice, NANOS_PER_USD, OpenCodeImporter,
    ParsedUsage, PriceBook, PriceMatch, PriceSource, Rate, RecordOutcome, RepriceOutcome, RunEnd,
    RunSession, RunStart, ScanContext, SessionUsage, SqliteUsageStore, Tier, TokenCounts,
    USAGE_CSV_HEADER, UsageEvent, UsageFilter, UsageGroup, UsageRow, UsageStore, Zone,
    builtin_importers, csv_field, import_logs, importer_for, ingest_home, nanos_to_usd,
    normalize_model, usage_csv,
};
pub use usage::{BLOCK_HOURS, BillingBlock, Projection, billing_blocks};
pub use usage::{BatchSink, MAX_IMPORT_THREADS, import_files};
pub use warning::{ThreadWarnings, Warning};
