//! Every path the service serves, named once: the router registers them, the edge guard and the
//! API description refer to them.

pub const LOOKUP: &str = "/api/v1/lookup";
/// The admin API's search by phone number.
pub const CUSTOMERS: &str = "/api/v1/customers";
/// One customer of the admin API.
pub const CUSTOMER: &str = "/api/v1/customers/{customer_id}";
/// Why a caller gets the answer they get (admin API).
pub const EXPLAIN: &str = "/api/v1/explain";
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";
pub const OPENAPI: &str = "/openapi.json";
/// Swagger UI (with --docs): the page and its files.
pub const DOCS: &str = "/docs";
/// A file of Swagger UI, as the API description writes it.
pub const DOCS_FILE: &str = "/docs/{file}";
/// The router's pattern for [`DOCS_FILE`]: the file's name may hold slashes.
pub const DOCS_FILE_PATTERN: &str = "/docs/{file:.*}";

/// The admin API's paths: served only with --admin-key, and only to admin keys.
pub const ADMIN: [&str; 3] = [CUSTOMERS, CUSTOMER, EXPLAIN];

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_pattern_is_the_documented_path() {
        assert_eq!(
            super::DOCS_FILE_PATTERN.replace(":.*}", "}"),
            super::DOCS_FILE
        );
    }
}
