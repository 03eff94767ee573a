//! The incremental JSON-lines reader shared by the Claude, Codex and Gemini importers: resume at
//! the committed offset, read line by line in bounded memory, never consume an incomplete final
//! line, commit batches with the position after them.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    FileReport, FileStat, ImportOptions, ParsedUsage, ScanContext, can_resume, identity, path_key,
    read_head,
};
use crate::error::{Error, Result};
use crate::usage::store::ImportState;

/// What one line was.
pub(crate) enum LineOutcome {
    /// It held usage (or state the parser keeps, such as the current model).
    Used,
    /// A valid line without anything of interest.
    Ignored,
}

/// Turns the lines of one format into usage records.
pub(crate) trait LineParser {
    /// What the parser must remember from earlier lines (saved with the import position).
    type Context: Default + Serialize + DeserializeOwned;

    /// Reads one complete line (without its line ending). `Err` is a malformed line, with why.
    fn parse_line(
        &self,
        line: &[u8],
        file: &Path,
        cx: &mut Self::Context,
        out: &mut Vec<ParsedUsage>,
    ) -> std::result::Result<LineOutcome, String>;
}

/// One step of [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A complete line of this many bytes (newline included) is in the buffer.
    Complete(usize),
    /// The file ends in this many bytes without a newline: not consumed.
    Partial,
    /// A line longer than the limit was skipped without being buffered; `complete` when it did
    /// end in a newline (else the file ends inside it, and it is not consumed).
    TooLong { len: u64, complete: bool },
    /// End of file.
    Eof,
}

/// Reads lines of at most `max` bytes, holding at most `max + 1` bytes at a time.
pub(crate) struct LineReader<R> {
    inner: R,
    pub(crate) buf: Vec<u8>,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            max,
        }
    }

    pub(crate) fn next_line(&mut self) -> std::io::Result<Line> {
        self.buf.clear();
        let limit = self.max as u64 + 1;
        let n = (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(Line::Eof);
        }
        if self.buf.last() == Some(&b'\n') {
            return Ok(Line::Complete(n));
        }
        if (n as u64) < limit {
            return Ok(Line::Partial);
        }
        // Too long: skip to the end of the line in chunks, keeping none of it.
        let mut len = n as u64;
        loop {
            self.buf.clear();
            let m = (&mut self.inner)
                .take(1 << 20)
                .read_until(b'\n', &mut self.buf)?;
            len += m as u64;
            if m == 0 {
                self.release();
                return Ok(Line::TooLong {
                    len,
                    complete: false,
                });
            }
            if self.buf.last() == Some(&b'\n') {
                self.release();
                return Ok(Line::TooLong {
                    len,
                    complete: true,
                });
            }
        }
    }

    fn release(&mut self) {
        self.buf.clear();
        self.buf.shrink_to(1 << 20);
    }
}

/// Trims a line ending (`\n` or `\r\n`).
fn trim_eol(mut line: &[u8]) -> &[u8] {
    if let Some(rest) = line.strip_suffix(b"\n") {
        line = rest;
    }
    if let Some(rest) = line.strip_suffix(b"\r") {
        line = rest;
    }
    line
}

/// The UTF-8 byte order mark some editors and tools write at the start of a file: not part of the
/// first line's JSON (it would make that line malformed and drop its usage).
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `text` without a leading byte order mark.
pub(crate) fn strip_bom(text: &[u8]) -> &[u8] {
    text.strip_prefix(BOM).unwrap_or(text)
}

/// Reads what is new in a JSON-lines file and commits it batch by batch.
pub(crate) fn scan_jsonl<P: LineParser>(
    parser: &P,
    format: &str,
    path: &Path,
    previous: Option<&ImportState>,
    cx: &ScanContext<'_>,
) -> Result<FileReport> {
    read_jsonl(
        parser,
        format,
        path,
        previous,
        cx.options(),
        &mut |records, state, report| cx.commit(path, records, &state, report),
    )
}

/// Reads what is new in a JSON-lines file, handing each batch (its records and the position
/// after them) to `batch` in order, without committing anything itself: [`scan_jsonl`] commits
/// each at once; a parallel import prices them on a worker thread and commits them in file
/// order on its own.
pub(crate) fn read_jsonl<P: LineParser>(
    parser: &P,
    format: &str,
    path: &Path,
    previous: Option<&ImportState>,
    options: &ImportOptions,
    batch: super::BatchSink<'_>,
) -> Result<FileReport> {
    let mut report = FileReport::new(path);
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io("inspecting", path, e))?;
    let stat = FileStat::from_meta(&meta);
    let head = read_head(&mut file, stat.size).map_err(|e| Error::io("reading", path, e))?;

    let mut context = P::Context::default();
    let (mut offset, mut line_no) = (0u64, 0u64);
    if let Some(prev) = previous {
        let restored = prev
            .context
            .as_deref()
            .map_or(Some(P::Context::default()), |c| {
                serde_json::from_str(c).ok()
            });
        match restored {
            Some(restored) if prev.format == format && can_resume(prev, &stat, &head) => {
                context = restored;
                offset = prev.offset;
                line_no = prev.line;
            }
            _ => report.restarted = true,
        }
    }
    let start = offset;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io("reading", path, e))?;
    let mut lines = LineReader::new(
        BufReader::with_capacity(256 << 10, file),
        options.max_line_bytes,
    );

    let identity = identity(&stat, &head);
    let key = path_key(path);
    // `size` and `mtime_ns` let the next import skip an unchanged file without opening it, so
    // they are only recorded once the whole file was read: a batch committed mid-file records
    // its offset as the size, which never matches the real file.
    let state = |offset: u64, line: u64, context: &P::Context, done: bool| ImportState {
        path: key.clone(),
        format: format.to_string(),
        identity,
        size: if done { stat.size.max(offset) } else { offset },
        mtime_ns: stat.mtime_ns,
        offset,
        line,
        context: serde_json::to_string(context).ok(),
        updated_at: Utc::now(),
    };

    let batch_lines = options.batch_lines.max(1);
    let mut records: Vec<ParsedUsage> = Vec::new();
    let mut in_batch = 0usize;
    loop {
        let step = lines
            .next_line()
            .map_err(|e| Error::io("reading", path, e))?;
        match step {
            Line::Eof => break,
            Line::Partial => {
                report.pending_tail = true;
                break;
            }
            Line::TooLong { len, complete } => {
                if !complete {
                    report.pending_tail = true;
                    break;
                }
                line_no += 1;
                offset += len;
                report.lines += 1;
                report.malformed(
                    line_no,
                    format!(
                        "line of {len} bytes is longer than the {}-byte limit",
                        options.max_line_bytes
                    ),
                );
            }
            Line::Complete(n) => {
                let first = offset == 0;
                line_no += 1;
                offset += n as u64;
                report.lines += 1;
                let mut line = trim_eol(&lines.buf);
                if first {
                    line = strip_bom(line);
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    report.ignored += 1;
                } else {
                    match parser.parse_line(line, path, &mut context, &mut records) {
                        Ok(LineOutcome::Used) => {}
                        Ok(LineOutcome::Ignored) => report.ignored += 1,
                        Err(reason) => report.malformed(line_no, reason),
                    }
                }
            }
        }
        in_batch += 1;
        if in_batch >= batch_lines {
            report.bytes_read = offset - start;
            batch(
                std::mem::take(&mut records),
                state(offset, line_no, &context, false),
                &mut report,
            )?;
            in_batch = 0;
        }
    }
    batch(records, state(offset, line_no, &context, true), &mut report)?;
    report.bytes_read = offset - start;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn all(input: &[u8], max: usize) -> Vec<(Line, Vec<u8>)> {
        let mut r = LineReader::new(Cursor::new(input.to_vec()), max);
        let mut out = Vec::new();
        loop {
            let l = r.next_line().expect("read");
            let stop = matches!(l, Line::Eof | Line::Partial)
                || matches!(
                    l,
                    Line::TooLong {
                        complete: false,
                        ..
                    }
                );
            out.push((l, r.buf.clone()));
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn lines_partial_tail_and_overlong_lines() {
        let got = all(b"ab\ncd\r\n\nxyz", 10);
        assert_eq!(got[0], (Line::Complete(3), b"ab\n".to_vec()));
        assert_eq!(got[1], (Line::Complete(4), b"cd\r\n".to_vec()));
        assert_eq!(got[2], (Line::Complete(1), b"\n".to_vec()));
        assert_eq!(got[3].0, Line::Partial);

        let got = all(b"0123456789ABCDEF\nok\n", 4);
        assert_eq!(
            got[0].0,
            Line::TooLong {
                len: 17,
                complete: true
            }
        );
        assert_eq!(got[1], (Line::Complete(3), b"ok\n".to_vec()));
        assert_eq!(got[2].0, Line::Eof);

        let got = all(b"ok\n0123456789", 4);
        assert_eq!(
            got[1].0,
            Line::TooLong {
                len: 10,
                complete: false
            }
        );
        // Exactly at the limit, with its newline just past it.
        let got = all(b"abcd\n", 4);
        assert_eq!(got[0].0, Line::Complete(5));
        assert_eq!(trim_eol(b"x\r\n"), b"x");
    }
}
