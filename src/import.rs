//! Reading customers from CSV: every row is validated before anything is written, and every bad
//! row is reported with its line number and reason.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::Read;
use std::rc::Rc;

use crate::domain::{
    Customer, CustomerId, CustomerName, CustomerRecord, E164, FieldError, LoyaltyPoints,
    parse_is_vip,
};
use crate::normalise::PhoneNormaliser;

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
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// A validated row and where it came from.
#[derive(Clone, Debug)]
pub struct ImportRow {
    pub line: u64,
    pub record: CustomerRecord,
}

/// Reads the whole file; `Err` holds every problem found (nothing may be written then).
pub fn read_csv(
    input: impl Read,
    normaliser: &PhoneNormaliser,
) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let lines = Rc::new(RefCell::new(LineIndex::default()));
    let input = LineCounting {
        inner: input,
        lines: Rc::clone(&lines),
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let line_at = |byte: u64| lines.borrow_mut().line_at(byte);
    let positions = column_positions(&mut reader).map_err(|e| vec![e])?;

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of_id: HashMap<CustomerId, u64> = HashMap::new();
    let mut owner_of_number: HashMap<E164, (u64, CustomerId)> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                errors.push(RowError {
                    line,
                    reason: format!("unreadable CSV: {e}"),
                });
                // A broken quote or invalid UTF-8 leaves the reader's position unreliable.
                break;
            }
        }
        let line = record.position().map_or(line, |p| line_at(p.byte()));
        if record.iter().all(str::is_empty) {
            continue; // blank line
        }
        if record.len() != COLUMNS.len() {
            errors.push(RowError {
                line,
                reason: format!("expected {} fields, found {}", COLUMNS.len(), record.len()),
            });
            continue;
        }
        let field = |name: usize| record.get(positions[name]).unwrap_or_default();
        let parsed = parse_row(field(0), field(1), field(2), field(3), field(4), normaliser);
        let row = match parsed {
            Ok(row) => row,
            Err(reasons) => {
                errors.extend(reasons.into_iter().map(|reason| RowError { line, reason }));
                continue;
            }
        };
        let id = row.customer.id.clone();
        if let Some(first) = first_line_of_id.get(&id) {
            errors.push(RowError {
                line,
                reason: format!(
                    "customer_id {} already appears on line {first}",
                    id.as_str()
                ),
            });
            continue;
        }
        first_line_of_id.insert(id.clone(), line);
        for number in &row.phone_numbers {
            if let Some((other_line, other_id)) = owner_of_number.get(number) {
                errors.push(RowError {
                    line,
                    reason: format!(
                        "phone number {number} is also given to customer {} on line {other_line}",
                        other_id.as_str()
                    ),
                });
            } else {
                owner_of_number.insert(number.clone(), (line, id.clone()));
            }
        }
        rows.push(ImportRow { line, record: row });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
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
    let header_error = |reason: String| RowError { line: 1, reason };
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

/// All the reasons a row is refused, or the record it describes.
fn parse_row(
    id: &str,
    name: &str,
    points: &str,
    vip: &str,
    numbers: &str,
    normaliser: &PhoneNormaliser,
) -> Result<CustomerRecord, Vec<String>> {
    let mut reasons = Vec::new();
    let id = noted(CustomerId::parse(id), &mut reasons);
    let name = noted(CustomerName::parse(name), &mut reasons);
    let loyalty_points = noted(LoyaltyPoints::parse(points), &mut reasons);
    let is_vip = noted(parse_is_vip(vip), &mut reasons);

    let mut phone_numbers: Vec<E164> = Vec::new();
    for raw in numbers.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        match normaliser.normalise(raw) {
            // The same number written twice for one customer is one number.
            Ok(number) if phone_numbers.contains(&number) => {}
            Ok(number) => phone_numbers.push(number),
            Err(why) => reasons.push(format!("phone number {raw:?} is not usable: {why}")),
        }
    }
    if numbers.split(';').all(|s| s.trim().is_empty()) {
        reasons.push("phone_numbers is empty: a customer needs at least one number".into());
    }
    match (id, name, loyalty_points, is_vip) {
        (Some(id), Some(name), Some(loyalty_points), Some(is_vip)) if reasons.is_empty() => {
            Ok(CustomerRecord {
                customer: Customer {
                    id,
                    name,
                    loyalty_points,
                    is_vip,
                },
                phone_numbers,
            })
        }
        _ => Err(reasons),
    }
}

/// The value, or `None` with the reason added to `reasons`.
fn noted<T>(result: Result<T, FieldError>, reasons: &mut Vec<String>) -> Option<T> {
    result.map_err(|e| reasons.push(e.0)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::Region;

    fn read(text: &str) -> Result<Vec<ImportRow>, Vec<RowError>> {
        read_csv(
            text.as_bytes(),
            &PhoneNormaliser::new("US".parse::<Region>().unwrap()),
        )
    }

    #[test]
    fn reads_numbers_in_any_format_and_columns_in_any_order() {
        let rows = read(
            "\u{FEFF}name,customer_id,is_vip,loyalty_points,phone_numbers\n\
             Alice Smith,CUST-001,yes,1500,(555) 123-4567; tel:+1-555-000-1111 ;+15551234567\n\
             \n\
             \"Jones, Bob\",CUST-002,0,200,+44 20 7946 0958\n",
        )
        .unwrap();
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
        let errors = read(
            "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
             C1,Ann,10,true,+15551234567\n\
             C2,,-3,maybe,123\n\
             C1,Ann again,1,false,+15559990000\n\
             C3,Cy,1.5,false,+1 (555) 123-4567\n\
             C4,Di,5,no,\n\
             C5,Ed,5\n",
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let expect = [
            "line 3: name is empty",
            "line 3: loyalty_points must be",
            "line 3: is_vip must be",
            "line 3: phone number \"123\" is not usable",
            "line 4: customer_id C1 already appears on line 2",
            "line 5: loyalty_points must be",
            "line 6: phone_numbers is empty",
            "line 7: expected 5 fields, found 3",
        ];
        for wanted in expect {
            assert!(
                text.iter().any(|t| t.starts_with(wanted)),
                "missing {wanted:?} in {text:#?}"
            );
        }
        // Line 5's number is valid on its own; it is line 5's points that fail, so the number
        // clash with line 2 is not reported for a row that was already refused.
        assert_eq!(errors.len(), expect.len(), "{text:#?}");
    }

    #[test]
    fn a_number_on_two_customers_names_both_lines() {
        let errors = read(
            "customer_id,name,loyalty_points,is_vip,phone_numbers\n\
             C1,Ann,10,true,+15551234567\n\
             C2,Bo,10,true,(555) 123-4567\n",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(
            errors[0].reason.contains("+15551234567"),
            "{}",
            errors[0].reason
        );
        assert!(
            errors[0].reason.contains("customer C1 on line 2"),
            "{}",
            errors[0].reason
        );
    }

    #[test]
    fn line_numbers_are_the_ones_an_editor_shows() {
        let text = "customer_id,name,loyalty_points,is_vip,phone_numbers\r\n\r\n\
                    C1,A,1,true,+15551234567\r\n\
                    \n\
                    \"C2\",\"two\nline name\",1,true,+15551234568\n\
                    C3,,1,true,+15551234569\n";
        let errors = read(text).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[1].line), (5, 7), "{errors:?}");
        assert!(
            errors[0].reason.contains("control characters"),
            "{errors:?}"
        );
    }

    #[test]
    fn header_problems_are_reported_on_line_one() {
        let errors =
            read("customer_id,name,points,is_vip,phone_numbers\nC1,A,1,true,+15551234567\n")
                .unwrap_err();
        assert_eq!(errors[0].line, 1);
        assert!(
            errors[0].reason.contains("\"points\""),
            "{}",
            errors[0].reason
        );
        let errors = read("customer_id,name,is_vip,phone_numbers\n").unwrap_err();
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
        let bytes = b"customer_id,name,loyalty_points,is_vip,phone_numbers\nC1,\xff\xfe,1,true,+15551234567\n";
        let errors = read_csv(
            &bytes[..],
            &PhoneNormaliser::new("US".parse::<Region>().unwrap()),
        )
        .unwrap_err();
        assert_eq!(errors[0].line, 2, "{errors:?}");
        assert!(errors[0].reason.contains("UTF-8"), "{errors:?}");
    }
}
