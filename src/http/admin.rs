//! The admin API for single changes (`--admin-key`): read, create or replace, delete a
//! customer, and find one by phone number. Lookups read the store on every call, so a change is
//! visible to the next lookup at once.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use crate::domain::{CustomerId, CustomerRecord};
use crate::store::StoreError;

/// A customer as the admin API shows it: the lookup fields plus every number in E.164.
#[derive(Serialize)]
struct CustomerView {
    customer_id: String,
    name: String,
    loyalty_points: i64,
    is_vip: bool,
    phone_numbers: Vec<String>,
}

impl From<&CustomerRecord> for CustomerView {
    fn from(record: &CustomerRecord) -> Self {
        let c = &record.customer;
        Self {
            customer_id: c.id.as_str().to_owned(),
            name: c.name.as_str().to_owned(),
            loyalty_points: c.loyalty_points.value(),
            is_vip: c.is_vip,
            phone_numbers: record
                .phone_numbers
                .iter()
                .map(|n| n.as_str().to_owned())
                .collect(),
        }
    }
}

fn customer_id(raw: &str) -> Result<CustomerId, ApiError> {
    CustomerId::parse(raw).map_err(|e| ApiError::InvalidCustomer(vec![e.0]))
}

fn unavailable(e: StoreError) -> ApiError {
    ApiError::StoreUnavailable(e)
}

pub async fn get_customer(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    let record = state
        .lookup
        .store()
        .find_customer(&id)
        .await
        .map_err(unavailable)?;
    let record = record.ok_or(ApiError::NoSuchCustomer)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&record)))
}

/// Creates (201) or replaces (200) the customer, numbers included. Every invalid field is
/// listed (422); a number another customer owns is a conflict naming the owner (409).
pub async fn put_customer(
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = super::lookup::read_body_within_limits(&req, payload, &state).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let serde_json::Value::Object(object) = value else {
        return Err(ApiError::InvalidCustomer(vec![
            "the body must be a JSON object with name, loyalty_points, is_vip and phone_numbers"
                .into(),
        ]));
    };
    let mut problems: Vec<String> = object
        .keys()
        .filter(|k| {
            ![
                "customer_id",
                "name",
                "loyalty_points",
                "is_vip",
                "phone_numbers",
            ]
            .contains(&k.as_str())
        })
        .map(|k| format!("unknown field {k:?}"))
        .collect();
    if let Some(in_body) = object.get("customer_id")
        && in_body.as_str() != Some(path.as_str())
    {
        problems.push("customer_id in the body differs from the one in the path".into());
    }
    let record = match crate::import::record_from_json(&path, &object, &state.normaliser) {
        Ok(record) if problems.is_empty() => record,
        Ok(_) => return Err(ApiError::InvalidCustomer(problems)),
        Err(reasons) => {
            problems.extend(reasons);
            return Err(ApiError::InvalidCustomer(problems));
        }
    };
    let summary = match state
        .lookup
        .store()
        .upsert(std::slice::from_ref(&record))
        .await
    {
        Ok(summary) => summary,
        Err(StoreError::NumberTaken { number, owner }) => {
            return Err(ApiError::NumberTaken {
                number: number.to_string(),
                owner,
            });
        }
        Err(e) => return Err(unavailable(e)),
    };
    // Numbers may have moved between customers: no cached answer can be trusted now.
    state.lookup.invalidate_cache();
    let mut response = if summary.inserted > 0 {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(CustomerView::from(&record)))
}

pub async fn delete_customer(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    if state
        .lookup
        .store()
        .delete_customer(&id)
        .await
        .map_err(unavailable)?
    {
        state.lookup.invalidate_cache();
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NoSuchCustomer)
    }
}

#[derive(serde::Deserialize)]
pub struct PhoneQuery {
    phone: Option<String>,
}

/// `GET /api/v1/customers?phone=…`: the customer owning that number, in any format.
pub async fn find_by_phone(
    query: web::Query<PhoneQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let raw = query
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| {
            ApiError::MalformedQuery("give the number as ?phone=%2B15551234567".into())
        })?;
    let number = state
        .normaliser
        .normalise(raw)
        .map_err(ApiError::InvalidPhoneNumber)?;
    let store = state.lookup.store();
    let customer = store
        .find_by_number(&number)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NoSuchCustomer)?;
    let record = store
        .find_customer(&customer.id)
        .await
        .map_err(unavailable)?
        .ok_or(ApiError::NoSuchCustomer)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&record)))
}
