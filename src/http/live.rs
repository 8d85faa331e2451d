//! The credentials and allowlist in force: what the flags give, plus what the files give, each
//! file replaced whole when it is re-read. A request reads a snapshot (an `Arc`) at its start,
//! so a reload never changes the rules under a request in flight.

use std::path::Path;
use std::sync::Mutex;

use ipnet::IpNet;

use super::auth::Credentials;
use crate::domain::{ApiKey, BasicCredential};
use crate::reloaded_files::{self, FileError, Swap};
use crate::settings::EdgeSettings;

/// A file SIGHUP re-reads, as named in logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadedFile {
    ApiKeys,
    BasicAuth,
    AdminKeys,
    Allowlist,
}

impl ReloadedFile {
    pub const ALL: [Self; 4] = [
        Self::ApiKeys,
        Self::BasicAuth,
        Self::AdminKeys,
        Self::Allowlist,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::ApiKeys => "api_key_file",
            Self::BasicAuth => "basic_auth_file",
            Self::AdminKeys => "admin_key_file",
            Self::Allowlist => "allow_cidr_file",
        }
    }
}

/// The last good content of each file (only reloads touch it).
#[derive(Default)]
struct FromFiles {
    api_keys: Vec<ApiKey>,
    basic: Vec<BasicCredential>,
    admin_keys: Vec<ApiKey>,
}

pub struct LiveEdge {
    settings: EdgeSettings,
    from_files: Mutex<FromFiles>,
    pub lookup: Swap<Credentials>,
    pub admin: Swap<Credentials>,
    pub networks: Swap<Vec<IpNet>>,
}

impl LiveEdge {
    /// Reads every configured file; any failure stops the start, saying which file and line.
    pub fn load(settings: &EdgeSettings) -> Result<Self, FileError> {
        let live = Self {
            settings: settings.clone(),
            from_files: Mutex::new(FromFiles::default()),
            lookup: Swap::new(Credentials::default()),
            admin: Swap::new(Credentials::default()),
            networks: Swap::new(settings.allowed_networks.clone()),
        };
        for source in ReloadedFile::ALL {
            live.reload(source).transpose()?;
        }
        live.publish();
        Ok(live)
    }

    /// Re-reads one file, all or nothing; `None` when it is not configured. The summary says
    /// how many entries are now in force (never what they are).
    pub fn reload(&self, source: ReloadedFile) -> Option<Result<String, FileError>> {
        let settings = &self.settings;
        let path = match source {
            ReloadedFile::ApiKeys => settings.api_key_file.as_deref(),
            ReloadedFile::BasicAuth => settings.basic_auth_file.as_deref(),
            ReloadedFile::AdminKeys => settings.admin_key_file.as_deref(),
            ReloadedFile::Allowlist => settings.allow_cidr_file.as_deref(),
        }?;
        Some(self.reload_from(source, path))
    }

    pub fn is_configured(&self, source: ReloadedFile) -> bool {
        let settings = &self.settings;
        match source {
            ReloadedFile::ApiKeys => settings.api_key_file.is_some(),
            ReloadedFile::BasicAuth => settings.basic_auth_file.is_some(),
            ReloadedFile::AdminKeys => settings.admin_key_file.is_some(),
            ReloadedFile::Allowlist => settings.allow_cidr_file.is_some(),
        }
    }

    fn reload_from(&self, source: ReloadedFile, path: &Path) -> Result<String, FileError> {
        let summary = match source {
            ReloadedFile::ApiKeys => {
                let keys = reloaded_files::secret_entries(path, ApiKey::parse)?;
                let summary = format!("{} API keys", keys.len());
                self.files().api_keys = keys;
                summary
            }
            ReloadedFile::BasicAuth => {
                let users = reloaded_files::secret_entries(path, BasicCredential::parse)?;
                let summary = format!("{} Basic users", users.len());
                self.files().basic = users;
                summary
            }
            ReloadedFile::AdminKeys => {
                let keys = reloaded_files::secret_entries(path, ApiKey::parse)?;
                let summary = format!("{} admin keys", keys.len());
                self.files().admin_keys = keys;
                summary
            }
            ReloadedFile::Allowlist => {
                let mut networks = reloaded_files::allowlist(path)?;
                let summary = format!("{} networks", networks.len());
                networks.extend(self.settings.allowed_networks.iter().copied());
                self.networks.store(networks);
                return Ok(summary);
            }
        };
        self.publish();
        Ok(summary)
    }

    fn files(&self) -> std::sync::MutexGuard<'_, FromFiles> {
        self.from_files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Flags and files together become the credentials requests see.
    fn publish(&self) {
        let files = self.files();
        let settings = &self.settings;
        let api_keys = settings.api_keys.iter().chain(&files.api_keys).cloned();
        let basic = settings.basic_auth.iter().chain(&files.basic).cloned();
        self.lookup
            .store(Credentials::new(api_keys.collect(), basic.collect()));
        let admin_keys = settings.admin_keys.iter().chain(&files.admin_keys).cloned();
        self.admin
            .store(Credentials::new(admin_keys.collect(), Vec::new()));
    }
}
