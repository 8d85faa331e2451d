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
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let backend = match scheme.as_str() {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            _ => return Err(StoreError::UnsupportedUrl(Self::redact(&url))),
        };
        Ok(Self { url, backend })
    }

    /// The same URL with this password (read from a file, so it never sits in the URL given).
    pub fn with_password(&self, password: &str) -> Result<Self, StoreError> {
        let mut url = url::Url::parse(&self.url)
            .map_err(|_| StoreError::UnsupportedUrl(Self::redact(&self.url)))?;
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
        let Ok(mut url) = url::Url::parse(raw) else {
            // Unparseable: show only the scheme rather than risk printing a secret.
            let scheme = raw.split(':').next().unwrap_or_default();
            return format!("{scheme}:…");
        };
        if url.password().is_some() {
            // Only fails for URLs that cannot have credentials, which have none to hide.
            let _ = url.set_password(Some("REDACTED"));
        }
        let secret_params = ["password", "sslpassword"];
        if url
            .query_pairs()
            .any(|(k, _)| secret_params.contains(&k.as_ref()))
        {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| {
                    let v = if secret_params.contains(&k.as_ref()) {
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
}
