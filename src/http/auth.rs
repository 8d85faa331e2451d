//! Credentials as a Genesys Cloud Web Services Data Actions integration can send them: an API key
//! (`Authorization: Bearer KEY` or `X-API-Key: KEY`) or HTTP Basic. Every comparison is between
//! SHA-256 digests, in constant time, against every configured credential, so neither the
//! length of a key nor which credential is closest shows in the timing.

use std::fmt;

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use base64::Engine;
use subtle::ConstantTimeEq;

type Digest = [u8; 32];

const HASH_PREFIX: &str = "sha256:";
/// Shorter plaintext keys are guessable; generate keys with e.g. `openssl rand -hex 32`.
const MIN_KEY_CHARS: usize = 16;

fn sha256(bytes: &[u8]) -> Digest {
    let mut out = [0; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// A secret as configured: plaintext, or `sha256:<64 hex digits>` of the plaintext so the key
/// itself need not sit in a config file. Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretDigest(Digest);

impl SecretDigest {
    fn parse(raw: &str, what: &str, min_chars: usize) -> Result<Self, String> {
        if let Some(hex) = raw.strip_prefix(HASH_PREFIX) {
            return parse_hex_digest(hex).map(Self).ok_or_else(|| {
                format!("{what} {HASH_PREFIX}… must be followed by 64 hex digits (the SHA-256 of the secret)")
            });
        }
        if raw.chars().count() < min_chars {
            return Err(format!(
                "{what} is shorter than {min_chars} characters; use a random one (openssl rand -hex 32)"
            ));
        }
        Ok(Self(sha256(raw.as_bytes())))
    }

    fn matches(&self, presented: &Digest) -> subtle::Choice {
        self.0.ct_eq(presented)
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(REDACTED)")
    }
}

fn parse_hex_digest(hex: &str) -> Option<Digest> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut digest = [0; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

/// An accepted API key (`--api-key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey(SecretDigest);

impl ApiKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        SecretDigest::parse(raw.trim(), "an API key", MIN_KEY_CHARS).map(Self)
    }
}

/// An accepted Basic user and password (`--basic-auth user:password`, or `user:sha256:<hex>`).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredential {
    user: Digest,
    password: SecretDigest,
}

impl BasicCredential {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (user, password) = raw
            .split_once(':')
            .filter(|(user, password)| !user.is_empty() && !password.is_empty())
            .ok_or("--basic-auth takes user:password (or user:sha256:<hex of the password>)")?;
        Ok(Self {
            user: sha256(user.as_bytes()),
            password: SecretDigest::parse(password, "a Basic password", 8)?,
        })
    }
}

impl fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicCredential(REDACTED)")
    }
}

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
                        .fold(subtle::Choice::from(0), |ok, k| ok | k.0.matches(&digest))
                }
                Presented::Basic { user, password } => {
                    let (user, password) = (sha256(user.as_bytes()), sha256(password.as_bytes()));
                    self.basic.iter().fold(subtle::Choice::from(0), |ok, c| {
                        ok | (c.user.ct_eq(&user) & c.password.matches(&password))
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
