//! The pages of the web view: one template each (`registry/server/templates/`),
//! checked when the crate compiles, escaping every value as HTML.

use askama::Template;

/// A component in the list.
#[derive(Debug)]
pub struct ComponentRow {
    /// Its name.
    pub name: String,
    /// How many contracts it owns.
    pub contract_count: u32,
}

/// `/`: the components the caller may see.
#[derive(Debug, Template)]
#[template(path = "index.html")]
pub struct Index {
    /// The components, by name.
    pub components: Vec<ComponentRow>,
    /// Whether the caller's token is limited to some components.
    pub scoped: bool,
}

/// A contract in a component's list.
#[derive(Debug)]
pub struct ContractRow {
    /// Its name.
    pub name: String,
    /// The latest release (or pre-release when there is none).
    pub latest: Option<String>,
    /// How many versions are served.
    pub versions: u32,
}

/// `/c/COMPONENT`: its contracts.
#[derive(Debug, Template)]
#[template(path = "component.html")]
pub struct Component {
    /// The component.
    pub component: String,
    /// Its contracts, by name.
    pub contracts: Vec<ContractRow>,
}

/// A version in a contract's list.
#[derive(Debug)]
pub struct VersionRow {
    /// The version.
    pub version: String,
    /// `live`, `deprecated`, `deleted` or `erased`.
    pub state: &'static str,
    /// Whether it is served (has a page).
    pub served: bool,
    /// When it was published, RFC 3339.
    pub created: String,
    /// The token name that published it.
    pub published_by: String,
    /// The bump over its predecessor, as declared.
    pub bump: &'static str,
    /// The deprecation message, or when it was deleted.
    pub note: String,
}

/// A component that reads a contract.
#[derive(Debug)]
pub struct ConsumerRow {
    /// The reading component.
    pub component: String,
    /// The versions it reads (a semver requirement).
    pub requirement: String,
}

/// `/c/COMPONENT/CONTRACT`: versions, settings, the diff form, consumers.
#[derive(Debug, Template)]
#[template(path = "contract.html")]
pub struct Contract {
    /// The component.
    pub component: String,
    /// The contract.
    pub contract: String,
    /// The compatibility mode in force.
    pub mode: String,
    /// The policy in force.
    pub policy: String,
    /// Whether both come from the global settings.
    pub inherited: bool,
    /// Every version, oldest first, deleted ones included.
    pub versions: Vec<VersionRow>,
    /// The served versions, oldest first (the choices of the diff form).
    pub served: Vec<String>,
    /// The components that read it.
    pub consumers: Vec<ConsumerRow>,
}

/// `/c/COMPONENT/CONTRACT/VERSION`: one version and its schema.
#[derive(Debug, Template)]
#[template(path = "version.html")]
pub struct Version {
    /// The component.
    pub component: String,
    /// The contract.
    pub contract: String,
    /// The version.
    pub version: String,
    /// The schema's top-level `description`, if it has one.
    pub description: Option<String>,
    /// The deprecation message and date.
    pub deprecation: Option<String>,
    /// When it was published, RFC 3339.
    pub created: String,
    /// The token name that published it.
    pub published_by: String,
    /// The bump over its predecessor, as declared.
    pub bump: &'static str,
    /// The JSON Schema draft it is read in.
    pub draft: String,
    /// SHA-256 of the canonical schema.
    pub fingerprint: String,
    /// The served version before it, for a diff link.
    pub previous: Option<String>,
    /// The schema text, as stored (pretty-printed when stored on one line).
    pub schema: String,
}

/// A finding on the diff page.
#[derive(Debug)]
pub struct FindingRow {
    /// The rule id.
    pub rule: String,
    /// Whether it is compatible under the settings.
    pub compatible: bool,
    /// `backward` or `forward`.
    pub direction: &'static str,
    /// The one-line message.
    pub message: String,
    /// JSON pointer in the old schema.
    pub old_path: String,
    /// JSON pointer in the new schema.
    pub new_path: String,
    /// A document that shows the break, pretty-printed.
    pub witness: Option<String>,
    /// What the witness shows, in words.
    pub witness_caption: &'static str,
}

/// `/c/COMPONENT/CONTRACT/diff/A..B`: the comparison of two versions.
#[derive(Debug, Template)]
#[template(path = "diff.html")]
pub struct Diff {
    /// The component.
    pub component: String,
    /// The contract.
    pub contract: String,
    /// The older side.
    pub from: String,
    /// The newer side.
    pub to: String,
    /// Whether no finding breaks under the settings.
    pub compatible: bool,
    /// The mode compared under.
    pub mode: String,
    /// The policy compared under.
    pub policy: String,
    /// The bump the change requires.
    pub bump: &'static str,
    /// How many findings break.
    pub breaking: usize,
    /// The findings, breaking ones first.
    pub findings: Vec<FindingRow>,
}

/// An error page (400, 401, 403, 404, 405, 500, 503).
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct Error {
    /// The status in words.
    pub title: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}
