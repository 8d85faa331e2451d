//! What each subcommand does; `main` only parses and dispatches here.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

use crate::config::{
    Command, ExportActionArgs, ExportArgs, ExportFormat, GenCertArgs, ImportArgs, LookupArgs,
    MigrateArgs, ServeArgs, StoreArgs,
};
use crate::genesys::{API_KEY_CREDENTIAL_FIELD, ActionAuth};
use crate::http::ApiError;
use crate::import::rejects::{RejectTally, RejectWriter, SetAside};
use crate::import::{ImportFormat, OnInvalid, RowError, RowReader};
use crate::lookup::{Answered, Lookup, LookupError, LookupOutcome, OnStoreError};
use crate::normalise::PhoneNormaliser;
use crate::startup::Application;
use crate::store::{BulkImport, ConflictRule, CustomerStore, ImportMode};

/// How many row errors `import` prints before summarising the rest.
const MAX_ERRORS_SHOWN: usize = 50;
/// Conflicting rows fetched from the store at a time.
const CONFLICTS_PER_ROUND: usize = 10_000;

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(serve) => self::serve(&serve).await,
        Command::Migrate(args) => migrate(&args).await,
        Command::Import(import) => self::import(&import).await,
        Command::Export(args) => export(&args).await,
        Command::Lookup(lookup) => self::lookup(&lookup).await,
        Command::Explain(args) => explain(&args).await,
        Command::GenCert(args) => gen_cert(&args),
        Command::ExportAction(args) => export_action(&args),
    }
}

fn export_action(args: &ExportActionArgs) -> anyhow::Result<ExitCode> {
    use crate::genesys::{ActionSpec, FlowSpec, FlowValues, GenesysExport};
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
            .unwrap_or_else(|| crate::lookup::action_timeout_seconds(args.store_timeout)),
        secure: args.secure,
        unknown: args.unknown.answer(),
        client_certificate: args.client_certificate,
    };
    let flow = FlowSpec {
        name: args.flow_name.clone(),
        division: args.division.clone(),
        vip_queue: args.vip_queue.clone(),
        standard_queue: args.standard_queue.clone(),
    };
    let export = GenesysExport {
        action: &spec,
        flow: &flow,
    };
    if let Some(authority) = args.client_certificate {
        eprintln!("{}", authority.setup_note());
    }
    match (args.format, &args.out) {
        (ExportFormat::Json, None) => {
            credential_note(args.auth, args.client_certificate.is_some());
            println!("{}", serde_json::to_string_pretty(&spec.to_json())?);
        }
        (ExportFormat::Terraform, None) => {
            credential_note(args.auth, args.client_certificate.is_some());
            print!("{}", spec.to_terraform()?);
        }
        (ExportFormat::Archy, None) => print!("{}", export.archy_flow(FlowValues::Literal)?),
        (ExportFormat::Terraform, Some(folder)) => {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            for (name, text) in export.terraform_module()? {
                let path = folder.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            eprintln!(
                "wrote the Terraform module to {}: set its variables, then `terraform init && terraform apply` there (docs/genesys.md)",
                folder.display()
            );
        }
        (_, Some(_)) => {
            anyhow::bail!("--out writes a Terraform module: use it with --format terraform")
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the admin sets up by hand for an action exported alone.
fn credential_note(auth: ActionAuth, client_certificate: bool) {
    match auth {
        ActionAuth::ApiKey => eprintln!(
            "In the Web Services Data Actions integration, set Credentials to type \"User Defined\" with a field \
             named {API_KEY_CREDENTIAL_FIELD} holding one of the service's --api-key values (the plain key, not its sha256)."
        ),
        ActionAuth::Basic => eprintln!(
            "In the Web Services Data Actions integration, set Credentials to type \"Basic Auth\" with a user and \
             password from the service's --basic-auth; Genesys Cloud adds the Authorization header itself."
        ),
        ActionAuth::None if client_certificate => eprintln!(
            "The action sends no key: Genesys Cloud's client certificate is its credential, so the service \
             must run with --client-ca and --client-cert-mode required."
        ),
        ActionAuth::None => eprintln!(
            "warning: the action sends no credentials; the service must run with --allow-unauthenticated behind \
             something else that keeps strangers out."
        ),
    }
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

async fn serve(serve: &ServeArgs) -> anyhow::Result<ExitCode> {
    Application::build(&serve.settings())
        .await?
        .run_until_stopped()
        .await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn open_store(args: &StoreArgs) -> anyhow::Result<CustomerStore> {
    let store = CustomerStore::connect(&args.url()?, args.pool_settings()).await?;
    store.migrate().await?;
    Ok(store)
}

async fn migrate(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store).await?;
    store.close().await;
    println!("database is up to date ({})", store.backend().name());
    Ok(ExitCode::SUCCESS)
}

/// Rows staged per round trip to the store: large, because every Postgres COPY ends with a
/// short write that waits for a delayed ACK (sqlx leaves Nagle on), ~40 ms per batch; 50,000
/// rows hold about 10 MB.
const IMPORT_BATCH: usize = 50_000;

async fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let source = args.file.display().to_string();
    let skip = args.on_invalid == OnInvalid::Skip;
    if skip && args.rejects.is_none() {
        anyhow::bail!(
            "--on-invalid skip needs --rejects FILE: the rows set aside are written there, each with its line and reason"
        );
    }
    if skip && args.mode == ImportMode::Replace {
        anyhow::bail!(
            "--on-invalid skip works in upsert mode only: --mode replace deletes every customer not in the file, \
             so a row set aside would delete its customer. Fix the rows, or import them with --mode upsert"
        );
    }
    if let Some(rejects) = &args.rejects
        && let (Ok(a), Ok(b)) = (rejects.canonicalize(), args.file.canonicalize())
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
        let file =
            std::fs::File::open(&args.file).with_context(|| format!("cannot open {source}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let plain_name = source.strip_suffix(".gz").unwrap_or(&source);
    let format = args.format.unwrap_or(
        if plain_name.ends_with(".jsonl") || plain_name.ends_with(".ndjson") {
            ImportFormat::Jsonl
        } else {
            ImportFormat::Csv
        },
    );
    let mapping = args.mapping();
    mapping.check(format).map_err(anyhow::Error::msg)?;
    let mut reject_file = match &args.rejects {
        Some(path) => Some(
            RejectWriter::create(path)
                .with_context(|| format!("cannot create the reject file {}", path.display()))?,
        ),
        None => None,
    };
    let mut set_aside = reject_file.as_ref().map(|_| SetAside::new()).transpose()?;
    let progress = Progress::new(size);
    // The bar counts the bytes read from the file, so it tracks a compressed file too.
    let input = gunzip_if_compressed(progress.wrap(input));
    let normaliser = PhoneNormaliser::new(args.region.default_region);
    let store = open_store(&args.store).await?;
    let mut session = store.begin_import().await?;
    let input = std::io::BufReader::with_capacity(1 << 16, input).into_boxed();
    let mut reader = if set_aside.is_some() {
        RowReader::keeping_raw_rows(input, format, &normaliser, &mapping)
    } else {
        RowReader::with_mapping(input, format, &normaliser, &mapping)
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
    // Valid rows are staged even after a bad one, so duplicates across the whole file are found
    // and reported together with the row errors.
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
                store.close().await;
                shown.extend(errors);
                eprint_problems(&source, &shown, shown.len());
                eprintln!("import refused: the file cannot be read; nothing was written");
                return Ok(ExitCode::FAILURE);
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
        set_aside_conflicts(&mut session, args, rows, &mut tally, &mut shown).await?;
    shown.sort_by_key(|p| p.line);
    if let (Some(set_aside), Some(out)) = (set_aside, reject_file) {
        set_aside
            .write(&conflicts, out)
            .context("cannot write the reject file")?;
    }
    let rejects_note = args
        .rejects
        .as_ref()
        .map(|path| format!(" (listed in {})", path.display()))
        .unwrap_or_default();
    let too_many = skip && args.max_invalid.exceeded(tally.rows, rows);
    if tally.rows > 0 && (!skip || too_many) {
        session.abort().await?;
        store.close().await;
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
                args.max_invalid
            );
        } else {
            let hint = match args.mode {
                ImportMode::Upsert => " (--on-invalid skip --rejects FILE imports the rest)",
                ImportMode::Replace => " (fix the rows: a replace takes the whole file)",
            };
            eprintln!(
                "import refused: {} bad row(s){rejects_note}; nothing was written{hint}",
                tally.rows
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    // An empty export (a failed CRM job, a filter that matched nothing) must not empty the store.
    if args.mode == ImportMode::Replace && rows == 0 {
        session.abort().await?;
        store.close().await;
        eprintln!(
            "import refused: {source} holds no customers, and --mode replace would delete every customer in the store; nothing was written"
        );
        return Ok(ExitCode::FAILURE);
    }
    let counts = session.apply(args.mode, fields, args.dry_run).await?;
    store.close().await;
    let elapsed = started.elapsed().as_secs_f64();
    let customers = counts.inserted + counts.updated + counts.unchanged;
    let verb = if args.dry_run {
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
    if tally.rows > 0 {
        let verb = if args.dry_run { "would set" } else { "set" };
        println!("{verb} aside {} bad row(s){rejects_note}:", tally.rows);
        for line in tally.lines() {
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Conflicts (duplicates, numbers other customers own) are rows too. Each rule's rows are set
/// aside before the next rule is checked (a row is never refused for clashing with a row refused
/// already), in every mode: an abort rolls everything back anyway. Returns each conflicting
/// line's reasons, and whether checking stopped (too many bad rows) with more left to find.
async fn set_aside_conflicts(
    session: &mut BulkImport,
    args: &ImportArgs,
    rows: u64,
    tally: &mut RejectTally,
    shown: &mut Vec<RowError>,
) -> anyhow::Result<(BTreeMap<u64, Vec<String>>, bool)> {
    let skip = args.on_invalid == OnInvalid::Skip;
    let mut conflicts: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for rule in ConflictRule::ALL {
        if !rule.applies_in(args.mode) {
            continue;
        }
        loop {
            // A bounded slice at a time: a file of one number a million times must not become
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
            if skip && args.max_invalid.exceeded(tally.rows, rows) {
                // Too many already: the import is refused. Say "at least" only if rows remain
                // that break this rule or a later one.
                for later in ConflictRule::ALL.into_iter().skip_while(|r| *r != rule) {
                    if later.applies_in(args.mode) && !session.conflicts(later, 1).await?.is_empty()
                    {
                        return Ok((conflicts, true));
                    }
                }
                return Ok((conflicts, false));
            }
            if found.len() < CONFLICTS_PER_ROUND && !rule.cascades() {
                break;
            }
        }
    }
    Ok((conflicts, false))
}

/// Reads gzip input (a `.csv.gz` straight out of a CRM's export job) by its magic bytes, so a
/// compressed file needs no flag and standard input may be compressed too.
fn gunzip_if_compressed(input: Box<dyn Read>) -> Box<dyn Read> {
    let (start, input) = crate::import::peek(input, |start| start.len() >= 2);
    if start.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(input))
    } else {
        input
    }
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

/// A progress bar on a terminal; on anything else, a plain line every so many rows.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    const PLAIN_EVERY: u64 = 250_000;

    fn new(size: Option<u64>) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = match size {
            Some(bytes) => indicatif::ProgressBar::new(bytes).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        // Only files that take more than a moment show it.
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Self { bar: Some(bar) }
    }

    fn wrap(&self, input: Box<dyn Read>) -> Box<dyn Read> {
        match &self.bar {
            Some(bar) => Box::new(bar.wrap_read(input)),
            None => input,
        }
    }

    fn row(&self, rows: u64) {
        match &self.bar {
            Some(bar) if rows.is_multiple_of(1000) => bar.set_message(format!("{rows} rows")),
            None if rows.is_multiple_of(Self::PLAIN_EVERY) => eprintln!("… {rows} rows read"),
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

trait IntoBoxedRead {
    fn into_boxed(self) -> Box<dyn Read>;
}

impl<R: Read + 'static> IntoBoxedRead for R {
    fn into_boxed(self) -> Box<dyn Read> {
        Box::new(self)
    }
}

async fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let target = args.file.display().to_string();
    let output: Box<dyn std::io::Write> = if target == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.file).with_context(|| format!("cannot create {target}"))?,
        )
    };
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(output));
    writer.write_record(crate::import::COLUMNS)?;
    let store = open_store(&args.store).await?;
    let written = store
        .for_each_customer(|record| {
            let c = &record.customer;
            let numbers: Vec<&str> = record.phone_numbers.iter().map(|n| n.as_str()).collect();
            writer.write_record([
                c.id.as_str(),
                c.name.as_str(),
                &c.loyalty_points.value().to_string(),
                if c.is_vip { "true" } else { "false" },
                &numbers.join(";"),
            ])
        })
        .await;
    store.close().await;
    let written = written?;
    writer.flush()?;
    if target != "-" {
        println!("exported {written} customer(s) to {target}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The lookup a command runs: a command has no flow to keep going, so a store failure is an
/// error, never a degraded answer.
fn command_lookup(args: &LookupArgs, store: &CustomerStore) -> Lookup {
    let policy = args
        .unknown
        .policy(OnStoreError::Fail, args.store.store_timeout);
    Lookup::new(
        PhoneNormaliser::new(args.region.default_region),
        store.clone(),
        policy,
    )
}

async fn explain(args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store).await?;
    let explanation = command_lookup(args, &store).explain(&args.caller_id).await;
    store.close().await;
    println!(
        "{}",
        serde_json::to_string_pretty(&crate::http::explanation_json(explanation))?
    );
    Ok(ExitCode::SUCCESS)
}

async fn lookup(args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store).await?;
    let answered = command_lookup(args, &store).answer(&args.caller_id).await;
    store.close().await;
    let (found, answer) = match answered {
        Ok(Answered::Answer { found, answer }) => (found, Ok(answer)),
        Err(LookupError::CustomerNotFound { found }) => (found, Err(ApiError::CustomerNotFound)),
        Err(LookupError::StoreUnavailable(failure)) | Ok(Answered::Degraded { failure, .. }) => {
            return Err(failure.into());
        }
    };
    match &found.outcome {
        LookupOutcome::Found { number, .. } => eprintln!("found: {number}"),
        LookupOutcome::Unknown { number } => eprintln!("unknown caller: no customer has {number}"),
        LookupOutcome::Invalid(why) => eprintln!("unknown caller: not a phone number ({why})"),
    }
    match answer {
        Ok(answer) => {
            println!("{}", serde_json::to_string(&answer)?);
            Ok(ExitCode::SUCCESS)
        }
        // The same error body the HTTP API answers with.
        Err(refusal) => {
            println!("{}", refusal.body());
            Ok(ExitCode::FAILURE)
        }
    }
}
