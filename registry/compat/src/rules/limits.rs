//! What the engine reports when it stops early on a hostile schema.

use super::declare_rules;

declare_rules! { "limits";
    COMPARISON_LIMIT_EXCEEDED (false, false, Validation, Accord)
        "The comparison hit its work or depth bound (deeply nested `$ref` chains, `oneOf`s of `oneOf`s...), so its verdict is conservative: breaking."
        "" => "",
        note = "Confluent has no such bound.";
}
