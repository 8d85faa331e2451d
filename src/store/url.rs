use std::fmt;

use super::StoreError;

/// Which database a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A database URL whose scheme is known; its `Display` hides any password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let url = raw.trim().to_owned();
        let backend = match Self::scheme(&url).map(str::to_ascii_lowercase).as_deref() {
            Some("sqlite") => Backend::Sqlite,
            Some("postgres" | "postgresql") => Backend::Postgres,
            // Never the rest of the text: without a scheme, `user:pw@host` is all secret.
            Some(other) => {
                return Err(StoreError::UnsupportedUrl(format!("(scheme {other})")));
            }
            None => return Err(StoreError::UnsupportedUrl("(no scheme://)".into())),
        };
        let parsed = Self { url, backend };
        parsed.refuse_unknown_secret_parameters()?;
        Ok(parsed)
    }

    /// The scheme, when the text starts with one followed by `:` (RFC 3986: a letter, then
    /// letters, digits, `+`, `-`, `.`), and for anything but SQLite by `://` as well: otherwise
    /// `root:pw@host` would read as the scheme `root`.
    fn scheme(url: &str) -> Option<&str> {
        let (scheme, rest) = url.split_once(':')?;
        let mut chars = scheme.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        (well_formed && (rest.starts_with("//") || scheme.eq_ignore_ascii_case("sqlite")))
            .then_some(scheme)
    }

    /// sqlx only warns about a connect parameter it does not know, quoting its value in the log:
    /// a password-like one (`sslpassword`) is refused here instead, named without its value.
    fn refuse_unknown_secret_parameters(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(());
        }
        let Ok(url) = url::Url::parse(&self.url) else {
            return Ok(()); // sqlx refuses it too, and `Display` shows no more than the scheme
        };
        // Only `password` exactly is the driver's: `PASSWORD=` would be logged like any unknown.
        match url
            .query_pairs()
            .find(|(key, _)| key.to_ascii_lowercase().contains("password") && key != "password")
        {
            Some((key, _)) => Err(StoreError::SecretParameter(key.into_owned())),
            None => Ok(()),
        }
    }

    /// The same URL with this password (read from a file, so it never sits in the URL given).
    pub fn with_password(&self, password: &str) -> Result<Self, StoreError> {
        let mut url = url::Url::parse(&self.url)
            .map_err(|_| StoreError::PasswordWithoutUser(Self::redact(&self.url)))?;
        if self.backend != Backend::Postgres || url.username().is_empty() {
            return Err(StoreError::PasswordWithoutUser(Self::redact(&self.url)));
        }
        url.set_password(Some(password))
            .map_err(|()| StoreError::PasswordWithoutUser(Self::redact(&self.url)))?;
        Ok(Self {
            url: url.to_string(),
            backend: self.backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn expose(&self) -> &str {
        &self.url
    }

    /// The URL with any password (in the user info or a `password=` parameter) replaced.
    fn redact(raw: &str) -> String {
        let scheme = Self::scheme(raw).unwrap_or("?");
        let Ok(mut url) = url::Url::parse(raw) else {
            // Unparseable: show only the scheme rather than risk printing a secret.
            return format!("{scheme}:…");
        };
        if url.cannot_be_a_base() {
            // `sqlite:user:pw`: no authority for a password to be recognised in.
            return format!("{scheme}:…");
        }
        if url.password().is_some() {
            // Only fails for URLs that cannot have credentials, which have none to hide.
            let _ = url.set_password(Some("REDACTED"));
        }
        let secret = |key: &str| key.to_ascii_lowercase().contains("password");
        if url.query_pairs().any(|(k, _)| secret(&k)) {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if secret(&k) {
                        "REDACTED".into()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        url.to_string()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.backend {
            // A file path: nothing secret, and `url` would rewrite relative paths.
            Backend::Sqlite => f.write_str(&self.url),
            Backend::Postgres => f.write_str(&Self::redact(&self.url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_from_a_file_goes_into_the_url_and_never_into_its_display() {
        let url = DatabaseUrl::parse("postgres://lookup@db.internal:5432/customers").unwrap();
        let with = url.with_password("p@ss/w:rd").unwrap();
        assert_eq!(
            with.expose(),
            "postgres://lookup:p%40ss%2Fw%3Ard@db.internal:5432/customers"
        );
        assert!(!with.to_string().contains("p%40ss") && with.to_string().contains("REDACTED"));
        for without_user in ["postgres://db.internal/customers", "sqlite://./data/x.db"] {
            let err = DatabaseUrl::parse(without_user)
                .unwrap()
                .with_password("secret")
                .unwrap_err();
            assert!(matches!(err, StoreError::PasswordWithoutUser(_)), "{err}");
        }
    }

    #[test]
    fn selects_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/x.db")
                .unwrap()
                .backend(),
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        let err = DatabaseUrl::parse("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mysql"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn never_displays_a_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/customers").unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("app") && shown.contains("db:5432/customers"),
            "{shown}"
        );
        let url = DatabaseUrl::parse("postgres://db/customers?user=app&password=s3cret").unwrap();
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn a_url_that_is_refused_or_shown_never_shows_its_password() {
        for raw in [
            "root:HUNTER8@dbhost/db",
            "postgres//user:HUNTER8@host",
            "sqlite:user:HUNTER8",
            "postgresql://user:HUNTER8@",
            "my database password is HUNTER8",
            "postgres://user:HUNTER8 x@host/db",
            "mysql:user:HUNTER8@host",
        ] {
            let shown = match DatabaseUrl::parse(raw) {
                Err(e) => e.to_string(),
                Ok(url) => {
                    let refused = url.with_password("other").err().map(|e| e.to_string());
                    if url.backend() == Backend::Postgres {
                        format!("{url} {url:?} {refused:?}")
                    } else {
                        // A SQLite URL is a file path, shown as given; only its errors matter.
                        format!("{refused:?}")
                    }
                }
            };
            assert!(!shown.contains("HUNTER8"), "{raw}: {shown}");
        }
        let err = DatabaseUrl::parse("root:HUNTER8@dbhost/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no scheme"), "{err}");
        assert!(!err.contains("root"), "{err}");
    }

    #[test]
    fn a_password_parameter_the_driver_does_not_read_is_refused_by_name_only() {
        for raw in [
            "postgres://u@h/db?sslpassword=HUNTER8",
            "postgres://u@h/db?sslmode=require&SSLPassword=HUNTER8",
            "postgresql://u@h/db?my_password_2=HUNTER8",
            "postgres://u@127.0.0.1:1/db?PASSWORD=HUNTER8&options=x",
            "postgres://u@h/db?Password=HUNTER8",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert!(
                matches!(err, StoreError::SecretParameter(_)),
                "{raw}: {err}"
            );
            let err = err.to_string();
            assert!(!err.contains("HUNTER8"), "{err}");
            assert!(err.to_ascii_lowercase().contains("password"), "{err}");
        }
        assert!(DatabaseUrl::parse("postgres://u@h/db?password=pw&sslmode=require").is_ok());
    }
}
