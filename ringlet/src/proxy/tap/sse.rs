//! An incremental Server-Sent Events splitter: bytes in, in whatever pieces TCP delivers them,
//! each event's `data` out as soon as its blank line arrives. It copies only the partial line
//! it has to wait for, so a stream is never held back to be parsed.

/// The largest event kept; a longer one (no provider sends one) is skipped, never buffered
/// without bound.
const MAX_EVENT: usize = 16 << 20;

/// Splits a byte stream into SSE events.
#[derive(Debug, Default)]
pub(crate) struct SseSplitter {
    /// The unfinished line.
    line: Vec<u8>,
    /// The current event's `data` lines, joined by `\n`.
    data: Vec<u8>,
    /// Whether the current event has a `data` field.
    has_data: bool,
    /// The current event is over [`MAX_EVENT`]: dropped at its end.
    overflow: bool,
}

impl SseSplitter {
    /// Feeds bytes; `on_event` gets each complete event's data.
    pub(crate) fn feed(&mut self, mut bytes: &[u8], on_event: &mut dyn FnMut(&[u8])) {
        while let Some(at) = memchr::memchr(b'\n', bytes) {
            let (head, rest) = bytes.split_at(at);
            bytes = &rest[1..];
            if self.line.is_empty() {
                self.line_done(head, on_event);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(head);
                self.line_done(&line, on_event);
                line.clear();
                self.line = line;
            }
        }
        if self.line.len() + bytes.len() > MAX_EVENT {
            self.overflow = true;
            self.line.clear();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    /// The end of the stream: a last event without its blank line still counts.
    pub(crate) fn finish(&mut self, on_event: &mut dyn FnMut(&[u8])) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, on_event);
        }
        self.dispatch(on_event);
    }

    fn line_done(&mut self, line: &[u8], on_event: &mut dyn FnMut(&[u8])) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        let Some(value) = line.strip_prefix(b"data:") else {
            // `event:`, `id:`, `retry:` and comments: the data says everything usage needs.
            return;
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if self.data.len() + value.len() + 1 > MAX_EVENT {
            self.overflow = true;
            return;
        }
        if self.has_data {
            self.data.push(b'\n');
        }
        self.data.extend_from_slice(value);
        self.has_data = true;
    }

    fn dispatch(&mut self, on_event: &mut dyn FnMut(&[u8])) {
        if self.has_data && !self.overflow {
            on_event(&self.data);
        }
        self.data.clear();
        self.has_data = false;
        self.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = SseSplitter::default();
        let mut push = |d: &[u8]| out.push(String::from_utf8_lossy(d).into_owned());
        for c in chunks {
            s.feed(c, &mut push);
        }
        s.finish(&mut push);
        out
    }

    #[test]
    fn splits_events_across_any_chunking() {
        let text =
            b"event: a\ndata: {\"x\":1}\n\n: comment\r\ndata: l1\r\ndata:l2\r\n\r\ndata: last";
        let whole = events(&[text]);
        assert_eq!(whole, vec!["{\"x\":1}", "l1\nl2", "last"]);
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(events(&[a, b]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(events(&bytes), whole);
    }
}
