//! One log line per request: method, path (never the query, which may hold a number), status,
//! latency, and for lookups the outcome and the masked number.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::ApiError;
use super::client_addr::ClientAddr;

/// Set by the lookup handler for the log line.
#[derive(Clone, Debug)]
pub struct LookupLogFields {
    pub outcome: &'static str,
    pub number: String,
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let response = next.call(req).await?;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    let latency_ms = format_args!("{latency_ms:.2}");
    let error = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(ApiError::code);
    let fields = response
        .request()
        .extensions()
        .get::<LookupLogFields>()
        .cloned();
    let client = response
        .request()
        .extensions()
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    match (fields, error) {
        (Some(LookupLogFields { outcome, number }), error) => {
            tracing::info!(%method, %path, status, latency_ms, %client, %outcome, %number, error, "request")
        }
        (None, Some(error)) => {
            tracing::info!(%method, %path, status, latency_ms, %client, %error, "request")
        }
        (None, None) => tracing::info!(%method, %path, status, latency_ms, %client, "request"),
    }
    Ok(response)
}
