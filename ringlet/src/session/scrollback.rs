//! The last bytes a session's terminal printed, replayed to a client that attaches (or that
//! fell behind), so a reattaching terminal draws the current screen.

use std::collections::VecDeque;

/// A byte ring of at most `cap` bytes: the newest output, the oldest dropped first.
#[derive(Debug)]
pub(crate) struct Scrollback {
    buf: VecDeque<u8>,
    cap: usize,
}

impl Scrollback {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            cap,
        }
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if bytes.len() >= self.cap {
            self.buf.clear();
            self.buf.extend(&bytes[bytes.len() - self.cap..]);
            return;
        }
        let over = (self.buf.len() + bytes.len()).saturating_sub(self.cap);
        self.buf.drain(..over);
        self.buf.extend(bytes);
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn snapshot(&self) -> Vec<u8> {
        let (a, b) = self.buf.as_slices();
        let mut out = Vec::with_capacity(a.len() + b.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes_up_to_its_capacity() {
        let mut s = Scrollback::new(8);
        s.push(b"abc");
        s.push(b"defgh");
        assert_eq!(s.snapshot(), b"abcdefgh");
        s.push(b"ij");
        assert_eq!(s.snapshot(), b"cdefghij");
        s.push(b"0123456789");
        assert_eq!(s.snapshot(), b"23456789");
        assert_eq!(s.len(), 8);
    }
}
