//! Domain errors. Each names the entity it is about; the gRPC adapter maps
//! them to status codes in one exhaustive `match`.

use crate::{
    model::{Decision, NameError},
    store::StoreError,
};

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a name, a version, the JSON, the schema, a page token.
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// The field at fault ("component", "version", "schema"…).
        what: &'static str,
        /// What is wrong and where.
        reason: String,
    },
    /// The entity does not exist (or is soft-deleted).
    #[error("{entity} not found{}", hint.as_deref().map(|h| format!(": {h}")).unwrap_or_default())]
    NotFound {
        /// e.g. `contract orders/order-placed`.
        entity: String,
        /// What to do about it, when there is something to say.
        hint: Option<String>,
    },
    /// A publish refused by the semver policy; carries the whole decision
    /// (a version taken by other content is answered ALREADY_EXISTS, the
    /// other refusals FAILED_PRECONDITION).
    #[error("{}", .0.message)]
    Refused(Box<Decision>),
    /// The operation does not apply to the current state.
    #[error("{entity}: {reason}")]
    FailedPrecondition {
        /// What the operation was about.
        entity: String,
        /// Why it cannot be done now.
        reason: String,
    },
    /// A configured limit was exceeded.
    #[error("{what} exceeds the limit: {actual} > {limit}")]
    LimitExceeded {
        /// e.g. `schema size in bytes`.
        what: &'static str,
        /// The configured limit.
        limit: usize,
        /// What the request had (or at least had).
        actual: usize,
    },
    /// A comparison went over its work budget: the request's deadline
    /// (`--check-time`), a cancellation (the caller left, the server is
    /// stopping), or a bound of the engine on steps, depth or findings.
    #[error(
        "the comparison stopped at its {what} bound ({limit}): the schemas take more work to compare than this registry allows a request (--check-time)"
    )]
    Budget {
        /// Which bound: `deadline`, `cancelled`, `comparison steps`,
        /// `comparison depth`, `findings`.
        what: String,
        /// The bound, in words.
        limit: String,
    },
    /// A schema went over a limit of the engine's parser (size, depth, `$ref` hops).
    #[error("schema refused: {0}")]
    SchemaLimit(#[source] accord_compat::Error),
    /// The registry cannot serve the request now (a replica behind the
    /// sequence asked for, a contract written too often at once, the
    /// database away); the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed; logged, and answered without its details.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// A failure of the server itself (a crashed task); logged, answered
    /// without details.
    #[error("internal failure: {0}")]
    Internal(String),
}

impl Error {
    /// A `NotFound` without a hint.
    pub fn not_found(entity: impl Into<String>) -> Self {
        Error::NotFound {
            entity: entity.into(),
            hint: None,
        }
    }
}

impl Error {
    /// An error of the engine: a budget reached, or a limit of its parser.
    pub fn from_engine(e: accord_compat::Error) -> Self {
        match e {
            accord_compat::Error::Budget { what, limit } => Error::Budget {
                what: what.to_string(),
                limit: limit.to_string(),
            },
            e if e.is_limit() => Error::SchemaLimit(e),
            e => Error::InvalidArgument {
                what: "schema",
                reason: e.to_string(),
            },
        }
    }
}

impl From<NameError> for Error {
    fn from(e: NameError) -> Self {
        Error::InvalidArgument {
            what: e.what,
            reason: e.reason,
        }
    }
}
