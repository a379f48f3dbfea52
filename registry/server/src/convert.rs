//! Conversions between the `accord.v1` messages and the domain types, and
//! the one mapping of domain errors to gRPC status codes.

use accord_compat::{Bump, Finding, Mode, Policy};
use accord_proto::{v1 as pb, wire};
use prost::Message as _;
use tonic::Status;

use crate::{
    consumers::{ReadingCheck, VersionCheck},
    error::Error,
    index::ConfigView,
    model::{
        CompatConfig, ConsumerBreaks, ConsumerImpact, Consumption, Decision, Event, EventKind, Found,
        ImpactOutcome, StoredVersion, Verdict, VersionRecord, Waiver, WaiverState, now_millis,
    },
    page::PageRequest,
    service::{
        ComponentSummary, ContractSummary, DiffOutcome, PublishInput, Published, SettingsChange,
        consumers::{ReadingInput, Registered, WaiverInput},
    },
};

/// The longest status message, in characters.
pub const MAX_STATUS_MESSAGE: usize = 4096;

/// The gRPC status of a domain error. Exhaustive, with no catch-all arm, so
/// that a new error forces a decision here.
pub fn status(err: Error) -> Status {
    // A message travels in a header: never more than a bounded size of it,
    // whatever the caller sent.
    let message = crate::page::truncate_to(&err.to_string(), MAX_STATUS_MESSAGE);
    match err {
        Error::InvalidArgument { .. } => Status::invalid_argument(message),
        Error::NotFound { .. } => Status::not_found(message),
        Error::Refused(decision) => {
            // A taken version is ALREADY_EXISTS, as it has always been; the
            // details say what the change needs all the same.
            let code = match decision.verdict {
                Verdict::VersionExists => tonic::Code::AlreadyExists,
                Verdict::Incompatible | Verdict::VersionTooLow => tonic::Code::FailedPrecondition,
                Verdict::Accepted | Verdict::AlreadyPublished => {
                    tracing::error!(verdict = ?decision.verdict, "an accepted decision was refused");
                    return Status::internal("internal failure; the server log has the details");
                }
            };
            accord_proto::details::violation_status_with(code, message, &violation(&decision))
        }
        Error::FailedPrecondition { .. } => Status::failed_precondition(message),
        Error::LimitExceeded { .. } => Status::resource_exhausted(message),
        Error::SchemaLimit(_) => Status::resource_exhausted(message),
        Error::Budget { .. } => Status::resource_exhausted(message),
        Error::Unavailable(_) => Status::unavailable(message),
        Error::Storage(crate::store::StoreError::DiskFull { .. }) => {
            tracing::warn!(error = %message, "a write was refused: the disk is nearly full");
            Status::resource_exhausted(message)
        }
        Error::Storage(crate::store::StoreError::Unavailable(e)) => {
            tracing::warn!(error = %e, "the store is unavailable");
            Status::unavailable(
                "the registry's database cannot be reached; reads are served from memory, retry writes later",
            )
        }
        Error::Storage(e) => {
            tracing::error!(error = %e, "storage failure");
            Status::internal("internal storage failure; the server log has the details")
        }
        Error::Internal(e) => {
            tracing::error!(error = %e, "internal failure");
            Status::internal("internal failure; the server log has the details")
        }
    }
}

/// The domain input of a publish request.
pub fn publish_input(r: &pb::PublishContractRequest) -> PublishInput<'_> {
    PublishInput {
        component: &r.component,
        contract: &r.contract,
        schema: &r.schema,
        version: &r.version,
    }
}

/// The domain input of a check request: the same as a publish.
pub fn check_input(r: &pb::CheckCompatibilityRequest) -> PublishInput<'_> {
    PublishInput {
        component: &r.component,
        contract: &r.contract,
        schema: &r.schema,
        version: &r.version,
    }
}

/// A domain [`Bump`] as the API enum.
pub fn bump(b: Bump) -> pb::Bump {
    wire::bump_to_wire(b)
}

/// An API mode: `None` when unspecified, an error when unknown.
pub fn mode_in(value: i32) -> Result<Option<Mode>, Status> {
    wire::mode_from_wire(value).map_err(|e| Status::invalid_argument(format!("invalid mode: {e}")))
}

/// An API policy: `None` when unspecified, an error when unknown.
pub fn policy_in(value: i32) -> Result<Option<Policy>, Status> {
    wire::policy_from_wire(value).map_err(|e| Status::invalid_argument(format!("invalid policy: {e}")))
}

/// Settings as the API message.
pub fn config(c: CompatConfig) -> pb::CompatibilityConfig {
    pb::CompatibilityConfig {
        mode: wire::mode_to_wire(c.mode) as i32,
        policy: wire::policy_to_wire(c.policy) as i32,
        consumer_breaks: consumer_breaks(c.consumer_breaks) as i32,
    }
}

fn consumer_breaks(b: ConsumerBreaks) -> pb::ConsumerBreaks {
    match b {
        ConsumerBreaks::Refuse => pb::ConsumerBreaks::Refuse,
        ConsumerBreaks::Warn => pb::ConsumerBreaks::Warn,
    }
}

/// An API consumer-breaks setting: `None` when unspecified, an error when unknown.
pub fn consumer_breaks_in(value: i32) -> Result<Option<ConsumerBreaks>, Status> {
    match pb::ConsumerBreaks::try_from(value) {
        Ok(pb::ConsumerBreaks::Unspecified) => Ok(None),
        Ok(pb::ConsumerBreaks::Refuse) => Ok(Some(ConsumerBreaks::Refuse)),
        Ok(pb::ConsumerBreaks::Warn) => Ok(Some(ConsumerBreaks::Warn)),
        Err(_) => Err(Status::invalid_argument(format!(
            "invalid consumer_breaks: unknown value {value}"
        ))),
    }
}

/// The change a settings request asks for.
pub fn settings_change(r: &pb::SetCompatibilityConfigRequest) -> Result<SettingsChange, Status> {
    Ok(SettingsChange {
        mode: mode_in(r.mode)?,
        policy: policy_in(r.policy)?,
        consumer_breaks: consumer_breaks_in(r.consumer_breaks)?,
        clear: r.clear,
    })
}

/// The reason a request forces a consumer guard with, if it does.
pub fn force(force: bool, reason: &str) -> Option<&str> {
    force.then_some(reason)
}

fn verdict(v: Verdict) -> pb::Verdict {
    match v {
        Verdict::Accepted => pb::Verdict::Accepted,
        Verdict::AlreadyPublished => pb::Verdict::AlreadyPublished,
        Verdict::Incompatible => pb::Verdict::Incompatible,
        Verdict::VersionTooLow => pb::Verdict::VersionTooLow,
        Verdict::VersionExists => pb::Verdict::VersionExists,
    }
}

/// Unix milliseconds as a protobuf timestamp.
pub fn timestamp(millis: i64) -> prost_types::Timestamp {
    wire::millis_to_timestamp(millis)
}

/// A finding, with the version it was found against (empty when unknown).
pub fn finding(f: &Finding, against: String) -> pb::Finding {
    pb::Finding {
        rule_id: f.rule.clone(),
        old_path: f.old_path.clone(),
        new_path: f.new_path.clone(),
        message: f.message.clone(),
        compatible: f.compatible,
        direction: wire::direction_to_wire(f.direction) as i32,
        against_version: against,
        witness: f.witness.as_ref().map(ToString::to_string).unwrap_or_default(),
        witness_note: f.witness_note.clone().unwrap_or_default(),
    }
}

fn found(f: &Found) -> pb::Finding {
    finding(&f.finding, f.against.to_string())
}

/// The most bytes the details of a refusal take: they travel in a header
/// (`grpc-status-details-bin`), which HTTP/2 peers bound; a refusal with
/// thousands of findings would otherwise end the connection instead of
/// reaching its caller.
pub const MAX_DETAILS_BYTES: usize = 8 * 1024;

/// The status details of a refused publish, within [`MAX_DETAILS_BYTES`]:
/// when every finding does not fit, the breaking ones come first, as many
/// as fit, and a warning says how many were left out and where to get them
/// all (a check of the same request answers in the body, without bound).
pub fn violation(d: &Decision) -> pb::CompatibilityViolation {
    let mut v = full_violation(d);
    if v.encoded_len() <= MAX_DETAILS_BYTES {
        return v;
    }
    let total = v.findings.len() + v.consumer_impacts.iter().map(|i| i.findings.len()).sum::<usize>();
    let mut findings = std::mem::take(&mut v.findings);
    // Breaking findings first; the order within each kind is kept.
    findings.sort_by_key(|f| f.compatible);
    let mut impact_findings: Vec<Vec<pb::Finding>> = v
        .consumer_impacts
        .iter_mut()
        .map(|i| std::mem::take(&mut i.findings))
        .collect();
    v.warnings.push(String::new());
    let note = |v: &mut pb::CompatibilityViolation, kept: usize| {
        let last = v.warnings.len() - 1;
        v.warnings[last] = format!(
            "this refusal lists {kept} of its {total} findings (its details are bounded):              CheckCompatibility with the same request answers with all of them (accord check)"
        );
    };
    note(&mut v, 0);
    // Thousands of versions checked against (a transitive mode on a long
    // history) do not fit either: the latest are kept, and counted.
    if v.encoded_len() > MAX_DETAILS_BYTES {
        let all = v.checked_against.len();
        let keep = all.min(64);
        v.checked_against.drain(..all - keep);
        v.warnings.insert(
            0,
            format!("checked_against lists the latest {keep} of the {all} versions checked against"),
        );
    }
    let mut kept = 0;
    for f in findings {
        v.findings.push(f);
        note(&mut v, kept + 1);
        if v.encoded_len() > MAX_DETAILS_BYTES {
            v.findings.pop();
            break;
        }
        kept += 1;
    }
    for (at, fs) in impact_findings.iter_mut().enumerate() {
        for f in fs.drain(..) {
            v.consumer_impacts[at].findings.push(f);
            note(&mut v, kept + 1);
            if v.encoded_len() > MAX_DETAILS_BYTES {
                v.consumer_impacts[at].findings.pop();
                break;
            }
            kept += 1;
        }
    }
    note(&mut v, kept);
    v
}

fn full_violation(d: &Decision) -> pb::CompatibilityViolation {
    pb::CompatibilityViolation {
        verdict: verdict(d.verdict) as i32,
        findings: d.findings.iter().map(found).collect(),
        required_bump: bump(d.required_bump) as i32,
        smallest_acceptable_version: smallest(d),
        predecessor_version: d
            .predecessor
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        config: Some(config(d.config)),
        checked_against: versions(&d.checked_against),
        consumer_impacts: impacts(d),
        warnings: d.warnings.clone(),
    }
}

/// The smallest acceptable version of a decision, empty when no version
/// avoids the consumers it breaks.
fn smallest(d: &Decision) -> String {
    if d.blocked_by_consumers {
        String::new()
    } else {
        d.smallest_acceptable.to_string()
    }
}

fn outcome(o: ImpactOutcome) -> pb::ConsumerOutcome {
    match o {
        ImpactOutcome::NotAffected => pb::ConsumerOutcome::NotAffected,
        ImpactOutcome::Ok => pb::ConsumerOutcome::Ok,
        ImpactOutcome::Breaks => pb::ConsumerOutcome::Breaks,
        ImpactOutcome::Waived => pb::ConsumerOutcome::Waived,
    }
}

/// What a decision's version does to each consumer; findings are against
/// that version.
fn impacts(d: &Decision) -> Vec<pb::ConsumerImpact> {
    let now = now_millis();
    d.impacts
        .iter()
        .map(|i: &ConsumerImpact| pb::ConsumerImpact {
            consumer: i.consumer.clone(),
            requirement: i.requirement.to_string(),
            outcome: outcome(i.outcome) as i32,
            reader: i.reader,
            against_version: i.against.as_ref().map(ToString::to_string).unwrap_or_default(),
            findings: i
                .findings
                .iter()
                .map(|f| finding(f, d.version.to_string()))
                .collect(),
            waivers: i.waivers.iter().map(|w| waiver(w, now)).collect(),
            refuses: i.refuses,
        })
        .collect()
}

/// A waiver, in its state at `now`.
pub fn waiver(w: &Waiver, now: i64) -> pb::Waiver {
    let state = match w.state(now) {
        WaiverState::Active => pb::WaiverState::Active,
        WaiverState::Expired => pb::WaiverState::Expired,
        WaiverState::Revoked => pb::WaiverState::Revoked,
    };
    pb::Waiver {
        id: w.id.clone(),
        component: w.contract.component().to_owned(),
        contract: w.contract.contract().to_owned(),
        consumer: w.consumer.clone().unwrap_or_default(),
        rule_ids: w.rules.clone(),
        reason: w.reason.clone(),
        expires_at: Some(timestamp(w.expires_at)),
        approver: w.approver.clone(),
        created_at: Some(timestamp(w.created_at)),
        state: state as i32,
        revoked_by: w.revoked.as_ref().map(|t| t.by.clone()).unwrap_or_default(),
        revoked_at: w.revoked.as_ref().map(|t| timestamp(t.at)),
    }
}

/// A registered consumption, with the version it resolves to and, when
/// asked, its reader schema.
pub fn consumer(c: &Consumption, resolves_to: Option<&semver::Version>, with_reader: bool) -> pb::Consumer {
    let reader = c.reader.as_ref();
    pb::Consumer {
        consumer: c.consumer.clone(),
        component: c.contract.component().to_owned(),
        contract: c.contract.contract().to_owned(),
        requirement: c.requirement.to_string(),
        has_reader: reader.is_some(),
        reader_fingerprint: reader.map(|r| r.fingerprint.clone()).unwrap_or_default(),
        reader_draft: reader
            .and_then(|r| r.draft)
            .map(wire::draft_to_wire)
            .unwrap_or_default()
            .to_owned(),
        registered_by: c.registered_by.clone(),
        registered_at: Some(timestamp(c.registered_at)),
        resolves_to: resolves_to.map(ToString::to_string).unwrap_or_default(),
        reader: if with_reader {
            reader.map(|r| r.text.clone()).unwrap_or_default()
        } else {
            String::new()
        },
    }
}

fn version_check(c: &VersionCheck) -> pb::ConsumerVersionCheck {
    let outcome = if c.findings.is_empty() {
        pb::ConsumerOutcome::Ok
    } else {
        pb::ConsumerOutcome::Breaks
    };
    pb::ConsumerVersionCheck {
        version: c.version.to_string(),
        outcome: outcome as i32,
        findings: c
            .findings
            .iter()
            .map(|f| finding(f, c.version.to_string()))
            .collect(),
    }
}

/// The domain input of a registration.
pub fn reading_input(r: &pb::RegisterConsumerRequest) -> ReadingInput<'_> {
    ReadingInput {
        consumer: &r.consumer,
        component: &r.component,
        contract: &r.contract,
        requirement: &r.requirement,
        reader: &r.reader,
    }
}

/// The reply to a registration.
pub fn registered(r: &Registered, sequence: u64) -> pb::RegisterConsumerResponse {
    pb::RegisterConsumerResponse {
        consumer: Some(consumer(&r.consumption, r.check.resolves_to.as_ref(), false)),
        created: r.created,
        checks: r.check.checks.iter().map(version_check).collect(),
        sequence,
    }
}

/// The reply to a consumer check.
pub fn consumer_checked(check: &ReadingCheck, has_reader: bool) -> pb::CheckConsumerResponse {
    let broken: Vec<String> = check
        .checks
        .iter()
        .filter(|c| !c.findings.is_empty())
        .map(|c| c.version.to_string())
        .collect();
    let count = check.checks.len();
    let message = if !broken.is_empty() {
        format!(
            "the consumer rejects documents of live version(s) {}",
            broken.join(", ")
        )
    } else if check.checks.is_empty() {
        "no live version satisfies the requirement: the consumer has nothing to read yet".to_owned()
    } else if has_reader {
        format!(
            "the reader accepts every document of the {count} live version(s) that satisfy the requirement"
        )
    } else {
        format!(
            "the requirement resolves to {}, which accepts every document of the {count} live version(s) that satisfy it",
            check
                .resolves_to
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    };
    pb::CheckConsumerResponse {
        ok: check.ok(has_reader),
        checks: check.checks.iter().map(version_check).collect(),
        resolves_to: check
            .resolves_to
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        message,
    }
}

/// The domain input of a waiver request; `Err` for a missing expiry, or
/// for a consumer missing or given with `all_consumers`.
pub fn waiver_input(r: &pb::CreateWaiverRequest) -> Result<WaiverInput<'_>, Status> {
    let consumer = match (r.consumer.is_empty(), r.all_consumers) {
        (false, false) => Some(r.consumer.as_str()),
        (true, true) => None,
        (false, true) => {
            return Err(Status::invalid_argument(
                "invalid consumer: give a consumer or all_consumers, not both",
            ));
        }
        (true, false) => {
            return Err(Status::invalid_argument(
                "invalid consumer: a waiver names its consumer, or all_consumers for every consumer",
            ));
        }
    };
    let expires_at = wire::timestamp_to_time(r.expires_at)
        .map(|t| i64::try_from(crate::model::micros(t) / 1000).unwrap_or(i64::MAX))
        .ok_or_else(|| {
            Status::invalid_argument("invalid expires_at: a waiver needs an expiry, a time in the future")
        })?;
    Ok(WaiverInput {
        component: &r.component,
        contract: &r.contract,
        consumer,
        rules: &r.rule_ids,
        reason: &r.reason,
        expires_at,
    })
}

fn versions(list: &[semver::Version]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

/// A version record, without its schema text.
pub fn record(r: &VersionRecord) -> pb::ContractVersion {
    let state = if r.erased.is_some() {
        pb::VersionState::Erased
    } else if r.deleted_at.is_some() {
        pb::VersionState::Deleted
    } else if r.deprecated.is_some() {
        pb::VersionState::Deprecated
    } else {
        pb::VersionState::Active
    };
    pb::ContractVersion {
        component: r.name.component().to_owned(),
        contract: r.name.contract().to_owned(),
        version: r.version.to_string(),
        fingerprint: r.fingerprint.clone(),
        schema: String::new(),
        state: state as i32,
        deprecation_message: r
            .deprecated
            .as_ref()
            .map(|d| d.message.clone())
            .unwrap_or_default(),
        created_at: Some(timestamp(r.created_at)),
        deprecated_at: r.deprecated.as_ref().map(|d| timestamp(d.at)),
        deleted_at: r.deleted_at.map(timestamp),
        bump: r.bump.map_or(pb::Bump::Unspecified, bump) as i32,
        draft: r.draft.map(wire::draft_to_wire).unwrap_or_default().to_owned(),
        published_by: r.published_by.clone(),
        erased_at: r.erased.as_ref().map(|t| timestamp(t.at)),
        erased_by: r.erased.as_ref().map(|t| t.by.clone()).unwrap_or_default(),
    }
}

/// A stored version with its schema text.
pub fn stored(v: &StoredVersion) -> pb::ContractVersion {
    pb::ContractVersion {
        schema: v.schema.to_string(),
        ..record(&v.record)
    }
}

/// The reply to a publish.
pub fn published(p: &Published, sequence: u64) -> pb::PublishContractResponse {
    pb::PublishContractResponse {
        contract: Some(record(&p.version.record)),
        created: p.created,
        predecessor_version: p
            .decision
            .predecessor
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        findings: p.decision.findings.iter().map(found).collect(),
        required_bump: bump(p.decision.required_bump) as i32,
        checked_against: versions(&p.decision.checked_against),
        message: p.decision.message.clone(),
        config: Some(config(p.decision.config)),
        sequence,
        consumer_impacts: impacts(&p.decision),
        warnings: p.decision.warnings.clone(),
    }
}

/// The reply to a check.
pub fn checked(d: &Decision) -> pb::CheckCompatibilityResponse {
    pb::CheckCompatibilityResponse {
        accepted: d.is_accepted(),
        verdict: verdict(d.verdict) as i32,
        message: d.message.clone(),
        findings: d.findings.iter().map(found).collect(),
        required_bump: bump(d.required_bump) as i32,
        smallest_acceptable_version: smallest(d),
        // A refusal without a version has no version: it names the one to
        // announce as the smallest acceptable.
        version: if d.assigned && !d.is_accepted() {
            String::new()
        } else {
            d.version.to_string()
        },
        predecessor_version: d
            .predecessor
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        checked_against: versions(&d.checked_against),
        config: Some(config(d.config)),
        fingerprint: d.fingerprint.clone(),
        consumer_impacts: impacts(d),
        warnings: d.warnings.clone(),
    }
}

/// One result of a batch get.
pub fn batch_result(
    selector: pb::ContractSelector,
    result: Result<StoredVersion, Error>,
) -> pb::BatchGetResult {
    match result {
        Ok(v) => pb::BatchGetResult {
            selector: Some(selector),
            contract: Some(stored(&v)),
            error_code: 0,
            error_message: String::new(),
        },
        Err(e) => {
            let status = status(e);
            pb::BatchGetResult {
                selector: Some(selector),
                contract: None,
                error_code: status.code() as i32,
                error_message: status.message().to_owned(),
            }
        }
    }
}

/// Paging fields of a list request.
pub fn page(page_size: i32, page_token: &str) -> PageRequest {
    PageRequest {
        size: page_size,
        token: page_token.to_owned(),
    }
}

/// A component summary.
pub fn component(c: ComponentSummary) -> pb::ComponentSummary {
    pb::ComponentSummary {
        name: c.name,
        contract_count: c.contract_count,
    }
}

/// A contract summary.
pub fn contract(c: ContractSummary) -> pb::ContractSummary {
    pb::ContractSummary {
        component: c.name.component().to_owned(),
        contract: c.name.contract().to_owned(),
        latest_version: c.latest.map(|v| v.to_string()).unwrap_or_default(),
        version_count: c.version_count,
    }
}

/// The reply to a diff.
pub fn diffed(d: &DiffOutcome, from: &str) -> pb::DiffVersionsResponse {
    pb::DiffVersionsResponse {
        compatible: d.compatible,
        findings: d.findings.iter().map(|f| finding(f, from.to_owned())).collect(),
        required_bump: bump(d.required_bump) as i32,
        config: Some(config(d.config)),
    }
}

/// The reply to a settings read.
pub fn config_view(v: ConfigView) -> pb::GetCompatibilityConfigResponse {
    pb::GetCompatibilityConfigResponse {
        config: Some(config(v.config)),
        inherited: v.inherited,
        mode_inherited: v.mode_inherited,
        policy_inherited: v.policy_inherited,
        consumer_breaks_inherited: v.consumer_breaks_inherited,
    }
}

/// A registry event.
pub fn event(e: &Event) -> pb::Event {
    pb::Event {
        sequence: e.sequence,
        kind: match e.kind {
            EventKind::Published => pb::EventKind::Published,
            EventKind::Deprecated => pb::EventKind::Deprecated,
            EventKind::Deleted => pb::EventKind::Deleted,
            EventKind::Restored => pb::EventKind::Restored,
            EventKind::ConfigChanged => pb::EventKind::ConfigChanged,
            EventKind::ConsumerRegistered => pb::EventKind::ConsumerRegistered,
            EventKind::ConsumerUnregistered => pb::EventKind::ConsumerUnregistered,
            EventKind::WaiverCreated => pb::EventKind::WaiverCreated,
            EventKind::WaiverRevoked => pb::EventKind::WaiverRevoked,
            EventKind::WaiverUsed => pb::EventKind::WaiverUsed,
            EventKind::WaiverExpired => pb::EventKind::WaiverExpired,
        } as i32,
        time: Some(timestamp(e.time)),
        component: e.component.clone(),
        contract: e.contract.clone(),
        version: e.version.clone(),
        fingerprint: e.fingerprint.clone(),
        message: e.message.clone(),
        config: e.config.map(config),
        hard: e.hard,
        consumer: e.consumer.clone(),
        waiver_id: e.waiver.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_are_invalid_arguments() {
        assert_eq!(mode_in(0).unwrap(), None);
        assert_eq!(mode_in(3).unwrap(), Some(Mode::BackwardTransitive));
        assert_eq!(mode_in(99).unwrap_err().code(), tonic::Code::InvalidArgument);
        assert_eq!(policy_in(2).unwrap(), Some(Policy::Lenient));
        assert_eq!(policy_in(-4).unwrap_err().code(), tonic::Code::InvalidArgument);
    }

    fn breaking(i: usize) -> Found {
        Found {
            against: semver::Version::new(1, 0, 0),
            finding: Finding {
                rule: "MAX_LENGTH_DECREASED".into(),
                old_path: format!("#/properties/p{i}/maxLength"),
                new_path: format!("#/properties/p{i}/maxLength"),
                message: format!("maxLength of p{i} decreased from 10 to 9"),
                compatible: false,
                direction: accord_compat::Direction::Backward,
                against: Some(0),
                witness: Some(serde_json::json!({ format!("p{i}"): "0123456789" })),
                witness_note: None,
            },
        }
    }

    fn refused_with(findings: Vec<Found>, checked: usize) -> Decision {
        Decision {
            verdict: Verdict::Incompatible,
            message: "breaks readers".into(),
            version: semver::Version::new(1, 1, 0),
            assigned: false,
            warnings: Vec::new(),
            predecessor: Some(semver::Version::new(1, 0, 0)),
            declared_bump: Some(Bump::Minor),
            required_bump: Bump::Major,
            checked_against: (0..checked)
                .map(|p| semver::Version::new(1, 0, p as u64))
                .collect(),
            findings,
            smallest_acceptable: semver::Version::new(2, 0, 0),
            config: CompatConfig::default(),
            fingerprint: "f".repeat(64),
            impacts: Vec::new(),
            blocked_by_consumers: false,
        }
    }

    #[test]
    fn a_refusal_with_thousands_of_findings_fits_its_header_and_says_what_it_left_out() {
        let mut findings: Vec<Found> = (0..2000).map(breaking).collect();
        // A compatible finding first: the breaking ones still come first.
        findings[0].finding.compatible = true;
        let v = violation(&refused_with(findings, 1));
        assert!(v.encoded_len() <= MAX_DETAILS_BYTES, "{}", v.encoded_len());
        assert!(!v.findings.is_empty());
        assert!(
            v.findings.iter().all(|f| !f.compatible),
            "breaking findings first"
        );
        assert_eq!(v.findings[0].old_path, "#/properties/p1/maxLength");
        let said = format!("lists {} of its 2000 findings", v.findings.len());
        assert!(v.warnings.iter().any(|w| w.contains(&said)), "{:?}", v.warnings);
        // The status made of it reaches the caller whole.
        let status = status(Error::Refused(Box::new(refused_with(
            (0..2000).map(breaking).collect(),
            1,
        ))));
        let details = accord_proto::details::violation_of(&status).expect("details");
        assert_eq!(details.findings.len(), v.findings.len());
    }

    #[test]
    fn a_refusal_that_fits_is_sent_whole() {
        let v = violation(&refused_with((0..3).map(breaking).collect(), 3));
        assert_eq!(v.findings.len(), 3);
        assert_eq!(v.checked_against.len(), 3);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn thousands_of_versions_checked_against_are_cut_to_the_latest() {
        let v = violation(&refused_with((0..2).map(breaking).collect(), 5000));
        assert!(v.encoded_len() <= MAX_DETAILS_BYTES, "{}", v.encoded_len());
        assert_eq!(v.checked_against.len(), 64);
        assert_eq!(v.checked_against.last().map(String::as_str), Some("1.0.4999"));
        assert_eq!(v.findings.len(), 2, "{:?}", v.warnings);
        assert!(
            v.warnings.iter().any(|w| w.contains("latest 64 of the 5000")),
            "{:?}",
            v.warnings
        );
    }

    #[test]
    fn storage_details_do_not_leak() {
        let status = status(Error::Storage(crate::store::StoreError::Engine(
            "/secret/path: io".into(),
        )));
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("secret"), "{}", status.message());
    }
}
