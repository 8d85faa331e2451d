//! Configured secrets: API keys and Basic credentials, kept as SHA-256 digests so a
//! comparison never depends on the secret's length. Debug never shows them.

use std::fmt;

use subtle::ConstantTimeEq;

/// A SHA-256 digest.
pub type Digest = [u8; 32];

const HASH_PREFIX: &str = "sha256:";
/// Shorter plaintext keys are guessable; generate keys with e.g. `openssl rand -hex 32`.
const MIN_KEY_CHARS: usize = 16;

pub fn sha256(bytes: &[u8]) -> Digest {
    let mut out = [0; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// A secret as configured: plaintext, or `sha256:<64 hex digits>` of the plaintext so the key
/// itself need not sit in a config file. Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
struct SecretDigest(Digest);

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

    /// Whether `presented` is the digest of this key, compared in constant time.
    pub fn matches(&self, presented: &Digest) -> subtle::Choice {
        self.0.matches(presented)
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

    /// Whether the digests of a presented user and password are this credential's, compared
    /// in constant time.
    pub fn matches(&self, user: &Digest, password: &Digest) -> subtle::Choice {
        self.user.ct_eq(user) & self.password.matches(password)
    }
}

impl fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicCredential(REDACTED)")
    }
}
