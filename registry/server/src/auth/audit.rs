//! The audit log's records: one per write attempt, accepted or refused.

use std::time::{Duration, UNIX_EPOCH};

use accord_proto::v1 as pb;

pub use crate::model::{AuditRecord, micros};

/// The API message of an audit record.
pub fn to_wire(record: &AuditRecord) -> pb::AuditEntry {
    let time = UNIX_EPOCH + Duration::from_micros(record.time_micros);
    pb::AuditEntry {
        time: Some(prost_types::Timestamp::from(time)),
        principal: record.principal.clone(),
        action: record.action.clone(),
        target: record.target.clone(),
        allowed: record.allowed,
        outcome: record.outcome.clone(),
        message: record.message.clone(),
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
