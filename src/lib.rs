//! customer-lookup: recognise a caller for Genesys Cloud flows.
//!
//! A lookup flows one way: edge (`http`) → handler → normalise (`normalise`) → store (`store`)
//! → answer (`domain::LookupAnswer`), orchestrated by `lookup`.

pub mod domain;
pub mod normalise;
