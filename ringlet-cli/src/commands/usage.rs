//! `usage`, `usage sync`, `import`, `pricing` and `stats`: arguments in, facade calls, rendering
//! out. Filtering, grouping, date parsing and costing all happen in the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use ringlet::{
    BlocksQuery, ImportProgress, ImportReport, ImportRequest, Ringlet, SortOrder, StatsRow,
    TokenLimit, UsageEvent, UsageGroup, UsageQuery,
};

use crate::cli::{Command, JsonFlag};
use crate::output;
use crate::output::count;
use crate::output::{errln, outln};
use crate::prompt;
use crate::style::{self, Column, Text};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(group(ArgGroup::new("grouping").multiple(false)))]
pub struct UsageArgs {
    #[command(subcommand)]
    pub command: Option<UsageCmd>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// One row per day (in your time zone).
    #[arg(long, group = "grouping")]
    pub by_day: bool,
    /// One row per ISO week.
    #[arg(long, group = "grouping")]
    pub by_week: bool,
    /// One row per month.
    #[arg(long, group = "grouping")]
    pub by_month: bool,
    /// One row per model.
    #[arg(long, group = "grouping")]
    pub by_model: bool,
    /// One row per profile (without the agent and provider columns).
    #[arg(long, group = "grouping")]
    pub by_profile: bool,
    /// One row per agent session.
    #[arg(long, group = "grouping")]
    pub by_session: bool,
    /// One row per project: the agent's working directory, as its logs record it.
    #[arg(long, group = "grouping")]
    pub by_project: bool,
    /// Only this project: usage in this directory or below it (default: none; `.` is the
    /// current one). With --by-session, the sessions that worked there.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Split each row of --by-day/--by-week/--by-month/--by-session/--by-profile by model,
    /// agent, profile or provider (indented sub-rows).
    #[arg(long, value_enum, value_name = "BY")]
    pub breakdown: Option<Breakdown>,
    /// With --by-session: oldest (asc, the default) or newest (desc) first.
    #[arg(long, value_enum, value_name = "ORDER", requires = "by_session")]
    pub order: Option<Order>,
    /// With --by-session: only the N most recently started sessions.
    #[arg(long, value_name = "N", requires = "by_session")]
    pub last: Option<usize>,
    /// Where the agents' logs and the wire disagree: for each profile run through the proxy,
    /// the proxy's figures beside what the agent's log says for the same runs (docs/proxy.md).
    #[arg(long, conflicts_with_all = ["export", "grouping"])]
    pub reconcile: bool,
    /// Print every matching event instead of totals, as CSV or JSON.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "json")]
    pub export: Option<ExportFormat>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The narrow table (tokens and cost only); chosen by itself when the wide one does not fit.
    #[arg(long)]
    pub compact: bool,
    /// The whole team's usage, from the team ledger (`[team] ledger`; docs/team.md).
    #[cfg(feature = "team")]
    #[arg(long, conflicts_with = "export")]
    pub team: bool,
    /// One row per user (with --team).
    #[cfg(feature = "team")]
    #[arg(long, group = "grouping", requires = "team")]
    pub by_user: bool,
    /// One row per machine (with --team).
    #[cfg(feature = "team")]
    #[arg(long, group = "grouping", requires = "team")]
    pub by_machine: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Breakdown {
    Model,
    Agent,
    Profile,
    Provider,
}

impl Breakdown {
    fn group(self) -> UsageGroup {
        match self {
            Self::Model => UsageGroup::Model,
            Self::Agent => UsageGroup::Agent,
            Self::Profile => UsageGroup::Profile,
            Self::Provider => UsageGroup::Provider,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum UsageCmd {
    /// Read new usage from every profile's HOME now (runs do this automatically).
    Sync(JsonFlag),
    /// One agent session's responses, by its id or a unique prefix of it.
    Session(SessionArgs),
    /// 5-hour billing blocks (from the first response, floored to the hour; five idle hours end
    /// one), with the active block's burn rate and projected cost.
    Blocks(BlocksArgs),
    /// Send new usage to the team ledger (`[team] ledger`); `--status` says what is pending.
    #[cfg(feature = "team")]
    Push(crate::commands::team::PushArgs),
}

#[derive(Debug, Args)]
pub struct BlocksArgs {
    /// Only the active block.
    #[arg(long)]
    pub active: bool,
    /// Only blocks of the last three days.
    #[arg(long)]
    pub recent: bool,
    /// Measure blocks against this many tokens, or `max` (the most any finished block used).
    #[arg(long, value_name = "N|max")]
    pub token_limit: Option<String>,
    /// Only this profile.
    #[arg(long)]
    pub profile: Option<String>,
    /// Times in this time zone (IANA name or UTC; default: the system's).
    #[arg(short = 'z', long, value_name = "NAME")]
    pub timezone: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// The session id (as `ringlet usage --by-session` shows it), or a unique prefix of it.
    pub id: String,
    /// Times in this time zone (IANA name or UTC; default: the system's).
    #[arg(short = 'z', long, value_name = "NAME")]
    pub timezone: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this profile.
    #[arg(long, add = crate::complete::profiles())]
    pub profile: Option<String>,
    /// Only this agent.
    #[arg(long, add = crate::complete::agents())]
    pub agent: Option<String>,
    /// Only this provider.
    #[arg(long, add = crate::complete::providers())]
    pub provider: Option<String>,
    /// Only this model (as the agent logged it).
    #[arg(long)]
    pub model: Option<String>,
    /// From this day (YYYY-MM-DD), time (RFC 3339), today, yesterday or Nd (N days ago).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Up to and including this day, or before this time (RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Days, weeks, months and dates in this time zone: an IANA name (Europe/Berlin) or UTC.
    /// Default: the system's zone.
    #[arg(short = 'z', long, value_name = "NAME")]
    pub timezone: Option<String>,
}

impl FilterArgs {
    fn query(self, group: Option<UsageGroup>) -> UsageQuery {
        UsageQuery {
            profile: self.profile,
            agent: self.agent,
            provider: self.provider,
            model: self.model,
            since: self.since,
            until: self.until,
            group,
            timezone: self.timezone,
            breakdown: None,
            project: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An agent whose usage logs to import (claude, codex, opencode, gemini, droid), or a setup
    /// file written by `ringlet export` (`-` for standard input). A name with a `/` or ending in
    /// `.json` is always a file; write `./claude` for a file named like an agent.
    #[arg(value_name = "AGENT|FILE", add = crate::complete::agents())]
    pub source: String,
    /// The profile an agent's usage is attributed to.
    #[arg(long, value_name = "PROFILE", add = crate::complete::profiles())]
    pub to: Option<String>,
    /// A HOME, log directory or log file to read instead of your own HOME.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// A setup: check it and list what it would do. An agent: list the state (settings,
    /// memory, MCP servers, trust, history) that would be brought into the profile, importing
    /// no logs. Either way nothing is written.
    #[arg(long)]
    pub dry_run: bool,
    /// For a setup: import its profile OLD as NEW; repeatable.
    #[arg(long, value_name = "OLD=NEW")]
    pub rename: Vec<String>,
    /// For a setup: keep this machine's version of anything that exists here with other
    /// settings, instead of refusing the import.
    #[arg(long)]
    pub skip_existing: bool,
    /// For an agent: import its usage logs only, not its state.
    #[arg(long, conflicts_with = "dry_run")]
    pub no_state: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PricingCmd {
    /// Download LiteLLM's price list (or read it from a file) and re-price recorded usage.
    Update {
        /// A file or URL with LiteLLM's model_prices_and_context_window.json.
        #[arg(long, value_name = "FILE|URL")]
        from: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Where prices come from now.
    Show(JsonFlag),
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// One row per agent instead of per profile.
    #[arg(long)]
    pub by_agent: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn wants_json(cmd: &Command) -> bool {
    match cmd {
        Command::Usage(a) => match &a.command {
            Some(UsageCmd::Sync(j)) => j.json,
            Some(UsageCmd::Session(s)) => s.json,
            Some(UsageCmd::Blocks(b)) => b.json,
            #[cfg(feature = "team")]
            Some(UsageCmd::Push(p)) => p.json,
            None => a.json || matches!(a.export, Some(ExportFormat::Json)),
        },
        Command::Import(a) => a.json,
        Command::Pricing(PricingCmd::Update { json, .. } | PricingCmd::Show(json)) => json.json,
        Command::Stats(a) => a.json,
        _ => false,
    }
}

pub fn run(ringlet: &Ringlet, cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Usage(a) => usage(ringlet, *a),
        Command::Import(a) => super::setup::import(ringlet, a),
        Command::Pricing(PricingCmd::Update { from, json }) => {
            let report = ringlet.update_pricing(from.as_deref())?;
            if json.json {
                output::json(&report)?;
            } else {
                outln!(
                    "Prices updated from {}: {} ({} skipped), saved to {}.",
                    report.source,
                    count(report.models as u64, "model", "models"),
                    count(report.skipped as u64, "entry", "entries"),
                    report.snapshot.display()
                );
                outln!(
                    "Re-priced {}: {} changed, {} still without a price.",
                    count(
                        report.repriced.examined,
                        "recorded event",
                        "recorded events"
                    ),
                    report.repriced.updated,
                    report.repriced.unpriced
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Pricing(PricingCmd::Show(j)) => {
            let status = ringlet.pricing_status()?;
            if j.json {
                output::json(&status)?;
            } else {
                output::fields(&[
                    (
                        "snapshot",
                        status.snapshot.as_ref().map_or_else(
                            || "none (built-in prices; run `ringlet pricing update`)".into(),
                            |p| p.display().to_string(),
                        ),
                    ),
                    (
                        "updated",
                        output::or_dash(status.updated_at.map(|t| t.format("%Y-%m-%d %H:%M"))),
                    ),
                    ("models", status.models.to_string()),
                ]);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats(a) => stats(ringlet, a),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn usage(ringlet: &Ringlet, a: UsageArgs) -> anyhow::Result<ExitCode> {
    if let Some(UsageCmd::Blocks(b)) = a.command {
        let token_limit = match b.token_limit.as_deref().map(str::trim) {
            None => None,
            Some("max") => Some(TokenLimit::Max),
            Some(n) => Some(TokenLimit::Tokens(
                n.replace([',', '_'], "").parse().map_err(|_| {
                    ringlet::Error::InvalidInput(format!(
                        "--token-limit '{}' is not a number of tokens or `max`",
                        n.escape_debug()
                    ))
                })?,
            )),
        };
        let query = UsageQuery {
            profile: b.profile,
            timezone: b.timezone,
            ..UsageQuery::default()
        };
        let report = ringlet.usage_blocks(
            &query,
            &BlocksQuery {
                active: b.active,
                recent: b.recent,
                token_limit,
            },
        )?;
        if b.json {
            output::json(&report)?;
        } else {
            print_blocks(&report);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(UsageCmd::Session(s)) = a.command {
        let query = UsageQuery {
            timezone: s.timezone,
            ..UsageQuery::default()
        };
        let detail = ringlet.usage_session(&s.id, &query)?;
        if s.json {
            output::json(&detail)?;
        } else {
            print_session(&detail);
        }
        return Ok(ExitCode::SUCCESS);
    }
    #[cfg(feature = "team")]
    if let Some(UsageCmd::Push(p)) = &a.command {
        return crate::commands::team::push(ringlet, p);
    }
    if let Some(UsageCmd::Sync(j)) = a.command {
        let report = ringlet.sync_usage()?;
        for p in &report.profiles {
            if let Some(e) = &p.error {
                errln!(
                    "ringlet: warning: profile '{}' was not read: {}",
                    p.profile,
                    e.replace('\n', " ")
                );
            }
        }
        if j.json {
            output::json(&report)?;
        } else {
            let t = &report.total;
            outln!(
                "Read {}: {} ({} unchanged), {}, {} skipped.",
                count(report.profiles.len() as u64, "profile", "profiles"),
                count(t.files_seen, "log file", "log files"),
                t.files_unchanged,
                count(t.inserted, "new event", "new events"),
                count(t.duplicates, "duplicate", "duplicates")
            );
            import_notes(t);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.reconcile {
        return reconcile(ringlet, a.filter.profile.as_deref(), a.json);
    }
    let group = [
        (a.by_day, UsageGroup::Day),
        (a.by_week, UsageGroup::Week),
        (a.by_month, UsageGroup::Month),
        (a.by_model, UsageGroup::Model),
        (a.by_profile, UsageGroup::Profile),
        (a.by_session, UsageGroup::Session),
        (a.by_project, UsageGroup::Project),
    ]
    .into_iter()
    .find_map(|(on, g)| on.then_some(g));
    let mut query = a.filter.query(group);
    query.breakdown = a.breakdown.map(Breakdown::group);
    query.project = match &a.project {
        Some(dir) => Some(
            std::path::absolute(dir)?
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("--project {} is not UTF-8", dir.display()))?
                .to_string(),
        ),
        None => None,
    };
    match a.export {
        Some(ExportFormat::Json) => {
            /// An event with its cost in dollars too, like the CSV's `cost_usd` column.
            #[derive(serde::Serialize)]
            struct Exported<'a> {
                #[serde(flatten)]
                event: &'a UsageEvent,
                cost_usd: Option<f64>,
            }
            let events = ringlet.usage_events(&query)?;
            let exported: Vec<Exported<'_>> = events
                .iter()
                .map(|event| Exported {
                    event,
                    cost_usd: event.cost_usd(),
                })
                .collect();
            output::json(&exported)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(ExportFormat::Csv) => {
            write_csv(&ringlet.usage_events(&query)?)?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    // The team ledger's sessions come as a grouping below, like its other reports.
    #[cfg(feature = "team")]
    let local = !a.team;
    #[cfg(not(feature = "team"))]
    let local = true;
    if local && group == Some(UsageGroup::Session) && query.breakdown.is_none() {
        let order = match a.order {
            Some(Order::Desc) => SortOrder::Desc,
            _ => SortOrder::Asc,
        };
        let report = ringlet.usage_sessions(&query, order, a.last)?;
        if a.json {
            output::json(&report)?;
        } else {
            print_sessions(&report, a.compact);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // --team: the team ledger's report; --by-user/--by-machine render like any grouping.
    #[allow(unused_mut)]
    let (mut group, mut team_header) = (group, None::<&'static str>);
    #[cfg(feature = "team")]
    let report = if a.team {
        let (team_group, header) = crate::commands::team::group(a.by_user, a.by_machine);
        if header.is_some() {
            (group, team_header) = (Some(UsageGroup::Total), header);
        }
        ringlet.team_usage(&query, team_group)?
    } else {
        ringlet.usage(&query)?
    };
    #[cfg(not(feature = "team"))]
    let report = ringlet.usage(&query)?;
    if a.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.rows.is_empty() {
        errln!(
            "No usage recorded{}. Runs through `ringlet profiles run` are recorded automatically; `ringlet import <agent> --to <profile>` brings in older logs.",
            if query == UsageQuery::default() {
                ""
            } else {
                " for this filter"
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut columns = match group {
        None => vec![
            Column::text("PROFILE"),
            Column::wide_text("AGENT"),
            Column::wide_text("PROVIDER"),
        ],
        Some(UsageGroup::Model) => vec![Column::text("MODEL")],
        Some(g) => vec![
            Column::text(team_header.unwrap_or_else(|| group_header(g))),
            Column::wide_text("MODELS"),
        ],
    };
    columns.push(Column::number("EVENTS"));
    columns.extend(style::USAGE_COLUMNS);
    let mut t = style::Report::new(columns);
    let dash = |v: &Option<String>| -> Text { v.clone().unwrap_or_else(|| "-".into()).into() };
    for line in &report.rows {
        let r = &line.usage;
        let mut cells: Vec<Text> = match group {
            None => vec![dash(&line.profile), dash(&line.agent), dash(&line.provider)],
            Some(g) => {
                let mut cells: Vec<Text> = vec![if r.key.is_empty() {
                    "(none)".to_string().into()
                } else if g == UsageGroup::Project {
                    short_project(&r.key).into()
                } else {
                    r.key.clone().into()
                }];
                if g != UsageGroup::Model {
                    cells.push(short_models(&line.models).into());
                }
                cells
            }
        };
        cells.push(style::thousands(r.events).into());
        cells.extend(style::usage_cells(r));
        t.row(cells);
        // The breakdown: one indented sub-row per model, agent, profile or provider.
        for part in &line.breakdown {
            let mut cells: Vec<Text> = vec![format!("  {}", part.key).into()];
            if group.is_some_and(|g| g != UsageGroup::Model) {
                cells.push(String::new().into());
            }
            cells.push(style::thousands(part.events).into());
            cells.extend(style::usage_cells(part));
            t.row(cells);
        }
    }
    let r = &report.total;
    let mut cells: Vec<Text> = vec!["TOTAL".to_string().into()];
    match group {
        None => cells.extend([String::new().into(), String::new().into()]),
        Some(UsageGroup::Model) => {}
        Some(_) => cells.push(String::new().into()),
    }
    cells.push(style::thousands(r.events).into());
    cells.extend(style::usage_cells(r));
    t.total(cells);
    output::raw(
        t.render(style::width(), a.compact, style::color())
            .as_bytes(),
    );
    if report.total.unpriced_events > 0 {
        errln!(
            "note: {} without a known price, so their cost is not included (`+ N unpriced`, or `+` in the compact table); `ringlet pricing update` may know them.",
            count(
                report.total.unpriced_events,
                "event uses a model",
                "events use models"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-05-01 09:00` in `zone`.
fn local_time(zone: &ringlet::Zone, t: chrono::DateTime<chrono::Utc>) -> String {
    zone.local(t).format("%Y-%m-%d %H:%M").to_string()
}

/// `45m`, `2h 05m`, `3d 4h`: how long a session went on.
fn span(ms: u64) -> String {
    let m = ms / 60_000;
    match m {
        0 => "<1m".into(),
        1..60 => format!("{m}m"),
        60..1440 => format!("{}h {:02}m", m / 60, m % 60),
        _ => format!("{}d {}h", m / 1440, m / 60 % 24),
    }
}

/// The session list: when, how long, with what, and what it cost.
fn print_sessions(report: &ringlet::SessionReport, compact: bool) {
    if report.sessions.is_empty() {
        errln!("No sessions in this range.");
        return;
    }
    let zone = ringlet::Zone::named(&report.timezone).unwrap_or_else(|_| ringlet::Zone::utc());
    let mut columns = vec![
        Column::text("SESSION"),
        Column::wide_text("START"),
        Column::wide_text("LAST"),
        Column::wide_text("DURATION"),
        Column::wide_text("PROFILE"),
        Column::wide_text("PROJECT"),
        Column::wide_text("MODELS"),
    ];
    columns.extend(style::USAGE_COLUMNS);
    let mut t = style::Report::new(columns);
    for s in &report.sessions {
        let id = if s.session_id.is_empty() {
            "(none)".to_string()
        } else {
            s.session_id.clone()
        };
        let mut cells: Vec<Text> = vec![
            Text {
                compact: Some(id.chars().take(8).collect()),
                wide: id,
            },
            local_time(&zone, s.start).into(),
            local_time(&zone, s.last_activity).into(),
            span(s.duration_ms).into(),
            s.profiles.join(", ").into(),
            // The directories' names: the list is one column among many (`--by-project` and
            // the JSON have the paths).
            s.projects
                .iter()
                .map(|p| project_name(p))
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
            short_models(&s.models).into(),
        ];
        cells.extend(style::usage_cells(&s.usage));
        t.row(cells);
    }
    let mut cells: Vec<Text> = vec!["TOTAL".to_string().into()];
    cells.extend((0..6).map(|_| Text::from(String::new())));
    cells.extend(style::usage_cells(&report.total));
    t.total(cells);
    output::raw(t.render(style::width(), compact, style::color()).as_bytes());
}

/// A project directory as the tables show it: under your HOME as `~/…`.
fn short_project(path: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let home = home.trim_end_matches('/');
    match path.strip_prefix(home) {
        Some(rest) if !home.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
            format!("~{rest}")
        }
        _ => path.to_string(),
    }
}

/// A project's last path component (`/home/me/src/shop` → `shop`).
fn project_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(path)
}

/// Billing blocks, oldest first; the active one with its pace and projection below.
fn print_blocks(report: &ringlet::BlocksReport) {
    if report.blocks.is_empty() {
        errln!(
            "No billing blocks{}.",
            if report.blocks.is_empty() {
                " to show"
            } else {
                ""
            }
        );
        return;
    }
    let zone = ringlet::Zone::named(&report.timezone).unwrap_or_else(|_| ringlet::Zone::utc());
    let mut columns = vec![
        Column::text("BLOCK START"),
        Column::wide_text("STATUS"),
        Column::wide_text("MODELS"),
    ];
    columns.extend(style::USAGE_COLUMNS);
    if report.token_limit.is_some() {
        columns.push(Column::key_number("% OF LIMIT"));
    }
    let mut t = style::Report::new(columns);
    for b in &report.blocks {
        let status = if b.active {
            let left = (b.end - chrono::Utc::now()).num_minutes().max(0) as u64 * 60_000;
            format!("active, {} left", span(left))
        } else {
            format!("ended {}", zone.local(b.last_activity).format("%H:%M"))
        };
        let mut cells: Vec<Text> = vec![
            local_time(&zone, b.start).into(),
            status.into(),
            short_models(&b.models).into(),
        ];
        cells.extend(style::usage_cells(&b.usage));
        if let Some(limit) = report.token_limit {
            let pct = if limit == 0 {
                0.0
            } else {
                b.usage.total_tokens as f64 * 100.0 / limit as f64
            };
            cells.push(format!("{pct:.0}%").into());
        }
        t.row(cells);
    }
    output::raw(t.render(style::width(), false, style::color()).as_bytes());
    if let Some(p) = report.blocks.iter().find_map(|b| b.projection.as_ref()) {
        outln!();
        outln!(
            "Active block: {} tokens/min, ${:.2}/h; at this pace it ends at {} tokens, ${:.2} ({} left).",
            style::thousands(p.tokens_per_minute.round() as u64),
            p.cost_per_hour_usd,
            style::thousands(p.projected_total_tokens),
            p.projected_cost_usd,
            span(p.remaining_minutes.max(0) as u64 * 60_000)
        );
        if let Some(limit) = report.token_limit
            && p.projected_total_tokens > limit
        {
            outln!(
                "Projected to pass the limit of {} tokens.",
                style::thousands(limit)
            );
        }
    }
}

/// One session: what it was, then each response.
fn print_session(d: &ringlet::SessionDetail) {
    let zone = ringlet::Zone::named(&d.timezone).unwrap_or_else(|_| ringlet::Zone::utc());
    let s = &d.session;
    output::fields(&[
        ("session", s.session_id.clone()),
        ("profile", s.profiles.join(", ")),
        ("agent", s.agents.join(", ")),
        ("models", s.models.join(", ")),
        (
            "start",
            format!("{} ({})", local_time(&zone, s.start), d.timezone),
        ),
        ("last activity", local_time(&zone, s.last_activity)),
        ("duration", span(s.duration_ms)),
        ("responses", style::thousands(s.usage.events)),
        ("cost", style::cost(&s.usage).wide),
    ]);
    outln!();
    let mut columns = vec![Column::text("TIME"), Column::wide_text("MODEL")];
    columns.extend(style::USAGE_COLUMNS);
    let mut t = style::Report::new(columns);
    for e in &d.events {
        let mut row = ringlet::UsageRow::empty(e.model.clone());
        row.events = 1;
        row.input = e.tokens.input;
        row.output = e.tokens.output;
        row.cache_creation = e.tokens.cache_creation;
        row.cache_read = e.tokens.cache_read;
        row.cost_nanos = e.cost_nanos.unwrap_or(0);
        if e.cost_nanos.is_some() {
            row.priced_events = 1;
        } else {
            row.unpriced_events = 1;
        }
        row.finish();
        let mut cells: Vec<Text> = vec![
            zone.local(e.time)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
                .into(),
            e.model.clone().into(),
        ];
        cells.extend(style::usage_cells(&row));
        t.row(cells);
    }
    let mut cells: Vec<Text> = vec!["TOTAL".to_string().into(), String::new().into()];
    cells.extend(style::usage_cells(&s.usage));
    t.total(cells);
    output::raw(t.render(style::width(), false, style::color()).as_bytes());
}

/// The models of a row, by their normalised names (no date suffix), comma-separated.
fn short_models(models: &[String]) -> String {
    let mut names: Vec<String> = models.iter().map(|m| ringlet::normalize_model(m)).collect();
    names.dedup();
    names.join(", ")
}

fn group_header(g: UsageGroup) -> &'static str {
    match g {
        UsageGroup::Day => "DATE",
        UsageGroup::Week => "WEEK",
        UsageGroup::Month => "MONTH",
        UsageGroup::Model => "MODEL",
        UsageGroup::Profile => "PROFILE",
        UsageGroup::Session => "SESSION",
        UsageGroup::Agent => "AGENT",
        UsageGroup::Provider => "PROVIDER",
        UsageGroup::Project => "PROJECT",
        _ => "GROUP",
    }
}

/// The CSV export is the core's (`ringlet::usage_csv`), so the server's is the same.
fn write_csv(events: &[UsageEvent]) -> anyhow::Result<()> {
    let text = ringlet::usage_csv(events);
    output::buffered(|out| std::io::Write::write_all(out, text.as_bytes()))
}

/// `ringlet import <agent> --to PROFILE`: the agent's usage logs, then its state (settings,
/// memory, MCP servers, …: commands/state.rs).
pub(crate) fn import_agent(
    ringlet: &Ringlet,
    agent: &str,
    to: &str,
    a: &ImportArgs,
) -> anyhow::Result<ExitCode> {
    if a.dry_run {
        return super::state::import(ringlet, agent, to, a, None);
    }
    let req = ImportRequest {
        agent: agent.to_string(),
        profile: to.to_string(),
        from: a.from.clone(),
    };
    let keeps_logs = !ringlet::Agent::manifest(ringlet.catalogue().agent(agent)?.as_ref())
        .logs
        .is_empty();
    let report = match keeps_logs {
        true => Some(run_import(ringlet, &req, !a.json)?),
        false => None,
    };
    if a.no_state {
        let Some(report) = report else {
            anyhow::bail!(
                "{agent} keeps no usage logs ringlet can read, and --no-state leaves nothing to import"
            );
        };
        if a.json {
            output::json(&report)?;
        } else {
            print_import(&report);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !a.json
        && let Some(report) = &report
    {
        print_import(report);
    }
    super::state::import(ringlet, agent, to, a, report.as_ref())
}

/// Runs an import, with a progress bar on stderr when it is a terminal.
fn run_import(ringlet: &Ringlet, req: &ImportRequest, show: bool) -> anyhow::Result<ImportReport> {
    if !(show && std::io::stderr().is_terminal() && !output::quiet()) {
        return Ok(ringlet.import_usage(req, None)?);
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} importing [{bar:30}] {pos}/{len} files, {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut tick = |p: &ImportProgress| {
        bar.set_length(p.files_total);
        bar.set_position(p.files_done);
        bar.set_message(count(p.inserted, "new event", "new events"));
    };
    let result = ringlet.import_usage(req, Some(&mut tick));
    bar.finish_and_clear();
    Ok(result?)
}

pub(super) fn print_import(r: &ImportReport) {
    let s = &r.summary;
    let sources = r
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if s.files_seen == 0 {
        outln!(
            "No {} logs found in {sources}; nothing was imported. Give --from the HOME, log directory or log file that holds them.",
            r.agent
        );
        return;
    }
    outln!(
        "Imported {} logs into profile '{}' from {sources}.",
        r.agent,
        r.profile,
    );
    let range = match (r.first_event, r.last_event) {
        (Some(a), Some(b)) => format!(
            " (history {} to {})",
            a.format("%Y-%m-%d"),
            b.format("%Y-%m-%d")
        ),
        _ => String::new(),
    };
    let cost = if r.unpriced_events > 0 && r.cost_nanos == 0 {
        format!(
            "unpriced: {} without a known price{range}",
            count(
                r.unpriced_events,
                "new event uses a model",
                "new events use models"
            )
        )
    } else if r.unpriced_events > 0 {
        format!(
            "${:.2} reconstructed, plus {} without a known price{range}",
            r.cost_usd,
            count(r.unpriced_events, "event", "events")
        )
    } else {
        format!("${:.2} reconstructed{range}", r.cost_usd)
    };
    output::fields(&[
        (
            "files",
            format!(
                "{} found, {} read, {} unchanged since the last import, {} unreadable",
                count(s.files_seen, "file", "files"),
                s.files_scanned,
                s.files_unchanged,
                s.failures.len()
            ),
        ),
        (
            "events",
            format!(
                "{} read, {} new, {} replaced, {} skipped",
                count(s.records, "event", "events"),
                s.inserted,
                s.replaced,
                count(s.duplicates, "duplicate", "duplicates")
            ),
        ),
        ("cost", cost),
    ]);
    import_notes(s);
}

/// Lines worth a look after an import: malformed lines and unreadable files.
fn import_notes(s: &ringlet::ImportSummary) {
    if s.malformed_lines > 0 {
        let first = s
            .malformed_samples
            .first()
            .map(|m| format!(" (first: {}:{}: {})", m.path.display(), m.line, m.reason))
            .unwrap_or_default();
        errln!(
            "note: {} skipped{first}",
            count(
                s.malformed_lines,
                "malformed line was",
                "malformed lines were"
            )
        );
    }
    for f in &s.failures {
        errln!(
            "ringlet: warning: {} was not read: {}",
            f.path.display(),
            f.message
        );
    }
}

fn stats(ringlet: &Ringlet, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let group = a.by_agent.then_some(UsageGroup::Agent);
    let report = ringlet.stats(&a.filter.query(group))?;
    if a.json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.rows.is_empty() {
        errln!("No runs recorded yet. `ringlet profiles run <alias>` records each run.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut header = vec![
        "PROFILE", "AGENT", "RUNS", "FAILED", "TIME", "AVG", "PEAK RSS", "CPU", "LAST RUN",
    ];
    if a.by_agent {
        header.remove(0);
    }
    let mut t = output::table(&header);
    let row = |r: &StatsRow| {
        let mut cells = vec![
            r.profile.clone(),
            r.agent.clone(),
            r.runs.to_string(),
            r.failed.to_string(),
            duration(r.total_duration_ms),
            duration(r.avg_duration_ms),
            output::or_dash(r.peak_rss_bytes.map(bytes)),
            duration(r.cpu_user_ms + r.cpu_system_ms),
            output::or_dash(r.last_run.map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })),
        ];
        if a.by_agent {
            cells.remove(0);
        }
        cells
    };
    for r in &report.rows {
        t.add_row(row(r));
    }
    let mut total = row(&report.total);
    total[0] = "TOTAL".into();
    t.add_row(total);
    output::print_table(&t);
    Ok(ExitCode::SUCCESS)
}

/// `1h02m`, `3m05s`, `4.2s`, `120ms`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1e3),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms / 1000 % 60),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// `512 MB`, `1.3 GB`.
fn bytes(b: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let mb = b as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{mb:.0} MB")
    }
}

/// After `init`: offers to import the logs of agents used before ringlet. Asks only when a
/// person is at the terminal and a profile for the agent exists; otherwise prints the command.
pub fn offer_imports(ringlet: &Ringlet) -> anyhow::Result<()> {
    let candidates = ringlet.import_candidates()?;
    if candidates.is_empty() {
        return Ok(());
    }
    outln!();
    outln!("Existing usage logs found (import them so `ringlet usage` starts with your history):");
    for c in &candidates {
        let paths = c
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        outln!(
            "  {} ({} in {paths})",
            c.name,
            count(c.files, "file", "files")
        );
        match c.profiles.as_slice() {
            [only] if prompt::interactive() => {
                if prompt::confirm(&format!("Import {} usage into profile '{only}'?", c.name))? {
                    let req = ImportRequest {
                        agent: c.agent.clone(),
                        profile: only.clone(),
                        from: None,
                    };
                    print_import(&run_import(ringlet, &req, true)?);
                }
            }
            [only] => outln!("    ringlet import {} --to {only}", c.agent),
            [] => outln!(
                "    ringlet profiles create {} <alias> --provider <provider>, then: ringlet import {} --to <alias>",
                c.agent,
                c.agent
            ),
            many => outln!(
                "    ringlet import {} --to <profile>   (one of: {})",
                c.agent,
                many.join(", ")
            ),
        }
    }
    Ok(())
}

/// `usage --reconcile`: the wire's figures beside the log's, per proxied profile.
fn reconcile(ringlet: &Ringlet, profile: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let lines = ringlet.reconcile_usage(profile)?;
    if json {
        output::json(&lines)?;
        return Ok(ExitCode::SUCCESS);
    }
    if lines.is_empty() {
        errln!(
            "No profile has run through the proxy yet (`ringlet profiles set <alias> --proxy on`)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "PROFILE",
        "AGENT",
        "RUNS",
        "SOURCE",
        "RESPONSES",
        "INPUT",
        "OUTPUT",
        "CACHE W",
        "CACHE R",
        "COST",
        "",
    ]);
    for line in &lines {
        for (source, row) in [("wire", &line.wire), ("log", &line.log)] {
            let first = source == "wire";
            t.add_row([
                if first {
                    line.profile.clone()
                } else {
                    String::new()
                },
                if first {
                    line.agent.clone()
                } else {
                    String::new()
                },
                if first {
                    line.runs.to_string()
                } else {
                    String::new()
                },
                source.to_string(),
                row.events.to_string(),
                row.input.to_string(),
                row.output.to_string(),
                row.cache_creation.to_string(),
                row.cache_read.to_string(),
                format!("${:.4}", row.cost_usd),
                match (first, line.agrees()) {
                    (true, _) => String::new(),
                    (false, true) => "agree".into(),
                    (false, false) => "DIFFER".into(),
                },
            ]);
        }
    }
    output::print_table(&t);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(duration(61_000), "1m01s");
        assert_eq!(bytes(3 * 1024 * 1024), "3 MB");
    }
}
