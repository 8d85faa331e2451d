//! `/healthz`: the process answers. `/readyz`: the customer store answers too, so a load
//! balancer stops sending lookups to an instance that cannot serve them.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::metrics::Metrics;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    state.lookup.ready().await.map_err(|e| {
        metrics.count_store_error();
        ApiError::StoreUnavailable(e)
    })?;
    let freshness = state.lookup.freshness();
    Ok(HttpResponse::Ok().json(json!({
        "status": "ready",
        "store": state.lookup.store().backend().name(),
        // Whether committed changes reach this instance's cache now (docs/operations.md).
        "changes": {
            "source": freshness.source().map(|source| source.name()),
            "listening": freshness.listening(),
            "listener_losses": freshness.listener_losses(),
            "numbers_invalidated": freshness.numbers_invalidated(),
            "caches_cleared": freshness.caches_cleared(),
        },
    })))
}
