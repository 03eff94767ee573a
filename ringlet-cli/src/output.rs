//! Rendering: aligned tables for people, JSON for scripts.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

/// Prints `value` as pretty JSON followed by a newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    // Rust's stdout flushes at every newline, pipe or not: pretty JSON would be one write(2) a
    // line (1,500 for 100 profiles). Buffered, it is a few.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints a table, trimming the padding comfy-table leaves at line ends.
pub fn print_table(t: &Table) {
    let mut text = String::new();
    for line in t.to_string().lines() {
        text.push_str(line.strip_prefix(" ").unwrap_or(line).trim_end());
        text.push('\n');
    }
    print!("{text}");
}

/// A borderless, aligned table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    t
}

/// Prints `label: value` rows with aligned values.
pub fn fields(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<width$}  {v}");
    }
}

/// `-` for missing values.
pub fn or_dash(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// How many of the facade's warnings have been printed already.
static WARNINGS_SHOWN: AtomicUsize = AtomicUsize::new(0);

/// Prints the facade's warnings not printed yet, one line each on stderr (a JSON object per
/// line with `--json`, like errors).
pub fn warnings(ringlet: &ringlet::Ringlet, json: bool) {
    let all = ringlet.warnings();
    let shown = WARNINGS_SHOWN.swap(all.len(), Ordering::SeqCst);
    for w in all.iter().skip(shown) {
        let message = w.message.replace('\n', " ");
        if json {
            eprintln!(
                "{}",
                serde_json::json!({ "warning": { "code": w.code, "message": message } })
            );
        } else {
            eprintln!("ringlet: warning: {message}");
        }
    }
}
