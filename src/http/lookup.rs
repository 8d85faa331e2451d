//! `POST /api/v1/lookup {"phoneNumber": …}` and `GET /api/v1/lookup?phoneNumber=…`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};

use super::AppState;
use super::body::read_body_within_limits;
use super::error::ApiError;
use super::metrics::Metrics;
use super::request_log::LookupLogFields;
use crate::lookup::{Decision, LookupError};

pub async fn lookup_get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller_id = caller_id_from_query(req.query_string())?;
    answer(&req, &state, &caller_id).await
}

pub async fn lookup_post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body_within_limits(&req, payload, &state).await?;
    let caller_id = caller_id_from_json(&body)?;
    answer(&req, &state, &caller_id).await
}

async fn answer(
    req: &HttpRequest,
    state: &AppState,
    caller_id: &str,
) -> Result<HttpResponse, ApiError> {
    let metrics = req.app_data::<web::Data<Metrics>>();
    let decided = state.lookup.decide(caller_id).await;
    let (recognition, failure) = match &decided {
        Ok(Decision::Answer { recognition, .. })
        | Err(LookupError::CustomerNotFound { recognition }) => (Some(recognition), None),
        Ok(Decision::Degraded { failure, .. }) | Err(LookupError::StoreUnavailable(failure)) => {
            (None, Some(failure))
        }
    };
    if let Some(metrics) = metrics {
        metrics.count_lookup(recognition.map_or("error", |r| r.outcome.label()));
        if let Some(recognition) = recognition {
            metrics.count_answer_source(recognition.source);
        }
    }
    // The request's log line names the outcome, or the store failure: with a 503 at error level
    // (from the ApiError), with a degraded answer at warn level (from these fields).
    req.extensions_mut().insert(LookupLogFields {
        outcome: recognition.map_or("error", |r| r.outcome.label()),
        number: recognition.map_or_else(|| "-".into(), |r| r.outcome.masked_number()),
        store_failure: match &decided {
            Ok(Decision::Degraded { .. }) => failure.map(ToString::to_string),
            _ => None,
        },
    });
    let (answer, outcome, degraded) = match decided? {
        Decision::Answer {
            recognition,
            answer,
        } => (answer, Some(recognition.outcome), false),
        Decision::Degraded { answer, .. } => (answer, None, true),
    };
    let mut reply = no_store(HttpResponse::Ok());
    if degraded {
        reply.insert_header(("X-Lookup-Degraded", "true"));
    }
    let fields = state.lookup.answer_fields();
    Ok(reply.json(fields.render(&answer, outcome.as_ref())))
}

/// The answer names a customer: no cache on the way may keep it.
fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    builder
}

/// The caller ID from a JSON body. Genesys sends `application/json`; the body is read as JSON
/// whatever the Content-Type says, so a hand-made `curl -d` works too.
pub fn caller_id_from_json(body: &[u8]) -> Result<String, ApiError> {
    let body: JsonValue =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let JsonValue::Object { phone_number } = body else {
        return Err(ApiError::BodyNotAnObject(body.kind()));
    };
    match phone_number.map(|value| *value) {
        None | Some(JsonValue::Null) => Err(ApiError::MissingPhoneNumber),
        Some(JsonValue::Text(text)) => non_blank(text),
        // A template that forgot the quotes around ${input.phoneNumber} sends digits as a number.
        Some(JsonValue::Unsigned(digits)) => Ok(digits.to_string()),
        Some(other) => Err(ApiError::PhoneNumberNotAString(other.kind())),
    }
}

/// A JSON value as far as a lookup goes, read in one pass: building a `serde_json::Value` tree
/// cost a few percent of a cached lookup. Members other than `phoneNumber` are skipped unread
/// (and without recursion, however deep they nest).
enum JsonValue {
    Null,
    Text(String),
    Unsigned(u64),
    /// The last `phoneNumber` member, if any, as for an object read into a map.
    Object {
        phone_number: Option<Box<JsonValue>>,
    },
    /// Any other kind ("a boolean" …).
    Other(&'static str),
}

impl JsonValue {
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Text(_) => "a string",
            Self::Unsigned(_) => "a number",
            Self::Object { .. } => "an object",
            Self::Other(kind) => kind,
        }
    }
}

#[derive(serde::Deserialize)]
enum Member {
    #[serde(rename = "phoneNumber")]
    PhoneNumber,
    #[serde(other)]
    Other,
}

impl<'de> serde::Deserialize<'de> for JsonValue {
    fn deserialize<D: serde::Deserializer<'de>>(input: D) -> Result<Self, D::Error> {
        input.deserialize_any(JsonValueVisitor)
    }
}

struct JsonValueVisitor;

impl<'de> serde::de::Visitor<'de> for JsonValueVisitor {
    type Value = JsonValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut members: A,
    ) -> Result<JsonValue, A::Error> {
        let mut phone_number = None;
        while let Some(member) = members.next_key::<Member>()? {
            match member {
                Member::PhoneNumber => phone_number = Some(Box::new(members.next_value()?)),
                Member::Other => {
                    members.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(JsonValue::Object { phone_number })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut items: A) -> Result<JsonValue, A::Error> {
        while items.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(JsonValue::Other("an array"))
    }

    fn visit_unit<E>(self) -> Result<JsonValue, E> {
        Ok(JsonValue::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<JsonValue, E> {
        Ok(JsonValue::Other("a boolean"))
    }

    fn visit_u64<E>(self, digits: u64) -> Result<JsonValue, E> {
        Ok(JsonValue::Unsigned(digits))
    }

    fn visit_i64<E>(self, _: i64) -> Result<JsonValue, E> {
        Ok(JsonValue::Other("a number"))
    }

    /// `191.0` or `1e3` is the whole number JSON Schema (and the API's schema) says it is; any
    /// other number is no caller ID.
    fn visit_f64<E>(self, number: f64) -> Result<JsonValue, E> {
        // 2^64: every whole f64 below it is exactly a u64.
        const BEYOND_U64: f64 = 18_446_744_073_709_551_616.0;
        if number.fract() == 0.0 && (0.0..BEYOND_U64).contains(&number) {
            // Exact: whole and within range, as checked.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(JsonValue::Unsigned(number as u64));
        }
        Ok(JsonValue::Other("a number"))
    }

    fn visit_str<E>(self, text: &str) -> Result<JsonValue, E> {
        Ok(JsonValue::Text(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<JsonValue, E> {
        Ok(JsonValue::Text(text))
    }
}

/// The caller ID from the query string. A literal leading `+` is kept as a plus: people type
/// `?phoneNumber=+15551234567`, and form decoding would turn it into a space. Any other `+`
/// is a space, as form encoding says.
pub(super) fn caller_id_from_query(query: &str) -> Result<String, ApiError> {
    non_blank(phone_query_value(query, "phoneNumber")?.ok_or(ApiError::MissingPhoneNumber)?)
}

/// The value of the query parameter `wanted`, read as a phone number is written: a literal
/// leading `+` stays a plus. Given twice is an error.
pub(super) fn phone_query_value(query: &str, wanted: &str) -> Result<Option<String>, ApiError> {
    let mut found = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name: String = form_urlencoded::parse(name.as_bytes())
            .map(|(k, _)| k.into_owned())
            .collect();
        if name != wanted {
            continue;
        }
        if found.is_some() {
            return Err(ApiError::MalformedQuery(format!(
                "{wanted} is given more than once"
            )));
        }
        let value = match value.strip_prefix('+') {
            Some(rest) => format!("%2B{rest}"),
            None => value.to_owned(),
        };
        // `parse` reads `k=v` pairs; feed it the value alone under a dummy key.
        let decoded = form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        found = Some(decoded);
    }
    Ok(found)
}

/// Blank as the API's schema says it: nothing but white space (`domain::is_space`).
pub(super) fn is_blank(text: &str) -> bool {
    text.chars().all(crate::domain::is_space)
}

fn non_blank(text: String) -> Result<String, ApiError> {
    if is_blank(&text) {
        Err(ApiError::BlankPhoneNumber)
    } else {
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_a_typed_leading_plus_and_decodes_the_rest() {
        assert_eq!(
            caller_id_from_query("phoneNumber=+15551234567").unwrap(),
            "+15551234567"
        );
        assert_eq!(
            caller_id_from_query("phoneNumber=%2B15551234567").unwrap(),
            "+15551234567"
        );
        assert_eq!(
            caller_id_from_query("x=1&phoneNumber=555+123+4567").unwrap(),
            "555 123 4567"
        );
        assert_eq!(
            caller_id_from_query("phoneNumber=tel%3A%2B1555").unwrap(),
            "tel:+1555"
        );
        assert!(matches!(
            caller_id_from_query("phonenumber=1"),
            Err(ApiError::MissingPhoneNumber)
        ));
        assert!(matches!(
            caller_id_from_query("phoneNumber=%20"),
            Err(ApiError::BlankPhoneNumber)
        ));
        assert!(matches!(
            caller_id_from_query("phoneNumber=1&phoneNumber=2"),
            Err(ApiError::MalformedQuery(_))
        ));
    }

    #[test]
    fn json_body_rules() {
        assert_eq!(
            caller_id_from_json(br#"{"phoneNumber":"tel:+1555","other":1}"#).unwrap(),
            "tel:+1555"
        );
        assert_eq!(
            caller_id_from_json(br#"{"phoneNumber":15551234567}"#).unwrap(),
            "15551234567"
        );
        // A whole number written with a fraction or an exponent is that whole number.
        for body in [r#"{"phoneNumber":191.0}"#, r#"{"phoneNumber":1.91e2}"#] {
            assert_eq!(
                caller_id_from_json(body.as_bytes()).unwrap(),
                "191",
                "{body}"
            );
        }
        for body in [r#"{"phoneNumber":-1.0}"#, r#"{"phoneNumber":1e20}"#] {
            assert!(
                matches!(
                    caller_id_from_json(body.as_bytes()),
                    Err(ApiError::PhoneNumberNotAString(_))
                ),
                "{body}"
            );
        }
        assert!(matches!(
            caller_id_from_json(br#"{"phoneNumber":null}"#),
            Err(ApiError::MissingPhoneNumber)
        ));
        assert!(matches!(
            caller_id_from_json(br#"{"phoneNumber":"  "}"#),
            Err(ApiError::BlankPhoneNumber)
        ));
        assert!(matches!(
            caller_id_from_json(br#"{"phoneNumber":-1}"#),
            Err(ApiError::PhoneNumberNotAString("a number"))
        ));
        assert!(matches!(
            caller_id_from_json(br#"["+1555"]"#),
            Err(ApiError::BodyNotAnObject("an array"))
        ));
        assert!(matches!(
            caller_id_from_json(b"{\"phoneNumber\":"),
            Err(ApiError::MalformedJson(_))
        ));
        let deep = "[".repeat(10_000);
        assert!(matches!(
            caller_id_from_json(deep.as_bytes()),
            Err(ApiError::MalformedJson(_))
        ));
        // The last of repeated members counts, as for an object read into a map; escaped names
        // are the same name.
        assert_eq!(
            caller_id_from_json(br#"{"phoneNumber":"1","phone\u004eumber":"2"}"#).unwrap(),
            "2"
        );
        for (body, kind) in [
            (r#"{"phoneNumber":true}"#, "a boolean"),
            (r#"{"phoneNumber":1.5}"#, "a number"),
            (r#"{"phoneNumber":["+1555"]}"#, "an array"),
            (r#"{"phoneNumber":{"n":"+1555"}}"#, "an object"),
        ] {
            assert!(
                matches!(caller_id_from_json(body.as_bytes()), Err(ApiError::PhoneNumberNotAString(k)) if k == kind),
                "{body}"
            );
        }
        for (body, kind) in [
            ("null", "null"),
            ("true", "a boolean"),
            ("-3", "a number"),
            (r#""+15551234567""#, "a string"),
        ] {
            assert!(
                matches!(caller_id_from_json(body.as_bytes()), Err(ApiError::BodyNotAnObject(k)) if k == kind),
                "{body}"
            );
        }
        // Other members are skipped however deep they nest; what follows them still counts.
        let nested = format!(
            r#"{{"other":{}{},"phoneNumber":"+15551234567"}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(
            caller_id_from_json(nested.as_bytes()).unwrap(),
            "+15551234567"
        );
        assert!(matches!(
            caller_id_from_json(br#"{"phoneNumber":"+1555"} x"#),
            Err(ApiError::MalformedJson(_))
        ));
        // Objects nested under phoneNumber are read as objects, within serde_json's depth limit.
        let deep = format!(
            "{}null{}",
            r#"{"phoneNumber":"#.repeat(10_000),
            "}".repeat(10_000)
        );
        assert!(matches!(
            caller_id_from_json(deep.as_bytes()),
            Err(ApiError::MalformedJson(_))
        ));
    }
}
