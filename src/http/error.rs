//! The one error type of the HTTP edge and the one place it becomes a status and a JSON body
//! `{"error": "<stable_code>", "message": "<what to fix>"}`. Internal details (SQL, hosts) are
//! logged, never sent.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::RecordProblem;
use crate::lookup::LookupError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "phoneNumber is required: send {{\"phoneNumber\": \"+15551234567\"}} or ?phoneNumber=%2B15551234567"
    )]
    MissingPhoneNumber,
    #[error("phoneNumber is blank: send the caller ID, for example Call.Ani")]
    BlankPhoneNumber,
    #[error("phoneNumber must be a string (or a whole number), not {0}")]
    PhoneNumberNotAString(&'static str),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error(
        "the body must be a JSON object such as {{\"phoneNumber\": \"+15551234567\"}}, not {0}"
    )]
    BodyNotAnObject(&'static str),
    #[error("the query string is not valid: {0}")]
    MalformedQuery(String),
    #[error("the request body could not be read: {0}")]
    UnreadableBody(String),
    #[error("the request body is larger than the {limit} bytes this service accepts")]
    PayloadTooLarge { limit: u64 },
    #[error("no route for this path: the lookup is at /api/v1/lookup")]
    RouteNotFound,
    #[error("method not allowed here; use {allowed}")]
    MethodNotAllowed { allowed: String },
    #[error("no customer has this phone number")]
    CustomerNotFound,
    #[error("no customer has this customer_id")]
    NoSuchCustomer,
    #[error("{} problem(s): {}", .0.len(), problems(.0))]
    InvalidCustomer(Vec<RecordProblem>),
    #[error(
        "{count} customers share phone number {number} ({}); read each with GET /api/v1/customers/{{customer_id}}",
        customers.join(", ")
    )]
    SharedNumber {
        number: String,
        count: u64,
        /// The first few owners' ids, by id.
        customers: Vec<String>,
    },
    #[error("phone is not a usable phone number: {0}")]
    InvalidPhoneNumber(crate::normalise::NotAPhoneNumber),
    #[error(
        "credentials missing or not accepted: send Authorization: Bearer <key>, X-API-Key: <key>, or HTTP Basic"
    )]
    Unauthorized { challenge: String },
    #[error("this client's network is not allowed to use the service")]
    ForbiddenNetwork,
    #[error("too many requests from this client; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the request was not received completely in time")]
    RequestTimeout,
    #[error("the customer store is not answering; try again shortly")]
    StoreUnavailable(#[source] StoreError),
}

fn problems(list: &[RecordProblem]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ApiError {
    /// A stable, machine-readable code: flows and dashboards may branch on it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingPhoneNumber => "missing_phone_number",
            Self::BlankPhoneNumber => "blank_phone_number",
            Self::PhoneNumberNotAString(_) => "invalid_phone_number_type",
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyNotAnObject(_) => "body_not_an_object",
            Self::MalformedQuery(_) => "malformed_query",
            Self::UnreadableBody(_) => "unreadable_body",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::RouteNotFound => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::CustomerNotFound | Self::NoSuchCustomer => "customer_not_found",
            Self::InvalidCustomer(_) => "invalid_customer",
            Self::SharedNumber { .. } => "shared_number",
            Self::InvalidPhoneNumber(_) => "invalid_phone_number",
            Self::Unauthorized { .. } => "unauthorized",
            Self::ForbiddenNetwork => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::RequestTimeout => "request_timeout",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }
}

/// Every error answer: a stable code to branch on and a sentence saying what to fix.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": "missing_phone_number", "message": "phoneNumber is required: send {\"phoneNumber\": \"+15551234567\"} or ?phoneNumber=%2B15551234567"}))]
pub struct ErrorBody<'a> {
    /// missing_phone_number, blank_phone_number, invalid_phone_number_type, malformed_json,
    /// body_not_an_object, malformed_query, unreadable_body, unauthorized, forbidden,
    /// customer_not_found, not_found, method_not_allowed, request_timeout, payload_too_large,
    /// rate_limited, store_unavailable
    error: &'a str,
    message: String,
}

impl From<LookupError> for ApiError {
    fn from(error: LookupError) -> Self {
        match error {
            LookupError::CustomerNotFound { .. } => Self::CustomerNotFound,
            LookupError::StoreUnavailable(cause) => Self::StoreUnavailable(cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::StoreUnavailable(error)
    }
}

impl ApiError {
    /// The JSON body this error is answered with, for the CLI to print the same.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({"error": self.code(), "message": self.to_string()})
    }

    /// The store's failure behind a 503, for the request's log line.
    pub fn store_failure(&self) -> Option<&crate::store::StoreError> {
        match self {
            Self::StoreUnavailable(cause) => Some(cause),
            _ => None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingPhoneNumber
            | Self::BlankPhoneNumber
            | Self::PhoneNumberNotAString(_)
            | Self::MalformedJson(_)
            | Self::BodyNotAnObject(_)
            | Self::MalformedQuery(_)
            | Self::UnreadableBody(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RouteNotFound | Self::CustomerNotFound | Self::NoSuchCustomer => {
                StatusCode::NOT_FOUND
            }
            Self::InvalidCustomer(_) | Self::InvalidPhoneNumber(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::SharedNumber { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::ForbiddenNetwork => StatusCode::FORBIDDEN,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            Self::MethodNotAllowed { allowed } => {
                if let Ok(allowed) = HeaderValue::from_str(allowed) {
                    response.insert_header((header::ALLOW, allowed));
                }
            }
            Self::Unauthorized { challenge } => {
                response.insert_header((header::WWW_AUTHENTICATE, challenge.as_str()));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            // Connections come back within seconds of the database (docs/operations.md).
            Self::StoreUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("2")));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: self.code(),
            message: self.to_string(),
        })
    }
}
