//! The normalised form the engine compares: every draft's keyword forms read
//! once into one arena of nodes, `$ref`s resolved to node ids.
//!
//! The shape follows the way Confluent's checker models a schema, because its
//! findings (and their paths) depend on it: a schema with keywords of several
//! kinds (`type` plus `enum`, `allOf` plus `properties`...) is a synthetic
//! `allOf` of one part per kind; `type: [a, b]` is an `anyOf` of typed parts;
//! without `type`, the kind is inferred from the keywords present.

use crate::Error;
use foldhash::{HashMap, HashMapExt};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Index of a node in its [`Arena`].
pub(crate) type Id = usize;

/// The JSON Schema drafts Accord reads, oldest first.
///
/// A document's `$schema` picks its draft; [`crate::Limits::default_draft`]
/// is the one a document without `$schema` is read in.
///
/// ```
/// use accord_compat::Draft;
/// assert_eq!("4".parse::<Draft>(), Ok(Draft::D4));
/// assert_eq!("https://json-schema.org/draft/2020-12/schema".parse::<Draft>(), Ok(Draft::D2020));
/// assert_eq!(Draft::default(), Draft::D7);
/// assert!("5".parse::<Draft>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Draft {
    /// Draft 4 (`http://json-schema.org/draft-04/schema#`).
    D4,
    /// Draft 6 (`http://json-schema.org/draft-06/schema#`).
    D6,
    /// Draft 7 (`http://json-schema.org/draft-07/schema#`), the default, as
    /// in Confluent Schema Registry.
    #[default]
    D7,
    /// Draft 2019-09 (`https://json-schema.org/draft/2019-09/schema`).
    D2019,
    /// Draft 2020-12 (`https://json-schema.org/draft/2020-12/schema`).
    D2020,
}

/// A draft name that [`Draft`]'s `FromStr` does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDraft(pub String);

impl std::fmt::Display for UnknownDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown JSON Schema draft {:?}; expected 4, 6, 7, 2019-09, 2020-12 or a draft's meta-schema URI",
            self.0
        )
    }
}

impl std::error::Error for UnknownDraft {}

impl std::str::FromStr for Draft {
    type Err = UnknownDraft;

    /// Reads `4`, `6`, `7`, `2019-09`, `2020-12` (also `draft-07`,
    /// `draft7` …) or a draft's meta-schema URI.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let short = s.strip_prefix("draft").unwrap_or(s);
        let short = short.strip_prefix('-').unwrap_or(short);
        let draft = match short {
            "4" | "04" => Some(Draft::D4),
            "6" | "06" => Some(Draft::D6),
            "7" | "07" => Some(Draft::D7),
            "2019-09" => Some(Draft::D2019),
            "2020-12" => Some(Draft::D2020),
            _ => Draft::from_uri(s),
        };
        draft.ok_or_else(|| UnknownDraft(s.to_owned()))
    }
}

impl std::fmt::Display for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Draft::D4 => "4",
            Draft::D6 => "6",
            Draft::D7 => "7",
            Draft::D2019 => "2019-09",
            Draft::D2020 => "2020-12",
        })
    }
}

impl Draft {
    /// The draft named by a `$schema` URI; `None` for one Accord does not know.
    pub(crate) fn from_uri(uri: &str) -> Option<Draft> {
        let u = uri.trim_end_matches('#').trim_end_matches('/');
        let u = u
            .strip_prefix("http://")
            .or_else(|| u.strip_prefix("https://"))
            .unwrap_or(u);
        match u {
            "json-schema.org/draft-04/schema" => Some(Draft::D4),
            "json-schema.org/draft-06/schema" => Some(Draft::D6),
            "json-schema.org/draft-07/schema" => Some(Draft::D7),
            "json-schema.org/draft/2019-09/schema" => Some(Draft::D2019),
            "json-schema.org/draft/2020-12/schema" => Some(Draft::D2020),
            _ => None,
        }
    }
}

/// `allOf`, `anyOf` or `oneOf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Criterion::All => "allOf",
            Criterion::Any => "anyOf",
            Criterion::One => "oneOf",
        }
    }
}

/// Annotations: keywords that never change which documents are accepted.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Annotations {
    pub id: Option<String>,
    pub title: Option<Value>,
    pub description: Option<Value>,
    pub default: Option<Value>,
    /// `examples`, `$comment`, `deprecated`, `readOnly`, `writeOnly`,
    /// `content*`, and keywords no draft defines.
    pub other: BTreeMap<String, Value>,
}

impl Annotations {
    /// Whether there are none: every field is absent or empty.
    fn is_empty(&self) -> bool {
        let Annotations {
            id,
            title,
            description,
            default,
            other,
        } = self;
        id.is_none() && title.is_none() && description.is_none() && default.is_none() && other.is_empty()
    }
}

/// A bound with the JSON text it was written as, for messages.
pub(crate) type Bound = Option<f64>;

#[derive(Debug, Clone, Default)]
pub(crate) struct StringNode {
    /// `type: string` was given (otherwise non-strings pass).
    pub required_type: bool,
    pub min_length: Bound,
    pub max_length: Bound,
    pub pattern: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct NumberNode {
    pub required_type: bool,
    pub integer: bool,
    pub minimum: Bound,
    pub maximum: Bound,
    pub exclusive_minimum: Bound,
    pub exclusive_maximum: Bound,
    pub multiple_of: Bound,
    /// `multipleOf` as written, for exact decimal arithmetic.
    pub multiple_of_text: Option<String>,
}

/// `additionalProperties` / `additionalItems`: `true` or absent permits
/// anything, `false` nothing, a schema permits what it accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Additional {
    pub permits: bool,
    pub schema: Option<Id>,
}

impl Default for Additional {
    fn default() -> Self {
        Additional {
            permits: true,
            schema: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectNode {
    pub required_type: bool,
    pub properties: Vec<(String, Id)>,
    pub required: BTreeSet<String>,
    pub pattern_properties: Vec<(String, Id)>,
    pub additional: Additional,
    pub unevaluated: Option<Id>,
    pub property_names: Option<Id>,
    pub dependency_arrays: BTreeMap<String, BTreeSet<String>>,
    pub dependency_schemas: BTreeMap<String, Id>,
    pub min_properties: Bound,
    pub max_properties: Bound,
}

impl ObjectNode {
    /// The properties by name, for pairing in linear time.
    pub(crate) fn property_map(&self) -> HashMap<&str, Id> {
        self.properties.iter().map(|(k, id)| (k.as_str(), *id)).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ArrayNode {
    pub required_type: bool,
    /// `items` as one schema for every item.
    pub all_items: Option<Id>,
    /// Tuple positions: `items: [..]` before 2020-12, `prefixItems` after.
    pub prefix: Vec<Id>,
    /// `additionalItems` before 2020-12, `items` next to `prefixItems` after.
    pub additional: Additional,
    pub unevaluated: Option<Id>,
    pub contains: Option<Id>,
    pub min_contains: Bound,
    pub max_contains: Bound,
    pub min_items: Bound,
    pub max_items: Bound,
    pub unique_items: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// `true` or `{}`: accepts everything.
    Empty,
    /// `false`: accepts nothing.
    False,
    /// A resolved reference.
    Ref(Id),
    String(StringNode),
    Number(Box<NumberNode>),
    Boolean,
    Null,
    Object(Box<ObjectNode>),
    Array(Box<ArrayNode>),
    Enum(Vec<Value>),
    Const(Value),
    /// Subschemas under a criterion; `true` when Accord made it up (the
    /// parts of a schema with keywords of several kinds, a `type` list), so
    /// that paths do not name an `allOf`/`anyOf` the document does not have.
    Combined(Criterion, Vec<Id>, bool),
    Not(Id),
    Conditional {
        /// The `if` as written: a condition must be the same document set,
        /// which comparing findings alone cannot tell (`required` of an
        /// unlisted property is invisible to it).
        condition_text: String,
        then: Option<Id>,
        otherwise: Option<Id>,
    },
}

impl Kind {
    /// Nodes of the same class are compared keyword by keyword; different
    /// classes are a type change.
    pub(crate) fn class(&self) -> u8 {
        match self {
            Kind::Empty => 0,
            Kind::False => 1,
            Kind::Ref(_) => 2,
            Kind::String(_) => 3,
            Kind::Number(_) => 4,
            Kind::Boolean => 5,
            Kind::Null => 6,
            Kind::Object(_) => 7,
            Kind::Array(_) => 8,
            Kind::Enum(_) => 9,
            Kind::Const(_) => 10,
            Kind::Combined(..) => 11,
            Kind::Not(_) => 12,
            Kind::Conditional { .. } => 13,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    /// `None` when the schema has no annotation, as most have: a node is
    /// kept small, since a large schema has tens of thousands.
    annotations: Option<Box<Annotations>>,
    /// For a subschema of `allOf`/`anyOf`/`oneOf` without references: its
    /// canonical JSON text.
    pub text: Option<Box<str>>,
}

/// The annotations of a schema that has none.
static NO_ANNOTATIONS: Annotations = Annotations {
    id: None,
    title: None,
    description: None,
    default: None,
    other: BTreeMap::new(),
};

impl Node {
    pub(crate) fn ann(&self) -> &Annotations {
        self.annotations.as_deref().unwrap_or(&NO_ANNOTATIONS)
    }

    fn set_ann(&mut self, ann: Annotations) {
        self.annotations = (!ann.is_empty()).then(|| Box::new(ann));
    }
}

/// A schema document in normalised form.
#[derive(Debug, Clone)]
pub(crate) struct Arena {
    pub nodes: Vec<Node>,
    pub root: Id,
    /// Whether the document has a `$ref`, an `$id` or an anchor.
    pub linked: bool,
    /// How many patterns (`pattern`, `patternProperties`) it has.
    pub patterns: usize,
    /// The draft it was read in.
    pub draft: Draft,
}

impl Arena {
    pub(crate) fn node(&self, id: Id) -> &Node {
        &self.nodes[id]
    }

    /// The annotations that apply where a reference chain starts: those
    /// written next to each `$ref` win over those of the target. `None` when
    /// `id` is no reference or its references carry no annotation.
    pub(crate) fn site_annotations(&self, mut id: Id) -> Option<Annotations> {
        let mut merged: Option<Annotations> = None;
        let mut hops = 0;
        while let Kind::Ref(target) = self.nodes[id].kind {
            let here = self.nodes[id].ann();
            if !here.is_empty() || merged.is_some() {
                let m = merged.get_or_insert_with(Annotations::default);
                m.id = m.id.take().or_else(|| here.id.clone());
                m.title = m.title.take().or_else(|| here.title.clone());
                m.description = m.description.take().or_else(|| here.description.clone());
                m.default = m.default.take().or_else(|| here.default.clone());
                for (k, v) in &here.other {
                    m.other.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            id = target;
            hops += 1;
            if hops > self.nodes.len() {
                break;
            }
        }
        let mut m = merged?;
        let end = self.nodes[id].ann();
        m.id = m.id.or_else(|| end.id.clone());
        m.title = m.title.or_else(|| end.title.clone());
        m.description = m.description.or_else(|| end.description.clone());
        m.default = m.default.or_else(|| end.default.clone());
        for (k, v) in &end.other {
            m.other.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Some(m)
    }

    /// `not` of a schema that accepts everything accepts nothing, and the
    /// other way round: `{"not": {}}` is `false`, `{"not": false}` is
    /// `true`. Inner schemas come after the `not` that holds them, so the
    /// walk from the end also reads `{"not": {"not": {}}}` as `true`.
    fn negations(&mut self) {
        for id in (0..self.nodes.len()).rev() {
            if let Kind::Not(inner) = self.nodes[id].kind {
                let (inner, _) = self.resolve(inner);
                match self.nodes[inner].kind {
                    Kind::Empty => self.nodes[id].kind = Kind::False,
                    Kind::False => self.nodes[id].kind = Kind::Empty,
                    _ => {}
                }
            }
        }
    }

    /// Follows a chain of references to the node it ends on. Chains are
    /// checked at parse time (no cycle, bounded length), so this ends.
    pub(crate) fn resolve(&self, mut id: Id) -> (Id, bool) {
        let mut followed = false;
        let mut hops = 0;
        while let Kind::Ref(target) = self.nodes[id].kind {
            id = target;
            followed = true;
            hops += 1;
            if hops > self.nodes.len() {
                break;
            }
        }
        (id, followed)
    }
}

/// What a keyword is, for reading a schema object in one pass over its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Object,
    Array,
    String,
    Number,
    /// Read elsewhere than as an annotation (`$ref`, `type`, `allOf`...).
    Structural,
    /// Never changes which documents are accepted.
    Annotation,
}

fn number(v: Option<&Value>) -> Bound {
    v.and_then(Value::as_f64)
}

/// A lower bound on a count or length: 0 is the default, the same as none.
fn positive(v: Option<&Value>) -> Bound {
    number(v).filter(|n| *n > 0.0)
}

/// Whether the parts of a `type` list name every JSON type (`integer`
/// does not stand for `number`) and constrain nothing else.
fn every_type(kinds: &[Kind]) -> bool {
    let mut seen = [false; 6];
    for k in kinds {
        if let Kind::Number(n) = k
            && n.integer
        {
            // `integer` next to `number` adds nothing.
            if !crate::values::unbounded(n) {
                return false;
            }
            continue;
        }
        if !crate::values::unconstrained(k, &mut |_| false) {
            return false;
        }
        let slot = match k {
            Kind::Object(_) => 0,
            Kind::Array(_) => 1,
            Kind::String(_) => 2,
            Kind::Number(_) => 3,
            Kind::Boolean => 4,
            Kind::Null => 5,
            _ => continue,
        };
        seen[slot] = true;
    }
    seen.iter().all(|s| *s)
}

/// `true` or `{}`: a schema that accepts every value.
fn accepts_all(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// The keywords the reader looks up, each with a slot in [`Keywords`].
const KEYWORDS: usize = 55;
const KW_ID: usize = 0;
const KW_DOLLAR_ID: usize = 1;
const KW_SCHEMA: usize = 2;
const KW_REF: usize = 3;
const KW_RECURSIVE_REF: usize = 4;
const KW_DYNAMIC_REF: usize = 5;
const KW_ANCHOR: usize = 6;
const KW_DYNAMIC_ANCHOR: usize = 7;
const KW_RECURSIVE_ANCHOR: usize = 8;
const KW_VOCABULARY: usize = 9;
const KW_DEFINITIONS: usize = 10;
const KW_DEFS: usize = 11;
const KW_TITLE: usize = 12;
const KW_DESCRIPTION: usize = 13;
const KW_DEFAULT: usize = 14;
const KW_TYPE: usize = 15;
const KW_ENUM: usize = 16;
const KW_CONST: usize = 17;
const KW_ALL_OF: usize = 18;
const KW_ANY_OF: usize = 19;
const KW_ONE_OF: usize = 20;
const KW_NOT: usize = 21;
const KW_IF: usize = 22;
const KW_THEN: usize = 23;
const KW_ELSE: usize = 24;
const KW_PROPERTIES: usize = 25;
const KW_REQUIRED: usize = 26;
const KW_ADDITIONAL_PROPERTIES: usize = 27;
const KW_PATTERN_PROPERTIES: usize = 28;
const KW_MIN_PROPERTIES: usize = 29;
const KW_MAX_PROPERTIES: usize = 30;
const KW_DEPENDENCIES: usize = 31;
const KW_DEPENDENT_REQUIRED: usize = 32;
const KW_DEPENDENT_SCHEMAS: usize = 33;
const KW_PROPERTY_NAMES: usize = 34;
const KW_UNEVALUATED_PROPERTIES: usize = 35;
const KW_ITEMS: usize = 36;
const KW_PREFIX_ITEMS: usize = 37;
const KW_ADDITIONAL_ITEMS: usize = 38;
const KW_MIN_ITEMS: usize = 39;
const KW_MAX_ITEMS: usize = 40;
const KW_UNIQUE_ITEMS: usize = 41;
const KW_CONTAINS: usize = 42;
const KW_MIN_CONTAINS: usize = 43;
const KW_MAX_CONTAINS: usize = 44;
const KW_UNEVALUATED_ITEMS: usize = 45;
const KW_MIN_LENGTH: usize = 46;
const KW_MAX_LENGTH: usize = 47;
const KW_PATTERN: usize = 48;
const KW_FORMAT: usize = 49;
const KW_MINIMUM: usize = 50;
const KW_MAXIMUM: usize = 51;
const KW_EXCLUSIVE_MINIMUM: usize = 52;
const KW_EXCLUSIVE_MAXIMUM: usize = 53;
const KW_MULTIPLE_OF: usize = 54;

/// A key's slot in [`Keywords`] (if the reader looks it up), what it is,
/// and the draft it exists from: before that draft it is an unknown word,
/// read as an annotation like any other.
fn keyword_info(keyword: &str) -> (Option<usize>, Class, Draft) {
    match keyword {
        "id" => (Some(KW_ID), Class::Structural, Draft::D4),
        "$id" => (Some(KW_DOLLAR_ID), Class::Structural, Draft::D4),
        "$schema" => (Some(KW_SCHEMA), Class::Structural, Draft::D4),
        "$ref" => (Some(KW_REF), Class::Structural, Draft::D4),
        "$recursiveRef" => (Some(KW_RECURSIVE_REF), Class::Structural, Draft::D2019),
        "$dynamicRef" => (Some(KW_DYNAMIC_REF), Class::Structural, Draft::D2020),
        "$anchor" => (Some(KW_ANCHOR), Class::Structural, Draft::D2019),
        "$dynamicAnchor" => (Some(KW_DYNAMIC_ANCHOR), Class::Structural, Draft::D2020),
        "$recursiveAnchor" => (Some(KW_RECURSIVE_ANCHOR), Class::Structural, Draft::D2019),
        "$vocabulary" => (Some(KW_VOCABULARY), Class::Structural, Draft::D2019),
        "definitions" => (Some(KW_DEFINITIONS), Class::Structural, Draft::D4),
        "$defs" => (Some(KW_DEFS), Class::Structural, Draft::D2019),
        "title" => (Some(KW_TITLE), Class::Structural, Draft::D4),
        "description" => (Some(KW_DESCRIPTION), Class::Structural, Draft::D4),
        "default" => (Some(KW_DEFAULT), Class::Structural, Draft::D4),
        "type" => (Some(KW_TYPE), Class::Structural, Draft::D4),
        "enum" => (Some(KW_ENUM), Class::Structural, Draft::D4),
        "const" => (Some(KW_CONST), Class::Structural, Draft::D6),
        "allOf" => (Some(KW_ALL_OF), Class::Structural, Draft::D4),
        "anyOf" => (Some(KW_ANY_OF), Class::Structural, Draft::D4),
        "oneOf" => (Some(KW_ONE_OF), Class::Structural, Draft::D4),
        "not" => (Some(KW_NOT), Class::Structural, Draft::D4),
        "if" => (Some(KW_IF), Class::Structural, Draft::D7),
        "then" => (Some(KW_THEN), Class::Structural, Draft::D7),
        "else" => (Some(KW_ELSE), Class::Structural, Draft::D7),
        "properties" => (Some(KW_PROPERTIES), Class::Object, Draft::D4),
        "required" => (Some(KW_REQUIRED), Class::Object, Draft::D4),
        "additionalProperties" => (Some(KW_ADDITIONAL_PROPERTIES), Class::Object, Draft::D4),
        "patternProperties" => (Some(KW_PATTERN_PROPERTIES), Class::Object, Draft::D4),
        "minProperties" => (Some(KW_MIN_PROPERTIES), Class::Object, Draft::D4),
        "maxProperties" => (Some(KW_MAX_PROPERTIES), Class::Object, Draft::D4),
        "dependencies" => (Some(KW_DEPENDENCIES), Class::Object, Draft::D4),
        "dependentRequired" => (Some(KW_DEPENDENT_REQUIRED), Class::Object, Draft::D2019),
        "dependentSchemas" => (Some(KW_DEPENDENT_SCHEMAS), Class::Object, Draft::D2019),
        "propertyNames" => (Some(KW_PROPERTY_NAMES), Class::Object, Draft::D6),
        "unevaluatedProperties" => (Some(KW_UNEVALUATED_PROPERTIES), Class::Object, Draft::D2019),
        "items" => (Some(KW_ITEMS), Class::Array, Draft::D4),
        "prefixItems" => (Some(KW_PREFIX_ITEMS), Class::Array, Draft::D2020),
        "additionalItems" => (Some(KW_ADDITIONAL_ITEMS), Class::Array, Draft::D4),
        "minItems" => (Some(KW_MIN_ITEMS), Class::Array, Draft::D4),
        "maxItems" => (Some(KW_MAX_ITEMS), Class::Array, Draft::D4),
        "uniqueItems" => (Some(KW_UNIQUE_ITEMS), Class::Array, Draft::D4),
        "contains" => (Some(KW_CONTAINS), Class::Array, Draft::D6),
        "minContains" => (Some(KW_MIN_CONTAINS), Class::Array, Draft::D2019),
        "maxContains" => (Some(KW_MAX_CONTAINS), Class::Array, Draft::D2019),
        "unevaluatedItems" => (Some(KW_UNEVALUATED_ITEMS), Class::Array, Draft::D2019),
        "minLength" => (Some(KW_MIN_LENGTH), Class::String, Draft::D4),
        "maxLength" => (Some(KW_MAX_LENGTH), Class::String, Draft::D4),
        "pattern" => (Some(KW_PATTERN), Class::String, Draft::D4),
        "format" => (Some(KW_FORMAT), Class::String, Draft::D4),
        "minimum" => (Some(KW_MINIMUM), Class::Number, Draft::D4),
        "maximum" => (Some(KW_MAXIMUM), Class::Number, Draft::D4),
        "exclusiveMinimum" => (Some(KW_EXCLUSIVE_MINIMUM), Class::Number, Draft::D4),
        "exclusiveMaximum" => (Some(KW_EXCLUSIVE_MAXIMUM), Class::Number, Draft::D4),
        "multipleOf" => (Some(KW_MULTIPLE_OF), Class::Number, Draft::D4),
        "examples" => (None, Class::Annotation, Draft::D6),
        "$comment" => (None, Class::Annotation, Draft::D7),
        "readOnly" => (None, Class::Annotation, Draft::D7),
        "writeOnly" => (None, Class::Annotation, Draft::D7),
        "contentMediaType" => (None, Class::Annotation, Draft::D7),
        "contentEncoding" => (None, Class::Annotation, Draft::D7),
        "deprecated" => (None, Class::Annotation, Draft::D2019),
        "contentSchema" => (None, Class::Annotation, Draft::D2019),
        _ => (None, Class::Annotation, Draft::D4),
    }
}

/// The keywords of one schema object, found in one pass over its keys:
/// a keyword the document's draft does not define is left out (it is read
/// as an annotation instead).
struct Keywords<'a> {
    slots: [Option<&'a Value>; KEYWORDS],
}

impl<'a> Keywords<'a> {
    fn at(&self, slot: usize) -> Option<&'a Value> {
        self.slots[slot]
    }
}

/// One step of the JSON pointer of a place being read, on the stack: the
/// pointer is only written out when an error names it.
#[derive(Clone, Copy)]
struct Path<'p> {
    up: Option<&'p Path<'p>>,
    seg: Seg<'p>,
}

#[derive(Clone, Copy)]
enum Seg<'p> {
    Root,
    Key(&'p str),
    Index(usize),
    /// A whole pointer, written as it is.
    Pointer(&'p str),
}

impl<'p> Path<'p> {
    const ROOT: Path<'static> = Path {
        up: None,
        seg: Seg::Root,
    };

    fn key(&'p self, key: &'p str) -> Path<'p> {
        Path {
            up: Some(self),
            seg: Seg::Key(key),
        }
    }

    fn index(&'p self, i: usize) -> Path<'p> {
        Path {
            up: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// The JSON pointer, `""` for the root.
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut here = Some(self);
        while let Some(p) = here {
            match p.seg {
                Seg::Root => {}
                Seg::Key(k) => segs.push(escape(k).into_owned()),
                Seg::Index(i) => segs.push(i.to_string()),
                Seg::Pointer(p) => segs.push(p.trim_start_matches('/').to_string()),
            }
            here = p.up;
        }
        segs.iter().rev().fold(String::new(), |mut out, s| {
            out.push('/');
            out.push_str(s);
            out
        })
    }
}

/// The parts of one schema object, one per kind of keyword: most have one,
/// which needs no allocation.
#[derive(Default)]
struct Parts {
    first: Option<Kind>,
    more: Vec<Kind>,
}

impl Parts {
    fn push(&mut self, kind: Kind) {
        if self.first.is_none() {
            self.first = Some(kind);
        } else {
            self.more.push(kind);
        }
    }
}

struct Pending {
    node: Id,
    reference: String,
    base: String,
    location: String,
}

type ByAddress = HashMap<usize, Id>;

fn address(v: &Value) -> usize {
    v as *const Value as usize
}

/// Reads a checked JSON document into an [`Arena`].
pub(crate) struct Loader<'a> {
    draft: Draft,
    nodes: Vec<Node>,
    /// Every value read as a schema, by its address in the document.
    by_value: ByAddress,
    /// Absolute resource URI → the value that declares it, and its pointer.
    resources: HashMap<String, (&'a Value, String)>,
    anchors: HashMap<String, Id>,
    pending: Vec<Pending>,
    /// What a reader should know about how the document was read.
    pub(crate) warnings: Vec<crate::Warning>,
    /// Patterns checked for what the regex engine can decide.
    patterns_checked: usize,
}

/// Patterns of one document checked for what the regex engine can decide:
/// enough for any real schema, bounded for a hostile one.
const PATTERNS_CHECKED: usize = 1024;

/// The base URI of a document that declares none; relative `$id`s and
/// `$ref`s resolve against it like against any other.
const DEFAULT_BASE: &str = "accord:///schema.json";

impl<'a> Loader<'a> {
    /// Reads `root` in `draft`; also returns what a reader should know
    /// (patterns the regex engine cannot decide). `objects`, how many
    /// objects the document has (0 if unknown), sizes the arena at once.
    pub(crate) fn load(
        root: &'a Value,
        draft: Draft,
        max_ref_hops: usize,
        objects: usize,
    ) -> Result<(Arena, Vec<crate::Warning>), Error> {
        // Most objects of a schema are schemas; past a bound, the arena grows
        // as it is filled (a document of data in `examples`, say).
        let objects = objects.min(1 << 16);
        let mut loader = Loader {
            draft,
            nodes: Vec::with_capacity(objects),
            by_value: ByAddress::with_capacity(objects),
            resources: HashMap::new(),
            anchors: HashMap::new(),
            pending: Vec::new(),
            warnings: Vec::new(),
            patterns_checked: 0,
        };
        loader
            .resources
            .insert(DEFAULT_BASE.to_string(), (root, String::new()));
        let root_id = loader.schema(root, &Path::ROOT, DEFAULT_BASE);
        let linked = !loader.pending.is_empty() || loader.resources.len() > 1 || !loader.anchors.is_empty();
        loader.resolve_all()?;
        let mut arena = Arena {
            nodes: loader.nodes,
            root: root_id,
            linked,
            patterns: loader.patterns_checked,
            draft,
        };
        check_chains(&arena, max_ref_hops)?;
        arena.negations();
        Ok((arena, loader.warnings))
    }

    /// Notes a pattern (at `at`, a JSON pointer) that the regex engine
    /// cannot decide: compared as text, and matched against names with
    /// caution.
    fn check_pattern(&mut self, pattern: &str, at: impl FnOnce() -> String, what: &str) {
        self.patterns_checked += 1;
        if self.patterns_checked == PATTERNS_CHECKED + 1 {
            self.warnings.push(crate::Warning {
                path: "#".into(),
                message: format!("more than {PATTERNS_CHECKED} patterns: the others were not checked"),
            });
        }
        if self.patterns_checked > PATTERNS_CHECKED || crate::patterns::is_decidable(pattern) {
            return;
        }
        self.warnings.push(crate::Warning {
            path: format!("#{}", at()),
            message: format!(
                "the pattern {pattern:?} uses what Accord's regular expression engine does not decide \
                 (look-around, back-references): {what}"
            ),
        });
    }

    fn push(&mut self, kind: Kind) -> Id {
        self.nodes.push(Node {
            kind,
            annotations: None,
            text: None,
        });
        self.nodes.len() - 1
    }

    /// Makes `node` the reference whose placeholder was `placeholder` (left
    /// unused).
    fn alias(&mut self, placeholder: Id, node: Id) {
        if let Some(p) = self.pending.iter_mut().rev().find(|p| p.node == placeholder) {
            p.node = node;
        }
    }

    /// Loads the schema `v` found at `path`.
    fn schema(&mut self, v: &'a Value, path: &Path<'_>, base: &str) -> Id {
        let id = match v {
            Value::Bool(false) => self.push(Kind::False),
            // It notes its own address, before its subschemas are read.
            Value::Object(m) => return self.object(v, m, path, base),
            // `true`, and anything the meta-schema check let through.
            _ => self.push(Kind::Empty),
        };
        self.by_value.entry(address(v)).or_insert(id);
        id
    }

    fn object(&mut self, v: &'a Value, m: &'a Map<String, Value>, path: &Path<'_>, base: &str) -> Id {
        let me = self.push(Kind::Empty);
        self.by_value.insert(address(v), me);
        // One pass over the keys: the keywords, annotations, and which kinds
        // of keywords are present.
        let mut ann = Annotations::default();
        let mut kw = Keywords {
            slots: [None; KEYWORDS],
        };
        let mut has = [false; 4];
        for (k, val) in m {
            let (slot, class, since) = keyword_info(k);
            let known = self.draft >= since;
            match class {
                Class::Object if known => has[0] = true,
                Class::Array if known => has[1] = true,
                Class::String => has[2] = true,
                Class::Number => has[3] = true,
                _ => {}
            }
            if class == Class::Annotation || !known {
                ann.other.insert(k.clone(), val.clone());
            }
            if known && let Some(i) = slot {
                kw.slots[i] = Some(val);
            }
        }
        let m = &kw;
        let id_keyword = if self.draft == Draft::D4 {
            KW_ID
        } else {
            KW_DOLLAR_ID
        };
        let own_base: String;
        let mut base = base;
        if let Some(id) = m.at(id_keyword).and_then(Value::as_str) {
            ann.id = Some(id.to_string());
            let (resource, fragment) = split_fragment(&join(base, id));
            if self.draft <= Draft::D7 && !fragment.is_empty() && !id.starts_with('#') {
                // A draft-7 `$id` with a plain-name fragment declares both.
                self.anchors.insert(format!("{resource}#{fragment}"), me);
            }
            if id.starts_with('#') {
                self.anchors.insert(format!("{resource}#{fragment}"), me);
            } else {
                self.resources.insert(resource.clone(), (v, path.render()));
                own_base = resource;
                base = &own_base;
            }
        }
        for anchor_kw in [KW_ANCHOR, KW_DYNAMIC_ANCHOR] {
            if let Some(a) = m.at(anchor_kw).and_then(Value::as_str) {
                let (resource, _) = split_fragment(base);
                self.anchors.insert(format!("{resource}#{a}"), me);
            }
        }
        for (defs, slot) in [("definitions", KW_DEFINITIONS), ("$defs", KW_DEFS)] {
            if let Some(Value::Object(d)) = m.at(slot) {
                let at = path.key(defs);
                for (k, sub) in d {
                    self.schema(sub, &at.key(k), base);
                }
            }
        }
        ann.title = m.at(KW_TITLE).cloned();
        ann.description = m.at(KW_DESCRIPTION).cloned();
        ann.default = m.at(KW_DEFAULT).cloned();
        // One pass over the keys: annotations, and which kinds of keywords
        // are present.

        let mut parts = Parts::default();
        for (ref_kw, slot) in [
            ("$ref", KW_REF),
            ("$recursiveRef", KW_RECURSIVE_REF),
            ("$dynamicRef", KW_DYNAMIC_REF),
        ] {
            let Some(r) = m.at(slot).and_then(Value::as_str) else {
                continue;
            };
            let target = self.push(Kind::Empty);
            self.pending.push(Pending {
                node: target,
                reference: r.to_string(),
                base: base.to_string(),
                location: format!("#{}", path.key(ref_kw).render()),
            });
            if self.draft <= Draft::D7 {
                // Before 2019-09 a `$ref` replaces its siblings; only their
                // annotations are kept, so that a description written next
                // to it is still compared.
                self.alias(target, me);
                self.nodes[me].set_ann(ann);
                return me;
            }
            parts.push(Kind::Ref(target));
        }

        self.typed_parts(m, path, base, has, &mut parts);
        if let Some(Value::Array(values)) = m.at(KW_ENUM) {
            parts.push(Kind::Enum(values.clone()));
        }
        if let Some(c) = m.at(KW_CONST) {
            parts.push(Kind::Const(c.clone()));
        }
        for crit in [Criterion::All, Criterion::Any, Criterion::One] {
            let slot = match crit {
                Criterion::All => KW_ALL_OF,
                Criterion::Any => KW_ANY_OF,
                Criterion::One => KW_ONE_OF,
            };
            if let Some(Value::Array(subs)) = m.at(slot) {
                // A repeated subschema adds nothing to `allOf` or `anyOf`;
                // keeping one makes the pairing see the real sizes. Under
                // `oneOf` it takes away: a document one copy accepts matches
                // the other copy too, so the copies stand for `not` that
                // subschema, and the others decide.
                let texts: Vec<String> = subs.iter().map(Value::to_string).collect();
                // Copies matter only under `oneOf`.
                let mut copies: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
                if crit == Criterion::One {
                    for text in &texts {
                        *copies.entry(text.as_str()).or_default() += 1;
                    }
                }
                let mut seen = foldhash::HashSet::default();
                let mut ids = Vec::new();
                let at = path.key(crit.keyword());
                for (i, (s, text)) in subs.iter().zip(&texts).enumerate() {
                    if !seen.insert(text.as_str()) {
                        continue;
                    }
                    let id = self.schema(s, &at.index(i), base);
                    // Without references, the same text is the same schema in
                    // both documents: the pairing can take it without comparing.
                    if !["\"$ref\"", "\"$dynamicRef\"", "\"$recursiveRef\""]
                        .iter()
                        .any(|k| text.contains(k))
                    {
                        self.nodes[id].text = Some(text.as_str().into());
                    }
                    if copies.get(text.as_str()).is_some_and(|&n| n > 1) {
                        parts.push(Kind::Not(id));
                    } else {
                        ids.push(id);
                    }
                }
                if ids.is_empty() {
                    // Every subschema of the `oneOf` is repeated: no document
                    // matches exactly one.
                    ids.push(self.push(Kind::False));
                }
                parts.push(Kind::Combined(crit, ids, false));
            }
        }
        if let Some(n) = m.at(KW_NOT) {
            let id = self.schema(n, &path.key("not"), base);
            parts.push(Kind::Not(id));
        }
        if let Some(c) = m.at(KW_IF) {
            // Read for the `$ref`s that may point into it; compared as text.
            self.schema(c, &path.key("if"), base);
            let then = m.at(KW_THEN).map(|s| self.schema(s, &path.key("then"), base));
            let otherwise = m.at(KW_ELSE).map(|s| self.schema(s, &path.key("else"), base));
            // Without `then` and `else`, an `if` constrains nothing.
            if then.is_some() || otherwise.is_some() {
                parts.push(Kind::Conditional {
                    condition_text: c.to_string(),
                    then,
                    otherwise,
                });
            }
        }

        if let (Some(Kind::Ref(target)), true) = (&parts.first, parts.more.is_empty()) {
            // A lone `$ref` is the reference itself, one hop, not a node
            // pointing at a reference.
            let target = *target;
            self.alias(target, me);
            self.nodes[me].set_ann(ann);
            return me;
        }
        let kind = match (parts.first, parts.more) {
            (None, _) => Kind::Empty,
            (Some(k), more) if more.is_empty() => k,
            (Some(k), more) => {
                let ids = std::iter::once(k).chain(more).map(|k| self.push(k)).collect();
                Kind::Combined(Criterion::All, ids, true)
            }
        };
        self.nodes[me].kind = kind;
        self.nodes[me].set_ann(ann);
        me
    }

    /// `has`: whether keywords of the object, array, string and number
    /// kinds are present.
    fn typed_parts(
        &mut self,
        m: &Keywords<'a>,
        path: &Path<'_>,
        base: &str,
        has: [bool; 4],
        parts: &mut Parts,
    ) {
        let types: Option<&[Value]> = match m.at(KW_TYPE) {
            Some(t @ Value::String(_)) => Some(std::slice::from_ref(t)),
            Some(Value::Array(ts)) => Some(ts),
            _ => None,
        };
        match types {
            Some([t]) => {
                if let Some(k) = t.as_str().and_then(|t| self.typed(t, m, path, base)) {
                    parts.push(k);
                }
            }
            Some(types) => {
                let mut kinds = Vec::new();
                for t in types.iter().filter_map(Value::as_str) {
                    kinds.extend(self.typed(t, m, path, base));
                }
                if every_type(&kinds) {
                    // Every value has one of these types, and no keyword
                    // of any of them constrains it: `{}`.
                    return;
                }
                if kinds.len() == 1 {
                    parts.push(kinds.swap_remove(0));
                } else if !kinds.is_empty() {
                    let ids = kinds.into_iter().map(|k| self.push(k)).collect();
                    parts.push(Kind::Combined(Criterion::Any, ids, true));
                }
            }
            None => {
                if has[0] {
                    parts.push(Kind::Object(Box::new(self.object_node(m, path, base, false))));
                }
                if has[1] {
                    parts.push(Kind::Array(Box::new(self.array_node(m, path, base, false))));
                }
                if has[2] {
                    parts.push(Kind::String(self.string(m, path, false)));
                }
                if has[3] {
                    parts.push(Kind::Number(Box::new(self.number(m, false, false))));
                }
            }
        }
    }

    /// The part of `type: t` (its keywords read for that type).
    fn typed(&mut self, t: &str, m: &Keywords<'a>, path: &Path<'_>, base: &str) -> Option<Kind> {
        Some(match t {
            "string" => Kind::String(self.string(m, path, true)),
            "integer" => Kind::Number(Box::new(self.number(m, true, true))),
            "number" => Kind::Number(Box::new(self.number(m, true, false))),
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            "object" => Kind::Object(Box::new(self.object_node(m, path, base, true))),
            "array" => Kind::Array(Box::new(self.array_node(m, path, base, true))),
            _ => return None,
        })
    }

    fn string(&mut self, m: &Keywords<'a>, path: &Path<'_>, required_type: bool) -> StringNode {
        let pattern = m.at(KW_PATTERN).and_then(Value::as_str);
        if let Some(p) = pattern {
            let at = || path.key("pattern").render();
            self.check_pattern(p, at, "a change to it is compared as text");
        }
        StringNode {
            required_type,
            min_length: positive(m.at(KW_MIN_LENGTH)),
            max_length: number(m.at(KW_MAX_LENGTH)),
            pattern: pattern.map(str::to_string),
            format: m.at(KW_FORMAT).and_then(Value::as_str).map(str::to_string),
        }
    }

    fn number(&self, m: &Keywords<'a>, required_type: bool, integer: bool) -> NumberNode {
        let mut n = NumberNode {
            required_type,
            integer,
            minimum: number(m.at(KW_MINIMUM)),
            maximum: number(m.at(KW_MAXIMUM)),
            exclusive_minimum: number(m.at(KW_EXCLUSIVE_MINIMUM)),
            exclusive_maximum: number(m.at(KW_EXCLUSIVE_MAXIMUM)),
            multiple_of: number(m.at(KW_MULTIPLE_OF)),
            multiple_of_text: m
                .at(KW_MULTIPLE_OF)
                .and_then(Value::as_number)
                .map(ToString::to_string),
        };
        // Every integer is a multiple of a divisor of 1 (1, 0.5, 0.25...):
        // on an integer, such a `multipleOf` says nothing.
        if integer
            && n.multiple_of_text
                .as_deref()
                .is_some_and(|m| crate::rules::number::divides("1", m) == Some(true))
        {
            n.multiple_of = None;
            n.multiple_of_text = None;
        }
        // Draft 4 spells an exclusive bound as a boolean flag on the inclusive
        // one; later drafts as a number. Read both as the number form.
        if m.at(KW_EXCLUSIVE_MAXIMUM) == Some(&Value::Bool(true)) {
            n.exclusive_maximum = n.maximum.take();
        }
        if m.at(KW_EXCLUSIVE_MINIMUM) == Some(&Value::Bool(true)) {
            n.exclusive_minimum = n.minimum.take();
        }
        n
    }

    fn additional(&mut self, v: Option<&'a Value>, path: &Path<'_>, base: &str) -> Additional {
        match v {
            Some(Value::Bool(b)) => Additional {
                permits: *b,
                schema: None,
            },
            // `{}` permits anything, as `true` and no keyword do.
            Some(s @ Value::Object(m)) if !m.is_empty() => Additional {
                permits: true,
                schema: Some(self.schema(s, path, base)),
            },
            _ => Additional::default(),
        }
    }

    fn object_node(
        &mut self,
        m: &Keywords<'a>,
        path: &Path<'_>,
        base: &str,
        required_type: bool,
    ) -> ObjectNode {
        let mut o = ObjectNode {
            required_type,
            ..ObjectNode::default()
        };
        if let Some(Value::Object(props)) = m.at(KW_PROPERTIES) {
            let at = path.key("properties");
            o.properties.reserve(props.len());
            for (k, s) in props {
                let id = self.schema(s, &at.key(k), base);
                o.properties.push((k.clone(), id));
            }
        }
        if let Some(Value::Array(req)) = m.at(KW_REQUIRED) {
            o.required = req.iter().filter_map(Value::as_str).map(str::to_string).collect();
        }
        if let Some(Value::Object(pats)) = m.at(KW_PATTERN_PROPERTIES) {
            let at = path.key("patternProperties");
            for (k, s) in pats {
                let here = at.key(k);
                self.check_pattern(
                    k,
                    || here.render(),
                    "which names it applies to is not decided, and is taken cautiously",
                );
                let id = self.schema(s, &here, base);
                o.pattern_properties.push((k.clone(), id));
            }
        }
        o.additional = self.additional(
            m.at(KW_ADDITIONAL_PROPERTIES),
            &path.key("additionalProperties"),
            base,
        );
        if let Some(u) = m.at(KW_UNEVALUATED_PROPERTIES) {
            o.unevaluated = Some(self.schema(u, &path.key("unevaluatedProperties"), base));
        }
        if let Some(p) = m.at(KW_PROPERTY_NAMES).filter(|p| !accepts_all(p)) {
            o.property_names = Some(self.schema(p, &path.key("propertyNames"), base));
        }
        let mut deps: Vec<(&str, &'a Map<String, Value>)> = Vec::new();
        if let Some(Value::Object(d)) = m.at(KW_DEPENDENCIES) {
            deps.push(("dependencies", d));
        }
        for (kw, slot) in [
            ("dependentRequired", KW_DEPENDENT_REQUIRED),
            ("dependentSchemas", KW_DEPENDENT_SCHEMAS),
        ] {
            if let Some(Value::Object(d)) = m.at(slot) {
                deps.push((kw, d));
            }
        }
        for (kw, d) in deps {
            let at = path.key(kw);
            for (k, v) in d {
                match v {
                    Value::Array(names) => {
                        let set: BTreeSet<String> = names
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect();
                        // An empty list requires nothing: the same as no entry.
                        if !set.is_empty() {
                            o.dependency_arrays.insert(k.clone(), set);
                        }
                    }
                    // A dependent schema that accepts anything is no dependency.
                    s if accepts_all(s) => {}
                    s => {
                        let id = self.schema(s, &at.key(k), base);
                        o.dependency_schemas.insert(k.clone(), id);
                    }
                }
            }
        }
        o.min_properties = positive(m.at(KW_MIN_PROPERTIES));
        o.max_properties = number(m.at(KW_MAX_PROPERTIES));
        o
    }

    fn array_node(
        &mut self,
        m: &Keywords<'a>,
        path: &Path<'_>,
        base: &str,
        required_type: bool,
    ) -> ArrayNode {
        let mut a = ArrayNode {
            required_type,
            ..ArrayNode::default()
        };
        let tuple = |this: &mut Self, items: &'a [Value], kw: &str| -> Vec<Id> {
            let at = path.key(kw);
            items
                .iter()
                .enumerate()
                .map(|(i, s)| this.schema(s, &at.index(i), base))
                .collect()
        };
        let items_path = path.key("items");
        if self.draft >= Draft::D2020 {
            let prefix = match m.at(KW_PREFIX_ITEMS) {
                Some(Value::Array(p)) => Some(tuple(self, p, "prefixItems")),
                _ => None,
            };
            let items = m.at(KW_ITEMS);
            if let Some(prefix) = prefix {
                a.prefix = prefix;
                a.additional = self.additional(items, &items_path, base);
            } else {
                match items {
                    // `items: true` alone says nothing; `items: false` alone
                    // allows only the empty array, as `additionalItems: false`.
                    Some(Value::Bool(true)) | None => {}
                    Some(Value::Bool(false)) => {
                        a.additional = Additional {
                            permits: false,
                            schema: None,
                        }
                    }
                    Some(s) if accepts_all(s) => {}
                    Some(s) => a.all_items = Some(self.schema(s, &items_path, base)),
                }
            }
        } else {
            match m.at(KW_ITEMS) {
                Some(Value::Array(p)) => a.prefix = tuple(self, p, "items"),
                Some(s) if accepts_all(s) => {}
                Some(s) => a.all_items = Some(self.schema(s, &items_path, base)),
                None => {}
            }
            a.additional = self.additional(m.at(KW_ADDITIONAL_ITEMS), &path.key("additionalItems"), base);
        }
        if let Some(u) = m.at(KW_UNEVALUATED_ITEMS) {
            a.unevaluated = Some(self.schema(u, &path.key("unevaluatedItems"), base));
        }
        if let Some(c) = m.at(KW_CONTAINS) {
            a.contains = Some(self.schema(c, &path.key("contains"), base));
            // `contains` means "at least one" in every draft, which 2019-09
            // spells `minContains: 1`: writing the default out is no change.
            a.min_contains = number(m.at(KW_MIN_CONTAINS)).or(Some(1.0));
            a.max_contains = number(m.at(KW_MAX_CONTAINS));
        }
        a.min_items = positive(m.at(KW_MIN_ITEMS));
        a.max_items = number(m.at(KW_MAX_ITEMS));
        a.unique_items = m.at(KW_UNIQUE_ITEMS) == Some(&Value::Bool(true));
        a
    }

    fn resolve_all(&mut self) -> Result<(), Error> {
        while let Some(p) = self.pending.pop() {
            let target = self.lookup(&p)?;
            self.nodes[p.node].kind = Kind::Ref(target);
        }
        Ok(())
    }

    fn lookup(&mut self, p: &Pending) -> Result<Id, Error> {
        let unresolved = |why: &str| Error::UnresolvedReference {
            reference: p.reference.clone(),
            location: p.location.clone(),
            reason: why.to_string(),
        };
        let absolute = join(&p.base, &p.reference);
        if let Some(id) = self.anchors.get(&absolute) {
            return Ok(*id);
        }
        let (resource, fragment) = split_fragment(&absolute);
        let Some((resource_value, resource_ptr)) = self.resources.get(&resource).cloned() else {
            return Err(unresolved(
                "it points outside this document; Accord never fetches schemas",
            ));
        };
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return Err(unresolved("no `$anchor` or `$id` in this document has that name"));
        }
        let fragment = percent_decode(&fragment);
        match resource_value.pointer(&fragment) {
            Some(v) if self.by_value.contains_key(&address(v)) => Ok(self.by_value[&address(v)]),
            // A pointer into a place the walk did not read as a schema (an
            // unknown keyword, say): read the value there as one.
            Some(v @ (Value::Object(_) | Value::Bool(_))) => {
                let pointer = format!("{resource_ptr}{fragment}");
                let at = Path {
                    up: None,
                    seg: Seg::Pointer(&pointer),
                };
                Ok(self.schema(v, &at, &resource))
            }
            Some(_) => Err(unresolved("the JSON pointer does not lead to a schema")),
            None => Err(unresolved("nothing in this document is at that JSON pointer")),
        }
    }
}

/// Rejects chains of references that never reach a schema (`a` → `b` → `a`)
/// or are longer than `max_hops`.
fn check_chains(arena: &Arena, max_hops: usize) -> Result<(), Error> {
    let mut chain = Vec::new();
    for start in 0..arena.nodes.len() {
        chain.clear();
        let mut id = start;
        while let Kind::Ref(next) = arena.nodes[id].kind {
            chain.push(id);
            if chain.contains(&next) {
                return Err(Error::InvalidSchema {
                    path: "#".into(),
                    message: "a cycle of `$ref`s that never reaches a schema".into(),
                });
            }
            if chain.len() > max_hops {
                return Err(Error::LimitExceeded {
                    limit: "$ref hops",
                    value: chain.len(),
                    max: max_hops,
                });
            }
            id = next;
        }
    }
    Ok(())
}

/// Escapes a JSON pointer segment (RFC 6901).
pub(crate) fn escape(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains(['~', '/']) {
        segment.replace('~', "~0").replace('/', "~1").into()
    } else {
        segment.into()
    }
}

/// `%25`-style escapes in a `$ref` fragment.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn split_fragment(uri: &str) -> (String, String) {
    match uri.split_once('#') {
        Some((r, f)) => (r.to_string(), f.to_string()),
        None => (uri.to_string(), String::new()),
    }
}

fn has_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    for c in chars {
        if c == ':' {
            return true;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) {
            return false;
        }
    }
    false
}

/// Resolves `reference` against `base`, as RFC 3986 does for the forms
/// schemas use (absolute, fragment-only, absolute path, relative path).
pub(crate) fn join(base: &str, reference: &str) -> String {
    if has_scheme(reference) {
        return reference.to_string();
    }
    let (base, _) = split_fragment(base);
    if reference.is_empty() {
        return base;
    }
    if reference.starts_with('#') {
        return format!("{base}{reference}");
    }
    let scheme_end = base.find(':').map_or(0, |i| i + 1);
    let (scheme, rest) = base.split_at(scheme_end);
    if let Some(r) = reference.strip_prefix("//") {
        return format!("{scheme}//{r}");
    }
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(i) => (format!("//{}", &after[..i]), after[i..].to_string()),
            None => (format!("//{after}"), "/".to_string()),
        },
        None => (String::new(), rest.to_string()),
    };
    let (ref_path, ref_frag) = match reference.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (reference, None),
    };
    let merged = if ref_path.starts_with('/') {
        ref_path.to_string()
    } else {
        let dir = match path.rfind('/') {
            Some(i) => &path[..=i],
            None => "/",
        };
        format!("{dir}{ref_path}")
    };
    let mut segments: Vec<&str> = Vec::new();
    for seg in merged.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = format!("{scheme}{authority}/{}", segments.join("/"));
    if let Some(f) = ref_frag {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_references_like_rfc_3986() {
        assert_eq!(join("http://x.org/a/b.json", "c.json"), "http://x.org/a/c.json");
        assert_eq!(join("http://x.org/a/b.json", "#/d"), "http://x.org/a/b.json#/d");
        assert_eq!(join("http://x.org/a/b.json", "/c"), "http://x.org/c");
        assert_eq!(join("http://x.org/a/b/", "../c#x"), "http://x.org/a/c#x");
        assert_eq!(join("http://x.org/a", "urn:y"), "urn:y");
        assert_eq!(join(DEFAULT_BASE, "node"), "accord:///node");
    }

    #[test]
    fn decodes_percent_escapes_in_pointers() {
        assert_eq!(percent_decode("/a%20b"), "/a b");
        assert_eq!(percent_decode("/a%2"), "/a%2");
    }
}
