//! `/healthz`: the process answers. `/readyz`: the customer store answers too, so a load
//! balancer stops sending lookups to an instance that cannot serve them.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .lookup
        .store()
        .ping()
        .await
        .map_err(ApiError::StoreUnavailable)?;
    Ok(HttpResponse::Ok()
        .json(json!({"status": "ready", "store": state.lookup.store().backend().name()})))
}
