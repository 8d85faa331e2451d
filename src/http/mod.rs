//! The HTTP edge: the routes behind the edge guard and the request log. `startup` builds
//! `HttpServices` from its settings and serves them; the handler benchmark calls them in-process.

mod admin;
mod auth;
mod body;
mod client_addr;
mod edge;
mod error;
mod health;
mod lookup;
mod metrics;
mod openapi;
mod rate_limit;
mod request_log;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, middleware, web};
use ipnet::IpNet;

use self::auth::Credentials;
pub use self::auth::{ApiKey, BasicCredential};
pub use self::client_addr::parse_network;
use self::edge::EdgePolicy;
pub use self::error::ApiError;
use self::rate_limit::ClientRateLimit;
use crate::lookup::Lookup;
use crate::store::CustomerStore;

/// What every request handler shares.
pub struct AppState {
    pub lookup: Lookup,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub request_timeout: Duration,
}

/// Limits on what one request may send.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// Largest body accepted (413 beyond).
    pub max_body: u64,
    /// A client must send its whole request within this (408).
    pub request_timeout: Duration,
}

/// Who may call, from where, and how often.
#[derive(Clone, Debug, Default)]
pub struct EdgeSettings {
    pub api_keys: Vec<ApiKey>,
    pub basic_auth: Vec<BasicCredential>,
    /// Keys for the admin API; none leaves it off (its routes then do not exist).
    pub admin_keys: Vec<ApiKey>,
    /// Empty: every network may connect.
    pub allowed_networks: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    /// Requests per second per client; 0 is no limit.
    pub rate_limit: u32,
    /// /metrics is guarded like the API instead of open like the probes.
    pub metrics_need_credentials: bool,
}

impl EdgeSettings {
    /// Whether lookups need a credential.
    pub fn has_credentials(&self) -> bool {
        !self.api_keys.is_empty() || !self.basic_auth.is_empty()
    }

    fn policy(&self) -> EdgePolicy {
        let mut challenges = Vec::new();
        if !self.api_keys.is_empty() {
            challenges.push(r#"Bearer realm="customer-lookup""#);
        }
        if !self.basic_auth.is_empty() {
            challenges.push(r#"Basic realm="customer-lookup", charset="UTF-8""#);
        }
        EdgePolicy {
            credentials: Credentials::new(self.api_keys.clone(), self.basic_auth.clone()),
            allowed_networks: self.allowed_networks.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            rate_limit: ClientRateLimit::per_second(self.rate_limit),
            challenge: challenges.join(", "),
            metrics_need_credentials: self.metrics_need_credentials,
            admin_credentials: Credentials::new(self.admin_keys.clone(), Vec::new()),
        }
    }
}

/// What the routes share: the lookup, the edge policy and the metrics. Each HTTP worker runs
/// `app()` over a clone.
#[derive(Clone)]
pub struct HttpServices {
    state: web::Data<AppState>,
    policy: web::Data<EdgePolicy>,
    metrics: web::Data<metrics::Metrics>,
    admin_enabled: bool,
}

impl HttpServices {
    pub fn new(
        lookup: Lookup,
        limits: RequestLimits,
        edge: &EdgeSettings,
    ) -> Result<Self, prometheus::Error> {
        Ok(Self {
            state: web::Data::new(AppState {
                lookup,
                max_body: limits.max_body,
                request_timeout: limits.request_timeout,
            }),
            policy: web::Data::new(edge.policy()),
            metrics: web::Data::new(metrics::Metrics::new()?),
            admin_enabled: !edge.admin_keys.is_empty(),
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
                web::resource(routes::LOOKUP)
                    .route(web::get().to(lookup::lookup_get))
                    .route(web::post().to(lookup::lookup_post))
                    .default_service(web::to(lookup_methods_only)),
            )
            .configure(|config| {
                if admin_enabled {
                    config
                        .service(
                            web::resource(routes::CUSTOMERS)
                                .route(web::get().to(admin::find_by_phone))
                                .default_service(web::to(get_only)),
                        )
                        .service(
                            web::resource(routes::CUSTOMER)
                                .route(web::get().to(admin::get_customer))
                                .route(web::put().to(admin::put_customer))
                                .route(web::delete().to(admin::delete_customer))
                                .default_service(web::to(admin_methods_only)),
                        );
                }
            })
            .service(get_resource(routes::HEALTHZ, health::healthz))
            .service(get_resource(routes::READYZ, health::readyz))
            .service(get_resource(routes::METRICS, metrics::metrics))
            .service(get_resource(routes::OPENAPI, openapi::document))
            .default_service(web::to(route_not_found))
    }

    /// The store's connections, for closing at shutdown.
    pub fn store(&self) -> &CustomerStore {
        self.state.lookup.store()
    }

    /// Keeps the rate limiter's memory to the clients seen lately; stops with the server.
    pub fn forget_idle_clients_periodically(&self) {
        let policy = Arc::downgrade(&self.policy.clone().into_inner());
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
