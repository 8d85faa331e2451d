//! One problem in an import file, and the kinds problems are counted by.

use std::fmt;

use crate::domain::{CustomerRecord, RecordProblem};
use crate::store::StagedRow;

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

    pub(super) fn fatal(line: u64, reason: String) -> Self {
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

/// The next row of a file: a validated record, or every reason it was refused.
pub type RowResult = Result<StagedRow, Vec<RowError>>;

pub(super) fn stage(
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
pub(super) fn problem_kind(problem: &RecordProblem) -> String {
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
