//! The command line: every option is a flag and, for the service's own settings, an environment
//! variable, scoped to the subcommands it affects. This module only turns flags into the typed
//! settings the rest of the program takes; docs/configuration.md is generated from it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use bytesize::ByteSize;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};

use ipnet::IpNet;

use crate::cache::CacheSettings;
use crate::domain::{
    AnswerBody, ApiKey, BasicCredential, CustomerId, CustomerName, LoyaltyPoints, parse_network,
};
use crate::genesys::{ActionAuth, ClientCertificateAuthority};
use crate::import::rejects::MaxInvalid;
use crate::import::{ColumnMapping, FieldMap, ImportFormat, ImportSettings, OnInvalid};
use crate::lookup::{AnswerFields, LookupPolicy, OnSharedNumber, OnStoreError, UnknownStatus};
use crate::normalise::Region;
use crate::settings::{
    ClientCaSettings, ClientCertMode, EdgeSettings, ForwardedHeader, RequestLimits, ServeSettings,
    TlsFiles,
};
use crate::store::{DatabaseUrl, ImportMode, PoolSettings};
use crate::telemetry::LogFormat;
use crate::tls::CertificateName;

/// A flag that takes one of `names`, parsed into `T` (which knows nothing of the command line).
fn one_of<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).try_map(|name| name.parse::<T>())
}

/// A secret's parser whose refusal never quotes the value (clap's own message would:
/// "invalid value '<the secret>' for '--api-key'"): the reason and the option's name only.
#[derive(Clone)]
struct Secret<T>(fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Secret<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let option = arg
            .and_then(clap::Arg::get_long)
            .map_or_else(|| "a secret".to_owned(), |long| format!("--{long}"));
        let refuse = |kind, reason: String| {
            clap::Error::raw(
                kind,
                format!("{option}: {reason} (the value given is not shown)\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse(ErrorKind::InvalidUtf8, "not UTF-8".into()))?;
        (self.0)(text).map_err(|reason| refuse(ErrorKind::ValueValidation, reason))
    }
}

fn database_url(raw: &str) -> Result<DatabaseUrl, String> {
    DatabaseUrl::parse(raw).map_err(|e| e.to_string())
}

fn certificate_name(raw: &str) -> Result<CertificateName, String> {
    CertificateName::parse(raw).map_err(|e| e.to_string())
}

#[derive(Debug, Parser)]
#[command(
    name = "customer-lookup",
    version,
    about = "Recognise a caller for Genesys Cloud flows: caller ID → E.164 → customer."
)]
pub struct Cli {
    #[command(flatten)]
    pub logging: LoggingArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first unless --no-migrate).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Load customers from CSV or JSON Lines: upsert or replace, all or nothing.
    Import(ImportArgs),
    /// Write every customer as CSV in the import format (export, then import, is an exact round trip).
    Export(ExportArgs),
    /// Print the JSON answer the service would give for a caller ID.
    Lookup(LookupArgs),
    /// Show step by step how a caller ID is read and answered (what the admin API's /api/v1/explain shows).
    Explain(LookupArgs),
    /// Write a self-signed certificate and key (cert.pem, key.pem) for local HTTPS testing.
    GenCert(GenCertArgs),
    /// Print the Genesys Cloud data action that calls this service (JSON to import, or Terraform).
    ExportAction(ExportActionArgs),
}

/// Logging: the only options every subcommand shares.
#[derive(Debug, Clone, Args)]
pub struct LoggingArgs {
    /// Log filter: a level (error, warn, info, debug, trace) or `target=level` directives.
    #[arg(long, env = "LOOKUP_LOG_LEVEL", default_value = "info", global = true)]
    pub log_level: String,

    /// pretty (human-readable lines) or json (one JSON object per line, for log pipelines).
    #[arg(
        long,
        env = "LOOKUP_LOG_FORMAT",
        default_value = "pretty",
        value_parser = one_of::<LogFormat>(&LogFormat::NAMES),
        global = true
    )]
    pub log_format: LogFormat,
}

/// The customer store: for every subcommand that opens it.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Store")]
pub struct StoreArgs {
    /// Customer store: sqlite://PATH (file and folder created when missing) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/customers.db",
        value_parser = Secret(database_url),
        hide_env_values = true
    )]
    pub database_url: DatabaseUrl,

    /// File whose first line is the Postgres password, put into the URL (which then names the user but no password); read at start, and by serve again on SIGHUP (new connections use it).
    #[arg(long, env = "LOOKUP_DATABASE_PASSWORD_FILE")]
    pub database_password_file: Option<PathBuf>,

    /// Most database connections this process opens.
    #[arg(long, env = "LOOKUP_DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Deadline for each store call (a lookup, a readiness check, taking a pooled connection): past it the store counts as unavailable.
    #[arg(long, env = "LOOKUP_STORE_TIMEOUT", default_value = "1s", value_parser = parse_store_timeout)]
    pub store_timeout: Duration,
}

impl StoreArgs {
    /// The pool for a command that makes one store call at a time.
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections,
            acquire_timeout: self.store_timeout,
            batches_per_worker: 1,
        }
    }
}

/// How national numbers are read: for every subcommand that normalises caller IDs.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Numbers")]
pub struct RegionArgs {
    /// Region (ISO 3166-1 alpha-2) for caller IDs written in national format, such as (555) 123-4567.
    #[arg(long, env = "LOOKUP_DEFAULT_REGION", default_value = "US")]
    pub default_region: Region,
}

fn parse_store_timeout(raw: &str) -> Result<Duration, String> {
    let timeout = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if timeout < Duration::from_millis(10) || timeout > Duration::from_secs(60) {
        return Err("the store timeout must be between 10ms and 60s".into());
    }
    Ok(timeout)
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub region: RegionArgs,

    /// Postgres only: where this instance listens for committed changes, when DATABASE_URL goes through a pooler that cannot carry LISTEN (PgBouncer in transaction mode); default: DATABASE_URL.
    #[arg(long, env = "LOOKUP_LISTEN_DATABASE_URL", value_parser = Secret(database_url), hide_env_values = true, help_heading = "Store")]
    pub listen_database_url: Option<DatabaseUrl>,

    /// Postgres only: lookup batches each HTTP worker keeps in flight at once (1 to 8); lookups that arrive meanwhile wait and go together in the next batch.
    #[arg(
        long,
        env = "LOOKUP_DB_BATCHES_PER_WORKER",
        default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=8),
        help_heading = "Store"
    )]
    pub db_batches_per_worker: u8,

    /// Address and port to listen on.
    #[arg(long, env = "LOOKUP_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// HTTP worker threads [default: number of cores].
    #[arg(long, env = "LOOKUP_WORKERS")]
    pub workers: Option<usize>,

    /// Do not apply pending migrations at start (for deployments that run `migrate` separately).
    #[arg(long, env = "LOOKUP_NO_MIGRATE")]
    pub no_migrate: bool,

    /// Insert the two demo customers (CUST-001 Alice Smith, CUST-002 Bob Jones) when missing.
    #[arg(long, env = "LOOKUP_DEMO_DATA")]
    pub demo_data: bool,

    /// When the store fails or misses --store-timeout: fail (503 + Retry-After) or default (the unknown-caller answer, marked X-Lookup-Degraded: true).
    #[arg(
        long,
        env = "LOOKUP_ON_STORE_ERROR",
        default_value = "fail",
        value_parser = one_of::<OnStoreError>(&OnStoreError::NAMES)
    )]
    pub on_store_error: OnStoreError,

    /// Longest an answer (found or not) is served from memory, as a safety net: committed changes drop cached answers at once (docs/operations.md, Consistency); 0 turns the cache off.
    #[arg(long, env = "LOOKUP_CACHE_TTL", default_value = "30s", value_parser = humantime::parse_duration)]
    pub cache_ttl: Duration,

    /// Most numbers whose answers are kept in memory (about 650 bytes each), and most caller IDs kept parsed (national formats, SIP URIs); 0 turns both off.
    #[arg(long, env = "LOOKUP_CACHE_SIZE", default_value_t = 10_000)]
    pub cache_size: u64,

    /// Exit at once when the database is unreachable at start, instead of retrying with back-off.
    #[arg(long, env = "LOOKUP_FAIL_FAST")]
    pub fail_fast: bool,

    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections are closed.
    #[arg(long, env = "LOOKUP_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Require the API credentials for /metrics too.
    #[arg(long, env = "LOOKUP_METRICS_AUTH")]
    pub metrics_auth: bool,

    /// Interactive API docs (Swagger UI, served from the binary) at /docs: auto serves them when --bind is a loopback address, on and off always and never.
    #[arg(long, env = "LOOKUP_DOCS", default_value = "auto", value_parser = one_of::<DocsMode>(&DocsMode::NAMES))]
    pub docs: DocsMode,

    /// Largest request body accepted; larger ones get 413.
    #[arg(long, env = "LOOKUP_MAX_BODY", default_value = "16KiB")]
    pub max_body: ByteSize,

    #[command(flatten)]
    pub unknown: UnknownCallerArgs,

    #[command(flatten)]
    pub edge: EdgeArgs,
}

/// TLS, credentials and abuse limits: what makes `serve` safe to expose.
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// PEM certificate chain for HTTPS (with --tls-key); re-read on SIGHUP. Without it, plain HTTP (for use behind a TLS tunnel or proxy).
    #[arg(long, env = "LOOKUP_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "LOOKUP_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Mutual TLS: PEM bundle of the CAs client certificates must chain to (for Genesys Cloud, your region's data actions CA, or DigiCert's); re-read on SIGHUP. Needs --tls-cert.
    #[arg(long, env = "LOOKUP_CLIENT_CA", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,

    /// With --client-ca: a DNS name the client certificate must carry as a subject alternative name, exact or `*.domain` (one label); repeatable. Default: any name.
    #[arg(long = "client-cert-name", env = "LOOKUP_CLIENT_CERT_NAMES", value_delimiter = ',', value_parser = certificate_name, requires = "client_ca")]
    pub client_cert_names: Vec<CertificateName>,

    /// With --client-ca: required (the handshake fails without a valid client certificate; configured keys are needed as well) or optional (a valid certificate admits a lookup by itself; without one, a key or password is needed).
    #[arg(requires = "client_ca", long, env = "LOOKUP_CLIENT_CERT_MODE", default_value = "required", value_parser = one_of::<ClientCertMode>(&ClientCertMode::NAMES))]
    pub client_cert_mode: ClientCertMode,

    /// Accepted API key, sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`; repeat to rotate. `sha256:<hex>` gives the key's SHA-256 instead of the key.
    #[arg(long = "api-key", env = "LOOKUP_API_KEYS", value_delimiter = ',', value_parser = Secret(ApiKey::parse), hide_env_values = true)]
    pub api_keys: Vec<ApiKey>,

    /// File of accepted API keys, one a line (or `sha256:<hex>`; blank lines and lines starting with # ignored); re-read on SIGHUP. Adds to --api-key.
    #[arg(long, env = "LOOKUP_API_KEYS_FILE")]
    pub api_key_file: Option<PathBuf>,

    /// Accepted HTTP Basic credential `user:password` (or `user:sha256:<hex>`); repeatable.
    #[arg(long = "basic-auth", env = "LOOKUP_BASIC_AUTH", value_delimiter = ',', value_parser = Secret(BasicCredential::parse), hide_env_values = true)]
    pub basic_auth: Vec<BasicCredential>,

    /// File of accepted Basic credentials, `user:password` one a line (# comments allowed); re-read on SIGHUP. Adds to --basic-auth.
    #[arg(long, env = "LOOKUP_BASIC_AUTH_FILE")]
    pub basic_auth_file: Option<PathBuf>,

    /// Turns on the admin API (/api/v1/customers) for this key, sent like an API key; repeatable. Lookup credentials do not open it. `sha256:<hex>` accepted.
    #[arg(long = "admin-key", env = "LOOKUP_ADMIN_KEYS", value_delimiter = ',', value_parser = Secret(ApiKey::parse), hide_env_values = true)]
    pub admin_keys: Vec<ApiKey>,

    /// File of admin keys, one a line (# comments allowed); re-read on SIGHUP. Adds to --admin-key and turns the admin API on.
    #[arg(long, env = "LOOKUP_ADMIN_KEYS_FILE")]
    pub admin_key_file: Option<PathBuf>,

    /// Serve lookups without credentials on a non-loopback address (only behind something that authenticates).
    #[arg(long, env = "LOOKUP_ALLOW_UNAUTHENTICATED")]
    pub allow_unauthenticated: bool,

    /// Requests per second per client address (bursts of the same size); 0 turns the limit off.
    #[arg(long, env = "LOOKUP_RATE_LIMIT", default_value_t = 100)]
    pub rate_limit: u32,

    /// Only clients in this network may call the API (e.g. Genesys Cloud's egress ranges); repeatable. Default: any.
    #[arg(long = "allow-cidr", env = "LOOKUP_ALLOW_CIDRS", value_delimiter = ',', value_parser = parse_network)]
    pub allow_cidrs: Vec<IpNet>,

    /// File of allowed networks: one IP or CIDR a line, or the JSON of Genesys Cloud's GET /api/v2/ipranges (its data-actions ranges are kept); re-read on SIGHUP. Adds to --allow-cidr.
    #[arg(long, env = "LOOKUP_ALLOW_CIDR_FILE")]
    pub allow_cidr_file: Option<PathBuf>,

    /// Proxy (IP or CIDR) whose --forwarded-header names the real client; repeatable. Default: none, headers ignored.
    #[arg(long = "trusted-proxy", env = "LOOKUP_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<IpNet>,

    /// The header the trusted proxies write the client's address in: x-forwarded-for (nginx, load balancers, ngrok, cloudflared) or forwarded (RFC 7239). The other header is ignored, since a proxy passes on whatever a client wrote in it.
    #[arg(long, env = "LOOKUP_FORWARDED_HEADER", default_value = "x-forwarded-for", value_parser = one_of::<ForwardedHeader>(&ForwardedHeader::NAMES))]
    pub forwarded_header: ForwardedHeader,

    /// A client must send its whole request within this time, or it is dropped (408).
    #[arg(long, env = "LOOKUP_REQUEST_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,

    /// Most connections open at once (across all workers); more wait in the backlog.
    #[arg(long, env = "LOOKUP_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
}

#[derive(Debug, Clone, Args)]
pub struct GenCertArgs {
    /// Folder to write cert.pem and key.pem into (created when missing).
    #[arg(long)]
    pub out_dir: PathBuf,

    /// DNS name or IP address the certificate is valid for; repeatable.
    #[arg(long = "host", default_values = ["localhost", "127.0.0.1", "::1"])]
    pub hosts: Vec<String>,

    /// Replace cert.pem and key.pem if they exist.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExportActionArgs {
    /// The service's public base URL as Genesys Cloud reaches it, e.g. https://lookup.example.com or your tunnel's URL.
    #[arg(long, value_parser = parse_public_url)]
    pub url: url::Url,

    /// How the integration authenticates: api-key (a User Defined credential field apiKey), basic, or none.
    #[arg(long, default_value = "api-key", value_parser = one_of::<ActionAuth>(&ActionAuth::NAMES))]
    pub auth: ActionAuth,

    /// The action's name in Genesys Cloud.
    #[arg(long, default_value = "Customer Lookup by Phone")]
    pub name: String,

    /// The action's category (usually the integration's name).
    #[arg(long, default_value = "Customer Lookup")]
    pub category: String,

    /// Action timeout (Genesys accepts 1-60). Default: the service's worst-case answer time plus a margin.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=60))]
    pub timeout_seconds: Option<u8>,

    /// Mark the action secure, so Genesys keeps its inputs and outputs out of logs and the UI.
    #[arg(long)]
    pub secure: bool,

    /// The service requires Genesys Cloud's client certificate (--client-ca): genesys (the region's Genesys Cloud CA) or digicert, as selected on the integration. The Terraform module carries it; with --auth none the certificate is the only credential.
    #[arg(long, value_parser = one_of::<ClientCertificateAuthority>(&ClientCertificateAuthority::NAMES))]
    pub client_certificate: Option<ClientCertificateAuthority>,

    /// json (to import in Admin > Integrations > Actions), terraform (the genesyscloud_integration_action resource; with --out, the whole module: credential, integration, action and flow) or archy (the inbound call flow, for `archy publish`).
    #[arg(long, default_value = "json", value_parser = one_of::<ExportFormat>(&ExportFormat::NAMES))]
    pub format: ExportFormat,

    /// With --format terraform: write a complete Terraform module into this folder (created when missing) instead of printing the action alone.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// The inbound call flow's name.
    #[arg(long, default_value = "Customer Lookup Inbound")]
    pub flow_name: String,

    /// The division the flow belongs to.
    #[arg(long, default_value = "Home")]
    pub division: String,

    /// The queue VIP callers are transferred to.
    #[arg(long, default_value = "VIP")]
    pub vip_queue: String,

    /// The queue every other caller is transferred to, also when the lookup fails or times out.
    #[arg(long, default_value = "General")]
    pub standard_queue: String,

    /// The service's --store-timeout: the action's timeout is fitted to the answer time it bounds.
    #[arg(long, env = "LOOKUP_STORE_TIMEOUT", default_value = "1s", value_parser = parse_store_timeout)]
    pub store_timeout: Duration,

    #[command(flatten)]
    pub unknown: UnknownCallerArgs,
}

crate::named_values! {
    /// When `serve` serves Swagger UI at /docs.
    pub enum DocsMode {
        Auto => "auto",
        On => "on",
        Off => "off",
    }
}

crate::named_values! {
    /// What `export-action` writes.
    pub enum ExportFormat {
        Json => "json",
        Terraform => "terraform",
        Archy => "archy",
    }
}

fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(format!("{raw:?} must be an https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{raw:?} must be a base URL without query or fragment"
        ));
    }
    Ok(url)
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub region: RegionArgs,

    /// CSV (header customer_id,name,loyalty_points,is_vip,phone_numbers, or any header with --map) or JSON Lines file, optionally gzip-compressed; - reads standard input.
    pub file: PathBuf,

    /// upsert: add or update the file's customers. replace: the store holds exactly the file's customers afterwards (others deleted), atomically.
    #[arg(long, default_value = "upsert", value_parser = one_of::<ImportMode>(&ImportMode::NAMES))]
    pub mode: ImportMode,

    /// Validate everything and report what would change, without writing.
    #[arg(long)]
    pub dry_run: bool,

    /// csv or jsonl [default: jsonl for .jsonl/.ndjson files, else csv].
    #[arg(long, value_parser = one_of::<ImportFormat>(&ImportFormat::NAMES))]
    pub format: Option<ImportFormat>,

    /// Read a field from the file's own columns: FIELD=COLUMN, e.g. name="Full Name", phone_numbers=Phone,MobilePhone (several columns, numbers merged), name=FirstName+LastName (joined), region=Country (an ISO 3166 code or English country name, for national numbers in that row). Fields: customer_id, name, loyalty_points, is_vip, phone_numbers, region. Columns are matched exactly, else ignoring case, spaces, underscores and hyphens. An unmapped customer_id, name or phone_numbers is read from a column of that name; an unmapped loyalty_points or is_vip only from a column named exactly so, else 0 and false; region only when mapped.
    #[arg(long = "map", value_parser = ColumnMapping::parse_map)]
    pub map: Vec<FieldMap>,

    /// Values of the is_vip column that mean a VIP, e.g. Gold,Platinum (any case); with them given, every other value means not a VIP.
    #[arg(long, value_delimiter = ',', value_parser = ColumnMapping::parse_vip_value)]
    pub vip_values: Vec<String>,

    /// CSV delimiter: a single character such as ';' or '\t' [default: read off the header line: , ; or tab].
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,

    /// What a bad row does. abort: the whole file is refused and nothing is written. skip: the valid rows are imported (in one transaction) and the bad ones set aside in --rejects (upsert mode only).
    #[arg(long, default_value = "abort", value_parser = one_of::<OnInvalid>(&OnInvalid::NAMES))]
    pub on_invalid: OnInvalid,

    /// Write the bad rows to this file, each exactly as read, followed by a line column (its line in the input) and a reason column (the column, the value, what is wrong). CSV input gives a CSV file with the input's header; JSON Lines input gives JSON Lines with line, reason and row. Required with --on-invalid skip.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// With --on-invalid skip, refuse the whole file (nothing written) when more rows than this are bad: a number of rows, or a percentage of the rows read such as 0.5%.
    #[arg(long, default_value = "10%", value_name = "N|P%", value_parser = MaxInvalid::parse)]
    pub max_invalid: MaxInvalid,
}

impl ImportArgs {
    pub fn settings(&self) -> ImportSettings {
        ImportSettings {
            file: self.file.clone(),
            mode: self.mode,
            dry_run: self.dry_run,
            format: self.format,
            mapping: ColumnMapping {
                fields: self.map.clone(),
                vip_values: self.vip_values.clone(),
                delimiter: self.delimiter,
            },
            default_region: self.region.default_region,
            on_invalid: self.on_invalid,
            rejects: self.rejects.clone(),
            max_invalid: self.max_invalid,
        }
    }
}

fn parse_delimiter(raw: &str) -> Result<u8, String> {
    match raw {
        "\\t" | "tab" => Ok(b'\t'),
        "\"" | "\n" | "\r" => Err(format!("{raw:?} cannot separate CSV fields")),
        one if one.len() == 1 && one.is_ascii() => Ok(one.as_bytes()[0]),
        other => Err(format!(
            "{other:?} is not one ASCII character (use \\t for tab)"
        )),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Where to write the CSV (numbers in E.164); - writes standard output.
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct LookupArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    #[command(flatten)]
    pub region: RegionArgs,

    /// The caller ID as a flow would send it: +15551234567, tel:+1…, (555) 123-4567, sip:…
    pub caller_id: String,

    #[command(flatten)]
    pub unknown: UnknownCallerArgs,
}

/// What a caller that is not a known customer gets.
#[derive(Debug, Clone, Args)]
pub struct UnknownCallerArgs {
    /// HTTP status for unknown callers: 200 with the default answer, or 404 with a JSON error for flows that branch on failure.
    #[arg(
        long,
        env = "LOOKUP_UNKNOWN_STATUS",
        default_value = "200",
        value_parser = one_of::<UnknownStatus>(&UnknownStatus::NAMES)
    )]
    pub unknown_status: UnknownStatus,

    /// customer_id answered for unknown callers.
    #[arg(long, env = "LOOKUP_UNKNOWN_CUSTOMER_ID", default_value = "UNKNOWN", value_parser = CustomerId::parse)]
    pub unknown_customer_id: CustomerId,

    /// name answered for unknown callers.
    #[arg(long, env = "LOOKUP_UNKNOWN_NAME", default_value = "Unknown Customer", value_parser = CustomerName::parse)]
    pub unknown_name: CustomerName,

    /// loyalty_points answered for unknown callers.
    #[arg(long, env = "LOOKUP_UNKNOWN_LOYALTY_POINTS", default_value = "0", value_parser = LoyaltyPoints::parse)]
    pub unknown_loyalty_points: LoyaltyPoints,

    /// is_vip answered for unknown callers.
    #[arg(long, env = "LOOKUP_UNKNOWN_IS_VIP", default_value = "false", value_parser = crate::domain::parse_is_vip, action = clap::ArgAction::Set)]
    pub unknown_is_vip: bool,

    /// What a number several customers share is answered: unknown (the unknown-caller answer: nobody is named), any-vip (the unknown-caller answer, but VIP when any of them is one), or first (the customer with the smallest customer_id, named). See docs/shared-numbers.md.
    #[arg(
        long,
        env = "LOOKUP_ON_SHARED_NUMBER",
        default_value = "unknown",
        value_parser = one_of::<OnSharedNumber>(&OnSharedNumber::NAMES)
    )]
    pub on_shared_number: OnSharedNumber,

    /// Fields answered after the four of the contract, comma-separated: match (unique, shared, none, withheld or not_a_number), match_count. None by default: the answer is exactly the four fields.
    #[arg(long, env = "LOOKUP_ANSWER_FIELDS", default_value = "", value_parser = AnswerFields::parse, hide_default_value = true)]
    pub answer_fields: AnswerFields,
}

impl UnknownCallerArgs {
    pub fn answer(&self) -> AnswerBody {
        AnswerBody {
            customer_id: self.unknown_customer_id.as_str().to_owned(),
            name: self.unknown_name.as_str().to_owned(),
            loyalty_points: self.unknown_loyalty_points.value(),
            is_vip: self.unknown_is_vip,
        }
    }
}

impl UnknownCallerArgs {
    /// The lookup policy these flags choose, with the store's deadline.
    pub fn policy(&self, on_store_error: OnStoreError, deadline: Duration) -> LookupPolicy {
        LookupPolicy {
            unknown_answer: self.answer(),
            unknown_status: self.unknown_status,
            on_store_error,
            on_shared_number: self.on_shared_number,
            answer_fields: self.answer_fields.clone(),
            deadline,
        }
    }
}

impl ServeArgs {
    /// Everything `serve` needs, typed.
    pub fn settings(&self) -> ServeSettings {
        let edge = &self.edge;
        ServeSettings {
            database_url: self.store.database_url.clone(),
            database_password_file: self.store.database_password_file.clone(),
            listen_database_url: self.listen_database_url.clone(),
            pool: PoolSettings {
                max_connections: self.store.db_max_connections,
                acquire_timeout: self.store.store_timeout,
                batches_per_worker: usize::from(self.db_batches_per_worker),
            },
            default_region: self.region.default_region,
            policy: self
                .unknown
                .policy(self.on_store_error, self.store.store_timeout),
            cache: CacheSettings {
                ttl: self.cache_ttl,
                max_entries: self.cache_size,
            },
            bind: self.bind,
            workers: self.workers,
            migrate: !self.no_migrate,
            demo_data: self.demo_data,
            fail_fast: self.fail_fast,
            shutdown_timeout: self.shutdown_timeout,
            limits: RequestLimits {
                max_body: self.max_body.as_u64(),
                request_timeout: edge.request_timeout,
            },
            edge: EdgeSettings {
                api_keys: edge.api_keys.clone(),
                api_key_file: edge.api_key_file.clone(),
                basic_auth: edge.basic_auth.clone(),
                basic_auth_file: edge.basic_auth_file.clone(),
                admin_keys: edge.admin_keys.clone(),
                admin_key_file: edge.admin_key_file.clone(),
                allowed_networks: edge.allow_cidrs.clone(),
                allow_cidr_file: edge.allow_cidr_file.clone(),
                client_certificates: edge.client_ca.as_ref().map(|_| edge.client_cert_mode),
                trusted_proxies: edge.trusted_proxies.clone(),
                forwarded_header: edge.forwarded_header,
                rate_limit: edge.rate_limit,
                metrics_need_credentials: self.metrics_auth,
                docs: match self.docs {
                    DocsMode::Auto => self.bind.ip().is_loopback(),
                    DocsMode::On => true,
                    DocsMode::Off => false,
                },
            },
            allow_unauthenticated: edge.allow_unauthenticated,
            max_connections: edge.max_connections,
            tls: match (&edge.tls_cert, &edge.tls_key) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            client_ca: edge.client_ca.as_ref().map(|bundle| ClientCaSettings {
                bundle: bundle.clone(),
                names: edge.client_cert_names.clone(),
                mode: edge.client_cert_mode,
            }),
        }
    }
}

/// docs/configuration.md: every option of every subcommand, its environment variable and its
/// default, from the definitions above (a test keeps the file equal to this).
pub fn reference_markdown() -> String {
    use clap::CommandFactory;
    let mut cli = Cli::command();
    cli.build();
    let mut out = String::from(
        "# Configuration\n\n\
         Generated from the command-line definitions (`src/config.rs`) by \
         `UPDATE_DOCS=1 cargo test --lib configuration_reference`; a test fails when this file \
         and the code disagree.\n\n\
         Every option is a flag; the service's settings are also environment variables (the flag \
         wins). Options are scoped: each subcommand takes only the ones that affect it. Boolean \
         environment variables take `true` or `false`.\n",
    );
    let globals: Vec<&clap::Arg> = cli
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .collect();
    out.push_str("\n## Every command\n\n");
    out.push_str(&options_table(globals.iter().copied()));
    for command in cli.get_subcommands() {
        let name = command.get_name();
        if name == "help" {
            continue;
        }
        let about = command
            .get_about()
            .map(ToString::to_string)
            .unwrap_or_default();
        out.push_str(&format!("\n## `{name}`\n\n{about}\n\n"));
        let own = command.get_arguments().filter(|arg| {
            !arg.is_global_set() && !["help", "version"].contains(&arg.get_id().as_str())
        });
        out.push_str(&options_table(own));
    }
    out
}

fn options_table<'a>(args: impl Iterator<Item = &'a clap::Arg>) -> String {
    let mut rows = String::from(
        "| option | environment variable | default | what it does |\n|---|---|---|---|\n",
    );
    for arg in args {
        let option = match arg.get_long() {
            Some(long) => format!("`--{long}`"),
            None => arg
                .get_value_names()
                .map(|names| format!("`{}`", names.join(" ")))
                .unwrap_or_else(|| format!("`{}`", arg.get_id())),
        };
        let env = arg
            .get_env()
            .map(|env| format!("`{}`", env.to_string_lossy()))
            .unwrap_or_default();
        let default = arg
            .get_default_values()
            .iter()
            .map(|value| format!("`{}`", value.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut help = arg
            .get_help()
            .map(ToString::to_string)
            .unwrap_or_default()
            .replace('|', "\\|");
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|value| !value.is_hide_set())
            .map(|value| format!("`{}`", value.get_name()))
            .collect();
        let mut sentence = |text: String| {
            if !help.is_empty() && !help.ends_with('.') {
                help.push('.');
            }
            help.push(' ');
            help.push_str(&text);
        };
        if !values.is_empty() && arg.get_action().takes_values() {
            sentence(format!("One of {}.", values.join(", ")));
        }
        if arg.is_required_set() {
            sentence("Required.".to_owned());
        }
        rows.push_str(&format!("| {option} | {env} | {default} | {help} |\n"));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/configuration.md is what `reference_markdown` says; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn configuration_reference_is_generated_from_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let generated = reference_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).expect("docs/configuration.md written");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/configuration.md is out of date: run UPDATE_DOCS=1 cargo test --lib configuration_reference"
        );
        for option in [
            "--database-url",
            "DATABASE_URL",
            "--db-batches-per-worker",
            "--api-key",
        ] {
            assert!(
                generated.contains(option),
                "{option} missing from the reference"
            );
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_safe_documented_ones() {
        let cli = Cli::try_parse_from(["customer-lookup", "serve"]).unwrap();
        let Command::Serve(serve) = cli.command else {
            panic!("not serve")
        };
        assert!(serve.bind.ip().is_loopback());
        assert_eq!(serve.max_body.as_u64(), 16 * 1024);
        assert_eq!(serve.unknown.unknown_status, UnknownStatus::Ok);
        assert!(serve.edge.api_keys.is_empty() && serve.edge.basic_auth.is_empty());
        assert!(!serve.edge.allow_unauthenticated && serve.edge.trusted_proxies.is_empty());
        assert_eq!(serve.edge.rate_limit, 100);
        assert_eq!(serve.edge.request_timeout, Duration::from_secs(5));
        assert_eq!(
            serde_json::to_value(serve.unknown.answer()).unwrap(),
            serde_json::json!({"customer_id":"UNKNOWN","name":"Unknown Customer","loyalty_points":0,"is_vip":false})
        );
    }

    #[test]
    fn client_certificate_settings_need_a_client_ca() {
        for flag in [
            &["--client-cert-mode", "optional"][..],
            &[
                "--client-cert-name",
                "dataactions.prod.us-east-1.mypurecloud.com",
            ][..],
        ] {
            let mut args = vec!["customer-lookup", "serve"];
            args.extend(flag);
            let err = Cli::try_parse_from(args).unwrap_err().to_string();
            assert!(err.contains("--client-ca"), "{flag:?}: {err}");
        }
        // The default mode alone asks for nothing.
        assert!(Cli::try_parse_from(["customer-lookup", "serve"]).is_ok());
    }

    #[test]
    fn tls_needs_both_files() {
        let err =
            Cli::try_parse_from(["customer-lookup", "serve", "--tls-cert", "c.pem"]).unwrap_err();
        assert!(err.to_string().contains("--tls-key"), "{err}");
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let err =
            Cli::try_parse_from(["customer-lookup", "lookup", "--default-region", "ZZ", "123"])
                .unwrap_err();
        assert!(err.to_string().contains("ISO 3166-1"), "{err}");
        let err = Cli::try_parse_from(["customer-lookup", "serve", "--unknown-loyalty-points=-5"])
            .unwrap_err();
        assert!(err.to_string().contains("loyalty_points"), "{err}");
    }
}
