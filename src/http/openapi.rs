//! `/openapi.json`: the API described from the code (utoipa), status codes and error bodies
//! included. The schemas are derived from the types the handlers serialise.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::error::ErrorBody;
use crate::domain::LookupAnswer;

/// The lookup request body. Other fields are ignored.
#[derive(ToSchema)]
#[schema(example = json!({"phoneNumber": "tel:+15551234567"}))]
#[allow(dead_code)] // documentation only: the handler reads the body itself for precise errors
pub struct LookupRequest {
    /// The caller ID in any form a network produces: `tel:` or `sip:` URI, E.164, national
    /// format, with punctuation, extensions or non-ASCII digits; withheld IDs are unknown callers.
    #[schema(rename = "phoneNumber")]
    phone_number: String,
}

/// What a lookup may answer, whatever its method.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // documentation only
enum LookupResponses {
    /// The customer, or the unknown-caller default (also for withheld or invalid caller IDs).
    /// With --on-store-error default and a failing store: the default, with X-Lookup-Degraded: true.
    #[response(status = 200, headers(
        ("X-Request-Id" = String, description = "X-Request-Id or ININ-Correlation-Id of the request, else a generated id"),
        ("X-Lookup-Degraded" = String, description = "`true` when the store failed and the default was answered")))]
    Answer(LookupAnswer),
    /// phoneNumber missing, null, blank or not a string; malformed JSON; a body that is not an
    /// object; a malformed query.
    #[response(status = 400)]
    BadRequest(ErrorBody<'static>),
    /// Credentials are configured and the request carries none that match.
    #[response(status = 401)]
    Unauthorized(ErrorBody<'static>),
    /// The client's network is not in --allow-cidr.
    #[response(status = 403)]
    Forbidden(ErrorBody<'static>),
    /// Unknown caller, with --unknown-status 404 (customer_not_found).
    #[response(status = 404)]
    NotFound(ErrorBody<'static>),
    /// The request was not received within --request-timeout.
    #[response(status = 408)]
    RequestTimeout(ErrorBody<'static>),
    /// The body is larger than --max-body.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody<'static>),
    /// Over --rate-limit for this client; Retry-After says when to retry.
    #[response(status = 429)]
    RateLimited(ErrorBody<'static>),
    /// The store failed or missed --store-timeout (with --on-store-error fail); Retry-After
    /// says when to retry.
    #[response(status = 503)]
    StoreUnavailable(ErrorBody<'static>),
}

/// Look up a caller by the number in a JSON body.
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup", request_body = LookupRequest, responses(LookupResponses),
    security((), ("api_key" = []), ("bearer" = []), ("basic" = [])))]
#[allow(dead_code)]
fn lookup_post() {}

/// Look up a caller by the number in the query string (a literal leading `+` is kept).
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(("phoneNumber" = String, Query, description = "The caller ID, e.g. %2B15551234567 or tel%3A%2B15551234567")),
    responses(LookupResponses),
    security((), ("api_key" = []), ("bearer" = []), ("basic" = [])))]
#[allow(dead_code)]
fn lookup_get() {}

/// The process is alive.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = inline(Object), example = json!({"status": "ok"}))))]
#[allow(dead_code)]
fn healthz() {}

/// The store answers within --store-timeout.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = inline(Object), example = json!({"status": "ready", "store": "postgres"})),
              (status = 503, description = "The store does not answer (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn readyz() {}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4", body = String),
              (status = 401, description = "With --metrics-auth, credentials are required", body = ErrorBody)))]
#[allow(dead_code)]
fn metrics() {}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "customer-lookup", description = "Recognise a caller for Genesys Cloud flows: caller ID → E.164 → customer. Which security scheme applies depends on --api-key / --basic-auth; without credentials the API is open."),
    paths(lookup_post, lookup_get, healthz, readyz, metrics),
    components(schemas(LookupAnswer, ErrorBody, LookupRequest)),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the OpenAPI document: {e}\"}}"))
});

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}
