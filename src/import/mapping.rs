//! `--map` and `--vip-values`: how a CRM's own columns become a customer's fields.

use super::ImportFormat;
use crate::domain::CustomerField;

/// A field a column mapping can fill: one of the customer's, or the region that national
/// numbers in the row are read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappedField {
    Customer(CustomerField),
    Region,
}

impl MappedField {
    /// Every field, the customer's in their order, then the region.
    pub const ALL: [Self; 6] = [
        Self::Customer(CustomerField::CustomerId),
        Self::Customer(CustomerField::Name),
        Self::Customer(CustomerField::LoyaltyPoints),
        Self::Customer(CustomerField::IsVip),
        Self::Customer(CustomerField::PhoneNumbers),
        Self::Region,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Self::Customer(field) => field.name(),
            Self::Region => "region",
        }
    }

    /// Whether a file must have a column for it.
    pub const fn is_required(self) -> bool {
        match self {
            Self::Customer(field) => field.is_required(),
            Self::Region => false,
        }
    }
}

/// One `--map`: a field and its column groups.
pub type FieldMap = (MappedField, Vec<Vec<String>>);

/// How a CRM's columns become a customer (`--map`, `--vip-values`). Without any `--map` the file
/// must have the native layout.
#[derive(Clone, Debug, Default)]
pub struct ColumnMapping {
    /// Field → its column groups: `phone_numbers=Phone,MobilePhone` is two groups (numbers are
    /// merged), `name=FirstName+LastName` one group of two columns (joined with a space).
    pub fields: Vec<FieldMap>,
    /// Values of `is_vip`'s column that mean a VIP (a tier such as `Gold`), any case; with them
    /// given, any other value means not a VIP.
    pub vip_values: Vec<String>,
    /// The CSV delimiter; `None` reads it off the header line (`,`, `;` or tab).
    pub delimiter: Option<u8>,
}

impl ColumnMapping {
    /// One `--map FIELD=COLUMNS` as given on the command line.
    pub fn parse_map(raw: &str) -> Result<FieldMap, String> {
        let (field, columns) = raw
            .split_once('=')
            .ok_or_else(|| format!("{raw:?}: write FIELD=COLUMN, e.g. name=\"Full Name\""))?;
        let field = MappedField::ALL
            .into_iter()
            .find(|known| known.name() == field.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = MappedField::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "{:?} is no field to map; the fields are {}",
                    field.trim(),
                    names.join(", ")
                )
            })?;
        let groups: Vec<Vec<String>> = columns
            .split(',')
            .map(|group| {
                group
                    .split('+')
                    .map(|c| c.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        // An empty name would silently drop its column (`Phone,Mobile+`): refuse it.
        if groups.iter().flatten().any(String::is_empty) {
            return Err(format!("{raw:?}: a column name is missing around , or +"));
        }
        if groups.len() > 1 && field != MappedField::Customer(CustomerField::PhoneNumbers) {
            return Err(format!(
                "{raw:?}: only phone_numbers reads several columns (A,B); join text columns with A+B"
            ));
        }
        Ok((field, groups))
    }

    /// One `--vip-values` entry: trimmed, and not empty (an empty one would make blank cells VIPs).
    pub fn parse_vip_value(raw: &str) -> Result<String, String> {
        match raw.trim() {
            "" => Err("an empty value cannot mean VIP: list values such as Gold,Platinum".into()),
            value => Ok(value.to_owned()),
        }
    }

    /// Refuses a mapping that would silently lose a column or a flag.
    pub fn check(&self, format: ImportFormat) -> Result<(), String> {
        if format == ImportFormat::Jsonl
            && (!self.fields.is_empty() || !self.vip_values.is_empty() || self.delimiter.is_some())
        {
            return Err(
                "--map, --vip-values and --delimiter read CSV files; JSON Lines files have named fields"
                    .into(),
            );
        }
        for (index, (field, _)) in self.fields.iter().enumerate() {
            if self.fields[..index]
                .iter()
                .any(|(earlier, _)| earlier == field)
            {
                let field = field.name();
                return Err(format!(
                    "{field} is mapped twice: give one --map {field}=... (phone_numbers=A,B reads several columns)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::test_support::read_mapped;

    #[test]
    fn a_mapping_that_would_lose_a_column_is_refused() {
        assert!(ColumnMapping::parse_map("phone_numbers=Phone,Mobile+").is_err());
        assert!(ColumnMapping::parse_map("name=First,Company").is_err());
        assert!(ColumnMapping::parse_map("phone_numbers=Phone,MobilePhone").is_ok());
        let twice = ColumnMapping {
            fields: vec![
                ColumnMapping::parse_map("name=First").unwrap(),
                ColumnMapping::parse_map("name=Company").unwrap(),
            ],
            ..ColumnMapping::default()
        };
        assert!(
            twice
                .check(ImportFormat::Csv)
                .unwrap_err()
                .contains("twice")
        );
        let vip_on_jsonl = ColumnMapping {
            vip_values: vec!["Gold".into()],
            ..ColumnMapping::default()
        };
        assert!(vip_on_jsonl.check(ImportFormat::Jsonl).is_err());
        // Tiers without a tier column would silently make nobody a VIP.
        let (_, errors) = read_mapped(
            b"customer_id,name,phone_numbers,Tier\nC1,Ann,+15550000001,Gold\n",
            &["customer_id=customer_id"],
            &["Gold"],
        );
        assert!(
            errors[0]
                .reason
                .contains("--vip-values needs a tier column"),
            "{errors:?}"
        );
    }
}
