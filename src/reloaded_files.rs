//! Settings read from files that SIGHUP re-reads: API keys, Basic credentials, admin keys and the
//! network allowlist. A file is parsed whole before anything changes, so a bad edit leaves the
//! set in force (never half of it). Errors about a secret file name the file and the line, never
//! its content; the allowlist holds no secret, so its errors quote the entry that is wrong.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use ipnet::IpNet;

/// Why a file was not (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}, line {line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Content { path: String, reason: String },
}

/// A value that is replaced whole. Readers clone the `Arc` (a brief shared lock, never held
/// across a request), so a request keeps the snapshot it started with while a reload swaps in
/// the next one.
#[derive(Debug)]
pub struct Swap<T>(RwLock<Arc<T>>);

impl<T> Swap<T> {
    pub fn new(value: T) -> Self {
        Self(RwLock::new(Arc::new(value)))
    }

    pub fn load(&self) -> Arc<T> {
        Arc::clone(
            &self
                .0
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    pub fn store(&self, value: T) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(value);
    }
}

/// The file's text, without the byte order mark some Windows editors put first (it would become
/// part of the first key, password or network, which then never matches or parses).
fn read_text(path: &Path) -> Result<String, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// A warning when other users may read a secret file (mode o+r), for the log.
pub fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o004 != 0).then(|| {
        format!(
            "{} is readable by every user on this machine (mode {:o}); restrict it, e.g. chmod 600",
            path.display(),
            mode & 0o777
        )
    })
}

/// Every entry of a secret file, one a line (blank lines and lines starting with `#` skipped;
/// a `#` elsewhere may be part of a secret), each parsed by `parse`; the first line that does not
/// parse fails the whole file.
pub fn secret_entries<T>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FileError> {
    if let Some(warning) = permission_warning(path) {
        tracing::warn!("{warning}");
    }
    let text = read_text(path)?;
    let entries = entries(&text, path, skip_comment_line, parse)?;
    if entries.is_empty() {
        // More likely a truncated or half-written file than an intent to revoke every entry.
        return Err(FileError::Content {
            path: path.display().to_string(),
            reason:
                "no entry in it (to admit nobody from this file, remove the option and restart)"
                    .into(),
        });
    }
    Ok(entries)
}

fn skip_comment_line(line: &str) -> &str {
    if line.starts_with('#') { "" } else { line }
}

/// A network holds no `#`: a comment may follow one on its line.
fn strip_trailing_comment(line: &str) -> &str {
    line.split('#').next().unwrap_or_default()
}

/// The entries of `text`, one a line, after `uncomment` and trimming; empty lines skipped.
fn entries<T>(
    text: &str,
    path: &Path,
    uncomment: fn(&str) -> &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FileError> {
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = uncomment(line.trim()).trim();
        if line.is_empty() {
            continue;
        }
        entries.push(parse(line).map_err(|reason| FileError::Line {
            path: path.display().to_string(),
            line: index + 1,
            reason,
        })?);
    }
    Ok(entries)
}

/// The first line of a file holding one secret (a password), without its line break.
pub fn single_secret(path: &Path) -> Result<String, FileError> {
    if let Some(warning) = permission_warning(path) {
        tracing::warn!("{warning}");
    }
    let text = read_text(path)?;
    let secret = text.lines().next().unwrap_or_default().trim_end();
    if secret.is_empty() {
        return Err(FileError::Content {
            path: path.display().to_string(),
            reason: "the first line is empty".into(),
        });
    }
    Ok(secret.to_owned())
}

/// Genesys Cloud's ipranges document (`GET /api/v2/ipranges`): only `entities` matter.
#[derive(serde::Deserialize)]
struct IpRanges {
    entities: Vec<IpRange>,
}

#[derive(serde::Deserialize)]
struct IpRange {
    /// Optional here: an entry of another service without one must not fail the document.
    #[serde(default)]
    cidr: Option<String>,
    #[serde(default)]
    service: String,
    /// Newer documents say which way traffic flows from Genesys' side; data actions call out.
    #[serde(default)]
    direction: Option<String>,
}

/// The service whose ranges data actions call from.
const DATA_ACTIONS: &str = "data-actions";

/// The networks of an allowlist file: either one IP or CIDR a line (`#` comments allowed), or the
/// JSON Genesys Cloud answers at `GET /api/v2/ipranges`, of which only the `data-actions` ranges
/// are kept. A file that yields no network is refused: it would shut every caller out, and is
/// more likely a failed download than an intent.
pub fn allowlist(path: &Path) -> Result<Vec<IpNet>, FileError> {
    let text = read_text(path)?;
    let content_error = |reason: String| FileError::Content {
        path: path.display().to_string(),
        reason,
    };
    let networks = if text.trim_start().starts_with('{') {
        let document: IpRanges = serde_json::from_str(&text).map_err(|e| {
            content_error(format!(
                "not a Genesys Cloud ipranges document ({{\"entities\": [...]}}): {e}"
            ))
        })?;
        let mut networks = Vec::new();
        for range in document.entities.iter().filter(|range| {
            range.service == DATA_ACTIONS
                && range
                    .direction
                    .as_deref()
                    .is_none_or(|d| d.eq_ignore_ascii_case("outbound"))
        }) {
            let Some(cidr) = range.cidr.as_deref() else {
                return Err(content_error(format!(
                    "a {DATA_ACTIONS} entity has no cidr"
                )));
            };
            networks.push(
                crate::domain::parse_network(cidr)
                    .map_err(|reason| content_error(format!("entity {cidr:?}: {reason}")))?,
            );
        }
        if networks.is_empty() {
            return Err(content_error(format!(
                "no {DATA_ACTIONS} ranges in this ipranges document"
            )));
        }
        networks
    } else {
        let networks = entries(
            &text,
            path,
            strip_trailing_comment,
            crate::domain::parse_network,
        )?;
        if networks.is_empty() {
            return Err(content_error("no network in it".into()));
        }
        networks
    };
    Ok(dedup(networks))
}

/// The networks, each once, smallest address first (the order they are logged in).
fn dedup(mut networks: Vec<IpNet>) -> Vec<IpNet> {
    networks.sort_by_key(|net| (matches!(net.addr(), IpAddr::V6(_)), *net));
    networks.dedup();
    networks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn secret_files_skip_comments_and_blank_lines_and_name_the_bad_line_only() {
        let keys = file(
            "# rotated 2026-11\n\n  first-key-of-enough-length  \nsecond-key-of-enough-length\n",
        );
        let parsed = secret_entries(keys.path(), |raw| Ok::<_, String>(raw.to_owned())).unwrap();
        assert_eq!(
            parsed,
            ["first-key-of-enough-length", "second-key-of-enough-length"]
        );

        let bad = file("good-key-of-enough-length\nsupersecretbutshort\n");
        let err = secret_entries(bad.path(), |raw| {
            if raw.len() < 20 {
                Err("too short".to_owned())
            } else {
                Ok(())
            }
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 2: too short"), "{err}");
        assert!(!err.contains("supersecret"), "{err}");
    }

    #[test]
    fn a_world_readable_secret_file_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let keys = file("k");
        std::fs::set_permissions(keys.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(permission_warning(keys.path()).unwrap().contains("644"));
        std::fs::set_permissions(keys.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(permission_warning(keys.path()), None);
    }

    #[test]
    fn a_plain_allowlist_reads_addresses_and_networks() {
        let list = file("# office\n10.1.2.3\n192.0.2.0/24 # lab\n\n2001:db8::/32\n10.1.2.3\n");
        let networks: Vec<String> = allowlist(list.path())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(networks, ["10.1.2.3/32", "192.0.2.0/24", "2001:db8::/32"]);
        let err = allowlist(file("10.0.0.0/8\nnot-a-network\n").path()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(allowlist(file("# nothing\n").path()).is_err());
    }

    #[test]
    fn the_genesys_ipranges_document_yields_its_data_actions_ranges_only() {
        // Shaped as GET /api/v2/ipranges answers (IpAddressRange: cidr, service, region, direction).
        let document = r#"{
          "entities": [
            {"cidr": "52.1.2.0/24", "service": "data-actions", "region": "us-east-1", "direction": "outbound"},
            {"cidr": "34.225.8.16/28", "service": "data-actions", "region": "us-east-1"},
            {"cidr": "2600:1f18:aaaa::/48", "service": "data-actions", "region": "us-east-1", "direction": "outbound"},
            {"cidr": "3.3.3.0/24", "service": "api", "region": "us-east-1", "direction": "inbound"},
            {"cidr": "18.1.1.0/24", "service": "smtp", "region": "eu-west-1", "direction": "outbound"},
            {"cidr": "13.2.2.0/24", "service": "data-actions", "region": "us-east-1", "direction": "inbound"},
            {"cidr": "44.4.4.0/26", "service": "audiohook", "region": "us-east-1"}
          ]
        }"#;
        let networks: Vec<String> = allowlist(file(document).path())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            networks,
            ["34.225.8.16/28", "52.1.2.0/24", "2600:1f18:aaaa::/48"]
        );
        let none =
            r#"{"entities": [{"cidr": "3.3.3.0/24", "service": "api", "region": "us-east-1"}]}"#;
        assert!(
            allowlist(file(none).path())
                .unwrap_err()
                .to_string()
                .contains("no data-actions")
        );
        assert!(allowlist(file("{\"entities\": 5}").path()).is_err());
    }

    #[test]
    fn a_swap_keeps_the_snapshot_a_reader_holds() {
        let swap = Swap::new(vec![1]);
        let held = swap.load();
        swap.store(vec![2]);
        assert_eq!(*held, [1]);
        assert_eq!(*swap.load(), [2]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_line() {
        let keys = file("\u{feff}first-key-of-enough-length\n");
        let parsed = secret_entries(keys.path(), |raw| Ok::<_, String>(raw.to_owned())).unwrap();
        assert_eq!(parsed, ["first-key-of-enough-length"]);
        assert_eq!(
            single_secret(file("\u{feff}pw-on-line-one\n").path()).unwrap(),
            "pw-on-line-one"
        );
        let plain = allowlist(file("\u{feff}10.0.0.0/8\n").path()).unwrap();
        assert_eq!(plain[0].to_string(), "10.0.0.0/8");
        let document =
            "\u{feff}{\"entities\":[{\"cidr\":\"10.0.0.0/8\",\"service\":\"data-actions\"}]}";
        assert_eq!(allowlist(file(document).path()).unwrap().len(), 1);
    }

    #[test]
    fn an_entity_of_another_service_without_a_cidr_is_ignored_and_one_of_data_actions_refused() {
        let document =
            r#"{"entities":[{"cidr":"10.0.0.0/8","service":"data-actions"},{"service":"api"}]}"#;
        assert_eq!(allowlist(file(document).path()).unwrap().len(), 1);
        let document = r#"{"entities":[{"cidr":"10.0.0.0/8","service":"data-actions"},{"service":"data-actions"}]}"#;
        let err = allowlist(file(document).path()).unwrap_err().to_string();
        assert!(err.contains("no cidr"), "{err}");
    }

    #[test]
    fn a_secret_file_without_entries_is_refused() {
        for text in ["", "\n\n", "# all keys removed\n", "\u{feff}"] {
            let err = secret_entries(file(text).path(), |raw| Ok::<_, String>(raw.to_owned()))
                .unwrap_err()
                .to_string();
            assert!(err.contains("no entry"), "{text:?}: {err}");
        }
    }
}
