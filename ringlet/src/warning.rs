//! Warnings: things a frontend should tell the user that are not errors (the command still
//! works). The library never prints; it records them and the facade hands them out.
//!
//! A facade is shared by many callers at once (a server's requests, a binding's threads), so
//! a warning belongs to the call that produced it, not to the facade: it is recorded on the
//! calling thread, and [`crate::Ringlet::take_warnings`] hands that thread its own warnings
//! and forgets them. Two calls on two threads never see each other's. What holds for the
//! facade's whole life (a broken manifest found while building it) is kept apart, as
//! [`crate::Ringlet::standing_warnings`]. Every warning is also an
//! [`Event::Warning`](crate::Event::Warning) for subscribers.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::facade::{Event, EventBus};

/// One thing worth telling the user. `message` is a single line that says why and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// A stable identifier (`credentials_fallback`).
    pub code: String,
    /// One line: what happened, why, and how to change it.
    pub message: String,
}

/// How many warnings one thread keeps for callers that never take them; past it the oldest go.
/// A server thread that never asks must not grow without bound.
const THREAD_CAP: usize = 256;

thread_local! {
    /// The warnings recorded on this thread and not taken yet, each with its facade's id.
    static PENDING: RefCell<Vec<(u64, Warning)>> = const { RefCell::new(Vec::new()) };
}

/// Gives each facade its own id, so one thread using two facades keeps their warnings apart.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Where parts of the library record warnings; shared by everything a facade owns.
#[derive(Debug, Clone)]
pub(crate) struct Warnings(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    id: u64,
    standing: Mutex<Vec<Warning>>,
    events: EventBus,
}

impl Default for Warnings {
    fn default() -> Self {
        Self::new(EventBus::default())
    }
}

impl Warnings {
    /// A new facade's warnings, told to `events`' subscribers as they are recorded.
    pub(crate) fn new(events: EventBus) -> Self {
        Warnings(Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            standing: Mutex::new(Vec::new()),
            events,
        }))
    }

    /// Records a warning for the call running on this thread. The same code and message are
    /// not repeated until taken: one call reports one cause once.
    pub(crate) fn push(&self, code: &str, message: String) {
        let warning = Warning {
            code: code.to_string(),
            message,
        };
        let id = self.0.id;
        // `try_with`: a thread being torn down has no list any more; its warning then has no
        // caller to go to, and recording must never panic.
        let fresh = PENDING
            .try_with(|pending| {
                let Ok(mut pending) = pending.try_borrow_mut() else {
                    return false;
                };
                if pending.iter().any(|(i, w)| *i == id && *w == warning) {
                    return false;
                }
                if pending.len() >= THREAD_CAP {
                    pending.remove(0);
                }
                pending.push((id, warning.clone()));
                true
            })
            .unwrap_or(false);
        if fresh {
            self.0.events.emit(Event::Warning(warning));
        }
    }

    /// Records a warning that holds for the facade's whole life (a broken manifest).
    pub(crate) fn push_standing(&self, code: &str, message: String) {
        let warning = Warning {
            code: code.to_string(),
            message,
        };
        // A poisoned lock only means another thread panicked while pushing; the list is still
        // a valid Vec, so keep using it.
        let mut list = self.0.standing.lock().unwrap_or_else(|p| p.into_inner());
        if !list.contains(&warning) {
            list.push(warning.clone());
            drop(list);
            self.0.events.emit(Event::Warning(warning));
        }
    }

    /// The standing warnings, oldest first.
    pub(crate) fn standing(&self) -> Vec<Warning> {
        self.0
            .standing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// This facade's warnings recorded on this thread since the last take, oldest first;
    /// they are forgotten.
    pub(crate) fn take(&self) -> Vec<Warning> {
        let id = self.0.id;
        PENDING
            .try_with(|pending| {
                let Ok(mut pending) = pending.try_borrow_mut() else {
                    return Vec::new();
                };
                let (mine, rest): (Vec<_>, Vec<_>) = pending.drain(..).partition(|(i, _)| *i == id);
                *pending = rest;
                mine.into_iter().map(|(_, w)| w).collect()
            })
            .unwrap_or_default()
    }
}

/// The warnings pending on one thread (of every facade), moved to another thread. For a
/// frontend that runs each call on a worker thread but answers on another (Node's promises
/// run on a thread pool and settle on the JavaScript thread): take them on the worker right
/// after the call, [`restore`](Self::restore) them on the answering thread, and
/// [`crate::Ringlet::take_warnings`] there finds them.
#[derive(Debug, Default)]
pub struct ThreadWarnings(Vec<(u64, Warning)>);

impl ThreadWarnings {
    /// Takes every warning pending on the calling thread, leaving none.
    pub fn take() -> Self {
        ThreadWarnings(
            PENDING
                .try_with(|p| p.try_borrow_mut().map(|mut p| std::mem::take(&mut *p)))
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
        )
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds them to the calling thread's pending warnings (after what is there already).
    pub fn restore(self) {
        let _ = PENDING.try_with(|pending| {
            if let Ok(mut pending) = pending.try_borrow_mut() {
                for entry in self.0 {
                    if !pending.contains(&entry) {
                        if pending.len() >= THREAD_CAP {
                            pending.remove(0);
                        }
                        pending.push(entry);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(list: &[Warning]) -> Vec<&str> {
        list.iter().map(|w| w.message.as_str()).collect()
    }

    #[test]
    fn repeats_are_dropped_until_taken() {
        let w = Warnings::default();
        w.push("a", "one".into());
        w.push("a", "one".into());
        w.push("a", "two".into());
        assert_eq!(messages(&w.take()), ["one", "two"]);
        assert!(w.take().is_empty(), "taking forgets them");
        // A later call that meets the same cause is told again.
        w.push("a", "one".into());
        assert_eq!(messages(&w.take()), ["one"]);
    }

    #[test]
    fn two_facades_on_one_thread_keep_their_own() {
        let a = Warnings::default();
        let b = Warnings::default();
        a.push("x", "from a".into());
        b.push("x", "from b".into());
        assert_eq!(messages(&a.take()), ["from a"]);
        assert_eq!(messages(&b.take()), ["from b"]);
    }

    #[test]
    fn calls_on_two_threads_never_see_each_others() {
        let w = Warnings::default();
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let runs: Vec<_> = ["left", "right"]
                .into_iter()
                .map(|name| {
                    let (w, barrier) = (&w, &barrier);
                    s.spawn(move || {
                        for i in 0..50 {
                            w.push("c", format!("{name} {i}"));
                            if i == 10 {
                                barrier.wait();
                            }
                        }
                        w.take()
                    })
                })
                .collect();
            for (run, name) in runs.into_iter().zip(["left", "right"]) {
                let got = run.join().expect("thread");
                assert_eq!(got.len(), 50);
                assert!(got.iter().all(|w| w.message.starts_with(name)), "{got:?}");
            }
        });
        assert!(w.take().is_empty(), "the spawning thread produced none");
    }

    #[test]
    fn standing_warnings_stay_and_are_not_taken() {
        let w = Warnings::default();
        w.push_standing("manifest", "broken".into());
        w.push_standing("manifest", "broken".into());
        assert!(w.take().is_empty());
        assert_eq!(messages(&w.standing()), ["broken"]);
        assert_eq!(messages(&w.standing()), ["broken"]);
    }

    #[test]
    fn a_thread_that_never_takes_keeps_a_bounded_list() {
        let w = Warnings::default();
        for i in 0..THREAD_CAP + 5 {
            w.push("n", i.to_string());
        }
        let kept = w.take();
        assert_eq!(kept.len(), THREAD_CAP);
        assert_eq!(kept[0].message, "5", "the oldest went");
    }

    #[test]
    fn moved_warnings_reach_the_answering_thread() {
        let w = Warnings::default();
        let moved = std::thread::scope(|s| {
            s.spawn(|| {
                w.push("m", "on the worker".into());
                ThreadWarnings::take()
            })
            .join()
            .expect("thread")
        });
        assert!(w.take().is_empty());
        moved.restore();
        assert_eq!(messages(&w.take()), ["on the worker"]);
    }

    #[test]
    fn each_warning_is_an_event() {
        let bus = EventBus::default();
        let sub = bus.subscribe();
        let w = Warnings::new(bus);
        w.push("e", "told".into());
        w.push("e", "told".into());
        w.push_standing("s", "always".into());
        let warning = |code: &str, message: &str| {
            Some(Event::Warning(Warning {
                code: code.into(),
                message: message.into(),
            }))
        };
        assert_eq!(sub.try_recv().ok(), warning("e", "told"));
        assert_eq!(sub.try_recv().ok(), warning("s", "always"));
        assert_eq!(sub.try_recv().ok(), None, "a repeat is not told again");
    }
}
