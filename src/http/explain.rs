//! `GET /api/v1/explain?phoneNumber=…` (admin key): why a caller is answered the way they are.
//! The lookup runs its own route, traced; nothing here decides anything.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::lookup::caller_id_from_query;
use crate::domain::AnswerBody;
use crate::lookup::{AnswerFields, Decision, Explanation, LookupError, LookupOutcome};

pub async fn explain(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller_id = caller_id_from_query(req.query_string())?;
    let explanation = state.lookup.explain(&caller_id).await;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(explanation_json(explanation, state.lookup.answer_fields())))
}

/// The explanation as the API and the `explain` command show it; `response` is what a lookup
/// answers, with the answer fields in force.
pub fn explanation_json(explanation: Explanation, fields: &AnswerFields) -> Value {
    let trace = explanation.normalisation;
    let (e164, not_a_number) = match &trace.result {
        Some(Ok(number)) => (Some(number.to_string()), None),
        Some(Err(why)) => (
            None,
            Some(json!({"code": why.code(), "reason": why.to_string()})),
        ),
        None => (None, None),
    };
    let mut normalisation = serde_json::to_value(&trace).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut normalisation {
        fields.remove("input");
        fields.insert("e164".into(), json!(e164));
        fields.insert("not_a_phone_number".into(), json!(not_a_number));
    }
    let recognition = match &explanation.decision {
        Ok(Decision::Answer { recognition, .. })
        | Err(LookupError::CustomerNotFound { recognition }) => Some(recognition),
        _ => None,
    };
    let customer = recognition.and_then(|r| match &r.outcome {
        LookupOutcome::Unique { customer, .. } => Some(AnswerBody::from(customer)),
        _ => None,
    });
    // A shared number: how many have it and who the `first` policy would name (admin only).
    let shared = recognition.and_then(|r| match &r.outcome {
        LookupOutcome::Shared {
            count,
            first,
            any_vip,
            ..
        } => Some(json!({
            "customers": count,
            "first_customer_id": first.id.as_str(),
            "any_vip": any_vip,
        })),
        _ => None,
    });
    let answer_source = recognition.map(|r| r.source);
    let outcome = recognition.map_or("error", |r| r.outcome.label());
    let match_outcome = recognition.map(|r| r.outcome.match_outcome().name());
    let match_count = recognition.map(|r| r.outcome.match_count());
    let (status, response, degraded, store_failure) = match explanation.decision {
        Ok(Decision::Answer {
            answer,
            recognition,
        }) => {
            let response = json!(fields.render(&answer, Some(&recognition.outcome)));
            (200, response, false, None)
        }
        Ok(Decision::Degraded { answer, failure }) => {
            let response = json!(fields.render(&answer, None));
            (200, response, true, Some(failure.to_string()))
        }
        Err(refusal) => {
            let failure = match &refusal {
                LookupError::StoreUnavailable(failure) => Some(failure.to_string()),
                LookupError::CustomerNotFound { .. } => None,
            };
            let error = ApiError::from(refusal);
            let status = actix_web::ResponseError::status_code(&error).as_u16();
            (status, error.body(), false, failure)
        }
    };
    json!({
        "input": trace.input,
        "normalisation": normalisation,
        "answer_source": answer_source,
        "outcome": outcome,
        "match": match_outcome,
        "match_count": match_count,
        "customer": customer,
        "shared_number": shared,
        "status": status,
        "response": response,
        "degraded": degraded,
        "store_failure": store_failure,
    })
}
