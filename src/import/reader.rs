//! Reads an import file row by row, in either format, validating each row on its own.

use std::cell::RefCell;
use std::io::{BufRead, Read};
use std::rc::Rc;

use super::csv_rows::{detect_delimiter, next_csv};
use super::headers::{column_positions, mapped_columns};
use super::jsonl_rows::next_jsonl;
use super::lines::{LineCounting, LineIndex, trim_line_breaks};
use super::peek::peek;
use super::plan::ColumnPlan;
use super::{ColumnMapping, ImportFormat, RowError, RowResult};
use crate::normalise::PhoneNormaliser;
use crate::store::ImportedFields;

/// Reads an import file row by row, validating each row on its own. Checks that need the whole
/// file (duplicates) are the store's, on the staged rows.
pub struct RowReader<'n> {
    source: FormatReader,
    normaliser: &'n PhoneNormaliser,
    /// A header or file error ends the reading after it is reported.
    finished: bool,
    /// With `keeping_raw_rows`: the last row returned, exactly as the file has it.
    raw_row: Option<Vec<u8>>,
}

/// A CSV file's header as read, for a reject file that repeats it.
#[derive(Clone, Debug, Default)]
pub struct CsvDialect {
    /// The header line's bytes (a byte-order mark included), without its line break.
    pub header: Vec<u8>,
    pub delimiter: u8,
    /// The header ended with `\r\n`.
    pub crlf: bool,
}

pub(super) enum FormatReader {
    Csv {
        reader: csv::Reader<LineCounting<Box<dyn Read>>>,
        plan: Box<ColumnPlan>,
        lines: Rc<RefCell<LineIndex>>,
        dialect: CsvDialect,
    },
    Jsonl {
        lines: std::io::Split<std::io::BufReader<Box<dyn Read>>>,
        line: u64,
    },
    HeaderError(RowError),
}

impl<'n> RowReader<'n> {
    pub fn new(
        input: Box<dyn Read>,
        format: ImportFormat,
        normaliser: &'n PhoneNormaliser,
    ) -> Self {
        Self::with_mapping(input, format, normaliser, &ColumnMapping::default())
    }

    /// As `new`, reading a CSV file's columns as `mapping` says.
    pub fn with_mapping(
        input: Box<dyn Read>,
        format: ImportFormat,
        normaliser: &'n PhoneNormaliser,
        mapping: &ColumnMapping,
    ) -> Self {
        Self::build(input, format, normaliser, mapping, false)
    }

    /// As `with_mapping`, also keeping each row's bytes as read (`raw_row`), for a reject file.
    pub fn keeping_raw_rows(
        input: Box<dyn Read>,
        format: ImportFormat,
        normaliser: &'n PhoneNormaliser,
        mapping: &ColumnMapping,
    ) -> Self {
        Self::build(input, format, normaliser, mapping, true)
    }

    /// The row last returned, exactly as read (without its line break); empty unless the
    /// reader keeps raw rows.
    pub fn raw_row(&self) -> &[u8] {
        self.raw_row.as_deref().unwrap_or_default()
    }

    /// The optional fields the file gives (JSON Lines rows always carry them).
    pub fn imported_fields(&self) -> ImportedFields {
        match &self.source {
            FormatReader::Csv { plan, .. } => ImportedFields {
                loyalty_points: !plan.fields.loyalty_points.is_empty(),
                is_vip: !plan.fields.is_vip.is_empty(),
            },
            _ => ImportedFields::ALL,
        }
    }

    /// Notes on how the header was read (an optional field without a column, say).
    pub fn notes(&self) -> &[String] {
        match &self.source {
            FormatReader::Csv { plan, .. } => &plan.notes,
            _ => &[],
        }
    }

    /// A CSV file's header and delimiter; `None` for JSON Lines or an unreadable header.
    pub fn csv_dialect(&self) -> Option<&CsvDialect> {
        match &self.source {
            FormatReader::Csv { dialect, .. } => Some(dialect),
            _ => None,
        }
    }

    fn build(
        input: Box<dyn Read>,
        format: ImportFormat,
        normaliser: &'n PhoneNormaliser,
        mapping: &ColumnMapping,
        keep_raw: bool,
    ) -> Self {
        let source = match format {
            ImportFormat::Jsonl => FormatReader::Jsonl {
                lines: std::io::BufReader::new(input).split(b'\n'),
                line: 0,
            },
            ImportFormat::Csv => {
                let (input, delimiter) = match mapping.delimiter {
                    Some(delimiter) => (input, delimiter),
                    None => {
                        // An unreadable start shows as the reader's own error on line 1.
                        let (header, input) = peek(input, |start| {
                            start.contains(&b'\n') || start.len() >= 1 << 16
                        });
                        (input, detect_delimiter(&header))
                    }
                };
                let input = std::io::BufReader::with_capacity(1 << 16, input);
                let lines = Rc::new(RefCell::new(LineIndex::new(keep_raw)));
                let counting = LineCounting {
                    inner: Box::new(input) as Box<dyn Read>,
                    lines: Rc::clone(&lines),
                };
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .trim(csv::Trim::All)
                    .delimiter(delimiter)
                    .from_reader(counting);
                let plan = if mapping.fields.is_empty() && mapping.vip_values.is_empty() {
                    column_positions(&mut reader)
                } else {
                    mapped_columns(&mut reader, mapping)
                };
                match plan {
                    Ok(plan) => {
                        let end = reader.position().byte();
                        let header = lines.borrow().raw(0, end).to_vec();
                        let dialect = CsvDialect {
                            // The reader stops after the `\r` of a `\r\n`.
                            crlf: header.ends_with(b"\r") || header.ends_with(b"\r\n"),
                            header: trim_line_breaks(&header).to_vec(),
                            delimiter,
                        };
                        FormatReader::Csv {
                            reader,
                            plan: Box::new(plan),
                            lines,
                            dialect,
                        }
                    }
                    Err(error) => FormatReader::HeaderError(error),
                }
            }
        };
        Self {
            source,
            normaliser,
            finished: false,
            raw_row: keep_raw.then(Vec::new),
        }
    }
}

impl Iterator for RowReader<'_> {
    type Item = RowResult;

    fn next(&mut self) -> Option<RowResult> {
        if self.finished {
            return None;
        }
        let normaliser = self.normaliser;
        let item = match &mut self.source {
            FormatReader::HeaderError(error) => {
                self.finished = true;
                return Some(Err(vec![error.clone()]));
            }
            FormatReader::Csv {
                reader,
                plan,
                lines,
                ..
            } => next_csv(reader, plan, lines, normaliser, self.raw_row.as_mut()),
            FormatReader::Jsonl { lines, line } => {
                next_jsonl(lines, line, normaliser, self.raw_row.as_mut())
            }
        };
        match item {
            Some(Err(errors)) if errors.iter().any(|e| e.fatal) => {
                self.finished = true;
                Some(Err(errors))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::import::test_support::read;
    use crate::normalise::Region;

    /// Every row's line and bytes as `keeping_raw_rows` gives them, read through a pipe that
    /// hands over `chunk` bytes at a time.
    fn raw_rows(bytes: &[u8], format: ImportFormat, chunk: usize) -> Vec<(u64, Vec<u8>)> {
        struct Chunked(std::io::Cursor<Vec<u8>>, usize);
        impl Read for Chunked {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let end = buf.len().min(self.1);
                self.0.read(&mut buf[..end])
            }
        }
        let normaliser = PhoneNormaliser::new("US".parse::<Region>().unwrap());
        let input: Box<dyn Read> = Box::new(Chunked(std::io::Cursor::new(bytes.to_vec()), chunk));
        let mut reader =
            RowReader::keeping_raw_rows(input, format, &normaliser, &ColumnMapping::default());
        let mut rows = Vec::new();
        while let Some(item) = reader.next() {
            let line = match item {
                Ok(row) => row.line,
                Err(errors) => errors[0].line,
            };
            rows.push((line, reader.raw_row().to_vec()));
        }
        rows
    }

    #[test]
    fn raw_rows_are_the_bytes_of_the_file() {
        let rows: [&[u8]; 5] = [
            b"C1,Ann,1,true,+15551234567",
            b"\"C2\",\"two\r\nlines\",1,true,\"+1 555, 123\"",
            b"C3,Bad \xff name,1,true,+15551234569",
            b"  C4 , Di ,2,no,+15551234570  ",
            b"C5,Ed",
        ];
        for ending in [&b"\n"[..], b"\r\n"] {
            let mut file =
                b"\xef\xbb\xbfcustomer_id,name,loyalty_points,is_vip,phone_numbers".to_vec();
            for row in rows {
                file.extend_from_slice(ending);
                file.extend_from_slice(ending); // a blank line before each row
                file.extend_from_slice(row);
            }
            file.extend_from_slice(ending);
            for chunk in [1, 7, 1 << 20] {
                let read = raw_rows(&file, ImportFormat::Csv, chunk);
                let want: Vec<(u64, Vec<u8>)> = [3, 5, 8, 10, 12]
                    .into_iter()
                    .zip(rows.iter().map(|r| r.to_vec()))
                    .collect();
                assert_eq!(read, want, "line ending {ending:?}, chunks of {chunk}");
            }
            let normaliser = PhoneNormaliser::new("US".parse::<Region>().unwrap());
            let input: Box<dyn Read> = Box::new(std::io::Cursor::new(file.clone()));
            let reader = RowReader::keeping_raw_rows(
                input,
                ImportFormat::Csv,
                &normaliser,
                &ColumnMapping::default(),
            );
            let dialect = reader.csv_dialect().unwrap();
            assert_eq!(
                dialect.header,
                b"\xef\xbb\xbfcustomer_id,name,loyalty_points,is_vip,phone_numbers"
            );
            assert_eq!(dialect.crlf, ending == b"\r\n");
        }
        // Far more than the window dropped at once, so the dropping is exercised.
        let mut big = b"customer_id,name,loyalty_points,is_vip,phone_numbers\n".to_vec();
        for i in 0..5000 {
            big.extend_from_slice(format!("C{i},Name {i},{i},true,+1555{i:07}\n").as_bytes());
        }
        let read = raw_rows(&big, ImportFormat::Csv, 4096);
        assert_eq!(read.len(), 5000);
        assert_eq!(read[4321].1, b"C4321,Name 4321,4321,true,+15550004321");
        let jsonl = b"{\"customer_id\":\"J1\"}\r\n\n{not json\n";
        let read = raw_rows(jsonl, ImportFormat::Jsonl, 3);
        assert_eq!(
            read,
            [
                (1, b"{\"customer_id\":\"J1\"}".to_vec()),
                (3, b"{not json".to_vec())
            ]
        );
    }

    #[test]
    fn broken_csv_is_an_error_not_a_panic() {
        let mut bytes = b"customer_id,name,loyalty_points,is_vip,phone_numbers\nC1,".to_vec();
        bytes.extend_from_slice(b"\xff\xfe,1,true,+15551234567\n");
        let (_, errors) = read(&String::from_utf8_lossy(&bytes));
        // Lossy decoding turns the bytes into U+FFFD: a valid name, so no error here; raw
        // invalid UTF-8 is checked through the reader directly.
        assert!(errors.is_empty());
        let normaliser = PhoneNormaliser::new("US".parse::<Region>().unwrap());
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(bytes));
        let results: Vec<_> = RowReader::new(input, ImportFormat::Csv, &normaliser).collect();
        let errors: Vec<RowError> = results
            .into_iter()
            .filter_map(Result::err)
            .flatten()
            .collect();
        assert_eq!(errors[0].line, 2, "{errors:?}");
        assert!(errors[0].reason.contains("UTF-8"), "{errors:?}");
    }
}
