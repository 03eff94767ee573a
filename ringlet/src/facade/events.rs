//! Live events: what happened in a facade (profiles created or deleted, runs started and
//! ended, usage recorded, hooks fired, warnings), pushed to every subscriber as it happens, so
//! a long-lived process (the server's event stream, an editor's tree view) never polls files.
//!
//! Delivery is in-process and per facade (every clone of a [`Ringlet`] shares it); another
//! process's changes are not seen. Each subscriber has a bounded queue: a subscriber that stops
//! reading loses events (counted in [`Subscription::missed`]) instead of slowing the facade or
//! growing its memory — the run path must never wait on a reader.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Ringlet;
use crate::launch::RunOutcome;
use crate::warning::Warning;

/// How many undelivered events a subscriber may have before new ones are dropped for it.
pub const EVENT_QUEUE: usize = 1024;

/// Something that happened. Serialises as an object tagged by `type` (`profile-created`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Event {
    /// A profile was created.
    ProfileCreated {
        /// Its alias.
        alias: String,
    },
    /// A profile's settings changed.
    ProfileUpdated {
        /// Its alias.
        alias: String,
    },
    /// A profile was deleted.
    ProfileDeleted {
        /// Its alias.
        alias: String,
    },
    /// An agent started for a profile.
    RunStarted {
        /// The profile.
        alias: String,
        /// The agent's process id.
        pid: u32,
        /// When it started.
        started_at: DateTime<Utc>,
        /// The run's id in the usage ledger (`None` when the ledger could not be reached): what
        /// links this run to a server's terminal session and to `/api/events`' other reports.
        run_id: Option<i64>,
    },
    /// An agent ended.
    RunEnded {
        /// The profile.
        alias: String,
        /// How it ended.
        outcome: RunOutcome,
        /// The run's id in the usage ledger, as in [`Event::RunStarted`].
        run_id: Option<i64>,
    },
    /// Usage went into the ledger: after a run's ingestion, [`Ringlet::sync_usage`] (one per
    /// profile with something new) and [`Ringlet::import_usage`]. Not sent when nothing new
    /// was read.
    UsageRecorded {
        /// The profile it belongs to.
        profile: String,
        /// The profile's agent.
        agent: String,
        /// How many new events.
        events: u64,
        /// Stored events replaced by a better copy.
        replaced: u64,
        /// Tokens the new events added to the profile's total.
        tokens: u64,
        /// What they added to the profile's cost, in US dollars (priced events only).
        cost_usd: f64,
        /// How many of them have no price (so the true cost is higher).
        unpriced_events: u64,
    },
    /// A hook rule ran: a gate deciding a tool call, or a non-gating hook fired by a run's
    /// start or stop, an agent's hook call or a scheduled check. Only firings in this process
    /// are seen: an agent's hook calls run `<hook program> hooks dispatch` in a process of
    /// their own, whose facade has no subscribers; the server watches the data directory.
    HookFired {
        /// The hook event (`pre-tool-use`, `stop`, …).
        event: String,
        /// The rule's id.
        hook: String,
        /// Whether it ran without an error (a gate that denied by its verdict did).
        ok: bool,
        /// What happened: `exit 0`, `HTTP 200`, a gate's reason for denying, …
        detail: String,
        /// For a `pre-tool-use` gate, whether it let the tool call through; `None` for every
        /// other event.
        allowed: Option<bool>,
    },
    /// Something worth telling the user, as it is recorded (the call that produced it also
    /// gets it from [`Ringlet::take_warnings`]).
    Warning(Warning),
}

/// The subscribers of one facade.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventBus(Arc<Mutex<Vec<Subscriber>>>);

#[derive(Debug)]
struct Subscriber {
    tx: SyncSender<Event>,
    missed: Arc<AtomicU64>,
}

impl EventBus {
    /// Hands `event` to every subscriber without waiting: a full queue drops it for that
    /// subscriber, a dropped [`Subscription`] is forgotten.
    pub(crate) fn emit(&self, event: Event) {
        let mut subs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if subs.is_empty() {
            return;
        }
        subs.retain(|s| match s.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                s.missed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    fn has_subscribers(&self) -> bool {
        !self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    pub(crate) fn subscribe(&self) -> Subscription {
        let (tx, rx) = sync_channel(EVENT_QUEUE);
        let missed = Arc::new(AtomicU64::new(0));
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Subscriber {
                tx,
                missed: Arc::clone(&missed),
            });
        Subscription { rx, missed }
    }
}

/// A stream of [`Event`]s from the moment of subscribing. Iterating blocks for the next event
/// and ends when the facade (every clone of it) is gone; [`Subscription::recv_timeout`] and
/// [`Subscription::try_recv`] do not block forever and tell "no event yet" from "ended", so a
/// polling loop can stop instead of spinning. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<Event>,
    missed: Arc<AtomicU64>,
}

impl Subscription {
    /// The next event, waiting at most `timeout`: `Err(Timeout)` when none came,
    /// `Err(Disconnected)` when the facade is gone and none will.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Event, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// The next event if one is waiting: `Err(Empty)` when none is, `Err(Disconnected)` when
    /// the facade is gone and none will come.
    pub fn try_recv(&self) -> Result<Event, TryRecvError> {
        self.rx.try_recv()
    }

    /// How many events were dropped because this subscriber's queue was full.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
}

impl Iterator for Subscription {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.rx.recv().ok()
    }
}

impl Ringlet {
    /// Subscribes to this facade's [`Event`]s (shared by all its clones), from now on.
    pub fn subscribe(&self) -> Subscription {
        self.inner.events.subscribe()
    }

    /// Whether anyone listens: work done only for an event is skipped otherwise.
    pub(crate) fn has_subscribers(&self) -> bool {
        self.inner.events.has_subscribers()
    }

    /// Tells every subscriber.
    pub(crate) fn emit(&self, event: Event) {
        self.inner.events.emit(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(alias: &str) -> Event {
        Event::ProfileCreated {
            alias: alias.into(),
        }
    }

    #[test]
    fn every_subscriber_gets_each_event_in_order() {
        let bus = EventBus::default();
        let a = bus.subscribe();
        let b = bus.subscribe();
        bus.emit(created("one"));
        bus.emit(created("two"));
        for sub in [&a, &b] {
            assert_eq!(sub.try_recv().ok(), Some(created("one")));
            assert_eq!(sub.try_recv().ok(), Some(created("two")));
            assert_eq!(sub.try_recv().ok(), None);
        }
    }

    #[test]
    fn a_subscriber_that_stops_reading_loses_events_and_blocks_nobody() {
        let bus = EventBus::default();
        let slow = bus.subscribe();
        let fast = bus.subscribe();
        for i in 0..EVENT_QUEUE + 10 {
            bus.emit(created(&i.to_string()));
            assert_eq!(fast.try_recv().ok(), Some(created(&i.to_string())));
        }
        assert_eq!(slow.missed(), 10);
        assert_eq!(slow.try_recv().ok(), Some(created("0")));
        assert_eq!(fast.missed(), 0);
    }

    #[test]
    fn a_dropped_subscription_is_forgotten() {
        let bus = EventBus::default();
        drop(bus.subscribe());
        bus.emit(created("x"));
        assert!(bus.0.lock().expect("lock").is_empty());
    }

    #[test]
    fn events_serialise_tagged_by_type() {
        let json = serde_json::to_value(created("work")).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({"type": "profile-created", "alias": "work"})
        );
    }
}

/// What each facade call sends, and that warnings stay with the thread whose call produced
/// them.
#[cfg(test)]
mod facade_tests {
    use std::path::Path;
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::credentials::MemoryCredentialStore;
    use crate::facade::{NewHook, NewProfile};
    use crate::launch::RunOptions;
    use crate::usage::SqliteUsageStore;

    const ROLLOUT: &str = ".codex/sessions/2026/12/03/rollout-2026-12-03T14-29-14-01a23c4f-38bd-7683-b768-948004c507c2.jsonl";

    fn sample(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/agent-logs")
            .join(name)
    }

    /// A facade with a codex profile `work` (no key needed) whose binary is `agent`.
    fn ringlet(dir: &Path, agent: Option<&Path>) -> Ringlet {
        let r = Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::new()))
            .usage_store(Arc::new(SqliteUsageStore::open_in_memory().expect("store")))
            .build()
            .expect("opens");
        let mut req = NewProfile::new("codex", "work", "ollama");
        if let Some(agent) = agent {
            req = req.binary(agent);
        }
        r.create_profile(&req, None).expect("profile");
        r
    }

    fn drain(sub: &Subscription) -> Vec<Event> {
        std::iter::from_fn(|| sub.try_recv().ok()).collect()
    }

    fn usage_of(events: &[Event]) -> Vec<&Event> {
        events
            .iter()
            .filter(|e| matches!(e, Event::UsageRecorded { .. }))
            .collect()
    }

    /// The event's counts and cost are what the ledger gained.
    fn assert_matches_ledger(r: &Ringlet, event: &Event) {
        let total = r
            .usage(&crate::UsageQuery::default())
            .expect("report")
            .total;
        let Event::UsageRecorded {
            profile,
            agent,
            events,
            replaced,
            tokens,
            cost_usd,
            unpriced_events,
        } = event
        else {
            panic!("not usage: {event:?}");
        };
        assert_eq!((profile.as_str(), agent.as_str()), ("work", "codex"));
        assert_eq!((*events, *replaced), (total.events, 0));
        assert!(*tokens > 0, "{event:?}");
        assert_eq!(*tokens, total.total_tokens);
        assert_eq!(*cost_usd, total.cost_usd);
        assert_eq!(*unpriced_events, total.unpriced_events);
    }

    /// A poll loop must be able to stop when nothing will ever come: once the facade is gone
    /// the subscription says so, instead of "no event yet" at once, forever.
    #[test]
    fn a_subscription_ends_when_the_facade_is_gone() {
        use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path(), None);
        let clone = r.clone();
        let mut sub = r.subscribe();
        drop(r);
        assert_eq!(
            sub.try_recv(),
            Err(TryRecvError::Empty),
            "a clone still lives"
        );
        assert_eq!(
            sub.recv_timeout(Duration::from_millis(10)),
            Err(RecvTimeoutError::Timeout)
        );
        clone.delete_profile("work").expect("delete");
        drop(clone);
        assert_eq!(
            sub.try_recv(),
            Ok(Event::ProfileDeleted {
                alias: "work".into()
            }),
            "what was sent before the end is still delivered"
        );
        assert_eq!(sub.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(
            sub.recv_timeout(Duration::from_secs(5)),
            Err(RecvTimeoutError::Disconnected)
        );
        assert_eq!(sub.next(), None, "iteration ends");
    }

    #[test]
    fn sync_tells_what_it_recorded_and_nothing_when_nothing_is_new() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path(), None);
        let home = r.profile_home("work").expect("home");
        let log = home.join(ROLLOUT);
        std::fs::create_dir_all(log.parent().expect("parent")).expect("mkdir");
        std::fs::copy(sample("codex-rollout.jsonl"), &log).expect("copy");
        let sub = r.subscribe();
        r.sync_usage().expect("sync");
        let events = drain(&sub);
        let usage = usage_of(&events);
        assert_eq!(usage.len(), 1, "{events:?}");
        assert_matches_ledger(&r, usage[0]);
        r.sync_usage().expect("sync again");
        assert!(usage_of(&drain(&sub)).is_empty(), "nothing new, no event");
    }

    /// A run sends started, the hooks it fired, the usage it logged, ended — and its warnings
    /// go to the caller.
    #[cfg(unix)]
    #[test]
    fn a_run_tells_its_start_hooks_usage_and_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let agent = dir.path().join("agent.sh");
        std::fs::write(
            &agent,
            format!(
                "#!/bin/sh\nmkdir -p \"$HOME/$(dirname {ROLLOUT})\"\ncp '{}' \"$HOME/{ROLLOUT}\"\nexit 3\n",
                sample("codex-rollout.jsonl").display()
            ),
        )
        .expect("script");
        let mut perms = std::fs::metadata(&agent).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&agent, perms).expect("chmod");
        let r = ringlet(dir.path(), Some(&agent));
        let hook = r
            .add_hook(&NewHook {
                profile: Some("work".into()),
                event: "start".into(),
                shell: Some("exit 0".into()),
                ..NewHook::default()
            })
            .expect("hook");
        let sub = r.subscribe();
        let outcome = r.run("work", &[], RunOptions::embedded()).expect("the run");
        assert_eq!(outcome.exit_code, 3);
        let events = drain(&sub);
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::RunStarted { .. } => "started",
                Event::HookFired { .. } => "hook",
                Event::UsageRecorded { .. } => "usage",
                Event::RunEnded { .. } => "ended",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["started", "hook", "usage", "ended"], "{events:?}");
        assert_eq!(
            events[1],
            Event::HookFired {
                event: "start".into(),
                hook: hook.rule.id.clone(),
                ok: true,
                detail: "started".into(),
                allowed: None,
            }
        );
        assert_matches_ledger(&r, &events[2]);
        assert!(
            matches!(&events[3], Event::RunEnded { alias, outcome, .. } if alias == "work" && outcome.exit_code == 3)
        );
    }

    #[test]
    fn gates_tell_each_verdict_and_denied_calls_fire_tool_use_hooks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path(), None);
        let add = |event: &str, rhai: Option<&str>, shell: Option<&str>| {
            r.add_hook(&NewHook {
                profile: Some("work".into()),
                event: event.into(),
                rhai_script: rhai.map(str::to_string),
                shell: shell.map(str::to_string),
                ..NewHook::default()
            })
            .expect("hook")
            .rule
            .id
        };
        // Two gates that allow, one that denies `rm`: which run depends on their order.
        add(
            "pre-tool-use",
            Some("fn on_pre_tool_use(ctx) { allow() }"),
            None,
        );
        let strict = add(
            "pre-tool-use",
            Some(
                r#"fn on_pre_tool_use(ctx) { if ctx.tool_input.contains("rm") { deny("no rm") } else { allow() } }"#,
            ),
            None,
        );
        add(
            "pre-tool-use",
            Some("fn on_pre_tool_use(ctx) { allow() }"),
            None,
        );
        let audit = add("tool-use", None, Some("exit 0"));
        let gate = |hook: &str, ok: bool, detail: &str, allowed: bool| Event::HookFired {
            event: "pre-tool-use".into(),
            hook: hook.into(),
            ok,
            detail: detail.into(),
            allowed: Some(allowed),
        };
        let sub = r.subscribe();

        let call = |command: &str| {
            r.dispatch_hook(
                "work",
                "pre-tool-use",
                &format!(r#"{{"tool_name":"Bash","tool_input":{{"command":"{command}"}}}}"#),
            )
        };
        // Gates run in the store's order, which is not the order they were added in.
        let order: Vec<String> = r
            .hooks_for("work")
            .expect("hooks")
            .into_iter()
            .filter(|e| e.rule.event == crate::HookEvent::PreToolUse)
            .map(|e| e.rule.id)
            .collect();
        assert_eq!(order.len(), 3);
        assert_eq!(call("ls").exit_code(), 0);
        let all_allowed: Vec<Event> = order
            .iter()
            .map(|id| gate(id, true, "allowed", true))
            .collect();
        assert_eq!(drain(&sub), all_allowed);
        assert_ne!(call("rm -rf /").exit_code(), 0);
        let mut denied: Vec<Event> = Vec::new();
        for id in &order {
            if *id == strict {
                denied.push(gate(id, true, "no rm", false));
                break;
            }
            denied.push(gate(id, true, "allowed", true));
        }
        denied.push(Event::HookFired {
            event: "tool-use".into(),
            hook: audit,
            ok: true,
            detail: "started".into(),
            allowed: None,
        });
        assert_eq!(drain(&sub), denied, "the gates after the deny never ran");
    }

    /// The server's case: one facade, concurrent calls on two threads; each takes exactly
    /// the warnings its own calls produced, while every warning reaches subscribers.
    #[test]
    fn concurrent_calls_take_only_their_own_warnings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path(), None);
        r.create_profile(&NewProfile::new("codex", "broken", "ollama"), None)
            .expect("profile");
        let manifest = r
            .profile_home("broken")
            .expect("home")
            .with_file_name("profile.toml");
        std::fs::write(&manifest, "agent = 3 4\n").expect("corrupt");
        let sub = r.subscribe();
        let barrier = Barrier::new(2);
        let (listing, single) = std::thread::scope(|s| {
            let listing = s.spawn(|| {
                barrier.wait();
                (0..20)
                    .map(|_| {
                        r.profiles().expect("listing");
                        r.take_warnings()
                    })
                    .collect::<Vec<_>>()
            });
            let single = s.spawn(|| {
                barrier.wait();
                (0..20)
                    .map(|_| {
                        r.profile("work").expect("one profile");
                        r.take_warnings()
                    })
                    .collect::<Vec<_>>()
            });
            (
                listing.join().expect("thread"),
                single.join().expect("thread"),
            )
        });
        for taken in &listing {
            assert_eq!(taken.len(), 1, "{taken:?}");
            assert_eq!(taken[0].code, "profile_unreadable");
        }
        assert!(single.iter().all(Vec::is_empty), "{single:?}");
        assert!(r.take_warnings().is_empty(), "this thread called nothing");
        let told = drain(&sub)
            .into_iter()
            .filter(|e| matches!(e, Event::Warning(w) if w.code == "profile_unreadable"))
            .count();
        assert_eq!(told, 20, "each call's warning is an event");
    }

    #[test]
    fn a_broken_manifest_stands_for_every_call() {
        let dir = tempfile::tempdir().expect("tempdir");
        let agents_d = dir.path().join("config").join("agents.d");
        std::fs::create_dir_all(&agents_d).expect("mkdir");
        std::fs::write(agents_d.join("typo.toml"), "id = [").expect("broken manifest");
        let r = ringlet(dir.path(), None);
        assert!(r.take_warnings().is_empty());
        for _ in 0..2 {
            let all = r.warnings();
            assert_eq!(all.len(), 1, "{all:?}");
            assert_eq!(all[0].code, "manifest");
            assert!(all[0].message.contains("typo.toml"), "{all:?}");
        }
        assert_eq!(r.standing_warnings(), r.warnings());
    }
}
