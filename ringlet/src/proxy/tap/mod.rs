//! The usage tap: reads a response's usage from the bytes as they are forwarded, never holding
//! them back. An SSE stream is split into events as they arrive and only the events that can
//! carry an id, a model or usage are parsed; a JSON body is copied aside (up to a cap) and
//! parsed at its end. A gzip'd body is decoded beside the stream, for the tap only: the agent
//! gets the bytes the provider sent.

mod extract;
mod sse;

#[cfg(test)]
mod tests;

use std::io::Write;

use crate::catalog::wire::WireShape;

pub(crate) use extract::WireUsage;
use sse::SseSplitter;

/// The largest non-streamed body read for usage (responses are far smaller; a larger one is
/// forwarded whole and simply not counted).
const MAX_JSON_BODY: usize = 32 << 20;

/// How the response is framed.
#[derive(Debug)]
enum Framing {
    Sse(SseSplitter),
    Json(Vec<u8>),
}

/// The decoded side of the tap: the parser, and what it found.
#[derive(Debug)]
struct Reader {
    shape: WireShape,
    framing: Framing,
    usage: WireUsage,
    /// Events seen: the first is always parsed (it names the response).
    events: u64,
    /// A JSON body over [`MAX_JSON_BODY`]: not parsed.
    too_big: bool,
}

impl Reader {
    fn take(&mut self, bytes: &[u8]) {
        match &mut self.framing {
            Framing::Sse(splitter) => {
                let (shape, usage, events) = (self.shape, &mut self.usage, &mut self.events);
                splitter.feed(bytes, &mut |data| on_event(shape, usage, events, data));
            }
            Framing::Json(body) => {
                if body.len() + bytes.len() > MAX_JSON_BODY {
                    self.too_big = true;
                    body.clear();
                } else if !self.too_big {
                    body.extend_from_slice(bytes);
                }
            }
        }
    }

    fn finish(mut self) -> WireUsage {
        match &mut self.framing {
            Framing::Sse(splitter) => {
                let (shape, usage, events) = (self.shape, &mut self.usage, &mut self.events);
                splitter.finish(&mut |data| on_event(shape, usage, events, data));
            }
            Framing::Json(body) => {
                if !self.too_big
                    && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body)
                {
                    self.usage.absorb(self.shape, &doc);
                }
            }
        }
        self.usage
    }
}

/// Parses one SSE event when it can matter: the first (the response's id and model), and any
/// that mentions usage. The many content deltas in between are only scanned.
fn on_event(shape: WireShape, usage: &mut WireUsage, events: &mut u64, data: &[u8]) {
    *events += 1;
    let wanted = *events == 1
        || memchr::memmem::find(data, b"sage").is_some()
        || memchr::memmem::find(data, b"response.created").is_some();
    if !wanted {
        return;
    }
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) {
        usage.absorb(shape, &doc);
    }
}

/// A `Write` that hands decoded bytes to the reader.
#[derive(Debug)]
struct Sink(Option<Reader>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(reader) = &mut self.0 {
            reader.take(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads usage from a response body fed to it chunk by chunk.
#[derive(Debug)]
pub(crate) struct UsageTap {
    inner: TapInner,
}

#[derive(Debug)]
enum TapInner {
    Plain(Reader),
    Gzip(Box<flate2::write::MultiGzDecoder<Sink>>),
    /// The gzip stream was corrupt: nothing more to read.
    Broken,
}

impl UsageTap {
    /// A tap for a response of `shape` with these `Content-Type` and `Content-Encoding`
    /// values; `None` for an encoding it cannot read (the response is still forwarded).
    pub(crate) fn new(
        shape: WireShape,
        content_type: Option<&str>,
        content_encoding: Option<&str>,
    ) -> Option<Self> {
        let sse = content_type.is_some_and(|t| t.trim_start().starts_with("text/event-stream"));
        let reader = Reader {
            shape,
            framing: if sse {
                Framing::Sse(SseSplitter::default())
            } else {
                Framing::Json(Vec::new())
            },
            usage: WireUsage::default(),
            events: 0,
            too_big: false,
        };
        let inner = match content_encoding.map(str::trim) {
            None | Some("") | Some("identity") => TapInner::Plain(reader),
            Some(e) if e.eq_ignore_ascii_case("gzip") || e.eq_ignore_ascii_case("x-gzip") => {
                TapInner::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Sink(Some(
                    reader,
                )))))
            }
            Some(_) => return None,
        };
        Some(Self { inner })
    }

    /// One chunk of the body, as forwarded.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        match &mut self.inner {
            TapInner::Plain(reader) => reader.take(chunk),
            TapInner::Gzip(decoder) => {
                if decoder.write_all(chunk).is_err() {
                    self.inner = TapInner::Broken;
                }
            }
            TapInner::Broken => {}
        }
    }

    /// The body ended (or was cut off): what it said.
    pub(crate) fn finish(self) -> WireUsage {
        match self.inner {
            TapInner::Plain(reader) => reader.finish(),
            // A body cut off mid-stream still gives what was decoded before the cut.
            TapInner::Gzip(mut decoder) => {
                let _ = decoder.try_finish();
                decoder
                    .get_mut()
                    .0
                    .take()
                    .map(Reader::finish)
                    .unwrap_or_default()
            }
            TapInner::Broken => WireUsage::default(),
        }
    }
}
