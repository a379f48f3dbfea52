//! Generated contracts: the names and schemas that `seed` publishes and the
//! load reads back.

/// The shape of a seeded registry.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Number of components.
    pub components: usize,
    /// Contracts per component.
    pub contracts: usize,
    /// Versions per contract.
    pub versions: usize,
}

impl Shape {
    /// Every seeded contract as (component, contract).
    pub fn names(&self) -> Vec<(String, String)> {
        let mut names = Vec::with_capacity(self.components * self.contracts);
        for c in 0..self.components {
            for k in 0..self.contracts {
                names.push((component(c), contract(k)));
            }
        }
        names
    }
}

/// The name of the `c`-th seeded component.
pub fn component(c: usize) -> String {
    format!("svc-{c:03}")
}

/// The name of the `k`-th seeded contract of a component.
pub fn contract(k: usize) -> String {
    format!("event-{k:03}.v")
}

/// The schema of version number `version` (0-based) of a contract: an order
/// event of the kind services exchange (nested customer and address, an
/// array of line items, enums, formats), closed to unknown properties, to
/// which each version adds one optional attribute. Adding an optional
/// property to a closed object is a compatible change, so every version is
/// accepted under the default mode.
pub fn schema(component: &str, contract: &str, version: usize) -> String {
    let mut extra = String::new();
    for n in 0..version {
        extra.push_str(&format!(
            r#", "attr_{n}": {{"type": "string", "maxLength": 128, "description": "attribute {n} added in revision {n}"}}"#
        ));
    }
    format!(
        r#"{{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "{component}/{contract}",
  "description": "An order event published by {component}.",
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "created_at", "customer", "items", "currency"],
  "properties": {{
    "id": {{"type": "string", "format": "uuid"}},
    "created_at": {{"type": "string", "format": "date-time"}},
    "currency": {{"type": "string", "enum": ["EUR", "USD", "GBP", "CHF", "JPY"]}},
    "total": {{"type": "number", "minimum": 0}},
    "status": {{"type": "string", "enum": ["placed", "paid", "shipped", "cancelled"]}},
    "customer": {{
      "type": "object",
      "required": ["id", "email"],
      "properties": {{
        "id": {{"type": "string", "maxLength": 64}},
        "email": {{"type": "string", "format": "email", "maxLength": 254}},
        "address": {{
          "type": "object",
          "properties": {{
            "street": {{"type": "string", "maxLength": 200}},
            "city": {{"type": "string", "maxLength": 100}},
            "postcode": {{"type": "string", "pattern": "^[A-Z0-9 -]{{3,10}}$"}},
            "country": {{"type": "string", "minLength": 2, "maxLength": 2}}
          }}
        }}
      }}
    }},
    "items": {{
      "type": "array",
      "minItems": 1,
      "maxItems": 500,
      "items": {{
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {{
          "sku": {{"type": "string", "maxLength": 32}},
          "quantity": {{"type": "integer", "minimum": 1}},
          "unit_price": {{"type": "number", "minimum": 0}},
          "tags": {{"type": "array", "items": {{"type": "string"}}}}
        }}
      }}
    }}{extra}
  }}
}}"#
    )
}
