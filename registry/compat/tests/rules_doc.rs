//! `docs/rules.md` is generated from the rule registry; this test fails when
//! the file is stale. Regenerate with `ACCORD_BLESS=1 cargo test -p
//! accord-compat --test rules_doc`.

use accord_compat::{ChangeKind, Origin, equivalences, rules};
use std::fmt::Write;
use std::path::PathBuf;

const INTRO: &str = r#"# Compatibility rules

<!-- Generated from the rule registry (registry/compat/src/rules/) by
     registry/compat/tests/rules_doc.rs; do not edit by hand. -->

Accord compares two JSON Schema documents and reports each difference as a
finding of one of the rules below. A finding names the rule, the place in the
old and the new schema (Confluent's path syntax, `#/properties/a/maxLength`),
says what changed, and whether it keeps **backward** compatibility: a reader
using the new schema accepts every document the old one accepted. FORWARD
runs the same comparison with the two schemas swapped; FULL runs both.

## Policies

The rule table follows Confluent Schema Registry's JSON Schema checker, with
its two policies:

- **STRICT** (the default) treats an object without `additionalProperties:
  false` as *open*: any property may appear with any value, so adding a typed
  property, or narrowing `additionalProperties`, can reject documents the old
  schema accepted.
- **LENIENT** accepts those open-content-model edits (eight rules, marked
  below), trusting that producers only send the properties they declare.

## Required version bump

- `major`: a finding is incompatible under the contract's mode and policy;
- `minor`: every finding is compatible, and one changes the accepted
  documents (kind *validation* below);
- `patch`: only annotations changed (kind *annotation*: `title`,
  `description`, `default`, `$id`, `examples`, `$comment`, `deprecated`,
  `readOnly`, `writeOnly`, `content*`, and keywords no draft defines).
  `default` counts as an annotation because validation never reads it; rules
  that look at defaults (a new required property *with* a default) are
  validation rules of their own;
- `none`: no finding. A document may still differ in ways that change
  nothing: an unused definition, key order, an inlined `$ref`.

## How schemas are read

- `$schema` picks the draft (4, 6, 7, 2019-09, 2020-12); without it a schema
  is read as draft-07, as Confluent does (a `$schema` Accord does not know
  is read so too, with a warning, unless the caller asks for strictness).
  Every draft's forms are read into one, and a keyword equal to its default
  is read as absent: the table *One meaning, several spellings* below lists
  them, so that moving a schema from draft-04 to 2020-12 changes nothing.
  Numeric bounds are compared by what they let through, whatever keyword
  spells them (on integers, `exclusiveMaximum: 10` is `maximum: 9`), and
  `multipleOf` in exact decimal (0.1 is a multiple of 0.01: a change from
  0.01 to 0.1 is breaking, from 0.1 to 0.01 is not).
- Like Confluent, a schema with keywords of several kinds (`type` with
  `enum`, `properties` with `allOf`...) is compared as an `allOf` of one part
  per kind; `type: [a, b]` is an `anyOf`; without `type`, the kind comes from
  the keywords present. Repeated subschemas of `allOf`/`anyOf`/`oneOf` count
  once, and subschemas are paired by a maximum matching regardless of order.
  The paths of those made-up parts name the keyword itself (`#/enum`), where
  Confluent's name an `allOf` the document does not have (`#/allOf/1/enum`),
  so that every path points at a place in the schema file. When both
  versions have parts of the same kinds, the parts pair by kind and what
  changed inside them is reported where it is (`ENUM_ARRAY_NARROWED` at
  `#/enum`, not an unmatched subschema). A one-element `allOf`, `anyOf` or
  `oneOf` is its element, and what changed in it is reported there
  (`#/oneOf/0/minimum`), as is what changed in the alternative of a new
  `anyOf`/`oneOf` that still accepts the old documents. A schema compared with a new `allOf` must meet
  every part: each part is compared with it and its findings reported at
  the part (a `not` or an `enum` that joins a `type` says so), rather than
  one type change at the top; an old `allOf` compared with a plain schema
  reports what its part of the same kind breaks. Annotations next to a
  schema that becomes (or stops being) a combined schema are compared with
  those next to the other, not with those of its parts.
- A schema that becomes one of another kind is still judged by the
  documents it accepted, where Accord can tell: listed values (`enum`,
  `const`, `boolean`, `null`, or an `anyOf`/`oneOf` of them) are checked
  one by one against the new schema (`enum: ["a", "b"]` to `type: string`
  is `TYPE_EXTENDED`; a value now rejected is named, and shown); an old
  `anyOf`/`oneOf` is kept when the new schema accepts each alternative, and
  several old alternatives may fit one new alternative; a `oneOf` whose
  alternatives exclude each other (other types, other listed values, a
  required property with values that differ) is compared as their `anyOf`;
  a `not` of other types lets every old document through, and so does an
  `if`/`then`/`else` added next to a schema whose documents all meet both
  branches; `{}`, `true`, a
  `type` list of every type and keywords that constrain nothing all accept
  every value, and `not` of everything is `false`. Otherwise a change of
  kind is `TYPE_CHANGED`, breaking.
- `$ref` is followed inside the document (`#`, JSON pointers,
  `definitions`/`$defs`, `$id`-anchored, `$anchor`), so inlining a definition
  is no change. Recursive schemas terminate: a pair of schemas met again
  while being compared counts as equal. A reference outside the document is
  an error when the schema is read; Accord never fetches anything. Before
  2019-09, validation keywords next to a `$ref` are ignored, as those drafts
  say; from 2019-09 on they are compared. In every draft, annotations
  written next to a `$ref` (a `description`, say) are compared at that
  place, over those of the target. Each pair of schemas reached through
  `$ref` is compared once, however many places reach it, and what changed
  inside it is reported once, at the shortest path that reaches it (the
  first in path order among those as short), where the smallest document
  shows it; a place that reaches it is still incompatible when it is.
- The forward comparison is the backward one with the two versions
  swapped: its rule ids name the change from the new version back to the
  old one, and its messages start by saying so.

## Keywords Confluent does not compare

Accord decides each from its validation semantics, so that no change to the
accepted documents goes unreported:

| keyword | decision |
|---|---|
| `format` | an assertion (the stricter reading the drafts allow): `FORMAT_ADDED`, `FORMAT_CHANGED` break, `FORMAT_REMOVED` does not |
| `contains` | `CONTAINS_ADDED` breaks, `CONTAINS_REMOVED` does not; changes inside are compared like any schema (path `contains`); `minContains` is 1 wherever `contains` applies |
| `propertyNames` | `PROPERTY_NAMES_ADDED` breaks, `PROPERTY_NAMES_REMOVED` does not; changes inside are compared like any schema |
| `patternProperties` | used, as Confluent does, to decide whether an added or removed property is covered; its own edits are `PATTERN_PROPERTY_*` rules, and entries in both versions are compared like any schema |
| `if` / `then` / `else` | with the same `if`, `then` and `else` are compared like any schema (a missing branch is `true`); another `if` is `CONDITION_CHANGED`, breaking. Adding a conditional to a schema is a `TYPE_CHANGED` and removing one a `PRODUCT_TYPE_NARROWED`, like any other part |
| `const` | compared with `const` as Confluent does, and with `enum` by value (`ENUM_ARRAY_*`) |
| `unevaluatedProperties` | the `UNEVALUATED_PROPERTIES_*` rules, mirroring `additionalProperties`; it also opens or closes the content model |
| `contentEncoding`, `contentMediaType`, `contentSchema` | annotations (2019-09 made them non-asserting): `ANNOTATION_CHANGED` |
| `examples`, `$comment`, `deprecated`, `readOnly`, `writeOnly`, unknown keywords | annotations: `ANNOTATION_CHANGED` |
| `required` of a name not both versions define | `REQUIRED_NAME_ADDED` breaks (objects without the name are rejected), `REQUIRED_NAME_REMOVED` does not; Confluent reports nothing and calls the change compatible |
| `oneOf` | like `anyOf`, and besides: a `oneOf` that gains or widens an alternative is `ONE_OF_OVERLAP` (breaking) unless its alternatives exclude each other (other JSON types, other listed values, or one required property with values that exclude each other), since a document matching two alternatives is rejected |

## Bounds on hostile input

Reading a schema enforces a size limit (4 MiB), a nesting limit (64) and a
limit on `$ref`-to-`$ref` chains (32), each configurable (`Limits`); a cycle
of `$ref`s that never reaches a schema is an error. The comparison is
linear or n log n in the size of the schemas (`enum`s compared as sets,
many property names matched against many `patternProperties` at once), and
bounded: pairs of subschemas compared and findings made (500,000 steps),
nesting (200 levels), findings (100,000). A caller can also give it a
deadline and a cancellation flag (`check_with`, `Options`, `Budget`). The
plain `check` and `diff` answer a comparison that reaches a bound with the
conservative finding `COMPARISON_LIMIT_EXCEEDED`; `check_with` and
`diff_with` answer `Error::Budget`, naming the bound, which a registry
turns into `RESOURCE_EXHAUSTED`.

## Sound first

A *compatible* verdict is never looser than the documents the schemas
accept: where a rule of Confluent's calls compatible a change that rejects
documents the old schema accepted, Accord reports the break. Those rules
say so below (a required property that has a `default` is still required:
validation never fills defaults in), and
`registry/compat/tests/known-differences.md` lists the corpus cases where
Accord's verdict differs from Confluent's, each with a document that shows
the break. Accord may be stricter than the documents only where Confluent
deliberately is (the open content model under STRICT) and where it cannot
decide (a changed `pattern`, a changed `if`).

The converse is checked too: for pairs the engine calls compatible,
documents the old schema accepts are generated and the new schema must
accept them all (`tests/soundness.rs`). A rule marked *compatible by
agreement with Confluent, not by proof* would excuse a counterexample
rejected under its own finding's path; no rule is marked so.

## Witnesses

Each breaking finding carries, when one can be built, a *witness*: a small
document that the reader's old view accepts and the new one rejects (for a
backward finding: the old schema accepts it, the new one rejects it; for a
forward finding the other way round), and that the new view rejects **only
at or under the finding's own path** (for a property or a tuple item, also
at its object's `required` naming it when the finding is about the
property being there, or the `additionalProperties` / `additionalItems`
that now refuses it). Around the finding's place the
witness holds what both schemas require, with values both accept, so that
when one change breaks several things each finding shows its own: a
witness is never rejected where another finding under this one's path is
(a `type` narrowed beside an added `minimum` shows a value that only the
type refuses), and a finding about a property's value never shows an
object that merely lacks the property. Every
witness is checked with a JSON Schema validator before it is shown, its
error locations included. A finding without one says why in its
`witness_note`: no document shows this break alone (and where documents are
also rejected), none could be built, or the time for witness search (200
ms per call by default, cheapest findings first) was spent; the report
counts the findings left without a witness for lack of time. A witness
that the new view rejects only for a `format` (which Accord asserts) says
so in its `witness_note`, since most validators do not assert `format` by
default. The rules
below that say *may come without a witness* are those where Confluent's
checker, which Accord follows, reports a change that can leave the accepted
documents unchanged.

"#;

fn yes(b: bool) -> &'static str {
    if b { "compatible" } else { "**breaking**" }
}

fn generate() -> String {
    let mut out = String::from(INTRO);
    out.push_str(
        "## One meaning, several spellings\n\n\
         Each pair below accepts the same documents: the engine reads both \
         spellings into one form, so a change from one to the other gives no \
         finding (and a test checks each pair with a JSON Schema validator).\n\n\
         | meaning | one spelling | the same meaning |\n|---|---|---|\n",
    );
    for e in equivalences() {
        let _ = writeln!(out, "| {} | `{}` | `{}` |", e.meaning, e.one, e.other);
    }
    out.push_str("\n## Rules\n");
    out.push_str("\n| rule | STRICT | LENIENT | kind | origin |\n|---|---|---|---|---|\n");
    for r in rules() {
        let _ = writeln!(
            out,
            "| [`{id}`](#{anchor}) | {} | {} | {} | {} |",
            yes(r.strict_compatible),
            yes(r.lenient_compatible),
            match r.kind {
                ChangeKind::Annotation => "annotation",
                ChangeKind::Validation => "validation",
            },
            match r.origin {
                Origin::Confluent => "Confluent",
                Origin::Accord => "Accord",
            },
            id = r.id,
            anchor = r.id.to_lowercase(),
        );
    }
    for r in rules() {
        let _ = writeln!(out, "\n### {}\n\n{}\n", r.id, r.purpose);
        let _ = writeln!(
            out,
            "- STRICT: {}; LENIENT: {}.",
            yes(r.strict_compatible),
            yes(r.lenient_compatible)
        );
        let _ = writeln!(out, "- Family: `{}`.", r.family);
        if !r.example_old.is_empty() {
            let _ = writeln!(out, "- Example: `{}` → `{}`", r.example_old, r.example_new);
        }
        if !r.note.is_empty() {
            let _ = writeln!(out, "- Differs from Confluent: {}", r.note);
        }
        if !r.no_witness.is_empty() {
            let _ = writeln!(out, "- May come without a witness: {}", r.no_witness);
        }
        if !r.unsound.is_empty() {
            let _ = writeln!(
                out,
                "- Compatible by agreement with Confluent, not by proof: {}",
                r.unsound
            );
        }
    }
    out
}

#[test]
fn docs_rules_md_is_generated_from_the_registry() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let fresh = generate();
    if std::env::var("ACCORD_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("docs/rules.md is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "docs/rules.md is stale; regenerate it with \
         `ACCORD_BLESS=1 cargo test -p accord-compat --test rules_doc`"
    );
    for r in rules() {
        assert!(
            on_disk.contains(&format!("### {}", r.id)),
            "{} is documented",
            r.id
        );
    }
}
