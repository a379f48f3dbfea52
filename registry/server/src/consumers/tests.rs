//! The consumer decision on hand-worked examples: each expectation is
//! worked out from the documents the schemas accept, not from the code.

use std::sync::Arc;

use accord_compat::Draft;

use super::*;
use crate::{
    model::{CompatConfig, ReaderSchema, Settings, Tombstone},
    store::Snapshot,
};

/// Closed: only `id`.
const CLOSED: &str =
    r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"}}}"#;
/// The same, with an optional `note`: version to version a compatible change.
const WITH_NOTE: &str = r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"},"note":{"type":"string"}}}"#;
/// Accepts any object.
const OPEN: &str = r#"{"type":"object"}"#;

fn name() -> ContractName {
    ContractName::new("orders", "placed").unwrap()
}

fn fp(text: &str) -> String {
    accord_compat::fingerprint(&serde_json::from_str(text).unwrap())
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

fn record(version: &str, text: &str) -> VersionRecord {
    VersionRecord {
        name: name(),
        version: v(version),
        fingerprint: fp(text),
        created_at: 1,
        bump: None,
        deprecated: None,
        deleted_at: None,
        draft: Some(Draft::D7),
        published_by: "ci".into(),
        erased: None,
    }
}

fn consumer(who: &str, requirement: &str, reader: Option<&str>) -> Consumption {
    Consumption {
        consumer: who.into(),
        contract: name(),
        requirement: requirement.parse().unwrap(),
        reader: reader.map(|text| ReaderSchema {
            text: text.into(),
            fingerprint: fp(text),
            draft: Some(Draft::D7),
        }),
        registered_by: "billing-ci".into(),
        registered_at: 1,
    }
}

fn waiver(id: &str, who: Option<&str>, rules: &[&str], expires_at: i64) -> Waiver {
    Waiver {
        id: id.into(),
        contract: name(),
        consumer: who.map(str::to_owned),
        rules: rules.iter().map(|r| (*r).to_owned()).collect(),
        reason: "billing deploys the new reader on Monday".into(),
        expires_at,
        approver: "ops".into(),
        created_at: 1,
        revoked: None,
        expiry_recorded: false,
    }
}

/// An index with `versions` (version, schema) of orders/placed, its
/// consumers and waivers, and its own settings.
fn index(
    versions: &[(&str, &str)],
    consumers: Vec<Consumption>,
    waivers: Vec<Waiver>,
    settings: Option<Settings>,
) -> Index {
    let mut snapshot = Snapshot {
        consumers,
        waivers,
        ..Snapshot::default()
    };
    for (version, text) in versions {
        snapshot.versions.push(record(version, text));
        snapshot.schemas.push((fp(text), Arc::from(*text)));
    }
    if let Some(settings) = settings {
        snapshot.settings.push((name(), settings));
    }
    Index::from_snapshot(snapshot).unwrap()
}

const NOW: i64 = 1_000_000;

fn decide_at(index: &Index, text: &str, asked: Option<&str>, now: i64) -> Decision {
    let schema = Schema::parse(text).unwrap();
    decide(index, &name(), &schema, &fp(text), asked.map(v), Draft::D7, now).unwrap()
}

fn run(index: &Index, text: &str, asked: Option<&str>) -> Decision {
    decide_at(index, text, asked, NOW)
}

#[test]
fn a_reader_is_judged_on_the_documents_the_version_accepts() {
    let closed = Schema::parse(CLOSED).unwrap();
    let with_note = Schema::parse(WITH_NOTE).unwrap();
    let open = Schema::parse(OPEN).unwrap();
    // {"note": "…"} is accepted by WITH_NOTE and rejected by the closed reader.
    let findings = reading_findings(&closed, &with_note).unwrap();
    assert!(!findings.is_empty());
    let witness = findings
        .iter()
        .find_map(|f| f.witness.clone())
        .expect("a witness");
    assert!(witness.get("note").is_some(), "{witness}");
    assert!(with_note.value().is_object());
    // Every object is read by the open reader; the closed version's
    // documents are all read by the reader that added `note`.
    assert!(reading_findings(&open, &with_note).unwrap().is_empty());
    assert!(reading_findings(&with_note, &closed).unwrap().is_empty());
    // An open reader that types a property rejects documents an open version
    // accepts ({"a": 0}); LENIENT would call that compatible, the consumer
    // check does not.
    let typed = Schema::parse(r#"{"type":"object","properties":{"a":{"type":"string"}}}"#).unwrap();
    assert!(!reading_findings(&typed, &open).unwrap().is_empty());
}

#[test]
fn a_compatible_change_that_breaks_a_closed_reader_is_refused_naming_the_consumer() {
    let index = index(
        &[("1.0.0", CLOSED)],
        vec![
            consumer("billing", "^1", Some(CLOSED)),
            consumer("audit", "^1", Some(OPEN)),
        ],
        vec![],
        None,
    );
    let d = run(&index, WITH_NOTE, None);
    assert_eq!(d.verdict, Verdict::Incompatible, "{}", d.message);
    assert!(d.message.contains("billing (^1)"), "{}", d.message);
    assert!(!d.message.contains("audit"), "{}", d.message);
    // Version to version the change needed a minor bump only.
    assert_eq!(d.required_bump, accord_compat::Bump::Minor);
    // 2.0.0 is what a ^1 consumer does not read.
    assert_eq!(d.smallest_acceptable, v("2.0.0"));
    let billing = d.impacts.iter().find(|i| i.consumer == "billing").unwrap();
    assert_eq!(billing.outcome, ImpactOutcome::Breaks);
    assert!(billing.refuses && billing.reader);
    assert!(billing.findings.iter().all(|f| !f.compatible));
    let audit = d.impacts.iter().find(|i| i.consumer == "audit").unwrap();
    assert_eq!(audit.outcome, ImpactOutcome::Ok);
    // Announced as a major, the ^1 consumers are not affected.
    let d = run(&index, WITH_NOTE, Some("2.0.0"));
    assert_eq!(d.verdict, Verdict::Accepted, "{}", d.message);
    assert!(d.impacts.iter().all(|i| i.outcome == ImpactOutcome::NotAffected));
}

#[test]
fn a_waiver_covers_the_break_until_it_expires_or_is_revoked() {
    let consumers = || vec![consumer("billing", "^1", Some(CLOSED))];
    let index_with = |w: Waiver| index(&[("1.0.0", CLOSED)], consumers(), vec![w], None);
    let covering = index_with(waiver("w-1", Some("billing"), &[], NOW + 1));
    let d = run(&covering, WITH_NOTE, Some("1.1.0"));
    assert_eq!(d.verdict, Verdict::Accepted, "{}", d.message);
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Waived);
    assert_eq!(d.impacts[0].waivers[0].id, "w-1");
    assert!(!d.impacts[0].refuses);
    // At its expiry it covers nothing.
    let d = decide_at(&covering, WITH_NOTE, Some("1.1.0"), NOW + 1);
    assert_eq!(d.verdict, Verdict::Incompatible, "{}", d.message);
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Breaks);
    // Revoked, nor does it.
    let mut revoked = waiver("w-1", Some("billing"), &[], NOW + 1);
    revoked.revoked = Some(Tombstone {
        at: 5,
        by: "ops".into(),
    });
    assert_eq!(
        run(&index_with(revoked), WITH_NOTE, Some("1.1.0")).verdict,
        Verdict::Incompatible
    );
    // A waiver of another consumer, or of another rule, does not cover it.
    let other = index_with(waiver("w-2", Some("shipping"), &[], NOW + 10));
    assert_eq!(
        run(&other, WITH_NOTE, Some("1.1.0")).verdict,
        Verdict::Incompatible
    );
    let rule = index_with(waiver("w-3", None, &["MAX_LENGTH_DECREASED"], NOW + 10));
    assert_eq!(
        run(&rule, WITH_NOTE, Some("1.1.0")).verdict,
        Verdict::Incompatible
    );
    // One for every consumer and the rules that fire does.
    let broken = run(&other, WITH_NOTE, Some("1.1.0"));
    let rules: Vec<&str> = broken.impacts[0]
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    let all = index_with(waiver("w-4", None, &rules, NOW + 10));
    assert_eq!(run(&all, WITH_NOTE, Some("1.1.0")).verdict, Verdict::Accepted);
}

#[test]
fn a_contract_set_to_warn_accepts_and_reports_the_break() {
    let warn = Settings {
        consumer_breaks: Some(ConsumerBreaks::Warn),
        ..Settings::default()
    };
    let index = index(
        &[("1.0.0", CLOSED)],
        vec![consumer("billing", "^1", Some(CLOSED))],
        vec![],
        Some(warn),
    );
    let d = run(&index, WITH_NOTE, None);
    assert_eq!((d.verdict, d.version.clone()), (Verdict::Accepted, v("1.1.0")));
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Breaks);
    assert!(!d.impacts[0].refuses);
}

#[test]
fn without_a_reader_the_version_is_checked_against_the_one_the_consumer_resolves_to() {
    let index = index(
        &[("1.0.0", WITH_NOTE), ("1.1.0", CLOSED), ("2.0.0", OPEN)],
        vec![consumer("billing", "^1", None)],
        vec![],
        None,
    );
    // billing resolves ^1 to 1.1.0 (closed): a version that accepts `note`
    // again breaks it, whatever 1.0.0 said.
    let d = run(&index, WITH_NOTE, Some("1.2.0"));
    assert_eq!(d.impacts[0].against, Some(v("1.1.0")));
    assert!(!d.impacts[0].reader);
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Breaks);
    assert_eq!(d.verdict, Verdict::Incompatible);
    // The same content as what it reads is fine.
    let d = run(&index, CLOSED, Some("1.1.1"));
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Ok, "{}", d.message);
}

#[test]
fn the_smallest_acceptable_version_avoids_broken_consumers_within_a_line_when_it_can() {
    // A ~1.0 consumer reads 1.0.x only: the break is fine as 1.1.0.
    let index = index(
        &[("1.0.0", CLOSED)],
        vec![consumer("billing", "~1.0", Some(CLOSED))],
        vec![],
        None,
    );
    let d = run(&index, WITH_NOTE, Some("1.0.1"));
    assert_eq!(d.verdict, Verdict::VersionTooLow, "{}", d.message);
    assert_eq!(d.smallest_acceptable, v("1.1.0"));
    let d = run(&index, WITH_NOTE, Some("1.1.0"));
    assert_eq!(d.verdict, Verdict::Accepted, "{}", d.message);
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::NotAffected);
}

#[test]
fn a_consumer_without_an_upper_bound_cannot_be_avoided() {
    let index = index(
        &[("1.0.0", CLOSED)],
        vec![consumer("billing", ">=1", Some(CLOSED))],
        vec![],
        None,
    );
    let d = run(&index, WITH_NOTE, Some("2.0.0"));
    assert_eq!(d.verdict, Verdict::Incompatible, "{}", d.message);
    assert!(d.blocked_by_consumers);
    assert!(d.message.contains("waive"), "{}", d.message);
}

#[test]
fn an_idempotent_republish_reports_impacts_but_is_not_refused() {
    let index = index(
        &[("1.0.0", CLOSED), ("1.1.0", WITH_NOTE)],
        vec![consumer("billing", "^1", Some(CLOSED))],
        vec![],
        None,
    );
    let d = run(&index, WITH_NOTE, Some("1.1.0"));
    assert_eq!(d.verdict, Verdict::AlreadyPublished);
    assert_eq!(d.impacts[0].outcome, ImpactOutcome::Breaks);
    assert!(!d.impacts[0].refuses);
}

#[test]
fn upper_bounds_of_requirements() {
    let bound = |r: &str| upper_bound(&r.parse().unwrap()).map(|v| v.to_string());
    assert_eq!(bound("^1.2").as_deref(), Some("2.0.0"));
    assert_eq!(bound("^0.3.1").as_deref(), Some("0.4.0"));
    assert_eq!(bound("^0.0.3").as_deref(), Some("0.0.4"));
    assert_eq!(bound("~1.4").as_deref(), Some("1.5.0"));
    assert_eq!(bound("=1.2.3").as_deref(), Some("1.2.4"));
    assert_eq!(bound("1.*").as_deref(), Some("2.0.0"));
    assert_eq!(bound(">=1, <3").as_deref(), Some("3.0.0"));
    assert_eq!(bound("<=1.2").as_deref(), Some("1.3.0"));
    assert_eq!(bound(">=1"), None);
    assert_eq!(bound("*"), None);
}

#[test]
fn a_reading_is_checked_against_every_live_version_it_would_read() {
    let index = index(
        &[("1.0.0", CLOSED), ("1.1.0", WITH_NOTE), ("2.0.0", OPEN)],
        vec![],
        vec![],
        None,
    );
    let contract = index.contract(&name()).unwrap();
    let closed = Schema::parse(CLOSED).unwrap();
    let check = check_reading(
        contract,
        &name(),
        &"^1".parse().unwrap(),
        Some(&closed),
        Draft::D7,
    )
    .unwrap();
    let versions: Vec<String> = check.checks.iter().map(|c| c.version.to_string()).collect();
    assert_eq!(versions, ["1.0.0", "1.1.0"]);
    assert!(check.checks[0].findings.is_empty());
    assert!(!check.checks[1].findings.is_empty());
    assert!(!check.ok(true));
    assert_eq!(check.resolves_to, Some(v("1.1.0")));
    // Without a reader: 1.1.0, what ^1 resolves to, reads 1.0.0's documents.
    let check = check_reading(contract, &name(), &"^1".parse().unwrap(), None, Draft::D7).unwrap();
    assert!(check.ok(false));
    // Nothing to resolve to: nothing to deploy against.
    let check = check_reading(contract, &name(), &"^7".parse().unwrap(), None, Draft::D7).unwrap();
    assert!(!check.ok(false) && check.checks.is_empty());
}

#[test]
fn a_consumer_is_stranded_only_by_removing_its_last_usable_version() {
    let index = index(
        &[("1.0.0", CLOSED), ("1.1.0", WITH_NOTE), ("2.0.0", OPEN)],
        vec![consumer("billing", "^1", None), consumer("audit", "^2", None)],
        vec![],
        None,
    );
    let contract = index.contract(&name()).unwrap();
    let visible = |r: &VersionRecord| r.is_visible();
    let one = v("1.0.0");
    let eleven = v("1.1.0");
    let two = v("2.0.0");
    assert!(stranded(contract, &[&one], visible).is_empty());
    let left: Vec<&str> = stranded(contract, &[&one, &eleven], visible)
        .iter()
        .map(|c| c.consumer.as_str())
        .collect();
    assert_eq!(left, ["billing"]);
    let left: Vec<&str> = stranded(contract, &[&two], visible)
        .iter()
        .map(|c| c.consumer.as_str())
        .collect();
    assert_eq!(left, ["audit"]);
}

use crate::test_rng::Rng;

/// For random histories, consumers and changes: a refusal names a version
/// that the whole decision (consumers included) then accepts, unless it
/// says that no version avoids the consumers.
#[test]
fn the_suggested_version_is_accepted_with_consumers_too() {
    const SCHEMAS: [&str; 4] = [CLOSED, WITH_NOTE, OPEN, r#"{"type":"string"}"#];
    const REQUIREMENTS: [&str; 6] = ["^1", "~1.1", "^2", "=1.0.0", ">=1, <3", "^0.2"];
    let mut rng = Rng(0xC0_05E5_u64);
    let mut refusals = 0;
    for case in 0..120 {
        let mut versions: Vec<(String, &str)> = Vec::new();
        for _ in 0..rng.below(4) + 1 {
            let version = format!("{}.{}.0", rng.below(3), rng.below(3));
            if versions.iter().all(|(v, _)| *v != version) {
                versions.push((version, SCHEMAS[rng.below(4) as usize]));
            }
        }
        let consumers: Vec<Consumption> = (0..rng.below(3) + 1)
            .map(|i| {
                let reader = (rng.below(2) == 0).then(|| SCHEMAS[rng.below(4) as usize]);
                consumer(&format!("c{i}"), REQUIREMENTS[rng.below(6) as usize], reader)
            })
            .collect();
        let pairs: Vec<(&str, &str)> = versions.iter().map(|(v, s)| (v.as_str(), *s)).collect();
        let index = index(&pairs, consumers, vec![], None);
        let text = SCHEMAS[rng.below(4) as usize];
        let asked =
            (rng.below(2) == 0).then(|| format!("{}.{}.{}", rng.below(4), rng.below(3), rng.below(2)));
        let d = run(&index, text, asked.as_deref());
        if d.is_accepted() || d.blocked_by_consumers {
            continue;
        }
        refusals += 1;
        let smallest = d.smallest_acceptable.to_string();
        let retried = run(&index, text, Some(&smallest));
        assert!(
            retried.is_accepted(),
            "case {case}: {smallest} was suggested ({}) and then refused ({}); versions {pairs:?}, schema {text}, asked {asked:?}",
            d.message,
            retried.message
        );
    }
    assert!(refusals > 20, "only {refusals} refusals");
}

#[test]
fn settings_inherit_what_a_consumer_break_does() {
    let global = CompatConfig {
        consumer_breaks: ConsumerBreaks::Warn,
        ..CompatConfig::default()
    };
    assert_eq!(
        Settings::default().over(global).consumer_breaks,
        ConsumerBreaks::Warn
    );
}
