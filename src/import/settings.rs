//! What an import is asked to do, as typed settings.

use std::path::PathBuf;

use super::ColumnMapping;
use super::rejects::MaxInvalid;
use crate::normalise::Region;
use crate::store::ImportMode;

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

/// One import: which file, how to read it, what to do with bad rows, and how to write.
#[derive(Clone, Debug)]
pub struct ImportSettings {
    /// The file to read; `-` is standard input.
    pub file: PathBuf,
    pub mode: ImportMode,
    /// Validate everything and report what would change, without writing.
    pub dry_run: bool,
    /// `None`: told by the file's name.
    pub format: Option<ImportFormat>,
    pub mapping: ColumnMapping,
    /// The region national numbers are read in, unless a row's country says otherwise.
    pub default_region: Region,
    pub on_invalid: OnInvalid,
    /// Where the bad rows are written.
    pub rejects: Option<PathBuf>,
    pub max_invalid: MaxInvalid,
}

impl ImportSettings {
    /// The file's name as messages show it.
    pub fn source(&self) -> String {
        self.file.display().to_string()
    }

    /// The format given, else JSON Lines for `.jsonl`/`.ndjson` (compressed or not), else CSV.
    pub fn format(&self) -> ImportFormat {
        let source = self.source();
        let plain_name = source.strip_suffix(".gz").unwrap_or(&source);
        self.format.unwrap_or(
            if plain_name.ends_with(".jsonl") || plain_name.ends_with(".ndjson") {
                ImportFormat::Jsonl
            } else {
                ImportFormat::Csv
            },
        )
    }

    /// Bad rows are set aside rather than refusing the file.
    pub fn skips_invalid(&self) -> bool {
        self.on_invalid == OnInvalid::Skip
    }
}
