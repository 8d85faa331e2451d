//! Every file `export-action` produces, compared byte for byte with a committed copy under
//! tests/golden/genesys/<combination>/: the JSON action (`action.json`), the Terraform resource
//! alone (`action.tf`), the Archy flow (`flow.yaml`) and the Terraform module `--out` writes
//! (`module/…`, every file of it, and no other).
//!
//! The combinations: the full product of the options that shape the credential, integration and
//! action together (`--auth` × `--client-certificate` × `--secure`, 18 combinations), then each
//! value-carrying option away from its default at least once (timeouts, URL, names, the
//! unknown-caller answer), the names also with every non-default credential choice.
//!
//! `UPDATE_GOLDEN=1 cargo test --test api genesys_golden` rewrites the copies from the current
//! build; review the diff before committing it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::helpers::binary;

/// Names that need every kind of escaping: quotes and backslashes (JSON, HCL, YAML), Terraform
/// templates (`${`, `%{`), Velocity references, YAML indicators, non-ASCII and a line break.
const AWKWARD_NAMES: [&str; 12] = [
    "--name",
    "Look \"up\" ${credentials.apiKey} \\ café",
    "--category",
    "Cat: #1 %{ if true }x%{ endif } $esc.jsonString(x)",
    "--flow-name",
    "Inbound\n- flow: {{flow_name}}",
    "--division",
    "Div 'one' \\\\ ${var.division_name}",
    "--vip-queue",
    "VIP \"gold\" ⭐",
    "--standard-queue",
    "General; ${path.module} & *anchor",
];

/// Every combination as (directory name, arguments after `--url …`, URL).
fn combinations() -> Vec<(String, Vec<String>, &'static str)> {
    const URL: &str = "https://lookup.example.com";
    let mut all = Vec::new();
    for auth in ["api-key", "basic", "none"] {
        for certificate in [None, Some("genesys"), Some("digicert")] {
            for secure in [false, true] {
                let mut args = vec!["--auth".to_owned(), auth.to_owned()];
                if let Some(authority) = certificate {
                    args.extend(["--client-certificate".to_owned(), authority.to_owned()]);
                }
                if secure {
                    args.push("--secure".to_owned());
                }
                let name = format!(
                    "auth-{auth}_cert-{}_{}",
                    certificate.unwrap_or("off"),
                    if secure { "secure" } else { "open" }
                );
                all.push((name, args, URL));
            }
        }
    }
    let owned = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let awkward = |extra: &[&str]| {
        let mut args = owned(&AWKWARD_NAMES);
        args.extend(owned(extra));
        args
    };
    all.extend([
        (
            "timeout-explicit".to_owned(),
            owned(&["--timeout-seconds", "17"]),
            URL,
        ),
        (
            "timeout-from-store".to_owned(),
            owned(&["--store-timeout", "2500ms"]),
            URL,
        ),
        (
            "timeout-from-store-max".to_owned(),
            owned(&["--store-timeout", "60s"]),
            URL,
        ),
        (
            "timeout-explicit-over-store".to_owned(),
            owned(&["--timeout-seconds", "1", "--store-timeout", "30s"]),
            URL,
        ),
        (
            "url-path-trailing-slash".to_owned(),
            Vec::new(),
            "https://edge.example.com:8443/crm/lookup-svc/",
        ),
        (
            "url-plain-http".to_owned(),
            Vec::new(),
            "http://localhost:8080",
        ),
        ("names-awkward".to_owned(), awkward(&[]), URL),
        (
            "names-awkward_auth-basic_cert-digicert_secure".to_owned(),
            awkward(&[
                "--auth",
                "basic",
                "--client-certificate",
                "digicert",
                "--secure",
            ]),
            URL,
        ),
        (
            "names-awkward_auth-none_cert-genesys".to_owned(),
            awkward(&["--auth", "none", "--client-certificate", "genesys"]),
            URL,
        ),
        (
            "unknown-answer".to_owned(),
            owned(&[
                "--unknown-customer-id",
                "NEW \"caller\" ${x}",
                "--unknown-name",
                "Nobody \\ %{y} é",
                "--unknown-loyalty-points",
                "9007199254740991",
                "--unknown-is-vip",
                "true",
            ]),
            URL,
        ),
        (
            "unknown-status-404".to_owned(),
            owned(&["--unknown-status", "404"]),
            URL,
        ),
    ]);
    all
}

/// One run of the binary's `export-action`; its standard output.
fn export(url: &str, args: &[String], extra: &[&str]) -> Vec<u8> {
    let output = binary()
        .args(["export-action", "--url", url])
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "export-action {args:?} {extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Every file of one combination, by its path inside the combination's golden directory.
fn produce(url: &str, args: &[String]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert(
        "action.json".to_owned(),
        export(url, args, &["--format", "json"]),
    );
    files.insert(
        "action.tf".to_owned(),
        export(url, args, &["--format", "terraform"]),
    );
    files.insert(
        "flow.yaml".to_owned(),
        export(url, args, &["--format", "archy"]),
    );
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("module");
    export(
        url,
        args,
        &["--format", "terraform", "--out", module.to_str().unwrap()],
    );
    for (name, bytes) in read_dir(&module) {
        files.insert(format!("module/{name}"), bytes);
    }
    files
}

fn read_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| {
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/genesys")
}

/// The golden files of one combination, by the same paths as `produce`.
fn golden(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = read_dir(dir);
    for (name, bytes) in read_dir(&dir.join("module")) {
        files.insert(format!("module/{name}"), bytes);
    }
    files
}

#[test]
fn every_exported_file_matches_its_golden_copy() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let root = golden_root();
    let combinations = combinations();
    let mut mismatches = Vec::new();
    for (name, args, url) in &combinations {
        let dir = root.join(name);
        let produced = produce(url, args);
        if update {
            let _ = std::fs::remove_dir_all(&dir);
            for (path, bytes) in &produced {
                let path = dir.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
            continue;
        }
        let expected = golden(&dir);
        if expected.keys().ne(produced.keys()) {
            mismatches.push(format!(
                "{name}: files {:?}, golden {:?}",
                produced.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>()
            ));
        }
        for (path, bytes) in &produced {
            if expected.get(path).is_some_and(|golden| golden != bytes) {
                mismatches.push(format!(
                    "{name}/{path} differs:\n{}",
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
    }
    if update {
        // A combination that no longer exists leaves no stale directory behind.
        for entry in std::fs::read_dir(&root).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !combinations.iter().any(|(known, _, _)| *known == name) {
                std::fs::remove_dir_all(entry.path()).unwrap();
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "exported files differ from tests/golden/genesys (UPDATE_GOLDEN=1 rewrites them):\n{}",
        mismatches.join("\n")
    );
}
