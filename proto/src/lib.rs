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
