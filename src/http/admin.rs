//! The admin API for single changes (`--admin-key`): read, create or replace, delete a
//! customer, and find one by phone number. Lookups read the store on every call, so a change is
//! visible to the next lookup at once.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::AppState;
use super::body::read_body_within_limits;
use super::error::ApiError;
use crate::domain::record::JsonTypes;
use crate::domain::{CustomerField, CustomerId, CustomerRecord, NumberOwners, RecordProblem};

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
    CustomerId::parse_exact(raw)
        .map_err(|e| ApiError::InvalidCustomer(vec![RecordProblem::Field(e)]))
}

pub async fn get_customer(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    let lookup = &state.lookup;
    let record = lookup
        .within_deadline(lookup.store().find_customer(&id))
        .await?
        .ok_or(ApiError::NoSuchCustomer)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&record)))
}

/// Creates (201) or replaces (200) the customer, numbers included. Every invalid field is
/// listed (422); a number other customers have too is shared with them.
pub async fn put_customer(
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body_within_limits(&req, payload, &state).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let serde_json::Value::Object(object) = value else {
        return Err(ApiError::InvalidCustomer(vec![RecordProblem::NotAnObject]));
    };
    let mut problems: Vec<RecordProblem> = object
        .keys()
        .filter(|k| CustomerField::named(k).is_none())
        .map(|k| RecordProblem::UnknownField(k.clone()))
        .collect();
    // `null` is an absent customer_id, as the schema's optional field says.
    if let Some(in_body) = object.get("customer_id").filter(|v| !v.is_null())
        && in_body.as_str() != Some(path.as_str())
    {
        problems.push(RecordProblem::IdMismatch);
    }
    let normaliser = state.lookup.normaliser();
    let strict = JsonTypes::Strict;
    let record =
        match CustomerRecord::from_json(&path, &object, strict, |raw| normaliser.normalise(raw)) {
            Ok(record) if problems.is_empty() => record,
            Ok(_) => return Err(ApiError::InvalidCustomer(problems)),
            Err(reasons) => {
                problems.extend(reasons);
                return Err(ApiError::InvalidCustomer(problems));
            }
        };
    let summary = state
        .lookup
        .store()
        .upsert(std::slice::from_ref(&record))
        .await?;
    // Numbers may have moved between customers: no cached answer can be trusted now.
    state.lookup.invalidate_cache();
    let mut response = if summary.inserted > 0 {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response.json(CustomerView::from(&record)))
}

/// How many of a shared number's customers a refusal names.
const SHARED_OWNERS_NAMED: u32 = 20;

pub async fn delete_customer(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    if state.lookup.store().delete_customer(&id).await? {
        state.lookup.invalidate_cache();
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NoSuchCustomer)
    }
}

/// `GET /api/v1/customers?phone=…`: the customer owning that number, in any format (a literal
/// leading `+` is kept, as for a lookup). A number several customers share is a 409 naming them.
pub async fn find_by_phone(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let phone = super::lookup::phone_query_value(req.query_string(), "phone")?;
    let raw = phone
        .as_deref()
        .filter(|p| !super::lookup::is_blank(p))
        .ok_or_else(|| {
            ApiError::MalformedQuery("give the number as ?phone=%2B15551234567".into())
        })?;
    let lookup = &state.lookup;
    let number = lookup
        .normaliser()
        .normalise(raw)
        .map_err(ApiError::InvalidPhoneNumber)?;
    let customer = match lookup
        .within_deadline(lookup.store().find_by_number(&number))
        .await?
    {
        NumberOwners::Nobody => return Err(ApiError::NoSuchCustomer),
        NumberOwners::One(customer) => customer,
        NumberOwners::Shared { count, .. } => {
            let customers = lookup
                .within_deadline(lookup.store().owners_of(&number, SHARED_OWNERS_NAMED))
                .await?;
            return Err(ApiError::SharedNumber {
                number: number.to_string(),
                count,
                customers: customers.iter().map(|id| id.as_str().to_owned()).collect(),
            });
        }
    };
    let record = lookup
        .within_deadline(lookup.store().find_customer(&customer.id))
        .await?
        .ok_or(ApiError::NoSuchCustomer)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(&record)))
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use crate::domain::CustomerField;

    /// The property names of a schema the OpenAPI document derives from a struct.
    fn properties(schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>) -> Vec<String> {
        let json = serde_json::to_value(schema).unwrap_or_default();
        json["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_documented_customer_has_the_fields_the_api_reads() {
        let mut names: Vec<String> = CustomerField::NAMES.map(str::to_owned).to_vec();
        names.sort();
        for schema in [
            super::super::openapi::Customer::schema(),
            super::super::openapi::CustomerInput::schema(),
        ] {
            let mut documented = properties(schema);
            documented.sort();
            assert_eq!(documented, names);
        }
    }
}
