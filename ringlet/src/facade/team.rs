//! The team ledger through the facade (docs/team.md): pushing, its status, team reports and the
//! ledger's password. Feature `team`.

use std::io::ErrorKind as IoErrorKind;

use super::Ringlet;
use super::usage::{first_row, group_name, grouped_lines, per_profile};
use crate::credentials::{CredentialKey, Secret};
use crate::error::{Error, Result};
use crate::facade::usage::{USAGE_REPORT_VERSION, UsageLine, UsageQuery, UsageReport};
use crate::team::{
    DEFAULT_PUSH_BATCH, DEFAULT_TEAM_SCHEMA, PgUsageStore, PushReport, PushStatus, TeamConnect,
    TeamGroup, default_user, machine_id, push, push_status,
};
use crate::usage::{SqliteUsageStore, UsageGroup, UsageStore};

/// Where the team ledger's password is kept in the credential store: `team/ledger`.
pub const TEAM_PASSWORD_KEY: (&str, &str) = ("team", "ledger");

fn password_key() -> CredentialKey {
    CredentialKey::new(TEAM_PASSWORD_KEY.0, TEAM_PASSWORD_KEY.1)
}

impl Ringlet {
    /// Whether `[team] ledger` is set.
    pub fn team_configured(&self) -> bool {
        self.inner.config.team.ledger.is_some()
    }

    /// Whether a push should follow each run: a team ledger is set and `[team] push-after-run`
    /// is not `false`.
    pub fn push_after_run(&self) -> bool {
        self.team_configured() && self.inner.config.team.push_after_run != Some(false)
    }

    /// How this machine connects to the team ledger: the URL from `config.toml`, the password
    /// from the credential store, the machine id (made on first use) and the user name.
    pub fn team_connect(&self) -> Result<TeamConnect> {
        let team = &self.inner.config.team;
        let config_file = self.paths().config_file();
        let Some(url) = team.ledger.clone() else {
            return Err(Error::InvalidInput(format!(
                "no team ledger is configured; add [team] ledger = \"postgres://user@host:5432/database\" to {}",
                config_file.display()
            )));
        };
        let parsed = url::Url::parse(&url).ok();
        if parsed.as_ref().is_some_and(|u| u.password().is_some()) {
            return Err(Error::Parse {
                path: config_file,
                line: None,
                message: "[team] ledger holds a password; remove it from the URL and store it in the credential store instead (docs/team.md)".into(),
            });
        }
        // Checks the scheme and shape before anything connects.
        crate::team::redact_url(&url)?;
        Ok(TeamConnect {
            url,
            password: self.credentials().get(&password_key())?,
            schema: team
                .schema
                .clone()
                .unwrap_or_else(|| DEFAULT_TEAM_SCHEMA.into()),
            machine: machine_id(self.paths())?,
            user: team.user.clone().unwrap_or_else(default_user),
            ca_file: team
                .ca_file
                .as_ref()
                .map(|f| self.paths().config_dir().join(f)),
        })
    }

    /// Stores the team ledger's password in the credential store (never in `config.toml`).
    pub fn set_team_password(&self, password: &Secret) -> Result<()> {
        if password.is_empty() {
            return Err(Error::InvalidInput(
                "the team ledger password is empty; give the Postgres role's password".into(),
            ));
        }
        self.credentials().set(&password_key(), password)
    }

    /// Forgets the team ledger's password; `false` when none was stored.
    pub fn remove_team_password(&self) -> Result<bool> {
        self.credentials().delete(&password_key())
    }

    /// Connects to the team ledger (and migrates its schema when needed).
    pub fn team_store(&self) -> Result<PgUsageStore> {
        PgUsageStore::connect(&self.team_connect()?)
    }

    /// Pushes this machine's new and changed usage events to the team ledger, `batch` events
    /// per Postgres transaction. Waits for another push of this machine to finish first.
    /// Idempotent and resumable: see [`push`].
    pub fn push_usage(&self, batch: Option<usize>) -> Result<PushReport> {
        let _lock = crate::fsio::open_locked(&self.push_lock()?)?;
        self.push_locked(batch)
    }

    /// Like [`push_usage`](Self::push_usage), but returns `None` at once when another push of
    /// this machine is running (the background push after a run: that push sends these events
    /// too, or the next one does).
    pub fn push_usage_if_idle(&self) -> Result<Option<PushReport>> {
        let path = self.push_lock()?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("opening", &path, e))?;
        match file.try_lock() {
            Ok(()) => self.push_locked(None).map(Some),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("locking", &path, e)),
        }
    }

    fn push_lock(&self) -> Result<std::path::PathBuf> {
        let dir = self.paths().data_dir();
        match std::fs::create_dir_all(dir) {
            Err(e) if e.kind() != IoErrorKind::AlreadyExists => {
                return Err(Error::io("creating", dir, e));
            }
            _ => {}
        }
        Ok(crate::team::push_lock_path(dir))
    }

    fn push_locked(&self, batch: Option<usize>) -> Result<PushReport> {
        let connect = self.team_connect()?;
        let local = SqliteUsageStore::open(SqliteUsageStore::default_path(self.paths()))?;
        let team = match PgUsageStore::connect(&connect) {
            Ok(t) => t,
            Err(e) => {
                crate::team::record_push_error(&local, &connect, &e);
                return Err(e);
            }
        };
        let mut report = push(
            &local,
            &team,
            &connect.schema,
            batch.unwrap_or(DEFAULT_PUSH_BATCH),
        )?;
        report.team_alerts = self.check_team_cost_hooks(&team, chrono::Utc::now())?.len() as u64;
        Ok(report)
    }

    /// Fires the team-scoped `cost-threshold` hooks whose threshold the team's spend in `team`
    /// crossed this period and that no machine has fired yet (the claim is in Postgres). A push
    /// runs this after sending, so the alert comes from whichever machine pushed the spend over.
    pub fn check_team_cost_hooks(
        &self,
        team: &PgUsageStore,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::hooks::FireReport>> {
        let rules = self.hooks()?;
        let firings = crate::team::check_team_cost_thresholds(team, &rules, now)?;
        Ok(self.fire_all(firings))
    }

    /// What is waiting to be pushed, and how the last push went. Local only: works offline.
    pub fn push_status(&self) -> Result<PushStatus> {
        let connect = self.team_connect()?;
        let local = SqliteUsageStore::open(SqliteUsageStore::default_path(self.paths()))?;
        push_status(
            &local,
            &crate::team::redact_url(&connect.url)?,
            &connect.schema,
            &connect.machine,
            &connect.user,
        )
    }

    /// A usage report over the whole team, from the team ledger: the same rows and JSON as
    /// [`usage`](Self::usage), and `group` may also be [`TeamGroup::USER`] or
    /// [`TeamGroup::MACHINE`] (it overrides `query.group`).
    pub fn team_usage(&self, query: &UsageQuery, group: Option<TeamGroup>) -> Result<UsageReport> {
        let store = self.team_store()?;
        let filter = self.report_filter(query, &store)?;
        let group = group.or(query.group.map(TeamGroup::Usage));
        let (rows, total) = match group {
            None => (
                per_profile(&store, &filter)?,
                first_row(store.query(&filter, UsageGroup::Total)?),
            ),
            Some(TeamGroup::Usage(g)) => grouped_lines(&store, &filter, g, query.breakdown)?,
            Some(g) => {
                let rows = store
                    .team_query(&filter, g)?
                    .into_iter()
                    .map(|usage| UsageLine {
                        profile: None,
                        agent: None,
                        provider: None,
                        date: None,
                        week: None,
                        month: None,
                        session_id: None,
                        model: None,
                        models: Vec::new(),
                        breakdown: Vec::new(),
                        usage,
                    })
                    .collect();
                (rows, first_row(store.query(&filter, UsageGroup::Total)?))
            }
        };
        Ok(UsageReport {
            version: USAGE_REPORT_VERSION,
            group: match group {
                None => "profile".to_string(),
                Some(TeamGroup::Usage(g)) => group_name(g),
                Some(TeamGroup::Team(g)) => serde_json::to_value(g)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            },
            breakdown: query.breakdown.map(group_name),
            since: filter.since,
            until: filter.until,
            timezone: filter.time_zone.name().to_string(),
            rows,
            total,
        })
    }
}
