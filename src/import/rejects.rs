//! Rows set aside by `--on-invalid skip`: counted by reason, and written to the reject file
//! exactly as the input has them, followed by their line number and the reason, in line order.
//!
//! Rows refused while reading are known at once; rows refused for a conflict (a customer id on
//! an earlier row too) only after the whole file is staged, when their bytes are long gone from
//! the reader. So every staged row's bytes are spooled to an unnamed temporary file, and the reject
//! file is written at the end by merging both in line order: memory stays flat however large the
//! file and however many rows are bad.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::Path;

use super::{CsvDialect, RowError};

/// How many bad rows an import in skip mode accepts before refusing the whole file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MaxInvalid {
    Rows(u64),
    Percent(f64),
}

impl MaxInvalid {
    /// `N` rows or `P%` of the rows read.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let refuse = || format!("{raw:?}: give a number of rows (100) or a percentage (0.5%)");
        match raw.strip_suffix('%') {
            Some(percent) => match percent.trim().parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Ok(Self::Percent(p)),
                _ => Err(refuse()),
            },
            None => raw.parse().map(Self::Rows).map_err(|_| refuse()),
        }
    }

    pub fn exceeded(self, invalid: u64, rows: u64) -> bool {
        invalid > self.allowed(rows)
    }

    /// The most bad rows allowed among `rows`.
    pub fn allowed(self, rows: u64) -> u64 {
        match self {
            Self::Rows(most) => most,
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            Self::Percent(most) => (rows as f64 * most / 100.0).floor() as u64,
        }
    }
}

impl fmt::Display for MaxInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rows(n) => write!(f, "{n}"),
            Self::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Rows set aside so far, by the kind of problem (a row with two kinds counts under both).
#[derive(Debug, Default)]
pub struct RejectTally {
    pub rows: u64,
    pub by_kind: BTreeMap<String, u64>,
}

impl RejectTally {
    pub fn add(&mut self, problems: &[RowError]) {
        self.rows += 1;
        let mut kinds: Vec<&str> = problems.iter().map(|p| p.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            *self.by_kind.entry(kind.to_owned()).or_default() += 1;
        }
    }

    /// One line per kind, the most frequent first.
    pub fn lines(&self) -> Vec<String> {
        let mut kinds: Vec<(&String, &u64)> = self.by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        kinds
            .into_iter()
            .map(|(kind, count)| format!("{count:>9}  {kind}"))
            .collect()
    }
}

/// A spooled row: its line, then length-prefixed byte strings.
fn write_entry(out: &mut impl Write, line: u64, parts: &[&[u8]]) -> std::io::Result<()> {
    out.write_all(&line.to_le_bytes())?;
    for part in parts {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&part[..len as usize])?;
    }
    Ok(())
}

fn read_entry<const PARTS: usize>(
    input: &mut impl Read,
) -> std::io::Result<Option<(u64, [Vec<u8>; PARTS])>> {
    let mut line = [0u8; 8];
    match input.read_exact(&mut line) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut parts: [Vec<u8>; PARTS] = std::array::from_fn(|_| Vec::new());
    for part in &mut parts {
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        part.resize(u32::from_le_bytes(len) as usize, 0);
        input.read_exact(part)?;
    }
    Ok(Some((u64::from_le_bytes(line), parts)))
}

fn rewound(file: BufWriter<File>) -> std::io::Result<BufReader<File>> {
    let mut file = file
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.rewind()?;
    Ok(BufReader::with_capacity(1 << 16, file))
}

/// What skip mode keeps while reading: the bad rows with their reasons, every staged row's bytes.
pub struct SetAside {
    refused: BufWriter<File>,
    staged: BufWriter<File>,
}

impl SetAside {
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            refused: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            staged: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
        })
    }

    /// A row refused while reading, with every problem found in it.
    pub fn refuse(&mut self, raw: &[u8], problems: &[RowError]) -> std::io::Result<()> {
        let Some(line) = problems.first().map(|p| p.line) else {
            return Ok(());
        };
        let reason = problems
            .iter()
            .map(|p| p.reason.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        write_entry(&mut self.refused, line, &[raw, reason.as_bytes()])
    }

    /// A row staged for import, kept in case a conflict sets it aside later.
    pub fn keep(&mut self, line: u64, raw: &[u8]) -> std::io::Result<()> {
        write_entry(&mut self.staged, line, &[raw])
    }

    /// Writes the reject file: the rows refused while reading and the staged rows `conflicts`
    /// names (line → reasons, each line once), merged in line order.
    pub fn write(
        self,
        conflicts: &BTreeMap<u64, Vec<String>>,
        mut out: RejectWriter,
    ) -> std::io::Result<()> {
        let mut refused = rewound(self.refused)?;
        let mut staged = rewound(self.staged)?;
        let mut next_refused = read_entry::<2>(&mut refused)?;
        let mut wanted = conflicts.iter().peekable();
        let mut next_conflict = || -> std::io::Result<Option<(u64, Vec<u8>, String)>> {
            let Some((&line, reasons)) = wanted.next() else {
                return Ok(None);
            };
            while let Some((staged_line, [raw])) = read_entry::<1>(&mut staged)? {
                if staged_line == line {
                    return Ok(Some((line, raw, reasons.join("; "))));
                }
            }
            Ok(None)
        };
        let mut conflict = next_conflict()?;
        loop {
            let take_refused = match (&next_refused, &conflict) {
                (None, None) => break,
                (Some((a, _)), Some((b, _, _))) => a <= b,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if take_refused {
                if let Some((line, [raw, reason])) = next_refused.take() {
                    out.row(line, &raw, &String::from_utf8_lossy(&reason))?;
                }
                next_refused = read_entry::<2>(&mut refused)?;
            } else {
                if let Some((line, raw, reason)) = conflict.take() {
                    out.row(line, &raw, &reason)?;
                }
                conflict = next_conflict()?;
            }
        }
        out.finish()
    }
}

/// The reject file: a CSV input's header and rows as read, with `line` and `reason` columns
/// added; for JSON Lines, one object per row with `line`, `reason` and the row's text as `row`.
pub struct RejectWriter {
    out: BufWriter<File>,
    csv: Option<CsvDialect>,
    /// The file has been emptied for this import's rows.
    started: bool,
}

/// The names of the columns a reject file adds; an import ignores columns of these names, so a
/// corrected reject file imports as it is.
pub const REJECT_COLUMNS: [&str; 2] = ["line", "reason"];

impl RejectWriter {
    /// Opens the file at once, so an unwritable path fails before any work; what it holds (a
    /// previous run's rows) is replaced only once this input's header has been read.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Ok(Self {
            out: BufWriter::new(file),
            csv: None,
            started: false,
        })
    }

    fn start(&mut self) -> std::io::Result<()> {
        if !self.started {
            self.started = true;
            let file = self.out.get_mut();
            file.set_len(0)?;
            file.rewind()?;
        }
        Ok(())
    }

    /// Writes the header of a CSV input; without it, rows are written as JSON Lines.
    pub fn csv_header(&mut self, dialect: &CsvDialect) -> std::io::Result<()> {
        self.start()?;
        self.out.write_all(&dialect.header)?;
        self.csv = Some(dialect.clone());
        self.extra_fields(REJECT_COLUMNS[0], REJECT_COLUMNS[1])
    }

    fn row(&mut self, line: u64, raw: &[u8], reason: &str) -> std::io::Result<()> {
        self.start()?;
        if self.csv.is_some() {
            self.out.write_all(raw)?;
            self.extra_fields(&line.to_string(), reason)
        } else {
            let object = serde_json::json!({
                "line": line,
                "reason": reason,
                "row": String::from_utf8_lossy(raw),
            });
            writeln!(self.out, "{object}")
        }
    }

    /// `,line,reason` and the line break, in the input's delimiter and line ending.
    fn extra_fields(&mut self, line: &str, reason: &str) -> std::io::Result<()> {
        let Some(dialect) = &self.csv else {
            return Ok(());
        };
        let mut fields = csv::WriterBuilder::new()
            .delimiter(dialect.delimiter)
            .terminator(if dialect.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        fields.write_record([line, reason])?;
        let fields = fields
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.out.write_all(&[dialect.delimiter])?;
        self.out.write_all(&fields)
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.start()?;
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_invalid_reads_rows_or_a_percentage() {
        assert_eq!(MaxInvalid::parse("100"), Ok(MaxInvalid::Rows(100)));
        assert_eq!(MaxInvalid::parse(" 0.5% "), Ok(MaxInvalid::Percent(0.5)));
        for bad in ["", "-1", "5 rows", "101%", "-2%", "%", "1.5"] {
            assert!(MaxInvalid::parse(bad).is_err(), "{bad:?}");
        }
        assert!(!MaxInvalid::Rows(2).exceeded(2, 10));
        assert!(MaxInvalid::Rows(2).exceeded(3, 10));
        assert!(!MaxInvalid::Percent(1.0).exceeded(10, 1000));
        assert!(MaxInvalid::Percent(1.0).exceeded(11, 1000));
        assert!(MaxInvalid::Percent(0.0).exceeded(1, 1_000_000));
        assert!(!MaxInvalid::Percent(100.0).exceeded(5, 5));
    }

    fn problem(line: u64, kind: &str, reason: &str) -> RowError {
        RowError::new(line, kind, reason.to_owned())
    }

    #[test]
    fn a_row_counts_once_under_each_kind_it_has() {
        let mut tally = RejectTally::default();
        tally.add(&[problem(2, "name empty", "x"), problem(2, "name empty", "y")]);
        tally.add(&[
            problem(3, "name empty", "x"),
            problem(3, "no phone number", "y"),
        ]);
        tally.add(&[problem(4, "customer_id repeated", "z")]);
        assert_eq!(tally.rows, 3);
        assert_eq!(
            tally.lines(),
            [
                "        2  name empty",
                "        1  customer_id repeated",
                "        1  no phone number"
            ]
        );
    }

    #[test]
    fn the_reject_file_has_every_row_as_read_in_line_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.csv");
        let mut out = RejectWriter::create(&path).unwrap();
        out.csv_header(&CsvDialect {
            header: b"Id;Name;Phone".to_vec(),
            delimiter: b';',
            crlf: true,
        })
        .unwrap();
        let mut set_aside = SetAside::new().unwrap();
        set_aside.keep(2, b"A;Ann;+1 202 555 0100").unwrap();
        set_aside
            .refuse(
                b"B;\"Bo\r\nB\";\xff",
                &[problem(3, "name bad", "Name: bad; really")],
            )
            .unwrap();
        set_aside.keep(5, b"C;Cy;+1 202 555 0100").unwrap();
        set_aside.keep(6, b"D;Di;+1 202 555 0101").unwrap();
        set_aside
            .refuse(
                b"E;;",
                &[
                    problem(7, "name empty", "Name: empty"),
                    problem(7, "no phone number", "Phone: empty"),
                ],
            )
            .unwrap();
        set_aside.keep(8, b"F;Fi;+1 202 555 0101").unwrap();
        let conflicts = BTreeMap::from([
            (
                5,
                vec!["customer_id C already appears on line 2".to_owned()],
            ),
            (8, vec!["a \"quoted\" reason".to_owned()]),
        ]);
        set_aside.write(&conflicts, out).unwrap();
        let written = std::fs::read(&path).unwrap();
        let want: &[u8] = b"Id;Name;Phone;line;reason\r\n\
            B;\"Bo\r\nB\";\xff;3;\"Name: bad; really\"\r\n\
            C;Cy;+1 202 555 0100;5;customer_id C already appears on line 2\r\n\
            E;;;7;\"Name: empty; Phone: empty\"\r\n\
            F;Fi;+1 202 555 0101;8;\"a \"\"quoted\"\" reason\"\r\n";
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(want)
        );
        assert_eq!(written, want);
    }

    #[test]
    fn json_lines_rejects_carry_the_row_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.jsonl");
        let out = RejectWriter::create(&path).unwrap();
        let mut set_aside = SetAside::new().unwrap();
        set_aside
            .refuse(
                b"{not json",
                &[problem(
                    4,
                    "not valid JSON",
                    "not valid JSON: key must be a string",
                )],
            )
            .unwrap();
        set_aside.write(&BTreeMap::new(), out).unwrap();
        let line: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({"line": 4, "reason": "not valid JSON: key must be a string", "row": "{not json"})
        );
    }
}
