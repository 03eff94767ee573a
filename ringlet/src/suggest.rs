//! "Did you mean": the known name closest to a mistyped one, for the not-found errors of
//! profiles, agents and providers. Every frontend gets it through the error itself
//! ([`crate::Error::suggestion`]), so none has to look the names up again.

/// The edit distance between `a` and `b` (optimal string alignment: insertions, deletions,
/// substitutions and swaps of two neighbours each cost one), over characters, case-insensitive.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    // Three rows of the dynamic-programming table: two back (for swaps), one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut last: Vec<usize> = (0..=b.len()).collect();
    let mut row: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (last[j] + 1).min(row[j - 1] + 1).min(last[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        std::mem::swap(&mut before, &mut last);
        std::mem::swap(&mut last, &mut row);
    }
    last[b.len()]
}

/// The candidate `input` most likely meant, if one is close enough: within one edit for names
/// up to four characters, two up to eight, three beyond; or one that starts with `input`
/// (three characters or more: `clau` for `claude`). The closest wins; ties go to the first in
/// alphabetical order, so the answer never depends on listing order. `None` for an exact match
/// (nothing was mistyped) or nothing close.
pub(crate) fn suggest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let len = input.chars().count();
    let allowed = match len {
        0 => return None,
        1..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let lower = input.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == input {
            return None;
        }
        let d = distance(input, candidate);
        let prefix = len >= 3 && candidate.to_lowercase().starts_with(&lower);
        let score = if prefix { d.min(allowed) } else { d };
        if score > allowed {
            continue;
        }
        let better = match best {
            None => true,
            Some((s, c)) => score < s || (score == s && candidate < c),
        };
        if better {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// ` (did you mean 'x'?)` for an error message, or nothing.
pub(crate) fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_deref()
        .map(|s| format!(" (did you mean '{s}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("work", "work"), 0);
        assert_eq!(distance("wrok", "work"), 1, "a swap is one edit");
        assert_eq!(distance("wok", "work"), 1);
        assert_eq!(distance("works", "work"), 1);
        assert_eq!(distance("Work", "work"), 0, "case does not count");
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("äbc", "abc"), 1, "characters, not bytes");
    }

    #[test]
    fn the_closest_known_name_is_suggested() {
        let agents = ["claude", "codex", "droid", "gemini", "grok", "opencode"];
        assert_eq!(suggest("clade", agents).as_deref(), Some("claude"));
        assert_eq!(suggest("codx", agents).as_deref(), Some("codex"));
        assert_eq!(suggest("gork", agents).as_deref(), Some("grok"));
        assert_eq!(
            suggest("open", agents).as_deref(),
            Some("opencode"),
            "a prefix"
        );
        assert_eq!(suggest("Claude", agents).as_deref(), Some("claude"));
        assert_eq!(suggest("claude", agents), None, "exact: nothing to suggest");
        assert_eq!(suggest("vim", agents), None, "nothing close");
        assert_eq!(suggest("", agents), None);
        assert_eq!(
            suggest("x", ["y"]),
            Some("y".into()),
            "one edit for a short name"
        );
        // Ties go to the alphabetically first, whatever the order given.
        assert_eq!(suggest("wark", ["work", "wart"]).as_deref(), Some("wart"));
        assert_eq!(suggest("wark", ["wart", "work"]).as_deref(), Some("wart"));
        let providers = ["anthropic", "openai", "openrouter", "deepseek", "moonshot"];
        assert_eq!(suggest("antropic", providers).as_deref(), Some("anthropic"));
        assert_eq!(suggest("opnai", providers).as_deref(), Some("openai"));
        assert_eq!(suggest("deepsek", providers).as_deref(), Some("deepseek"));
        assert_eq!(suggest("google", providers), None);
    }

    #[test]
    fn the_message_part() {
        assert_eq!(
            did_you_mean(&Some("work".into())),
            " (did you mean 'work'?)"
        );
        assert_eq!(did_you_mean(&None), "");
    }
}
