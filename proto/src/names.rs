//! The registry's names and versions, with the one copy of their rules that
//! the server, the client and the CLI all apply.
//!
//! - [`validate_name`]: a component or contract name — lowercase ASCII
//!   letters, digits, `.`, `_`, `-`; starts with a letter or a digit; at most
//!   [`MAX_NAME_LEN`] bytes.
//! - [`ContractName`]: a validated `component/contract` pair.
//! - [`parse_version`]: an exact SemVer 2.0 version without build metadata.
//! - [`VersionSelector`]: the latest release, an exact version or a semver
//!   requirement; [`VersionSelector::from_wire`] reads what a request
//!   carries, `FromStr` what a person types.

use std::{fmt, str::FromStr};

use semver::{Version, VersionReq};

/// The longest component or contract name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// A name, version or requirement that breaks the registry's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NameError {
    /// The field at fault: `component`, `contract`, `name`, `version` or
    /// `requirement`.
    pub what: &'static str,
    /// The text as given.
    pub text: String,
    /// What is wrong, in a sentence that quotes the text.
    pub reason: String,
}

/// `text` quoted, cut to 64 characters (saying how long it was): errors
/// never echo more than a bounded prefix of what a caller sent.
pub fn quoted(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{:?}… ({} bytes)", &text[..at], text.len()),
        None => format!("{text:?}"),
    }
}

impl NameError {
    fn new(what: &'static str, text: &str, reason: String) -> Self {
        Self {
            what,
            text: text.to_owned(),
            reason,
        }
    }

    /// Whether the error is about a version or a requirement rather than a name.
    pub fn is_version(&self) -> bool {
        matches!(self.what, "version" | "requirement")
    }
}

/// Checks a component or contract name. `what` names the field in the error
/// (`component`, `contract`).
///
/// ```
/// use accord_proto::names::validate_name;
///
/// assert!(validate_name("component", "orders").is_ok());
/// let err = validate_name("component", "Orders").unwrap_err();
/// assert!(err.to_string().contains("must start with a lowercase letter or a digit"));
/// ```
pub fn validate_name(what: &'static str, name: &str) -> Result<(), NameError> {
    let invalid = |reason: String| {
        Err(NameError::new(
            what,
            name,
            format!("{what} name {} {reason}", quoted(name)),
        ))
    };
    let Some(first) = name.bytes().next() else {
        return Err(NameError::new(what, name, format!("{what} name is empty")));
    };
    if name.len() > MAX_NAME_LEN {
        return invalid(format!(
            "is {} bytes long; at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return invalid("must start with a lowercase letter or a digit".into());
    }
    if let Some((at, bad)) = name
        .char_indices()
        .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        return invalid(format!(
            "has {bad:?} at byte {at}; only lowercase ASCII letters, digits, '.', '_' and '-' are allowed"
        ));
    }
    Ok(())
}

/// A contract's full name: the owning component and the contract, written
/// `component/contract` (e.g. `orders/order-placed`). Both parts follow
/// [`validate_name`].
///
/// ```
/// use accord_proto::names::ContractName;
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
    pub fn new(component: impl Into<String>, contract: impl Into<String>) -> Result<Self, NameError> {
        let component = component.into();
        let contract = contract.into();
        validate_name("component", &component)?;
        validate_name("contract", &contract)?;
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
    type Err = NameError;

    /// Parses `component/contract`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((component, contract)) = s.split_once('/') else {
            return Err(NameError::new(
                "name",
                s,
                format!(
                    "{} is not component/contract, e.g. orders/order-placed",
                    quoted(s)
                ),
            ));
        };
        Self::new(component, contract).map_err(|e| NameError {
            text: s.to_owned(),
            reason: format!("{}: {}", quoted(s), e.reason),
            ..e
        })
    }
}

impl serde::Serialize for ContractName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ContractName {
    /// Reads `"component/contract"`, or the `{"component", "contract"}` object
    /// that stores and exports of the first format hold.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            Parts { component: String, contract: String },
        }
        match Form::deserialize(deserializer)? {
            Form::Text(text) => text.parse().map_err(serde::de::Error::custom),
            Form::Parts { component, contract } => {
                Self::new(component, contract).map_err(serde::de::Error::custom)
            }
        }
    }
}

/// Refuses text with whitespace around it. The semver crate tolerates it,
/// but a version is an identifier: `" 1.0.1"` stored or matched as `1.0.1`
/// would make two spellings of one version.
pub fn refuse_surrounding_whitespace(what: &'static str, text: &str) -> Result<(), NameError> {
    if text.trim() != text {
        return Err(NameError::new(
            what,
            text,
            format!(
                "{what} {} has whitespace around it; give it exactly, e.g. \"1.4.0\"",
                quoted(text)
            ),
        ));
    }
    Ok(())
}

/// Parses an exact SemVer 2.0 version. Build metadata is refused: SemVer
/// gives `1.0.0+a` and `1.0.0+b` the same precedence, so two such versions
/// could not be told apart by a requirement.
///
/// ```
/// use accord_proto::names::parse_version;
///
/// assert_eq!(parse_version("1.4.0").unwrap(), semver::Version::new(1, 4, 0));
/// assert!(parse_version("1.4").is_err());
/// assert!(parse_version("1.4.0+build").is_err());
/// ```
pub fn parse_version(text: &str) -> Result<Version, NameError> {
    refuse_surrounding_whitespace("version", text)?;
    let version = Version::parse(text).map_err(|e| {
        NameError::new(
            "version",
            text,
            format!(
                "version {} is not a SemVer 2.0 version (MAJOR.MINOR.PATCH[-PRE]): {e}",
                quoted(text)
            ),
        )
    })?;
    if !version.build.is_empty() {
        return Err(NameError::new(
            "version",
            text,
            format!(
                "version {} has build metadata (+{}); it is not supported",
                quoted(text),
                version.build
            ),
        ));
    }
    Ok(version)
}

/// Parses a semver requirement such as `^1.2`, `~1.4` or `>=1, <3`, exactly
/// as given (no whitespace around it).
pub fn parse_requirement(text: &str) -> Result<VersionReq, NameError> {
    refuse_surrounding_whitespace("requirement", text)?;
    if text.is_empty() {
        return Err(NameError::new(
            "requirement",
            text,
            "the requirement is empty; give one such as ^1.2, ~1.4 or \">=1, <3\"".into(),
        ));
    }
    VersionReq::parse(text).map_err(|e| {
        NameError::new(
            "requirement",
            text,
            format!(
                "{} is not a semver requirement (e.g. ^1.2, ~1.4, \">=1, <3\"): {e}",
                quoted(text)
            ),
        )
    })
}

/// Which version of a contract to fetch.
///
/// Parsed from text: empty or `latest` is the latest release, a full SemVer
/// version (`1.4.0`, `2.0.0-rc.1`) is that exact version, anything else is
/// read as a semver requirement (`^1.2`, `~1.4`, `>=1, <3`).
///
/// ```
/// use accord_proto::names::VersionSelector;
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
    /// Reads the selector a request carries: empty for the latest release,
    /// an exact version, or a requirement; nothing around it.
    pub fn from_wire(text: &str) -> Result<Self, NameError> {
        refuse_surrounding_whitespace("version", text)?;
        if text.is_empty() {
            return Ok(VersionSelector::Latest);
        }
        if let Ok(version) = Version::parse(text) {
            return Ok(VersionSelector::Exact(version));
        }
        VersionReq::parse(text).map(VersionSelector::Requirement).map_err(|e| {
            NameError::new(
                "version",
                text,
                format!(
                    "{} is neither a version nor a semver requirement (e.g. 1.4.0, ^1.2, ~1.4, \">=1, <3\"): {e}",
                    quoted(text)
                ),
            )
        })
    }

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
    type Err = NameError;

    /// Reads what a person typed: surrounding whitespace is ignored and
    /// `latest` names the latest release.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.eq_ignore_ascii_case("latest") {
            return Ok(VersionSelector::Latest);
        }
        Self::from_wire(text).map_err(|e| NameError {
            text: s.to_owned(),
            ..e
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design_rules() {
        for ok in ["orders", "order-placed", "a", "9lives", "x.y_z-1"] {
            assert!(validate_name("contract", ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "Orders", "-x", ".x", "a/b", "a b", "é", long.as_str()] {
            let err = validate_name("contract", bad).expect_err(bad);
            assert!(err.to_string().contains("contract name"), "{err}");
            assert_eq!(err.what, "contract");
        }
        assert!(validate_name("contract", &"a".repeat(64)).is_ok());
        assert!(
            validate_name("contract", &long)
                .unwrap_err()
                .to_string()
                .contains("65 bytes")
        );
    }

    #[test]
    fn contract_names_parse_and_keep_the_whole_text_in_errors() {
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
        ] {
            let err = bad.parse::<ContractName>().unwrap_err();
            assert_eq!(err.text, bad);
        }
    }

    #[test]
    fn contract_names_read_both_stored_forms_and_write_text() {
        let text: ContractName = serde_json::from_str(r#""orders/placed""#).unwrap();
        let parts: ContractName =
            serde_json::from_str(r#"{"component":"orders","contract":"placed"}"#).unwrap();
        assert_eq!(text, parts);
        assert_eq!(serde_json::to_string(&text).unwrap(), r#""orders/placed""#);
        assert!(serde_json::from_str::<ContractName>(r#"{"component":"Orders","contract":"x"}"#).is_err());
    }

    #[test]
    fn versions_are_semver_without_build_metadata_or_whitespace() {
        assert_eq!(parse_version("1.2.3").ok(), Some(Version::new(1, 2, 3)));
        assert!(parse_version("2.0.0-rc.1").is_ok());
        for bad in [
            "",
            "1",
            "1.2",
            "v1.2.3",
            "1.2.3+build",
            "01.2.3",
            " 1.2.3",
            "1.2.3\n",
            "\t1.2.3",
        ] {
            assert!(parse_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selectors_from_the_wire_are_exact_and_from_people_forgiving() {
        assert_eq!(VersionSelector::from_wire("").unwrap(), VersionSelector::Latest);
        assert!(VersionSelector::from_wire(" 1.0.0").is_err());
        assert!(VersionSelector::from_wire("^^1").is_err());
        assert!(VersionSelector::from_wire("latest").is_err());
        assert_eq!(
            " latest ".parse::<VersionSelector>().unwrap(),
            VersionSelector::Latest
        );
        let exact: VersionSelector = "1.4.0".parse().unwrap();
        assert!(exact.matches(&Version::new(1, 4, 0)));
        assert!(!exact.matches(&Version::new(1, 5, 0)));
        let req: VersionSelector = ">=1, <3".parse().unwrap();
        assert!(req.matches(&Version::new(2, 9, 0)));
        assert!(!req.matches(&Version::new(3, 0, 0)));
        assert!(!VersionSelector::Latest.matches(&Version::parse("2.0.0-rc.1").unwrap()));
        let err = "1.x.y.z".parse::<VersionSelector>().unwrap_err().to_string();
        assert!(err.contains("1.x.y.z"), "{err}");
    }

    #[test]
    fn errors_quote_a_bounded_prefix_of_what_was_sent() {
        let huge = "Y".repeat(100_000);
        for err in [
            validate_name("component", &huge).unwrap_err(),
            parse_version(&huge).unwrap_err(),
            VersionSelector::from_wire(&huge).unwrap_err(),
            format!("a/{huge}").parse::<ContractName>().unwrap_err(),
        ] {
            assert!(err.reason.len() < 400, "{} bytes", err.reason.len());
            assert!(err.reason.contains("bytes"), "{}", err.reason);
        }
    }

    #[test]
    fn requirements_must_be_given() {
        assert!(parse_requirement("^1").is_ok());
        assert!(parse_requirement("").is_err());
        assert!(parse_requirement(" ^1").is_err());
        assert!(parse_requirement("^^1").is_err());
    }
}
