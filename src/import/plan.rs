//! Where each field of a CSV row is read from: the column plan the header matching builds.

use std::cell::RefCell;
use std::collections::HashMap;

use super::MappedField;
use super::values::region_of_country;
use crate::domain::CustomerField;
use crate::normalise::Region;

/// Each field's column groups as header positions; empty when the file has none. A field's
/// groups are read as `--map` says: several groups merge numbers, a group's columns are joined.
#[derive(Clone, Debug, Default)]
pub(super) struct FieldColumns {
    pub customer_id: Vec<Vec<usize>>,
    pub name: Vec<Vec<usize>>,
    pub loyalty_points: Vec<Vec<usize>>,
    pub is_vip: Vec<Vec<usize>>,
    pub phone_numbers: Vec<Vec<usize>>,
    pub region: Vec<Vec<usize>>,
}

impl FieldColumns {
    pub(super) fn of(&self, field: MappedField) -> &Vec<Vec<usize>> {
        match field {
            MappedField::Customer(CustomerField::CustomerId) => &self.customer_id,
            MappedField::Customer(CustomerField::Name) => &self.name,
            MappedField::Customer(CustomerField::LoyaltyPoints) => &self.loyalty_points,
            MappedField::Customer(CustomerField::IsVip) => &self.is_vip,
            MappedField::Customer(CustomerField::PhoneNumbers) => &self.phone_numbers,
            MappedField::Region => &self.region,
        }
    }

    pub(super) fn of_mut(&mut self, field: MappedField) -> &mut Vec<Vec<usize>> {
        match field {
            MappedField::Customer(CustomerField::CustomerId) => &mut self.customer_id,
            MappedField::Customer(CustomerField::Name) => &mut self.name,
            MappedField::Customer(CustomerField::LoyaltyPoints) => &mut self.loyalty_points,
            MappedField::Customer(CustomerField::IsVip) => &mut self.is_vip,
            MappedField::Customer(CustomerField::PhoneNumbers) => &mut self.phone_numbers,
            MappedField::Region => &mut self.region,
        }
    }

    /// Every position some field reads, in order.
    pub(super) fn positions(&self) -> Vec<usize> {
        let mut positions: Vec<usize> = MappedField::ALL
            .into_iter()
            .flat_map(|field| self.of(field).iter().flatten().copied())
            .collect();
        positions.sort_unstable();
        positions.dedup();
        positions
    }
}

/// Where each field is read from, as header positions.
#[derive(Clone, Debug)]
pub(super) struct ColumnPlan {
    pub fields: FieldColumns,
    pub width: usize,
    pub vip_values: Vec<String>,
    /// The header's names, for errors that point at a column.
    pub headers: Vec<String>,
    /// Every position some field reads.
    pub read_positions: Vec<usize>,
    /// Country column values already read: a file repeats a handful of them.
    pub regions: RefCell<HashMap<String, Result<Region, String>>>,
    /// What the operator should know about how the header was read.
    pub notes: Vec<String>,
}

impl ColumnPlan {
    pub(super) fn region(&self, country: &str) -> Result<Region, String> {
        let mut known = self.regions.borrow_mut();
        if let Some(region) = known.get(country) {
            return region.clone();
        }
        let region = region_of_country(country);
        if known.len() < 10_000 {
            known.insert(country.to_owned(), region.clone());
        }
        region
    }

    /// The header names a field is read from, as the mapping wrote them (`FirstName+LastName`).
    pub(super) fn column_label(&self, field: MappedField) -> String {
        self.fields
            .of(field)
            .first()
            .map_or_else(|| field.name().to_owned(), |g| self.group_label(g))
    }

    pub(super) fn group_label(&self, group: &[usize]) -> String {
        group
            .iter()
            .map(|&p| self.headers.get(p).map_or("?", String::as_str))
            .collect::<Vec<_>>()
            .join("+")
    }
}
