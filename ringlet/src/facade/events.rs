//! Live events: what happened in a facade (profiles created or deleted, runs started and
//! ended, usage recorded, hooks fired, warnings), pushed to every subscriber as it happens, so
//! a long-lived process (the server's event stream, an editor's tree view) never polls files.
//!
//! Delivery is in-process and per facade (every clone of a [`Ringlet`] shares it); another
//! process's changes are not seen. Each subscriber has a bounded queue: a subscriber that stops
//! reading loses events (counted in [`Subscription::missed`]) instead of slowing the facade or
//! growing its memory — the run path must never wait on a reader.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
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
    },
    /// An agent ended.
    RunEnded {
        /// The profile.
        alias: String,
        /// How it ended.
        outcome: RunOutcome,
    },
    /// Usage events went into the ledger.
    UsageRecorded {
        /// The profile they belong to.
        profile: String,
        /// How many new events.
        events: u64,
    },
    /// A hook rule fired.
    HookFired {
        /// The hook event (`pre-tool-use`, `stop`, …).
        event: String,
        /// The rule's id.
        hook: String,
        /// Whether its action succeeded.
        ok: bool,
    },
    /// Something worth telling the user (the same as [`Ringlet::warnings`] hands out).
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
/// and ends only when the facade is gone; [`Subscription::recv_timeout`] and
/// [`Subscription::try_recv`] do not block forever. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    rx: Receiver<Event>,
    missed: Arc<AtomicU64>,
}

impl Subscription {
    /// The next event, waiting at most `timeout`; `None` when none came.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next event if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
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
            assert_eq!(sub.try_recv(), Some(created("one")));
            assert_eq!(sub.try_recv(), Some(created("two")));
            assert_eq!(sub.try_recv(), None);
        }
    }

    #[test]
    fn a_subscriber_that_stops_reading_loses_events_and_blocks_nobody() {
        let bus = EventBus::default();
        let slow = bus.subscribe();
        let fast = bus.subscribe();
        for i in 0..EVENT_QUEUE + 10 {
            bus.emit(created(&i.to_string()));
            assert_eq!(fast.try_recv(), Some(created(&i.to_string())));
        }
        assert_eq!(slow.missed(), 10);
        assert_eq!(slow.try_recv(), Some(created("0")));
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
