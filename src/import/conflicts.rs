//! Conflicts the store finds across the whole file (a customer id on several rows), set aside
//! as bad rows rule by rule. A number on several rows is no conflict: those customers share it.

use std::collections::BTreeMap;

use super::rejects::RejectTally;
use super::run::MAX_ERRORS_SHOWN;
use super::{ImportSettings, RowError};
use crate::store::{BulkImport, ConflictRule};

/// Conflicting rows fetched from the store at a time.
const CONFLICTS_PER_ROUND: usize = 10_000;

/// Each conflicting line's reasons.
pub(super) type Conflicts = BTreeMap<u64, Vec<String>>;

/// Conflicts are rows too. Each rule's rows are set aside before the next rule is checked (a row
/// is never refused for clashing with a row refused already), in every mode: an abort rolls
/// everything back anyway. Returns each conflicting line's reasons, and whether checking stopped
/// (too many bad rows) with more left to find.
pub(super) async fn set_aside_conflicts(
    session: &mut BulkImport,
    settings: &ImportSettings,
    rows: u64,
    tally: &mut RejectTally,
    shown: &mut Vec<RowError>,
) -> anyhow::Result<(Conflicts, bool)> {
    let skip = settings.skips_invalid();
    let mut conflicts = Conflicts::new();
    for rule in ConflictRule::ALL {
        loop {
            // A bounded slice at a time: a file of one customer id a million times must not become
            // a million conflicts in memory at once.
            let found = session.conflicts(rule, CONFLICTS_PER_ROUND).await?;
            if found.is_empty() {
                break;
            }
            let mut by_line: BTreeMap<u64, Vec<RowError>> = BTreeMap::new();
            for conflict in &found {
                by_line
                    .entry(conflict.line())
                    .or_default()
                    .push(RowError::new(
                        conflict.line(),
                        conflict.kind(),
                        conflict.reason(),
                    ));
            }
            for (line, errors) in &by_line {
                tally.add(errors);
                conflicts
                    .entry(*line)
                    .or_default()
                    .extend(errors.iter().map(|e| e.reason.clone()));
            }
            let room = MAX_ERRORS_SHOWN.saturating_sub(shown.len());
            shown.extend(by_line.values().flatten().take(room).cloned());
            let lines: Vec<u64> = by_line.into_keys().collect();
            session.set_aside(&lines).await?;
            if skip && settings.max_invalid.exceeded(tally.rows, rows) {
                // Too many already: the import is refused. Say "at least" only if rows remain
                // that break this rule or a later one.
                for later in ConflictRule::ALL.into_iter().skip_while(|r| *r != rule) {
                    if !session.conflicts(later, 1).await?.is_empty() {
                        return Ok((conflicts, true));
                    }
                }
                return Ok((conflicts, false));
            }
            if found.len() < CONFLICTS_PER_ROUND {
                break;
            }
        }
    }
    Ok((conflicts, false))
}
