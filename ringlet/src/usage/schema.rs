//! The SQLite ledger's schema, as numbered migrations applied in order and recorded in
//! `PRAGMA user_version`. Never edit a released migration: append a new one.

/// Events are rolled up into buckets of this many milliseconds. Every real time zone offset is a
/// multiple of 15 minutes, so day boundaries in any zone fall on bucket boundaries and by-day
/// reports read the (small) rollup table instead of every event.
pub(crate) const BUCKET_MS: i64 = 900_000;

/// The coarser rollup's buckets: an hour. Zones whose offset is a whole number of hours (nearly
/// all) group days from it, with a quarter of the rows; billing blocks start on the hour.
pub(crate) const HOUR_MS: i64 = 3_600_000;

/// The migrations; `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3];

const V1: &str = r#"
CREATE TABLE origins (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL UNIQUE
);

CREATE TABLE usage_events (
    id INTEGER PRIMARY KEY,
    ts_ms INTEGER NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL,
    cache_creation_5m INTEGER NOT NULL,
    cache_creation_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_nanos INTEGER,
    cost_source TEXT NOT NULL,
    session_id TEXT,
    origin_id INTEGER NOT NULL REFERENCES origins(id),
    dedup_key TEXT NOT NULL UNIQUE,
    rank INTEGER NOT NULL
);
CREATE INDEX usage_events_time ON usage_events(ts_ms);
CREATE INDEX usage_events_session ON usage_events(session_id);

-- Per 15-minute bucket and dimension: kept exact by the triggers below, so that reports over
-- millions of events aggregate a few thousand rows.
CREATE TABLE usage_rollup (
    bucket INTEGER NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL,
    cache_creation_5m INTEGER NOT NULL,
    cache_creation_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    priced INTEGER NOT NULL,
    PRIMARY KEY (bucket, profile, agent, provider, model)
) WITHOUT ROWID;

CREATE TRIGGER usage_events_rollup_insert AFTER INSERT ON usage_events BEGIN
    INSERT INTO usage_rollup VALUES (
        new.ts_ms / 900000, new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL)
    ON CONFLICT (bucket, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced;
END;

CREATE TRIGGER usage_events_rollup_delete AFTER DELETE ON usage_events BEGIN
    UPDATE usage_rollup SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL)
    WHERE bucket = old.ts_ms / 900000 AND profile = old.profile AND agent = old.agent
        AND provider = old.provider AND model = old.model;
    DELETE FROM usage_rollup
    WHERE bucket = old.ts_ms / 900000 AND profile = old.profile AND agent = old.agent
        AND provider = old.provider AND model = old.model AND events = 0;
END;

CREATE TRIGGER usage_events_rollup_update AFTER UPDATE ON usage_events BEGIN
    UPDATE usage_rollup SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL)
    WHERE bucket = old.ts_ms / 900000 AND profile = old.profile AND agent = old.agent
        AND provider = old.provider AND model = old.model;
    DELETE FROM usage_rollup
    WHERE bucket = old.ts_ms / 900000 AND profile = old.profile AND agent = old.agent
        AND provider = old.provider AND model = old.model AND events = 0;
    INSERT INTO usage_rollup VALUES (
        new.ts_ms / 900000, new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL)
    ON CONFLICT (bucket, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced;
END;

CREATE TABLE import_state (
    path TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    dev INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    head_len INTEGER NOT NULL,
    head_hash INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    line INTEGER NOT NULL,
    context TEXT,
    updated_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE run_sessions (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    exit_code INTEGER,
    peak_rss_bytes INTEGER,
    cpu_user_ms INTEGER,
    cpu_system_ms INTEGER
);
CREATE INDEX run_sessions_started ON run_sessions(started_ms);
"#;

/// v2: rollups for the reports that v1 answered from every event, or from many more rows.
///
/// - `usage_rollup_hour`: per hour and dimension, with the first and last event time. Days in a
///   zone with a whole-hour offset group from it; billing blocks (which start on the hour and end
///   after five idle hours) are exact from it, since no gap inside an hour is that long.
/// - `usage_sessions`: per session and dimension, the same sums plus the first and last event
///   time (sessions without an id share the key `''`).
///
/// A deleted or replaced event that was a row's first or last looks the new one up among the
/// remaining events (by the time or session index). Backfill sums are split in halves like the
/// reports' (see sqlite.rs, `split_sum`): SQLite's `sum()` fails on an overflow, while `+` and `*`
/// turn it into a REAL, as the triggers' sums do.
const V2: &str = r#"
CREATE TABLE usage_rollup_hour (
    hour INTEGER NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL,
    cache_creation_5m INTEGER NOT NULL,
    cache_creation_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    priced INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (hour, profile, agent, provider, model)
) WITHOUT ROWID;

CREATE TABLE usage_sessions (
    session TEXT NOT NULL,
    profile TEXT NOT NULL,
    agent TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    events INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cache_creation INTEGER NOT NULL,
    cache_creation_5m INTEGER NOT NULL,
    cache_creation_1h INTEGER NOT NULL,
    cache_read INTEGER NOT NULL,
    reasoning INTEGER NOT NULL,
    cost_nanos INTEGER NOT NULL,
    priced INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    PRIMARY KEY (session, profile, agent, provider, model)
) WITHOUT ROWID;
CREATE INDEX usage_sessions_last ON usage_sessions(last_ms);

INSERT INTO usage_rollup_hour
SELECT ts_ms / 3600000, profile, agent, provider, model, count(*),
    sum(input >> 32) * 4294967296 + sum(input & 4294967295),
    sum(output >> 32) * 4294967296 + sum(output & 4294967295),
    sum(cache_creation >> 32) * 4294967296 + sum(cache_creation & 4294967295),
    sum(cache_creation_5m >> 32) * 4294967296 + sum(cache_creation_5m & 4294967295),
    sum(cache_creation_1h >> 32) * 4294967296 + sum(cache_creation_1h & 4294967295),
    sum(cache_read >> 32) * 4294967296 + sum(cache_read & 4294967295),
    sum(reasoning >> 32) * 4294967296 + sum(reasoning & 4294967295),
    sum(coalesce(cost_nanos, 0) >> 32) * 4294967296 + sum(coalesce(cost_nanos, 0) & 4294967295),
    count(cost_nanos), min(ts_ms), max(ts_ms)
FROM usage_events GROUP BY 1, 2, 3, 4, 5;

INSERT INTO usage_sessions
SELECT coalesce(session_id, ''), profile, agent, provider, model, count(*),
    sum(input >> 32) * 4294967296 + sum(input & 4294967295),
    sum(output >> 32) * 4294967296 + sum(output & 4294967295),
    sum(cache_creation >> 32) * 4294967296 + sum(cache_creation & 4294967295),
    sum(cache_creation_5m >> 32) * 4294967296 + sum(cache_creation_5m & 4294967295),
    sum(cache_creation_1h >> 32) * 4294967296 + sum(cache_creation_1h & 4294967295),
    sum(cache_read >> 32) * 4294967296 + sum(cache_read & 4294967295),
    sum(reasoning >> 32) * 4294967296 + sum(reasoning & 4294967295),
    sum(coalesce(cost_nanos, 0) >> 32) * 4294967296 + sum(coalesce(cost_nanos, 0) & 4294967295),
    count(cost_nanos), min(ts_ms), max(ts_ms)
FROM usage_events GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER usage_events_rollup2_insert AFTER INSERT ON usage_events BEGIN
    INSERT INTO usage_rollup_hour VALUES (
        new.ts_ms / 3600000, new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL,
        new.ts_ms, new.ts_ms)
    ON CONFLICT (hour, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced,
        first_ms = min(first_ms, excluded.first_ms),
        last_ms = max(last_ms, excluded.last_ms);
    INSERT INTO usage_sessions VALUES (
        coalesce(new.session_id, ''), new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL,
        new.ts_ms, new.ts_ms)
    ON CONFLICT (session, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced,
        first_ms = min(first_ms, excluded.first_ms),
        last_ms = max(last_ms, excluded.last_ms);
END;

CREATE TRIGGER usage_events_rollup2_delete AFTER DELETE ON usage_events BEGIN
    UPDATE usage_rollup_hour SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL),
        first_ms = CASE WHEN first_ms < old.ts_ms THEN first_ms ELSE coalesce(
            (SELECT min(e.ts_ms) FROM usage_events e WHERE e.ts_ms >= old.ts_ms / 3600000 * 3600000
                AND e.ts_ms < (old.ts_ms / 3600000 + 1) * 3600000 AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), first_ms) END,
        last_ms = CASE WHEN last_ms > old.ts_ms THEN last_ms ELSE coalesce(
            (SELECT max(e.ts_ms) FROM usage_events e WHERE e.ts_ms >= old.ts_ms / 3600000 * 3600000
                AND e.ts_ms < (old.ts_ms / 3600000 + 1) * 3600000 AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), last_ms) END
    WHERE hour = old.ts_ms / 3600000 AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model;
    DELETE FROM usage_rollup_hour WHERE hour = old.ts_ms / 3600000 AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model AND events = 0;
    UPDATE usage_sessions SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL),
        first_ms = CASE WHEN first_ms < old.ts_ms THEN first_ms ELSE coalesce(
            (SELECT min(e.ts_ms) FROM usage_events e WHERE e.session_id IS old.session_id AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), first_ms) END,
        last_ms = CASE WHEN last_ms > old.ts_ms THEN last_ms ELSE coalesce(
            (SELECT max(e.ts_ms) FROM usage_events e WHERE e.session_id IS old.session_id AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), last_ms) END
    WHERE session = coalesce(old.session_id, '') AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model;
    DELETE FROM usage_sessions WHERE session = coalesce(old.session_id, '') AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model AND events = 0;
END;

CREATE TRIGGER usage_events_rollup2_update AFTER UPDATE ON usage_events BEGIN
    UPDATE usage_rollup_hour SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL),
        first_ms = CASE WHEN first_ms < old.ts_ms THEN first_ms ELSE coalesce(
            (SELECT min(e.ts_ms) FROM usage_events e WHERE e.ts_ms >= old.ts_ms / 3600000 * 3600000
                AND e.ts_ms < (old.ts_ms / 3600000 + 1) * 3600000 AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), first_ms) END,
        last_ms = CASE WHEN last_ms > old.ts_ms THEN last_ms ELSE coalesce(
            (SELECT max(e.ts_ms) FROM usage_events e WHERE e.ts_ms >= old.ts_ms / 3600000 * 3600000
                AND e.ts_ms < (old.ts_ms / 3600000 + 1) * 3600000 AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), last_ms) END
    WHERE hour = old.ts_ms / 3600000 AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model;
    DELETE FROM usage_rollup_hour WHERE hour = old.ts_ms / 3600000 AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model AND events = 0;
    UPDATE usage_sessions SET
        events = events - 1,
        input = input - old.input,
        output = output - old.output,
        cache_creation = cache_creation - old.cache_creation,
        cache_creation_5m = cache_creation_5m - old.cache_creation_5m,
        cache_creation_1h = cache_creation_1h - old.cache_creation_1h,
        cache_read = cache_read - old.cache_read,
        reasoning = reasoning - old.reasoning,
        cost_nanos = cost_nanos - coalesce(old.cost_nanos, 0),
        priced = priced - (old.cost_nanos IS NOT NULL),
        first_ms = CASE WHEN first_ms < old.ts_ms THEN first_ms ELSE coalesce(
            (SELECT min(e.ts_ms) FROM usage_events e WHERE e.session_id IS old.session_id AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), first_ms) END,
        last_ms = CASE WHEN last_ms > old.ts_ms THEN last_ms ELSE coalesce(
            (SELECT max(e.ts_ms) FROM usage_events e WHERE e.session_id IS old.session_id AND e.profile = old.profile AND e.agent = old.agent
                AND e.provider = old.provider AND e.model = old.model), last_ms) END
    WHERE session = coalesce(old.session_id, '') AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model;
    DELETE FROM usage_sessions WHERE session = coalesce(old.session_id, '') AND profile = old.profile AND agent = old.agent AND provider = old.provider
        AND model = old.model AND events = 0;
    INSERT INTO usage_rollup_hour VALUES (
        new.ts_ms / 3600000, new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL,
        new.ts_ms, new.ts_ms)
    ON CONFLICT (hour, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced,
        first_ms = min(first_ms, excluded.first_ms),
        last_ms = max(last_ms, excluded.last_ms);
    INSERT INTO usage_sessions VALUES (
        coalesce(new.session_id, ''), new.profile, new.agent, new.provider, new.model, 1,
        new.input, new.output, new.cache_creation, new.cache_creation_5m, new.cache_creation_1h,
        new.cache_read, new.reasoning, coalesce(new.cost_nanos, 0), new.cost_nanos IS NOT NULL,
        new.ts_ms, new.ts_ms)
    ON CONFLICT (session, profile, agent, provider, model) DO UPDATE SET
        events = events + 1,
        input = input + excluded.input,
        output = output + excluded.output,
        cache_creation = cache_creation + excluded.cache_creation,
        cache_creation_5m = cache_creation_5m + excluded.cache_creation_5m,
        cache_creation_1h = cache_creation_1h + excluded.cache_creation_1h,
        cache_read = cache_read + excluded.cache_read,
        reasoning = reasoning + excluded.reasoning,
        cost_nanos = cost_nanos + excluded.cost_nanos,
        priced = priced + excluded.priced,
        first_ms = min(first_ms, excluded.first_ms),
        last_ms = max(last_ms, excluded.last_ms);
END;
"#;

/// v3: projects. Each event keeps the agent's working directory as its log records it
/// (`project`, NULL where it does not), and `usage_session_projects` lists the projects of each
/// session (`''` for events without one), so the session list shows them without reading the
/// events. Reports grouped or filtered by project read the events (the rollups have no
/// project). A replaced event adds its new project; a session keeps the projects it was ever
/// seen in.
const V3: &str = r#"
ALTER TABLE usage_events ADD COLUMN project TEXT;

CREATE TABLE usage_session_projects (
    session TEXT NOT NULL,
    project TEXT NOT NULL,
    PRIMARY KEY (session, project)
) WITHOUT ROWID;

CREATE TRIGGER usage_events_project_insert AFTER INSERT ON usage_events
WHEN new.project IS NOT NULL BEGIN
    INSERT OR IGNORE INTO usage_session_projects VALUES (coalesce(new.session_id, ''), new.project);
END;

CREATE TRIGGER usage_events_project_update AFTER UPDATE ON usage_events
WHEN new.project IS NOT NULL BEGIN
    INSERT OR IGNORE INTO usage_session_projects VALUES (coalesce(new.session_id, ''), new.project);
END;
"#;
