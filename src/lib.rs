//! customer-lookup: recognise a caller for Genesys Cloud flows.
//!
//! A lookup flows one way: edge (`http`) → handler → `lookup` (the policy) → `normalise` →
//! `cache` → `store` → answer (`domain::AnswerBody`). `main` parses the command line with
//! `config` and dispatches to `commands`; `startup` builds the service. docs/architecture.md
//! has the module map.

mod named;

pub mod cache;
pub mod commands;
pub mod config;
pub mod demo;
pub mod domain;
pub mod genesys;
pub mod http;
pub mod import;
pub mod lookup;
pub mod normalise;
pub mod reload;
pub mod reloaded_files;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
