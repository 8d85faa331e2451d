//! Builds the running service from its settings: warm the number parser, open the store (with
//! retries), migrate, add demo data, decide the edge policy (refusing a public bind nobody
//! guards), then bind and start the HTTP workers. `serve` and the tests both start it here.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;

use crate::http::{HttpServices, ServicesError, VerifiedClientCertificate};
use crate::lookup::Lookup;
use crate::normalise::PhoneNormaliser;
use crate::settings::{ClientCertMode, ServeSettings};
use crate::store::{CustomerStore, DatabaseUrl, PoolSettings, StoreError};

/// How long start-up waits for the store's change feed before serving without a cache.
const LISTENER_GRACE: Duration = Duration::from_secs(2);

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "refusing to serve customer data on {0} without credentials: anyone who reaches it could look up \
         any number. Set --api-key KEY (LOOKUP_API_KEYS), --api-key-file PATH, --basic-auth USER:PASSWORD (LOOKUP_BASIC_AUTH) \
         or --client-ca FILE (Genesys Cloud's client certificate), or pass --allow-unauthenticated if something in front \
         of it authenticates callers"
    )]
    Unguarded(SocketAddr),
    #[error(
        "--client-cert-mode optional admits connections without a client certificate, which then need a key: \
         set --api-key, --api-key-file, --basic-auth or --basic-auth-file, or use --client-cert-mode required"
    )]
    OptionalCertificateWithoutCredentials,
    #[error("--client-ca needs HTTPS: set --tls-cert and --tls-key")]
    ClientCaWithoutTls,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Services(#[from] ServicesError),
    /// Not the error's `source`: `{:#}` would print the reason twice.
    #[error("the database password file: {0}")]
    DatabasePassword(crate::reloaded_files::FileError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot watch for SIGHUP: {0}")]
    Signal(#[from] std::io::Error),
}

impl From<crate::reloaded_files::FileError> for StartupError {
    fn from(error: crate::reloaded_files::FileError) -> Self {
        Self::DatabasePassword(error)
    }
}

/// The services of a started store, ready to be served: what `Application` binds, and what the
/// handler benchmark calls in-process.
pub async fn prepare(settings: &ServeSettings) -> Result<HttpServices, StartupError> {
    check_guarded(settings)?;
    let normaliser = PhoneNormaliser::new(settings.default_region);
    let started = std::time::Instant::now();
    let samples = normaliser.warm_up();
    tracing::debug!(
        samples,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "number parser warmed up"
    );

    let database_url = database_url(
        &settings.database_url,
        settings.database_password_file.as_deref(),
    )?;
    // The listener connects with the same password unless it has its own URL.
    let store = connect_with_retry(&database_url, settings.pool, settings.fail_fast).await?;
    if settings.migrate {
        store.migrate().await?;
    }
    if settings.demo_data {
        let summary = store.insert_missing(&crate::demo::customers()).await?;
        tracing::info!(
            inserted = summary.inserted,
            already_there = summary.unchanged,
            "demo customers"
        );
    }
    let lookup =
        Lookup::new(normaliser, store.clone(), settings.policy.clone()).with_cache(settings.cache);
    if let Some((source, changes)) = store.watch_changes(settings.listen_database_url.as_ref())? {
        lookup.follow(source, changes);
        // Answers are cached only while changes are heard; give the listener a moment, so a
        // new instance caches from its first request. Past that it serves from the store.
        let started = std::time::Instant::now();
        while !lookup.freshness().listening() && started.elapsed() < LISTENER_GRACE {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if !lookup.freshness().listening() {
            tracing::warn!(
                source = source.name(),
                "not hearing store changes yet: answering from the store until then"
            );
        }
    }
    Ok(HttpServices::new(lookup, settings.limits, &settings.edge)?)
}

/// The database URL with the password from `password_file` in it, when there is one: the one
/// place the file and the URL meet (every subcommand that opens the store comes here).
pub fn database_url(
    url: &DatabaseUrl,
    password_file: Option<&Path>,
) -> Result<DatabaseUrl, StartupError> {
    Ok(match password_file {
        Some(path) => url.with_password(&crate::reloaded_files::single_secret(path)?)?,
        None => url.clone(),
    })
}

/// A public bind needs credentials, or the operator's word that something in front checks them.
fn check_guarded(settings: &ServeSettings) -> Result<(), StartupError> {
    if let Some(client_ca) = &settings.client_ca {
        if settings.tls.is_none() {
            return Err(StartupError::ClientCaWithoutTls);
        }
        if client_ca.mode == ClientCertMode::Optional && !settings.edge.has_credentials() {
            return Err(StartupError::OptionalCertificateWithoutCredentials);
        }
    }
    if settings.edge.is_guarded() {
        return Ok(());
    }
    if settings.bind.ip().is_loopback() {
        tracing::warn!(
            "no credentials configured: fine on this machine, but a tunnel (ngrok, cloudflared) makes this port \
             public; set --api-key or --basic-auth before opening one"
        );
        return Ok(());
    }
    if !settings.allow_unauthenticated {
        return Err(StartupError::Unguarded(settings.bind));
    }
    tracing::warn!(bind = %settings.bind, "serving without credentials (--allow-unauthenticated)");
    Ok(())
}

/// Opens the store; while the database is unreachable, retries with back-off (logging why),
/// unless `fail_fast`.
async fn connect_with_retry(
    url: &DatabaseUrl,
    settings: PoolSettings,
    fail_fast: bool,
) -> Result<CustomerStore, StoreError> {
    let mut wait = Duration::from_millis(500);
    loop {
        match CustomerStore::connect(url, settings).await {
            Ok(store) => return Ok(store),
            Err(e @ StoreError::Connect { .. }) if !fail_fast => {
                tracing::warn!(error = %e, retry_in = ?wait, "database unreachable at start; retrying (--fail-fast exits instead)");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A service that is listening and ready to be run.
pub struct Application {
    server: Server,
    address: SocketAddr,
    store: CustomerStore,
}

impl Application {
    /// Everything `serve` does before answering: prepare the services, bind, start the workers.
    pub async fn build(settings: &ServeSettings) -> Result<Self, StartupError> {
        let workers = settings
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let hangups = crate::reload::Reloadables::catch_sighup()?;
        log_configuration(settings, workers);
        let services = prepare(settings).await?;
        let store = services.store().clone();
        let mut reloadables = crate::reload::Reloadables {
            certificate: None,
            client_ca: None,
            edge: services.live_edge(),
            database_password: settings
                .database_password_file
                .clone()
                .map(|path| (path, store.clone())),
            metrics: services.reload_metrics(),
        };
        let client_certificate_counts = services.client_certificate_counts();

        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Listen {
            address: settings.bind,
            source,
        })?;
        let listen_error = |source| StartupError::Listen {
            address: settings.bind,
            source,
        };
        let address = listener.local_addr().map_err(listen_error)?;
        services.forget_idle_clients_periodically();
        let server = HttpServer::new(move || services.clone().app());
        // Only with mutual TLS: which connections came with a verified client certificate.
        let server = if settings.client_ca.is_some() {
            server.on_connect(note_client_certificate)
        } else {
            server
        };
        let server = server
            .workers(workers)
            // Per worker in actix; the setting is for the whole process.
            .max_connections(settings.max_connections.div_ceil(workers).max(1))
            .client_request_timeout(settings.limits.request_timeout)
            .client_disconnect_timeout(Duration::from_secs(1))
            .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1));
        let (server, scheme) = match &settings.tls {
            Some(files) => {
                let certificate = Arc::new(crate::tls::ReloadableCertificate::load(
                    &files.cert,
                    &files.key,
                )?);
                tracing::info!(fingerprint = %certificate.fingerprint(), "TLS certificate loaded (SIGHUP reloads it)");
                reloadables.certificate = Some(Arc::clone(&certificate));
                let clients = match &settings.client_ca {
                    Some(client_ca) => {
                        let clients = Arc::new(crate::tls::ClientCertificates::load(
                            &client_ca.bundle,
                            client_ca.names.clone(),
                            client_ca.mode == ClientCertMode::Required,
                            Arc::clone(&client_certificate_counts),
                        )?);
                        tracing::info!(
                            mode = %client_ca.mode,
                            names = ?client_ca.names,
                            "mutual TLS: client certificates checked against --client-ca (SIGHUP reloads it)"
                        );
                        reloadables.client_ca = Some(Arc::clone(&clients));
                        if client_ca.mode == ClientCertMode::Required {
                            crate::tls::log_missing_certificates(Arc::clone(
                                &client_certificate_counts,
                            ));
                        }
                        Some(clients)
                    }
                    None => None,
                };
                let config = crate::tls::server_config(certificate, clients)?;
                let server = server
                    .listen_rustls_0_23(listener, config)
                    .map_err(listen_error)?;
                (server, "https")
            }
            None => (server.listen(listener).map_err(listen_error)?, "http"),
        };
        reloadables.reload_on(hangups);
        let server = server.run();
        tracing::info!(address = %address, "listening on {scheme}://{address}");
        Ok(Self {
            server,
            address,
            store,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until SIGINT/SIGTERM (actix stops accepting, lets in-flight requests finish),
    /// then closes the store's connections.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        result
    }
}

/// Marks a connection whose TLS handshake verified a client certificate (rustls refuses a
/// certificate it cannot verify, so one that is there was verified).
fn note_client_certificate(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    if let Some(tls) = connection.downcast_ref::<Tls>() {
        let (_, session) = tls.get_ref();
        if session
            .peer_certificates()
            .is_some_and(|chain| !chain.is_empty())
        {
            data.insert(VerifiedClientCertificate);
        }
    }
}

fn log_configuration(settings: &ServeSettings, workers: usize) {
    let edge = &settings.edge;
    tracing::info!(
        bind = %settings.bind,
        database_url = %settings.database_url,
        default_region = %settings.default_region,
        db_max_connections = settings.pool.max_connections,
        db_batches_per_worker = settings.pool.batches_per_worker,
        workers,
        max_body = settings.limits.max_body,
        migrate = settings.migrate,
        demo_data = settings.demo_data,
        unknown_status = %settings.policy.unknown_status,
        unknown_answer = %serde_json::to_string(&settings.policy.unknown_answer).unwrap_or_default(),
        tls = settings.tls.is_some(),
        client_ca = settings.client_ca.as_ref().map(|c| c.mode.name()),
        api_keys = edge.api_keys.len(),
        api_key_file = ?edge.api_key_file,
        basic_auth_users = edge.basic_auth.len(),
        basic_auth_file = ?edge.basic_auth_file,
        admin_key_file = ?edge.admin_key_file,
        allow_cidr_file = ?edge.allow_cidr_file,
        rate_limit = edge.rate_limit,
        allow_cidrs = ?edge.allowed_networks,
        trusted_proxies = ?edge.trusted_proxies,
        request_timeout = ?settings.limits.request_timeout,
        max_connections = settings.max_connections,
        cache_ttl = ?settings.cache.ttl,
        cache_size = settings.cache.max_entries,
        "configuration"
    );
}
