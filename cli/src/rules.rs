//! Rule metadata for the SARIF rule table.

use serde_json::{Value, json};

/// The SARIF `reportingDescriptor` of rule `id`.
pub fn sarif_rule(id: &str) -> Value {
    let name = id.to_ascii_lowercase().replace('_', " ");
    json!({
        "id": id,
        "name": upper_camel(id),
        "shortDescription": { "text": name },
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
