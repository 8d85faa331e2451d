//! Cell values the mapping converts: a country to a region, a tier to a VIP flag.

use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::plan::ColumnPlan;
use crate::normalise::Region;

/// A country column's value as a region: an ISO 3166-1 alpha-2 or alpha-3 code, or an English
/// name in any case and spacing ("United Kingdom", "south korea", "UK").
pub(super) fn region_of_country(country: &str) -> Result<Region, String> {
    if let Ok(region) = Region::from_str(country) {
        return Ok(region);
    }
    // Digits are a dialling code or an ISO numeric code; which one is anyone's guess (380 is
    // Ukraine's dialling code and Italy's ISO number), so neither is read.
    if country.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!(
            "unknown country {country:?}: use an ISO 3166-1 code (GB, GBR) or an English name, not a number"
        ));
    }
    // Accents folded ("Côte d'Ivoire", "Curaçao"), and ISO's inverted short names read both
    // ways ("Korea, Republic of" is also tried as "Republic of Korea").
    let folded: String = country.nfd().filter(|c| !is_combining_mark(*c)).collect();
    let mut spellings = vec![folded.clone()];
    if let Some((head, tail)) = folded.split_once(',') {
        spellings.push(format!("{tail} {head}"));
    }
    let alpha2 = spellings.iter().find_map(|spelling| {
        let squashed: String = spelling.chars().filter(|c| c.is_alphanumeric()).collect();
        // "UK" is not ISO 3166 but is how most British records spell it.
        if squashed.eq_ignore_ascii_case("UK") {
            return Some("GB");
        }
        celes::Country::from_str(&squashed)
            .or_else(|_| celes::Country::from_alias(&squashed))
            .ok()
            .map(|c| c.alpha2)
    });
    alpha2
        .and_then(|code| Region::from_str(code).ok())
        .ok_or_else(|| {
            format!(
                "unknown country {country:?}: use an ISO 3166-1 code (GB, GBR) or an English name"
            )
        })
}

/// `is_vip` as the mapping reads it: with tiers listed, a listed one is `true` and anything else
/// `false` (a numeric tier's `1` is a tier, not a yes).
pub(super) fn vip_flag(value: &str, plan: &ColumnPlan) -> String {
    if plan.fields.is_vip.is_empty() {
        return "false".into();
    }
    let value = value.trim();
    if plan.vip_values.is_empty() {
        return value.to_owned();
    }
    let listed = plan
        .vip_values
        .iter()
        .any(|tier| tier.eq_ignore_ascii_case(value));
    listed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_column_reads_codes_and_english_names() {
        for (country, code) in [
            ("gb", "GB"),
            ("GBR", "GB"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("united states of america", "US"),
            ("South Korea", "KR"),
            ("Deu", "DE"),
            (" New Zealand ", "NZ"),
            ("Korea, Republic of", "KR"),
            ("Côte d'Ivoire", "CI"),
            ("Curaçao", "CW"),
            ("Türkiye", "TR"),
            ("Iran, Islamic Republic of", "IR"),
            ("Viet Nam", "VN"),
        ] {
            let region = region_of_country(country.trim()).unwrap();
            assert_eq!(region.code(), code, "{country}");
        }
        for unknown in ["Atlantis", "XX", "Antarctica", "+380", "380", "826"] {
            let error = region_of_country(unknown).unwrap_err();
            assert!(error.contains(unknown), "{error}");
        }
    }
}
