//! The metadata release is written once, in `METADATA_VERSION`; the crate's version (build
//! metadata after `+`, which Cargo.toml cannot read from a file) and the metadata file's header
//! must name the same release. `scripts/update-phone-metadata.sh` writes all three.

const METADATA_VERSION: &str = include_str!("../METADATA_VERSION");
const METADATA_XML: &str = include_str!("../assets/PhoneNumberMetadata.xml");

fn metadata_version() -> &'static str {
    METADATA_VERSION.trim()
}

#[test]
fn the_crate_version_carries_the_metadata_release() {
    let build = env!("CARGO_PKG_VERSION").split_once('+').map(|(_, b)| b);
    assert_eq!(
        build,
        Some(metadata_version()),
        "Cargo.toml's version must end in +{}: run scripts/update-phone-metadata.sh",
        metadata_version()
    );
}

#[test]
fn the_metadata_file_was_generated_from_that_release() {
    let header = METADATA_XML.split("-->").next().unwrap_or_default();
    let generated_from = format!("phonenumbers=={}\n", metadata_version());
    assert!(
        header.contains(&generated_from),
        "assets/PhoneNumberMetadata.xml does not say it comes from {generated_from}: \
         run scripts/update-phone-metadata.sh"
    );
}
