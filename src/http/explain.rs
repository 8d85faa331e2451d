//! `GET /api/v1/explain?phoneNumber=…` (admin key): why a caller is answered the way they are.
//! The lookup runs its own route, traced; nothing here decides anything.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::lookup::caller_id_from_query;
use crate::domain::LookupAnswer;
use crate::lookup::{Answered, Explanation, LookupError, LookupOutcome};

pub async fn explain(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let caller_id = caller_id_from_query(req.query_string())?;
    let explanation = state.lookup.explain(&caller_id).await;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(explanation_json(explanation)))
}

/// The explanation as the API and the `explain` command show it.
pub fn explanation_json(explanation: Explanation) -> Value {
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
    let found = match &explanation.decision {
        Ok(Answered::Answer { found, .. }) | Err(LookupError::CustomerNotFound { found }) => {
            Some(found)
        }
        _ => None,
    };
    let customer = found.and_then(|found| match &found.outcome {
        LookupOutcome::Found { customer, .. } => Some(LookupAnswer::from(customer)),
        _ => None,
    });
    let answer_source = found.map(|found| found.source);
    let outcome = found.map_or("error", |found| found.outcome.label());
    let (status, response, degraded, store_failure) = match explanation.decision {
        Ok(Answered::Answer { answer, .. }) => (200, json!(answer), false, None),
        Ok(Answered::Degraded { answer, failure }) => {
            (200, json!(answer), true, Some(failure.to_string()))
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
        "customer": customer,
        "status": status,
        "response": response,
        "degraded": degraded,
        "store_failure": store_failure,
    })
}
