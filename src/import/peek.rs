//! Looking at the start of an input without losing it: gzip's magic bytes, a CSV header line.

use std::io::Read;

/// Reads the input's start until `enough` says so (or it ends, or fails), and gives back a reader
/// that replays it first: a pipe may deliver a file's first line, or even its first two bytes,
/// in several pieces.
pub fn peek(mut input: Box<dyn Read>, enough: impl Fn(&[u8]) -> bool) -> (Vec<u8>, Box<dyn Read>) {
    let mut start = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut failure = None;
    while !enough(&start) {
        match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => start.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Kept for the reader that replays the start (a decoder may not say it twice).
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let replay = Replay {
        start: std::io::Cursor::new(start.clone()),
        failure,
        rest: input,
    };
    (start, Box::new(replay))
}

/// What `peek` read, then the error it met (once), then the rest of the input.
pub(super) struct Replay {
    start: std::io::Cursor<Vec<u8>>,
    failure: Option<std::io::Error>,
    rest: Box<dyn Read>,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.start.read(buf)?;
        if read > 0 || buf.is_empty() {
            return Ok(read);
        }
        match self.failure.take() {
            Some(failure) => Err(failure),
            None => self.rest.read(buf),
        }
    }
}

/// Reads gzip input (a `.csv.gz` straight out of a CRM's export job) by its magic bytes, so a
/// compressed file needs no flag and standard input may be compressed too.
pub(super) fn gunzip_if_compressed(input: Box<dyn Read>) -> Box<dyn Read> {
    let (start, input) = peek(input, |start| start.len() >= 2);
    if start.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else {
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_met_while_peeking_reaches_the_reader() {
        struct FailsAfter(Option<Vec<u8>>);
        impl Read for FailsAfter {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.take() {
                    Some(bytes) => {
                        buf[..bytes.len()].copy_from_slice(&bytes);
                        Ok(bytes.len())
                    }
                    // Then quiet, as a decoder that has failed once may be.
                    None => Err(std::io::Error::other("invalid gzip header")),
                }
            }
        }
        let mut failed = false;
        let (start, mut replay) =
            peek(Box::new(FailsAfter(Some(b"ab".to_vec()))), |s| s.len() >= 4);
        assert_eq!(start, b"ab");
        let mut buf = [0u8; 8];
        assert_eq!(replay.read(&mut buf).unwrap(), 2);
        if let Err(e) = replay.read(&mut buf) {
            failed = e.to_string() == "invalid gzip header";
        }
        assert!(failed, "the peeked error is met again");
    }
}
