//! The HTTP port (`--http-listen`): Prometheus metrics on `/metrics`, and a
//! read-only web view of the registry.
//!
//! - [`pages`]: one compile-time-checked template per page; every value is
//!   escaped as HTML.
//! - `style.css`: the only style sheet, served from `/style.css`.
//!
//! Pages are rendered on the server, need no script and fetch nothing from
//! elsewhere; their URLs are stable:
//!
//! | path | page |
//! |---|---|
//! | `/` | components |
//! | `/c/COMPONENT` | its contracts |
//! | `/c/COMPONENT/CONTRACT` | versions (state, date, publisher, bump, deprecation), settings, a form to diff two |
//! | `/c/COMPONENT/CONTRACT/VERSION` | one version and its schema (`…/raw`: the text alone) |
//! | `/c/COMPONENT/CONTRACT/diff/A..B` | findings of A → B, breaking first, with witnesses and the bump |
//!
//! Only GET and HEAD are answered: nothing is ever written through HTTP.
//! With access control on, everything but the style sheet needs a token,
//! read from `Authorization: Bearer TOKEN` or, for a browser, from `Basic`
//! credentials whose password is the token (the browser asks for them
//! after a 401). Roles and scopes apply as on gRPC: any role reads, a
//! scoped token sees only its components, and `/metrics` (about every
//! component) needs an unscoped one.

pub mod pages;

use std::{future::Future, time::Duration};

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    serve::ListenerExt,
};
use tokio::net::TcpListener;

use crate::{
    auth::{Gate, Principal, Refusal, Role},
    error::Error,
    model::{ContractName, StoredVersion, VersionRecord, validate_name},
    page::{MAX_PAGE_SIZE, Page, PageRequest},
    service::Registry,
};

const STYLE: &str = include_str!("style.css");

/// What a browser is told after a 401, so that it asks for credentials.
const CHALLENGE: &str =
    "Basic realm=\"Accord registry: any user name, a token as the password\", charset=\"UTF-8\"";

/// No script runs, nothing is fetched from elsewhere, no page can frame these.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Debug, Clone)]
struct Web {
    registry: Registry,
    gate: Gate,
}

/// Serves `/metrics` and the web view on `listener` until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    gate: Gate,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(registry, gate))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes of the HTTP port.
pub fn router(registry: Registry, gate: Gate) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/metrics", get(metrics))
        .route("/style.css", get(style))
        .route("/c/{component}", get(component))
        .route("/c/{component}/{contract}", get(contract))
        .route("/c/{component}/{contract}/diff", get(diff_form))
        .route("/c/{component}/{contract}/diff/{range}", get(diff))
        .route("/c/{component}/{contract}/{version}", get(version))
        .route("/c/{component}/{contract}/{version}/raw", get(raw))
        .fallback(not_found)
        .method_not_allowed_fallback(read_only)
        .with_state(Web { registry, gate })
        .layer(tower::util::MapResponseLayer::new(secure))
}

/// Headers every answer carries, unless it set its own.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Pages may be behind a token: no shared cache keeps them.
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

/// An error answered as a page.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    page: pages::Error,
    challenge: bool,
}

impl Failure {
    fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            page: pages::Error {
                title,
                message: message.into(),
                hint: None,
            },
            challenge: false,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.page.hint = Some(hint.into());
        self
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", message)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::InvalidArgument { .. } => Failure::bad_request(message),
            Error::NotFound { .. } => Failure::new(StatusCode::NOT_FOUND, "Not found", message),
            Error::Refused(_) | Error::FailedPrecondition { .. } => {
                Failure::new(StatusCode::CONFLICT, "Conflict", message)
            }
            Error::LimitExceeded { .. } | Error::SchemaLimit(_) | Error::Budget { .. } => {
                Failure::new(StatusCode::UNPROCESSABLE_ENTITY, "Over a limit", message)
            }
            Error::Unavailable(_) => Failure::new(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", message)
                .hint("Try again in a moment."),
            Error::Storage(_) | Error::Internal(_) => {
                tracing::error!(error = %message, "web view: a request failed");
                Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "The registry failed to answer; its log has the details.",
                )
            }
        }
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        let message = match refusal {
            Refusal::Missing => "This registry requires a token.",
            Refusal::Malformed => {
                "The Authorization header must be \"Bearer <token>\", or Basic credentials whose password is the token."
            }
            Refusal::Unknown => "The token is not valid (unknown or revoked).",
            Refusal::Unreadable(status) => {
                return Failure::new(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", status.message());
            }
        };
        let mut failure = Failure::new(StatusCode::UNAUTHORIZED, "Token required", message).hint(
            "In a browser, give any user name and a token as the password; from a script, send Authorization: Bearer <token>. Any role reads.",
        );
        failure.challenge = true;
        failure
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = render(self.status, &self.page);
        if self.challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}

/// A page, or the error page when the template fails.
fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "web view: a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "the page failed to render; the registry's log has the details\n",
            )
                .into_response()
        }
    }
}

type Answer = Result<Response, Failure>;

impl Web {
    /// The caller, allowed to read `component` (`None`: something about
    /// every component, which needs an unscoped token).
    fn reader(&self, headers: &HeaderMap, component: Option<&str>) -> Result<Principal, Failure> {
        let principal = self.gate.authenticate_http(headers)?;
        principal
            .allow("reading", Role::Reader, component)
            .map_err(|denied| Failure::new(StatusCode::FORBIDDEN, "Forbidden", denied.message()))?;
        Ok(principal)
    }

    /// The served version a URL names, for a caller allowed to read it.
    fn stored(
        &self,
        headers: &HeaderMap,
        component: &str,
        contract: &str,
        version: &str,
    ) -> Result<StoredVersion, Failure> {
        self.reader(headers, Some(component))?;
        let version = version_in_url(version)?;
        Ok(self.registry.get(component, contract, &version.to_string())?)
    }
}

/// Every item of a listing, page after page.
fn all<T>(mut page: impl FnMut(&PageRequest) -> Result<Page<T>, Error>) -> Result<Vec<T>, Error> {
    let mut request = PageRequest {
        size: MAX_PAGE_SIZE as i32,
        token: String::new(),
    };
    let mut items = Vec::new();
    loop {
        let next = page(&request)?;
        items.extend(next.items);
        if next.next_token.is_empty() {
            return Ok(items);
        }
        request.token = next.next_token;
    }
}

/// A version named in a URL, or a 400 page naming it.
fn version_in_url(text: &str) -> Result<semver::Version, Failure> {
    semver::Version::parse(text).map_err(|e| {
        Failure::bad_request(format!("{text:?} is not a version: {e}"))
            .hint("Versions are SemVer 2.0, e.g. 1.4.0 or 2.0.0-rc.1.")
    })
}

fn rfc3339(millis: i64) -> String {
    let at = std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

fn bump_name(bump: Option<accord_compat::Bump>) -> &'static str {
    use accord_compat::Bump;
    match bump {
        None => "—",
        Some(Bump::None) => "none",
        Some(Bump::Patch) => "patch",
        Some(Bump::Minor) => "minor",
        Some(Bump::Major) => "major",
    }
}

fn state_of(record: &VersionRecord) -> &'static str {
    if record.erased.is_some() {
        "erased"
    } else if record.deleted_at.is_some() {
        "deleted"
    } else if record.deprecated.is_some() {
        "deprecated"
    } else {
        "live"
    }
}

/// The components that read a contract. Consumers are not registered yet:
/// this is where the page will ask the registry for them.
fn consumers_of(registry: &Registry, name: &ContractName) -> Vec<pages::ConsumerRow> {
    registry
        .list_consumers(&crate::service::consumers::ConsumersOf::Contract(name.clone()))
        .map(|list| {
            list.into_iter()
                .map(|(c, _)| pages::ConsumerRow {
                    component: c.consumer,
                    requirement: c.requirement.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn index(State(web): State<Web>, headers: HeaderMap) -> Answer {
    let principal = web.gate.authenticate_http(&headers)?;
    let may_see = |c: &str| principal.covers(Some(c));
    let components = all(|page| web.registry.list_components(page, &may_see))?;
    Ok(render(
        StatusCode::OK,
        &pages::Index {
            components: components
                .into_iter()
                .map(|c| pages::ComponentRow {
                    name: c.name,
                    contract_count: c.contract_count,
                })
                .collect(),
            scoped: !principal.scopes.is_empty(),
        },
    ))
}

async fn metrics(State(web): State<Web>, headers: HeaderMap) -> Answer {
    web.reader(&headers, None)?;
    Ok((
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        web.registry.metrics_text(),
    )
        .into_response())
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn component(State(web): State<Web>, headers: HeaderMap, Path(component): Path<String>) -> Answer {
    web.reader(&headers, Some(&component))?;
    let contracts = all(|page| web.registry.list_contracts(&component, page))?;
    Ok(render(
        StatusCode::OK,
        &pages::Component {
            contracts: contracts
                .into_iter()
                .map(|c| pages::ContractRow {
                    name: c.name.contract().to_owned(),
                    latest: c.latest.map(|v| v.to_string()),
                    versions: c.version_count,
                })
                .collect(),
            component,
        },
    ))
}

async fn contract(
    State(web): State<Web>,
    headers: HeaderMap,
    Path((component, contract)): Path<(String, String)>,
) -> Answer {
    web.reader(&headers, Some(&component))?;
    let name = ContractName::new(&component, &contract).map_err(Error::from)?;
    let records = all(|page| web.registry.list_versions(&component, &contract, true, page))?;
    let config = web.registry.get_config(&component, &contract)?;
    let versions: Vec<pages::VersionRow> = records
        .iter()
        .map(|r| pages::VersionRow {
            version: r.version.to_string(),
            state: state_of(r),
            served: r.is_visible(),
            created: rfc3339(r.created_at),
            published_by: r.published_by.clone(),
            bump: bump_name(r.bump),
            note: match (&r.erased, r.deleted_at, &r.deprecated) {
                (Some(t), _, _) => format!("erased {} by {}", rfc3339(t.at), t.by),
                (None, Some(at), _) => format!("deleted {}", rfc3339(at)),
                (None, None, Some(d)) => format!("deprecated {}: {}", rfc3339(d.at), d.message),
                (None, None, None) => String::new(),
            },
        })
        .collect();
    let served = versions
        .iter()
        .filter(|v| v.served)
        .map(|v| v.version.clone())
        .collect();
    Ok(render(
        StatusCode::OK,
        &pages::Contract {
            mode: config.config.mode.to_string(),
            policy: config.config.policy.to_string(),
            inherited: config.inherited,
            versions,
            served,
            consumers: consumers_of(&web.registry, &name),
            component,
            contract,
        },
    ))
}

/// The schema as stored, pretty-printed when it was stored on one line.
fn readable(text: &str) -> String {
    if text.trim_end().contains('\n') {
        return text.to_owned();
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

async fn version(
    State(web): State<Web>,
    headers: HeaderMap,
    Path((component, contract, version)): Path<(String, String, String)>,
) -> Answer {
    let stored = web.stored(&headers, &component, &contract, &version)?;
    let record = &stored.record;
    let served = all(|page| web.registry.list_versions(&component, &contract, false, page))?;
    let previous = served
        .iter()
        .map(|r| &r.version)
        .take_while(|v| **v < record.version)
        .last()
        .map(ToString::to_string);
    let description = serde_json::from_str::<serde_json::Value>(&stored.schema)
        .ok()
        .and_then(|v| v.get("description")?.as_str().map(str::to_owned));
    Ok(render(
        StatusCode::OK,
        &pages::Version {
            version: record.version.to_string(),
            description,
            deprecation: record
                .deprecated
                .as_ref()
                .map(|d| format!("{} (since {})", d.message, rfc3339(d.at))),
            created: rfc3339(record.created_at),
            published_by: record.published_by.clone(),
            bump: bump_name(record.bump),
            draft: record
                .draft
                .map_or_else(|| "default".to_owned(), |d| d.to_string()),
            fingerprint: record.fingerprint.clone(),
            previous,
            schema: readable(&stored.schema),
            component,
            contract,
        },
    ))
}

async fn raw(
    State(web): State<Web>,
    headers: HeaderMap,
    Path((component, contract, version)): Path<(String, String, String)>,
) -> Answer {
    let stored = web.stored(&headers, &component, &contract, &version)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        stored.schema.to_string(),
    )
        .into_response())
}

#[derive(Debug, serde::Deserialize)]
struct DiffForm {
    from: Option<String>,
    to: Option<String>,
}

/// The diff form's answer: the stable URL of the diff it asks for.
async fn diff_form(
    State(web): State<Web>,
    headers: HeaderMap,
    Path((component, contract)): Path<(String, String)>,
    Query(form): Query<DiffForm>,
) -> Answer {
    web.reader(&headers, Some(&component))?;
    validate_name("component", &component).map_err(Error::from)?;
    validate_name("contract", &contract).map_err(Error::from)?;
    let (Some(from), Some(to)) = (form.from, form.to) else {
        return Err(Failure::bad_request(
            "a diff needs two versions: ?from=A&to=B, or the address /c/COMPONENT/CONTRACT/diff/A..B",
        ));
    };
    let (from, to) = (version_in_url(&from)?, version_in_url(&to)?);
    Ok(Redirect::to(&format!("/c/{component}/{contract}/diff/{from}..{to}")).into_response())
}

async fn diff(
    State(web): State<Web>,
    headers: HeaderMap,
    Path((component, contract, range)): Path<(String, String, String)>,
) -> Answer {
    web.reader(&headers, Some(&component))?;
    let Some((from, to)) = range.split_once("..") else {
        return Err(
            Failure::bad_request(format!("{range:?} is not a range of two versions"))
                .hint("Write it FROM..TO, e.g. 1.4.0..2.0.0."),
        );
    };
    let (from, to) = (version_in_url(from)?, version_in_url(to)?);
    let outcome = web
        .registry
        .diff(
            &component,
            &contract,
            &from.to_string(),
            &to.to_string(),
            None,
            None,
        )
        .await?;
    let mut findings = outcome.findings;
    // Breaking first; the engine's order (by path, then rule) within each.
    findings.sort_by_key(|f| f.compatible);
    let breaking = findings.iter().filter(|f| !f.compatible).count();
    let findings = findings
        .into_iter()
        .map(|f| {
            let forward = f.direction == accord_compat::Direction::Forward;
            pages::FindingRow {
                witness: f
                    .witness
                    .as_ref()
                    .and_then(|w| serde_json::to_string_pretty(w).ok()),
                witness_caption: if forward {
                    "A document the new version accepts and the old one rejects (old readers fail on new data):"
                } else {
                    "A document the old version accepts and the new one rejects (new readers fail on old data):"
                },
                direction: if forward { "forward" } else { "backward" },
                rule: f.rule,
                compatible: f.compatible,
                message: f.message,
                old_path: f.old_path,
                new_path: f.new_path,
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &pages::Diff {
            from: from.to_string(),
            to: to.to_string(),
            compatible: outcome.compatible,
            mode: outcome.config.mode.to_string(),
            policy: outcome.config.policy.to_string(),
            bump: bump_name(Some(outcome.required_bump)),
            breaking,
            findings,
            component,
            contract,
        },
    ))
}

async fn not_found(uri: Uri) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "Not found",
        format!("There is no page at {}.", crate::page::truncate(uri.path())),
    )
    .hint("Pages are /, /c/COMPONENT, /c/COMPONENT/CONTRACT, /c/COMPONENT/CONTRACT/VERSION and /c/COMPONENT/CONTRACT/diff/A..B.")
}

async fn read_only() -> Failure {
    Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Read-only",
        "This view only reads: nothing can be changed through HTTP. Use the gRPC API or the accord command.",
    )
}
