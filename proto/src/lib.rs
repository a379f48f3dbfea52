//! The `accord.v1` gRPC API of the Accord contract registry.
//!
//! - [`v1`]: messages, the `RegistryService` client and server generated
//!   from `proto/accord/v1/*.proto` at build time (no `protoc` needed).
//! - [`FILE_DESCRIPTOR_SET`]: the encoded descriptors, for gRPC reflection.
//! - [`v1::Bump`], [`v1::CompatibilityMode`] … are plain prost enums.

/// Messages and services of the `accord.v1` package.
#[allow(missing_docs, missing_debug_implementations, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("accord.v1");
}

/// The encoded `FileDescriptorSet` of `accord.v1` (with its imports), for
/// `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/accord_descriptor.bin"));

/// The fully qualified name of the registry service.
pub const SERVICE_NAME: &str = "accord.v1.RegistryService";

/// The rich error model: a refused publish carries a
/// [`v1::CompatibilityViolation`] in the gRPC status details, encoded as a
/// `google.rpc.Status` whose `details` hold it as a `google.protobuf.Any`.
pub mod details {
    use prost::Message;

    use crate::v1::CompatibilityViolation;

    /// The `Any` type URL of [`CompatibilityViolation`].
    pub const VIOLATION_TYPE_URL: &str = "type.googleapis.com/accord.v1.CompatibilityViolation";

    /// `google.rpc.Status`, the envelope of status details.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RpcStatus {
        /// The gRPC code.
        #[prost(int32, tag = "1")]
        pub code: i32,
        /// The message.
        #[prost(string, tag = "2")]
        pub message: String,
        /// Typed details.
        #[prost(message, repeated, tag = "3")]
        pub details: Vec<prost_types::Any>,
    }

    /// A `FAILED_PRECONDITION` status carrying `violation` as its details.
    pub fn violation_status(message: impl Into<String>, violation: &CompatibilityViolation) -> tonic::Status {
        violation_status_with(tonic::Code::FailedPrecondition, message, violation)
    }

    /// A status of `code` carrying `violation` as its details (an
    /// `ALREADY_EXISTS` refusal still says what the change needs).
    pub fn violation_status_with(
        code: tonic::Code,
        message: impl Into<String>,
        violation: &CompatibilityViolation,
    ) -> tonic::Status {
        let message = message.into();
        let envelope = RpcStatus {
            code: code as i32,
            message: message.clone(),
            details: vec![prost_types::Any {
                type_url: VIOLATION_TYPE_URL.to_owned(),
                value: violation.encode_to_vec(),
            }],
        };
        tonic::Status::with_details(code, message, envelope.encode_to_vec().into())
    }

    /// The [`CompatibilityViolation`] carried by `status`, if any.
    pub fn violation_of(status: &tonic::Status) -> Option<CompatibilityViolation> {
        let envelope = RpcStatus::decode(status.details()).ok()?;
        envelope
            .details
            .iter()
            .find(|any| any.type_url == VIOLATION_TYPE_URL)
            .and_then(|any| CompatibilityViolation::decode(any.value.as_slice()).ok())
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::v1::{Bump, Finding};

        #[test]
        fn violation_round_trips_through_status_details() {
            let violation = CompatibilityViolation {
                required_bump: Bump::Major as i32,
                smallest_acceptable_version: "2.0.0".into(),
                findings: vec![Finding {
                    rule_id: "TYPE_CHANGED".into(),
                    old_path: "#/properties/a".into(),
                    ..Finding::default()
                }],
                ..CompatibilityViolation::default()
            };
            let status = violation_status("refused", &violation);
            assert_eq!(status.code(), tonic::Code::FailedPrecondition);
            assert_eq!(violation_of(&status), Some(violation));
            assert_eq!(violation_of(&tonic::Status::not_found("x")), None);
        }
    }
}
