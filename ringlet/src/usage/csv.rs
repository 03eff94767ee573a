//! The CSV export of usage events (`ringlet usage --export csv`, the server's
//! `GET /api/usage/events?format=csv`): one format for every frontend.

use std::fmt::Write;

use super::event::{UsageEvent, nanos_to_usd};

/// The header line of [`write_csv`]'s output.
pub const USAGE_CSV_HEADER: &str = "time,profile,agent,provider,model,input,output,cache_creation,cache_creation_5m,cache_creation_1h,cache_read,reasoning,total_tokens,cost_usd,cost_source,session_id";

/// One text cell. Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return as a formula (`=HYPERLINK(…)` in a model name from a log), so such a cell gets
/// a leading `'` (OWASP's rule), and control characters (and the bidirectional overrides) are
/// made visible as Rust escapes, since the file is often read in a terminal. Then the usual
/// quoting.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    let escaped =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let s: String = if s.chars().any(escaped) {
        let mut out = String::with_capacity(s.len() + 16);
        for c in s.chars() {
            if escaped(c) {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        s
    };
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The events as CSV: [`USAGE_CSV_HEADER`], then one line per event.
pub fn write_csv(events: &[UsageEvent]) -> String {
    let mut out = String::with_capacity(128 * (events.len() + 1));
    out.push_str(USAGE_CSV_HEADER);
    out.push('\n');
    for e in events {
        let t = &e.tokens;
        let cost = e
            .cost_nanos
            .map(|n| format!("{:.9}", nanos_to_usd(n)))
            .unwrap_or_default();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            e.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            csv_field(&e.profile),
            csv_field(&e.agent),
            csv_field(&e.provider),
            csv_field(&e.model),
            t.input,
            t.output,
            t.cache_creation,
            t.cache_creation_5m,
            t.cache_creation_1h,
            t.cache_read,
            t.reasoning,
            t.total(),
            cost,
            e.cost_source.as_str(),
            csv_field(e.session_id.as_deref().unwrap_or("")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_never_formulas_nor_terminal_escapes() {
        assert_eq!(csv_field("claude-sonnet-4-5"), "claude-sonnet-4-5");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://evil\")"),
            "\"'=HYPERLINK(\"\"http://evil\"\")\""
        );
        for leader in ["+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert!(csv_field(leader).starts_with('\''), "{leader:?}");
        }
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("\u{1b}[31mevil\nx"), "\\u{1b}[31mevil\\nx");
        assert_eq!(csv_field("\r=1"), "'\\r=1");
        assert_eq!(csv_field("a\u{202e}b"), "a\\u{202e}b");
    }

    #[test]
    fn an_empty_export_is_the_header() {
        assert_eq!(write_csv(&[]), format!("{USAGE_CSV_HEADER}\n"));
    }
}
