//! One log line per request, and the headers every answer carries (`X-Request-Id`,
//! `X-Content-Type-Options: nosniff`). The line: request id, method, path (never the query,
//! which may hold a number), status, latency, client, and for lookups the outcome and the masked
//! number. Every line logged while the request runs carries its request id.

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::ApiError;
use super::client_addr::ClientAddr;

/// Set by the lookup handler for the log line.
#[derive(Clone, Debug)]
pub struct LookupLogFields {
    pub outcome: &'static str,
    pub number: String,
}

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// What Genesys Cloud sends with every data action request.
const GENESYS_CORRELATION_ID: HeaderName = HeaderName::from_static("inin-correlation-id");

/// The caller's id when it is a sane token (it goes into logs verbatim), else a new UUID.
fn request_id(req: &ServiceRequest) -> String {
    [REQUEST_ID, GENESYS_CORRELATION_ID]
        .iter()
        .filter_map(|name| req.headers().get(name)?.to_str().ok())
        .map(str::trim)
        .find(|id| {
            (1..=128).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %id);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let mut response = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    // Here rather than in a middleware of its own: one layer less on every request.
    response
        .headers_mut()
        .insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    let _entered = span.enter();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let latency_ms = format_args!("{latency_ms:.2}");
    let status = response.status().as_u16();
    if let Some(metrics) = response
        .request()
        .app_data::<actix_web::web::Data<super::metrics::Metrics>>()
    {
        // The route pattern, not the path, so label values stay few.
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        metrics.observe_request(
            &route,
            method.as_str(),
            status,
            started.elapsed().as_secs_f64(),
        );
    }
    let error = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(ApiError::code);
    let extensions = response.request().extensions();
    let client = extensions
        .get::<ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    match (extensions.get::<LookupLogFields>(), error) {
        (Some(LookupLogFields { outcome, number }), error) => {
            tracing::info!(%method, %path, status, latency_ms, %client, %outcome, %number, error, "request")
        }
        (None, Some(error)) => {
            tracing::info!(%method, %path, status, latency_ms, %client, %error, "request")
        }
        (None, None) => tracing::info!(%method, %path, status, latency_ms, %client, "request"),
    }
    drop(extensions);
    Ok(response)
}
