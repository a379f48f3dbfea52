//! Contract names and version selectors, validated before they leave the
//! process so that a typo is reported here, with the offending text, rather
//! than as a remote error.

use std::{fmt, str::FromStr};

use semver::{Version, VersionReq};

use crate::Error;

/// Longest component or contract name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A contract's full name: the owning component and the contract,
/// written `component/contract` (e.g. `orders/order-placed`).
///
/// Both parts are lowercase ASCII letters, digits, `.`, `_` and `-`, start
/// with a letter or a digit, and are at most 64 bytes.
///
/// ```
/// use accord_client::ContractName;
///
/// let name: ContractName = "orders/order-placed".parse().unwrap();
/// assert_eq!(name.component(), "orders");
/// assert_eq!(name.contract(), "order-placed");
/// assert!("Orders/x".parse::<ContractName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractName {
    component: String,
    contract: String,
}

impl ContractName {
    /// Builds a name from its two parts, checking both.
    pub fn new(component: impl Into<String>, contract: impl Into<String>) -> Result<Self, Error> {
        let component = component.into();
        let contract = contract.into();
        check_part("component", &component)?;
        check_part("contract", &contract)?;
        Ok(Self { component, contract })
    }

    /// The owning component, e.g. `orders`.
    pub fn component(&self) -> &str {
        &self.component
    }

    /// The contract within the component, e.g. `order-placed`.
    pub fn contract(&self) -> &str {
        &self.contract
    }
}

impl fmt::Display for ContractName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.component, self.contract)
    }
}

impl FromStr for ContractName {
    type Err = Error;

    /// Parses `component/contract`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((component, contract)) = s.split_once('/') else {
            return Err(Error::InvalidName {
                name: s.to_owned(),
                reason: "expected component/contract, e.g. orders/order-placed".into(),
            });
        };
        Self::new(component, contract).map_err(|e| match e {
            Error::InvalidName { reason, .. } => Error::InvalidName {
                name: s.to_owned(),
                reason,
            },
            other => other,
        })
    }
}

impl serde::Serialize for ContractName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ContractName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks one part of a name against the naming rules of the registry.
pub(crate) fn check_part(what: &str, part: &str) -> Result<(), Error> {
    let invalid = |reason: String| {
        Err(Error::InvalidName {
            name: part.to_owned(),
            reason,
        })
    };
    let Some(first) = part.bytes().next() else {
        return invalid(format!("the {what} name is empty"));
    };
    if part.len() > MAX_NAME_LEN {
        return invalid(format!(
            "the {what} name is {} bytes long; at most {MAX_NAME_LEN} are allowed",
            part.len()
        ));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return invalid(format!(
            "the {what} name must start with a lowercase letter or a digit"
        ));
    }
    if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return invalid(format!(
            "the {what} name contains {bad:?}; only lowercase ASCII letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

/// Which version of a contract to fetch.
///
/// Parsed from text: empty or `latest` is the latest release, a full SemVer
/// version (`1.4.0`, `2.0.0-rc.1`) is that exact version, anything else is
/// read as a semver requirement (`^1.2`, `~1.4`, `>=1, <3`).
///
/// ```
/// use accord_client::VersionSelector;
///
/// assert_eq!("".parse::<VersionSelector>().unwrap(), VersionSelector::Latest);
/// assert!(matches!("1.4.0".parse::<VersionSelector>().unwrap(), VersionSelector::Exact(_)));
/// assert!(matches!("^1.2".parse::<VersionSelector>().unwrap(), VersionSelector::Requirement(_)));
/// assert!("not a version".parse::<VersionSelector>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum VersionSelector {
    /// The latest release (pre-releases are skipped).
    #[default]
    Latest,
    /// Exactly this version.
    Exact(Version),
    /// The highest version that matches the requirement.
    Requirement(VersionReq),
}

impl VersionSelector {
    /// The text sent to the registry: empty for [`VersionSelector::Latest`].
    pub fn to_wire(&self) -> String {
        match self {
            VersionSelector::Latest => String::new(),
            VersionSelector::Exact(v) => v.to_string(),
            VersionSelector::Requirement(r) => r.to_string(),
        }
    }

    /// Whether `version` is one this selector could resolve to.
    ///
    /// Follows semver's rules: a requirement matches a pre-release only when
    /// it names a pre-release of the same `major.minor.patch`, and
    /// [`VersionSelector::Latest`] never matches a pre-release.
    pub fn matches(&self, version: &Version) -> bool {
        match self {
            VersionSelector::Latest => version.pre.is_empty(),
            VersionSelector::Exact(v) => v == version,
            VersionSelector::Requirement(r) => r.matches(version),
        }
    }
}

impl fmt::Display for VersionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSelector::Latest => f.write_str("latest"),
            VersionSelector::Exact(v) => write!(f, "{v}"),
            VersionSelector::Requirement(r) => write!(f, "{r}"),
        }
    }
}

impl FromStr for VersionSelector {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("latest") {
            return Ok(VersionSelector::Latest);
        }
        // A bare "1.4.0" is an exact version here, whereas semver's
        // requirement syntax would read it as "^1.4.0".
        if let Ok(v) = Version::parse(text) {
            return Ok(VersionSelector::Exact(v));
        }
        VersionReq::parse(text)
            .map(VersionSelector::Requirement)
            .map_err(|e| Error::InvalidVersion {
                version: s.to_owned(),
                reason: format!("neither a version nor a semver requirement: {e}"),
            })
    }
}

impl serde::Serialize for VersionSelector {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for VersionSelector {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl From<Version> for VersionSelector {
    fn from(v: Version) -> Self {
        VersionSelector::Exact(v)
    }
}

impl From<VersionReq> for VersionSelector {
    fn from(r: VersionReq) -> Self {
        VersionSelector::Requirement(r)
    }
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
    fn names_follow_the_registry_rules() {
        let ok: ContractName = "orders/order.placed_v2-x".parse().unwrap();
        assert_eq!(ok.to_string(), "orders/order.placed_v2-x");
        for bad in [
            "orders",
            "/x",
            "orders/",
            "Orders/x",
            "orders/-x",
            "orders/a b",
            "orders/x/y",
            "orders/é",
        ] {
            let err = bad.parse::<ContractName>().unwrap_err();
            assert!(
                matches!(&err, Error::InvalidName { name, .. } if name == bad),
                "{bad}: {err}"
            );
        }
        let long = format!("a/{}", "b".repeat(65));
        let err = long.parse::<ContractName>().unwrap_err().to_string();
        assert!(err.contains("65 bytes"), "{err}");
        assert!(format!("a/{}", "b".repeat(64)).parse::<ContractName>().is_ok());
    }

    #[test]
    fn selectors_tell_exact_versions_from_requirements() {
        let exact: VersionSelector = "1.4.0".parse().unwrap();
        assert_eq!(exact.to_wire(), "1.4.0");
        assert!(exact.matches(&Version::new(1, 4, 0)));
        assert!(!exact.matches(&Version::new(1, 5, 0)));
        let req: VersionSelector = ">=1, <3".parse().unwrap();
        assert!(req.matches(&Version::new(2, 9, 0)));
        assert!(!req.matches(&Version::new(3, 0, 0)));
        assert_eq!("latest".parse::<VersionSelector>().unwrap().to_wire(), "");
        assert!(!VersionSelector::Latest.matches(&Version::parse("2.0.0-rc.1").unwrap()));
        let err = "1.x.y.z".parse::<VersionSelector>().unwrap_err().to_string();
        assert!(err.contains("1.x.y.z"), "{err}");
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
