//! The command-line grammar.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

/// Run many coding-agent CLIs side by side, each profile with its own HOME, provider and key.
#[derive(Debug, Parser)]
#[command(
    name = "ringlet",
    version,
    about,
    propagate_version = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Keep every ringlet file under this directory instead of the platform's config/data dirs.
    #[arg(
        long,
        global = true,
        env = "RINGLET_HOME",
        value_name = "DIR",
        help_heading = GLOBAL
    )]
    pub home: Option<PathBuf>,

    /// Print errors only: no warnings, notes, status lines or progress.
    #[arg(long, short, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,

    /// Print more on stderr: the directories ringlet uses and how long the command took.
    #[arg(long, short, global = true, help_heading = GLOBAL)]
    pub verbose: bool,

    /// Colour output: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE or
    /// FORCE_COLOR force it), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        help_heading = GLOBAL
    )]
    pub color: crate::style::ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The heading the global options are listed under in every command's help.
const GLOBAL: &str = "Global options";

const EXAMPLES: &str = "\
Examples:
  ringlet init                                       # detect agents, show next steps
  ringlet profiles create claude work --provider anthropic
  ringlet profiles run work -- -p \"explain this repo\"
  ringlet usage --by-day --since 7d
  ringlet import claude --to work                    # bring in older Claude Code logs
  ringlet completions bash > ~/.local/share/bash-completion/completions/ringlet";

const PROFILES_CREATE_EXAMPLES: &str = "\
Examples:
  ringlet profiles create claude work --provider anthropic
  ringlet profiles create codex cx --provider openai --model gpt-5.5 --key-from-env OPENAI_API_KEY
  ringlet profiles create claude glm --provider zai --endpoint china
  ringlet profiles create claude local --provider custom \\
      --custom-endpoint http://localhost:4000 --model my-model -- --verbose
  ringlet profiles create claude safe --provider anthropic --proxy on --budget-day 10";

const PROFILES_SET_EXAMPLES: &str = "\
Examples:
  ringlet profiles set work --proxy on                # usage on the wire, the key hidden
  ringlet profiles set work --budget-day 10 --budget-month 100
  ringlet profiles set work --clear-budget
  ringlet profiles set work --sandbox always --model claude-opus-4-1";

const PROFILES_RUN_EXAMPLES: &str = "\
Examples:
  ringlet profiles run work                          # the agent, interactive
  ringlet profiles run work -- -p \"fix the failing test\"
  ringlet profiles run work --sandbox                # in the sandbox this time
  ringlet profiles run -- -p \"hi\"                   # the profile mapped to this directory
  ringlet profiles run cx --prompt \"what does this repo do?\"   # one answer, any agent";

const PROFILES_LIST_EXAMPLES: &str = "\
Examples:
  ringlet profiles list
  ringlet profiles list --json | jq -r '.[].alias'";

const PROFILES_DELETE_EXAMPLES: &str = "\
Examples:
  ringlet profiles delete work                       # asks first; the key goes unless shared
  ringlet profiles delete work --yes --keep-key      # no question; the key stays stored
  ringlet profiles delete work --yes --remove-key --json";

const USAGE_EXAMPLES: &str = "\
Examples:
  ringlet usage                                      # totals per profile, agent and provider
  ringlet usage --by-day --since 7d
  ringlet usage --by-model --profile work --json
  ringlet usage --export csv > usage.csv
  ringlet usage sync                                 # read new logs now";

const STATUSLINE_EXAMPLES: &str = "\
Examples:
  ringlet profiles set work --statusline on          # Claude Code runs `ringlet statusline`
  ringlet statusline --json                          # the line's parts (stdin: Claude Code's JSON)";

const IMPORT_EXAMPLES: &str = "\
Examples:
  ringlet import claude --to work                    # from ~/.claude
  ringlet import codex --to cx --from /backup/home   # another HOME, log dir or log file
  ringlet import claude --to work --json
  ringlet import setup.json --dry-run                # a setup from `ringlet export`
  ringlet import ./claude                            # a setup file named like an agent
  ringlet import claude --to work --dry-run          # the state it would bring, nothing written";

const DOCTOR_EXAMPLES: &str = "\
Examples:
  ringlet doctor
  ringlet doctor --json | jq '.checks[] | select(.status != \"ok\")'";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create ringlet's directories, detect installed agents, and show next steps.
    Init(JsonFlag),
    /// Coding agents ringlet knows and whether they are installed.
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// Model API providers profiles can use.
    #[command(subcommand)]
    Providers(ProvidersCmd),
    /// Create, inspect, run and delete profiles.
    #[command(subcommand)]
    Profiles(ProfilesCmd),
    /// Store API keys in the OS keychain or the 0600 file (names only are ever shown).
    #[command(subcommand)]
    Keychain(KeychainCmd),
    /// Tokens and cost per profile, agent and provider; `usage sync` reads new logs.
    #[command(after_help = USAGE_EXAMPLES)]
    Usage(Box<crate::commands::usage::UsageArgs>),
    /// Import an agent's usage logs and its state (settings, memory, MCP servers, trust,
    /// history; never credentials) into a profile (`import claude --to work`), or a setup
    /// written by `ringlet export` (`import setup.json`).
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(crate::commands::usage::ImportArgs),
    /// Write this machine's setup (profiles, hooks, routing, config, remotes; never keys) as
    /// one JSON document, for `ringlet import` on another machine.
    #[command(after_help = crate::commands::setup::EXPORT_EXAMPLES)]
    Export(crate::commands::setup::ExportArgs),
    /// Per-profile commands (`claude-work`) in ~/.local/bin that run `profiles run`.
    #[command(subcommand)]
    Aliases(crate::commands::aliases::AliasesCmd),
    /// A profile's supervised setup tasks: `env tasks ALIAS`, `env setup ALIAS TASK`.
    #[command(subcommand)]
    Env(crate::commands::env::EnvCmd),
    /// The prices usage is costed with.
    #[command(subcommand)]
    Pricing(crate::commands::usage::PricingCmd),
    /// Runs per profile: count, session time, peak memory and CPU time.
    Stats(crate::commands::usage::StatsArgs),
    /// The team ledger's password (`[team] ledger` in config.toml; docs/team.md).
    #[cfg(feature = "team")]
    #[command(subcommand)]
    Team(crate::commands::team::TeamCmd),
    /// A profile's routing rules: which provider and model each request goes to (docs/proxy.md).
    #[cfg(feature = "proxy")]
    #[command(subcommand, after_help = crate::commands::routing::ROUTING_EXAMPLES)]
    Routing(crate::commands::routing::RoutingCmd),
    /// Audit, gate and alert on agent events: shell, Rhai or webhook hooks.
    #[command(subcommand)]
    Hooks(crate::commands::hooks::HooksCmd),
    /// MCP servers defined once, written into every agent's own config at its next run.
    #[command(subcommand)]
    Mcp(crate::commands::mcp::McpCmd),
    /// Serve the HTTP API (authenticated by the token in <config>/http_token).
    #[cfg(feature = "server")]
    Serve(crate::commands::serve::ServeArgs),
    /// The HTTP API as a resident daemon (`--stay-alive`), and its token.
    #[cfg(feature = "server")]
    Daemon(crate::commands::serve::DaemonArgs),
    /// Remote ringlet servers and their terminal sessions (`profiles run --remote`).
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Remotes(crate::commands::remotes::RemotesCmd),
    /// The status line Claude Code shows: reads the session JSON Claude Code passes on stdin
    /// and prints the profile, this session's cost, today's cost and the active billing block
    /// (`profiles set ALIAS --statusline on` sets it up).
    #[command(after_help = STATUSLINE_EXAMPLES)]
    Statusline(crate::commands::statusline::StatuslineArgs),
    /// Check this machine: agents and their versions, keychain, permissions, ledger, prices,
    /// registry, sandbox, shims, server; each problem with its fix. Exits 1 when one is broken.
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(JsonFlag),
    /// The signed registry of manifests, scripts and prices: sync, pin, inspect.
    #[command(subcommand, after_help = crate::commands::registry::REGISTRY_EXAMPLES)]
    Registry(crate::commands::registry::RegistryCmd),
    /// Print a shell completion script (bash, zsh and fish complete profile, agent, provider
    /// and hook names from your ringlet home).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// List agents with install status, path, version and profile count.
    List(JsonFlag),
    /// Show one agent in detail.
    Inspect {
        /// The agent id (see `ringlet agents list`).
        #[arg(add = crate::complete::agents())]
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProvidersCmd {
    /// List providers with their wire formats and default models.
    List(JsonFlag),
    /// Show one provider in detail.
    Inspect {
        /// The provider id (see `ringlet providers list`).
        #[arg(add = crate::complete::providers())]
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCmd {
    /// Create a profile: an agent bound to a provider, a key alias and its own HOME.
    #[command(after_help = PROFILES_CREATE_EXAMPLES)]
    Create(Box<CreateArgs>),
    /// Change a profile's settings: sandbox, proxy, budget, model, endpoint, env, args, working
    /// dir, binary.
    #[command(after_help = PROFILES_SET_EXAMPLES)]
    Set(Box<SetArgs>),
    /// List profiles.
    #[command(after_help = PROFILES_LIST_EXAMPLES)]
    List(JsonFlag),
    /// Show one profile.
    Inspect {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Delete a profile and its HOME (conversations, settings, logs), and its key unless
    /// another profile uses it.
    #[command(after_help = PROFILES_DELETE_EXAMPLES)]
    Delete {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long, short)]
        yes: bool,
        /// Keep the profile's API key stored.
        #[arg(long, conflicts_with = "remove_key")]
        keep_key: bool,
        /// Remove the profile's API key; refused when another profile uses it.
        #[arg(long)]
        remove_key: bool,
        /// Print what was deleted as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the profile's agent; arguments after `--` go to the agent.
    #[command(after_help = PROFILES_RUN_EXAMPLES)]
    Run {
        /// The profile alias (default: the `[[directory-mapping]]` of config.toml holding the
        /// current directory, else $RINGLET_DEFAULT_PROFILE).
        #[arg(add = crate::complete::profiles())]
        alias: Option<String>,
        /// Run the agent in the sandbox this time, whatever the profile's `sandbox` mode says
        /// (fails if bubblewrap cannot start it: never runs it unsandboxed).
        #[arg(long, conflicts_with = "no_sandbox")]
        sandbox: bool,
        /// Run the agent without the sandbox this time, whatever the profile's `sandbox` mode.
        #[arg(long)]
        no_sandbox: bool,
        /// Run the remote's profile ALIAS in a terminal session on that server (see `ringlet
        /// remotes`), attached to this terminal; Ctrl-] detaches and leaves it running.
        #[arg(long, value_name = "NAME", conflicts_with_all = ["sandbox", "no_sandbox"])]
        remote: Option<String>,
        /// Ask the agent one question non-interactively, in its own one-shot form (`claude
        /// -p`, `codex exec`, `opencode run`, … see `agents inspect`), and print its answer.
        #[arg(long, value_name = "TEXT", conflicts_with_all = ["remote", "args"])]
        prompt: Option<String>,
        /// With --prompt: print the answer, exit code and the agent's output as JSON.
        #[arg(long, requires = "prompt")]
        json: bool,
        /// Arguments for the agent.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Show the environment the agent would get (the key masked) and the files written for it.
    Env {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        /// Arguments the agent would get after `--`.
        #[arg(last = true)]
        args: Vec<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The agent id (claude, codex, opencode, grok, gemini, droid, …).
    #[arg(add = crate::complete::agents())]
    pub agent: String,
    /// The new profile's alias.
    pub alias: String,
    /// The provider id (see `ringlet providers list`).
    #[arg(long, short, add = crate::complete::providers())]
    pub provider: String,
    /// A named endpoint of the provider (for example `china`).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// A base URL: required for `--provider custom`, overrides the endpoint otherwise.
    #[arg(long, value_name = "URL")]
    pub custom_endpoint: Option<String>,
    /// The wire format of the custom endpoint (default: the agent's native one).
    #[arg(long, value_parser = ["anthropic", "openai", "openai-chat", "openai-responses", "gemini"])]
    pub shape: Option<String>,
    /// The model (default: the provider's).
    #[arg(long, short)]
    pub model: Option<String>,
    /// The credential alias the key is stored under (default: the profile alias).
    #[arg(long)]
    pub key_alias: Option<String>,
    /// Read the key from this environment variable instead of prompting.
    #[arg(long, value_name = "VAR")]
    pub key_from_env: Option<String>,
    /// Extra environment variable for the agent; repeatable.
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// The directory the agent starts in (default: wherever you run it).
    #[arg(long, value_name = "DIR")]
    pub working_dir: Option<PathBuf>,
    /// The agent binary to run instead of the one on PATH.
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Show ringlet's status line in Claude Code (profile, session and today's cost, the
    /// billing block): writes `statusLine` into the profile HOME's settings.json.
    #[arg(long)]
    pub statusline: bool,
    /// Run the agent through the ringlet proxy: usage read on the wire, the real key kept from
    /// the agent, budgets enforced (docs/proxy.md).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub proxy: Option<String>,
    /// Dollars the profile may spend per UTC day; the proxy refuses requests beyond it.
    #[arg(long, value_name = "USD")]
    pub budget_day: Option<f64>,
    /// Dollars the profile may spend per UTC month.
    #[arg(long, value_name = "USD")]
    pub budget_month: Option<f64>,
    /// Print the created profile as JSON.
    #[arg(long)]
    pub json: bool,
    /// Default arguments for the agent, after `--`.
    #[arg(last = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The profile alias.
    #[arg(add = crate::complete::profiles())]
    pub alias: String,
    /// When runs are sandboxed: off, always, or remote (remote sessions only, the default).
    #[arg(long, value_name = "MODE", value_parser = ["off", "always", "remote"])]
    pub sandbox: Option<String>,
    /// The model ("" for the provider's default).
    #[arg(long, short)]
    pub model: Option<String>,
    /// A named endpoint of the provider (replaces a custom endpoint).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// A base URL overriding the endpoint's.
    #[arg(long, value_name = "URL")]
    pub custom_endpoint: Option<String>,
    /// The wire format of the custom endpoint.
    #[arg(long, value_parser = ["anthropic", "openai", "openai-chat", "openai-responses", "gemini"])]
    pub shape: Option<String>,
    /// Add or replace an environment variable for the agent; repeatable.
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Remove an environment variable the profile sets; repeatable.
    #[arg(long, value_name = "KEY")]
    pub unset_env: Vec<String>,
    /// The directory the agent starts in.
    #[arg(long, value_name = "DIR", conflicts_with = "clear_working_dir")]
    pub working_dir: Option<PathBuf>,
    /// Start the agent wherever it is run from again.
    #[arg(long)]
    pub clear_working_dir: bool,
    /// The agent binary to run instead of the one on PATH.
    #[arg(long, value_name = "PATH", conflicts_with = "clear_binary")]
    pub binary: Option<PathBuf>,
    /// Run the agent found on PATH again.
    #[arg(long)]
    pub clear_binary: bool,
    /// Remove the default arguments.
    #[arg(long, conflicts_with = "args")]
    pub clear_args: bool,
    /// Claude Code's status line from ringlet (`on`), or none (`off`: removes ringlet's only).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub statusline: Option<String>,
    /// Run the agent through the ringlet proxy: usage read on the wire, the real key kept from
    /// the agent, budgets enforced (docs/proxy.md).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub proxy: Option<String>,
    /// Dollars the profile may spend per UTC day; the proxy refuses requests beyond it.
    #[arg(long, value_name = "USD")]
    pub budget_day: Option<f64>,
    /// Dollars the profile may spend per UTC month.
    #[arg(long, value_name = "USD")]
    pub budget_month: Option<f64>,
    /// Remove the profile's budgets.
    #[arg(long, conflicts_with_all = ["budget_day", "budget_month"])]
    pub clear_budget: bool,
    /// Route the profile's requests by the rules in this routing.toml (`-`: standard input),
    /// checked first; the proxy then runs even with `--proxy off` (docs/proxy.md#routing).
    #[cfg(feature = "proxy")]
    #[arg(long, value_name = "FILE", conflicts_with = "no_routing")]
    pub routing: Option<PathBuf>,
    /// Remove the profile's routing rules: every request goes to its provider again.
    #[cfg(feature = "proxy")]
    #[arg(long)]
    pub no_routing: bool,
    /// Print the updated profile as JSON.
    #[arg(long)]
    pub json: bool,
    /// New default arguments for the agent, after `--` (replacing the old ones).
    #[arg(last = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeychainCmd {
    /// Store a key (prompted without echo unless --from-env).
    Set {
        /// The provider id.
        #[arg(add = crate::complete::providers())]
        provider: String,
        /// The key alias.
        alias: String,
        /// Read the key from this environment variable.
        #[arg(long, value_name = "VAR")]
        from_env: Option<String>,
        /// Overwrite an existing key.
        #[arg(long)]
        replace: bool,
    },
    /// List stored key names (never values).
    List(JsonFlag),
    /// Remove a key.
    Remove {
        /// The provider id.
        #[arg(add = crate::complete::providers())]
        provider: String,
        /// The key alias.
        alias: String,
    },
    /// Move the keys in credentials.toml into the OS keychain, then remove them from the file.
    Migrate(JsonFlag),
}

impl Cli {
    /// Parses the process's arguments. `profiles run <alias> [-- <args>...]`, the command
    /// that starts every agent, is recognised without building the whole grammar: clap builds
    /// every subcommand's definition before looking at the arguments, ≈ 0.3 ms and 90 page
    /// faults of a launch. Anything else, or anything unusual about those words, goes to clap,
    /// and the test below holds the two to the same result.
    pub fn parse_args() -> Self {
        let args: Vec<OsString> = std::env::args_os().collect();
        Self::launch_shortcut(&args, std::env::var_os("RINGLET_HOME")).unwrap_or_else(|| {
            match Self::try_parse_from(&args) {
                Ok(cli) => cli,
                // `ringlet` or `ringlet profiles` alone asks what there is: that command's help
                // (as `--help` gives it: stdout, success), not clap's "requires a subcommand"
                // error with status 2, which reads as a mistake.
                Err(e) if e.kind() == ErrorKind::MissingSubcommand => {
                    let with_help = args.iter().cloned().chain(["--help".into()]);
                    match Self::try_parse_from(with_help) {
                        Err(help) if help.kind() == ErrorKind::DisplayHelp => help.exit(),
                        _ => e.exit(),
                    }
                }
                Err(e) => e.exit(),
            }
        })
    }

    /// `[--home DIR] profiles run <alias> [-- <args>...]` exactly, with UTF-8 arguments; `None`
    /// otherwise.
    fn launch_shortcut(args: &[OsString], home_env: Option<OsString>) -> Option<Self> {
        let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
        let (home_flag, words) = match args.as_slice() {
            [_, "--home", dir, words @ ..] => (Some(*dir), words),
            [_, words @ ..] => match words.first().and_then(|w| w.strip_prefix("--home=")) {
                Some(dir) => (Some(dir), &words[1..]),
                None => (None, words),
            },
            [] => return None,
        };
        let (alias, rest) = match words {
            ["profiles", "run", alias, rest @ ..] => (*alias, rest),
            _ => return None,
        };
        // A value clap would refuse or read as another option stays clap's, for its error.
        if home_flag.is_some_and(|dir| dir.is_empty() || dir.starts_with('-')) {
            return None;
        }
        let agent_args = match rest {
            [] => &[][..],
            ["--", agent_args @ ..] => agent_args,
            _ => return None,
        };
        // An option where the alias goes (`--help`, `--home`) is clap's to handle.
        if alias.is_empty() || alias.starts_with('-') {
            return None;
        }
        Some(Self {
            // As clap's `env = "RINGLET_HOME"`: the flag wins, an empty value counts as unset.
            home: match home_flag {
                Some(dir) => Some(PathBuf::from(dir)),
                None => home_env.filter(|h| !h.is_empty()).map(PathBuf::from),
            },
            quiet: false,
            verbose: false,
            color: crate::style::ColorChoice::Auto,
            command: Command::Profiles(ProfilesCmd::Run {
                alias: Some(alias.to_string()),
                sandbox: false,
                no_sandbox: false,
                remote: None,
                prompt: None,
                json: false,
                args: agent_args.iter().map(|a| a.to_string()).collect(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("ringlet")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn the_launch_shortcut_agrees_with_clap() {
        let home = std::env::var_os("RINGLET_HOME");
        for words in [
            &["profiles", "run", "work"][..],
            &["profiles", "run", "work", "--"],
            &[
                "profiles", "run", "work", "--", "-p", "hello", "--", "--help",
            ],
            &["profiles", "run", "help"],
            &["profiles", "run", "wörk", "--", ""],
            &["--home", "/x", "profiles", "run", "work"],
            &["--home=/x y", "profiles", "run", "work", "--", "-p"],
        ] {
            let args = argv(words);
            let fast = Cli::launch_shortcut(&args, home.clone()).expect("recognised");
            let clap = Cli::try_parse_from(&args).expect("clap parses it");
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{words:?}");
        }
    }

    #[test]
    fn anything_else_is_left_to_clap() {
        for words in [
            &["profiles", "run"][..],
            &["profiles", "run", "--help"],
            &["profiles", "run", "-h"],
            &["profiles", "run", "work", "--help"],
            &["profiles", "run", "work", "-p", "hello"],
            &["profiles", "run", "--home", "/x", "work"],
            &["--home", "", "profiles", "run", "work"],
            &["--home", "--help", "profiles", "run", "work"],
            &["--home", "/x", "--home", "/y", "profiles", "run", "work"],
            &["--home", "/x", "profiles", "list"],
            &["profiles", "list"],
            &["profiles", "run", ""],
        ] {
            assert!(
                Cli::launch_shortcut(&argv(words), None).is_none(),
                "{words:?}"
            );
        }
    }

    #[test]
    fn an_empty_ringlet_home_counts_as_unset_and_a_set_one_is_kept() {
        let args = argv(&["profiles", "run", "work"]);
        let cli = Cli::launch_shortcut(&args, Some(OsString::new())).expect("recognised");
        assert_eq!(cli.home, None);
        let cli = Cli::launch_shortcut(&args, Some("/r".into())).expect("recognised");
        assert_eq!(cli.home, Some(PathBuf::from("/r")));
    }

    /// The words of a shell command line: quotes grouped, a `#` comment and a `> file`
    /// redirection dropped, `\`-newline continuations joined.
    fn shell_words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut quote = None;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '\\') => word.get_or_insert_default().extend(chars.next()),
                (Some(_), c) => word.get_or_insert_default().push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    word.get_or_insert_default();
                }
                (None, '\\') => {
                    // A line continuation.
                    chars.next_if_eq(&'\n');
                }
                (None, '#') if word.is_none() => break,
                (None, c) if c.is_whitespace() => words.extend(word.take()),
                (None, c) => word.get_or_insert_default().push(c),
            }
        }
        words.extend(word);
        if let Some(at) = words.iter().position(|w| w == ">") {
            words.truncate(at);
        }
        words
    }

    /// Every example in the help parses, so none can drift from the grammar.
    #[test]
    fn every_help_example_parses() {
        let mut seen = 0;
        for text in [
            EXAMPLES,
            PROFILES_CREATE_EXAMPLES,
            PROFILES_RUN_EXAMPLES,
            PROFILES_LIST_EXAMPLES,
            PROFILES_DELETE_EXAMPLES,
            USAGE_EXAMPLES,
            IMPORT_EXAMPLES,
            STATUSLINE_EXAMPLES,
            crate::commands::hooks::ADD_EXAMPLES,
            crate::commands::setup::EXPORT_EXAMPLES,
            crate::commands::aliases::INSTALL_EXAMPLES,
            crate::commands::env::SETUP_EXAMPLES,
            crate::commands::mcp::ADD_EXAMPLES,
        ] {
            let body = text
                .strip_prefix("Examples:\n")
                .expect("an Examples: heading");
            for example in body.replace("\\\n", " ").lines() {
                let words = shell_words(&example.replace("<id>", "h1"));
                assert_eq!(words[0], "ringlet", "{example}");
                let words = words.iter().map(|w| w.split('|').next().unwrap_or(w));
                if let Err(e) = Cli::try_parse_from(words.clone().take_while(|w| !w.is_empty())) {
                    panic!("{example}: {e}");
                }
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen}");
    }

    #[test]
    fn the_main_commands_show_examples() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        for path in [
            &[][..],
            &["profiles", "create"],
            &["profiles", "run"],
            &["profiles", "list"],
            &["profiles", "delete"],
            &["usage"],
            &["import"],
            &["hooks", "add"],
            &["export"],
            &["aliases", "install"],
            &["env", "setup"],
        ] {
            let mut cmd = &mut cli;
            for name in path {
                cmd = cmd.find_subcommand_mut(name).expect("subcommand");
            }
            let help = cmd.render_help().to_string();
            assert!(help.contains("Examples:\n  ringlet "), "{path:?}: {help}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_left_to_clap() {
        use std::os::unix::ffi::OsStringExt;
        let mut args = argv(&["profiles", "run", "work", "--"]);
        args.push(OsString::from_vec(vec![0xff]));
        assert!(Cli::launch_shortcut(&args, None).is_none());
    }
}
