//! Annotations: keywords that describe a schema without changing which
//! documents it accepts. Their changes need only a patch release.

use super::{Sink, declare_rules};
use crate::model::Annotations;
use serde_json::Value;
use std::collections::BTreeSet;

declare_rules! { "annotations";
    ID_CHANGED (true, true, Annotation, Confluent)
        "The schema's `$id` (draft 4: `id`) changed."
        r#"{"$id":"urn:a"}"# => r#"{"$id":"urn:b"}"#,
        note = "Reported in every draft; Confluent's 2020-12 reader reports nothing for it.";
    TITLE_CHANGED (true, true, Annotation, Confluent)
        "The `title` changed."
        r#"{"title":"Order"}"# => r#"{"title":"Purchase order"}"#;
    DESCRIPTION_CHANGED (true, true, Annotation, Confluent)
        "The `description` changed."
        r#"{"description":"an order"}"# => r#"{"description":"a purchase order"}"#;
    DEFAULT_CHANGED (true, true, Annotation, Confluent)
        "The `default` value changed; validation never uses it."
        r#"{"type":"integer","default":1}"# => r#"{"type":"integer","default":2}"#;
    ANNOTATION_CHANGED (true, true, Annotation, Accord)
        "Another annotation (`examples`, `$comment`, `deprecated`, `readOnly`, `writeOnly`, `content*`, or a keyword no draft defines) was added, removed or changed."
        r#"{"type":"string","examples":["a"]}"# => r#"{"type":"string","examples":["b"]}"#,
        note = "Confluent ignores these keywords; Accord reports them so the required bump is at least a patch.";
}

fn text(v: &Option<Value>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "none".into(),
    }
}

/// Compares the annotations of two paired nodes.
pub(crate) fn check(out: &mut dyn Sink, a: &Annotations, b: &Annotations) {
    if std::ptr::eq(a, b) || a == b {
        return;
    }
    if a.id != b.id {
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "none".into());
        out.emit(
            &ID_CHANGED,
            None,
            format!("'$id' changed from {} to {}", show(&a.id), show(&b.id)),
        );
    }
    for (rule, kw, x, y) in [
        (&TITLE_CHANGED, "title", &a.title, &b.title),
        (
            &DESCRIPTION_CHANGED,
            "description",
            &a.description,
            &b.description,
        ),
        (&DEFAULT_CHANGED, "default", &a.default, &b.default),
    ] {
        if x != y {
            out.emit(
                rule,
                None,
                format!("'{kw}' changed from {} to {}", text(x), text(y)),
            );
        }
    }
    let keys: BTreeSet<&String> = a.other.keys().chain(b.other.keys()).collect();
    for k in keys {
        let (x, y) = (a.other.get(k), b.other.get(k));
        if x != y {
            out.emit(
                &ANNOTATION_CHANGED,
                Some(&crate::model::escape(k)),
                format!(
                    "'{k}' changed from {} to {}",
                    text(&x.cloned()),
                    text(&y.cloned())
                ),
            );
        }
    }
}
