//! `/openapi.json`: every route the service serves, described from the code (utoipa), with the
//! constraints the handlers enforce, so that what the document allows the service accepts and
//! what it forbids the service refuses. The document is made for the running configuration:
//! the security schemes are the credentials it was given, and the admin routes appear only when
//! the admin API is on.

use actix_web::{HttpResponse, web};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, SecurityRequirement};
use utoipa::{OpenApi, ToSchema};

use super::error::ErrorBody;
use super::routes;
use crate::domain::{AnswerBody, LoyaltyPoints};
use crate::lookup::{AnswerField, AnswerFields, MatchOutcome};
use crate::settings::{ClientCertMode, EdgeSettings};

/// Text a person wrote: at least one character that is not white space, none that is a control
/// character, and (for identifiers and names the API stores) none around it.
const TEXT_PATTERN: &str = r"^[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\x00-\x1f\x7f-\x9f])?$";
/// A caller ID: anything with a character that is no white space. The white space is spelled
/// out (Rust's, plus U+001C–U+001F and U+FEFF), because `\s` means different things to the
/// regex dialects that read this document (ECMAScript's, Python's).
const CALLER_ID_PATTERN: &str =
    r"[^\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]";
/// E.164 as the store keeps it (libphonenumber's lengths: up to 17 national digits).
const E164_PATTERN: &str = r"^\+[1-9][0-9]{2,19}$";

fn string(min: usize, max: Option<usize>, pattern: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(max)
        .pattern(Some(pattern))
}

/// `phoneNumber`: a caller ID, or a whole number a template sent without quotes.
fn phone_number_value() -> Schema {
    AnyOfBuilder::new()
        .item(string(1, None, CALLER_ID_PATTERN))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(u64::MAX)),
        )
        .description(Some(
            "The caller ID in any form a network produces: tel: or sip: URI, E.164, national format, \
             with punctuation, extensions or non-ASCII digits. Withheld and invalid IDs are unknown callers.",
        ))
        .build()
        .into()
}

fn loyalty_points() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(LoyaltyPoints::MAX))
        .into()
}

fn customer_id() -> Schema {
    string(1, Some(64), TEXT_PATTERN).into()
}

/// The body's optional `customer_id`: the path's rules, and `null` allowed.
fn customer_id_in_body() -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(64))
        .pattern(Some(TEXT_PATTERN))
        .description(Some(
            "If given, the same customer_id as the path's (422 otherwise).",
        ))
        .into()
}

/// A parameter's schema by its name: set in code, as utoipa's attributes take patterns only as
/// literals, and one spelling of each pattern keeps the document from drifting.
fn parameter_schema(name: &str) -> Option<Schema> {
    match name {
        "customer_id" => Some(customer_id()),
        "phone" | "phoneNumber" => Some(string(1, None, CALLER_ID_PATTERN).into()),
        _ => None,
    }
}

fn customer_name() -> Schema {
    string(1, Some(200), TEXT_PATTERN).into()
}

fn phone_numbers_out() -> Schema {
    ArrayBuilder::new()
        .items(string(4, Some(21), E164_PATTERN))
        .min_items(Some(1))
        .into()
}

fn phone_numbers_in() -> Schema {
    ArrayBuilder::new()
        .items(string(1, None, CALLER_ID_PATTERN))
        .min_items(Some(1))
        .into()
}

/// The lookup request body. Other members are ignored.
#[derive(ToSchema)]
#[schema(example = json!({"phoneNumber": "tel:+15551234567"}))]
#[allow(dead_code)] // documentation only: the handler reads the body itself for precise errors
pub struct LookupRequest {
    #[schema(rename = "phoneNumber", schema_with = phone_number_value)]
    phone_number: String,
}

/// A customer with every number that identifies them.
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // documentation only: the admin handlers serialise their own view
pub struct Customer {
    #[schema(min_length = 1, max_length = 64)]
    customer_id: String,
    #[schema(schema_with = customer_name)]
    name: String,
    #[schema(schema_with = loyalty_points)]
    loyalty_points: i64,
    is_vip: bool,
    /// E.164.
    #[schema(schema_with = phone_numbers_out)]
    phone_numbers: Vec<String>,
}

/// A customer to create or replace. Numbers may be written in any caller-ID form; they are
/// stored in E.164, and a number that is no phone number is refused (422).
#[derive(ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Carol Diaz", "loyalty_points": 42, "is_vip": true, "phone_numbers": ["(555) 000-1111", "tel:+1-555-000-2222"]}))]
#[allow(dead_code)] // documentation only: the handler reads the body itself for precise errors
pub struct CustomerInput {
    #[schema(schema_with = customer_id_in_body)]
    customer_id: Option<String>,
    #[schema(schema_with = customer_name)]
    name: String,
    #[schema(schema_with = loyalty_points)]
    loyalty_points: i64,
    is_vip: bool,
    #[schema(schema_with = phone_numbers_in)]
    phone_numbers: Vec<String>,
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
    Answer(AnswerBody),
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
#[utoipa::path(post, path = routes::LOOKUP, tag = "lookup", request_body = LookupRequest, responses(LookupResponses))]
#[allow(dead_code)]
fn lookup_post() {}

/// Look up a caller by the number in the query string (a literal leading `+` is kept).
#[utoipa::path(get, path = routes::LOOKUP, tag = "lookup",
    params(("phoneNumber" = String, Query,
        description = "The caller ID, e.g. %2B15551234567 or tel%3A%2B15551234567")),
    responses(LookupResponses))]
#[allow(dead_code)]
fn lookup_get() {}

/// The customer who has a phone number, written in any caller-ID form (a number several
/// customers share is a 409 naming them).
#[utoipa::path(get, path = routes::CUSTOMERS, tag = "admin",
    params(("phone" = String, Query, description = "The number, e.g. %2B15551234567")),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = 400, description = "phone missing or blank (malformed_query)", body = ErrorBody),
        (status = 401, description = "No admin key", body = ErrorBody),
        (status = 404, description = "No customer has this number (customer_not_found)", body = ErrorBody),
        (status = 409, description = "Several customers share this number (shared_number); the message names them", body = ErrorBody),
        (status = 422, description = "phone is no phone number (invalid_phone_number)", body = ErrorBody),
        (status = 429, description = "Over --rate-limit", body = ErrorBody),
        (status = 503, description = "The store failed (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn find_by_phone() {}

/// One customer.
#[utoipa::path(get, path = routes::CUSTOMER, tag = "admin",
    params(("customer_id" = String, Path)),
    responses(
        (status = 200, description = "The customer", body = Customer),
        (status = 401, description = "No admin key", body = ErrorBody),
        (status = 404, description = "No such customer (customer_not_found)", body = ErrorBody),
        (status = 422, description = "Not a valid customer_id (invalid_customer)", body = ErrorBody),
        (status = 429, description = "Over --rate-limit", body = ErrorBody),
        (status = 503, description = "The store failed (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn get_customer() {}

/// Create (201) or replace (200) a customer, numbers included.
#[utoipa::path(put, path = routes::CUSTOMER, tag = "admin",
    params(("customer_id" = String, Path)),
    request_body = CustomerInput,
    responses(
        (status = 200, description = "Replaced", body = Customer),
        (status = 201, description = "Created", body = Customer),
        (status = 400, description = "The body is not JSON (malformed_json)", body = ErrorBody),
        (status = 401, description = "No admin key", body = ErrorBody),
        (status = 408, description = "The body did not arrive within --request-timeout", body = ErrorBody),
        (status = 413, description = "The body is larger than --max-body", body = ErrorBody),
        (status = 422, description = "Every invalid field, listed (invalid_customer)", body = ErrorBody),
        (status = 429, description = "Over --rate-limit", body = ErrorBody),
        (status = 503, description = "The store failed (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn put_customer() {}

/// Delete a customer and their numbers.
#[utoipa::path(delete, path = routes::CUSTOMER, tag = "admin",
    params(("customer_id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No admin key", body = ErrorBody),
        (status = 404, description = "No such customer (customer_not_found)", body = ErrorBody),
        (status = 422, description = "Not a valid customer_id (invalid_customer)", body = ErrorBody),
        (status = 429, description = "Over --rate-limit", body = ErrorBody),
        (status = 503, description = "The store failed (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn delete_customer() {}

/// Every step of a lookup: what was stripped from the caller ID, the digits, the country code
/// and where it came from, the E.164 number or why there is none, whether the answer came from
/// the cache, the customer the store returned, and what a lookup answers.
#[utoipa::path(get, path = routes::EXPLAIN, tag = "admin",
    params(("phoneNumber" = String, Query, description = "The caller ID, as for a lookup")),
    responses(
        (status = 200, description = "The explanation", body = inline(Object), example = json!({
            "input": "(555) 123-4567", "outcome": "found", "answer_source": "store", "status": 200,
            "normalisation": {"route": "full_parse", "default_region": "US", "digits": "5551234567",
                "country_code": 1, "country_code_source": "default_region", "e164": "+15551234567"},
            "customer": {"customer_id": "CUST-001", "name": "Alice Smith", "loyalty_points": 1500, "is_vip": true},
            "response": {"customer_id": "CUST-001", "name": "Alice Smith", "loyalty_points": 1500, "is_vip": true}})),
        (status = 400, description = "phoneNumber missing or blank", body = ErrorBody),
        (status = 401, description = "No admin key", body = ErrorBody),
        (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn explain() {}

/// The process is alive.
#[utoipa::path(get, path = routes::HEALTHZ, tag = "operations",
    responses((status = 200, description = "Alive", body = inline(Object), example = json!({"status": "ok"})),
              (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn healthz() {}

/// The store answers within --store-timeout.
#[utoipa::path(get, path = routes::READYZ, tag = "operations",
    responses((status = 200, description = "Ready", body = inline(Object), example = json!({"status": "ready", "store": "postgres"})),
              (status = 429, description = "Over --rate-limit", body = ErrorBody),
              (status = 503, description = "The store does not answer (store_unavailable)", body = ErrorBody)))]
#[allow(dead_code)]
fn readyz() {}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = routes::METRICS, tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "text/plain; version=0.0.4", body = String),
              (status = 401, description = "With --metrics-auth, credentials are required", body = ErrorBody),
              (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn metrics() {}

/// This document.
#[utoipa::path(get, path = routes::OPENAPI, tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = inline(Object)),
              (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn openapi() {}

/// Swagger UI for this document (with --docs).
#[utoipa::path(get, path = routes::DOCS, tag = "operations",
    responses((status = 308, description = "To /docs/, where the page is"),
              (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn docs() {}

/// A file of Swagger UI; `index.html` for an empty name.
#[utoipa::path(get, path = routes::DOCS_FILE, tag = "operations",
    params(("file" = String, Path, example = "index.html", description = "e.g. index.html, swagger-ui.css")),
    responses((status = 200, description = "The file", content_type = "text/html", body = String),
              (status = 404, description = "No such file (not_found)", body = ErrorBody),
              (status = 429, description = "Over --rate-limit", body = ErrorBody)))]
#[allow(dead_code)]
fn docs_file() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "customer-lookup",
        description = "Recognise a caller for Genesys Cloud flows: caller ID → E.164 → customer."
    ),
    paths(
        lookup_post,
        lookup_get,
        find_by_phone,
        get_customer,
        put_customer,
        delete_customer,
        explain,
        healthz,
        readyz,
        metrics,
        openapi,
        docs,
        docs_file
    ),
    components(schemas(AnswerBody, ErrorBody, LookupRequest, Customer, CustomerInput))
)]
struct ApiDoc;

/// The document for a service configured with these credentials, answering the contract's four
/// fields.
#[cfg(test)]
pub fn document_for(edge: &EdgeSettings) -> String {
    document_answering(edge, &AnswerFields::default())
}

/// The document for a service configured with these credentials and answer fields.
pub fn document_answering(edge: &EdgeSettings, fields: &AnswerFields) -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let admin = edge.has_admin_keys();
    doc.paths.paths.retain(|path, _| {
        (admin || !super::routes::ADMIN.contains(&path.as_str()))
            && (edge.docs || !path.starts_with(super::routes::DOCS))
    });
    let components = doc.components.get_or_insert_with(Default::default);
    if let Some(RefOr::T(Schema::Object(answer))) = components.schemas.get_mut("LookupAnswer") {
        describe_answer_fields(answer, fields);
    }
    let mut lookup_schemes = Vec::new();
    if edge.has_api_keys() {
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "One of --api-key; `Authorization: Bearer <key>` works too",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        lookup_schemes.extend(["api_key", "bearer"]);
    }
    if edge.has_basic_auth() {
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        lookup_schemes.push("basic");
    }
    // Mutual TLS: optional mode makes the certificate one more alternative; required mode
    // makes it part of every alternative (or the only one, without keys).
    let certificate = edge.client_certificates;
    if certificate.is_some() {
        components.add_security_scheme(
            "mutual_tls",
            SecurityScheme::MutualTls {
                description: Some(
                    "A client certificate from --client-ca (for Genesys Cloud, the integration's), with a --client-cert-name when set"
                        .into(),
                ),
                deprecated: None,
                extensions: None,
            },
        );
    }
    let lookup_requirements: Vec<Vec<&str>> = match certificate {
        None => lookup_schemes.iter().map(|name| vec![*name]).collect(),
        Some(ClientCertMode::Optional) => std::iter::once(vec!["mutual_tls"])
            .chain(lookup_schemes.iter().map(|name| vec![*name]))
            .collect(),
        Some(ClientCertMode::Required) if lookup_schemes.is_empty() => vec![vec!["mutual_tls"]],
        Some(ClientCertMode::Required) => lookup_schemes
            .iter()
            .map(|name| vec!["mutual_tls", *name])
            .collect(),
    };
    if admin {
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "One of --admin-key; `Authorization: Bearer <key>` works too",
            ))),
        );
    }
    let requirement = |names: &[&str]| {
        names
            .iter()
            .fold(SecurityRequirement::default(), |all, name| {
                all.add(*name, Vec::<String>::new())
            })
    };
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            for parameter in operation.parameters.iter_mut().flatten() {
                let RefOr::T(parameter) = parameter else {
                    continue;
                };
                if let Some(schema) = parameter_schema(&parameter.name) {
                    parameter.schema = Some(schema.into());
                }
            }
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let requirements: Vec<Vec<&str>> = if super::routes::ADMIN.contains(&path.as_str()) {
            vec![vec!["admin_key"]]
        } else if path == super::routes::LOOKUP
            || (path == super::routes::METRICS && edge.metrics_need_credentials)
        {
            lookup_requirements.clone()
        } else {
            Vec::new()
        };
        if requirements.is_empty() {
            continue;
        }
        for operation in operations(item) {
            operation.security = Some(
                requirements
                    .iter()
                    .map(|names| requirement(names))
                    .collect(),
            );
        }
    }
    doc.to_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot render the OpenAPI document: {e}\"}}"))
}

/// The answer fields turned on, as required properties after the four.
fn describe_answer_fields(answer: &mut utoipa::openapi::schema::Object, fields: &AnswerFields) {
    for field in fields.fields() {
        let schema: Schema = match field {
            AnswerField::Match => ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .enum_values(Some(MatchOutcome::NAMES))
                .description(Some(
                    "How the caller ID matched: unique, shared (several customers have the number), none, withheld, not_a_number",
                ))
                .into(),
            AnswerField::MatchCount => ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(0))
                .description(Some("How many customers have the number"))
                .into(),
        };
        answer
            .properties
            .insert(field.name().to_owned(), schema.into());
        answer.required.push(field.name().to_owned());
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.post.as_mut(),
        item.put.as_mut(),
        item.delete.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The document, as made at start.
pub struct Document(pub String);

pub async fn document(document: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}
