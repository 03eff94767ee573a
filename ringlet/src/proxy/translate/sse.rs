//! Server-sent events, read incrementally: bytes arrive in chunks cut anywhere (inside a line,
//! inside a UTF-8 character, between `\r` and `\n`), events leave whole.

/// One event: its `event:` name, when given, and its `data:` lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field.
    pub event: Option<String>,
    /// The `data:` field(s).
    pub data: String,
}

/// An incremental SSE reader. Lines end in `\n` or `\r\n` (a lone `\r`, allowed by the spec, is
/// used by no model provider and not recognised).
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    /// Reads `chunk`, calling `on_event` for each event it completes.
    pub fn feed(&mut self, chunk: &[u8], mut on_event: impl FnMut(SseEvent)) {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', &self.buf[start..]) {
            let end = start + nl;
            let line = &self.buf[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let line = String::from_utf8_lossy(line).into_owned();
            start = end + 1;
            self.line(&line, &mut on_event);
        }
        self.buf.drain(..start);
    }

    /// The stream ended: an event not yet closed by a blank line is dispatched.
    pub fn finish(&mut self, mut on_event: impl FnMut(SseEvent)) {
        if !self.buf.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned();
            self.line(line.strip_suffix('\r').unwrap_or(&line), &mut on_event);
        }
        self.line("", &mut on_event);
    }

    fn line(&mut self, line: &str, on_event: &mut impl FnMut(SseEvent)) {
        if line.is_empty() {
            let event = self.event.take();
            if let Some(data) = self.data.take() {
                on_event(SseEvent { event, data });
            }
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            // Comments (`: ping`), `id:` and `retry:` mean nothing to a translation.
            _ => {}
        }
    }
}

/// Appends one event to `out`.
pub fn write_event(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(e) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(e.as_bytes());
        out.push(b'\n');
    }
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(parts: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut events = Vec::new();
        for part in parts {
            p.feed(part, |e| events.push(e));
        }
        p.finish(|e| events.push(e));
        events
    }

    #[test]
    fn events_fields_and_comments_are_read() {
        let events = all(&[b": ping\n\nevent: a\r\ndata: {\"x\":1}\r\n\r\ndata:two\ndata:  lines\nid: 3\n\ndata: last"]);
        assert_eq!(
            events,
            [
                SseEvent {
                    event: Some("a".into()),
                    data: "{\"x\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "two\n lines".into()
                },
                SseEvent {
                    event: None,
                    data: "last".into()
                },
            ]
        );
    }

    #[test]
    fn written_events_read_back() {
        let mut out = Vec::new();
        write_event(&mut out, Some("message_start"), "{\"a\":\"b\"}");
        write_event(&mut out, None, "x\ny");
        assert_eq!(
            all(&[&out]),
            [
                SseEvent {
                    event: Some("message_start".into()),
                    data: "{\"a\":\"b\"}".into()
                },
                SseEvent {
                    event: None,
                    data: "x\ny".into()
                },
            ]
        );
    }

    proptest! {
        #[test]
        fn any_split_reads_the_same_events(cut in proptest::collection::vec(0usize..120, 0..6)) {
            let text = "event: e\r\ndata: {\"t\":\"héllo — ✓\"}\r\n\r\n: c\n\ndata: [DONE]\n\nevent: x\ndata: 1\ndata: 2\n\n".as_bytes();
            let mut cuts: Vec<usize> = cut.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut at = 0;
            for c in cuts {
                parts.push(&text[at..c]);
                at = c;
            }
            parts.push(&text[at..]);
            prop_assert_eq!(all(&parts), all(&[text]));
        }
    }
}
