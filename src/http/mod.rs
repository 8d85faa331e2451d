//! The HTTP edge: routes, the request log, and `Application`, which `serve` and the tests both
//! use to start the real service.

mod admin;
pub mod auth;
pub mod client_addr;
mod edge;
mod error;
mod health;
mod lookup;
mod metrics;
mod openapi;
mod rate_limit;
mod request_log;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, HttpServer, middleware, web};

use self::auth::Credentials;
use self::edge::EdgePolicy;
pub use self::error::ApiError;
use self::rate_limit::ClientRateLimit;
use crate::cache::CacheSettings;
use crate::config::{CommonArgs, EdgeArgs, OnStoreError, ServeArgs, UnknownStatus};
use crate::lookup::Lookup;
use crate::normalise::PhoneNormaliser;
use crate::store::{CustomerStore, DatabaseUrl, PoolSettings, StoreError};

/// What every request handler shares.
pub struct AppState {
    pub lookup: Lookup,
    pub unknown_status: UnknownStatus,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub request_timeout: Duration,
    pub on_store_error: OnStoreError,
    pub normaliser: PhoneNormaliser,
}

/// A service that is listening and ready to be run.
pub struct Application {
    server: Server,
    address: SocketAddr,
    store: CustomerStore,
}

/// What the routes share, made from the flags: the store (opened, migrated, demo data added),
/// the lookup with its cache, the edge policy and the metrics. `Application` serves it; the
/// handler benchmark calls it in-process.
#[derive(Clone)]
pub struct Services {
    state: web::Data<AppState>,
    policy: web::Data<EdgePolicy>,
    metrics: web::Data<metrics::Metrics>,
    store: CustomerStore,
    admin_enabled: bool,
}

impl Services {
    /// Everything `serve` does before binding: warm the number parser, open the store, migrate,
    /// add demo data. Errors say what to fix.
    pub async fn prepare(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let database_url = DatabaseUrl::parse(&common.database_url)?;
        let policy = web::Data::new(edge_policy(serve)?);

        let normaliser = PhoneNormaliser::new(common.default_region);
        let started = std::time::Instant::now();
        let samples = normaliser.warm_up();
        tracing::debug!(
            samples,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "number parser warmed up"
        );

        let store = connect_with_retry(
            &database_url,
            crate::commands::pool_settings(common),
            serve.fail_fast,
        )
        .await?;
        if !serve.no_migrate {
            store.migrate().await?;
        }
        if serve.demo_data {
            let summary = store.insert_missing(&crate::demo::customers()).await?;
            tracing::info!(
                inserted = summary.inserted,
                already_there = summary.unchanged,
                "demo customers"
            );
        }
        let state = web::Data::new(AppState {
            lookup: Lookup::new(
                normaliser,
                store.clone(),
                serve.unknown.answer(),
                common.store_timeout,
            )
            .with_cache(CacheSettings {
                ttl: serve.cache_ttl,
                max_entries: serve.cache_size,
            }),
            on_store_error: serve.on_store_error,
            normaliser,
            unknown_status: serve.unknown.unknown_status,
            max_body: serve.max_body.as_u64(),
            request_timeout: serve.edge.request_timeout,
        });
        let metrics = web::Data::new(metrics::Metrics::new(state.lookup.cache_counters())?);
        Ok(Self {
            state,
            policy,
            metrics,
            store,
            admin_enabled: !serve.edge.admin_keys.is_empty(),
        })
    }

    /// The routes behind the edge guard and the request log, as each HTTP worker runs them.
    pub fn app(
        self,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        let admin_enabled = self.admin_enabled;
        App::new()
            .app_data(self.state)
            .app_data(self.policy)
            .app_data(self.metrics)
            .wrap(middleware::from_fn(edge::guard))
            .wrap(middleware::from_fn(request_log::log_request))
            .service(
                web::resource("/api/v1/lookup")
                    .route(web::get().to(lookup::lookup_get))
                    .route(web::post().to(lookup::lookup_post))
                    .default_service(web::to(lookup_methods_only)),
            )
            .configure(|config| {
                if admin_enabled {
                    config
                        .service(
                            web::resource("/api/v1/customers")
                                .route(web::get().to(admin::find_by_phone))
                                .default_service(web::to(get_only)),
                        )
                        .service(
                            web::resource("/api/v1/customers/{customer_id}")
                                .route(web::get().to(admin::get_customer))
                                .route(web::put().to(admin::put_customer))
                                .route(web::delete().to(admin::delete_customer))
                                .default_service(web::to(admin_methods_only)),
                        );
                }
            })
            .service(get_resource("/healthz", health::healthz))
            .service(get_resource("/readyz", health::readyz))
            .service(get_resource("/metrics", metrics::metrics))
            .service(get_resource("/openapi.json", openapi::document))
            .default_service(web::to(route_not_found))
    }

    /// The store's connections, for closing at shutdown.
    pub fn store(&self) -> &CustomerStore {
        &self.store
    }
}

impl Application {
    /// Everything `serve` does before answering: prepare the services, bind, start the workers.
    pub async fn build(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let workers = serve
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        tracing::info!(
            bind = %serve.bind,
            database_url = %DatabaseUrl::parse(&common.database_url)?,
            default_region = %common.default_region,
            db_max_connections = common.db_max_connections,
            db_batches_per_worker = common.db_batches_per_worker,
            workers,
            max_body = serve.max_body.as_u64(),
            migrate = !serve.no_migrate,
            demo_data = serve.demo_data,
            unknown_status = %serve.unknown.unknown_status,
            unknown_answer = %serde_json::to_string(&serve.unknown.answer())?,
            tls = serve.edge.tls_cert.is_some(),
            api_keys = serve.edge.api_keys.len(),
            basic_auth_users = serve.edge.basic_auth.len(),
            rate_limit = serve.edge.rate_limit,
            allow_cidrs = ?serve.edge.allow_cidrs,
            trusted_proxies = ?serve.edge.trusted_proxies,
            request_timeout = ?serve.edge.request_timeout,
            max_connections = serve.edge.max_connections,
            cache_ttl = ?serve.cache_ttl,
            cache_size = serve.cache_size,
            "configuration"
        );
        let services = Services::prepare(common, serve).await?;
        let store = services.store.clone();

        let listener = TcpListener::bind(serve.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", serve.bind))?;
        let address = listener.local_addr()?;
        forget_idle_clients_periodically(&services.policy);
        let server = HttpServer::new(move || services.clone().app())
            .workers(workers)
            // Per worker in actix; the flag is for the whole process.
            .max_connections(serve.edge.max_connections.div_ceil(workers).max(1))
            .client_request_timeout(serve.edge.request_timeout)
            .client_disconnect_timeout(Duration::from_secs(1))
            .shutdown_timeout(serve.shutdown_timeout.as_secs().max(1));
        let (server, scheme) = match (&serve.edge.tls_cert, &serve.edge.tls_key) {
            (Some(cert), Some(key)) => {
                let certificate = Arc::new(crate::tls::ReloadableCertificate::load(cert, key)?);
                tracing::info!(fingerprint = %certificate.fingerprint(), "TLS certificate loaded (SIGHUP reloads it)");
                crate::tls::reload_on_sighup(Arc::clone(&certificate))?;
                let config = crate::tls::server_config(certificate)?;
                (server.listen_rustls_0_23(listener, config)?, "https")
            }
            _ => (server.listen(listener)?, "http"),
        };
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

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Serves until SIGINT/SIGTERM (actix stops accepting, lets in-flight requests finish),
    /// then closes the store's connections.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.store.close().await;
        result
    }
}

/// Opens the store; while the database is unreachable, retries with back-off (logging why),
/// unless `fail_fast`.
async fn connect_with_retry(
    url: &DatabaseUrl,
    settings: PoolSettings,
    fail_fast: bool,
) -> anyhow::Result<CustomerStore> {
    let mut wait = Duration::from_millis(500);
    loop {
        match CustomerStore::connect(url, settings).await {
            Ok(store) => return Ok(store),
            Err(e @ StoreError::Connect { .. }) if !fail_fast => {
                tracing::warn!(error = %e, retry_in = ?wait, "database unreachable at start; retrying (--fail-fast exits instead)");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Credentials, networks and limits from the flags, refusing a public bind that nobody guards.
fn edge_policy(serve: &ServeArgs) -> anyhow::Result<EdgePolicy> {
    let EdgeArgs {
        api_keys,
        basic_auth,
        allow_unauthenticated,
        ..
    } = &serve.edge;
    let credentials = Credentials::new(api_keys.clone(), basic_auth.clone());
    if credentials.is_empty() {
        if !serve.bind.ip().is_loopback() && !allow_unauthenticated {
            anyhow::bail!(
                "refusing to serve customer data on {} without credentials: anyone who reaches it could look up \
                 any number. Set --api-key KEY (LOOKUP_API_KEYS) or --basic-auth USER:PASSWORD (LOOKUP_BASIC_AUTH), \
                 or pass --allow-unauthenticated if something in front of it authenticates callers",
                serve.bind
            );
        }
        if serve.bind.ip().is_loopback() {
            tracing::warn!(
                "no credentials configured: fine on this machine, but a tunnel (ngrok, cloudflared) makes this port \
                 public; set --api-key or --basic-auth before opening one"
            );
        } else {
            tracing::warn!(bind = %serve.bind, "serving without credentials (--allow-unauthenticated)");
        }
    }
    let mut challenges = Vec::new();
    if !api_keys.is_empty() {
        challenges.push(r#"Bearer realm="customer-lookup""#);
    }
    if !basic_auth.is_empty() {
        challenges.push(r#"Basic realm="customer-lookup", charset="UTF-8""#);
    }
    Ok(EdgePolicy {
        credentials,
        allowed_networks: serve.edge.allow_cidrs.clone(),
        trusted_proxies: serve.edge.trusted_proxies.clone(),
        rate_limit: ClientRateLimit::per_second(serve.edge.rate_limit),
        challenge: challenges.join(", "),
        metrics_need_credentials: serve.metrics_auth,
        admin_credentials: Credentials::new(serve.edge.admin_keys.clone(), Vec::new()),
    })
}

/// Keeps the rate limiter's memory to the clients seen lately; stops with the server.
fn forget_idle_clients_periodically(policy: &web::Data<EdgePolicy>) {
    let policy = Arc::downgrade(&policy.clone().into_inner());
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            let Some(policy) = policy.upgrade() else {
                break;
            };
            if let Some(limit) = &policy.rate_limit {
                limit.forget_idle_clients();
            }
        }
    });
}

async fn lookup_methods_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allowed: "GET, POST",
    })
}

/// A resource that answers GET and refuses other methods with a JSON 405.
fn get_resource<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(get_only))
}

async fn admin_methods_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allowed: "GET, PUT, DELETE",
    })
}

async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allowed: "GET" })
}

async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}

/// A header map from name/value pairs, for the edge's unit tests.
#[cfg(test)]
pub(crate) fn test_headers(pairs: &[(&str, &str)]) -> actix_web::http::header::HeaderMap {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}
