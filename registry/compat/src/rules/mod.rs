//! The rule registry: every finding Accord can report, with its metadata.
//!
//! Each family file declares its rules with `declare_rules!` (id, verdict under
//! STRICT and LENIENT, kind of change, origin, one-sentence purpose and an
//! example pair) next to the small leaf checks that emit them. The walk that
//! pairs old and new elements lives in `engine.rs`; rules never walk a schema.

use crate::Policy;
use std::sync::OnceLock;

pub(crate) mod annotations;
pub(crate) mod array;
pub(crate) mod combined;
pub(crate) mod enums;
pub mod equivalences;
pub(crate) mod items;
pub(crate) mod limits;
pub(crate) mod number;
pub(crate) mod object;
pub(crate) mod properties;
pub(crate) mod string;
pub(crate) mod types;

/// What a finding changes, which decides the semver bump it requires when it
/// is compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only an annotation changed (title, description, examples...): a patch.
    Annotation,
    /// The set of accepted documents changed: at least a minor bump.
    Validation,
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A difference type of Confluent Schema Registry's JSON Schema checker,
    /// with the same name and path syntax.
    Confluent,
    /// A rule of Accord's own, for a keyword Confluent does not compare.
    Accord,
}

/// The metadata of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RuleInfo {
    /// Stable SCREAMING_SNAKE id, never reused.
    pub id: &'static str,
    /// The family (file) the rule belongs to, e.g. `string`.
    pub family: &'static str,
    /// One sentence: what change the rule reports.
    pub purpose: &'static str,
    /// Whether the change keeps backward compatibility under STRICT.
    pub strict_compatible: bool,
    /// Whether the change keeps backward compatibility under LENIENT.
    pub lenient_compatible: bool,
    /// Annotation-only or a change of the accepted documents.
    pub kind: ChangeKind,
    /// Confluent's difference type or Accord's own rule.
    pub origin: Origin,
    /// An example old schema (JSON text) ...
    pub example_old: &'static str,
    /// ... and the new schema that makes the rule fire when compared with it.
    pub example_new: &'static str,
    /// Where Accord's behaviour differs from Confluent's, and why; empty if it does not.
    pub note: &'static str,
    /// Why a breaking finding of this rule may come without a witness
    /// document; empty when one is always expected.
    pub no_witness: &'static str,
    /// Why documents the old schema accepts may be rejected by the new one
    /// although the rule calls the change compatible (a deliberate agreement
    /// with Confluent); empty when the rule is sound.
    pub unsound: &'static str,
}

impl RuleInfo {
    /// Whether a finding of this rule is compatible under `policy`.
    pub fn compatible(&self, policy: Policy) -> bool {
        match policy {
            Policy::Strict => self.strict_compatible,
            Policy::Lenient => self.lenient_compatible,
        }
    }
}

/// Declares a family's rules as statics plus the family list `ALL`.
macro_rules! declare_rules {
    ($family:literal; $( $name:ident ($strict:literal, $lenient:literal, $kind:ident, $origin:ident)
        $purpose:literal $old:literal => $new:literal $(, note = $note:literal)?
        $(, no_witness = $no_witness:literal)? $(, unsound = $unsound:literal)? ; )* ) => {
        $(
            pub(crate) static $name: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                id: stringify!($name),
                family: $family,
                purpose: $purpose,
                strict_compatible: $strict,
                lenient_compatible: $lenient,
                kind: $crate::rules::ChangeKind::$kind,
                origin: $crate::rules::Origin::$origin,
                example_old: $old,
                example_new: $new,
                note: concat!("" $(, $note)?),
                no_witness: concat!("" $(, $no_witness)?),
                unsound: concat!("" $(, $unsound)?),
            };
        )*
        /// Every rule of this family.
        pub(crate) static ALL: &[&$crate::rules::RuleInfo] = &[ $( &$name ),* ];
    };
}
pub(crate) use declare_rules;

/// Every rule, sorted by id.
pub fn rules() -> &'static [&'static RuleInfo] {
    static SORTED: OnceLock<Vec<&'static RuleInfo>> = OnceLock::new();
    SORTED.get_or_init(|| {
        let families: [&[&'static RuleInfo]; 11] = [
            annotations::ALL,
            array::ALL,
            combined::ALL,
            enums::ALL,
            items::ALL,
            limits::ALL,
            number::ALL,
            object::ALL,
            properties::ALL,
            string::ALL,
            types::ALL,
        ];
        let mut all: Vec<&'static RuleInfo> = families.concat();
        all.sort_by_key(|r| r.id);
        all
    })
}

/// The rule with this id, if there is one.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    let all = rules();
    all.binary_search_by_key(&id, |r| r.id).ok().map(|i| all[i])
}

/// Where the leaf checks of the rule files report what they found: the
/// engine supplies the current paths.
pub(crate) trait Sink {
    /// Records `rule` at the current path, extended by `keyword` when given.
    fn emit(&mut self, rule: &'static RuleInfo, keyword: Option<&str>, message: String);
}

/// Compares an optional numeric bound and emits one of four rules.
/// `ids` are (added, removed, increased, decreased).
pub(crate) fn bound(
    out: &mut dyn Sink,
    keyword: &str,
    old: Option<f64>,
    new: Option<f64>,
    ids: [&'static RuleInfo; 4],
) {
    let [added, removed, increased, decreased] = ids;
    match (old, new) {
        (None, Some(n)) => out.emit(added, Some(keyword), format!("'{keyword}' added: {}", num(n))),
        (Some(o), None) => out.emit(
            removed,
            Some(keyword),
            format!("'{keyword}' removed (was {})", num(o)),
        ),
        (Some(o), Some(n)) if o < n => out.emit(
            increased,
            Some(keyword),
            format!("'{keyword}' increased from {} to {}", num(o), num(n)),
        ),
        (Some(o), Some(n)) if o > n => out.emit(
            decreased,
            Some(keyword),
            format!("'{keyword}' decreased from {} to {}", num(o), num(n)),
        ),
        _ => {}
    }
}

/// A number as a person would write it: no `.0` on integers.
pub(crate) fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
