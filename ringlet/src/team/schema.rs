//! The team ledger's schema in Postgres, as numbered migrations recorded in
//! `ringlet_migrations`. Never edit a released migration: append a new one.
//!
//! Differences from the local SQLite ledger, and why:
//! - every event and run carries the `machine` that pushed it and its `user_name`; the dedup key
//!   is unique per `(machine, dedup_key)`, so two laptops that import copies of the same log
//!   (a shared home, a restored backup) are still two machines' events, and one machine's
//!   re-push is a no-op;
//! - the rollup is keyed by machine and user too (team reports group by them), and its sums are
//!   `NUMERIC`: exact past `i64::MAX`, where SQLite's cells turned REAL; reports clamp the sum;
//! - import positions are keyed by machine: they describe one machine's files and are never read
//!   across machines (the push never sends them; `record`/`commit_import` through this store
//!   directly keep them per machine).

/// The migrations; `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3];

const V1: &str = r#"
CREATE TABLE machines (
    machine TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_push TIMESTAMPTZ
);

CREATE TABLE usage_events (
    id BIGSERIAL PRIMARY KEY,
    machine TEXT NOT NULL,
    user_name TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input BIGINT NOT NULL,
    output BIGINT NOT NULL,
    cache_creation BIGINT NOT NULL,
    cache_creation_5m BIGINT NOT NULL,
    cache_creation_1h BIGINT NOT NULL,
    cache_read BIGINT NOT NULL,
    reasoning BIGINT NOT NULL,
    cost_nanos BIGINT,
    cost_source TEXT NOT NULL,
    session_id TEXT,
    origin TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    rank BIGINT NOT NULL,
    UNIQUE (machine, dedup_key)
);
CREATE INDEX usage_events_time ON usage_events (ts_ms);

-- Per 15-minute bucket and dimension, kept exact by the triggers below: a team report over
-- millions of events aggregates a few thousand rows.
CREATE TABLE usage_rollup (
    bucket BIGINT NOT NULL,
    machine TEXT NOT NULL,
    user_name TEXT NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events BIGINT NOT NULL,
    input NUMERIC NOT NULL,
    output NUMERIC NOT NULL,
    cache_creation NUMERIC NOT NULL,
    cache_creation_5m NUMERIC NOT NULL,
    cache_creation_1h NUMERIC NOT NULL,
    cache_read NUMERIC NOT NULL,
    reasoning NUMERIC NOT NULL,
    cost_nanos NUMERIC NOT NULL,
    priced BIGINT NOT NULL,
    PRIMARY KEY (bucket, machine, user_name, profile, agent, provider, model)
);

CREATE FUNCTION usage_rollup_add(r usage_events, sign INTEGER) RETURNS void AS $$
BEGIN
    INSERT INTO usage_rollup VALUES (
        r.ts_ms / 900000, r.machine, r.user_name, r.profile, r.agent, r.provider, r.model, sign,
        sign * r.input::numeric, sign * r.output::numeric, sign * r.cache_creation::numeric,
        sign * r.cache_creation_5m::numeric, sign * r.cache_creation_1h::numeric,
        sign * r.cache_read::numeric, sign * r.reasoning::numeric,
        sign * coalesce(r.cost_nanos, 0)::numeric,
        sign * (CASE WHEN r.cost_nanos IS NULL THEN 0 ELSE 1 END))
    ON CONFLICT (bucket, machine, user_name, profile, agent, provider, model) DO UPDATE SET
        events = usage_rollup.events + excluded.events,
        input = usage_rollup.input + excluded.input,
        output = usage_rollup.output + excluded.output,
        cache_creation = usage_rollup.cache_creation + excluded.cache_creation,
        cache_creation_5m = usage_rollup.cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = usage_rollup.cache_creation_1h + excluded.cache_creation_1h,
        cache_read = usage_rollup.cache_read + excluded.cache_read,
        reasoning = usage_rollup.reasoning + excluded.reasoning,
        cost_nanos = usage_rollup.cost_nanos + excluded.cost_nanos,
        priced = usage_rollup.priced + excluded.priced;
    IF sign < 0 THEN
        DELETE FROM usage_rollup
        WHERE bucket = r.ts_ms / 900000 AND machine = r.machine AND user_name = r.user_name
            AND profile = r.profile AND agent = r.agent AND provider = r.provider
            AND model = r.model AND events = 0;
    END IF;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT;

CREATE FUNCTION usage_events_rollup() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM usage_rollup_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM usage_rollup_add(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT;

CREATE TRIGGER usage_events_rollup AFTER INSERT OR UPDATE OR DELETE ON usage_events
    FOR EACH ROW EXECUTE FUNCTION usage_events_rollup();

CREATE TABLE import_state (
    machine TEXT NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    dev BIGINT NOT NULL,
    inode BIGINT NOT NULL,
    head_len BIGINT NOT NULL,
    head_hash BIGINT NOT NULL,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    "offset" BIGINT NOT NULL,
    line BIGINT NOT NULL,
    context TEXT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (machine, path)
);

CREATE TABLE run_sessions (
    id BIGSERIAL PRIMARY KEY,
    machine TEXT NOT NULL,
    user_name TEXT NOT NULL,
    local_id BIGINT,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT,
    started_ms BIGINT NOT NULL,
    ended_ms BIGINT,
    exit_code INTEGER,
    peak_rss_bytes BIGINT,
    cpu_user_ms BIGINT,
    cpu_system_ms BIGINT,
    UNIQUE (machine, local_id)
);
CREATE INDEX run_sessions_started ON run_sessions (started_ms);

-- Team alerts: a cost-threshold hook with `--scope team` claims (hook, period) here, once per
-- team; the first machine to insert the row fires.
CREATE TABLE fired_hooks (
    hook TEXT NOT NULL,
    period TEXT NOT NULL,
    machine TEXT NOT NULL,
    fired_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (hook, period)
);
"#;

/// A rollup by time alone, for the usual team report (`--by-day|week|month` or the total, no
/// filter): 96 rows a day whatever the team's size, where `usage_rollup` has one per bucket and
/// machine, user, profile, agent, provider and model (2.1M rows for 10M events over a year in
/// the benchmark, 1.6 s per by-day report; 55 ms from this one). Its rows are shared by every
/// machine, so pushes insert each batch in time order: concurrent pushes lock bucket rows in the
/// same order and wait for each other instead of deadlocking.
const V2: &str = r#"
CREATE TABLE usage_rollup_time (
    bucket BIGINT PRIMARY KEY,
    events BIGINT NOT NULL,
    input NUMERIC NOT NULL,
    output NUMERIC NOT NULL,
    cache_creation NUMERIC NOT NULL,
    cache_creation_5m NUMERIC NOT NULL,
    cache_creation_1h NUMERIC NOT NULL,
    cache_read NUMERIC NOT NULL,
    reasoning NUMERIC NOT NULL,
    cost_nanos NUMERIC NOT NULL,
    priced BIGINT NOT NULL
);

INSERT INTO usage_rollup_time
SELECT bucket, sum(events), sum(input), sum(output), sum(cache_creation), sum(cache_creation_5m),
    sum(cache_creation_1h), sum(cache_read), sum(reasoning), sum(cost_nanos), sum(priced)
FROM usage_rollup GROUP BY bucket;

CREATE OR REPLACE FUNCTION usage_rollup_add(r usage_events, sign INTEGER) RETURNS void AS $$
BEGIN
    INSERT INTO usage_rollup VALUES (
        r.ts_ms / 900000, r.machine, r.user_name, r.profile, r.agent, r.provider, r.model, sign,
        sign * r.input::numeric, sign * r.output::numeric, sign * r.cache_creation::numeric,
        sign * r.cache_creation_5m::numeric, sign * r.cache_creation_1h::numeric,
        sign * r.cache_read::numeric, sign * r.reasoning::numeric,
        sign * coalesce(r.cost_nanos, 0)::numeric,
        sign * (CASE WHEN r.cost_nanos IS NULL THEN 0 ELSE 1 END))
    ON CONFLICT (bucket, machine, user_name, profile, agent, provider, model) DO UPDATE SET
        events = usage_rollup.events + excluded.events,
        input = usage_rollup.input + excluded.input,
        output = usage_rollup.output + excluded.output,
        cache_creation = usage_rollup.cache_creation + excluded.cache_creation,
        cache_creation_5m = usage_rollup.cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = usage_rollup.cache_creation_1h + excluded.cache_creation_1h,
        cache_read = usage_rollup.cache_read + excluded.cache_read,
        reasoning = usage_rollup.reasoning + excluded.reasoning,
        cost_nanos = usage_rollup.cost_nanos + excluded.cost_nanos,
        priced = usage_rollup.priced + excluded.priced;
    INSERT INTO usage_rollup_time VALUES (
        r.ts_ms / 900000, sign,
        sign * r.input::numeric, sign * r.output::numeric, sign * r.cache_creation::numeric,
        sign * r.cache_creation_5m::numeric, sign * r.cache_creation_1h::numeric,
        sign * r.cache_read::numeric, sign * r.reasoning::numeric,
        sign * coalesce(r.cost_nanos, 0)::numeric,
        sign * (CASE WHEN r.cost_nanos IS NULL THEN 0 ELSE 1 END))
    ON CONFLICT (bucket) DO UPDATE SET
        events = usage_rollup_time.events + excluded.events,
        input = usage_rollup_time.input + excluded.input,
        output = usage_rollup_time.output + excluded.output,
        cache_creation = usage_rollup_time.cache_creation + excluded.cache_creation,
        cache_creation_5m = usage_rollup_time.cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = usage_rollup_time.cache_creation_1h + excluded.cache_creation_1h,
        cache_read = usage_rollup_time.cache_read + excluded.cache_read,
        reasoning = usage_rollup_time.reasoning + excluded.reasoning,
        cost_nanos = usage_rollup_time.cost_nanos + excluded.cost_nanos,
        priced = usage_rollup_time.priced + excluded.priced;
    IF sign < 0 THEN
        DELETE FROM usage_rollup
        WHERE bucket = r.ts_ms / 900000 AND machine = r.machine AND user_name = r.user_name
            AND profile = r.profile AND agent = r.agent AND provider = r.provider
            AND model = r.model AND events = 0;
        DELETE FROM usage_rollup_time WHERE bucket = r.ts_ms / 900000 AND events = 0;
    END IF;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT;
"#;

/// v3: each event's project (the agent's working directory, as its log records it), as in the
/// local ledger's v3. Reports by or filtered by project read the events.
const V3: &str = r#"
ALTER TABLE usage_events ADD COLUMN project TEXT;
"#;
