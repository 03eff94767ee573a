//! `PgUsageStore`: the team ledger, a [`UsageStore`] in Postgres that several machines write to
//! (each through its own push) and team reports, alerts and metrics read from.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use postgres::config::SslMode;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};

use super::tls::MakeRustls;
use serde::{Deserialize, Serialize};

use super::schema::MIGRATIONS;
use crate::credentials::Secret;
use crate::error::{Error, Result};
use crate::usage::{
    BUCKET_MS, CostSource, FileIdentity, HourUsage, ImportState, PriceBook, RecordOutcome,
    RepriceOutcome, RunEnd, RunSession, RunStart, SessionCell, SessionUsage, TokenCounts,
    UsageEvent, UsageFilter, UsageGroup, UsageRow, UsageStore, day_key, fold_sessions, offset_sql,
};

/// How long connecting may take before the push (or a team report) gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Events per `INSERT` statement: large enough that a push is a few round trips, small enough
/// that one statement's arrays stay a few MB.
const BATCH: usize = 2_000;

/// The schema ringlet uses when `[team] schema` does not name one.
pub const DEFAULT_TEAM_SCHEMA: &str = "ringlet";

/// Where the team ledger is and who is writing to it.
#[derive(Debug, Clone)]
pub struct TeamConnect {
    /// `postgres://user@host:port/database` (no password: that comes from the credential store).
    pub url: String,
    /// The role's password, when the server asks for one.
    pub password: Option<Secret>,
    /// The schema holding ringlet's tables (created when missing and allowed).
    pub schema: String,
    /// This machine's id (see [`machine_id`](crate::machine_id)).
    pub machine: String,
    /// The user name recorded with this machine's events.
    pub user: String,
    /// PEM certificates trusted for the server's TLS certificate besides the Mozilla roots: the
    /// team's own CA, or the server's self-signed certificate (`[team] ca-file`).
    pub ca_file: Option<PathBuf>,
}

/// A team report's grouping: every local grouping, plus by user and by machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum TeamGroup {
    /// A grouping the local ledger has too.
    Usage(UsageGroup),
    /// Extra team groupings.
    Team(TeamOnlyGroup),
}

/// The groupings only a team ledger has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TeamOnlyGroup {
    /// One row per user name.
    User,
    /// One row per machine id.
    Machine,
}

impl TeamGroup {
    /// One row per user.
    pub const USER: TeamGroup = TeamGroup::Team(TeamOnlyGroup::User);
    /// One row per machine.
    pub const MACHINE: TeamGroup = TeamGroup::Team(TeamOnlyGroup::Machine);

    /// Parses a grouping by name: the local ones (`day`, `model`, …) plus `user` and `machine`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "user" => Ok(Self::USER),
            "machine" => Ok(Self::MACHINE),
            other => UsageGroup::parse(other).map(TeamGroup::Usage).map_err(|_| {
                Error::InvalidInput(format!(
                    "unknown usage group '{}'; groups: total, day, week, month, model, profile, agent, provider, session, user, machine",
                    other.escape_debug()
                ))
            }),
        }
    }
}

impl From<UsageGroup> for TeamGroup {
    fn from(g: UsageGroup) -> Self {
        TeamGroup::Usage(g)
    }
}

/// The team ledger in Postgres. Calls from several threads are serialised on one connection;
/// several machines (and processes) coordinate through Postgres: `(machine, dedup_key)` is
/// unique, and each machine's rollup rows are its own, so concurrent pushes never wait on each
/// other's rows.
pub struct PgUsageStore {
    /// The URL without a password, for messages.
    shown: String,
    machine: String,
    user: String,
    client: Mutex<Client>,
}

impl std::fmt::Debug for PgUsageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUsageStore")
            .field("url", &self.shown)
            .field("machine", &self.machine)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl PgUsageStore {
    /// Connects, creates the schema when it is missing and brings it up to date.
    pub fn connect(c: &TeamConnect) -> Result<Self> {
        let shown = redact_url(&c.url)?;
        let fail = |message: String| Error::UsageStore {
            path: PathBuf::from(&shown),
            message,
        };
        validate_schema(&c.schema).map_err(fail)?;
        if c.machine.is_empty() || c.user.is_empty() {
            return Err(fail("a machine id and a user name are required".into()));
        }
        let mut config: postgres::Config = c.url.parse().map_err(|e| {
            fail(format!(
                "not a Postgres URL ({e}); write it as postgres://user@host:5432/database"
            ))
        })?;
        if let Some(password) = &c.password {
            config.password(password.expose());
        }
        config.application_name("ringlet");
        config.connect_timeout(CONNECT_TIMEOUT);
        // `sslmode=disable` is the only way to a plain connection; otherwise the driver asks the
        // server for TLS (`prefer`, its default, falls back to plain only when the server has
        // no TLS at all) and the certificate is always verified (team/tls.rs).
        let connected = if config.get_ssl_mode() == SslMode::Disable {
            config.connect(NoTls)
        } else {
            let tls = MakeRustls::new(c.ca_file.as_deref()).map_err(fail)?;
            config.connect(tls)
        };
        let mut client = connected.map_err(|e| fail(pg_message(&e)))?;
        // Only ASCII letters, digits and '_' (validated above): safe to quote as an identifier.
        let exists = client
            .query_opt(
                "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                &[&c.schema],
            )
            .map_err(|e| fail(pg_message(&e)))?
            .is_some();
        if !exists
            && let Err(e) =
                client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", c.schema))
        {
            // `IF NOT EXISTS` still races: two first connections both see no schema and one
            // fails on the catalogue's unique index. The schema exists then, which is all we
            // wanted.
            let raced = e
                .as_db_error()
                .is_some_and(|d| matches!(d.code().code(), "23505" | "42P06"));
            if !raced {
                return Err(fail(pg_message(&e)));
            }
        }
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", c.schema))
            .map_err(|e| fail(pg_message(&e)))?;
        let store = Self {
            shown,
            machine: c.machine.clone(),
            user: c.user.clone(),
            client: Mutex::new(client),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The ledger's URL without its password.
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    /// This connection's machine id.
    pub fn machine(&self) -> &str {
        &self.machine
    }

    /// The schema version (the number of migrations applied).
    pub fn schema_version(&self) -> Result<u32> {
        let mut client = self.lock();
        let v: Option<i32> = client
            .query_one("SELECT max(version) FROM ringlet_migrations", &[])
            .map_err(|e| self.err(e))?
            .get(0);
        Ok(v.unwrap_or(0).max(0) as u32)
    }

    fn migrate(&self) -> Result<()> {
        let mut client = self.lock();
        let known = MIGRATIONS.len() as i32;
        // The usual case, an up-to-date schema, takes no lock and writes nothing, so a role
        // that may only read and insert events can push.
        let current = current_version(&mut client).map_err(|e| self.err(e))?;
        if current == Some(known) {
            return Ok(());
        }
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        // Two machines upgrading the schema at once: one migrates, the other waits and finds
        // nothing left to do.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('ringlet-migrate:' || current_schema()))",
            &[],
        )
        .map_err(|e| self.err(e))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS ringlet_migrations (version INTEGER PRIMARY KEY, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .map_err(|e| self.err(e))?;
        let version: Option<i32> = tx
            .query_one("SELECT max(version) FROM ringlet_migrations", &[])
            .map_err(|e| self.err(e))?
            .get(0);
        let version = version.unwrap_or(0);
        if version > known {
            return Err(self.fail(format!(
                "written by a newer ringlet (schema {version}, this one knows {known}); upgrade ringlet"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.batch_execute(sql).map_err(|e| self.err(e))?;
            tx.execute(
                "INSERT INTO ringlet_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        // A panic mid-transaction drops the transaction, which rolls it back: still usable.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fail(&self, message: String) -> Error {
        Error::UsageStore {
            path: PathBuf::from(&self.shown),
            message,
        }
    }

    fn err(&self, e: postgres::Error) -> Error {
        self.fail(pg_message(&e))
    }

    fn write<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> PgResult<T>) -> Result<T> {
        let mut client = self.lock();
        let mut tx = client.transaction().map_err(|e| self.err(e))?;
        let value = f(&mut tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(value)
    }

    /// Mirrors another ledger's events into this one (a push): an event already here is
    /// replaced when the incoming copy ranks higher, or ranks the same and was priced
    /// differently (the local ledger was repriced); otherwise it is a duplicate. Idempotent:
    /// sending the same events twice changes nothing the second time.
    pub fn mirror(&self, events: &[UsageEvent]) -> Result<RecordOutcome> {
        if events.is_empty() {
            return Ok(RecordOutcome::default());
        }
        self.write(|tx| {
            let mut outcome = RecordOutcome::default();
            for chunk in unique_chunks(events) {
                outcome.add(upsert(tx, &self.machine, &self.user, chunk, MIRROR_WHEN)?);
            }
            tx.execute(
                "INSERT INTO machines (machine, user_name, last_push) VALUES ($1, $2, now()) \
                 ON CONFLICT (machine) DO UPDATE SET user_name = excluded.user_name, \
                 last_push = excluded.last_push",
                &[&self.machine, &self.user],
            )?;
            Ok(outcome)
        })
    }

    /// Mirrors runs recorded on this machine, keyed by their local id: a run pushed while it
    /// was still going is updated when it ends.
    pub fn mirror_runs(&self, runs: &[RunSession]) -> Result<u64> {
        self.write(|tx| {
            let st = tx.prepare(
                "INSERT INTO run_sessions (machine, user_name, local_id, profile, agent, provider, \
                 model, started_ms, ended_ms, exit_code, peak_rss_bytes, cpu_user_ms, \
                 cpu_system_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (machine, local_id) DO UPDATE SET ended_ms = excluded.ended_ms, \
                 exit_code = excluded.exit_code, peak_rss_bytes = excluded.peak_rss_bytes, \
                 cpu_user_ms = excluded.cpu_user_ms, cpu_system_ms = excluded.cpu_system_ms",
            )?;
            let mut n = 0;
            for r in runs {
                n += tx.execute(
                    &st,
                    &[
                        &self.machine,
                        &self.user,
                        &r.id,
                        &r.profile,
                        &r.agent,
                        &r.provider,
                        &r.model,
                        &r.started_at.timestamp_millis(),
                        &r.ended_at.map(|t| t.timestamp_millis()),
                        &r.exit_code,
                        &r.peak_rss_bytes.map(to_i64),
                        &r.cpu_user_ms.map(to_i64),
                        &r.cpu_system_ms.map(to_i64),
                    ],
                )?;
            }
            Ok(n)
        })
    }

    /// Aggregated team totals matching `filter`, one row per group (one row for the total, even
    /// when nothing matches): the same rows a local report gives, across every machine.
    pub fn team_query(&self, filter: &UsageFilter, group: TeamGroup) -> Result<Vec<UsageRow>> {
        let mut client = self.lock();
        query_rows(&mut client, filter, group).map_err(|e| self.err(e))
    }

    /// Recomputes the rollup from the events in one transaction: after a bulk load that bypassed
    /// the trigger (`ALTER TABLE usage_events DISABLE TRIGGER usage_events_rollup`, as the
    /// benchmark does), or as a repair. Returns the rollup rows written.
    pub fn rebuild_rollups(&self) -> Result<u64> {
        self.write(|tx| {
            tx.batch_execute(
                "LOCK TABLE usage_events IN SHARE MODE; DELETE FROM usage_rollup; \
                 DELETE FROM usage_rollup_time",
            )?;
            let rows = tx.execute(
                "INSERT INTO usage_rollup SELECT ts_ms / 900000, machine, user_name, profile, \
                 agent, provider, model, count(*), sum(input), sum(output), sum(cache_creation), \
                 sum(cache_creation_5m), sum(cache_creation_1h), sum(cache_read), \
                 sum(reasoning), coalesce(sum(cost_nanos), 0), count(cost_nanos) \
                 FROM usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7",
                &[],
            )?;
            tx.execute(
                "INSERT INTO usage_rollup_time SELECT bucket, sum(events), sum(input), \
                 sum(output), sum(cache_creation), sum(cache_creation_5m), \
                 sum(cache_creation_1h), sum(cache_read), sum(reasoning), sum(cost_nanos), \
                 sum(priced) FROM usage_rollup GROUP BY bucket",
                &[],
            )?;
            Ok(rows)
        })
    }

    /// Claims `(hook, period)` for this machine: `true` for exactly one caller across the whole
    /// team, however many machines check at once (a team alert fires once).
    pub fn claim_fired(&self, hook: &str, period: &str) -> Result<bool> {
        let mut client = self.lock();
        let n = client
            .execute(
                "INSERT INTO fired_hooks (hook, period, machine) VALUES ($1, $2, $3) \
                 ON CONFLICT (hook, period) DO NOTHING",
                &[&hook, &period, &self.machine],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }
}

type PgResult<T> = std::result::Result<T, postgres::Error>;

/// `record`: a higher rank replaces (the local ledger's rule).
const RECORD_WHEN: &str = "usage_events.rank < excluded.rank";

/// A push: also a same-rank copy priced differently (the local ledger was repriced).
const MIRROR_WHEN: &str = "usage_events.rank < excluded.rank OR (usage_events.rank = excluded.rank \
     AND (usage_events.cost_nanos IS DISTINCT FROM excluded.cost_nanos \
     OR usage_events.cost_source <> excluded.cost_source))";

/// Splits `events` into runs without a repeated dedup key, at most [`BATCH`] long: one
/// `INSERT … ON CONFLICT` cannot touch a row twice, and running the runs in order gives the
/// same outcome as recording the events one by one.
fn unique_chunks(events: &[UsageEvent]) -> Vec<&[UsageEvent]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, ev) in events.iter().enumerate() {
        if seen.len() == BATCH || !seen.insert(ev.dedup_key.as_str()) {
            chunks.push(&events[start..i]);
            start = i;
            seen.clear();
            seen.insert(ev.dedup_key.as_str());
        }
    }
    if start < events.len() {
        chunks.push(&events[start..]);
    }
    chunks
}

/// Inserts `events` (distinct keys) as `machine`, replacing a stored event when `when` holds.
fn upsert(
    tx: &mut Transaction<'_>,
    machine: &str,
    user: &str,
    events: &[UsageEvent],
    when: &str,
) -> PgResult<RecordOutcome> {
    let n = events.len();
    // In time order: the rows of `usage_rollup_time` the trigger updates are shared by all
    // machines, and locking them in one order keeps concurrent pushes from deadlocking.
    let mut events: Vec<&UsageEvent> = events.iter().collect();
    events.sort_by_key(|e| e.time);
    let mut ts = Vec::with_capacity(n);
    let (mut profile, mut agent, mut provider, mut model) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut tokens: [Vec<i64>; 7] = Default::default();
    let (mut cost, mut source, mut session, mut origin, mut key, mut rank) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for ev in &events {
        let t = ev.tokens.normalized();
        ts.push(ev.time.timestamp_millis().max(0));
        profile.push(ev.profile.as_str());
        agent.push(ev.agent.as_str());
        provider.push(ev.provider.as_str());
        model.push(ev.model.as_str());
        for (col, v) in tokens.iter_mut().zip([
            t.input,
            t.output,
            t.cache_creation,
            t.cache_creation_5m,
            t.cache_creation_1h,
            t.cache_read,
            t.reasoning,
        ]) {
            col.push(to_i64(v));
        }
        cost.push(ev.cost_nanos);
        source.push(ev.cost_source.as_str());
        session.push(ev.session_id.as_deref());
        origin.push(ev.origin.as_str());
        key.push(ev.dedup_key.as_str());
        rank.push(ev.rank);
    }
    let sql = format!(
        "INSERT INTO usage_events AS usage_events (machine, user_name, ts_ms, profile, agent, \
         provider, model, input, output, cache_creation, cache_creation_5m, cache_creation_1h, \
         cache_read, reasoning, cost_nanos, cost_source, session_id, origin, dedup_key, rank) \
         SELECT $1::text, $2::text, u.* FROM unnest($3::bigint[], $4::text[], $5::text[], \
         $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], \
         $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::text[], $17::text[], \
         $18::text[], $19::text[], $20::bigint[]) AS u \
         ON CONFLICT (machine, dedup_key) DO UPDATE SET ts_ms = excluded.ts_ms, \
         user_name = excluded.user_name, profile = excluded.profile, agent = excluded.agent, \
         provider = excluded.provider, model = excluded.model, input = excluded.input, \
         output = excluded.output, cache_creation = excluded.cache_creation, \
         cache_creation_5m = excluded.cache_creation_5m, \
         cache_creation_1h = excluded.cache_creation_1h, cache_read = excluded.cache_read, \
         reasoning = excluded.reasoning, cost_nanos = excluded.cost_nanos, \
         cost_source = excluded.cost_source, session_id = excluded.session_id, \
         origin = excluded.origin, rank = excluded.rank WHERE {when} \
         RETURNING (xmax = 0)"
    );
    let [t0, t1, t2, t3, t4, t5, t6] = &tokens;
    let rows = tx.query(
        &sql,
        &[
            &machine, &user, &ts, &profile, &agent, &provider, &model, t0, t1, t2, t3, t4, t5, t6,
            &cost, &source, &session, &origin, &key, &rank,
        ],
    )?;
    let inserted = rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
    let replaced = rows.len() as u64 - inserted;
    Ok(RecordOutcome {
        inserted,
        replaced,
        duplicates: n as u64 - inserted - replaced,
    })
}

impl UsageStore for PgUsageStore {
    fn record(&self, events: &[UsageEvent]) -> Result<RecordOutcome> {
        if events.is_empty() {
            return Ok(RecordOutcome::default());
        }
        self.write(|tx| {
            let mut outcome = RecordOutcome::default();
            for chunk in unique_chunks(events) {
                outcome.add(upsert(tx, &self.machine, &self.user, chunk, RECORD_WHEN)?);
            }
            Ok(outcome)
        })
    }

    fn commit_import(&self, events: &[UsageEvent], state: &ImportState) -> Result<RecordOutcome> {
        self.write(|tx| {
            let mut outcome = RecordOutcome::default();
            for chunk in unique_chunks(events) {
                outcome.add(upsert(tx, &self.machine, &self.user, chunk, RECORD_WHEN)?);
            }
            save_state(tx, &self.machine, state)?;
            Ok(outcome)
        })
    }

    fn import_state(&self, path: &str) -> Result<Option<ImportState>> {
        let mut client = self.lock();
        client
            .query_opt(
                &format!("{STATE_SELECT} WHERE machine = $1 AND path = $2"),
                &[&self.machine, &path],
            )
            .map(|r| r.as_ref().map(read_state))
            .map_err(|e| self.err(e))
    }

    fn import_states(&self, root: &str) -> Result<Vec<ImportState>> {
        let (root, lo, hi) = subtree_bounds(root);
        let mut client = self.lock();
        client
            .query(
                &format!(
                    "{STATE_SELECT} WHERE machine = $1 AND (path = $2 OR (path >= $3 AND path < $4))"
                ),
                &[&self.machine, &root, &lo, &hi],
            )
            .map(|rows| rows.iter().map(read_state).collect())
            .map_err(|e| self.err(e))
    }

    fn forget_import_states(&self, root: &str) -> Result<u64> {
        let (root, lo, hi) = subtree_bounds(root);
        self.write(|tx| {
            tx.execute(
                "DELETE FROM import_state WHERE machine = $1 AND \
                 (path = $2 OR (path >= $3 AND path < $4))",
                &[&self.machine, &root, &lo, &hi],
            )
        })
    }

    fn query(&self, filter: &UsageFilter, group: UsageGroup) -> Result<Vec<UsageRow>> {
        self.team_query(filter, TeamGroup::Usage(group))
    }

    fn query_split(
        &self,
        filter: &UsageFilter,
        group: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>> {
        let mut client = self.lock();
        let rows = grouped(&mut client, filter, TeamGroup::Usage(group), Some(by))
            .map_err(|e| self.err(e))?;
        // One week's or month's days are adjacent per value, not overall: add up by key.
        let mut out: std::collections::BTreeMap<(String, String), UsageRow> =
            std::collections::BTreeMap::new();
        for (sub, row) in rows {
            match out.entry((row.key.clone(), sub)) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().absorb(&row),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(row);
                }
            }
        }
        Ok(out.into_iter().map(|((_, sub), row)| (sub, row)).collect())
    }

    fn hours(&self, filter: &UsageFilter) -> Result<Vec<HourUsage>> {
        let mut client = self.lock();
        let cells = event_cells(&mut client, filter, &["(ts_ms / 3600000)::text", "model"])
            .map_err(|e| self.err(e))?;
        Ok(cells
            .into_iter()
            .map(|(keys, first, last, mut usage)| {
                let hour = keys[0]
                    .parse::<i64>()
                    .unwrap_or(0)
                    .saturating_mul(3_600_000);
                let model = keys[1].clone();
                usage.key = model.clone();
                HourUsage {
                    hour: from_ms(hour),
                    model,
                    first: from_ms(first),
                    last: from_ms(last),
                    usage,
                }
            })
            .collect())
    }

    fn sessions(&self, filter: &UsageFilter) -> Result<Vec<SessionUsage>> {
        let cells = {
            let mut client = self.lock();
            event_cells(
                &mut client,
                filter,
                &[
                    "coalesce(session_id, '')",
                    "profile",
                    "agent",
                    "provider",
                    "model",
                ],
            )
            .map_err(|e| self.err(e))?
        };
        // One row per session and dimension, folded per session as the local ledger does.
        Ok(fold_sessions(cells.into_iter().map(
            |(keys, first_ms, last_ms, usage)| {
                let [session, profile, agent, provider, model] =
                    <[String; 5]>::try_from(keys).unwrap_or_default();
                SessionCell {
                    session,
                    profile,
                    agent,
                    provider,
                    model,
                    first_ms,
                    last_ms,
                    usage,
                }
            },
        )))
    }

    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        let mut w = Where::default();
        w.dims(filter);
        w.time(filter, "ts_ms", 1);
        let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!(
            "SELECT ts_ms, profile, agent, provider, model, input, output, cache_creation, \
             cache_creation_5m, cache_creation_1h, cache_read, reasoning, cost_nanos, \
             cost_source, session_id, origin, dedup_key, rank FROM usage_events{} \
             ORDER BY ts_ms, id{limit}",
            w.sql()
        );
        let mut client = self.lock();
        let rows = client.query(&sql, &w.refs()).map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|r| UsageEvent {
                time: from_ms(r.get(0)),
                profile: r.get(1),
                agent: r.get(2),
                provider: r.get(3),
                model: r.get(4),
                tokens: TokenCounts {
                    input: u(r.get(5)),
                    output: u(r.get(6)),
                    cache_creation: u(r.get(7)),
                    cache_creation_5m: u(r.get(8)),
                    cache_creation_1h: u(r.get(9)),
                    cache_read: u(r.get(10)),
                    reasoning: u(r.get(11)),
                },
                cost_nanos: r.get(12),
                cost_source: CostSource::parse(r.get(13)).unwrap_or(CostSource::Unpriced),
                session_id: r.get(14),
                origin: r.get(15),
                dedup_key: r.get(16),
                rank: r.get(17),
            })
            .collect())
    }

    fn reprice(&self, prices: &PriceBook) -> Result<RepriceOutcome> {
        self.write(|tx| {
            let mut outcome = RepriceOutcome::default();
            let mut last_id = 0i64;
            let select = tx.prepare(
                "SELECT id, model, provider, input, output, cache_creation, cache_creation_5m, \
                 cache_creation_1h, cache_read, reasoning, cost_nanos, cost_source \
                 FROM usage_events WHERE id > $1 AND cost_source <> 'reported' \
                 ORDER BY id LIMIT 10000",
            )?;
            let update = tx.prepare(
                "UPDATE usage_events SET cost_nanos = $2, cost_source = $3 WHERE id = $1",
            )?;
            loop {
                let batch = tx.query(&select, &[&last_id])?;
                let Some(last) = batch.last() else {
                    break;
                };
                last_id = last.get(0);
                for r in &batch {
                    outcome.examined += 1;
                    let model: &str = r.get(1);
                    let provider: &str = r.get(2);
                    let tokens = TokenCounts {
                        input: u(r.get(3)),
                        output: u(r.get(4)),
                        cache_creation: u(r.get(5)),
                        cache_creation_5m: u(r.get(6)),
                        cache_creation_1h: u(r.get(7)),
                        cache_read: u(r.get(8)),
                        reasoning: u(r.get(9)),
                    };
                    let old_cost: Option<i64> = r.get(10);
                    let old_source: &str = r.get(11);
                    let cost = prices.cost_nanos(model, Some(provider), &tokens);
                    let source = if cost.is_some() {
                        CostSource::Computed
                    } else {
                        outcome.unpriced += 1;
                        CostSource::Unpriced
                    };
                    if cost != old_cost || source.as_str() != old_source {
                        let id: i64 = r.get(0);
                        tx.execute(&update, &[&id, &cost, &source.as_str()])?;
                        outcome.updated += 1;
                    }
                }
            }
            Ok(outcome)
        })
    }

    fn start_run(&self, start: &RunStart) -> Result<i64> {
        let mut client = self.lock();
        client
            .query_one(
                "INSERT INTO run_sessions (machine, user_name, profile, agent, provider, model, \
                 started_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &self.machine,
                    &self.user,
                    &start.profile,
                    &start.agent,
                    &start.provider,
                    &start.model,
                    &start.started_at.timestamp_millis(),
                ],
            )
            .map(|r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()> {
        let ended = end.ended_at.unwrap_or_else(Utc::now).timestamp_millis();
        let mut client = self.lock();
        let changed = client
            .execute(
                "UPDATE run_sessions SET ended_ms = $2, exit_code = $3, peak_rss_bytes = $4, \
                 cpu_user_ms = $5, cpu_system_ms = $6 WHERE id = $1",
                &[
                    &id,
                    &ended,
                    &end.exit_code,
                    &end.peak_rss_bytes.map(to_i64),
                    &end.cpu_user_ms.map(to_i64),
                    &end.cpu_system_ms.map(to_i64),
                ],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Err(self.fail(format!(
                "no run with id {id} was started; call start_run first"
            )));
        }
        Ok(())
    }

    fn runs(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<RunSession>> {
        let mut w = Where::default();
        w.dims(filter);
        w.time(filter, "started_ms", 1);
        let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
        let sql = format!(
            "SELECT id, profile, agent, provider, model, started_ms, ended_ms, exit_code, \
             peak_rss_bytes, cpu_user_ms, cpu_system_ms FROM run_sessions{} \
             ORDER BY started_ms DESC, id DESC{limit}",
            w.sql()
        );
        let mut client = self.lock();
        let rows = client.query(&sql, &w.refs()).map_err(|e| self.err(e))?;
        Ok(rows
            .iter()
            .map(|r| {
                let started: i64 = r.get(5);
                let ended: Option<i64> = r.get(6);
                let opt_u64 = |i| r.get::<_, Option<i64>>(i).map(|v| v.max(0) as u64);
                RunSession {
                    id: r.get(0),
                    profile: r.get(1),
                    agent: r.get(2),
                    provider: r.get(3),
                    model: r.get(4),
                    started_at: from_ms(started),
                    ended_at: ended.map(from_ms),
                    duration_ms: ended.map(|e| e.saturating_sub(started).max(0) as u64),
                    exit_code: r.get(7),
                    peak_rss_bytes: opt_u64(8),
                    cpu_user_ms: opt_u64(9),
                    cpu_system_ms: opt_u64(10),
                }
            })
            .collect())
    }
}

fn current_version(client: &mut Client) -> PgResult<Option<i32>> {
    let exists: bool = client
        .query_one("SELECT to_regclass('ringlet_migrations') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client
        .query_one("SELECT max(version) FROM ringlet_migrations", &[])?
        .get(0))
}

const STATE_SELECT: &str = "SELECT path, format, dev, inode, head_len, head_hash, size, \
     mtime_ns, \"offset\", line, context, updated_ms FROM import_state";

fn read_state(r: &Row) -> ImportState {
    // u64 identity values are stored bit for bit in signed BIGINTs.
    let u = |i| r.get::<_, i64>(i) as u64;
    ImportState {
        path: r.get(0),
        format: r.get(1),
        identity: FileIdentity {
            dev: u(2),
            inode: u(3),
            head_len: u(4),
            head_hash: u(5),
        },
        size: u(6),
        mtime_ns: r.get(7),
        offset: u(8),
        line: u(9),
        context: r.get(10),
        updated_at: from_ms(r.get(11)),
    }
}

fn save_state(tx: &mut Transaction<'_>, machine: &str, s: &ImportState) -> PgResult<()> {
    tx.execute(
        "INSERT INTO import_state (machine, path, format, dev, inode, head_len, head_hash, size, \
         mtime_ns, \"offset\", line, context, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (machine, path) DO UPDATE SET format = excluded.format, dev = excluded.dev, \
         inode = excluded.inode, head_len = excluded.head_len, head_hash = excluded.head_hash, \
         size = excluded.size, mtime_ns = excluded.mtime_ns, \"offset\" = excluded.\"offset\", \
         line = excluded.line, context = excluded.context, updated_ms = excluded.updated_ms",
        &[
            &machine,
            &s.path,
            &s.format,
            &(s.identity.dev as i64),
            &(s.identity.inode as i64),
            &(s.identity.head_len as i64),
            &(s.identity.head_hash as i64),
            &(s.size as i64),
            &s.mtime_ns,
            &(s.offset as i64),
            &(s.line as i64),
            &s.context,
            &s.updated_at.timestamp_millis(),
        ],
    )?;
    Ok(())
}

/// `root` without a trailing slash, and the bounds of the paths strictly below it.
fn subtree_bounds(root: &str) -> (String, String, String) {
    let root = root.trim_end_matches('/');
    (root.to_string(), format!("{root}/"), format!("{root}0"))
}

/// A WHERE clause under construction, with its parameters.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync>>,
}

impl Where {
    fn push(&mut self, clause: impl FnOnce(usize) -> String, value: Box<dyn ToSql + Sync>) {
        self.params.push(value);
        self.clauses.push(clause(self.params.len()));
    }

    fn eq(&mut self, column: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.push(|n| format!("{column} = ${n}"), Box::new(v.clone()));
        }
    }

    fn dims(&mut self, f: &UsageFilter) {
        self.eq("profile", &f.profile);
        self.eq("agent", &f.agent);
        self.eq("provider", &f.provider);
        self.eq("model", &f.model);
        if !f.models.is_empty() {
            self.push(|n| format!("model = ANY(${n})"), Box::new(f.models.clone()));
        }
        // Only the events table has sessions: `grouped` reads it whenever this is set.
        if let Some(session) = &f.session {
            self.push(
                |n| format!("coalesce(session_id, '') = ${n}"),
                Box::new(session.clone()),
            );
        }
    }

    /// Time bounds on `column`, whose unit is `unit_ms` milliseconds.
    fn time(&mut self, f: &UsageFilter, column: &str, unit_ms: i64) {
        if let Some(since) = f.since {
            let v = since.timestamp_millis().div_euclid(unit_ms);
            self.push(|n| format!("{column} >= ${n}"), Box::new(v));
        }
        if let Some(until) = f.until {
            let v = until.timestamp_millis().div_euclid(unit_ms);
            self.push(|n| format!("{column} < ${n}"), Box::new(v));
        }
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(|p| p.as_ref()).collect()
    }
}

/// The columns a report adds up, in the order [`query_rows`] reads them.
const SUMMED: [&str; 8] = [
    "input",
    "output",
    "cache_creation",
    "cache_creation_5m",
    "cache_creation_1h",
    "cache_read",
    "reasoning",
    "cost_nanos",
];

/// A NUMERIC sum clamped to a BIGINT: exact below `i64::MAX`, saturating past it, like the
/// local ledger's sums.
fn clamped_sum(expr: &str) -> String {
    format!(
        "LEAST(GREATEST(COALESCE(SUM({expr}), 0), -9223372036854775808), 9223372036854775807)::bigint"
    )
}

fn query_rows(
    client: &mut Client,
    filter: &UsageFilter,
    group: TeamGroup,
) -> PgResult<Vec<UsageRow>> {
    let mut out: Vec<UsageRow> = Vec::new();
    for (_, row) in grouped(client, filter, group, None)? {
        // Days arrive in order, so the days of one week or month are adjacent.
        match out.last_mut() {
            Some(last) if last.key == row.key => last.absorb(&row),
            _ => out.push(row),
        }
    }
    if group == TeamGroup::Usage(UsageGroup::Total) && out.is_empty() {
        out.push(UsageRow::empty("total"));
    }
    Ok(out)
}

/// The column a dimension grouping reads.
fn dim_column(group: UsageGroup) -> &'static str {
    match group {
        UsageGroup::Model => "model",
        UsageGroup::Profile => "profile",
        UsageGroup::Agent => "agent",
        UsageGroup::Provider => "provider",
        _ => "''",
    }
}

/// One aggregation: `(by value or "", row keyed by the group)`, ordered by group then value.
fn grouped(
    client: &mut Client,
    filter: &UsageFilter,
    group: TeamGroup,
    by: Option<UsageGroup>,
) -> PgResult<Vec<(String, UsageRow)>> {
    let aligned = |t: Option<DateTime<Utc>>| {
        t.is_none_or(|t| t.timestamp_millis().rem_euclid(BUCKET_MS) == 0)
    };
    let session = group == TeamGroup::Usage(UsageGroup::Session);
    let rollup =
        !session && filter.session.is_none() && aligned(filter.since) && aligned(filter.until);
    // Only time matters (no dimension filter or split, a time grouping or the total): the small
    // rollup.
    let time_only = by.is_none()
        && filter.profile.is_none()
        && filter.agent.is_none()
        && filter.provider.is_none()
        && filter.model.is_none()
        && filter.models.is_empty()
        && matches!(
            group,
            TeamGroup::Usage(
                UsageGroup::Total | UsageGroup::Day | UsageGroup::Week | UsageGroup::Month
            )
        );
    let mut w = Where::default();
    w.dims(filter);
    let (table, column, unit, seconds, counts, cast) = if rollup {
        w.time(filter, "bucket", BUCKET_MS);
        (
            if time_only {
                "usage_rollup_time"
            } else {
                "usage_rollup"
            },
            "bucket",
            BUCKET_MS,
            format!("(bucket * {})", BUCKET_MS / 1000),
            format!("{}, {}", clamped_sum("events"), clamped_sum("priced")),
            "",
        )
    } else {
        w.time(filter, "ts_ms", 1);
        (
            "usage_events",
            "ts_ms",
            1,
            "(ts_ms / 1000)".to_string(),
            "count(*), count(cost_nanos)".to_string(),
            "::numeric",
        )
    };
    let sums = SUMMED
        .iter()
        .map(|c| clamped_sum(&format!("{c}{cast}")))
        .collect::<Vec<_>>()
        .join(", ");
    let by_day = matches!(
        group,
        TeamGroup::Usage(UsageGroup::Day | UsageGroup::Week | UsageGroup::Month)
    );
    let key = if by_day {
        let (from, to) = time_range(client, filter, table, column, unit)?;
        let offset = offset_sql(&filter.time_zone, &seconds, from, to);
        let local = format!("({seconds} + {offset})");
        // Floor division: exact before the epoch too.
        format!("({local} - (({local} % 86400) + 86400) % 86400) / 86400")
    } else {
        match group {
            TeamGroup::Usage(UsageGroup::Session) => "coalesce(session_id, '')".into(),
            TeamGroup::Usage(UsageGroup::Total) => "'total'".into(),
            TeamGroup::Usage(g) => dim_column(g).into(),
            TeamGroup::Team(TeamOnlyGroup::User) => "user_name".into(),
            TeamGroup::Team(TeamOnlyGroup::Machine) => "machine".into(),
        }
    };
    let sub = by.map_or("''", dim_column);
    let total = key == "'total'" && by.is_none();
    let group_by = if total {
        ""
    } else {
        " GROUP BY 1, 2 ORDER BY 1, 2"
    };
    let sql = format!(
        "SELECT {key}, {sub}::text, {counts}, {sums} FROM {table}{}{group_by}",
        w.sql()
    );
    let rows = client.query(&sql, &w.refs())?;
    let label_group = match group {
        TeamGroup::Usage(g) => g,
        _ => UsageGroup::Total,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let key = if by_day {
            day_key(r.get::<_, i64>(0), label_group)
        } else {
            r.get::<_, String>(0)
        };
        let sub: String = r.get(1);
        let events = r.get::<_, i64>(2).max(0) as u64;
        let priced = r.get::<_, i64>(3).max(0) as u64;
        let sum = |k: usize| r.get::<_, i64>(4 + k);
        let tokens = |k: usize| sum(k).max(0) as u64;
        let mut row = UsageRow {
            key,
            events,
            input: tokens(0),
            output: tokens(1),
            cache_creation: tokens(2),
            cache_creation_5m: tokens(3),
            cache_creation_1h: tokens(4),
            cache_read: tokens(5),
            reasoning: tokens(6),
            cost_nanos: sum(7),
            priced_events: priced,
            unpriced_events: events.saturating_sub(priced),
            ..UsageRow::default()
        };
        row.finish();
        out.push((sub, row));
    }
    Ok(out)
}

/// `(key values, first event ms, last event ms, usage)`: one group of [`event_cells`].
type EventCell = (Vec<String>, i64, i64, UsageRow);

/// Usage per distinct value of `keys` (SQL expressions yielding text) over the raw events, with
/// each group's first and last event time: `(keys, first_ms, last_ms, row)`, ordered by keys.
fn event_cells(
    client: &mut Client,
    filter: &UsageFilter,
    keys: &[&str],
) -> PgResult<Vec<EventCell>> {
    let mut w = Where::default();
    w.dims(filter);
    w.time(filter, "ts_ms", 1);
    let sums = SUMMED
        .iter()
        .map(|c| clamped_sum(&format!("{c}::numeric")))
        .collect::<Vec<_>>()
        .join(", ");
    let n = keys.len();
    let positions = (1..=n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {}, min(ts_ms), max(ts_ms), count(*), count(cost_nanos), {sums} FROM usage_events{} \
         GROUP BY {positions} ORDER BY {positions}",
        keys.join(", "),
        w.sql()
    );
    let rows = client.query(&sql, &w.refs())?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let values: Vec<String> = (0..n).map(|i| r.get::<_, String>(i)).collect();
        let events = r.get::<_, i64>(n + 2).max(0) as u64;
        let priced = r.get::<_, i64>(n + 3).max(0) as u64;
        let sum = |k: usize| r.get::<_, i64>(n + 4 + k);
        let tokens = |k: usize| sum(k).max(0) as u64;
        let mut row = UsageRow {
            key: values.first().cloned().unwrap_or_default(),
            events,
            input: tokens(0),
            output: tokens(1),
            cache_creation: tokens(2),
            cache_creation_5m: tokens(3),
            cache_creation_1h: tokens(4),
            cache_read: tokens(5),
            reasoning: tokens(6),
            cost_nanos: sum(7),
            priced_events: priced,
            unpriced_events: events.saturating_sub(priced),
            ..UsageRow::default()
        };
        row.finish();
        out.push((values, r.get(n), r.get(n + 1), row));
    }
    Ok(out)
}

/// The Unix seconds a grouped query covers: its bounds, or else the oldest and newest rows.
fn time_range(
    client: &mut Client,
    filter: &UsageFilter,
    table: &str,
    column: &str,
    unit_ms: i64,
) -> PgResult<(i64, i64)> {
    let (min, max): (Option<i64>, Option<i64>) = if filter.since.is_some() && filter.until.is_some()
    {
        (None, None)
    } else {
        let r = client.query_one(
            &format!("SELECT min({column}), max({column}) FROM {table}"),
            &[],
        )?;
        (r.get(0), r.get(1))
    };
    let to_s = |v: i64| v.saturating_mul(unit_ms).div_euclid(1000);
    let from = filter
        .since
        .map(|t| t.timestamp())
        .or(min.map(to_s))
        .unwrap_or(0);
    let to = filter
        .until
        .map(|t| t.timestamp())
        .or(max.map(|m| to_s(m.saturating_add(1))))
        .unwrap_or(from);
    Ok((from, to.max(from)))
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A schema name ringlet can quote safely: ASCII letters, digits and `_`, not starting with a
/// digit, at most 63 bytes (Postgres's identifier limit).
fn validate_schema(schema: &str) -> std::result::Result<(), String> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && !schema.starts_with(|c: char| c.is_ascii_digit())
        && schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "schema '{}' is not a plain identifier; use ASCII letters, digits and '_'",
            schema.escape_debug()
        ))
    }
}

/// The URL with any password removed, for messages; refuses what is not a Postgres URL.
pub(crate) fn redact_url(url: &str) -> Result<String> {
    let mut parsed = url::Url::parse(url).map_err(|e| {
        Error::InvalidInput(format!(
            "team ledger '{}' is not a URL ({e}); write it as postgres://user@host:5432/database",
            crate::error::shown(url)
        ))
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(Error::InvalidInput(format!(
            "team ledger '{}' is not a postgres:// URL; write it as postgres://user@host:5432/database",
            crate::error::shown(&redact_lossy(url))
        )));
    }
    // A URL that cannot carry a password (no host) has none to hide either.
    let _ = parsed.set_password(None);
    Ok(parsed.to_string())
}

/// Drops everything between `://` and `@` but the user name, without parsing.
fn redact_lossy(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = url[s + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// A driver error in words, with the fix for the usual ones. Never includes the password: the
/// driver's messages do not carry it.
fn pg_message(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let fix = match code {
            "28P01" | "28000" => {
                "; store the team ledger's password in ringlet's credential store, or check the role in the URL"
            }
            "3D000" => "; create the database or fix its name in the URL",
            "42501" => {
                "; grant the role the permissions docs/team.md lists (CREATE on the schema for the first connection, then INSERT/SELECT/UPDATE)"
            }
            _ => "",
        };
        return format!("{} ({code}){fix}", db.message());
    }
    // The driver's own text is generic ("error performing TLS handshake"); the cause says which
    // certificate or name failed.
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.contains("TLS handshake") || text.contains("certificate") {
        format!(
            "{text}; the server's certificate must be valid for the URL's host and signed by a \
             public CA or the one in [team] ca-file (or, on a trusted network only, add \
             sslmode=disable to the URL)"
        )
    } else if e.is_closed() || text.contains("error connecting") || text.contains("timed out") {
        format!("{text}; check that the server in the URL is reachable and accepting connections")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://alice:s3cret@db.example:5432/team").expect("url"),
            "postgres://alice@db.example:5432/team"
        );
        let err = redact_url("mysql://alice:s3cret@db/team").expect_err("not postgres");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
    }

    #[test]
    fn schema_names_must_be_plain_identifiers() {
        assert!(validate_schema("ringlet_team").is_ok());
        for bad in ["", "1x", "a-b", "a\"b", "a;drop"] {
            assert!(validate_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn team_groups_parse_local_names_and_user_machine() {
        assert_eq!(TeamGroup::parse("user").ok(), Some(TeamGroup::USER));
        assert_eq!(
            TeamGroup::parse("day").ok(),
            Some(TeamGroup::Usage(UsageGroup::Day))
        );
        let err = TeamGroup::parse("team").expect_err("unknown");
        assert!(err.to_string().contains("machine"), "{err}");
    }

    #[test]
    fn repeated_keys_start_a_new_chunk() {
        let ev = |k: &str| crate::usage::tests::event(k, "m", 1, 0);
        let events = vec![ev("a"), ev("b"), ev("a"), ev("c"), ev("c")];
        let lens: Vec<usize> = unique_chunks(&events).iter().map(|c| c.len()).collect();
        assert_eq!(lens, vec![2, 2, 1]);
    }
}
