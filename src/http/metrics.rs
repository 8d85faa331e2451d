//! Prometheus metrics at `/metrics`, in the text exposition format. One registry per
//! application (not the process-wide default), so each instance counts only its own traffic.

use actix_web::{HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::AppState;
use crate::lookup::AnsweredFrom;

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    lookups: IntCounterVec,
    store_errors: IntCounter,
    cache_hits: IntCounter,
    cache_misses: IntCounter,
    pool_connections: IntGaugeVec,
    change_listener_up: IntGaugeVec,
    cache_invalidations: IntCounterVec,
    change_listener_losses: IntCounter,
    reloads: ReloadMetrics,
    client_certificates: std::sync::Arc<crate::tls::ClientCertificateCounts>,
    client_certificate_refusals: IntCounterVec,
    /// One scrape at a time: the counters that catch up at a scrape must not catch up twice.
    rendering: std::sync::Mutex<()>,
}

/// Seconds; lookups answer in well under a millisecond when all is well, and in up to the
/// store deadline when it is not.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("customer_lookup".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer a request, by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let lookups = IntCounterVec::new(
            Opts::new(
                "lookups_total",
                "Lookups by outcome: found, unknown (a number nobody has), invalid (no phone number), error (store failed)",
            ),
            &["outcome"],
        )?;
        let store_errors = IntCounter::new(
            "store_errors_total",
            "Store calls that failed or missed the deadline",
        )?;
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections of this instance, by state (in_use, idle)",
            ),
            &["state"],
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Always 1; the labels say which build runs"),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for outcome in ["found", "unknown", "invalid", "error"] {
            lookups.with_label_values(&[outcome]); // present at 0 from the start, so rates work
        }
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(lookups.clone()))?;
        registry.register(Box::new(store_errors.clone()))?;
        registry.register(Box::new(pool_connections.clone()))?;
        registry.register(Box::new(build_info))?;
        let cache_hits = IntCounter::new("cache_hits_total", "Lookups answered from the cache")?;
        let cache_misses = IntCounter::new("cache_misses_total", "Lookups that went to the store")?;
        registry.register(Box::new(cache_hits.clone()))?;
        registry.register(Box::new(cache_misses.clone()))?;
        let change_listener_up = IntGaugeVec::new(
            Opts::new(
                "change_listener_up",
                "1 while committed changes reach this instance's cache (by how they are heard), 0 while they do not",
            ),
            &["source"],
        )?;
        let cache_invalidations = IntCounterVec::new(
            Opts::new(
                "cache_invalidations_total",
                "Cached answers dropped because the store changed: scope number (one answer) or all (the whole cache)",
            ),
            &["scope"],
        )?;
        let change_listener_losses = IntCounter::new(
            "change_listener_losses_total",
            "Times the change listener lost its connection (the cache is bypassed until it is back)",
        )?;
        registry.register(Box::new(change_listener_up.clone()))?;
        registry.register(Box::new(cache_invalidations.clone()))?;
        registry.register(Box::new(change_listener_losses.clone()))?;
        let reloads = ReloadMetrics {
            attempts: IntCounterVec::new(
                Opts::new(
                    "config_reloads_total",
                    "Re-reads of a file on SIGHUP, by source (tls_certificate, client_ca, database_password_file, api_key_file, basic_auth_file, admin_key_file, allow_cidr_file) and result (ok, error)",
                ),
                &["source", "result"],
            )?,
            failing: IntGaugeVec::new(
                Opts::new(
                    "config_reload_failing",
                    "1 while a source's last re-read failed (the previous content stays in force), 0 once one succeeds",
                ),
                &["source"],
            )?,
        };
        registry.register(Box::new(reloads.attempts.clone()))?;
        registry.register(Box::new(reloads.failing.clone()))?;
        let client_certificate_refusals = IntCounterVec::new(
            Opts::new(
                "tls_client_certificate_refusals_total",
                "TLS handshakes refused for their client certificate, by reason: no_certificate, untrusted, name_mismatch, expired, invalid",
            ),
            &["reason"],
        )?;
        registry.register(Box::new(client_certificate_refusals.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            lookups,
            store_errors,
            cache_hits,
            cache_misses,
            pool_connections,
            change_listener_up,
            cache_invalidations,
            change_listener_losses,
            reloads,
            client_certificates: Default::default(),
            client_certificate_refusals,
            rendering: std::sync::Mutex::new(()),
        })
    }

    pub fn observe_request(
        &self,
        route: &str,
        method: &str,
        status: actix_web::http::StatusCode,
        seconds: f64,
    ) {
        self.requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.latency.with_label_values(&[route]).observe(seconds);
    }

    pub fn count_lookup(&self, outcome: &str) {
        self.lookups.with_label_values(&[outcome]).inc();
        if outcome == "error" {
            self.store_errors.inc();
        }
    }

    /// A lookup that had a number to look up was answered from the cache or the store.
    pub fn count_answer_source(&self, source: AnsweredFrom) {
        match source {
            AnsweredFrom::Cache => self.cache_hits.inc(),
            AnsweredFrom::Store => self.cache_misses.inc(),
            AnsweredFrom::NoNumber => {}
        }
    }

    pub fn reload_metrics(&self) -> ReloadMetrics {
        self.reloads.clone()
    }

    pub fn client_certificate_counts(&self) -> std::sync::Arc<crate::tls::ClientCertificateCounts> {
        std::sync::Arc::clone(&self.client_certificates)
    }

    pub fn count_store_error(&self) {
        self.store_errors.inc();
    }

    fn render(&self, state: &AppState) -> Result<String, prometheus::Error> {
        let _one_at_a_time = self
            .rendering
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (open, idle) = state.lookup.store().pool_usage();
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool_connections.with_label_values(&["idle"]).set(idle);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(i64::from(open).saturating_sub(idle).max(0));
        let freshness = state.lookup.freshness();
        if let Some(source) = freshness.source() {
            self.change_listener_up
                .with_label_values(&[source.name()])
                .set(i64::from(freshness.listening()));
        }
        // The counts live with the cache; the counters catch up with them at each scrape.
        let catch_up =
            |counter: &IntCounter, now: u64| counter.inc_by(now.saturating_sub(counter.get()));
        catch_up(
            &self.cache_invalidations.with_label_values(&["number"]),
            freshness.numbers_invalidated(),
        );
        catch_up(
            &self.cache_invalidations.with_label_values(&["all"]),
            freshness.caches_cleared(),
        );
        catch_up(&self.change_listener_losses, freshness.listener_losses());
        if self.client_certificates.is_configured() {
            for (reason, count) in self.client_certificates.refusals() {
                catch_up(
                    &self
                        .client_certificate_refusals
                        .with_label_values(&[reason.name()]),
                    count,
                );
            }
        }
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

pub async fn metrics(metrics: web::Data<Metrics>, state: web::Data<AppState>) -> HttpResponse {
    match metrics.render(&state) {
        Ok(text) => HttpResponse::Ok()
            .content_type(TextEncoder::new().format_type())
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// What the reloads report: attempts by source and result, and which sources are failing.
#[derive(Clone)]
pub struct ReloadMetrics {
    attempts: IntCounterVec,
    failing: IntGaugeVec,
}

impl ReloadMetrics {
    pub fn record(&self, source: &str, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.attempts.with_label_values(&[source, result]).inc();
        self.failing
            .with_label_values(&[source])
            .set(i64::from(!ok));
    }

    /// A source in use, not failing: so dashboards see it before its first reload.
    pub fn track(&self, source: &str) {
        self.failing.with_label_values(&[source]).set(0);
    }
}
