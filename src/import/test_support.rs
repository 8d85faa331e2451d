//! Reading test files as the import reads them.

use std::io::Read;

use super::{ColumnMapping, ImportFormat, RowError, RowReader};
use crate::normalise::{PhoneNormaliser, Region};
use crate::store::StagedRow;

pub(super) fn read_as(text: &str, format: ImportFormat) -> (Vec<StagedRow>, Vec<RowError>) {
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

pub(super) fn read(text: &str) -> (Vec<StagedRow>, Vec<RowError>) {
    read_as(text, ImportFormat::Csv)
}

/// Reads CSV bytes through a mapping given as the command line gives it.
pub(super) fn read_mapped(
    bytes: &[u8],
    maps: &[&str],
    vip: &[&str],
) -> (Vec<StagedRow>, Vec<RowError>) {
    let normaliser = PhoneNormaliser::new("US".parse::<Region>().unwrap());
    let mapping = ColumnMapping {
        fields: maps
            .iter()
            .map(|m| ColumnMapping::parse_map(m).unwrap())
            .collect(),
        vip_values: vip.iter().map(|v| v.to_string()).collect(),
        delimiter: None,
    };
    mapping.check(ImportFormat::Csv).unwrap();
    let input: Box<dyn Read> = Box::new(std::io::Cursor::new(bytes.to_vec()));
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    for item in RowReader::with_mapping(input, ImportFormat::Csv, &normaliser, &mapping) {
        match item {
            Ok(row) => rows.push(row),
            Err(e) => errors.extend(e),
        }
    }
    (rows, errors)
}
