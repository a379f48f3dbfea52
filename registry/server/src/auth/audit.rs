//! The audit log's records: one per write attempt, accepted or refused.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accord_proto::v1 as pb;
use serde::{Deserialize, Serialize};

/// One write attempt, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Microseconds since the Unix epoch.
    pub time_micros: u64,
    /// The token's name; `anonymous` on an open registry, `unauthenticated`
    /// when no valid token came with the call.
    pub principal: String,
    /// The RPC, e.g. `PublishContract`.
    pub action: String,
    /// What it acted on, e.g. `orders/order-placed@1.4.0`, or `global`.
    pub target: String,
    /// Whether the call succeeded.
    pub allowed: bool,
    /// The gRPC status code name (`OK`, `PERMISSION_DENIED`…).
    pub outcome: String,
    /// The refusal's explanation; empty on success.
    pub message: String,
}

/// Microseconds since the Unix epoch of `time` (0 before the epoch).
pub fn micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl AuditRecord {
    /// The API message.
    pub fn to_wire(&self) -> pb::AuditEntry {
        let time = UNIX_EPOCH + Duration::from_micros(self.time_micros);
        pb::AuditEntry {
            time: Some(prost_types::Timestamp::from(time)),
            principal: self.principal.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            allowed: self.allowed,
            outcome: self.outcome.clone(),
            message: self.message.clone(),
        }
    }
}

/// The canonical name of a gRPC status code, as gRPC spells it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
