//! One CSV row at a time: its cells read as the column plan says, its problems named by column.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use super::lines::{LineCounting, LineIndex, trim_line_breaks};
use super::plan::ColumnPlan;
use super::row_error::stage;
use super::values::vip_flag;
use super::{MappedField, RowError, RowResult};
use crate::domain::{CustomerField, CustomerRecord, FieldValue, NotAPhoneNumber, RecordProblem};
use crate::normalise::PhoneNormaliser;

pub(super) fn next_csv(
    reader: &mut csv::Reader<LineCounting<Box<dyn Read>>>,
    plan: &ColumnPlan,
    lines: &Rc<RefCell<LineIndex>>,
    normaliser: &PhoneNormaliser,
    mut raw_row: Option<&mut Vec<u8>>,
) -> Option<RowResult> {
    let mut record = csv::ByteRecord::new();
    loop {
        let line = lines.borrow_mut().line_at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => return None,
            Ok(true) => {}
            // The byte reader takes any bytes: only an I/O error gets here. Stop.
            Err(e) => {
                return Some(Err(vec![RowError::fatal(
                    line,
                    format!("unreadable CSV: {e}"),
                )]));
            }
        }
        let start = record.position().map(csv::Position::byte);
        let line = start.map_or(line, |start| lines.borrow_mut().line_at(start));
        if let Some(raw_row) = raw_row.as_deref_mut() {
            let end = reader.position().byte();
            let mut lines = lines.borrow_mut();
            raw_row.clear();
            raw_row.extend_from_slice(trim_line_breaks(lines.raw(start.unwrap_or(end), end)));
            lines.forget_raw_before(end);
        }
        if record.iter().all(|field| field.trim_ascii().is_empty()) {
            continue; // blank line
        }
        if record.len() != plan.width {
            let reason = format!("expected {} fields, found {}", plan.width, record.len());
            return Some(Err(vec![RowError::new(
                line,
                "wrong number of fields",
                reason,
            )]));
        }
        // Only the columns read must be UTF-8: a Latin-1 street in a column nobody maps costs
        // nothing, and a Latin-1 name costs its row, not the file.
        let not_utf8: Vec<RowError> = plan
            .read_positions
            .iter()
            .filter(|&&p| std::str::from_utf8(record.get(p).unwrap_or_default()).is_err())
            .map(|&p| {
                let column = plan.headers.get(p).map_or("?", String::as_str);
                RowError::new(
                    line,
                    "not UTF-8",
                    format!("{column}: not UTF-8 text (save the file as UTF-8)"),
                )
            })
            .collect();
        if !not_utf8.is_empty() {
            return Some(Err(not_utf8));
        }
        let text = |p: usize| -> &str {
            std::str::from_utf8(record.get(p).unwrap_or_default())
                .unwrap_or_default()
                .trim()
        };
        // A field's first column group, its columns joined with a space.
        let group = |positions: &[usize]| -> String {
            positions
                .iter()
                .map(|&p| text(p))
                .filter(|text| !text.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let field = |columns: &[Vec<usize>]| -> String {
            columns.first().map(|g| group(g)).unwrap_or_default()
        };
        // Every phone column, each possibly holding several numbers separated by `;`.
        let phone_text: Vec<String> = plan.fields.phone_numbers.iter().map(|g| group(g)).collect();
        let numbers: Vec<&str> = phone_text.iter().flat_map(|text| text.split(';')).collect();
        let region_text = field(&plan.fields.region);
        let row_normaliser = match region_text.trim() {
            "" => Ok(*normaliser),
            country => plan.region(country).map(PhoneNormaliser::new),
        };
        // An unknown country is reported with the row's other problems; its national numbers
        // cannot be judged without it, so their problems are left out.
        let (row_normaliser, country_error) = match row_normaliser {
            Ok(row_normaliser) => (row_normaliser, None),
            Err(why) => (
                *normaliser,
                Some(RowError::new(
                    line,
                    "unknown country",
                    format!("{}: {why}", plan.column_label(MappedField::Region)),
                )),
            ),
        };
        let points = field(&plan.fields.loyalty_points);
        let points = if plan.fields.loyalty_points.is_empty() {
            "0".to_owned()
        } else {
            points
        };
        let vip = field(&plan.fields.is_vip);
        let vip = vip_flag(&vip, plan);
        let row = CustomerRecord::validate(
            &field(&plan.fields.customer_id),
            &field(&plan.fields.name),
            FieldValue::Text(&points),
            FieldValue::Text(&vip),
            &numbers,
            |raw| row_normaliser.normalise(raw),
        );
        let staged = stage(line, row, |problem| {
            describe_csv_problem(problem, plan, &phone_text, &row_normaliser)
        });
        return Some(match (staged, country_error) {
            (staged, None) => staged,
            (Ok(_), Some(error)) => Err(vec![error]),
            (Err(problems), Some(error)) => Err(std::iter::once(error)
                .chain(
                    problems
                        .into_iter()
                        .filter(|p| !p.kind.starts_with("phone number")),
                )
                .collect()),
        });
    }
}

/// A CSV row's problem in the file's own terms: the column it is in, the value, what is wrong.
pub(super) fn describe_csv_problem(
    problem: &RecordProblem,
    plan: &ColumnPlan,
    phone_columns: &[String],
    normaliser: &PhoneNormaliser,
) -> String {
    use crate::domain::FieldError as F;
    // The field's column, named only when it is not the field's own name.
    let in_column = |field: MappedField, text: String| {
        let column = plan.column_label(field);
        if column.eq_ignore_ascii_case(field.name()) {
            text
        } else {
            format!("{column}: {text}")
        }
    };
    match problem {
        RecordProblem::Field(error) => {
            let field = match error {
                F::Empty { field }
                | F::Missing { field }
                | F::TooLong { field, .. }
                | F::ControlCharacters { field }
                | F::SurroundingWhiteSpace { field } => {
                    CustomerField::named(field).unwrap_or(CustomerField::CustomerId)
                }
                F::PointsOutOfRange { .. } | F::PointsNotAWholeNumber { .. } => {
                    CustomerField::LoyaltyPoints
                }
                F::NotAVipFlag { .. } | F::NotABoolean { .. } => CustomerField::IsVip,
            };
            in_column(MappedField::Customer(field), error.to_string())
        }
        RecordProblem::PhoneNumber { raw, why } => {
            let group = phone_columns
                .iter()
                .position(|text| text.split(';').any(|n| n.trim() == raw))
                .unwrap_or(0);
            let column = plan
                .fields
                .phone_numbers
                .get(group)
                .map(|g| plan.group_label(g))
                .unwrap_or_else(|| CustomerField::PhoneNumbers.name().to_owned());
            let region = normaliser.region_named_in(raw);
            let what = match (why, region) {
                (NotAPhoneNumber::TooShort, Some(region)) => format!("too short for {region}"),
                (NotAPhoneNumber::TooLong, Some(region)) => format!("too long for {region}"),
                (NotAPhoneNumber::InvalidLength, Some(region)) => {
                    format!("not a length {region} numbers have")
                }
                (why, _) => why.to_string(),
            };
            format!("{column}: {raw:?}: {what}")
        }
        RecordProblem::NoPhoneNumbers => format!(
            "{}: empty: a customer needs at least one phone number",
            plan.fields
                .phone_numbers
                .iter()
                .map(|g| plan.group_label(g))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The delimiter of the header line: the most frequent of `,`, `;` and tab outside quotes (a
/// European export uses `;`, a spreadsheet's text export tab); `,` when none appears.
pub(super) fn detect_delimiter(start: &[u8]) -> u8 {
    let header = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut quoted = false;
    let mut counts = [0usize; 3];
    for &byte in header {
        match byte {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::domain::E164;
    use crate::import::ColumnMapping;
    use crate::import::peek::peek;
    use crate::import::test_support::{read, read_mapped};

    #[test]
    fn with_vip_values_only_the_listed_values_mean_vip() {
        let (rows, errors) = read_mapped(
            b"Id,Name,Phone,Level\nA,Ann,+15550000001,0\nB,Bo,+15550000002,1\nC,Cy,+15550000003,3\nD,Di,+15550000004,\nE,Ed,+15550000005,yes\n",
            &["customer_id=Id", "phone_numbers=Phone", "is_vip=Level"],
            &["3"],
        );
        assert!(errors.is_empty(), "{errors:?}");
        let vips: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.record.customer.id.as_str(), r.record.customer.is_vip))
            .collect();
        assert_eq!(
            vips,
            [
                ("A", false),
                ("B", false),
                ("C", true),
                ("D", false),
                ("E", false)
            ]
        );
        assert!(ColumnMapping::parse_vip_value(" Platinum ").unwrap() == "Platinum");
        assert!(ColumnMapping::parse_vip_value(" ").is_err());
    }

    /// A pipe that delivers one byte per read.
    struct Trickle(std::io::Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let end = buf.len().min(1);
            self.0.read(&mut buf[..end])
        }
    }

    #[test]
    fn the_delimiter_is_found_however_the_header_arrives() {
        let text = b"Id;Name;Phone\nX1;Ann;+15550000071\n".to_vec();
        let (start, mut replay) =
            peek(Box::new(Trickle(std::io::Cursor::new(text.clone()))), |s| {
                s.contains(&b'\n')
            });
        assert_eq!(detect_delimiter(&start), b';');
        let mut all = Vec::new();
        replay.read_to_end(&mut all).unwrap();
        assert_eq!(all, text, "the peeked start is replayed, nothing lost");
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
            "line 3: phone_numbers: \"123\": too short for US",
            "line 4: loyalty_points must be",
            "line 5: phone_numbers: empty",
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
    fn mapped_rows_name_the_column_the_value_and_what_is_wrong() {
        let (_, errors) = read_mapped(
            b"Id,Full Name,Phone,MobilePhone,Country,Points\n\
              A1,Ann,+44 20 79,,GB,1\n\
              A2,Bo,+1 202 555 0143,01 23,FR,x\n\
              A3,,,,US,1\n",
            &[
                "customer_id=Id",
                "name=Full Name",
                "phone_numbers=Phone,MobilePhone",
                "region=Country",
                "loyalty_points=Points",
            ],
            &[],
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "line 2: Phone: \"+44 20 79\": too short for GB",
                "line 3: Points: loyalty_points must be a whole number from 0 to 9007199254740991, not \"x\"",
                "line 3: MobilePhone: \"01 23\": too short for FR",
                "line 4: Full Name: name is empty",
                "line 4: Phone, MobilePhone: empty: a customer needs at least one phone number",
            ]
        );
        let kinds: Vec<&str> = errors.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "phone number too short",
                "loyalty_points not a whole number in range",
                "phone number too short",
                "name empty",
                "no phone number",
            ]
        );
    }

    #[test]
    fn one_bad_cell_does_not_hide_the_others() {
        let (_, errors) = read_mapped(
            b"Id,First,Last,Phone,Country,Points\n\
              S9,Ed,Lee,12,Narnia,1.5\n\
              S10,\xe9d,L\xe9e,+15551234567,US,1\n",
            &[
                "customer_id=Id",
                "name=First+Last",
                "phone_numbers=Phone",
                "region=Country",
                "loyalty_points=Points",
            ],
            &[],
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "line 2: Country: unknown country \"Narnia\": use an ISO 3166-1 code (GB, GBR) or an English name",
                "line 2: Points: loyalty_points must be a whole number from 0 to 9007199254740991, not \"1.5\"",
                "line 3: First: not UTF-8 text (save the file as UTF-8)",
                "line 3: Last: not UTF-8 text (save the file as UTF-8)",
            ]
        );
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
}
