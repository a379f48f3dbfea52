//! Payload validation: a contract's schema compiled once into a
//! [`Validator`], reused for every document.

use accord_compat::Draft;
use serde_json::Value;

use crate::{ContractVersion, Error};

/// One reason a document does not satisfy a contract.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ValidationIssue {
    /// JSON pointer of the offending place in the document (`""` for the
    /// whole document, `/items/0/price` …).
    pub instance_path: String,
    /// JSON pointer of the schema keyword that refused it.
    pub schema_path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ValidationIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.instance_path.is_empty() {
            "/"
        } else {
            &self.instance_path
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// A compiled contract schema. Compiling is the expensive part: keep the
/// validator and reuse it for every document.
///
/// References are resolved only inside the schema document: a `$ref` to
/// anything else makes [`Validator::compile`] fail, as nothing is ever
/// fetched. A schema without `$schema` is read in the draft the registry
/// recorded when the version was published ([`ContractVersion::draft`]),
/// and as draft-07 when it recorded none or the schema did not come from it.
///
/// ```
/// use accord_client::Validator;
/// use serde_json::json;
///
/// let schema = json!({
///     "type": "object",
///     "required": ["id"],
///     "properties": {
///         "id": {"type": "string"},
///         "items": {"type": "array", "items": {"type": "integer", "minimum": 0}}
///     }
/// });
/// let validator = Validator::from_schema("orders/order-placed@1.0.0", &schema)?;
/// assert!(validator.validate(&json!({"id": "a1", "items": [1, 2]})).is_ok());
///
/// let issues = validator.errors(&json!({"items": [1, -2, "x"]}));
/// let paths: Vec<&str> = issues.iter().map(|i| i.instance_path.as_str()).collect();
/// assert!(paths.contains(&""));          // "id" is missing
/// assert!(paths.contains(&"/items/1"));  // below the minimum
/// assert!(paths.contains(&"/items/2"));  // not an integer
/// # Ok::<(), accord_client::Error>(())
/// ```
#[derive(Debug)]
pub struct Validator {
    label: String,
    inner: jsonschema::Validator,
}

impl Validator {
    /// Compiles the schema of a fetched contract.
    pub fn compile(contract: &ContractVersion) -> Result<Self, Error> {
        let schema = contract.schema_json()?;
        Self::from_schema_in(
            format!("{}@{}", contract.name, contract.version),
            &schema,
            contract.draft.unwrap_or_default(),
        )
    }

    /// Compiles a schema document, read as draft-07 when it has no
    /// `$schema`; `label` names it in errors.
    pub fn from_schema(label: impl Into<String>, schema: &Value) -> Result<Self, Error> {
        Self::from_schema_in(label, schema, Draft::D7)
    }

    /// Compiles a schema document, read in `default_draft` when it has no
    /// `$schema`; `label` names it in errors.
    pub fn from_schema_in(
        label: impl Into<String>,
        schema: &Value,
        default_draft: Draft,
    ) -> Result<Self, Error> {
        let label = label.into();
        let mut options = jsonschema::options().offline();
        if schema.get("$schema").is_none() {
            options = options.with_draft(match default_draft {
                Draft::D4 => jsonschema::Draft::Draft4,
                Draft::D6 => jsonschema::Draft::Draft6,
                Draft::D7 => jsonschema::Draft::Draft7,
                Draft::D2019 => jsonschema::Draft::Draft201909,
                Draft::D2020 => jsonschema::Draft::Draft202012,
            });
        }
        let inner = options.build(schema).map_err(|e| Error::InvalidSchema {
            contract: label.clone(),
            message: e.to_string(),
        })?;
        Ok(Self { label, inner })
    }

    /// The contract this validator checks, as `component/contract@version`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether `document` satisfies the schema (the fastest check).
    pub fn is_valid(&self, document: &Value) -> bool {
        self.inner.is_valid(document)
    }

    /// Every reason `document` does not satisfy the schema; empty when it does.
    pub fn errors(&self, document: &Value) -> Vec<ValidationIssue> {
        self.inner
            .iter_errors(document)
            .map(|e| ValidationIssue {
                instance_path: e.instance_path().as_str().to_owned(),
                schema_path: e.schema_path().as_str().to_owned(),
                message: e.to_string(),
            })
            .collect()
    }

    /// `Ok` when `document` satisfies the schema, otherwise
    /// [`Error::InvalidPayload`] with every issue.
    pub fn validate(&self, document: &Value) -> Result<(), Error> {
        let issues = self.errors(document);
        if issues.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidPayload {
                contract: self.label.clone(),
                issues,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_error_comes_with_its_path() {
        let v = Validator::from_schema(
            "t",
            &json!({
                "type": "object",
                "properties": {"a": {"type": "object", "properties": {"b": {"maxLength": 2}}}},
                "additionalProperties": false
            }),
        )
        .unwrap();
        let issues = v.errors(&json!({"a": {"b": "long"}, "z": 1}));
        let mut paths: Vec<_> = issues.iter().map(|i| i.instance_path.clone()).collect();
        paths.sort();
        assert_eq!(paths, vec!["".to_owned(), "/a/b".to_owned()], "{issues:?}");
        let err = v.validate(&json!({"z": 1})).unwrap_err().to_string();
        assert!(err.contains('t') && err.contains("z"), "{err}");
    }

    #[test]
    fn drafts_follow_schema_and_default_to_draft_7() {
        // In 2020-12 `items` with an array is not a keyword form; the draft
        // must come from `$schema`.
        let tuple = Validator::from_schema(
            "t",
            &json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "prefixItems": [{"type": "integer"}]}),
        )
        .unwrap();
        assert!(!tuple.is_valid(&json!(["x"])));
        // Draft-07 ignores prefixItems.
        let d7 = Validator::from_schema("t", &json!({"prefixItems": [{"type": "integer"}]})).unwrap();
        assert!(d7.is_valid(&json!(["x"])));
        // The draft the registry recorded applies to a schema without `$schema`.
        let recorded =
            Validator::from_schema_in("t", &json!({"prefixItems": [{"type": "integer"}]}), Draft::D2020)
                .unwrap();
        assert!(!recorded.is_valid(&json!(["x"])));
    }

    #[test]
    fn external_references_are_refused_not_fetched() {
        let err =
            Validator::from_schema("ext", &json!({"$ref": "https://example.invalid/s.json"})).unwrap_err();
        assert!(
            matches!(err, Error::InvalidSchema { ref contract, .. } if contract == "ext"),
            "{err}"
        );
        let local = Validator::from_schema(
            "local",
            &json!({"definitions": {"n": {"type": "integer"}}, "$ref": "#/definitions/n"}),
        )
        .unwrap();
        assert!(!local.is_valid(&json!("x")));
    }
}
