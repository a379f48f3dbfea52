//! Contract names and version selectors, validated before they leave the
//! process so that a typo is reported here, with the offending text, rather
//! than as a remote error. The rules are the registry's own
//! ([`accord_proto::names`]): the client re-exports its types.

pub use accord_proto::names::{
    ContractName, MAX_NAME_LEN, NameError, VersionSelector, parse_requirement, validate_name,
};
use semver::Version;

use crate::Error;

impl From<NameError> for Error {
    fn from(e: NameError) -> Self {
        if e.is_version() {
            Error::InvalidVersion {
                version: e.text,
                reason: e.reason,
            }
        } else {
            Error::InvalidName {
                name: e.text,
                reason: e.reason,
            }
        }
    }
}

/// Checks one part of a name against the naming rules of the registry.
pub(crate) fn check_part(what: &'static str, part: &str) -> Result<(), Error> {
    Ok(accord_proto::names::validate_name(what, part)?)
}

/// Parses a version sent by the registry; empty means none.
pub(crate) fn parse_wire_version(text: &str, what: &str) -> Result<Option<Version>, Error> {
    if text.is_empty() {
        return Ok(None);
    }
    Version::parse(text)
        .map(Some)
        .map_err(|e| Error::InvalidResponse {
            message: format!("{what} {text:?} is not a semver version: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_errors_become_client_errors_that_quote_the_text() {
        let err: Error = "Orders/x".parse::<ContractName>().unwrap_err().into();
        assert!(
            matches!(&err, Error::InvalidName { name, .. } if name == "Orders/x"),
            "{err}"
        );
        let err: Error = "1.x.y.z".parse::<VersionSelector>().unwrap_err().into();
        assert!(
            matches!(&err, Error::InvalidVersion { version, .. } if version == "1.x.y.z"),
            "{err}"
        );
    }

    #[test]
    fn names_and_selectors_read_and_write_as_text() {
        let pair: (ContractName, VersionSelector) =
            serde_json::from_str(r#"["orders/order-placed", ">=1.2, <2"]"#).unwrap();
        assert_eq!(pair.0.contract(), "order-placed");
        assert!(pair.1.matches(&Version::new(1, 9, 0)));
        assert_eq!(
            serde_json::to_string(&pair).unwrap(),
            r#"["orders/order-placed",">=1.2, <2"]"#
        );
        let err = serde_json::from_str::<ContractName>(r#""Orders/x""#).unwrap_err();
        assert!(err.to_string().contains("Orders/x"), "{err}");
    }
}
