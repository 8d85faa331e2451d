//! A CSV header matched to the fields: the native layout, or the columns a mapping names.

use std::cell::RefCell;
use std::io::Read;

use super::plan::{ColumnPlan, FieldColumns};
use super::rejects::REJECT_COLUMNS;
use super::{ColumnMapping, MappedField, RowError};
use crate::domain::CustomerField;

/// A header name as people vary it: case, spaces, underscores and hyphens ignored.
pub(super) fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The columns a mapping names, found in the header: exactly, else loosely.
pub(super) fn mapped_columns<R: Read>(
    reader: &mut csv::Reader<R>,
    mapping: &ColumnMapping,
) -> Result<ColumnPlan, RowError> {
    let header_error = |reason: String| RowError::fatal(1, reason);
    let headers = header_names(reader)?;
    let found = || headers.join(", ");
    let position = |column: &str| -> Result<usize, RowError> {
        let exact: Vec<usize> = (0..headers.len())
            .filter(|&i| headers[i] == column)
            .collect();
        let candidates = if exact.is_empty() {
            (0..headers.len())
                .filter(|&i| loose(&headers[i]) == loose(column))
                .collect()
        } else {
            exact
        };
        match candidates.as_slice() {
            [one] => Ok(*one),
            [] => Err(header_error(format!(
                "no column {column:?}; the header has: {}",
                found()
            ))),
            _ => Err(header_error(format!(
                "column {column:?} matches several columns of the header: {}",
                found()
            ))),
        }
    };
    let mut fields = FieldColumns::default();
    for field in MappedField::ALL {
        let given = mapping.fields.iter().find(|(mapped, _)| *mapped == field);
        *fields.of_mut(field) = match given {
            Some((_, groups)) => groups
                .iter()
                .map(|group| {
                    group
                        .iter()
                        .map(|c| position(c))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?,
            // A required field not mapped is read from a column of its own name. An optional
            // one only from a column named exactly so: a CRM's "Region" (a sales territory) or
            // "Is VIP" must not be read unasked.
            None if field.is_required() => position(field.name())
                .map(|p| vec![vec![p]])
                .unwrap_or_default(),
            None if field == MappedField::Region => Vec::new(),
            None => (0..headers.len())
                .filter(|&i| headers[i].eq_ignore_ascii_case(field.name()))
                .map(|i| vec![i])
                .take(1)
                .collect(),
        };
    }
    let mut notes = Vec::new();
    for optional in [CustomerField::LoyaltyPoints, CustomerField::IsVip] {
        let field = optional.name();
        if fields.of(MappedField::Customer(optional)).is_empty() {
            let lookalike = headers.iter().find(|h| loose(h) == loose(field));
            notes.push(match lookalike {
                Some(column) => format!(
                    "column {column:?} looks like {field} but is not read (only a column named exactly {field} is): \
                     map it with --map {field}=\"{column}\"; meanwhile existing customers keep their {field}, new ones get the default"
                ),
                None => format!(
                    "no {field} column: existing customers keep their {field}, new ones get the default ({})",
                    if optional == CustomerField::LoyaltyPoints {
                        "0"
                    } else {
                        "false"
                    }
                ),
            });
        }
    }
    if !mapping.vip_values.is_empty() && fields.is_vip.is_empty() {
        return Err(header_error(format!(
            "--vip-values needs a tier column: map it with --map is_vip=COLUMN; the header has: {}",
            found()
        )));
    }
    for field in MappedField::ALL {
        if fields.of(field).is_empty() && field.is_required() {
            let field = field.name();
            return Err(header_error(format!(
                "nothing to read {field} from: map it with --map {field}=COLUMN; the header has: {}",
                found()
            )));
        }
    }
    Ok(ColumnPlan {
        read_positions: fields.positions(),
        fields,
        width: headers.len(),
        vip_values: mapping.vip_values.clone(),
        headers,
        regions: RefCell::default(),
        notes,
    })
}

/// The header's names, trimmed, a byte-order mark dropped. Bytes that are not UTF-8 are shown
/// as U+FFFD: a Latin-1 name of a column nobody reads must not refuse the file.
pub(super) fn header_names<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, RowError> {
    let names: Vec<String> = reader
        .byte_headers()
        .map_err(|e| RowError::fatal(1, format!("unreadable CSV header: {e}")))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{FEFF}')
                .trim()
                .to_owned()
        })
        .collect();
    if names.iter().all(String::is_empty) {
        return Err(RowError::fatal(
            1,
            "no header: the file is empty or its first line is blank".into(),
        ));
    }
    Ok(names)
}

/// The native layout, its names matched exactly, else ignoring case, spaces, underscores and
/// hyphens (`Customer ID`, `Phone Numbers`).
pub(super) fn column_positions<R: Read>(
    reader: &mut csv::Reader<R>,
) -> Result<ColumnPlan, RowError> {
    let header_error = |reason: String| RowError::fatal(1, reason);
    let names = header_names(reader)?;
    let found = || names.join(", ");
    let known = |name: &str, columns: &[&str]| columns.iter().any(|c| loose(c) == loose(name));
    // A reject file's own columns are not the customer's: a corrected reject file imports as is.
    if let Some(unknown) = names
        .iter()
        .find(|n| !known(n, &CustomerField::NAMES) && !known(n, &REJECT_COLUMNS))
    {
        let hint = if unknown.starts_with('{') {
            " (JSON Lines from standard input needs --format jsonl)"
        } else {
            " (or map a CRM's own columns with --map)"
        };
        return Err(header_error(format!(
            "unknown column {unknown:?}; the header must be {}{hint}; the header has: {}",
            CustomerField::NAMES.join(","),
            found()
        )));
    }
    let mut positions = [0; 5];
    let width = names.len();
    for (slot, column) in positions.iter_mut().zip(CustomerField::NAMES) {
        let mut matches = names
            .iter()
            .enumerate()
            .filter(|(_, n)| loose(n) == loose(column));
        *slot = match (matches.next(), matches.next()) {
            (Some((index, _)), None) => index,
            (None, _) => {
                return Err(header_error(format!(
                    "missing column {column:?}; the header must be {}; the header has: {}",
                    CustomerField::NAMES.join(","),
                    found()
                )));
            }
            (Some(_), Some(_)) => {
                return Err(header_error(format!(
                    "column {column:?} appears twice; the header has: {}",
                    found()
                )));
            }
        };
    }
    let mut fields = FieldColumns::default();
    for (field, position) in CustomerField::ALL.into_iter().zip(positions) {
        *fields.of_mut(MappedField::Customer(field)) = vec![vec![position]];
    }
    Ok(ColumnPlan {
        read_positions: fields.positions(),
        fields,
        width,
        vip_values: Vec::new(),
        headers: names,
        regions: RefCell::default(),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use crate::domain::LoyaltyPoints;
    use crate::import::test_support::{read, read_mapped};

    #[test]
    fn unmapped_optional_fields_are_not_read_from_lookalike_columns() {
        // "Region" is a sales territory, "Is VIP" and "Loyalty Points" free text: none is read
        // unless mapped. A Latin-1 street in a column nobody reads costs nothing.
        let (rows, errors) = read_mapped(
            b"Id,Full Name,Phone,Region,Is VIP,Loyalty Points,Street\nC1,Ann Lee,+15550000001,EMEA,y,1 200,Stra\xdfe 1\n",
            &["customer_id=Id", "name=Full Name", "phone_numbers=Phone"],
            &[],
        );
        assert!(errors.is_empty(), "{errors:?}");
        let customer = &rows[0].record.customer;
        assert_eq!(
            (customer.loyalty_points, customer.is_vip),
            (LoyaltyPoints::new(0).unwrap(), false)
        );
        // The same byte in a column that is read is that row's error, naming the column.
        let (_, errors) = read_mapped(
            b"Id,Full Name,Phone\nC1,Ren\xe9,+15550000001\nC2,Bo,+15550000002\n",
            &["customer_id=Id", "name=Full Name", "phone_numbers=Phone"],
            &[],
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].reason.starts_with("Full Name: not UTF-8"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_native_header_matches_as_people_write_it() {
        let (rows, errors) = read(
            "Customer ID,NAME,Loyalty Points,Is-VIP,phone numbers\n\
             C1,Ann,10,yes,+15551234567\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].record.customer.loyalty_points.value(), 10);
        assert!(rows[0].record.customer.is_vip);
        let (_, errors) = read("Customer ID,Name,Points,Is VIP,Phone\nC1,A,1,no,+15551234567\n");
        assert_eq!(
            errors[0].reason,
            "unknown column \"Points\"; the header must be customer_id,name,loyalty_points,is_vip,phone_numbers \
             (or map a CRM's own columns with --map); the header has: Customer ID, Name, Points, Is VIP, Phone"
        );
        // A Latin-1 header of a column nobody reads costs nothing.
        let (rows, errors) = read_mapped(
            b"Id,Full Name,Phone,N\xf6tes\nA1,Ann,+15551234567,x\n",
            &["customer_id=Id", "name=Full Name", "phone_numbers=Phone"],
            &[],
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows.len(), 1);
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
}
