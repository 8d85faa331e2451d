//! Reading customers from CSV or JSON Lines, one row at a time: each row is validated on its
//! own and every bad row is reported with its line number and reason. Nothing here writes.

pub mod rejects;

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{BufRead, Read};
use std::rc::Rc;
use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::domain::record::JsonTypes;
use crate::domain::{CustomerRecord, FieldValue, NotAPhoneNumber, RecordProblem};
use crate::normalise::{PhoneNormaliser, Region};
use crate::store::{ImportedFields, StagedRow};

pub const COLUMNS: [&str; 5] = [
    "customer_id",
    "name",
    "loyalty_points",
    "is_vip",
    "phone_numbers",
];

/// The fields a column mapping can fill: the five of the native layout, and the region that
/// national numbers in the row are read in.
pub const MAPPABLE: [&str; 6] = [
    "customer_id",
    "name",
    "loyalty_points",
    "is_vip",
    "phone_numbers",
    "region",
];

/// How a CRM's columns become a customer (`--map`, `--vip-values`). Without any `--map` the file
/// must have the native layout.
#[derive(Clone, Debug, Default)]
pub struct ColumnMapping {
    /// Field → its column groups: `phone_numbers=Phone,MobilePhone` is two groups (numbers are
    /// merged), `name=FirstName+LastName` one group of two columns (joined with a space).
    pub fields: Vec<(&'static str, Vec<Vec<String>>)>,
    /// Values of `is_vip`'s column that mean a VIP (a tier such as `Gold`), any case; with them
    /// given, any other value means not a VIP.
    pub vip_values: Vec<String>,
    /// The CSV delimiter; `None` reads it off the header line (`,`, `;` or tab).
    pub delimiter: Option<u8>,
}

impl ColumnMapping {
    /// One `--map FIELD=COLUMNS` as given on the command line.
    pub fn parse_map(raw: &str) -> Result<(&'static str, Vec<Vec<String>>), String> {
        let (field, columns) = raw
            .split_once('=')
            .ok_or_else(|| format!("{raw:?}: write FIELD=COLUMN, e.g. name=\"Full Name\""))?;
        let field = MAPPABLE
            .iter()
            .copied()
            .find(|known| *known == field.trim())
            .ok_or_else(|| {
                format!(
                    "{:?} is no field to map; the fields are {}",
                    field.trim(),
                    MAPPABLE.join(", ")
                )
            })?;
        let groups: Vec<Vec<String>> = columns
            .split(',')
            .map(|group| {
                group
                    .split('+')
                    .map(|c| c.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        // An empty name would silently drop its column (`Phone,Mobile+`): refuse it.
        if groups.iter().flatten().any(String::is_empty) {
            return Err(format!("{raw:?}: a column name is missing around , or +"));
        }
        if groups.len() > 1 && field != "phone_numbers" {
            return Err(format!(
                "{raw:?}: only phone_numbers reads several columns (A,B); join text columns with A+B"
            ));
        }
        Ok((field, groups))
    }

    /// One `--vip-values` entry: trimmed, and not empty (an empty one would make blank cells VIPs).
    pub fn parse_vip_value(raw: &str) -> Result<String, String> {
        match raw.trim() {
            "" => Err("an empty value cannot mean VIP: list values such as Gold,Platinum".into()),
            value => Ok(value.to_owned()),
        }
    }

    /// Refuses a mapping that would silently lose a column or a flag.
    pub fn check(&self, format: ImportFormat) -> Result<(), String> {
        if format == ImportFormat::Jsonl
            && (!self.fields.is_empty() || !self.vip_values.is_empty() || self.delimiter.is_some())
        {
            return Err(
                "--map, --vip-values and --delimiter read CSV files; JSON Lines files have named fields"
                    .into(),
            );
        }
        for (index, (field, _)) in self.fields.iter().enumerate() {
            if self.fields[..index]
                .iter()
                .any(|(earlier, _)| earlier == field)
            {
                return Err(format!(
                    "{field} is mapped twice: give one --map {field}=... (phone_numbers=A,B reads several columns)"
                ));
            }
        }
        Ok(())
    }
}

/// Where each field is read from, as header positions.
#[derive(Clone, Debug)]
struct ColumnPlan {
    /// Per field of `MAPPABLE`: column groups as positions; empty when the file has none.
    fields: [Vec<Vec<usize>>; 6],
    width: usize,
    vip_values: Vec<String>,
    /// The header's names, for errors that point at a column.
    headers: Vec<String>,
    /// Every position some field reads.
    read_positions: Vec<usize>,
    /// Country column values already read: a file repeats a handful of them.
    regions: RefCell<HashMap<String, Result<Region, String>>>,
    /// What the operator should know about how the header was read.
    notes: Vec<String>,
}

/// One problem in the file; `line` is 1-based as an editor shows it (the header is line 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// What is wrong, naming the column and the value: "MobilePhone: "+44 20 79": too short for GB".
    pub reason: String,
    /// The kind of problem without the row's values ("phone number too short"), for counts.
    pub kind: String,
    /// The rest of the file cannot be read (a bad header, broken encoding).
    pub fatal: bool,
}

impl RowError {
    pub fn new(line: u64, kind: impl Into<String>, reason: String) -> Self {
        Self {
            line,
            reason,
            kind: kind.into(),
            fatal: false,
        }
    }

    fn fatal(line: u64, reason: String) -> Self {
        Self {
            line,
            reason,
            kind: "unreadable file".into(),
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
    /// What an import does with a bad row: refuse the whole file, or set the row aside.
    pub enum OnInvalid {
        Abort => "abort",
        Skip => "skip",
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

enum Source {
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
            Source::Csv { plan, .. } => ImportedFields {
                loyalty_points: !plan.fields[2].is_empty(),
                is_vip: !plan.fields[3].is_empty(),
            },
            _ => ImportedFields::ALL,
        }
    }

    /// Notes on how the header was read (an optional field without a column, say).
    pub fn notes(&self) -> &[String] {
        match &self.source {
            Source::Csv { plan, .. } => &plan.notes,
            _ => &[],
        }
    }

    /// A CSV file's header and delimiter; `None` for JSON Lines or an unreadable header.
    pub fn csv_dialect(&self) -> Option<&CsvDialect> {
        match &self.source {
            Source::Csv { dialect, .. } => Some(dialect),
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
            ImportFormat::Jsonl => Source::Jsonl {
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
                let lines = Rc::new(RefCell::new(LineIndex {
                    kept: keep_raw.then(Vec::new),
                    ..LineIndex::default()
                }));
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
                        Source::Csv {
                            reader,
                            plan: Box::new(plan),
                            lines,
                            dialect,
                        }
                    }
                    Err(error) => Source::HeaderError(error),
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
            Source::HeaderError(error) => {
                self.finished = true;
                return Some(Err(vec![error.clone()]));
            }
            Source::Csv {
                reader,
                plan,
                lines,
                ..
            } => next_csv(reader, plan, lines, normaliser, self.raw_row.as_mut()),
            Source::Jsonl { lines, line } => {
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

fn next_csv(
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
        let field = |index: usize| -> String {
            plan.fields[index]
                .first()
                .map(|g| group(g))
                .unwrap_or_default()
        };
        // Every phone column, each possibly holding several numbers separated by `;`.
        let phone_text: Vec<String> = plan.fields[4].iter().map(|g| group(g)).collect();
        let numbers: Vec<&str> = phone_text.iter().flat_map(|text| text.split(';')).collect();
        let region_text = field(5);
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
                    format!("{}: {why}", column_label(plan, 5)),
                )),
            ),
        };
        let points = field(2);
        let points = if plan.fields[2].is_empty() {
            "0".to_owned()
        } else {
            points
        };
        let vip = field(3);
        let vip = vip_flag(&vip, plan);
        let row = CustomerRecord::validate(
            &field(0),
            &field(1),
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

fn next_jsonl(
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
            Ok(_) => return refuse("not a JSON object", "expected a JSON object with customer_id, name, loyalty_points, is_vip, phone_numbers".into()),
            Err(e) => return refuse("not valid JSON", format!("not valid JSON: {e}")),
        };
        if let Some(unknown) = object.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
            return refuse(
                "unknown field",
                format!(
                    "unknown field {unknown:?}; the fields are {}",
                    COLUMNS.join(", ")
                ),
            );
        }
        // An id an export wrote as a JSON number is that number's text.
        let id = match object.get("customer_id") {
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

fn stage(
    line: u64,
    row: Result<CustomerRecord, Vec<RecordProblem>>,
    describe: impl Fn(&RecordProblem) -> String,
) -> RowResult {
    row.map(|record| StagedRow { line, record })
        .map_err(|problems| {
            problems
                .iter()
                .map(|problem| RowError::new(line, problem_kind(problem), describe(problem)))
                .collect()
        })
}

/// A problem's kind without the row's values ("phone number too short"), for counts by reason.
fn problem_kind(problem: &RecordProblem) -> String {
    use crate::domain::FieldError as F;
    match problem {
        RecordProblem::Field(error) => match error {
            F::Empty { field } => format!("{field} empty"),
            F::Missing { field } => format!("{field} missing"),
            F::TooLong { field, .. } => format!("{field} too long"),
            F::ControlCharacters { field } => format!("{field} has control characters"),
            F::SurroundingWhiteSpace { field } => format!("{field} has surrounding white space"),
            F::PointsOutOfRange { .. } | F::PointsNotAWholeNumber { .. } => {
                "loyalty_points not a whole number in range".into()
            }
            F::NotAVipFlag { .. } | F::NotABoolean { .. } => "is_vip not a flag".into(),
        },
        RecordProblem::PhoneNumber { why, .. } => {
            format!("phone number {}", why.code().replace('_', " "))
        }
        RecordProblem::NoPhoneNumbers => "no phone number".into(),
        RecordProblem::UnknownField(_) => "unknown field".into(),
        RecordProblem::IdMismatch | RecordProblem::NotAnObject => problem.to_string(),
    }
}

/// A CSV row's problem in the file's own terms: the column it is in, the value, what is wrong.
fn describe_csv_problem(
    problem: &RecordProblem,
    plan: &ColumnPlan,
    phone_columns: &[String],
    normaliser: &PhoneNormaliser,
) -> String {
    use crate::domain::FieldError as F;
    // The field's column, named only when it is not the field's own name.
    let in_column = |field: usize, text: String| {
        let column = column_label(plan, field);
        if column.eq_ignore_ascii_case(MAPPABLE[field]) {
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
                    MAPPABLE.iter().position(|f| f == field).unwrap_or(0)
                }
                F::PointsOutOfRange { .. } | F::PointsNotAWholeNumber { .. } => 2,
                F::NotAVipFlag { .. } | F::NotABoolean { .. } => 3,
            };
            in_column(field, error.to_string())
        }
        RecordProblem::PhoneNumber { raw, why } => {
            let group = phone_columns
                .iter()
                .position(|text| text.split(';').any(|n| n.trim() == raw))
                .unwrap_or(0);
            let column = plan.fields[4]
                .get(group)
                .map(|g| group_label(plan, g))
                .unwrap_or_else(|| MAPPABLE[4].to_owned());
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
            plan.fields[4]
                .iter()
                .map(|g| group_label(plan, g))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
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
    fn scan(&mut self, bytes: &[u8]) {
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
    fn raw(&self, from: u64, to: u64) -> &[u8] {
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
    fn forget_raw_before(&mut self, offset: u64) {
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

fn read_positions(fields: &[Vec<Vec<usize>>; 6]) -> Vec<usize> {
    let mut positions: Vec<usize> = fields.iter().flatten().flatten().copied().collect();
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// The header names a field is read from, as the mapping wrote them (`FirstName+LastName`).
fn column_label(plan: &ColumnPlan, field: usize) -> String {
    plan.fields[field]
        .first()
        .map_or_else(|| MAPPABLE[field].to_owned(), |g| group_label(plan, g))
}

fn group_label(plan: &ColumnPlan, group: &[usize]) -> String {
    group
        .iter()
        .map(|&p| plan.headers.get(p).map_or("?", String::as_str))
        .collect::<Vec<_>>()
        .join("+")
}

impl ColumnPlan {
    fn region(&self, country: &str) -> Result<Region, String> {
        let mut known = self.regions.borrow_mut();
        if let Some(region) = known.get(country) {
            return region.clone();
        }
        let region = region_of_country(country);
        if known.len() < 10_000 {
            known.insert(country.to_owned(), region.clone());
        }
        region
    }
}

/// A country column's value as a region: an ISO 3166-1 alpha-2 or alpha-3 code, or an English
/// name in any case and spacing ("United Kingdom", "south korea", "UK").
fn region_of_country(country: &str) -> Result<Region, String> {
    if let Ok(region) = Region::from_str(country) {
        return Ok(region);
    }
    // Digits are a dialling code or an ISO numeric code; which one is anyone's guess (380 is
    // Ukraine's dialling code and Italy's ISO number), so neither is read.
    if country.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!(
            "unknown country {country:?}: use an ISO 3166-1 code (GB, GBR) or an English name, not a number"
        ));
    }
    // Accents folded ("Côte d'Ivoire", "Curaçao"), and ISO's inverted short names read both
    // ways ("Korea, Republic of" is also tried as "Republic of Korea").
    let folded: String = country.nfd().filter(|c| !is_combining_mark(*c)).collect();
    let mut spellings = vec![folded.clone()];
    if let Some((head, tail)) = folded.split_once(',') {
        spellings.push(format!("{tail} {head}"));
    }
    let alpha2 = spellings.iter().find_map(|spelling| {
        let squashed: String = spelling.chars().filter(|c| c.is_alphanumeric()).collect();
        // "UK" is not ISO 3166 but is how most British records spell it.
        if squashed.eq_ignore_ascii_case("UK") {
            return Some("GB");
        }
        celes::Country::from_str(&squashed)
            .or_else(|_| celes::Country::from_alias(&squashed))
            .ok()
            .map(|c| c.alpha2)
    });
    alpha2
        .and_then(|code| Region::from_str(code).ok())
        .ok_or_else(|| {
            format!(
                "unknown country {country:?}: use an ISO 3166-1 code (GB, GBR) or an English name"
            )
        })
}

/// `is_vip` as the mapping reads it: with tiers listed, a listed one is `true` and anything else
/// `false` (a numeric tier's `1` is a tier, not a yes).
fn vip_flag(value: &str, plan: &ColumnPlan) -> String {
    if plan.fields[3].is_empty() {
        return "false".into();
    }
    let value = value.trim();
    if plan.vip_values.is_empty() {
        return value.to_owned();
    }
    let listed = plan
        .vip_values
        .iter()
        .any(|tier| tier.eq_ignore_ascii_case(value));
    listed.to_string()
}

/// A row without the line breaks around it (a `\r\n` ending, or a `\n` left from the last one).
fn trim_line_breaks(bytes: &[u8]) -> &[u8] {
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
struct Replay {
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

/// The delimiter of the header line: the most frequent of `,`, `;` and tab outside quotes (a
/// European export uses `;`, a spreadsheet's text export tab); `,` when none appears.
fn detect_delimiter(start: &[u8]) -> u8 {
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

/// A header name as people vary it: case, spaces, underscores and hyphens ignored.
fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The columns a mapping names, found in the header: exactly, else loosely.
fn mapped_columns<R: Read>(
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
    let mut fields: [Vec<Vec<usize>>; 6] = Default::default();
    for (index, field) in MAPPABLE.iter().enumerate() {
        let given = mapping.fields.iter().find(|(name, _)| name == field);
        fields[index] = match given {
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
            None if ["customer_id", "name", "phone_numbers"].contains(field) => {
                position(field).map(|p| vec![vec![p]]).unwrap_or_default()
            }
            None if *field == "region" => Vec::new(),
            None => (0..headers.len())
                .filter(|&i| headers[i].eq_ignore_ascii_case(field))
                .map(|i| vec![i])
                .take(1)
                .collect(),
        };
    }
    let mut notes = Vec::new();
    for index in [2, 3] {
        let field = MAPPABLE[index];
        if fields[index].is_empty() {
            let lookalike = headers.iter().find(|h| loose(h) == loose(field));
            notes.push(match lookalike {
                Some(column) => format!(
                    "column {column:?} looks like {field} but is not read (only a column named exactly {field} is): \
                     map it with --map {field}=\"{column}\"; meanwhile existing customers keep their {field}, new ones get the default"
                ),
                None => format!(
                    "no {field} column: existing customers keep their {field}, new ones get the default ({})",
                    if index == 2 { "0" } else { "false" }
                ),
            });
        }
    }
    if !mapping.vip_values.is_empty() && fields[3].is_empty() {
        return Err(header_error(format!(
            "--vip-values needs a tier column: map it with --map is_vip=COLUMN; the header has: {}",
            found()
        )));
    }
    for (index, field) in MAPPABLE.iter().enumerate() {
        if fields[index].is_empty() && ["customer_id", "name", "phone_numbers"].contains(field) {
            return Err(header_error(format!(
                "nothing to read {field} from: map it with --map {field}=COLUMN; the header has: {}",
                found()
            )));
        }
    }
    Ok(ColumnPlan {
        read_positions: read_positions(&fields),
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
fn header_names<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, RowError> {
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
fn column_positions<R: Read>(reader: &mut csv::Reader<R>) -> Result<ColumnPlan, RowError> {
    let header_error = |reason: String| RowError::fatal(1, reason);
    let names = header_names(reader)?;
    let found = || names.join(", ");
    let known = |name: &str, columns: &[&str]| columns.iter().any(|c| loose(c) == loose(name));
    // A reject file's own columns are not the customer's: a corrected reject file imports as is.
    if let Some(unknown) = names
        .iter()
        .find(|n| !known(n, &COLUMNS) && !known(n, &rejects::REJECT_COLUMNS))
    {
        let hint = if unknown.starts_with('{') {
            " (JSON Lines from standard input needs --format jsonl)"
        } else {
            " (or map a CRM's own columns with --map)"
        };
        return Err(header_error(format!(
            "unknown column {unknown:?}; the header must be {}{hint}; the header has: {}",
            COLUMNS.join(","),
            found()
        )));
    }
    let mut positions = [0; 5];
    let width = names.len();
    for (slot, column) in positions.iter_mut().zip(COLUMNS) {
        let mut matches = names
            .iter()
            .enumerate()
            .filter(|(_, n)| loose(n) == loose(column));
        *slot = match (matches.next(), matches.next()) {
            (Some((index, _)), None) => index,
            (None, _) => {
                return Err(header_error(format!(
                    "missing column {column:?}; the header must be {}; the header has: {}",
                    COLUMNS.join(","),
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
    let mut fields: [Vec<Vec<usize>>; 6] = Default::default();
    for (field, position) in fields.iter_mut().zip(positions) {
        *field = vec![vec![position]];
    }
    Ok(ColumnPlan {
        read_positions: read_positions(&fields),
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
    use super::*;
    use crate::domain::{E164, LoyaltyPoints};
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

    /// Reads CSV bytes through a mapping given as the command line gives it.
    fn read_mapped(bytes: &[u8], maps: &[&str], vip: &[&str]) -> (Vec<StagedRow>, Vec<RowError>) {
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
    fn a_mapping_that_would_lose_a_column_is_refused() {
        assert!(ColumnMapping::parse_map("phone_numbers=Phone,Mobile+").is_err());
        assert!(ColumnMapping::parse_map("name=First,Company").is_err());
        assert!(ColumnMapping::parse_map("phone_numbers=Phone,MobilePhone").is_ok());
        let twice = ColumnMapping {
            fields: vec![
                ColumnMapping::parse_map("name=First").unwrap(),
                ColumnMapping::parse_map("name=Company").unwrap(),
            ],
            ..ColumnMapping::default()
        };
        assert!(
            twice
                .check(ImportFormat::Csv)
                .unwrap_err()
                .contains("twice")
        );
        let vip_on_jsonl = ColumnMapping {
            vip_values: vec!["Gold".into()],
            ..ColumnMapping::default()
        };
        assert!(vip_on_jsonl.check(ImportFormat::Jsonl).is_err());
        // Tiers without a tier column would silently make nobody a VIP.
        let (_, errors) = read_mapped(
            b"customer_id,name,phone_numbers,Tier\nC1,Ann,+15550000001,Gold\n",
            &["customer_id=customer_id"],
            &["Gold"],
        );
        assert!(
            errors[0]
                .reason
                .contains("--vip-values needs a tier column"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_country_column_reads_codes_and_english_names() {
        for (country, code) in [
            ("gb", "GB"),
            ("GBR", "GB"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("united states of america", "US"),
            ("South Korea", "KR"),
            ("Deu", "DE"),
            (" New Zealand ", "NZ"),
            ("Korea, Republic of", "KR"),
            ("Côte d'Ivoire", "CI"),
            ("Curaçao", "CW"),
            ("Türkiye", "TR"),
            ("Iran, Islamic Republic of", "IR"),
            ("Viet Nam", "VN"),
        ] {
            let region = region_of_country(country.trim()).unwrap();
            assert_eq!(region.code(), code, "{country}");
        }
        for unknown in ["Atlantis", "XX", "Antarctica", "+380", "380", "826"] {
            let error = region_of_country(unknown).unwrap_err();
            assert!(error.contains(unknown), "{error}");
        }
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
