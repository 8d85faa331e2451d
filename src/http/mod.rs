//! The HTTP edge: routes, the request log, and `Application`, which `serve` and the tests both
//! use to start the real service.

mod error;
mod health;
mod lookup;
mod request_log;

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};

pub use self::error::ApiError;
use crate::config::{CommonArgs, ServeArgs, UnknownStatus};
use crate::lookup::Lookup;
use crate::normalise::PhoneNormaliser;
use crate::store::{CustomerStore, DatabaseUrl, PoolSettings};

/// What every request handler shares.
pub struct AppState {
    pub lookup: Lookup,
    pub unknown_status: UnknownStatus,
    pub max_body: u64,
}

/// A service that is listening and ready to be run.
pub struct Application {
    server: Server,
    address: SocketAddr,
    store: CustomerStore,
}

impl Application {
    /// Everything `serve` does before answering: warm the number parser, open the store,
    /// migrate, add demo data, bind. Errors say what to fix.
    pub async fn build(common: &CommonArgs, serve: &ServeArgs) -> anyhow::Result<Self> {
        let database_url = DatabaseUrl::parse(&common.database_url)?;
        let workers = serve
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        tracing::info!(
            bind = %serve.bind,
            database_url = %database_url,
            default_region = %common.default_region,
            db_max_connections = common.db_max_connections,
            workers,
            max_body = serve.max_body.as_u64(),
            migrate = !serve.no_migrate,
            demo_data = serve.demo_data,
            unknown_status = %serve.unknown.unknown_status,
            unknown_answer = %serde_json::to_string(&serve.unknown.answer())?,
            "configuration"
        );

        let normaliser = PhoneNormaliser::new(common.default_region);
        let started = std::time::Instant::now();
        let samples = normaliser.warm_up();
        tracing::debug!(
            samples,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "number parser warmed up"
        );

        let store = CustomerStore::connect(
            &database_url,
            PoolSettings {
                max_connections: common.db_max_connections,
            },
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

        let listener = TcpListener::bind(serve.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", serve.bind))?;
        let address = listener.local_addr()?;
        let state = web::Data::new(AppState {
            lookup: Lookup::new(normaliser, store.clone(), serve.unknown.answer()),
            unknown_status: serve.unknown.unknown_status,
            max_body: serve.max_body.as_u64(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(middleware::from_fn(request_log::log_request))
                .service(
                    web::resource("/api/v1/lookup")
                        .route(web::get().to(lookup::lookup_get))
                        .route(web::post().to(lookup::lookup_post))
                        .default_service(web::to(lookup_methods_only)),
                )
                .service(
                    web::resource("/healthz")
                        .route(web::get().to(health::healthz))
                        .default_service(web::to(get_only)),
                )
                .service(
                    web::resource("/readyz")
                        .route(web::get().to(health::readyz))
                        .default_service(web::to(get_only)),
                )
                .default_service(web::to(route_not_found))
        })
        .workers(workers)
        .listen(listener)?
        .run();
        tracing::info!(address = %address, "listening on http://{address}");
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

async fn lookup_methods_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        allowed: "GET, POST",
    })
}

async fn get_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { allowed: "GET" })
}

async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound)
}
