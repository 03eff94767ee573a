//! Rendering: aligned tables for people, JSON for scripts.
//!
//! Everything ringlet prints goes through this module (the `outln!` and `errln!` macros, the
//! table, field and JSON printers), never `print!`/`println!`: those panic when stdout is a
//! closed pipe (`ringlet usage | head -1`). Here a closed stdout ends ringlet quietly with exit
//! status 0, as for any Unix filter whose reader has gone; a failing stderr is ignored (there is
//! nowhere left to say so).
//!
//! Human output (lines, tables, fields, stderr messages) shows text from logs, profiles and the
//! environment, which a terminal would obey: every control character in it is made visible
//! ([`clean`]). JSON is escaped by serde; [`raw`] is for machine-readable text only.

use std::borrow::Cow;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use comfy_table::{ContentArrangement, presets};
use serde::Serialize;

/// `println!` for stdout, through [`line`].
macro_rules! outln {
    () => {
        $crate::output::line("")
    };
    ($($arg:tt)*) => {
        $crate::output::line(&format!($($arg)*))
    };
}

/// `eprintln!` for stderr, through [`status_line`]: a status line, note or warning, which
/// `--quiet` silences (errors go through [`err_line`] and are always printed).
macro_rules! errln {
    () => {
        $crate::output::status_line("")
    };
    ($($arg:tt)*) => {
        $crate::output::status_line(&format!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// `text` with every control character made visible as a Rust escape (`\n`, `\t`, `\u{1b}`):
/// C0 (ESC starts the sequences that recolour, retitle or rewrite a terminal), DEL and C1, and
/// the bidirectional overrides that make text display in another order than it reads.
pub fn clean(text: &str) -> Cow<'_, str> {
    fn escaped(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What to do when writing to stdout failed: a closed pipe (the reader is gone) ends ringlet
/// with success and says nothing; any other failure (a full disk behind a redirection) is
/// reported and ends it with failure. Never returns.
fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    err_line(&format!("ringlet: error: writing to standard output: {e}"));
    std::process::exit(1);
}

/// How much goes to stderr besides errors: `--quiet`, the default, or `--verbose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: no warnings, notes, status lines or progress.
    Quiet = 0,
    /// Errors, warnings, notes, status lines, and progress on a terminal.
    Normal = 1,
    /// Also the directories used and how long the command took.
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the verbosity for the rest of the process (once, from the global flags).
pub fn set_verbosity(v: Verbosity) {
    VERBOSITY.store(v as u8, Ordering::Relaxed);
}

/// The verbosity the flags chose.
pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    verbosity() == Verbosity::Quiet
}

/// Prints a status line, note or warning on stderr, [`clean`]ed, unless `--quiet`.
pub fn status_line(text: &str) {
    if !quiet() {
        err_line(text);
    }
}

/// Prints `ringlet: <detail>` on stderr with `--verbose` only; `detail` is built only then.
pub fn detail(detail: impl FnOnce() -> String) {
    if verbosity() == Verbosity::Verbose {
        err_line(&format!("ringlet: {}", detail()));
    }
}

/// Writes `bytes` to stdout as they are (machine-readable text: completions, exports).
pub fn raw(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        stdout_failed(&e);
    }
}

/// Prints one line on stdout, [`clean`]ed.
pub fn line(text: &str) {
    let text = clean(text);
    let mut buf = String::with_capacity(text.len() + 1);
    buf.push_str(&text);
    buf.push('\n');
    raw(buf.as_bytes());
}

/// Writes `text` to stderr as it is, without a newline (a prompt, a hook's answer to its
/// agent). Failures are ignored.
pub fn err_text(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// Prints one line on stderr, [`clean`]ed. Failures are ignored.
pub fn err_line(text: &str) {
    let text = clean(text);
    let mut buf = String::with_capacity(text.len() + 1);
    buf.push_str(&text);
    buf.push('\n');
    err_text(&buf);
}

/// Writes to stdout through a buffer, for long output (JSON, CSV): `write` fills it; a closed
/// pipe ends ringlet as in [`raw`].
pub fn buffered(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    // Rust's stdout flushes at every newline, pipe or not: pretty JSON would be one write(2) a
    // line (1,500 for 100 profiles). Buffered, it is a few.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<serde_json::Error>())
        {
            // A value that cannot be serialised is ringlet's error, not the pipe's.
            Some(_) => Err(e.into()),
            None => stdout_failed(&e),
        },
    }
}

/// Prints `value` as pretty JSON followed by a newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    buffered(|out| {
        serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
        writeln!(out)
    })
}

/// A borderless, aligned table whose cells are [`clean`]ed (a newline would otherwise split a
/// cell over lines that read as rows of their own).
#[derive(Debug)]
pub struct Table(comfy_table::Table);

impl Table {
    /// Adds a row.
    pub fn add_row<I>(&mut self, cells: I)
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.0
            .add_row(cells.into_iter().map(|c| clean(c.as_ref()).into_owned()));
    }
}

/// Prints a table, trimming the padding comfy-table leaves at line ends.
pub fn print_table(t: &Table) {
    let mut text = String::new();
    for line in t.0.to_string().lines() {
        text.push_str(line.strip_prefix(" ").unwrap_or(line).trim_end());
        text.push('\n');
    }
    raw(text.as_bytes());
}

/// A borderless, aligned table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    Table(t)
}

/// Prints `label: value` rows with aligned values.
pub fn fields(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        line(&format!("{k:<width$}  {v}"));
    }
}

/// `1 event`, `2 events`: a count with its noun in the right number.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `-` for missing values.
pub fn or_dash(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// The warnings printed already: a cause met by two calls of one command (a key fallback
/// settled before the run, then met again by the run) is printed once.
static WARNINGS_SHOWN: Mutex<Vec<ringlet::Warning>> = Mutex::new(Vec::new());

/// Prints the warnings of the calls made so far (the facade hands each call's out once) that
/// were not printed yet, one line each on stderr (a JSON object per line with `--json`, like
/// errors).
pub fn warnings(ringlet: &ringlet::Ringlet, json: bool) {
    if quiet() {
        // Taken all the same, so a later call does not print them either.
        let _ = ringlet.warnings();
        return;
    }
    let mut shown = WARNINGS_SHOWN.lock().unwrap_or_else(|p| p.into_inner());
    let fresh: Vec<_> = ringlet
        .warnings()
        .into_iter()
        .filter(|w| !shown.contains(w))
        .collect();
    shown.extend(fresh.iter().cloned());
    for w in &fresh {
        let message = w.message.replace('\n', " ");
        if json {
            err_line(
                &serde_json::json!({ "warning": { "code": w.code, "message": message } })
                    .to_string(),
            );
        } else {
            err_line(&format!("ringlet: warning: {message}"));
        }
    }
}
