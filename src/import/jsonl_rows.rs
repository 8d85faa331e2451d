//! One JSON Lines row at a time: an object with the customer's fields.

use std::io::Read;

use super::lines::trim_line_breaks;
use super::row_error::stage;
use super::{RowError, RowResult};
use crate::domain::record::JsonTypes;
use crate::domain::{CustomerField, CustomerRecord, RecordProblem};
use crate::normalise::PhoneNormaliser;

pub(super) fn next_jsonl(
    lines: &mut std::io::Split<std::io::BufReader<Box<dyn Read>>>,
    line: &mut u64,
    normaliser: &PhoneNormaliser,
    mut raw_row: Option<&mut Vec<u8>>,
) -> Option<RowResult> {
    loop {
        *line += 1;
        let bytes = lines.next()?;
        if let (Some(raw_row), Ok(bytes)) = (raw_row.as_deref_mut(), &bytes) {
            raw_row.clear();
            raw_row.extend_from_slice(trim_line_breaks(bytes));
        }
        let text = match bytes.map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                return Some(Err(vec![RowError::new(
                    *line,
                    "not UTF-8",
                    "not UTF-8 text (save the file as UTF-8)".into(),
                )]));
            }
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
        let refuse =
            |kind: &str, reason: String| Some(Err(vec![RowError::new(*line, kind, reason)]));
        let object = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                return refuse(
                    "not a JSON object",
                    format!(
                        "expected a JSON object with {}",
                        CustomerField::NAMES.join(", ")
                    ),
                );
            }
            Err(e) => return refuse("not valid JSON", format!("not valid JSON: {e}")),
        };
        if let Some(unknown) = object.keys().find(|k| CustomerField::named(k).is_none()) {
            return refuse(
                "unknown field",
                format!(
                    "unknown field {unknown:?}; the fields are {}",
                    CustomerField::NAMES.join(", ")
                ),
            );
        }
        // An id an export wrote as a JSON number is that number's text.
        let id = match object.get(CustomerField::CustomerId.name()) {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let record = CustomerRecord::from_json(&id, &object, JsonTypes::Lenient, |raw| {
            normaliser.normalise(raw)
        });
        return Some(stage(*line, record, RecordProblem::to_string));
    }
}

#[cfg(test)]
mod tests {
    use crate::import::ImportFormat;
    use crate::import::test_support::read_as;

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
