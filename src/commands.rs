//! What each subcommand does; `main` only parses and dispatches here.

use std::process::ExitCode;

use anyhow::Context;

use crate::config::{
    Command, ExportActionArgs, ExportArgs, ExportFormat, GenCertArgs, ImportArgs, LookupArgs,
    MigrateArgs, ServeArgs, StoreArgs,
};
use crate::domain::CustomerField;
use crate::genesys::{API_KEY_CREDENTIAL_FIELD, ActionAuth, ActionOutput};
use crate::http::ApiError;
use crate::import::{Import, ImportOutcome};
use crate::lookup::{Decision, Lookup, LookupError, LookupOutcome, OnStoreError};
use crate::normalise::PhoneNormaliser;
use crate::startup::Application;
use crate::store::CustomerStore;

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
        extra_outputs: args
            .unknown
            .answer_fields
            .fields()
            .iter()
            .map(|field| ActionOutput {
                name: field.name(),
                json_type: field.json_type(),
                default: field.absent_value(),
            })
            .collect(),
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
    let url =
        crate::startup::database_url(&args.database_url, args.database_password_file.as_deref())?;
    let store = CustomerStore::connect(&url, args.pool_settings()).await?;
    store.migrate().await?;
    Ok(store)
}

async fn migrate(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store).await?;
    store.close().await;
    println!("database is up to date ({})", store.backend().name());
    Ok(ExitCode::SUCCESS)
}

async fn import(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let settings = args.settings();
    let import = Import::prepare(&settings)?;
    let store = open_store(&args.store).await?;
    let outcome = import.run(&store).await;
    store.close().await;
    Ok(match outcome? {
        ImportOutcome::Imported => ExitCode::SUCCESS,
        ImportOutcome::Refused => ExitCode::FAILURE,
    })
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
    writer.write_record(CustomerField::NAMES)?;
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
    let lookup = command_lookup(args, &store);
    let explanation = lookup.explain(&args.caller_id).await;
    store.close().await;
    let shown = crate::http::explanation_json(explanation, lookup.answer_fields());
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(ExitCode::SUCCESS)
}

async fn lookup(args: &LookupArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.store).await?;
    let lookup = command_lookup(args, &store);
    let decided = lookup.decide(&args.caller_id).await;
    store.close().await;
    let (recognition, answer) = match decided {
        Ok(Decision::Answer {
            recognition,
            answer,
        }) => (recognition, Ok(answer)),
        Err(LookupError::CustomerNotFound { recognition }) => {
            (recognition, Err(ApiError::CustomerNotFound))
        }
        Err(LookupError::StoreUnavailable(failure)) | Ok(Decision::Degraded { failure, .. }) => {
            return Err(failure.into());
        }
    };
    match &recognition.outcome {
        LookupOutcome::Unique { number, .. } => eprintln!("found: {number}"),
        LookupOutcome::Shared { number, count, .. } => {
            eprintln!("shared number: {count} customers have {number}")
        }
        LookupOutcome::Unknown { number } => eprintln!("unknown caller: no customer has {number}"),
        LookupOutcome::Invalid(why) => eprintln!("unknown caller: not a phone number ({why})"),
    }
    let fields = lookup.answer_fields();
    match answer {
        Ok(answer) => {
            let rendered = fields.render(&answer, Some(&recognition.outcome));
            println!("{}", serde_json::to_string(&rendered)?);
            Ok(ExitCode::SUCCESS)
        }
        // The same error body the HTTP API answers with.
        Err(refusal) => {
            println!("{}", refusal.body());
            Ok(ExitCode::FAILURE)
        }
    }
}
