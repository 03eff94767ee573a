//! Every agent is forked by one long-lived thread.
//!
//! bwrap's `--die-with-parent` (and anything else using `PR_SET_PDEATHSIG`) ties the sandbox to
//! the *thread* that forked it, not to the process: Linux sends the death signal when that
//! thread exits. A run started from a pool thread (tokio's blocking pool, which retires idle
//! threads after ten seconds; a binding's worker pool) would be killed as soon as the pool let
//! that thread go, while ringlet itself lives on. Forking from a thread that lives as long as
//! the process keeps the signal's meaning: the sandbox dies with ringlet, and only then.
//!
//! The thread only forks; waiting, signalling and reading happen wherever the caller likes
//! (Linux lets any thread of the process wait for any of its children). The child starts with
//! an empty signal mask whichever thread forked it (the standard library resets it), and the
//! working directory and environment are the process's, so forking here changes nothing else.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

static SPAWNER: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();

/// The spawner's queue, starting its thread on first use; `None` when no thread could start.
fn queue() -> Option<&'static Mutex<Sender<Job>>> {
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            std::thread::Builder::new()
                .name("ringlet-spawner".into())
                .spawn(move || {
                    // The senders live in a static, so this loop ends only with the process.
                    while let Ok(job) = rx.recv() {
                        // A panicking job must not take the thread (and the next runs) with it;
                        // its caller sees its result channel close instead.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
                .ok()
                .map(|_| Mutex::new(tx))
        })
        .as_ref()
}

/// Runs `fork` on the spawner thread and returns its result. When the spawner thread cannot be
/// had (the system refused a thread) or `fork` panicked there, the error `unavailable` makes
/// is returned: never a fork from the calling thread, which is what the spawner exists to
/// avoid.
pub(crate) fn on_spawner<T: Send + 'static>(
    fork: impl FnOnce() -> T + Send + 'static,
    unavailable: impl FnOnce() -> T,
) -> T {
    let Some(queue) = queue() else {
        return unavailable();
    };
    let (tx, rx) = channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(fork());
    });
    let sent = queue
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(job)
        .is_ok();
    if !sent {
        return unavailable();
    }
    rx.recv().unwrap_or_else(|_| unavailable())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_one_thread_that_is_not_the_callers() {
        let here = std::thread::current().id();
        let first = on_spawner(|| std::thread::current().id(), || here);
        let second =
            std::thread::spawn(move || on_spawner(|| std::thread::current().id(), || here))
                .join()
                .expect("join");
        assert_ne!(first, here);
        assert_eq!(first, second);
    }

    #[test]
    fn a_panicking_job_reports_unavailable_and_the_thread_carries_on() {
        let failed: Result<u8, &str> = on_spawner(|| panic!("boom"), || Err("unavailable"));
        assert_eq!(failed, Err("unavailable"));
        assert_eq!(
            on_spawner(|| Ok::<u8, &str>(1), || Err("unavailable")),
            Ok(1)
        );
    }
}
