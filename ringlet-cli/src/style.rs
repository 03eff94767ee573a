//! How reports look: numbers right-aligned with thousands separators, dollars with two
//! decimals, a totals row, a compact layout when the terminal is narrow, and colour only where
//! it is wanted.
//!
//! Colour: `--color always|never` decides; with `auto` (the default), `NO_COLOR` (set and not
//! empty) turns it off, `CLICOLOR_FORCE` or `FORCE_COLOR` (set, not empty and not `0`) turn it
//! on, and otherwise it is on when stdout is a terminal. Width: `COLUMNS` when set, else the
//! terminal's; piped output is not narrow.

use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::ValueEnum;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, presets};
use ringlet::UsageRow;

use crate::output::clean;

/// When to colour output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR says otherwise (CLICOLOR_FORCE/FORCE_COLOR force it).
    #[default]
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

static COLOR: OnceLock<bool> = OnceLock::new();

/// Decides once, at start-up, whether this command colours its output.
pub fn init(choice: ColorChoice) {
    let _ = COLOR.set(decide(
        choice,
        |k| std::env::var(k).ok(),
        || std::io::stdout().is_terminal(),
    ));
}

/// The decision, given the environment and whether stdout is a terminal.
fn decide(
    choice: ColorChoice,
    var: impl Fn(&str) -> Option<String>,
    terminal: impl Fn() -> bool,
) -> bool {
    let set = |k: &str| var(k).is_some_and(|v| !v.is_empty());
    let forced = |k: &str| var(k).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if set("NO_COLOR") => false,
        ColorChoice::Auto if forced("CLICOLOR_FORCE") || forced("FORCE_COLOR") => true,
        ColorChoice::Auto => terminal() && var("TERM").is_none_or(|t| t != "dumb"),
    }
}

/// Whether output is coloured.
pub fn color() -> bool {
    *COLOR.get_or_init(|| {
        decide(
            ColorChoice::Auto,
            |k| std::env::var(k).ok(),
            || std::io::stdout().is_terminal(),
        )
    })
}

/// The width to fit: `COLUMNS`, else the terminal's; `None` when neither is known (a pipe).
pub fn width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    comfy_table::Table::new().width().map(usize::from)
}

/// `7,996,624`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars with two decimals and thousands separators (`$1,234.57`); a cost too small to show
/// is `<$0.01`, never `$0.00`.
pub fn dollars(nanos: i64) -> String {
    if nanos > 0 && nanos < 5_000_000 {
        return "<$0.01".into();
    }
    let cents = (i128::from(nanos) + 5_000_000).div_euclid(10_000_000);
    let (sign, cents) = if cents < 0 {
        ("-", -cents)
    } else {
        ("", cents)
    };
    let whole = u64::try_from(cents / 100).unwrap_or(u64::MAX);
    format!("{sign}${}.{:02}", thousands(whole), cents % 100)
}

/// A row's cost, with unpriced usage said out loud rather than shown as $0: `unpriced` when
/// nothing in it has a price, `$1.20 + 3 unpriced` when some of it has none (`$1.20+` in the
/// compact layout, whose note on stderr says what `+` means).
pub fn cost(r: &UsageRow) -> Text {
    match (r.priced_events, r.unpriced_events) {
        (_, 0) => dollars(r.cost_nanos).into(),
        (0, _) => "unpriced".to_string().into(),
        (_, n) => Text {
            wide: format!("{} + {n} unpriced", dollars(r.cost_nanos)),
            compact: Some(format!("{}+", dollars(r.cost_nanos))),
        },
    }
}

/// A cell's text, with a shorter form for the compact layout when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// In the wide layout.
    pub wide: String,
    /// In the compact layout, when it differs.
    pub compact: Option<String>,
}

impl From<String> for Text {
    fn from(wide: String) -> Self {
        Self {
            wide,
            compact: None,
        }
    }
}

/// A report column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its header.
    pub header: &'static str,
    /// Numbers are right-aligned.
    pub numeric: bool,
    /// Shown in the compact layout too.
    pub compact: bool,
}

impl Column {
    /// A text column, shown in both layouts.
    pub const fn text(header: &'static str) -> Self {
        Self {
            header,
            numeric: false,
            compact: true,
        }
    }

    /// A text column only the wide layout shows.
    pub const fn wide_text(header: &'static str) -> Self {
        Self {
            header,
            numeric: false,
            compact: false,
        }
    }

    /// A number only the wide layout shows.
    pub const fn number(header: &'static str) -> Self {
        Self {
            header,
            numeric: true,
            compact: false,
        }
    }

    /// A number both layouts show.
    pub const fn key_number(header: &'static str) -> Self {
        Self {
            header,
            numeric: true,
            compact: true,
        }
    }
}

/// The token and cost columns every usage report ends with.
pub const USAGE_COLUMNS: [Column; 6] = [
    Column::number("INPUT"),
    Column::number("OUTPUT"),
    Column::number("CACHE WRITE"),
    Column::number("CACHE READ"),
    Column::key_number("TOTAL TOKENS"),
    Column::key_number("COST"),
];

/// The cells of [`USAGE_COLUMNS`] for a row.
pub fn usage_cells(r: &UsageRow) -> [Text; 6] {
    [
        thousands(r.input).into(),
        thousands(r.output).into(),
        thousands(r.cache_creation).into(),
        thousands(r.cache_read).into(),
        thousands(r.total_tokens).into(),
        cost(r),
    ]
}

/// A report table: rows, then a totals row set apart. Rendered wide, or compact (only the
/// columns marked so) when the wide one would not fit the width or `compact` is asked for.
#[derive(Debug)]
pub struct Report {
    columns: Vec<Column>,
    rows: Vec<Vec<Text>>,
    total: Option<Vec<Text>>,
}

impl Report {
    /// A table with these columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
            total: None,
        }
    }

    /// Adds a row (one cell per column; text from logs is cleaned when rendered).
    pub fn row(&mut self, cells: Vec<Text>) {
        self.rows.push(cells);
    }

    /// Sets the totals row.
    pub fn total(&mut self, cells: Vec<Text>) {
        self.total = Some(cells);
    }

    /// The table as text: the wide layout if it fits `width` (or there is no width) and
    /// `compact` is not asked for, else the compact one.
    pub fn render(&self, width: Option<usize>, compact: bool, color: bool) -> String {
        if !compact {
            let wide = self.layout(false, color);
            let fits = width.is_none_or(|w| {
                // Measured without colour: escape sequences take no room.
                self.layout(false, false)
                    .lines()
                    .all(|l| l.chars().count() <= w)
            });
            if fits {
                return wide;
            }
        }
        self.layout(true, color)
    }

    fn layout(&self, compact: bool, color: bool) -> String {
        let shown: Vec<usize> = (0..self.columns.len())
            .filter(|&i| !compact || self.columns[i].compact)
            .collect();
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::NOTHING)
            .set_content_arrangement(ContentArrangement::Disabled);
        if color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t.set_header(shown.iter().map(|&i| {
            let c = &self.columns[i];
            let cell = Cell::new(c.header).set_alignment(align(c));
            if color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
        let cells = |cells: &Vec<Text>, total: bool| -> Vec<Cell> {
            shown
                .iter()
                .map(|&i| {
                    let text = cells.get(i).map_or("", |t| match (&t.compact, compact) {
                        (Some(short), true) => short.as_str(),
                        _ => t.wide.as_str(),
                    });
                    let mut cell =
                        Cell::new(clean(text).into_owned()).set_alignment(align(&self.columns[i]));
                    if color && total {
                        cell = cell.add_attribute(Attribute::Bold).fg(Color::Yellow);
                    } else if color && self.columns[i].header == "COST" {
                        cell = cell.fg(Color::Green);
                    }
                    cell
                })
                .collect()
        };
        for row in &self.rows {
            t.add_row(cells(row, false));
        }
        if let Some(total) = &self.total {
            t.add_row(cells(total, true));
        }
        let mut out = String::new();
        for line in t.to_string().lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line).trim_end());
            out.push('\n');
        }
        out
    }
}

fn align(c: &Column) -> CellAlignment {
    if c.numeric {
        CellAlignment::Right
    } else {
        CellAlignment::Left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dollars_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(7_996_624), "7,996,624");
        assert_eq!(thousands(1_000_000_000), "1,000,000,000");
        assert_eq!(dollars(0), "$0.00");
        assert_eq!(dollars(4_000_000), "<$0.01");
        assert_eq!(dollars(9_000_000), "$0.01");
        assert_eq!(dollars(1_234_567_000_000), "$1,234.57");
        assert_eq!(dollars(-2_500_000_000), "-$2.50");
        let mut r = UsageRow::empty("x");
        r.unpriced_events = 2;
        assert_eq!(cost(&r).wide, "unpriced");
        r.priced_events = 1;
        r.cost_nanos = 1_500_000_000;
        assert_eq!(cost(&r).wide, "$1.50 + 2 unpriced");
        assert_eq!(cost(&r).compact.as_deref(), Some("$1.50+"));
    }

    #[test]
    fn colour_follows_the_flag_then_the_environment_then_the_terminal() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let tty = || true;
        let pipe = || false;
        assert!(decide(ColorChoice::Always, env(&[("NO_COLOR", "1")]), pipe));
        assert!(!decide(
            ColorChoice::Never,
            env(&[("FORCE_COLOR", "1")]),
            tty
        ));
        assert!(decide(ColorChoice::Auto, env(&[]), tty));
        assert!(!decide(ColorChoice::Auto, env(&[]), pipe));
        assert!(!decide(ColorChoice::Auto, env(&[("NO_COLOR", "1")]), tty));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(decide(ColorChoice::Auto, env(&[("NO_COLOR", "")]), tty));
        assert!(decide(
            ColorChoice::Auto,
            env(&[("CLICOLOR_FORCE", "1")]),
            pipe
        ));
        assert!(decide(
            ColorChoice::Auto,
            env(&[("FORCE_COLOR", "true")]),
            pipe
        ));
        assert!(!decide(
            ColorChoice::Auto,
            env(&[("FORCE_COLOR", "0")]),
            pipe
        ));
        assert!(!decide(ColorChoice::Auto, env(&[("TERM", "dumb")]), tty));
    }

    #[test]
    fn a_narrow_width_gets_the_compact_layout_and_no_cell_is_broken() {
        let mut t = Report::new(
            [Column::text("DATE")]
                .into_iter()
                .chain(USAGE_COLUMNS)
                .collect(),
        );
        let mut r = UsageRow::empty("2026-05-01");
        r.input = 12_345;
        r.output = 678_901;
        r.cache_read = 7_996_624;
        r.priced_events = 1;
        r.cost_nanos = 12_340_000_000;
        r.finish();
        let mut row: Vec<Text> = vec![r.key.clone().into()];
        row.extend(usage_cells(&r));
        t.row(row.clone());
        row[0] = "TOTAL".to_string().into();
        t.total(row);
        let wide = t.render(None, false, false);
        assert!(wide.starts_with("DATE"), "{wide}");
        assert!(
            wide.contains("CACHE READ") && wide.contains("7,996,624"),
            "{wide}"
        );
        let narrow = t.render(Some(40), false, false);
        assert!(narrow.lines().all(|l| l.chars().count() <= 40), "{narrow}");
        assert!(
            !narrow.contains("CACHE READ") && narrow.contains("8,687,870"),
            "{narrow}"
        );
        assert_eq!(t.render(None, true, false), narrow);
        let coloured = t.render(None, false, true);
        assert!(coloured.contains('\u{1b}'), "{coloured}");
        assert!(!wide.contains('\u{1b}'));
    }
}
