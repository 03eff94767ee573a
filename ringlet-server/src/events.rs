//! Live events: `GET /api/events`, Server-Sent Events carrying
//!
//! - the facade's own [`ringlet::Event`]s (what this server did: a profile created over HTTP,
//!   a hook fired), as the core serialises them (`{"type": "profile-created", "alias": …}`);
//! - what other processes did, seen by watching the data directory with inotify (no polling,
//!   no CPU while nothing changes): profiles created, changed or deleted by a CLI
//!   (`profile-created`, `profile-updated`, `profile-deleted`, the core's shapes), and runs
//!   started and ended anywhere (`run-started` / `run-ended` with the ledger's `run_id`, since
//!   another process's agent pid is not known here), read from the usage ledger when it changes;
//!   hook rules added or removed anywhere (`hooks-changed`, with the rules' directories: the
//!   global `<config>/hooks/` and each profile's `hooks/`), so the Hooks page follows the CLI.
//!
//! One hub thread owns the watcher and a snapshot of what it has reported, so a change made
//! through this server is reported once, whichever of its two paths (the facade's event, the
//! file system) arrives first. File-system events are coalesced for [`SETTLE`] before the
//! rescan, well inside the 1 s a subscriber may wait.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{Stream, StreamExt};
use notify::{RecursiveMode, Watcher};
use ringlet::{Event, HOOKS_DIR, Ringlet, UsageFilter};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::AppState;

/// How long file-system events are gathered before the directory is read again.
const SETTLE: Duration = Duration::from_millis(100);

/// How many events a slow subscriber may be behind before it is told it missed some.
const CHANNEL: usize = 1024;

/// How many recent runs the hub follows in the ledger.
const RUNS_FOLLOWED: u64 = 500;

/// One event on the wire: its `type` (the SSE event name) and its JSON.
#[derive(Debug, Clone)]
pub(crate) struct WireEvent {
    kind: String,
    data: String,
}

impl WireEvent {
    fn new(value: &Value) -> Self {
        Self {
            kind: value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("event")
                .to_string(),
            data: value.to_string(),
        }
    }
}

/// Fans events out to every `GET /api/events` subscriber.
#[derive(Debug)]
pub(crate) struct EventHub {
    tx: broadcast::Sender<WireEvent>,
}

enum Input {
    Core(Event),
    Fs,
}

impl EventHub {
    /// Subscribes to the facade, watches its data directory, and starts the hub thread. When
    /// the watch cannot be set up (no inotify instances left), other processes' changes are not
    /// reported and the server says so in its log; its own events still are.
    pub(crate) fn start(ringlet: &Ringlet) -> Self {
        let (tx, _) = broadcast::channel(CHANNEL);
        let (input_tx, input_rx) = channel::<Input>();
        let subscription = ringlet.subscribe();
        let core_tx = input_tx.clone();
        let spawned = std::thread::Builder::new()
            .name("ringlet-events".into())
            .spawn(move || {
                for event in subscription {
                    if core_tx.send(Input::Core(event)).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            crate::log::line(&format!("events: cannot start the event thread: {e}"));
        }
        let hub = Hub::new(ringlet.clone(), tx.clone(), input_tx);
        let spawned = std::thread::Builder::new()
            .name("ringlet-watch".into())
            .spawn(move || hub.run(input_rx));
        if let Err(e) = spawned {
            crate::log::line(&format!("events: cannot start the watch thread: {e}"));
        }
        Self { tx }
    }

    fn subscribe(&self) -> broadcast::Receiver<WireEvent> {
        self.tx.subscribe()
    }
}

struct Hub {
    ringlet: Ringlet,
    tx: broadcast::Sender<WireEvent>,
    watcher: Option<notify::RecommendedWatcher>,
    profiles_dir: PathBuf,
    /// Each profile's `profile.toml` mtime, as last reported.
    profiles: BTreeMap<String, Option<SystemTime>>,
    /// Per-profile directories being watched.
    watched: BTreeSet<String>,
    /// The runs followed: id → ended.
    runs: BTreeMap<i64, bool>,
    /// The global hook rules' directory.
    hooks_dir: PathBuf,
    /// Every hook rule file with its modification time, as last reported.
    hooks: BTreeMap<PathBuf, Option<SystemTime>>,
}

impl Hub {
    fn new(ringlet: Ringlet, tx: broadcast::Sender<WireEvent>, input: Sender<Input>) -> Self {
        let profiles_dir = ringlet.paths().profiles_dir();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if res.is_ok_and(|e| !e.kind.is_access()) {
                let _ = input.send(Input::Fs);
            }
        });
        let mut watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                crate::log::line(&format!(
                    "events: cannot watch the data directory ({e}); other processes' changes will not be reported"
                ));
                None
            }
        };
        let hooks_dir = ringlet.paths().config_dir().join(HOOKS_DIR);
        if let Some(w) = watcher.as_mut() {
            let _ = std::fs::create_dir_all(&profiles_dir);
            // Created so it can be watched: the first `hooks add` would otherwise go unseen.
            let _ = std::fs::create_dir_all(&hooks_dir);
            for dir in [
                ringlet.paths().data_dir(),
                profiles_dir.as_path(),
                hooks_dir.as_path(),
            ] {
                if let Err(e) = w.watch(dir, RecursiveMode::NonRecursive) {
                    crate::log::line(&format!("events: cannot watch {}: {e}", dir.display()));
                }
            }
        }
        let mut hub = Self {
            ringlet,
            tx,
            watcher,
            profiles_dir,
            profiles: BTreeMap::new(),
            watched: BTreeSet::new(),
            runs: BTreeMap::new(),
            hooks_dir,
            hooks: BTreeMap::new(),
        };
        // The starting point: nothing that exists now is news.
        hub.profiles = hub.scan_profiles();
        hub.watch_profiles();
        hub.watch_hook_dirs();
        hub.runs = hub.scan_runs().unwrap_or_default();
        hub.hooks = hub.scan_hooks();
        hub
    }

    fn run(mut self, input: Receiver<Input>) {
        let mut deadline: Option<Instant> = None;
        loop {
            let next = match deadline {
                Some(at) => input.recv_timeout(at.saturating_duration_since(Instant::now())),
                None => input.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(Input::Core(event)) => self.core_event(event),
                Ok(Input::Fs) => {
                    deadline.get_or_insert_with(|| Instant::now() + SETTLE);
                }
                Err(RecvTimeoutError::Timeout) => {
                    deadline = None;
                    self.rescan();
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn send(&self, value: Value) {
        // No subscriber is not an error.
        let _ = self.tx.send(WireEvent::new(&value));
    }

    /// A facade event: profile events update the snapshot and go out only when news to it.
    fn core_event(&mut self, event: Event) {
        let news = match &event {
            Event::ProfileCreated { alias } => {
                let mtime = self.mtime(alias);
                self.profiles.insert(alias.clone(), mtime).is_none()
            }
            Event::ProfileDeleted { alias } => self.profiles.remove(alias).is_some(),
            Event::ProfileUpdated { alias } => {
                let mtime = self.mtime(alias);
                self.profiles.insert(alias.clone(), mtime);
                true
            }
            // A run this server started is also in the ledger: reported once, by whichever
            // path sees it first (the facade's event carries the ledger's run id).
            Event::RunStarted {
                run_id: Some(id), ..
            } => self.runs.insert(*id, false).is_none(),
            Event::RunEnded {
                run_id: Some(id), ..
            } => self.runs.insert(*id, true) != Some(true),
            _ => true,
        };
        self.watch_profiles();
        if news && let Ok(value) = serde_json::to_value(&event) {
            self.send(value);
        }
    }

    fn mtime(&self, alias: &str) -> Option<SystemTime> {
        std::fs::metadata(self.profiles_dir.join(alias).join("profile.toml"))
            .and_then(|m| m.modified())
            .ok()
    }

    /// Every profile directory with its `profile.toml` (staging and trash start with '.').
    fn scan_profiles(&self) -> BTreeMap<String, Option<SystemTime>> {
        let Ok(entries) = std::fs::read_dir(&self.profiles_dir) else {
            return BTreeMap::new();
        };
        entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| !name.starts_with('.'))
            .filter_map(|name| {
                let manifest = self.profiles_dir.join(&name).join("profile.toml");
                let meta = std::fs::metadata(manifest).ok()?;
                Some((name, meta.modified().ok()))
            })
            .collect()
    }

    /// Watches each profile's own directory (not its HOME, where agents write constantly), for
    /// `profile.toml` edits.
    fn watch_profiles(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let wanted: BTreeSet<String> = self.profiles.keys().cloned().collect();
        for gone in self.watched.difference(&wanted) {
            let _ = watcher.unwatch(&self.profiles_dir.join(gone));
            let _ = watcher.unwatch(&self.profiles_dir.join(gone).join(HOOKS_DIR));
        }
        for new in wanted.difference(&self.watched) {
            let _ = watcher.watch(&self.profiles_dir.join(new), RecursiveMode::NonRecursive);
        }
        self.watched = wanted;
    }

    /// Watches each profile's `hooks/` directory that exists. A profile's first hook creates
    /// it, which the watch on the profile's directory sees, so this runs with each rescan (not
    /// on every facade event); re-adding an existing watch is harmless.
    fn watch_hook_dirs(&mut self) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        for alias in self.profiles.keys() {
            let hooks = self.profiles_dir.join(alias).join(HOOKS_DIR);
            if hooks.is_dir() {
                let _ = watcher.watch(&hooks, RecursiveMode::NonRecursive);
            }
        }
    }

    /// Every hook rule file (global and per profile) with its modification time.
    fn scan_hooks(&self) -> BTreeMap<PathBuf, Option<SystemTime>> {
        let mut dirs = vec![self.hooks_dir.clone()];
        dirs.extend(
            self.profiles
                .keys()
                .map(|alias| self.profiles_dir.join(alias).join(HOOKS_DIR)),
        );
        let mut out = BTreeMap::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let mtime = entry.metadata().and_then(|m| m.modified()).ok();
                    out.insert(path, mtime);
                }
            }
        }
        out
    }

    /// The runs in the ledger, when there is one (opening it would create it).
    fn scan_runs(&self) -> Option<BTreeMap<i64, bool>> {
        if !self.ringlet.usage_db_path().exists() {
            return None;
        }
        let store = self.ringlet.usage_store().ok()?;
        let runs = store.runs(&UsageFilter::new(), Some(RUNS_FOLLOWED)).ok()?;
        let mut out = BTreeMap::new();
        for run in runs {
            out.insert(run.id, run.ended_at.is_some());
        }
        Some(out)
    }

    fn rescan(&mut self) {
        let now = self.scan_profiles();
        for (alias, mtime) in &now {
            match self.profiles.get(alias) {
                None => self.send(json!({"type": "profile-created", "alias": alias})),
                Some(old) if old != mtime => {
                    self.send(json!({"type": "profile-updated", "alias": alias}));
                }
                Some(_) => {}
            }
        }
        for alias in self.profiles.keys() {
            if !now.contains_key(alias) {
                self.send(json!({"type": "profile-deleted", "alias": alias}));
            }
        }
        self.profiles = now;
        self.watch_profiles();
        self.watch_hook_dirs();
        self.rescan_runs();
        let hooks = self.scan_hooks();
        if hooks != self.hooks {
            self.hooks = hooks;
            self.send(json!({"type": "hooks-changed"}));
        }
    }

    fn rescan_runs(&mut self) {
        if !self.ringlet.usage_db_path().exists() {
            return;
        }
        let Ok(store) = self.ringlet.usage_store() else {
            return;
        };
        let Ok(mut runs) = store.runs(&UsageFilter::new(), Some(RUNS_FOLLOWED)) else {
            return;
        };
        runs.reverse();
        for run in runs {
            let ended = run.ended_at.is_some();
            let known = self.runs.insert(run.id, ended);
            if known.is_none() {
                self.send(json!({
                    "type": "run-started",
                    "alias": run.profile,
                    "agent": run.agent,
                    "provider": run.provider,
                    "run_id": run.id,
                    "started_at": run.started_at,
                }));
            }
            if ended && known != Some(true) {
                self.send(json!({
                    "type": "run-ended",
                    "alias": run.profile,
                    "run_id": run.id,
                    "started_at": run.started_at,
                    "ended_at": run.ended_at,
                    "duration_ms": run.duration_ms,
                    "exit_code": run.exit_code,
                }));
            }
        }
        // Forget the oldest beyond what is followed.
        while self.runs.len() > RUNS_FOLLOWED as usize * 2 {
            self.runs.pop_first();
        }
    }
}

/// Live events as Server-Sent Events: each event's `type` is the SSE event name, its JSON the
/// data. The first event is `ready`. A subscriber too slow to keep up gets a `missed` event with how many it lost.
#[utoipa::path(get, path = "/api/events", tag = "events",
    responses((status = 200, description = "A stream of events", content_type = "text/event-stream", body = String)))]
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.inner.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(e) => SseEvent::default().event(e.kind).data(e.data),
            Err(broadcast::error::RecvError::Lagged(n)) => SseEvent::default()
                .event("missed")
                .data(json!({"type": "missed", "events": n}).to_string()),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    // `ready` first: the subscription exists from here on, so a client that waits for it misses
    // nothing it does afterwards.
    let ready = SseEvent::default()
        .event("ready")
        .data(json!({"type": "ready"}).to_string());
    let stream = futures_util::stream::once(async move { Ok(ready) }).chain(stream);
    // A comment now and then keeps proxies from closing an idle stream.
    Sse::new(stream).keep_alive(KeepAlive::default())
}
