//! SARIF rule descriptors, from the engine's rule registry.

use serde_json::{Value, json};

/// The SARIF `reportingDescriptor` of rule `id`. A rule the engine does not
/// know (a newer registry's) still gets an entry, so every result has one.
pub fn sarif_rule(id: &str) -> Value {
    let Some(rule) = accord_compat::rule(id) else {
        return json!({
            "id": id,
            "name": upper_camel(id),
            "shortDescription": { "text": id.to_ascii_lowercase().replace('_', " ") },
        });
    };
    let verdict = |compatible: bool| if compatible { "compatible" } else { "breaking" };
    let mut full = format!(
        "{} Backward: {} under STRICT, {} under LENIENT.",
        rule.purpose,
        verdict(rule.strict_compatible),
        verdict(rule.lenient_compatible)
    );
    if !rule.note.is_empty() {
        full.push(' ');
        full.push_str(rule.note);
    }
    json!({
        "id": rule.id,
        "name": upper_camel(rule.id),
        "shortDescription": { "text": rule.purpose },
        "fullDescription": { "text": full },
        "help": {
            "text": format!("Example: {} → {}", rule.example_old, rule.example_new),
        },
        "defaultConfiguration": {
            "level": if rule.strict_compatible { "note" } else { "error" },
        },
        "properties": {
            "family": rule.family,
            "origin": rule.origin,
            "kind": rule.kind,
            "strictCompatible": rule.strict_compatible,
            "lenientCompatible": rule.lenient_compatible,
        },
    })
}

fn upper_camel(id: &str) -> String {
    id.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_rule_has_a_descriptor_with_its_purpose() {
        for rule in accord_compat::rules() {
            let d = sarif_rule(rule.id);
            assert_eq!(d["id"], rule.id);
            assert_eq!(d["shortDescription"]["text"], rule.purpose);
            let expected = if rule.strict_compatible { "note" } else { "error" };
            assert_eq!(d["defaultConfiguration"]["level"], expected, "{}", rule.id);
        }
    }

    #[test]
    fn an_unknown_rule_still_gets_a_descriptor() {
        let d = sarif_rule("SOMETHING_NEW");
        assert_eq!(d["name"], "SomethingNew");
        assert_eq!(d["shortDescription"]["text"], "something new");
    }
}
