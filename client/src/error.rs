//! The one error type of the client, and how gRPC statuses map onto it.

use std::time::Duration;

use accord_compat::Bump;
use semver::Version;

use crate::types::{CompatibilityConfig, Finding, Refusal, Verdict};

/// Everything a call of this crate can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry address is not a valid URL.
    #[error("invalid registry address {url:?}: {reason}")]
    InvalidUrl {
        /// The address given.
        url: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A client setting is not usable.
    #[error("invalid {setting}: {reason}")]
    InvalidSetting {
        /// Which setting.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry could not be reached (connection refused, reset, DNS…),
    /// or it answered UNAVAILABLE.
    #[error("cannot reach the registry at {url}: {message}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// What the transport said.
        message: String,
    },
    /// A call took longer than its deadline.
    #[error("the registry at {url} did not answer within {after:?}")]
    Timeout {
        /// The address called.
        url: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// A component or contract name breaks the naming rules.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The offending name.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A version or requirement could not be parsed.
    #[error("invalid version {version:?}: {reason}")]
    InvalidVersion {
        /// The offending text.
        version: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry refused the request's content (bad schema, name, version…).
    #[error("the registry refused the request: {message}")]
    InvalidArgument {
        /// The registry's explanation.
        message: String,
    },
    /// The contract, version or component does not exist (or is deleted).
    #[error("not found: {message}")]
    NotFound {
        /// The registry's explanation, naming what is missing.
        message: String,
    },
    /// The version exists with different content; versions never change.
    #[error("already exists: {message}")]
    AlreadyExists {
        /// The registry's explanation.
        message: String,
        /// What the change is and needs (findings, required bump, smallest
        /// acceptable version), when the registry sent it.
        refusal: Option<Box<Refusal>>,
    },
    /// A publish was refused because the change needs a bigger version bump
    /// (or the version is not above its line's latest).
    #[error(
        "refused ({verdict}): the change requires a {} bump{}; {} finding(s)",
        crate::types::bump_name(*required_bump),
        smallest_acceptable_version.as_ref().map(|v| format!(", the smallest acceptable version is {v}")).unwrap_or_default(),
        findings.len()
    )]
    Incompatible {
        /// Why it was refused.
        verdict: Verdict,
        /// Every difference found, incompatible ones included.
        findings: Vec<Finding>,
        /// The smallest bump the change requires.
        required_bump: Bump,
        /// The smallest version that would be accepted.
        smallest_acceptable_version: Option<Version>,
        /// The version the schema was compared with.
        predecessor_version: Option<Version>,
        /// The mode and policy the check ran under.
        config: Option<CompatibilityConfig>,
        /// The whole refusal: the fields above, with the registry's sentence
        /// and the versions the schema was checked against.
        details: Box<Refusal>,
    },
    /// FAILED_PRECONDITION without compatibility details.
    #[error("failed precondition: {message}")]
    FailedPrecondition {
        /// The registry's explanation.
        message: String,
    },
    /// The request or the schema is over one of the registry's size limits.
    #[error("over a registry limit: {message}")]
    ResourceExhausted {
        /// Which limit.
        message: String,
    },
    /// No valid credentials were presented.
    #[error("unauthenticated: {message}")]
    Unauthenticated {
        /// The registry's explanation.
        message: String,
    },
    /// The credentials do not allow this call.
    #[error("permission denied: {message}")]
    PermissionDenied {
        /// The registry's explanation.
        message: String,
    },
    /// Any other status the registry answered with.
    #[error("the registry answered {code:?}: {message}")]
    Rpc {
        /// The gRPC code.
        code: tonic::Code,
        /// The registry's message.
        message: String,
    },
    /// The registry sent something this client cannot read.
    #[error("unexpected answer from the registry: {message}")]
    InvalidResponse {
        /// What was wrong with it.
        message: String,
    },
    /// The start-up fetch could get neither a fresh nor a cached copy of
    /// some contracts.
    #[error("cannot get contract(s) {}: {}", contracts.join(", "), reasons.join("; "))]
    ContractsUnavailable {
        /// The contracts missing, as `component/contract@selector`.
        contracts: Vec<String>,
        /// Why each one is missing, in the same order.
        reasons: Vec<String>,
    },
    /// The cache directory could not be read or written.
    #[error("contract cache at {path}: {source}")]
    Cache {
        /// The file or directory involved.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A document does not satisfy a contract.
    #[error("the document does not satisfy {contract}: {}", issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidPayload {
        /// The contract, as `component/contract@version`.
        contract: String,
        /// Every issue, with its place in the document.
        issues: Vec<crate::validate::ValidationIssue>,
    },
    /// A contract's schema could not be compiled into a validator.
    #[error("cannot compile the schema of {contract} into a validator: {message}")]
    InvalidSchema {
        /// The contract, as `component/contract@version`.
        contract: String,
        /// What is wrong with the schema.
        message: String,
    },
}

impl Error {
    /// Whether retrying the same call may succeed: the registry was
    /// unreachable or did not answer in time.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unreachable { .. } | Error::Timeout { .. })
    }

    /// Whether the registry could not be reached at all, so that a cached
    /// copy may stand in.
    pub fn is_unreachable(&self) -> bool {
        self.is_transient()
    }

    /// What the registry found and needs when it refused a publish: the
    /// details of [`Error::Incompatible`], or of an [`Error::AlreadyExists`]
    /// that carries them.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Incompatible { details, .. } => Some((**details).clone()),
            Error::AlreadyExists { refusal, .. } => refusal.as_deref().cloned(),
            _ => None,
        }
    }

    /// Maps a gRPC status from the registry at `url` onto an error, decoding
    /// the compatibility details of a refused publish.
    pub fn from_status(status: tonic::Status, url: &str) -> Self {
        let message = status.message().to_owned();
        let violation = accord_proto::details::violation_of(&status);
        match status.code() {
            tonic::Code::FailedPrecondition => match violation {
                // An undecodable violation is still a refusal: report what
                // could not be read rather than a generic precondition.
                Some(violation) => Self::from_violation(message, violation).unwrap_or_else(|e| e),
                None => Error::FailedPrecondition { message },
            },
            tonic::Code::AlreadyExists => match violation.map(|v| Refusal::from_wire(message.clone(), v)) {
                Some(Err(e)) => e,
                refusal => Error::AlreadyExists {
                    message,
                    refusal: refusal.and_then(Result::ok).map(Box::new),
                },
            },
            tonic::Code::Unavailable => Error::Unreachable {
                url: url.to_owned(),
                message,
            },
            other => Self::from_code(other, message, url),
        }
    }

    /// Maps a bare code and message (as in a batch result) onto an error.
    pub(crate) fn from_code(code: tonic::Code, message: String, url: &str) -> Self {
        match code {
            tonic::Code::NotFound => Error::NotFound { message },
            tonic::Code::InvalidArgument => Error::InvalidArgument { message },
            tonic::Code::AlreadyExists => Error::AlreadyExists {
                message,
                refusal: None,
            },
            tonic::Code::FailedPrecondition => Error::FailedPrecondition { message },
            tonic::Code::ResourceExhausted => Error::ResourceExhausted { message },
            tonic::Code::Unauthenticated => Error::Unauthenticated { message },
            tonic::Code::PermissionDenied => Error::PermissionDenied { message },
            tonic::Code::Unavailable => Error::Unreachable {
                url: url.to_owned(),
                message,
            },
            code => Error::Rpc { code, message },
        }
    }

    fn from_violation(message: String, v: accord_proto::v1::CompatibilityViolation) -> Result<Self, Self> {
        let r = Refusal::from_wire(message, v)?;
        Ok(Error::Incompatible {
            verdict: r.verdict,
            findings: r.findings.clone(),
            required_bump: r.required_bump,
            smallest_acceptable_version: r.smallest_acceptable_version.clone(),
            predecessor_version: r.predecessor_version.clone(),
            config: r.config,
            details: Box::new(r),
        })
    }
}

#[cfg(test)]
mod tests {
    use accord_proto::v1 as pb;

    use super::*;

    #[test]
    fn a_refusal_decodes_into_typed_findings() {
        let violation = pb::CompatibilityViolation {
            checked_against: vec!["1.3.0".into()],
            verdict: pb::Verdict::Incompatible as i32,
            required_bump: pb::Bump::Major as i32,
            smallest_acceptable_version: "2.0.0".into(),
            predecessor_version: "1.3.0".into(),
            config: Some(pb::CompatibilityConfig {
                mode: pb::CompatibilityMode::Backward as i32,
                policy: pb::CompatibilityPolicy::Strict as i32,
                ..Default::default()
            }),
            findings: vec![pb::Finding {
                rule_id: "TYPE_CHANGED".into(),
                old_path: "#/properties/a".into(),
                new_path: "#/properties/a".into(),
                message: "type changed".into(),
                compatible: false,
                direction: pb::Direction::Backward as i32,
                against_version: "1.3.0".into(),
                witness: r#"{"a": 1}"#.into(),
                ..Default::default()
            }],
            consumer_impacts: Vec::new(),
            warnings: Vec::new(),
        };
        let status = accord_proto::details::violation_status("refused", &violation);
        let err = Error::from_status(status, "http://x");
        let Error::Incompatible {
            verdict,
            findings,
            required_bump,
            smallest_acceptable_version,
            predecessor_version,
            config,
            details,
        } = &err
        else {
            panic!("not decoded: {err:?}");
        };
        assert_eq!(details.message, "refused");
        assert_eq!(details.checked_against, vec![Version::new(1, 3, 0)]);
        assert_eq!(&details.findings, findings);
        assert_eq!(*verdict, Verdict::Incompatible);
        assert_eq!(*required_bump, Bump::Major);
        assert_eq!(smallest_acceptable_version, &Some(Version::new(2, 0, 0)));
        assert_eq!(predecessor_version, &Some(Version::new(1, 3, 0)));
        assert_eq!(config.map(|c| c.mode), Some(accord_compat::Mode::Backward));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].against_version, Some(Version::new(1, 3, 0)));
        assert_eq!(findings[0].witness, Some(serde_json::json!({"a": 1})));
        let text = err.to_string();
        assert!(text.contains("major") && text.contains("2.0.0"), "{text}");
    }

    #[test]
    fn a_taken_version_keeps_the_change_it_was_refused_for() {
        let violation = pb::CompatibilityViolation {
            verdict: pb::Verdict::VersionExists as i32,
            required_bump: pb::Bump::Major as i32,
            smallest_acceptable_version: "2.0.0".into(),
            predecessor_version: "1.1.0".into(),
            checked_against: vec!["1.1.0".into()],
            ..pb::CompatibilityViolation::default()
        };
        let status = accord_proto::details::violation_status_with(
            tonic::Code::AlreadyExists,
            "1.1.0 is taken",
            &violation,
        );
        let err = Error::from_status(status, "http://x");
        assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
        let refusal = err.refusal().expect("the details are decoded");
        assert_eq!(refusal.verdict, Verdict::VersionExists);
        assert_eq!(refusal.message, "1.1.0 is taken");
        assert_eq!(refusal.required_bump, Bump::Major);
        assert_eq!(refusal.smallest_acceptable_version, Some(Version::new(2, 0, 0)));
        assert_eq!(refusal.checked_against, vec![Version::new(1, 1, 0)]);
        // Without details it is a plain conflict.
        let plain = Error::from_status(tonic::Status::already_exists("taken"), "u");
        assert!(plain.refusal().is_none());
    }

    #[test]
    fn statuses_map_to_variants_that_name_the_address() {
        let err = Error::from_status(
            tonic::Status::unavailable("connection refused"),
            "http://10.0.0.1:1",
        );
        assert!(err.is_transient());
        assert!(err.to_string().contains("http://10.0.0.1:1"), "{err}");
        let err = Error::from_status(tonic::Status::not_found("orders/x"), "u");
        assert!(matches!(err, Error::NotFound { ref message } if message == "orders/x"));
        assert!(!err.is_transient());
        let plain = Error::from_status(tonic::Status::failed_precondition("no details"), "u");
        assert!(matches!(plain, Error::FailedPrecondition { .. }));
        let err = Error::from_status(tonic::Status::already_exists("v"), "u");
        assert!(matches!(err, Error::AlreadyExists { .. }));
        let err = Error::from_status(tonic::Status::invalid_argument("bad"), "u");
        assert!(matches!(err, Error::InvalidArgument { .. }));
    }
}
