//! `ringlet hooks …`: add, list, remove, test, export and import hook rules, and `dispatch`,
//! the callback agents' own hooks run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ringlet::{DispatchOutcome, HookEvent, MemoryCredentialStore, NewHook, Paths, Ringlet};

use crate::cli::JsonFlag;
use crate::output::{self, or_dash};
use crate::output::{errln, outln};

pub const ADD_EXAMPLES: &str = "\
Examples:
  ringlet hooks add work --on tool-use --shell 'echo \"$RINGLET_TOOL\" >> ~/audit.log'
  ringlet hooks add work --on pre-tool-use --matcher Bash --rhai gate.rhai
  ringlet hooks add --all-profiles --on cost-threshold --period day --threshold 20 \\
      --webhook https://hooks.example.com/ringlet
  ringlet hooks test <id> --payload event.json";

#[derive(Debug, Subcommand)]
pub enum HooksCmd {
    /// Add a hook: a shell command, Rhai gate or webhook on a lifecycle event.
    #[command(after_help = ADD_EXAMPLES)]
    Add(Box<AddArgs>),
    /// List hooks (webhook URLs shown without their path).
    List(JsonFlag),
    /// Remove a hook by id.
    Remove {
        /// The hook id (see `ringlet hooks list`).
        #[arg(add = crate::complete::hooks())]
        id: String,
    },
    /// Run one hook against a sample event and show what it decided or did.
    Test {
        /// The hook id.
        #[arg(add = crate::complete::hooks())]
        id: String,
        /// JSON event: Claude Code's hook shape (tool_name, tool_input, …) or ringlet's field
        /// names; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        payload: Option<PathBuf>,
        /// The profile to report for a global hook (default `test`).
        #[arg(long, add = crate::complete::profiles())]
        profile: Option<String>,
        /// The tool the call is for (overrides the payload's; without either, a hook with a
        /// matcher is tested against the first tool it names).
        #[arg(long, value_name = "NAME")]
        tool: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Print every hook as one TOML document.
    Export,
    /// Add the hooks of an exported TOML document (`-` reads stdin).
    Import {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Internal: called by an agent's own hooks with its event JSON on stdin; exits 2 with the
    /// reason on stderr when a pre-tool-use hook denies.
    #[command(hide = true)]
    Dispatch(DispatchArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["alias", "all_profiles"])))]
#[command(group(clap::ArgGroup::new("action").required(true).args(["shell", "rhai", "webhook"])))]
pub struct AddArgs {
    /// The profile the hook belongs to.
    #[arg(add = crate::complete::profiles())]
    pub alias: Option<String>,
    /// A global hook, for every profile.
    #[arg(long)]
    pub all_profiles: bool,
    /// The event: pre-tool-use, tool-use, stop, start, notify, cost-threshold, daily-rollup.
    #[arg(long, value_name = "EVENT")]
    pub on: String,
    /// Run this shell command (RINGLET_* variables set, the event JSON on stdin). On
    /// pre-tool-use, exit 0 allows and anything else denies.
    #[arg(long, value_name = "CMD")]
    pub shell: Option<String>,
    /// A Rhai script with `fn on_pre_tool_use(ctx)` returning allow() or deny(msg).
    #[arg(long, value_name = "FILE")]
    pub rhai: Option<PathBuf>,
    /// POST to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// The webhook body: JSON with $RINGLET_* variables inside strings.
    #[arg(long, value_name = "JSON", requires = "webhook")]
    pub webhook_template: Option<String>,
    /// Tools the hook applies to (pre-tool-use, tool-use): `Bash`, `Write|Edit`, `mcp__*`.
    #[arg(long, value_name = "PATTERN")]
    pub matcher: Option<String>,
    /// How long the hook may take, ms (default 2000); a pre-tool-use hook that takes longer
    /// denies.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// cost-threshold: the UTC period the spend is counted over.
    #[arg(long, value_parser = ["day", "month"])]
    pub period: Option<String>,
    /// cost-threshold: fire when the spend reaches this many USD.
    #[arg(long, value_name = "USD")]
    pub threshold: Option<f64>,
    /// cost-threshold: the budget the threshold is part of (`--threshold 160 --of 200`).
    #[arg(long, value_name = "USD")]
    pub of: Option<f64>,
    /// cost-threshold: `profile` (each profile on this machine, the default) or `team` (the
    /// team ledger's spend, once for the whole team; docs/team.md).
    #[arg(long, value_parser = ["profile", "team"])]
    pub scope: Option<String>,
    /// Print the added hook as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// The profile alias.
    #[arg(long)]
    pub profile: String,
    /// The ringlet event.
    #[arg(long)]
    pub event: String,
    /// ringlet's config dir (the agent's HOME is the profile's, so it is passed explicitly).
    #[arg(long, requires_all = ["data_dir", "cache_dir"])]
    pub config_dir: Option<PathBuf>,
    /// ringlet's data dir.
    #[arg(long, requires_all = ["config_dir", "cache_dir"])]
    pub data_dir: Option<PathBuf>,
    /// ringlet's cache dir.
    #[arg(long, requires_all = ["config_dir", "data_dir"])]
    pub cache_dir: Option<PathBuf>,
    /// The user's HOME, which hooks run with (the agent's HOME is the profile's).
    #[arg(long)]
    pub user_home: Option<PathBuf>,
}

impl HooksCmd {
    /// Whether the command asked for JSON.
    pub fn wants_json(&self) -> bool {
        match self {
            HooksCmd::Add(a) => a.json,
            HooksCmd::List(j)
            | HooksCmd::Test { json: j, .. }
            | HooksCmd::Import { json: j, .. } => j.json,
            _ => false,
        }
    }
}

/// Reads a file, or stdin for `-`, refusing more than `limit` bytes (naming the file and the
/// limit) so `--payload /dev/zero` cannot fill memory.
fn read_input(path: &Path, limit: u64) -> anyhow::Result<String> {
    Ok(if path.as_os_str() == "-" {
        ringlet::read_capped(std::io::stdin().lock(), "stdin", limit)?
    } else {
        ringlet::read_file_capped(path, limit)?
    })
}

pub fn run(ringlet: &Ringlet, cmd: HooksCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        HooksCmd::Add(a) => {
            let req = NewHook {
                profile: a.alias,
                event: a.on,
                shell: a.shell,
                rhai_file: a.rhai,
                rhai_script: None,
                webhook: a.webhook,
                webhook_template: a.webhook_template,
                matcher: a.matcher,
                timeout_ms: a.timeout,
                period: a.period,
                threshold: a.threshold,
                of: a.of,
                scope: a.scope,
            };
            let entry = ringlet.add_hook(&req)?;
            if a.json {
                output::json(&entry)?;
            } else {
                outln!("{}", entry.rule.id);
                errln!(
                    "Added hook {} on {} for {}.",
                    entry.rule.id,
                    entry.rule.event,
                    entry.profile.as_deref().unwrap_or("every profile")
                );
            }
        }
        HooksCmd::List(j) => {
            let hooks = ringlet.hooks()?;
            if j.json {
                output::json(&hooks)?;
            } else if hooks.is_empty() {
                errln!(
                    "No hooks yet. Add one with `ringlet hooks add <alias> --on tool-use --shell CMD`."
                );
            } else {
                let mut t =
                    output::table(&["ID", "PROFILE", "EVENT", "MATCHER", "TIMEOUT", "ACTION"]);
                for e in &hooks {
                    let event = match &e.rule.threshold {
                        Some(th) => format!(
                            "{} ({} ${}{}{})",
                            e.rule.event,
                            th.period.as_str(),
                            th.usd,
                            th.of_usd.map(|o| format!(" of ${o}")).unwrap_or_default(),
                            if th.scope == ringlet::ThresholdScope::Team {
                                ", team"
                            } else {
                                ""
                            }
                        ),
                        None => e.rule.event.to_string(),
                    };
                    t.add_row([
                        e.rule.id.clone(),
                        e.scope().to_string(),
                        event,
                        or_dash(e.rule.matcher.as_deref()),
                        format!("{} ms", e.rule.timeout().as_millis()),
                        e.rule.action.summary(),
                    ]);
                }
                output::print_table(&t);
            }
        }
        HooksCmd::Remove { id } => {
            let entry = ringlet.remove_hook(&id)?;
            errln!("Removed hook {} ({}).", entry.rule.id, entry.rule.event);
        }
        HooksCmd::Test {
            id,
            payload,
            profile,
            tool,
            json,
        } => {
            let payload = match &payload {
                Some(path) => {
                    let text = read_input(path, ringlet::MAX_HOOK_INPUT_BYTES)?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("{} is not JSON", path.display()))?
                }
                None => serde_json::Value::Null,
            };
            let report =
                ringlet.test_hook_on_tool(&id, &payload, profile.as_deref(), tool.as_deref())?;
            if json.json {
                output::json(&report)?;
            } else if !report.applies {
                outln!(
                    "not applicable: the matcher '{}' does not match tool '{}'",
                    report.hook.rule.matcher.as_deref().unwrap_or("*"),
                    report.context.tool.as_deref().unwrap_or("")
                );
            } else if let Some(d) = &report.decision {
                match d.message() {
                    None => outln!("allow"),
                    Some(m) => outln!("deny: {m}"),
                }
            } else if let Some(f) = &report.fired {
                outln!("{}: {}", if f.ok { "ok" } else { "failed" }, f.detail);
            }
            // A deny exits like `hooks dispatch` does (2), a failed action 1: scripts can tell.
            let denied = report.decision.as_ref().is_some_and(|d| !d.allowed());
            let failed = report.fired.as_ref().is_some_and(|f| !f.ok);
            return Ok(if denied {
                ExitCode::from(u8::try_from(ringlet::DENY_EXIT_CODE).unwrap_or(2))
            } else if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        HooksCmd::Export => output::raw(ringlet.export_hooks()?.as_bytes()),
        HooksCmd::Import { file, json } => {
            let report =
                ringlet.import_hooks(&read_input(&file, ringlet::MAX_HOOKS_FILE_BYTES)?)?;
            if json.json {
                output::json(&report)?;
            } else {
                errln!(
                    "Imported {} hook(s); {} already present.",
                    report.added.len(),
                    report.unchanged.len()
                );
            }
        }
        HooksCmd::Dispatch(_) => {
            anyhow::bail!("`hooks dispatch` is run by agents; it is handled before this point")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hooks dispatch`: never fails in a way an agent would read as "go ahead". Whatever goes
/// wrong (ringlet's files unreadable, bad input) denies a pre-tool-use call (exit 2, reason on
/// stderr); other events exit 0.
pub fn dispatch(args: &DispatchArgs, home: Option<PathBuf>) -> ExitCode {
    let input = ringlet::read_capped(
        std::io::stdin().lock(),
        "stdin",
        ringlet::MAX_HOOK_INPUT_BYTES,
    );
    let outcome = match input {
        Err(e) => failed(&args.event, &format!("the hook input: {e}")),
        Ok(input) => match open(args, home) {
            Ok(ringlet) => match &args.user_home {
                Some(home) => {
                    ringlet.dispatch_hook_with_home(&args.profile, &args.event, &input, home)
                }
                None => ringlet.dispatch_hook(&args.profile, &args.event, &input),
            },
            Err(e) => failed(&args.event, &format!("{e:#}")),
        },
    };
    if let Some(message) = outcome.stderr() {
        crate::output::err_text(&format!("{message}\n"));
    }
    ExitCode::from(u8::try_from(outcome.exit_code()).unwrap_or(1))
}

fn failed(event: &str, why: &str) -> DispatchOutcome {
    // An unknown event name is treated as gating: fail closed.
    let event = HookEvent::parse(event).unwrap_or(HookEvent::PreToolUse);
    DispatchOutcome::failed(event, why)
}

fn open(args: &DispatchArgs, home: Option<PathBuf>) -> anyhow::Result<Ringlet> {
    // Dispatch never touches keys: an unreachable keychain must not deny every tool call.
    let builder =
        Ringlet::builder().credential_store(std::sync::Arc::new(MemoryCredentialStore::new()));
    let builder = match (&args.config_dir, &args.data_dir, &args.cache_dir, home) {
        (Some(c), Some(d), Some(k), _) => builder.paths(Paths::from_dirs(c, d, k)),
        (_, _, _, Some(home)) => builder.home(std::path::absolute(home)?),
        _ => builder,
    };
    Ok(builder.build()?)
}

/// The scheduled checks every invocation makes (`cost-threshold`, `daily-rollup`).
pub fn scheduled(ringlet: &Ringlet) {
    ringlet.run_scheduled_hooks();
}
