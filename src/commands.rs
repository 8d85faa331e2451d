//! What each subcommand does; `main` only parses and dispatches here.

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::config::{
    Cli, Command, CommonArgs, ExportActionArgs, ExportFormat, GenCertArgs, ImportArgs, LookupArgs,
    ServeArgs, UnknownStatus,
};
use crate::http::Application;
use crate::import::{ImportRow, RowError, read_csv};
use crate::lookup::{Lookup, LookupOutcome};
use crate::normalise::PhoneNormaliser;
use crate::store::{CustomerStore, DatabaseUrl, PoolSettings, StoreError};

/// How many row errors `import` prints before summarising the rest.
const MAX_ERRORS_SHOWN: usize = 50;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(serve) => self::serve(&cli.common, &serve).await,
        Command::Migrate => migrate(&cli.common).await,
        Command::Import(import) => self::import(&cli.common, &import).await,
        Command::Lookup(lookup) => self::lookup(&cli.common, &lookup).await,
        Command::GenCert(args) => gen_cert(&args),
        Command::ExportAction(args) => export_action(&cli.common, &args),
    }
}

fn export_action(common: &CommonArgs, args: &ExportActionArgs) -> anyhow::Result<ExitCode> {
    use crate::genesys::{API_KEY_CREDENTIAL_FIELD, ActionAuth, ActionSpec};
    if args.url.scheme() != "https" {
        eprintln!(
            "warning: {} is not https: Genesys Cloud refuses to call plain HTTP endpoints. Put the service \
             behind a tunnel (ngrok, cloudflared) or serve it with a publicly trusted certificate.",
            args.url
        );
    }
    let spec = ActionSpec {
        base_url: args.url.as_str().trim_end_matches('/').to_owned(),
        auth: args.auth,
        name: args.name.clone(),
        category: args.category.clone(),
        timeout_seconds: args
            .timeout_seconds
            .unwrap_or_else(|| crate::lookup::action_timeout_seconds(common.store_timeout)),
        secure: args.secure,
        unknown: args.unknown.answer(),
    };
    match args.auth {
        ActionAuth::ApiKey => eprintln!(
            "In the Web Services Data Actions integration, set Credentials to type \"User Defined\" with a field \
             named {API_KEY_CREDENTIAL_FIELD} holding one of the service's --api-key values (the plain key, not its sha256)."
        ),
        ActionAuth::Basic => eprintln!(
            "In the Web Services Data Actions integration, set Credentials to type \"Basic Auth\" with a user and \
             password from the service's --basic-auth; Genesys Cloud adds the Authorization header itself."
        ),
        ActionAuth::None => eprintln!(
            "warning: the action sends no credentials; the service must run with --allow-unauthenticated behind \
             something else that keeps strangers out."
        ),
    }
    match args.format {
        ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&spec.to_json())?),
        ExportFormat::Terraform => print!("{}", spec.to_terraform()),
    }
    Ok(ExitCode::SUCCESS)
}

fn gen_cert(args: &GenCertArgs) -> anyhow::Result<ExitCode> {
    let (cert_path, key_path) = (args.out_dir.join("cert.pem"), args.out_dir.join("key.pem"));
    for path in [&cert_path, &key_path] {
        if path.exists() && !args.force {
            anyhow::bail!("{} exists; pass --force to replace it", path.display());
        }
    }
    let (cert, key) = crate::tls::self_signed(&args.hosts)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    std::fs::write(&cert_path, cert)
        .with_context(|| format!("cannot write {}", cert_path.display()))?;
    write_private(&key_path, key.as_bytes())
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    println!(
        "wrote {} and {} (valid for {})",
        cert_path.display(),
        key_path.display(),
        args.hosts.join(", ")
    );
    println!(
        "serve with: customer-lookup serve --tls-cert {} --tls-key {}",
        cert_path.display(),
        key_path.display()
    );
    println!(
        "note: this certificate is self-signed, for local HTTPS testing only. Genesys Cloud calls only \
         endpoints with a publicly trusted certificate: use a tunnel (ngrok, cloudflared) or a real certificate for it."
    );
    Ok(ExitCode::SUCCESS)
}

/// The private key is readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

async fn serve(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<ExitCode> {
    Application::build(common, serve)
        .await?
        .run_until_stopped()
        .await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn open_store(common: &CommonArgs) -> anyhow::Result<CustomerStore> {
    let url = DatabaseUrl::parse(&common.database_url)?;
    let store = CustomerStore::connect(&url, pool_settings(common)).await?;
    store.migrate().await?;
    Ok(store)
}

pub fn pool_settings(common: &CommonArgs) -> PoolSettings {
    PoolSettings {
        max_connections: common.db_max_connections,
        acquire_timeout: common.store_timeout,
    }
}

async fn migrate(common: &CommonArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(common).await?;
    store.close().await;
    println!("database is up to date ({})", store.backend().name());
    Ok(ExitCode::SUCCESS)
}

async fn import(common: &CommonArgs, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let source = args.file.display().to_string();
    let input: Box<dyn Read> = if source == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.file).with_context(|| format!("cannot open {source}"))?)
    };
    let normaliser = PhoneNormaliser::new(common.default_region);
    let rows = match read_csv(std::io::BufReader::new(input), &normaliser) {
        Ok(rows) => rows,
        Err(errors) => return Ok(report_rejected(&source, &errors)),
    };
    let store = open_store(common).await?;
    let records: Vec<_> = rows.iter().map(|row| row.record.clone()).collect();
    let written = store.upsert(&records).await;
    store.close().await;
    let summary = match written {
        Ok(summary) => summary,
        Err(StoreError::NumberTaken { number, owner }) => {
            let line = line_of_number(&rows, &number);
            let error = RowError {
                line,
                reason: format!(
                    "phone number {number} already belongs to customer {owner}, who is not in this file"
                ),
            };
            return Ok(report_rejected(&source, &[error]));
        }
        Err(other) => return Err(other.into()),
    };
    println!(
        "imported {} customer(s) from {source}: {} new, {} updated, {} unchanged; {} phone numbers ({:.2} s)",
        records.len(),
        summary.inserted,
        summary.updated,
        summary.unchanged,
        summary.phone_numbers,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn line_of_number(rows: &[ImportRow], number: &crate::domain::E164) -> u64 {
    rows.iter()
        .find(|row| row.record.phone_numbers.contains(number))
        .map_or(0, |row| row.line)
}

fn report_rejected(source: &str, errors: &[RowError]) -> ExitCode {
    for error in errors.iter().take(MAX_ERRORS_SHOWN) {
        eprintln!("{source}: {error}");
    }
    if errors.len() > MAX_ERRORS_SHOWN {
        eprintln!(
            "{source}: … and {} more problems",
            errors.len() - MAX_ERRORS_SHOWN
        );
    }
    eprintln!(
        "import refused: {} problem(s) found; nothing was written",
        errors.len()
    );
    ExitCode::FAILURE
}

async fn lookup(common: &CommonArgs, args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(common).await?;
    let lookup = Lookup::new(
        PhoneNormaliser::new(common.default_region),
        store.clone(),
        args.unknown.answer(),
        common.store_timeout,
    );
    let outcome = lookup.lookup(&args.caller_id).await;
    store.close().await;
    let outcome = outcome?;
    match &outcome {
        LookupOutcome::Found { number, .. } => eprintln!("found: {number}"),
        LookupOutcome::Unknown { number } => eprintln!("unknown caller: no customer has {number}"),
        LookupOutcome::Invalid(why) => eprintln!("unknown caller: not a phone number ({why})"),
    }
    let known = matches!(outcome, LookupOutcome::Found { .. });
    if !known && args.unknown.unknown_status == UnknownStatus::NotFound {
        println!(
            "{}",
            serde_json::json!({"error": "customer_not_found", "message": "no customer has this phone number"})
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("{}", serde_json::to_string(&lookup.answer(&outcome))?);
    Ok(ExitCode::SUCCESS)
}
