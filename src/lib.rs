//! customer-lookup: recognise a caller for Genesys Cloud flows.
//!
//! A lookup flows one way: edge (`http`) → handler → normalise (`normalise`) → cache (`cache`)
//! → store (`store`) → answer (`domain::LookupAnswer`), orchestrated by `lookup`.

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
pub mod store;
pub mod telemetry;
pub mod tls;
