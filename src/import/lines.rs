//! The line an editor shows for each row, and the bytes of each row as read.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// The csv crate's line numbers count from before skipped blank lines and the `\n` of a
/// `\r\n`; operators need the line their editor shows. This index remembers where each line's
/// first real character is, for the window the reader has read ahead.
#[derive(Debug)]
pub(super) struct LineIndex {
    offset: u64,
    line: u64,
    at_line_start: bool,
    /// (offset of the first byte that is not CR or LF, its line), oldest first.
    content_starts: VecDeque<(u64, u64)>,
    /// When raw rows are kept: the bytes read ahead, the first at offset `kept_from`.
    kept: Option<Vec<u8>>,
    kept_from: u64,
}

impl Default for LineIndex {
    fn default() -> Self {
        Self {
            offset: 0,
            line: 1,
            at_line_start: true,
            content_starts: VecDeque::new(),
            kept: None,
            kept_from: 0,
        }
    }
}

impl LineIndex {
    /// An index that also keeps the bytes read ahead when `keep_raw`, for `raw`.
    pub(super) fn new(keep_raw: bool) -> Self {
        Self {
            kept: keep_raw.then(Vec::new),
            ..Self::default()
        }
    }

    pub(super) fn scan(&mut self, bytes: &[u8]) {
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(bytes);
        }
        for &byte in bytes {
            if self.at_line_start && byte != b'\r' && byte != b'\n' {
                self.content_starts.push_back((self.offset, self.line));
                self.at_line_start = false;
            }
            if byte == b'\n' {
                self.line += 1;
                self.at_line_start = true;
            }
            self.offset += 1;
        }
    }

    /// The kept bytes from offset `from` up to `to` (empty when not kept).
    pub(super) fn raw(&self, from: u64, to: u64) -> &[u8] {
        let Some(kept) = &self.kept else {
            return &[];
        };
        let at = |offset: u64| {
            usize::try_from(offset.saturating_sub(self.kept_from))
                .unwrap_or(usize::MAX)
                .min(kept.len())
        };
        &kept[at(from)..at(to).max(at(from))]
    }

    /// Rows before `offset` are done with. Dropped in large steps: each drop moves what the
    /// reader has read ahead to the front.
    pub(super) fn forget_raw_before(&mut self, offset: u64) {
        const STEP: u64 = 1 << 16;
        if let Some(kept) = &mut self.kept
            && offset.saturating_sub(self.kept_from) >= STEP
        {
            let done = usize::try_from(offset - self.kept_from)
                .unwrap_or(usize::MAX)
                .min(kept.len());
            kept.drain(..done);
            self.kept_from += done as u64;
        }
    }

    /// The line of the first real character at or after `byte`; positions are asked for in
    /// increasing order, so what lies before is forgotten.
    pub(super) fn line_at(&mut self, byte: u64) -> u64 {
        while self
            .content_starts
            .front()
            .is_some_and(|&(start, _)| start < byte)
        {
            self.content_starts.pop_front();
        }
        self.content_starts
            .front()
            .map_or(self.line, |&(_, line)| line)
    }
}

pub(super) struct LineCounting<R> {
    pub(super) inner: R,
    pub(super) lines: Rc<RefCell<LineIndex>>,
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.lines.borrow_mut().scan(&buf[..read]);
        Ok(read)
    }
}

/// A row without the line breaks around it (a `\r\n` ending, or a `\n` left from the last one).
pub(super) fn trim_line_breaks(bytes: &[u8]) -> &[u8] {
    let is_break = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = bytes
        .iter()
        .position(|b| !is_break(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_break(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end.max(start)]
}
