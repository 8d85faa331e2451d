//! One log line per request, and the headers every answer carries (`X-Request-Id`,
//! `X-Content-Type-Options: nosniff`). The line: request id, method, path (never the query,
//! which may hold a number), status, latency, client, and for lookups the outcome and the masked
//! number; when the store failed, why, at error level (503) or warn level (default answer).

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

use super::ApiError;
use super::client_addr::ClientAddr;

/// Set by the lookup handler for the log line.
#[derive(Debug)]
pub struct LookupLogFields {
    pub outcome: &'static str,
    pub number: String,
    /// Why the store could not answer, when the caller got the default answer instead.
    pub store_failure: Option<String>,
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
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    // Here rather than in a middleware of its own: one layer less on every request.
    response
        .headers_mut()
        .insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    let latency = started.elapsed();
    let request = response.request();
    if let Some(metrics) = request.app_data::<actix_web::web::Data<super::metrics::Metrics>>() {
        // The route pattern, not the path, so label values stay few.
        let route = request.match_pattern();
        metrics.observe_request(
            route.as_deref().unwrap_or("unmatched"),
            request.method().as_str(),
            response.status(),
            latency.as_secs_f64(),
        );
    }
    let failure = response
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>());
    let extensions = request.extensions();
    let lookup = extensions.get::<LookupLogFields>();
    // Milliseconds to two places, from integers: float formatting cost more than the rest.
    let micros = latency.as_micros();
    let latency_ms = format_args!("{}.{:02}", micros / 1000, micros % 1000 / 10);
    let status = response.status().as_u16();
    let cause: Option<&dyn std::fmt::Display> = match failure.and_then(ApiError::store_failure) {
        Some(error) => Some(error),
        None => lookup
            .and_then(|l| l.store_failure.as_ref())
            .map(|text| text as _),
    };
    // The request id is a field of this line rather than a span around the request: a span per
    // request cost ~10% of a cached lookup's instructions. Lines logged while a request runs
    // are this one, whose level rises with trouble and which names the store's failure.
    macro_rules! request_line {
        ($level:expr) => {
            tracing::event!(
                $level,
                request_id = %id,
                method = %request.method(),
                path = %request.path(),
                status,
                latency_ms,
                client = extensions.get::<ClientAddr>().map(|c| tracing::field::display(c.0)),
                outcome = lookup.map(|l| tracing::field::display(l.outcome)),
                number = lookup.map(|l| tracing::field::display(&l.number)),
                error = failure.map(|e| tracing::field::display(e.code())),
                cause = cause.map(tracing::field::display),
                "request"
            )
        };
    }
    if status >= 500 {
        request_line!(tracing::Level::ERROR);
    } else if cause.is_some() {
        request_line!(tracing::Level::WARN);
    } else {
        request_line!(tracing::Level::INFO);
    }
    drop(extensions);
    Ok(response)
}
