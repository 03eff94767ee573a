//! The recorder: a thread that prices each response the proxy metered and records it in the
//! ledger, and hands budget refusals to whoever started the proxy. SQLite and hooks never run
//! on the forwarding thread.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use tokio::sync::OwnedMutexGuard;

use super::budget::BudgetRefusal;
use crate::error::{Error, Result};
use crate::usage::{PriceBook, UsageEvent, UsageStore};

/// Called on the recorder thread for each refused request.
pub type RefusalHook = Arc<dyn Fn(&BudgetRefusal) + Send + Sync>;

/// Where a proxy's usage goes: a ledger, the prices it is costed with, and who hears of
/// refusals.
#[derive(Clone)]
pub struct UsageSink {
    /// The ledger.
    pub store: Arc<dyn UsageStore>,
    /// The prices.
    pub prices: Arc<PriceBook>,
    /// Told of every budget refusal (the facade fires the `cost-threshold` hooks).
    pub on_refusal: Option<RefusalHook>,
}

impl std::fmt::Debug for UsageSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageSink")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// What the forwarding side sends.
#[derive(Debug)]
pub(crate) enum Message {
    /// A metered response, and the budget permit to release once it is recorded.
    Usage(Box<UsageEvent>, Option<OwnedMutexGuard<()>>),
    /// A refused request.
    Refusal(Box<BudgetRefusal>),
}

/// The sending side, cloned into the forwarding state.
#[derive(Debug, Clone)]
pub(crate) struct Events {
    tx: mpsc::Sender<Message>,
    /// The ledger, for the budget guard's reads.
    pub(crate) store: Arc<dyn UsageStore>,
}

impl Events {
    pub(crate) fn send(&self, message: Message) {
        // The recorder outlives the runtime (see `ProxyHandle::shut_down`); a send can only
        // fail if its thread panicked, and then there is nobody to tell.
        let _ = self.tx.send(message);
    }
}

/// The recorder thread.
#[derive(Debug)]
pub(crate) struct Recorder {
    thread: JoinHandle<Vec<String>>,
}

impl Recorder {
    pub(crate) fn start(sink: UsageSink) -> Result<(Recorder, Events)> {
        let (tx, rx) = mpsc::channel::<Message>();
        let events = Events {
            tx,
            store: Arc::clone(&sink.store),
        };
        let thread = std::thread::Builder::new()
            .name("ringlet-proxy-ledger".into())
            .spawn(move || run(rx, sink))
            .map_err(|e| Error::Proxy {
                message: format!("no thread for its ledger: {e}"),
            })?;
        Ok((Recorder { thread }, events))
    }

    /// Waits for every message sent so far (the senders must be gone) and returns the
    /// problems met, one line each.
    pub(crate) fn finish(self) -> Vec<String> {
        self.thread
            .join()
            .unwrap_or_else(|_| vec!["the proxy's ledger thread panicked".into()])
    }
}

fn run(rx: mpsc::Receiver<Message>, sink: UsageSink) -> Vec<String> {
    let mut problems = Vec::new();
    for message in rx {
        match message {
            Message::Usage(mut event, permit) => {
                sink.prices.price_event(&mut event);
                if let Err(e) = sink.store.record(std::slice::from_ref(&event)) {
                    problems.push(format!(
                        "usage of a {} response seen by the proxy was not recorded: {e}",
                        event.model
                    ));
                }
                // Only now may the next request of a run close to its budget start.
                drop(permit);
            }
            Message::Refusal(refusal) => {
                if let Some(hook) = &sink.on_refusal {
                    hook(&refusal);
                }
            }
        }
    }
    problems
}
