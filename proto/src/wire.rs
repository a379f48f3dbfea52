//! Conversions between the engine's vocabulary ([`Bump`], [`Mode`],
//! [`Policy`], [`Direction`], [`Draft`]) and the API enums, and between
//! times and protobuf timestamps: the one copy that the server and the
//! client share.
//!
//! Reading is strict: an unknown or unspecified value is an error (or
//! `None` where the API gives unspecified a meaning), never a silent default.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accord_compat::{Bump, Direction, Draft, Mode, Policy};

use crate::v1 as pb;

/// A wire value the reader does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} value {value}")]
pub struct UnknownValue {
    /// Which enum (`bump`, `compatibility mode`…).
    pub what: &'static str,
    /// The value received.
    pub value: i32,
}

fn unknown(what: &'static str, value: i32) -> UnknownValue {
    UnknownValue { what, value }
}

/// A [`Bump`] as its wire value.
pub fn bump_to_wire(b: Bump) -> pb::Bump {
    match b {
        Bump::None => pb::Bump::None,
        Bump::Patch => pb::Bump::Patch,
        Bump::Minor => pb::Bump::Minor,
        Bump::Major => pb::Bump::Major,
    }
}

/// A wire bump; unspecified is `None`.
pub fn bump_from_wire(value: i32) -> Result<Option<Bump>, UnknownValue> {
    match pb::Bump::try_from(value) {
        Ok(pb::Bump::Unspecified) => Ok(None),
        Ok(pb::Bump::None) => Ok(Some(Bump::None)),
        Ok(pb::Bump::Patch) => Ok(Some(Bump::Patch)),
        Ok(pb::Bump::Minor) => Ok(Some(Bump::Minor)),
        Ok(pb::Bump::Major) => Ok(Some(Bump::Major)),
        Err(_) => Err(unknown("bump", value)),
    }
}

/// A [`Mode`] as its wire value.
pub fn mode_to_wire(m: Mode) -> pb::CompatibilityMode {
    use pb::CompatibilityMode as M;
    match m {
        Mode::None => M::None,
        Mode::Backward => M::Backward,
        Mode::BackwardTransitive => M::BackwardTransitive,
        Mode::Forward => M::Forward,
        Mode::ForwardTransitive => M::ForwardTransitive,
        Mode::Full => M::Full,
        Mode::FullTransitive => M::FullTransitive,
    }
}

/// A wire mode; unspecified is `None`.
pub fn mode_from_wire(value: i32) -> Result<Option<Mode>, UnknownValue> {
    use pb::CompatibilityMode as M;
    match M::try_from(value) {
        Ok(M::Unspecified) => Ok(None),
        Ok(M::None) => Ok(Some(Mode::None)),
        Ok(M::Backward) => Ok(Some(Mode::Backward)),
        Ok(M::BackwardTransitive) => Ok(Some(Mode::BackwardTransitive)),
        Ok(M::Forward) => Ok(Some(Mode::Forward)),
        Ok(M::ForwardTransitive) => Ok(Some(Mode::ForwardTransitive)),
        Ok(M::Full) => Ok(Some(Mode::Full)),
        Ok(M::FullTransitive) => Ok(Some(Mode::FullTransitive)),
        Err(_) => Err(unknown("compatibility mode", value)),
    }
}

/// A [`Policy`] as its wire value.
pub fn policy_to_wire(p: Policy) -> pb::CompatibilityPolicy {
    match p {
        Policy::Strict => pb::CompatibilityPolicy::Strict,
        Policy::Lenient => pb::CompatibilityPolicy::Lenient,
    }
}

/// A wire policy; unspecified is `None`.
pub fn policy_from_wire(value: i32) -> Result<Option<Policy>, UnknownValue> {
    match pb::CompatibilityPolicy::try_from(value) {
        Ok(pb::CompatibilityPolicy::Unspecified) => Ok(None),
        Ok(pb::CompatibilityPolicy::Strict) => Ok(Some(Policy::Strict)),
        Ok(pb::CompatibilityPolicy::Lenient) => Ok(Some(Policy::Lenient)),
        Err(_) => Err(unknown("compatibility policy", value)),
    }
}

/// A [`Direction`] as its wire value.
pub fn direction_to_wire(d: Direction) -> pb::Direction {
    match d {
        Direction::Backward => pb::Direction::Backward,
        Direction::Forward => pb::Direction::Forward,
    }
}

/// A wire direction; unspecified is an error.
pub fn direction_from_wire(value: i32) -> Result<Direction, UnknownValue> {
    match pb::Direction::try_from(value) {
        Ok(pb::Direction::Backward) => Ok(Direction::Backward),
        Ok(pb::Direction::Forward) => Ok(Direction::Forward),
        _ => Err(unknown("direction", value)),
    }
}

/// The draft a stored version was read under, as the API writes it: the
/// draft's meta-schema URI.
pub fn draft_to_wire(d: Draft) -> &'static str {
    match d {
        Draft::D4 => "http://json-schema.org/draft-04/schema#",
        Draft::D6 => "http://json-schema.org/draft-06/schema#",
        Draft::D7 => "http://json-schema.org/draft-07/schema#",
        Draft::D2019 => "https://json-schema.org/draft/2019-09/schema",
        Draft::D2020 => "https://json-schema.org/draft/2020-12/schema",
    }
}

/// A draft from the API: empty is `None` (a registry that did not record it).
pub fn draft_from_wire(text: &str) -> Result<Option<Draft>, accord_compat::UnknownDraft> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some)
}

/// Unix milliseconds as a protobuf timestamp.
pub fn millis_to_timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        // Always in 0..1e9, so the cast cannot truncate.
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// A time as a protobuf timestamp (the epoch for earlier times).
pub fn time_to_timestamp(t: SystemTime) -> prost_types::Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

/// A protobuf timestamp as a time; `None` when absent or before the epoch.
pub fn timestamp_to_time(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    let t = t?;
    let secs = u64::try_from(t.seconds).ok()?;
    let nanos = u32::try_from(t.nanos).ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_milliseconds() {
        let t = millis_to_timestamp(1_500);
        assert_eq!((t.seconds, t.nanos), (1, 500_000_000));
        let t = millis_to_timestamp(-1);
        assert_eq!((t.seconds, t.nanos), (-1, 999_000_000));
        let back = timestamp_to_time(Some(millis_to_timestamp(1_500))).unwrap();
        assert_eq!(back, UNIX_EPOCH + Duration::from_millis(1_500));
    }

    #[test]
    fn enums_round_trip_and_unknown_values_are_errors() {
        for mode in Mode::ALL {
            assert_eq!(mode_from_wire(mode_to_wire(mode) as i32), Ok(Some(mode)));
        }
        assert_eq!(mode_from_wire(0), Ok(None));
        assert_eq!(mode_from_wire(99).unwrap_err().value, 99);
        for policy in [Policy::Strict, Policy::Lenient] {
            assert_eq!(policy_from_wire(policy_to_wire(policy) as i32), Ok(Some(policy)));
        }
        assert!(policy_from_wire(-4).is_err());
        for bump in [Bump::None, Bump::Patch, Bump::Minor, Bump::Major] {
            assert_eq!(bump_from_wire(bump_to_wire(bump) as i32), Ok(Some(bump)));
        }
        assert!(direction_from_wire(0).is_err());
        for draft in [Draft::D4, Draft::D6, Draft::D7, Draft::D2019, Draft::D2020] {
            assert_eq!(draft_from_wire(draft_to_wire(draft)), Ok(Some(draft)));
        }
        assert_eq!(draft_from_wire(""), Ok(None));
        assert_eq!(direction_from_wire(2), Ok(Direction::Forward));
    }
}
