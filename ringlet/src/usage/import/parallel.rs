//! A first import reads hundreds of files: they are read, parsed and priced on several threads,
//! and committed by the calling thread in file order, several files to a transaction. The
//! ledger sees the same commits in the same order as a file-by-file import (only grouped), so
//! it ends exactly the same: which copy of a repeated response is kept never depends on which
//! thread was faster.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

use super::{
    FileFailure, FileReport, GROUP_MAX_EVENTS, GROUP_MAX_FILES, ImportSummary, Importer,
    PARALLEL_MAX_FILE, ScanContext, scan_one,
};
use crate::error::{Error, Result};
use crate::usage::event::UsageEvent;
use crate::usage::store::ImportState;

/// How many files the readers may run ahead of the commits, per thread: bounds the records
/// held in memory while a long file is being read.
const AHEAD_PER_THREAD: usize = 4;

/// One batch, ready to commit.
struct Prepared {
    events: Vec<UsageEvent>,
    state: ImportState,
    /// Records dropped as repeats within the batch (counted as duplicates).
    collapsed: u64,
}

/// What a reader made of one file.
enum Read {
    /// Read whole: its report and batches.
    Done(FileReport, Vec<Prepared>),
    /// Could not be read (the import goes on without it).
    Failed(Error),
    /// To be scanned by the committing thread itself: too large to hold, or the importer
    /// cannot read without committing.
    Scan,
}

/// The commits' progress, which readers wait on so as not to run too far ahead.
struct Window {
    committed: Mutex<usize>,
    moved: Condvar,
    stop: AtomicBool,
}

impl Window {
    /// Waits until file `k` is within `ahead` files of the commits; false once stopped.
    fn admit(&self, k: usize, ahead: usize) -> bool {
        let mut committed = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        while k >= *committed + ahead && !self.stop.load(Ordering::Relaxed) {
            committed = self
                .moved
                .wait(committed)
                .unwrap_or_else(|p| p.into_inner());
        }
        !self.stop.load(Ordering::Relaxed)
    }

    fn advance(&self, to: usize) {
        *self.committed.lock().unwrap_or_else(|p| p.into_inner()) = to;
        self.moved.notify_all();
    }

    fn halt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        // Under the lock, so no reader misses the wake-up between its check and its wait.
        let _held = self.committed.lock().unwrap_or_else(|p| p.into_inner());
        self.moved.notify_all();
    }
}

/// Reads `todo` (position in the file list, file, previous state) on `threads` threads and
/// commits it in order; `after_file` is called after each file is in `summary`.
pub(super) fn run(
    importer: &dyn Importer,
    todo: &[(usize, &Path, Option<&ImportState>)],
    threads: usize,
    cx: &ScanContext<'_>,
    summary: &mut ImportSummary,
    after_file: &mut dyn FnMut(&ImportSummary),
) -> Result<()> {
    let next = AtomicUsize::new(0);
    let window = Window {
        committed: Mutex::new(0),
        moved: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    let ahead = threads * AHEAD_PER_THREAD;
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Read)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, window) = (&next, &window);
            scope.spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= todo.len() || !window.admit(k, ahead) {
                        return;
                    }
                    let (_, file, previous) = todo[k];
                    if tx.send((k, read(importer, file, previous, cx))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let result = commit_in_order(importer, todo, cx, &rx, &window, summary, after_file);
        // On an error the readers stop at their next file (their sends fail once `rx` is gone).
        window.halt();
        drop(rx);
        result
    })
}

/// Reads one file into prepared batches, unless it is for the committing thread to scan.
fn read(
    importer: &dyn Importer,
    file: &Path,
    previous: Option<&ImportState>,
    cx: &ScanContext<'_>,
) -> Read {
    if std::fs::metadata(file).is_ok_and(|m| m.len() > PARALLEL_MAX_FILE) {
        return Read::Scan;
    }
    let mut batches = Vec::new();
    let read = importer.read(
        file,
        previous,
        cx.options(),
        &mut |records, state, report| {
            let (events, collapsed) = cx.prepare(file, records, report)?;
            batches.push(Prepared {
                events,
                state,
                collapsed,
            });
            Ok(())
        },
    );
    match read {
        None => Read::Scan,
        Some(Ok(report)) => Read::Done(report, batches),
        Some(Err(e)) => Read::Failed(e),
    }
}

/// The committing side: takes the readers' files in their order, groups them into
/// transactions, and scans the files left to it in their turn.
fn commit_in_order(
    importer: &dyn Importer,
    todo: &[(usize, &Path, Option<&ImportState>)],
    cx: &ScanContext<'_>,
    rx: &mpsc::Receiver<(usize, Read)>,
    window: &Window,
    summary: &mut ImportSummary,
    after_file: &mut dyn FnMut(&ImportSummary),
) -> Result<()> {
    let mut waiting: BTreeMap<usize, Read> = BTreeMap::new();
    let mut group: Vec<(FileReport, Vec<Prepared>)> = Vec::new();
    let mut group_events = 0usize;
    let mut want = 0usize;
    while want < todo.len() {
        let read = match waiting.remove(&want) {
            Some(read) => read,
            None => {
                // Every file below `todo.len()` is sent exactly once unless a reader died.
                let Ok((k, read)) = rx.recv() else {
                    return Err(Error::InvalidInput(
                        "an import reader thread stopped unexpectedly".into(),
                    ));
                };
                waiting.insert(k, read);
                continue;
            }
        };
        let (_, file, previous) = todo[want];
        match read {
            Read::Done(report, batches) => {
                group_events += batches.iter().map(|b| b.events.len()).sum::<usize>();
                group.push((report, batches));
                if group_events >= GROUP_MAX_EVENTS || group.len() >= GROUP_MAX_FILES {
                    flush(cx, &mut group, summary, after_file)?;
                    group_events = 0;
                }
            }
            Read::Failed(e) => {
                flush(cx, &mut group, summary, after_file)?;
                group_events = 0;
                summary.failures.push(FileFailure {
                    path: file.to_path_buf(),
                    message: e.to_string(),
                });
                after_file(summary);
            }
            Read::Scan => {
                flush(cx, &mut group, summary, after_file)?;
                group_events = 0;
                scan_one(importer, file, previous, cx, summary)?;
                after_file(summary);
            }
        }
        want += 1;
        window.advance(want);
    }
    flush(cx, &mut group, summary, after_file)
}

/// Commits the grouped files in one transaction, in order, and adds their reports.
fn flush(
    cx: &ScanContext<'_>,
    group: &mut Vec<(FileReport, Vec<Prepared>)>,
    summary: &mut ImportSummary,
    after_file: &mut dyn FnMut(&ImportSummary),
) -> Result<()> {
    if group.is_empty() {
        return Ok(());
    }
    let batches: Vec<(&[UsageEvent], &ImportState)> = group
        .iter()
        .flat_map(|(_, batches)| batches.iter().map(|b| (&b.events[..], &b.state)))
        .collect();
    let mut outcomes = cx.store.commit_imports(&batches)?.into_iter();
    for (mut report, batches) in group.drain(..) {
        for batch in batches {
            let mut outcome = outcomes.next().unwrap_or_default();
            outcome.duplicates += batch.collapsed;
            report.outcome.add(outcome);
        }
        summary.absorb(report);
        after_file(summary);
    }
    Ok(())
}
