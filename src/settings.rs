//! What the service is told, typed: the settings `config` makes from flags (or a test builds
//! directly) and `startup`, `http` and `reload` take. Plain values: no clap, no I/O.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::cache::CacheSettings;
use crate::domain::{ApiKey, BasicCredential};
use crate::lookup::LookupPolicy;
use crate::normalise::Region;
use crate::store::{DatabaseUrl, PoolSettings};
use crate::tls::CertificateName;

/// Everything `serve` is told.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    pub database_url: DatabaseUrl,
    /// A file whose first line is the database password, put into `database_url` at start.
    pub database_password_file: Option<PathBuf>,
    /// Where to listen for committed changes, if not `database_url` (Postgres behind a pooler).
    pub listen_database_url: Option<DatabaseUrl>,
    pub pool: PoolSettings,
    pub default_region: Region,
    pub policy: LookupPolicy,
    pub cache: CacheSettings,
    pub bind: SocketAddr,
    /// HTTP worker threads; `None` is one per core.
    pub workers: Option<usize>,
    pub migrate: bool,
    pub demo_data: bool,
    /// Exit at once when the database is unreachable at start, instead of retrying.
    pub fail_fast: bool,
    pub shutdown_timeout: Duration,
    pub limits: RequestLimits,
    pub edge: EdgeSettings,
    /// Serve lookups without credentials on a non-loopback address.
    pub allow_unauthenticated: bool,
    /// Most connections open at once, across all workers.
    pub max_connections: usize,
    pub tls: Option<TlsFiles>,
    /// Mutual TLS (needs `tls`).
    pub client_ca: Option<ClientCaSettings>,
}

/// The certificate and key files for HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Mutual TLS: the CA bundle client certificates must chain to, and the names they must carry.
#[derive(Clone, Debug)]
pub struct ClientCaSettings {
    pub bundle: PathBuf,
    /// Empty: any name.
    pub names: Vec<CertificateName>,
    pub mode: ClientCertMode,
}

crate::named_values! {
    /// With `--client-ca`: whether every connection must present a client certificate.
    pub enum ClientCertMode {
        /// The handshake fails without a verified certificate; configured keys are needed too.
        Required => "required",
        /// A verified certificate admits a lookup by itself; without one a key is needed.
        Optional => "optional",
    }
}

/// Limits on what one request may send.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// Largest body accepted (413 beyond).
    pub max_body: u64,
    /// A client must send its whole request within this (408).
    pub request_timeout: Duration,
}

crate::named_values! {
    /// The header trusted proxies write the client's address in.
    pub enum ForwardedHeader {
        XForwardedFor => "x-forwarded-for",
        Forwarded => "forwarded",
    }
}

/// What nginx, load balancers and the tunnels developers use write.
impl Default for ForwardedHeader {
    fn default() -> Self {
        Self::XForwardedFor
    }
}

/// Who may call, from where, and how often.
#[derive(Clone, Debug, Default)]
pub struct EdgeSettings {
    pub api_keys: Vec<ApiKey>,
    /// More API keys, one a line, re-read on SIGHUP.
    pub api_key_file: Option<PathBuf>,
    pub basic_auth: Vec<BasicCredential>,
    pub basic_auth_file: Option<PathBuf>,
    /// Keys for the admin API; none leaves it off (its routes then do not exist).
    pub admin_keys: Vec<ApiKey>,
    pub admin_key_file: Option<PathBuf>,
    /// Empty (and no file): every network may connect.
    pub allowed_networks: Vec<IpNet>,
    /// More networks, or Genesys Cloud's ipranges JSON, re-read on SIGHUP.
    pub allow_cidr_file: Option<PathBuf>,
    /// Mutual TLS, when `--client-ca` is given.
    pub client_certificates: Option<ClientCertMode>,
    pub trusted_proxies: Vec<IpNet>,
    /// The header the trusted proxies write the client's address in.
    pub forwarded_header: ForwardedHeader,
    /// Requests per second per client; 0 is no limit.
    pub rate_limit: u32,
    /// /metrics is guarded like the API instead of open like the probes.
    pub metrics_need_credentials: bool,
    /// Serve Swagger UI at /docs.
    pub docs: bool,
}

impl EdgeSettings {
    /// API keys are configured (by flag or file): lookups take them.
    pub fn has_api_keys(&self) -> bool {
        !self.api_keys.is_empty() || self.api_key_file.is_some()
    }

    pub fn has_basic_auth(&self) -> bool {
        !self.basic_auth.is_empty() || self.basic_auth_file.is_some()
    }

    /// The admin API is on.
    pub fn has_admin_keys(&self) -> bool {
        !self.admin_keys.is_empty() || self.admin_key_file.is_some()
    }

    /// Whether lookups need a key or password (a file counts even while it is empty: then
    /// nobody is admitted, rather than everybody).
    pub fn has_credentials(&self) -> bool {
        self.has_api_keys() || self.has_basic_auth()
    }

    /// Whether every lookup is authenticated: by a key or password, or by a client
    /// certificate the handshake requires.
    pub fn is_guarded(&self) -> bool {
        self.has_credentials() || self.client_certificates == Some(ClientCertMode::Required)
    }
}
