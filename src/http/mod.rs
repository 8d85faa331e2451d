//! The HTTP edge: the routes behind the edge guard and the request log. `startup` builds
//! `HttpServices` from its settings and serves them; the handler benchmark calls them in-process.

mod admin;
mod auth;
mod body;
mod client_addr;
mod docs;
mod edge;
mod error;
mod explain;
mod health;
mod live;
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
use actix_web::http::Method;
use actix_web::{App, HttpResponse, Route, middleware, web};

use self::edge::EdgePolicy;
pub use self::error::ApiError;
pub use self::explain::explanation_json;
pub use self::live::{LiveEdge, ReloadedFile};
/// The lookup body reader, for the fuzz target.
pub use self::lookup::caller_id_from_json;
pub use self::metrics::ReloadMetrics;
use crate::lookup::Lookup;
use crate::settings::{EdgeSettings, RequestLimits};
use crate::store::CustomerStore;

/// What every request handler shares.
pub struct AppState {
    pub lookup: Lookup,
    pub max_body: u64,
    /// How long a client may take to send its body.
    pub request_timeout: Duration,
}

/// A connection whose client certificate the TLS layer verified (set per connection).
#[derive(Clone, Copy, Debug)]
pub struct VerifiedClientCertificate;

/// Why the HTTP services could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServicesError {
    #[error("cannot set up the metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error(transparent)]
    Source(#[from] crate::reloaded_files::FileError),
}

/// What the routes share: the lookup, the edge policy and the metrics. Each HTTP worker runs
/// `app()` over a clone.
#[derive(Clone)]
pub struct HttpServices {
    state: web::Data<AppState>,
    policy: web::Data<EdgePolicy>,
    metrics: web::Data<metrics::Metrics>,
    document: web::Data<openapi::Document>,
    admin_enabled: bool,
    docs_enabled: bool,
}

impl HttpServices {
    pub fn new(
        lookup: Lookup,
        limits: RequestLimits,
        edge: &EdgeSettings,
    ) -> Result<Self, ServicesError> {
        let live = Arc::new(LiveEdge::load(edge)?);
        let document = openapi::document_answering(edge, lookup.answer_fields());
        Ok(Self {
            state: web::Data::new(AppState {
                lookup,
                max_body: limits.max_body,
                request_timeout: limits.request_timeout,
            }),
            policy: web::Data::new(EdgePolicy::new(edge, live)),
            metrics: web::Data::new(metrics::Metrics::new()?),
            document: web::Data::new(openapi::Document(document)),
            admin_enabled: edge.has_admin_keys(),
            docs_enabled: edge.docs,
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
        let mut app = App::new()
            .app_data(self.state)
            .app_data(self.policy)
            .app_data(self.metrics)
            .app_data(self.document)
            .wrap(middleware::from_fn(edge::guard))
            .wrap(middleware::from_fn(request_log::log_request));
        for (path, methods) in endpoints(self.admin_enabled, self.docs_enabled) {
            let allowed = methods
                .iter()
                .map(|(method, _)| method.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let mut resource = web::resource(path);
            for (_, route) in methods {
                resource = resource.route(route);
            }
            app = app.service(resource.default_service(web::to(move || {
                let allowed = allowed.clone();
                async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allowed }) }
            })));
        }
        app.default_service(web::to(route_not_found))
    }

    /// The credentials and allowlist in force, for the reloads.
    pub fn live_edge(&self) -> Arc<LiveEdge> {
        Arc::clone(&self.policy.live)
    }

    /// The counters of reloads, for the reloads.
    pub fn reload_metrics(&self) -> ReloadMetrics {
        self.metrics.reload_metrics()
    }

    /// The counts of refused client certificates, for the TLS layer.
    pub fn client_certificate_counts(&self) -> Arc<crate::tls::ClientCertificateCounts> {
        self.metrics.client_certificate_counts()
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

/// Every route the service serves: its path, then each method and its handler. The router
/// registers exactly these (answering other methods with 405), and a test holds them against
/// the OpenAPI document.
fn endpoints(admin_enabled: bool, docs_enabled: bool) -> Vec<(&'static str, Vec<(Method, Route)>)> {
    let mut all = vec![
        (
            routes::LOOKUP,
            vec![
                (Method::GET, web::get().to(lookup::lookup_get)),
                (Method::POST, web::post().to(lookup::lookup_post)),
            ],
        ),
        (
            routes::HEALTHZ,
            vec![(Method::GET, web::get().to(health::healthz))],
        ),
        (
            routes::READYZ,
            vec![(Method::GET, web::get().to(health::readyz))],
        ),
        (
            routes::METRICS,
            vec![(Method::GET, web::get().to(metrics::metrics))],
        ),
        (
            routes::OPENAPI,
            vec![(Method::GET, web::get().to(openapi::document))],
        ),
    ];
    if admin_enabled {
        all.extend([
            (
                routes::CUSTOMERS,
                vec![(Method::GET, web::get().to(admin::find_by_phone))],
            ),
            (
                routes::CUSTOMER,
                vec![
                    (Method::GET, web::get().to(admin::get_customer)),
                    (Method::PUT, web::put().to(admin::put_customer)),
                    (Method::DELETE, web::delete().to(admin::delete_customer)),
                ],
            ),
            (
                routes::EXPLAIN,
                vec![(Method::GET, web::get().to(explain::explain))],
            ),
        ]);
    }
    if docs_enabled {
        all.extend([
            (
                routes::DOCS,
                vec![(Method::GET, web::get().to(docs::index))],
            ),
            (
                routes::DOCS_FILE_PATTERN,
                vec![(Method::GET, web::get().to(docs::file))],
            ),
        ]);
    }
    all
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::ApiKey;
    use crate::settings::ClientCertMode;

    fn documented(edge: &EdgeSettings) -> BTreeSet<(String, String)> {
        let document: serde_json::Value =
            serde_json::from_str(&openapi::document_for(edge)).expect("the document is JSON");
        let mut operations = BTreeSet::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                operations.insert((path.clone(), method.to_ascii_uppercase()));
            }
        }
        operations
    }

    /// The router's routes, with actix's `{name:regex}` written as OpenAPI's `{name}`.
    fn served(admin_enabled: bool, docs_enabled: bool) -> BTreeSet<(String, String)> {
        endpoints(admin_enabled, docs_enabled)
            .into_iter()
            .flat_map(|(path, methods)| {
                let path = path.replace(":.*}", "}");
                methods
                    .into_iter()
                    .map(move |(method, _)| (path.clone(), method.as_str().to_owned()))
            })
            .collect()
    }

    /// The document and the router cannot drift: every route served is described, and nothing
    /// else is, with the admin API on and off.
    #[test]
    fn every_route_served_is_in_the_openapi_document_and_nothing_else() {
        let key = ApiKey::parse("an-admin-key-of-some-length").expect("a key");
        let admin = EdgeSettings {
            admin_keys: vec![key],
            docs: true,
            ..EdgeSettings::default()
        };
        assert_eq!(served(true, true), documented(&admin));
        assert_eq!(served(false, false), documented(&EdgeSettings::default()));
        assert!(served(true, true).len() > served(false, false).len() + 5);
    }

    /// The security schemes are the credentials the service was given.
    #[test]
    fn the_documents_security_is_the_configured_credentials() {
        let key = ApiKey::parse("a-lookup-key-of-some-length").expect("a key");
        let open: serde_json::Value =
            serde_json::from_str(&openapi::document_for(&EdgeSettings::default())).unwrap();
        assert!(open["paths"]["/api/v1/lookup"]["post"]["security"].is_null());
        let guarded = EdgeSettings {
            api_keys: vec![key.clone()],
            admin_keys: vec![key],
            ..EdgeSettings::default()
        };
        let guarded: serde_json::Value =
            serde_json::from_str(&openapi::document_for(&guarded)).unwrap();
        let security = &guarded["paths"]["/api/v1/lookup"]["post"]["security"];
        assert_eq!(
            security,
            &serde_json::json!([{"api_key": []}, {"bearer": []}])
        );
        assert_eq!(
            guarded["paths"]["/api/v1/customers/{customer_id}"]["put"]["security"],
            serde_json::json!([{"admin_key": []}])
        );
        assert!(guarded["paths"]["/healthz"]["get"]["security"].is_null());
    }

    /// Mutual TLS appears as the `mutualTLS` scheme: an alternative to a key in optional mode,
    /// part of every alternative in required mode.
    #[test]
    fn the_documents_security_has_the_client_certificate_as_configured() {
        let key = ApiKey::parse("a-lookup-key-of-some-length").expect("a key");
        let security = |mode, api_keys: Vec<ApiKey>| {
            let edge = EdgeSettings {
                api_keys,
                client_certificates: Some(mode),
                ..EdgeSettings::default()
            };
            let document: serde_json::Value =
                serde_json::from_str(&openapi::document_for(&edge)).unwrap();
            assert_eq!(
                document["components"]["securitySchemes"]["mutual_tls"]["type"],
                "mutualTLS"
            );
            document["paths"]["/api/v1/lookup"]["get"]["security"].clone()
        };
        assert_eq!(
            security(ClientCertMode::Optional, vec![key.clone()]),
            serde_json::json!([{"mutual_tls": []}, {"api_key": []}, {"bearer": []}])
        );
        assert_eq!(
            security(ClientCertMode::Required, vec![key]),
            serde_json::json!([
                {"mutual_tls": [], "api_key": []},
                {"mutual_tls": [], "bearer": []}
            ])
        );
        assert_eq!(
            security(ClientCertMode::Required, Vec::new()),
            serde_json::json!([{"mutual_tls": []}])
        );
    }
}
