//! One attached client's queue: what the session printed that this client has not taken yet.
//!
//! The PTY reader only ever appends here (under the session's output lock, never waiting for a
//! client), so a client that stops reading can stall nothing but itself. Its queue is bounded
//! in bytes: on overflow what it missed is thrown away and it gets the scrollback instead (a
//! resync: the screen as it is now); overflowing again before it has taken that resync drops
//! it, with a reason.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::SessionState;

/// The most output one [`ClientEvent::Output`] carries: queued chunks are joined up to this,
/// so a fast stream goes out in few large frames.
const JOIN_MAX: usize = 256 * 1024;

/// What an attached client receives, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// Terminal output. The first event after attaching is the scrollback (when there is
    /// any), so a terminal drawing everything it gets shows the current screen.
    Output(Vec<u8>),
    /// The client fell too far behind and what it missed was dropped: this is the scrollback
    /// now. A terminal resets itself, then draws it.
    Resync(Vec<u8>),
    /// The session ended: the last event.
    Exit {
        /// How it ended ([`SessionState::Exited`] or [`SessionState::Terminated`]).
        state: SessionState,
    },
    /// The client was dropped from the session (it fell behind again before taking its
    /// resync): the last event. The session goes on.
    Dropped {
        /// Why, for the client's user.
        reason: String,
    },
}

enum Item {
    Data(Arc<[u8]>),
    Resync(Vec<u8>),
    Last(ClientEvent),
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    /// The bytes of the `Data` items.
    bytes: usize,
    /// A `Resync` item is waiting to be taken.
    resync_pending: bool,
    /// A last event is queued: nothing more is.
    closed: bool,
    /// The last event was taken.
    finished: bool,
    waker: Option<Waker>,
}

/// A client's queue, shared by the session (which fills it) and the client (which drains it).
pub(crate) struct ClientQueue {
    pub(crate) id: u64,
    limit: usize,
    queue: Mutex<Queue>,
    ready: Condvar,
}

impl std::fmt::Debug for ClientQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientQueue")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a push did to the client.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// The client was dropped: the session forgets it.
    Dropped,
}

impl ClientQueue {
    pub(crate) fn new(id: u64, limit: usize) -> Self {
        Self {
            id,
            limit,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake(&self, mut q: MutexGuard<'_, Queue>) {
        let waker = q.waker.take();
        drop(q);
        self.ready.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Queues output. `scrollback` gives the screen for a resync (it already holds `chunk`).
    pub(crate) fn push(&self, chunk: &Arc<[u8]>, scrollback: impl FnOnce() -> Vec<u8>) -> Pushed {
        let mut q = self.lock();
        if q.closed {
            return Pushed::Dropped;
        }
        if q.bytes + chunk.len() <= self.limit {
            q.bytes += chunk.len();
            q.items.push_back(Item::Data(Arc::clone(chunk)));
            self.wake(q);
            return Pushed::Queued;
        }
        q.items.clear();
        q.bytes = 0;
        if q.resync_pending {
            q.resync_pending = false;
            q.closed = true;
            q.items.push_back(Item::Last(ClientEvent::Dropped {
                reason: format!(
                    "this client fell more than {} KiB behind the terminal twice in a row and was dropped; the session goes on, attach again to see it",
                    self.limit / 1024
                ),
            }));
            self.wake(q);
            return Pushed::Dropped;
        }
        q.resync_pending = true;
        q.items.push_back(Item::Resync(scrollback()));
        self.wake(q);
        Pushed::Queued
    }

    /// Queues the scrollback an attaching client starts with.
    pub(crate) fn replay(&self, scrollback: Vec<u8>) {
        if scrollback.is_empty() {
            return;
        }
        let mut q = self.lock();
        q.bytes += scrollback.len();
        q.items.push_back(Item::Data(Arc::from(scrollback)));
        self.wake(q);
    }

    /// Queues the last event; nothing is queued after it.
    pub(crate) fn finish(&self, event: ClientEvent) {
        let mut q = self.lock();
        if q.closed {
            return;
        }
        q.closed = true;
        q.items.push_back(Item::Last(event));
        self.wake(q);
    }

    fn take(q: &mut Queue) -> Option<ClientEvent> {
        match q.items.pop_front()? {
            Item::Data(first) => {
                q.bytes -= first.len();
                let mut out = first.to_vec();
                while let Some(Item::Data(next)) = q.items.front() {
                    if out.len() + next.len() > JOIN_MAX {
                        break;
                    }
                    out.extend_from_slice(next);
                    q.bytes -= next.len();
                    q.items.pop_front();
                }
                Some(ClientEvent::Output(out))
            }
            Item::Resync(screen) => {
                q.resync_pending = false;
                Some(ClientEvent::Resync(screen))
            }
            Item::Last(event) => {
                q.finished = true;
                Some(event)
            }
        }
    }

    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        let mut q = self.lock();
        if let Some(event) = Self::take(&mut q) {
            return Poll::Ready(Some(event));
        }
        if q.finished {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// `Err(())` on timeout; `Ok(None)` once the last event was taken.
    pub(crate) fn next_timeout(&self, timeout: Duration) -> Result<Option<ClientEvent>, ()> {
        let deadline = Instant::now() + timeout;
        let mut q = self.lock();
        loop {
            if let Some(event) = Self::take(&mut q) {
                return Ok(Some(event));
            }
            if q.finished {
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(());
            }
            q = self
                .ready
                .wait_timeout(q, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Bytes of output queued and not yet taken.
    #[cfg(test)]
    fn queued(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(n: usize) -> Arc<[u8]> {
        Arc::from(vec![b'x'; n])
    }

    #[test]
    fn overflow_resyncs_then_drops() {
        let q = ClientQueue::new(1, 10);
        assert_eq!(q.push(&chunk(6), Vec::new), Pushed::Queued);
        assert_eq!(q.push(&chunk(6), || b"screen".to_vec()), Pushed::Queued);
        assert_eq!(q.queued(), 0);
        assert_eq!(
            q.next_timeout(Duration::ZERO),
            Ok(Some(ClientEvent::Resync(b"screen".to_vec())))
        );
        // Taken: the next overflow resyncs again.
        assert_eq!(q.push(&chunk(11), || b"again".to_vec()), Pushed::Queued);
        // Not taken: the one after drops the client.
        assert_eq!(q.push(&chunk(11), Vec::new), Pushed::Dropped);
        assert!(matches!(
            q.next_timeout(Duration::ZERO),
            Ok(Some(ClientEvent::Dropped { .. }))
        ));
        assert_eq!(q.next_timeout(Duration::ZERO), Ok(None));
    }

    #[test]
    fn queued_output_is_joined_and_the_last_event_comes_last() {
        let q = ClientQueue::new(1, 100);
        q.push(&Arc::from(b"ab".to_vec()), Vec::new);
        q.push(&Arc::from(b"cd".to_vec()), Vec::new);
        q.finish(ClientEvent::Exit {
            state: SessionState::Exited { exit_code: 3 },
        });
        assert_eq!(
            q.next_timeout(Duration::ZERO),
            Ok(Some(ClientEvent::Output(b"abcd".to_vec())))
        );
        assert_eq!(
            q.next_timeout(Duration::ZERO),
            Ok(Some(ClientEvent::Exit {
                state: SessionState::Exited { exit_code: 3 }
            }))
        );
        assert_eq!(q.next_timeout(Duration::ZERO), Ok(None));
        assert_eq!(q.next_timeout(Duration::ZERO), Ok(None));
    }
}
