//! Credentials as a Genesys Cloud Web Services Data Actions integration can send them: an API key
//! (`Authorization: Bearer KEY` or `X-API-Key: KEY`) or HTTP Basic. Every comparison is between
//! SHA-256 digests, in constant time, against every configured credential, so neither the
//! length of a key nor which credential is closest shows in the timing.

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use base64::Engine;

use crate::domain::secret::sha256;
use crate::domain::{ApiKey, BasicCredential};

/// Everything that may open the lookup API.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    api_keys: Vec<ApiKey>,
    basic: Vec<BasicCredential>,
}

impl Credentials {
    pub fn new(api_keys: Vec<ApiKey>, basic: Vec<BasicCredential>) -> Self {
        Self { api_keys, basic }
    }

    /// Whether the request carries a configured credential.
    pub fn admit(&self, headers: &HeaderMap) -> bool {
        let mut admitted = subtle::Choice::from(0);
        for presented in presented_credentials(headers) {
            admitted |= match presented {
                Presented::Key(key) => {
                    let digest = sha256(key.as_bytes());
                    self.api_keys
                        .iter()
                        .fold(subtle::Choice::from(0), |ok, k| ok | k.matches(&digest))
                }
                Presented::Basic { user, password } => {
                    let (user, password) = (sha256(user.as_bytes()), sha256(password.as_bytes()));
                    self.basic.iter().fold(subtle::Choice::from(0), |ok, c| {
                        ok | c.matches(&user, &password)
                    })
                }
            };
        }
        admitted.into()
    }
}

enum Presented {
    Key(String),
    Basic { user: String, password: String },
}

fn presented_credentials(headers: &HeaderMap) -> Vec<Presented> {
    let mut found = Vec::new();
    for value in headers.get_all("x-api-key").filter_map(|v| v.to_str().ok()) {
        let key = value.trim();
        if !key.is_empty() {
            found.push(Presented::Key(key.to_owned()));
        }
    }
    for value in headers
        .get_all(AUTHORIZATION)
        .filter_map(|v| v.to_str().ok())
    {
        let Some((scheme, rest)) = value.trim().split_once(' ') else {
            continue;
        };
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            found.push(Presented::Key(rest.to_owned()));
        } else if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD.decode(rest).ok();
            let text = decoded.and_then(|bytes| String::from_utf8(bytes).ok());
            if let Some((user, password)) = text.as_deref().and_then(|t| t.split_once(':')) {
                found.push(Presented::Basic {
                    user: user.to_owned(),
                    password: password.to_owned(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_headers as headers;

    #[test]
    fn configured_secrets_are_validated() {
        assert!(
            ApiKey::parse("short")
                .unwrap_err()
                .contains("16 characters")
        );
        assert!(
            ApiKey::parse("sha256:abc")
                .unwrap_err()
                .contains("64 hex digits")
        );
        assert!(ApiKey::parse(&format!("sha256:{}", "g".repeat(64))).is_err());
        assert!(BasicCredential::parse("nopassword").is_err());
        assert!(BasicCredential::parse(":password").is_err());
        assert!(
            BasicCredential::parse("user:short")
                .unwrap_err()
                .contains("8 characters")
        );
        assert!(
            !format!("{:?}", ApiKey::parse("0123456789abcdef-secret").unwrap()).contains("secret")
        );
    }

    #[test]
    fn hashed_and_plain_keys_are_the_same_credential() {
        let key = "0123456789abcdef0123456789abcdef";
        let hex: String = sha256(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let creds = Credentials::new(
            vec![ApiKey::parse(&format!("sha256:{hex}")).unwrap()],
            vec![],
        );
        assert!(creds.admit(&headers(&[("x-api-key", key)])));
        assert!(!creds.admit(&headers(&[("x-api-key", &format!("sha256:{hex}"))])));
    }

    #[test]
    fn no_credentials_admit_nobody() {
        assert!(!Credentials::default().admit(&headers(&[(
            "authorization",
            "Bearer anything-at-all-here"
        )])));
    }
}
