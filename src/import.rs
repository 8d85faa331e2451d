//! Reading customers from CSV or JSON Lines, one row at a time: each row is validated on its
//! own and every bad row is reported with its line number and reason. Nothing here writes.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;

use crate::domain::record::JsonTypes;
use crate::domain::{CustomerRecord, FieldValue, RecordProblem};
use crate::normalise::PhoneNormaliser;
use crate::store::StagedRow;

pub const COLUMNS: [&str; 5] = [
    "customer_id",
    "name",
    "loyalty_points",
    "is_vip",
    "phone_numbers",
];

/// One problem in the file; `line` is 1-based as an editor shows it (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
    /// The rest of the file cannot be read (a bad header, broken encoding).
    pub fatal: bool,
}

impl RowError {
    pub fn new(line: u64, reason: String) -> Self {
        Self {
            line,
            reason,
            fatal: false,
        }
    }

    fn fatal(line: u64, reason: String) -> Self {
        Self {
            line,
            reason,
            fatal: true,
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

crate::named_values! {
    /// Which format an import file is in.
    pub enum ImportFormat {
        Csv => "csv",
        Jsonl => "jsonl",
    }
}

/// The next row of a file: a validated record, or every reason it was refused.
pub type RowResult = Result<StagedRow, Vec<RowError>>;

/// Reads an import file row by row, validating each row on its own. Checks that need the whole
/// file (duplicates) are the store's, on the staged rows.
pub struct RowReader<'n> {
    source: Source,
    normaliser: &'n PhoneNormaliser,
    /// A header or file error ends the reading after it is reported.
    finished: bool,
}

enum Source {
    Csv {
        reader: csv::Reader<LineCounting<Box<dyn Read>>>,
        positions: [usize; 5],
        lines: Rc<RefCell<LineIndex>>,
    },
    Jsonl {
        lines: std::io::Lines<std::io::BufReader<Box<dyn Read>>>,
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
        let source = match format {
            ImportFormat::Jsonl => Source::Jsonl {
                lines: std::io::BufReader::new(input).lines(),
                line: 0,
            },
            ImportFormat::Csv => {
                let lines = Rc::new(RefCell::new(LineIndex::default()));
                let counting = LineCounting {
                    inner: input,
                    lines: Rc::clone(&lines),
                };
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .trim(csv::Trim::All)
                    .from_reader(counting);
                match column_positions(&mut reader) {
                    Ok(positions) => Source::Csv {
                        reader,
                        positions,
                        lines,
                    },
                    Err(error) => Source::HeaderError(error),
                }
            }
        };
        Self {
            source,
            normaliser,
            finished: false,
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
            Source::HeaderError(error) => {
                self.finished = true;
                return Some(Err(vec![error.clone()]));
            }
            Source::Csv {
                reader,
                positions,
                lines,
            } => next_csv(reader, positions, lines, normaliser),
            Source::Jsonl { lines, line } => next_jsonl(lines, line, normaliser),
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

fn next_csv(
    reader: &mut csv::Reader<LineCounting<Box<dyn Read>>>,
    positions: &[usize; 5],
    lines: &Rc<RefCell<LineIndex>>,
    normaliser: &PhoneNormaliser,
) -> Option<RowResult> {
    let mut record = csv::StringRecord::new();
    loop {
        let line = lines.borrow_mut().line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => return None,
            Ok(true) => {}
            // A broken quote or invalid UTF-8 leaves the reader's position unreliable: stop.
            Err(e) => {
                return Some(Err(vec![RowError::fatal(
                    line,
                    format!("unreadable CSV: {e}"),
                )]));
            }
        }
        let line = record
            .position()
            .map_or(line, |p| lines.borrow_mut().line_at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue; // blank line
        }
        if record.len() != COLUMNS.len() {
            let reason = format!("expected {} fields, found {}", COLUMNS.len(), record.len());
            return Some(Err(vec![RowError {
                line,
                reason,
                fatal: false,
            }]));
        }
        let field = |name: usize| record.get(positions[name]).unwrap_or_default();
        let numbers: Vec<&str> = field(4).split(';').collect();
        let row = CustomerRecord::validate(
            field(0),
            field(1),
            FieldValue::Text(field(2)),
            FieldValue::Text(field(3)),
            &numbers,
            |raw| normaliser.normalise(raw),
        );
        return Some(stage(line, row));
    }
}

fn next_jsonl(
    lines: &mut std::io::Lines<std::io::BufReader<Box<dyn Read>>>,
    line: &mut u64,
    normaliser: &PhoneNormaliser,
) -> Option<RowResult> {
    loop {
        *line += 1;
        let text = match lines.next()? {
            Ok(text) => text,
            Err(e) => {
                return Some(Err(vec![RowError::fatal(
                    *line,
                    format!("unreadable line: {e}"),
                )]));
            }
        };
        let text = text.trim_start_matches('\u{FEFF}').trim();
        if text.is_empty() {
            continue;
        }
        let refuse = |reason: String| {
            Some(Err(vec![RowError {
                line: *line,
                reason,
                fatal: false,
            }]))
        };
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => return refuse("expected a JSON object with customer_id, name, loyalty_points, is_vip, phone_numbers".into()),
            Err(e) => return refuse(format!("not valid JSON: {e}")),
        };
        if let Some(unknown) = object.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
            return refuse(format!(
                "unknown field {unknown:?}; the fields are {}",
                COLUMNS.join(", ")
            ));
        }
        let id = object
            .get("customer_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let record = CustomerRecord::from_json(id, &object, JsonTypes::Lenient, |raw| {
            normaliser.normalise(raw)
        });
        return Some(stage(*line, record));
    }
}

fn stage(line: u64, row: Result<CustomerRecord, Vec<RecordProblem>>) -> RowResult {
    row.map(|record| StagedRow { line, record })
        .map_err(|reasons| {
            reasons
                .into_iter()
                .map(|problem| RowError {
                    line,
                    reason: problem.to_string(),
                    fatal: false,
                })
                .collect()
        })
}

/// The csv crate's line numbers count from before skipped blank lines and the `\n` of a
/// `\r\n`; operators need the line their editor shows. This index remembers where each line's
/// first real character is, for the window the reader has read ahead.
#[derive(Debug)]
struct LineIndex {
    offset: u64,
    line: u64,
    at_line_start: bool,
    /// (offset of the first byte that is not CR or LF, its line), oldest first.
    content_starts: VecDeque<(u64, u64)>,
}

impl Default for LineIndex {
    fn default() -> Self {
        Self {
            offset: 0,
            line: 1,
            at_line_start: true,
            content_starts: VecDeque::new(),
        }
    }
}

impl LineIndex {
    fn scan(&mut self, bytes: &[u8]) {
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

    /// The line of the first real character at or after `byte`; positions are asked for in
    /// increasing order, so what lies before is forgotten.
    fn line_at(&mut self, byte: u64) -> u64 {
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

struct LineCounting<R> {
    inner: R,
    lines: Rc<RefCell<LineIndex>>,
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.lines.borrow_mut().scan(&buf[..read]);
        Ok(read)
    }
}

/// Where each expected column is; the header may list them in any order.
fn column_positions<R: Read>(reader: &mut csv::Reader<R>) -> Result<[usize; 5], RowError> {
    let header_error = |reason: String| RowError::fatal(1, reason);
    let headers = reader
        .headers()
        .map_err(|e| header_error(format!("unreadable CSV header: {e}")))?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{FEFF}').trim().to_ascii_lowercase())
        .collect();
    if let Some(unknown) = names.iter().find(|n| !COLUMNS.contains(&n.as_str())) {
        return Err(header_error(format!(
            "unknown column {unknown:?}; the header must be {}",
            COLUMNS.join(",")
        )));
    }
    let mut positions = [0; 5];
    for (slot, column) in positions.iter_mut().zip(COLUMNS) {
        let mut found = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_str() == column);
        *slot = match (found.next(), found.next()) {
            (Some((index, _)), None) => index,
            (None, _) => {
                return Err(header_error(format!(
                    "missing column {column:?}; the header must be {}",
                    COLUMNS.join(",")
                )));
            }
            (Some(_), Some(_)) => {
                return Err(header_error(format!("column {column:?} appears twice")));
            }
        };
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::E164;
    use crate::normalise::Region;

    fn read_as(text: &str, format: ImportFormat) -> (Vec<StagedRow>, Vec<RowError>) {
        let normaliser = PhoneNormaliser::new("US".parse::<Region>().unwrap());
        let input: Box<dyn Read> = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        for item in RowReader::new(input, format, &normaliser) {
            match item {
                Ok(row) => rows.push(row),
                Err(e) => errors.extend(e),
            }
        }
        (rows, errors)
    }

    fn read(text: &str) -> (Vec<StagedRow>, Vec<RowError>) {
        read_as(text, ImportFormat::Csv)
    }

    #[test]
    fn reads_numbers_in_any_format_and_columns_in_any_order() {
        let (rows, errors) = read(
            "\u{FEFF}name,customer_id,is_vip,loyalty_points,phone_numbers\n\
             Alice Smith,CUST-001,yes,1500,(555) 123-4567; tel:+1-555-000-1111 ;+15551234567\n\
             \n\
             \"Jones, Bob\",CUST-002,0,200,+44 20 7946 0958\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 2);
        let alice = &rows[0].record;
        assert_eq!(alice.customer.name.as_str(), "Alice Smith");
        assert!(alice.customer.is_vip);
        let numbers: Vec<&str> = alice.phone_numbers.iter().map(E164::as_str).collect();
        assert_eq!(numbers, ["+15551234567", "+15550001111"]);
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].record.customer.name.as_str(), "Jones, Bob");
    }

    #[test]
    fn reports_every_bad_row_with_its_line_and_reason() {
        let (rows, errors) = read(
            "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
             C1,Ann,10,true,+15551234567\n\
             C2,,-3,maybe,123\n\
             C3,Cy,1.5,false,+1 (555) 123-4567\n\
             C4,Di,5,no,\n\
             C5,Ed,5\n\
             C6,Fi,6,no,+15550000006\n",
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let expect = [
            "line 3: name is empty",
            "line 3: loyalty_points must be",
            "line 3: is_vip must be",
            "line 3: phone number \"123\" is not usable",
            "line 4: loyalty_points must be",
            "line 5: phone_numbers is empty",
            "line 6: expected 5 fields, found 3",
        ];
        for wanted in expect {
            assert!(
                text.iter().any(|t| t.starts_with(wanted)),
                "missing {wanted:?} in {text:#?}"
            );
        }
        assert_eq!(errors.len(), expect.len(), "{text:#?}");
        let good: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(good, [2, 7], "reading goes on past bad rows");
    }

    #[test]
    fn line_numbers_are_the_ones_an_editor_shows() {
        let text = "customer_id,name,loyalty_points,is_vip,phone_numbers\r\n\r\n\
                    C1,A,1,true,+15551234567\r\n\
                    \n\
                    \"C2\",\"two\nline name\",1,true,+15551234568\n\
                    C3,,1,true,+15551234569\n";
        let (rows, errors) = read(text);
        assert_eq!(rows[0].line, 3);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[1].line), (5, 7), "{errors:?}");
        assert!(
            errors[0].reason.contains("control characters"),
            "{errors:?}"
        );
    }

    #[test]
    fn header_problems_are_reported_on_line_one_and_stop_the_reading() {
        let (rows, errors) =
            read("customer_id,name,points,is_vip,phone_numbers\nC1,A,1,true,+15551234567\n");
        assert!(rows.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 1);
        assert!(
            errors[0].reason.contains("\"points\""),
            "{}",
            errors[0].reason
        );
        let (_, errors) = read("customer_id,name,is_vip,phone_numbers\n");
        assert!(
            errors[0]
                .reason
                .contains("missing column \"loyalty_points\""),
            "{}",
            errors[0].reason
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

    #[test]
    fn json_lines_carry_the_same_fields_with_json_types() {
        let (rows, errors) = read_as(
            "{\"customer_id\":\"J1\",\"name\":\"Jo\",\"loyalty_points\":7,\"is_vip\":true,\"phone_numbers\":[\"+15550000001\",\"(555) 000-0002\"]}\n\
             \n\
             {\"customer_id\":\"J2\",\"name\":\"Ka\",\"loyalty_points\":1.5,\"is_vip\":\"maybe\",\"phone_numbers\":[]}\n\
             [1,2]\n\
             {\"customer_id\":\"J3\",\"name\":\"Li\",\"loyalty_points\":1,\"is_vip\":false,\"phone_numbers\":[\"+15550000003\"],\"vip\":1}\n\
             {not json\n",
            ImportFormat::Jsonl,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].record.phone_numbers.len(), 2);
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        for wanted in [
            "line 3: loyalty_points must be",
            "line 3: is_vip must be",
            "line 3: phone_numbers is empty",
            "line 4: expected a JSON object",
            "line 5: unknown field \"vip\"",
            "line 6: not valid JSON",
        ] {
            assert!(
                text.iter().any(|t| t.starts_with(wanted)),
                "missing {wanted:?} in {text:#?}"
            );
        }
    }
}
