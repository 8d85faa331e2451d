//! One import run: the settings checked and the input opened, then every row read, validated
//! and staged, conflicts set aside, and the whole applied in one transaction or refused.

use std::io::Read;
use std::time::Instant;

use anyhow::Context;

use super::conflicts::set_aside_conflicts;
use super::peek::gunzip_if_compressed;
use super::progress::Progress;
use super::rejects::{RejectTally, RejectWriter, SetAside};
use super::{ImportFormat, ImportSettings, RowError, RowReader};
use crate::normalise::PhoneNormaliser;
use crate::store::{CustomerStore, ImportCounts, ImportMode};

/// How many row errors an import prints before summarising the rest.
pub(super) const MAX_ERRORS_SHOWN: usize = 50;

/// Rows staged per round trip to the store: large, because every Postgres COPY ends with a
/// short write that waits for a delayed ACK (sqlx leaves Nagle on), ~40 ms per batch; 50,000
/// rows hold about 10 MB.
const IMPORT_BATCH: usize = 50_000;

/// How an import ended, once its reasons are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Written (or, in a dry run, found writable).
    Imported,
    /// Nothing was written: the file is unreadable, has bad rows, or would empty the store.
    Refused,
}

/// An import whose settings are checked and whose files are open, ready to run on a store.
pub struct Import<'s> {
    settings: &'s ImportSettings,
    started: Instant,
    source: String,
    format: ImportFormat,
    input: Box<dyn Read>,
    progress: Progress,
    reject_file: Option<RejectWriter>,
    set_aside: Option<SetAside>,
    normaliser: PhoneNormaliser,
}

impl<'s> Import<'s> {
    /// Refuses settings that cannot work and opens the input and the reject file, so that these
    /// mistakes are reported before any store is opened.
    pub fn prepare(settings: &'s ImportSettings) -> anyhow::Result<Self> {
        let started = Instant::now();
        let source = settings.source();
        let skip = settings.skips_invalid();
        if skip && settings.rejects.is_none() {
            anyhow::bail!(
                "--on-invalid skip needs --rejects FILE: the rows set aside are written there, each with its line and reason"
            );
        }
        if skip && settings.mode == ImportMode::Replace {
            anyhow::bail!(
                "--on-invalid skip works in upsert mode only: --mode replace deletes every customer not in the file, \
                 so a row set aside would delete its customer. Fix the rows, or import them with --mode upsert"
            );
        }
        if let Some(rejects) = &settings.rejects
            && let (Ok(a), Ok(b)) = (rejects.canonicalize(), settings.file.canonicalize())
            && a == b
        {
            anyhow::bail!(
                "--rejects {} is the file being imported: name another file",
                rejects.display()
            );
        }
        let (input, size): (Box<dyn Read>, Option<u64>) = if source == "-" {
            (Box::new(std::io::stdin().lock()), None)
        } else {
            let file = std::fs::File::open(&settings.file)
                .with_context(|| format!("cannot open {source}"))?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        };
        let format = settings.format();
        settings.mapping.check(format).map_err(anyhow::Error::msg)?;
        let reject_file = match &settings.rejects {
            Some(path) => Some(
                RejectWriter::create(path)
                    .with_context(|| format!("cannot create the reject file {}", path.display()))?,
            ),
            None => None,
        };
        let set_aside = reject_file.as_ref().map(|_| SetAside::new()).transpose()?;
        let progress = Progress::new(size);
        // The bar counts the bytes read from the file, so it tracks a compressed file too.
        let input = gunzip_if_compressed(progress.wrap(input));
        Ok(Self {
            settings,
            started,
            source,
            format,
            input,
            progress,
            reject_file,
            set_aside,
            normaliser: PhoneNormaliser::new(settings.default_region),
        })
    }

    /// Reads, validates and stages every row, then writes them in one transaction, or refuses
    /// the file and writes nothing. Row problems and the outcome are printed as it goes.
    pub async fn run(self, store: &CustomerStore) -> anyhow::Result<ImportOutcome> {
        let Self {
            settings,
            started,
            source,
            format,
            input,
            progress,
            mut reject_file,
            mut set_aside,
            normaliser,
        } = self;
        let mut session = store.begin_import().await?;
        let input: Box<dyn Read> = Box::new(std::io::BufReader::with_capacity(1 << 16, input));
        let mapping = &settings.mapping;
        let mut reader = if set_aside.is_some() {
            RowReader::keeping_raw_rows(input, format, &normaliser, mapping)
        } else {
            RowReader::with_mapping(input, format, &normaliser, mapping)
        };
        if let (Some(out), Some(dialect)) = (reject_file.as_mut(), reader.csv_dialect()) {
            out.csv_header(dialect)?;
        }
        for note in reader.notes() {
            eprintln!("note: {note}");
        }
        let fields = reader.imported_fields();
        let mut tally = RejectTally::default();
        let mut shown: Vec<RowError> = Vec::new();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        let mut rows = 0u64;
        // Valid rows are staged even after a bad one, so duplicates across the whole file are
        // found and reported together with the row errors.
        while let Some(item) = reader.next() {
            match item {
                Ok(row) => {
                    if let Some(set_aside) = &mut set_aside {
                        set_aside.keep(row.line, reader.raw_row())?;
                    }
                    batch.push(row);
                }
                Err(errors) if errors.iter().any(|e| e.fatal) => {
                    session.abort().await?;
                    shown.extend(errors);
                    eprint_problems(&source, &shown, shown.len());
                    eprintln!("import refused: the file cannot be read; nothing was written");
                    return Ok(ImportOutcome::Refused);
                }
                Err(errors) => {
                    tally.add(&errors);
                    if let Some(set_aside) = &mut set_aside {
                        set_aside.refuse(reader.raw_row(), &errors)?;
                    }
                    let room = MAX_ERRORS_SHOWN.saturating_sub(shown.len());
                    shown.extend(errors.into_iter().take(room));
                }
            }
            rows += 1;
            progress.row(rows);
            if batch.len() >= IMPORT_BATCH {
                session.stage(&batch).await?;
                batch.clear();
            }
        }
        session.stage(&batch).await?;
        drop(batch);
        progress.finish();
        let (conflicts, stopped_early) =
            set_aside_conflicts(&mut session, settings, rows, &mut tally, &mut shown).await?;
        shown.sort_by_key(|p| p.line);
        if let (Some(set_aside), Some(out)) = (set_aside, reject_file) {
            set_aside
                .write(&conflicts, out)
                .context("cannot write the reject file")?;
        }
        let rejects_note = settings
            .rejects
            .as_ref()
            .map(|path| format!(" (listed in {})", path.display()))
            .unwrap_or_default();
        let too_many = settings.skips_invalid() && settings.max_invalid.exceeded(tally.rows, rows);
        if tally.rows > 0 && (!settings.skips_invalid() || too_many) {
            session.abort().await?;
            eprint_problems(&source, &shown, tally.rows as usize);
            eprintln!("bad rows by reason:");
            for line in tally.lines() {
                eprintln!("{line}");
            }
            if too_many {
                eprintln!(
                    "import refused: {}{} of {rows} row(s) are bad, more than --max-invalid {}{rejects_note}; nothing was written",
                    if stopped_early { "at least " } else { "" },
                    tally.rows,
                    settings.max_invalid
                );
            } else {
                let hint = match settings.mode {
                    ImportMode::Upsert => " (--on-invalid skip --rejects FILE imports the rest)",
                    ImportMode::Replace => " (fix the rows: a replace takes the whole file)",
                };
                eprintln!(
                    "import refused: {} bad row(s){rejects_note}; nothing was written{hint}",
                    tally.rows
                );
            }
            return Ok(ImportOutcome::Refused);
        }
        // An empty export (a failed CRM job, a filter that matched nothing) must not empty the
        // store.
        if settings.mode == ImportMode::Replace && rows == 0 {
            session.abort().await?;
            eprintln!(
                "import refused: {source} holds no customers, and --mode replace would delete every customer in the store; nothing was written"
            );
            return Ok(ImportOutcome::Refused);
        }
        let counts = session
            .apply(settings.mode, fields, settings.dry_run)
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        print_summary(settings, &source, &counts, rows, elapsed);
        if tally.rows > 0 {
            let verb = if settings.dry_run { "would set" } else { "set" };
            println!("{verb} aside {} bad row(s){rejects_note}:", tally.rows);
            for line in tally.lines() {
                println!("{line}");
            }
        }
        Ok(ImportOutcome::Imported)
    }
}

/// What was (or, in a dry run, would be) written, and how fast the file was read.
fn print_summary(
    settings: &ImportSettings,
    source: &str,
    counts: &ImportCounts,
    rows: u64,
    elapsed: f64,
) {
    let customers = counts.inserted + counts.updated + counts.unchanged;
    let verb = if settings.dry_run {
        "dry run, nothing written: would import"
    } else {
        "imported"
    };
    println!(
        "{verb} {customers} customer(s) from {source}: {} new, {} updated, {} unchanged, {} deleted; {} phone numbers ({elapsed:.2} s, {:.0} rows/s)",
        counts.inserted,
        counts.updated,
        counts.unchanged,
        counts.deleted,
        counts.phone_numbers,
        rows as f64 / elapsed.max(1e-9)
    );
}

/// The first problems, one per line, and how many more there are.
fn eprint_problems(source: &str, shown: &[RowError], rows: usize) {
    for error in shown.iter().take(MAX_ERRORS_SHOWN) {
        eprintln!("{source}: {error}");
    }
    let lines = shown
        .iter()
        .take(MAX_ERRORS_SHOWN)
        .map(|e| e.line)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if rows > lines {
        eprintln!("{source}: … and {} more bad row(s)", rows - lines);
    }
}
