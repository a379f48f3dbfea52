//! The connection to a registry: [`ClientBuilder`], [`RetryPolicy`] and one
//! typed async method per RPC of `accord.v1.RegistryService` on [`Client`].

use std::{
    future::Future,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use accord_proto::v1::{self as pb, registry_service_client::RegistryServiceClient};
use backon::{ExponentialBuilder, Retryable};
use futures::{StreamExt, stream::BoxStream};
use semver::Version;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity},
};

use crate::{
    ConsumerBreaks, ContractName, Error, VersionSelector,
    types::{
        AuditEntry, CheckOutcome, CompatibilityConfig, ComponentSummary, ConfigChange, ConfigSetting,
        ContractSummary, ContractVersion, DiffOutcome, Event, PublishOutcome, mode_to_wire, policy_to_wire,
        time_to_wire,
    },
};

/// How calls that are safe to repeat are retried when the registry is
/// unreachable or too slow: exponential backoff with jitter, bounded both in
/// count and in total time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: usize,
    /// The delay before the first retry.
    pub initial_backoff: Duration,
    /// The longest delay between two attempts.
    pub max_backoff: Duration,
    /// No new attempt starts once this much time has passed since the first.
    pub max_elapsed: Duration,
    /// Randomise delays so that many clients restarting together do not
    /// retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            max_elapsed: Duration::from_secs(15),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff.max(self.initial_backoff))
            .with_factor(2.0)
            .with_max_times(self.max_retries)
            .with_total_delay(Some(self.max_elapsed));
        if self.jitter { b.with_jitter() } else { b }
    }
}

/// Settings of a [`Client`].
///
/// ```no_run
/// # async fn example() -> Result<(), accord_client::Error> {
/// use std::time::Duration;
/// use accord_client::{ClientBuilder, RetryPolicy};
///
/// let client = ClientBuilder::new("http://127.0.0.1:50051")
///     .connect_timeout(Duration::from_secs(2))
///     .call_timeout(Duration::from_secs(5))
///     .retry(RetryPolicy { max_retries: 3, ..RetryPolicy::default() })
///     .cache_dir("/var/cache/my-service/contracts")
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    url: String,
    connect_timeout: Duration,
    call_timeout: Duration,
    retry: RetryPolicy,
    cache_dir: Option<PathBuf>,
    on_retry: Option<RetryHook>,
    token: Option<Secret>,
    tls: TlsSettings,
    register_as: Option<String>,
}

/// A token kept out of `Debug` output, which ends up in logs.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// TLS settings of an `https://` registry.
#[derive(Clone, Default)]
struct TlsSettings {
    ca_pem: Option<Vec<u8>>,
    identity_pem: Option<(Vec<u8>, Vec<u8>)>,
    domain: Option<String>,
}

impl std::fmt::Debug for TlsSettings {
    // The client key is a secret: say only what is configured.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca", &self.ca_pem.is_some())
            .field("identity", &self.identity_pem.is_some())
            .field("domain", &self.domain)
            .finish()
    }
}

/// A function told of every retry, e.g. to count them in metrics.
#[derive(Clone)]
struct RetryHook(Arc<RetryFn>);

type RetryFn = dyn Fn(&str, &Error, Duration) + Send + Sync;

impl std::fmt::Debug for RetryHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetryHook")
    }
}

impl ClientBuilder {
    /// Settings for the registry at `url` (`http://host:port`; a bare
    /// `host:port` is read as `http://host:port`).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let url = if url.contains("://") {
            url
        } else {
            format!("http://{url}")
        };
        Self {
            url,
            connect_timeout: Duration::from_secs(5),
            call_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            cache_dir: None,
            on_retry: None,
            token: None,
            tls: TlsSettings::default(),
            register_as: None,
        }
    }

    /// How long establishing a connection may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt of a unary call may take (default 10 s). Also
    /// sent to the registry as the call's deadline.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// How idempotent calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// A bearer token sent with every call in the `authorization`
    /// metadata, for registries that require one. Not sent by
    /// [`Client::raw`].
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Secret(token.into()));
        self
    }

    /// The CA certificate(s), PEM, that an `https://` registry's certificate
    /// must chain to. Required for `https://`: this client trusts no system
    /// roots, so that what it trusts is always said explicitly.
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.ca_pem = Some(pem.into());
        self
    }

    /// A client certificate and its private key, PEM, for registries that
    /// verify client certificates.
    pub fn tls_identity_pem(mut self, cert: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.tls.identity_pem = Some((cert.into(), key.into()));
        self
    }

    /// The name to verify the registry's certificate against, when it is not
    /// the URL's host.
    pub fn tls_domain(mut self, domain: impl Into<String>) -> Self {
        self.tls.domain = Some(domain.into());
        self
    }

    /// Where [`Client::fetch_contracts`] keeps its last good copies.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Registers the service as the consumer component `consumer` of what
    /// [`Client::fetch_contracts`] fetches fresh from the registry, with the
    /// requirement it fetched by (an exact version as `=1.4.0`, the latest
    /// release as `*`), so that producers cannot break it without knowing.
    /// Off unless set. It needs the publisher role on `consumer` (a token
    /// scoped to it will do); a registration that fails is logged and never
    /// fails the fetch.
    pub fn register_as(mut self, consumer: impl Into<String>) -> Self {
        self.register_as = Some(consumer.into());
        self
    }

    /// Calls `hook` before each retry with the RPC's name, the error that
    /// caused it and the delay before the next attempt.
    pub fn on_retry(mut self, hook: impl Fn(&str, &Error, Duration) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(RetryHook(Arc::new(hook)));
        self
    }

    fn endpoint(&self) -> Result<Endpoint, Error> {
        let endpoint = Endpoint::from_shared(self.url.clone())
            .map(|e| e.connect_timeout(self.connect_timeout))
            .map_err(|e| Error::InvalidUrl {
                url: self.url.clone(),
                reason: error_chain(&e),
            })?;
        let https = endpoint.uri().scheme_str() == Some("https");
        let tls = &self.tls;
        let configured = tls.ca_pem.is_some() || tls.identity_pem.is_some() || tls.domain.is_some();
        if !https {
            if configured {
                return Err(Error::InvalidSetting {
                    setting: "tls",
                    reason: format!(
                        "TLS settings are given but {} is not an https:// address",
                        self.url
                    ),
                });
            }
            return Ok(endpoint);
        }
        let Some(ca) = &tls.ca_pem else {
            return Err(Error::InvalidSetting {
                setting: "tls_ca",
                reason: format!(
                    "{} is https:// but no CA certificate is given to verify it",
                    self.url
                ),
            });
        };
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        if let Some((cert, key)) = &tls.identity_pem {
            config = config.identity(Identity::from_pem(cert, key));
        }
        if let Some(domain) = &tls.domain {
            config = config.domain_name(domain.clone());
        }
        endpoint.tls_config(config).map_err(|e| Error::InvalidSetting {
            setting: "tls",
            reason: error_chain(&e),
        })
    }

    fn authorization(&self) -> Result<Option<MetadataValue<Ascii>>, Error> {
        let Some(Secret(token)) = &self.token else {
            return Ok(None);
        };
        if token.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "token",
                reason: "the token is empty".into(),
            });
        }
        // The token itself never appears in the error: it is a secret.
        MetadataValue::try_from(format!("Bearer {token}"))
            .map(|mut value| {
                value.set_sensitive(true);
                Some(value)
            })
            .map_err(|_| Error::InvalidSetting {
                setting: "token",
                reason: "a token may hold only visible ASCII characters".into(),
            })
    }

    fn finish(self, channel: Channel, authorization: Option<MetadataValue<Ascii>>) -> Client {
        Client {
            inner: RegistryServiceClient::new(channel),
            authorization,
            settings: Arc::new(self),
            seen: Arc::default(),
        }
    }

    /// A client that connects on its first call (and reconnects as needed).
    /// Fails only on an invalid address, so that a service can start while
    /// the registry is down. Must be called within a Tokio runtime, where
    /// the connection's background task runs.
    pub fn build(self) -> Result<Client, Error> {
        let authorization = self.authorization()?;
        let channel = self.endpoint()?.connect_lazy();
        Ok(self.finish(channel, authorization))
    }

    /// A client connected now: fails with [`Error::Unreachable`] naming the
    /// address when the registry cannot be reached.
    pub async fn connect(self) -> Result<Client, Error> {
        let authorization = self.authorization()?;
        let channel = self.endpoint()?.connect().await.map_err(|e| Error::Unreachable {
            url: self.url.clone(),
            message: error_chain(&e),
        })?;
        Ok(self.finish(channel, authorization))
    }
}

/// The messages of an error and of its sources, joined: tonic's transport
/// errors say only "transport error" at the top.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Whether `status` says the call's deadline passed: DEADLINE_EXCEEDED from
/// the registry, or tonic's own enforcement of the deadline we set, which it
/// reports as CANCELLED with its timeout message.
fn is_deadline(status: &tonic::Status) -> bool {
    match status.code() {
        tonic::Code::DeadlineExceeded => true,
        tonic::Code::Cancelled => status.message() == tonic::TimeoutExpired(()).to_string(),
        _ => false,
    }
}

/// A connection to a registry. Cheap to clone; clones share the connection.
///
/// ```no_run
/// # async fn example() -> Result<(), accord_client::Error> {
/// use accord_client::Client;
///
/// let client = Client::connect("http://127.0.0.1:50051").await?;
/// let name = "orders/order-placed".parse()?;
/// let contract = client.get(&name, &"^1.2".parse()?).await?;
/// println!("{}@{}: {}", contract.name, contract.version, contract.fingerprint);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: RegistryServiceClient<Channel>,
    authorization: Option<MetadataValue<Ascii>>,
    settings: Arc<ClientBuilder>,
    /// The highest event sequence a write of this client (or any clone)
    /// produced: reads ask the registry for at least this one, so that a
    /// client reads its own writes whichever replica answers.
    seen: Arc<AtomicU64>,
}

type Grpc = RegistryServiceClient<Channel>;

impl Client {
    /// Connects to the registry at `url` with default settings.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        ClientBuilder::new(url).connect().await
    }

    /// Settings for the registry at `url`.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// The registry's address.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// The cache directory, if one was configured.
    pub fn cache_dir(&self) -> Option<&std::path::Path> {
        self.settings.cache_dir.as_deref()
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.settings.retry
    }

    /// The consumer component [`Client::fetch_contracts`] registers as, if
    /// one was configured ([`ClientBuilder::register_as`]).
    pub fn registers_as(&self) -> Option<&str> {
        self.settings.register_as.as_deref()
    }

    /// The highest event sequence this client's writes produced (0: none
    /// yet). Every read asks the registry to have applied at least this one.
    pub fn last_sequence(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    /// Makes later reads wait for `sequence` (e.g. one a write reply gave
    /// another process).
    pub fn observe_sequence(&self, sequence: u64) {
        self.seen.fetch_max(sequence, Ordering::AcqRel);
    }

    /// The generated gRPC client, for what this crate does not wrap.
    pub fn raw(&self) -> RegistryServiceClient<Channel> {
        self.inner.clone()
    }

    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = self.stream_request(message);
        request.set_timeout(self.settings.call_timeout);
        request
    }

    /// A request without a deadline, which would end a healthy stream.
    fn stream_request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(value) = &self.authorization {
            request.metadata_mut().insert("authorization", value.clone());
        }
        request
    }

    /// One attempt: the call under the per-call timeout, its status mapped.
    async fn attempt<T, Fut>(&self, fut: Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let timeout = self.settings.call_timeout;
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) if is_deadline(&status) => Err(Error::Timeout {
                url: self.settings.url.clone(),
                after: timeout,
            }),
            Ok(Err(status)) => Err(Error::from_status(status, &self.settings.url)),
            Err(_) => Err(Error::Timeout {
                url: self.settings.url.clone(),
                after: timeout,
            }),
        }
    }

    /// Runs `call`, retrying it under the policy when `idempotent` and the
    /// failure is transient.
    pub(crate) async fn call<T, F, Fut>(
        &self,
        rpc: &'static str,
        idempotent: bool,
        mut call: F,
    ) -> Result<T, Error>
    where
        F: FnMut(Grpc) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let policy = self.settings.retry;
        if !idempotent || policy.max_retries == 0 {
            return self.attempt(call(self.inner.clone())).await;
        }
        let started = Instant::now();
        (|| self.attempt(call(self.inner.clone())))
            .retry(policy.backoff())
            .sleep(tokio::time::sleep)
            .when(|e: &Error| e.is_transient() && started.elapsed() < policy.max_elapsed)
            .notify(|e: &Error, delay: Duration| {
                tracing::debug!(rpc, error = %e, ?delay, "retrying");
                if let Some(hook) = &self.settings.on_retry {
                    (hook.0)(rpc, e, delay);
                }
            })
            .await
    }

    /// Publishes `schema` (JSON text) as a new version of `name`: `version`,
    /// or the next one the registry computes from the required bump when
    /// `None`.
    ///
    /// A refused change is [`Error::Incompatible`] with the findings.
    /// Retried on transient failures only when `version` is given: then a
    /// repeat is an idempotent re-publish (same version, same fingerprint),
    /// reported with `created == false` if the first attempt had landed.
    /// Without a version a repeat could store a second version, so it is
    /// never retried.
    pub async fn publish(
        &self,
        name: &ContractName,
        schema: &str,
        version: Option<&Version>,
    ) -> Result<PublishOutcome, Error> {
        let message = pb::PublishContractRequest {
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            schema: schema.to_owned(),
            version: version.map(Version::to_string).unwrap_or_default(),
        };
        let reply = self
            .call("PublishContract", version.is_some(), |mut c| {
                let r = self.request(message.clone());
                async move { c.publish_contract(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        PublishOutcome::from_wire(reply)
    }

    /// Answers exactly as [`Client::publish`] would, without storing
    /// anything. A refusal is an `Ok` outcome with `accepted == false`.
    pub async fn check(
        &self,
        name: &ContractName,
        schema: &str,
        version: Option<&Version>,
    ) -> Result<CheckOutcome, Error> {
        let message = pb::CheckCompatibilityRequest {
            min_sequence: self.last_sequence(),
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            schema: schema.to_owned(),
            version: version.map(Version::to_string).unwrap_or_default(),
        };
        let reply = self
            .call("CheckCompatibility", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.check_compatibility(r).await }
            })
            .await?;
        CheckOutcome::from_wire(reply)
    }

    /// Fetches the version of `name` that `selector` picks, with its schema.
    pub async fn get(
        &self,
        name: &ContractName,
        selector: &VersionSelector,
    ) -> Result<ContractVersion, Error> {
        let message = pb::GetContractRequest {
            min_sequence: self.last_sequence(),
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            version: selector.to_wire(),
        };
        let reply = self
            .call("GetContract", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.get_contract(r).await }
            })
            .await?;
        ContractVersion::from_wire_opt(reply.contract)
    }

    /// Fetches many contracts in one call. One result per pair, in order;
    /// a pair that does not resolve is an error in its slot, not a failure
    /// of the whole call.
    pub async fn batch_get(
        &self,
        wanted: &[(ContractName, VersionSelector)],
    ) -> Result<Vec<Result<ContractVersion, Error>>, Error> {
        let message = pb::BatchGetContractsRequest {
            min_sequence: self.last_sequence(),
            selectors: wanted
                .iter()
                .map(|(name, selector)| pb::ContractSelector {
                    component: name.component().to_owned(),
                    contract: name.contract().to_owned(),
                    version: selector.to_wire(),
                })
                .collect(),
        };
        let reply = self
            .call("BatchGetContracts", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.batch_get_contracts(r).await }
            })
            .await?;
        if reply.results.len() != wanted.len() {
            return Err(Error::InvalidResponse {
                message: format!(
                    "asked for {} contracts, got {} results",
                    wanted.len(),
                    reply.results.len()
                ),
            });
        }
        Ok(reply
            .results
            .into_iter()
            .zip(wanted)
            .map(|(result, (name, selector))| match result.contract {
                Some(contract) => {
                    let contract = ContractVersion::from_wire(contract)?;
                    // The registry answers in order; a mismatch would hand
                    // a service the wrong contract, so it is refused.
                    if &contract.name != name || !selector.matches(&contract.version) {
                        return Err(Error::InvalidResponse {
                            message: format!(
                                "asked for {name}@{selector}, got {}@{}",
                                contract.name, contract.version
                            ),
                        });
                    }
                    Ok(contract)
                }
                None => Err(Error::from_code(
                    tonic::Code::from_i32(result.error_code),
                    if result.error_message.is_empty() {
                        format!("{name}@{selector}")
                    } else {
                        result.error_message
                    },
                    self.url(),
                )),
            })
            .collect())
    }

    /// Follows `next_page_token`s until the last page.
    async fn all_pages<T, F, Fut>(&self, mut page: F) -> Result<Vec<T>, Error>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, String), Error>>,
    {
        let mut items = Vec::new();
        let mut token = String::new();
        loop {
            let (mut batch, next) = page(token.clone()).await?;
            items.append(&mut batch);
            if next.is_empty() {
                return Ok(items);
            }
            if next == token {
                return Err(Error::InvalidResponse {
                    message: format!("the page token {next:?} repeats"),
                });
            }
            token = next;
        }
    }

    /// Lists the components that own at least one visible contract.
    pub async fn list_components(&self) -> Result<Vec<ComponentSummary>, Error> {
        self.all_pages(|page_token| async move {
            let message = pb::ListComponentsRequest {
                min_sequence: self.last_sequence(),
                page_size: 0,
                page_token,
            };
            let reply = self
                .call("ListComponents", true, |mut c| {
                    let r = self.request(message.clone());
                    async move { c.list_components(r).await }
                })
                .await?;
            let items = reply
                .components
                .into_iter()
                .map(|c| ComponentSummary {
                    name: c.name,
                    contract_count: c.contract_count,
                })
                .collect();
            Ok((items, reply.next_page_token))
        })
        .await
    }

    /// Lists the contracts of `component`.
    pub async fn list_contracts(&self, component: &str) -> Result<Vec<ContractSummary>, Error> {
        crate::name::check_part("component", component)?;
        self.all_pages(|page_token| async move {
            let message = pb::ListContractsRequest {
                min_sequence: self.last_sequence(),
                component: component.to_owned(),
                page_size: 0,
                page_token,
            };
            let reply = self
                .call("ListContracts", true, |mut c| {
                    let r = self.request(message.clone());
                    async move { c.list_contracts(r).await }
                })
                .await?;
            let items = reply
                .contracts
                .into_iter()
                .map(ContractSummary::from_wire)
                .collect::<Result<_, _>>()?;
            Ok((items, reply.next_page_token))
        })
        .await
    }

    /// Lists the versions of `name`, oldest first, without their schemas;
    /// soft-deleted ones too when `include_deleted`.
    pub async fn list_versions(
        &self,
        name: &ContractName,
        include_deleted: bool,
    ) -> Result<Vec<ContractVersion>, Error> {
        self.all_pages(|page_token| async move {
            let message = pb::ListVersionsRequest {
                min_sequence: self.last_sequence(),
                component: name.component().to_owned(),
                contract: name.contract().to_owned(),
                page_size: 0,
                page_token,
                include_deleted,
            };
            let reply = self
                .call("ListVersions", true, |mut c| {
                    let r = self.request(message.clone());
                    async move { c.list_versions(r).await }
                })
                .await?;
            let items = reply
                .versions
                .into_iter()
                .map(ContractVersion::from_wire)
                .collect::<Result<_, _>>()?;
            Ok((items, reply.next_page_token))
        })
        .await
    }

    /// Compares two stored versions of `name`, under the contract's own
    /// settings or the ones given.
    pub async fn diff(
        &self,
        name: &ContractName,
        from: &Version,
        to: &Version,
        config: Option<CompatibilityConfig>,
    ) -> Result<DiffOutcome, Error> {
        let message = pb::DiffVersionsRequest {
            min_sequence: self.last_sequence(),
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            from_version: from.to_string(),
            to_version: to.to_string(),
            mode: config.map_or(0, |c| mode_to_wire(c.mode)),
            policy: config.map_or(0, |c| policy_to_wire(c.policy)),
        };
        let reply = self
            .call("DiffVersions", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.diff_versions(r).await }
            })
            .await?;
        DiffOutcome::from_wire(reply)
    }

    /// The settings in force for `name`, or the global ones for `None`.
    pub async fn get_config(&self, name: Option<&ContractName>) -> Result<ConfigSetting, Error> {
        let message = pb::GetCompatibilityConfigRequest {
            min_sequence: self.last_sequence(),
            component: name.map(|n| n.component().to_owned()).unwrap_or_default(),
            contract: name.map(|n| n.contract().to_owned()).unwrap_or_default(),
        };
        let reply = self
            .call("GetCompatibilityConfig", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.get_compatibility_config(r).await }
            })
            .await?;
        config_setting(
            reply.config,
            [
                reply.inherited,
                reply.mode_inherited,
                reply.policy_inherited,
                reply.consumer_breaks_inherited,
            ],
        )
    }

    /// Changes the settings of `name`, or the global ones for `None`.
    /// Setting values is idempotent, so it is retried like a read.
    pub async fn set_config(
        &self,
        name: Option<&ContractName>,
        change: ConfigChange,
    ) -> Result<ConfigSetting, Error> {
        let message = pb::SetCompatibilityConfigRequest {
            component: name.map(|n| n.component().to_owned()).unwrap_or_default(),
            contract: name.map(|n| n.contract().to_owned()).unwrap_or_default(),
            mode: change.mode.map_or(0, mode_to_wire),
            policy: change.policy.map_or(0, policy_to_wire),
            consumer_breaks: change.consumer_breaks.map_or(0, ConsumerBreaks::to_wire),
            clear: change.clear,
        };
        let reply = self
            .call("SetCompatibilityConfig", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.set_compatibility_config(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        config_setting(
            reply.config,
            [
                reply.inherited,
                reply.mode_inherited,
                reply.policy_inherited,
                reply.consumer_breaks_inherited,
            ],
        )
    }

    /// Marks `name@version` deprecated with `message` (why, and what to use
    /// instead). It is still served, flagged. Deprecating the last version
    /// that satisfies a registered consumer's requirement is refused
    /// ([`Error::FailedPrecondition`], naming the consumers); see
    /// [`Client::deprecate_forced`].
    pub async fn deprecate(
        &self,
        name: &ContractName,
        version: &Version,
        message: &str,
    ) -> Result<ContractVersion, Error> {
        self.deprecate_with(name, version, message, None).await
    }

    /// [`Client::deprecate`] past registered consumers, for `reason` (kept
    /// in the audit log).
    pub async fn deprecate_forced(
        &self,
        name: &ContractName,
        version: &Version,
        message: &str,
        reason: &str,
    ) -> Result<ContractVersion, Error> {
        self.deprecate_with(name, version, message, Some(reason)).await
    }

    async fn deprecate_with(
        &self,
        name: &ContractName,
        version: &Version,
        message: &str,
        force: Option<&str>,
    ) -> Result<ContractVersion, Error> {
        let message = pb::DeprecateVersionRequest {
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            version: version.to_string(),
            message: message.to_owned(),
            force: force.is_some(),
            force_reason: force.unwrap_or_default().to_owned(),
        };
        let reply = self
            .call("DeprecateVersion", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.deprecate_version(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        ContractVersion::from_wire_opt(reply.contract)
    }

    /// Deletes every version of `name`: hidden and restorable, or erased for
    /// good when `hard`. Returns the versions deleted. Not retried: a repeat
    /// after a lost answer would report nothing deleted. A hard delete that
    /// leaves a registered consumer without a version satisfying its
    /// requirement is refused; see [`Client::delete_contract_forced`].
    pub async fn delete_contract(&self, name: &ContractName, hard: bool) -> Result<Vec<Version>, Error> {
        self.delete_contract_with(name, hard, None).await
    }

    /// [`Client::delete_contract`] past registered consumers, for `reason`
    /// (kept in the audit log).
    pub async fn delete_contract_forced(
        &self,
        name: &ContractName,
        hard: bool,
        reason: &str,
    ) -> Result<Vec<Version>, Error> {
        self.delete_contract_with(name, hard, Some(reason)).await
    }

    async fn delete_contract_with(
        &self,
        name: &ContractName,
        hard: bool,
        force: Option<&str>,
    ) -> Result<Vec<Version>, Error> {
        let message = pb::DeleteContractRequest {
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            hard,
            force: force.is_some(),
            force_reason: force.unwrap_or_default().to_owned(),
        };
        let reply = self
            .call("DeleteContract", false, |mut c| {
                let r = self.request(message.clone());
                async move { c.delete_contract(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        versions_from_wire(&reply.versions)
    }

    /// Deletes `name@version`: hidden and restorable, or erased when `hard`
    /// (guarded as [`Client::delete_contract`]).
    pub async fn delete_version(
        &self,
        name: &ContractName,
        version: &Version,
        hard: bool,
    ) -> Result<Version, Error> {
        self.delete_version_with(name, version, hard, None).await
    }

    /// [`Client::delete_version`] past registered consumers, for `reason`
    /// (kept in the audit log).
    pub async fn delete_version_forced(
        &self,
        name: &ContractName,
        version: &Version,
        hard: bool,
        reason: &str,
    ) -> Result<Version, Error> {
        self.delete_version_with(name, version, hard, Some(reason)).await
    }

    async fn delete_version_with(
        &self,
        name: &ContractName,
        version: &Version,
        hard: bool,
        force: Option<&str>,
    ) -> Result<Version, Error> {
        let message = pb::DeleteVersionRequest {
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            version: version.to_string(),
            hard,
            force: force.is_some(),
            force_reason: force.unwrap_or_default().to_owned(),
        };
        let reply = self
            .call("DeleteVersion", false, |mut c| {
                let r = self.request(message.clone());
                async move { c.delete_version(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        crate::name::parse_wire_version(&reply.version, "deleted version")?.ok_or_else(|| {
            Error::InvalidResponse {
                message: "the deleted version is missing".into(),
            }
        })
    }

    /// Brings back soft-deleted versions of `name`: one, or all for `None`.
    /// Returns the versions restored.
    pub async fn restore(
        &self,
        name: &ContractName,
        version: Option<&Version>,
    ) -> Result<Vec<Version>, Error> {
        let message = pb::RestoreContractRequest {
            component: name.component().to_owned(),
            contract: name.contract().to_owned(),
            version: version.map(Version::to_string).unwrap_or_default(),
        };
        let reply = self
            .call("RestoreContract", false, |mut c| {
                let r = self.request(message.clone());
                async move { c.restore_contract(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        versions_from_wire(&reply.versions)
    }

    /// Lists the audit log of write attempts, from `since` on.
    pub async fn list_audit_entries(&self, since: Option<SystemTime>) -> Result<Vec<AuditEntry>, Error> {
        let since = since.map(time_to_wire);
        self.all_pages(|page_token| async move {
            let message = pb::ListAuditEntriesRequest {
                since,
                page_size: 0,
                page_token,
            };
            let reply = self
                .call("ListAuditEntries", true, |mut c| {
                    let r = self.request(message.clone());
                    async move { c.list_audit_entries(r).await }
                })
                .await?;
            let items = reply.entries.into_iter().map(AuditEntry::from_wire).collect();
            Ok((items, reply.next_page_token))
        })
        .await
    }

    /// Streams registry events with a sequence above `after_sequence`
    /// (0: from the start), of one component or of all the caller may see.
    /// See [`Client::watch_from`].
    pub async fn watch(
        &self,
        after_sequence: u64,
        component: Option<&str>,
    ) -> Result<BoxStream<'static, Result<Event, Error>>, Error> {
        let components: Vec<String> = component.into_iter().map(str::to_owned).collect();
        self.watch_from(after_sequence, "", &components).await
    }

    /// Streams registry events with a sequence above `after_sequence`
    /// (0: from the start) of the given components (none: every component
    /// the caller may see — a token scoped to some components sees theirs).
    /// `epoch` is the [`Event::epoch`] of the resume point, or empty: a
    /// resume point from another history of the registry (restored from a
    /// backup, or recreated) is then refused with
    /// [`Error::FailedPrecondition`] rather than silently skipping events.
    ///
    /// Opening the stream is retried like a read; once open it runs until
    /// the registry ends it or the connection drops (an `Err` item), after
    /// which a caller resumes from the last sequence it saw.
    pub async fn watch_from(
        &self,
        after_sequence: u64,
        epoch: &str,
        components: &[String],
    ) -> Result<BoxStream<'static, Result<Event, Error>>, Error> {
        for component in components {
            crate::name::check_part("component", component)?;
        }
        let message = pb::WatchEventsRequest {
            after_sequence,
            component: String::new(),
            components: components.to_vec(),
            epoch: epoch.to_owned(),
            // This client reads consumer and waiver events.
            consumer_events: true,
        };
        // No deadline on the request itself: it would end a healthy stream.
        // The per-call timeout bounds only the wait for the stream to open.
        let stream = self
            .call("WatchEvents", true, |mut c| {
                let r = self.stream_request(message.clone());
                async move { c.watch_events(r).await }
            })
            .await?;
        let url = self.settings.url.clone();
        Ok(stream
            .map(move |item| match item {
                Ok(reply) => match reply.event {
                    Some(event) => Event::from_wire(event, reply.epoch),
                    None => Err(Error::InvalidResponse {
                        message: "a watch message without an event".into(),
                    }),
                },
                Err(status) => Err(Error::from_status(status, &url)),
            })
            .boxed())
    }
}

/// `inherited`: whole, mode, policy, consumer breaks.
fn config_setting(
    config: Option<pb::CompatibilityConfig>,
    inherited: [bool; 4],
) -> Result<ConfigSetting, Error> {
    let config = config.ok_or_else(|| Error::InvalidResponse {
        message: "the answer has no compatibility config".into(),
    })?;
    Ok(ConfigSetting {
        consumer_breaks: ConsumerBreaks::from_wire(config.consumer_breaks)?,
        config: CompatibilityConfig::from_wire(config)?,
        inherited: inherited[0],
        mode_inherited: inherited[1],
        policy_inherited: inherited[2],
        consumer_breaks_inherited: inherited[3],
    })
}

fn versions_from_wire(versions: &[String]) -> Result<Vec<Version>, Error> {
    versions
        .iter()
        .map(|v| {
            crate::name::parse_wire_version(v, "version")?.ok_or_else(|| Error::InvalidResponse {
                message: "an empty version in a list of versions".into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_token_travels_in_every_request_and_never_in_errors() {
        let client = ClientBuilder::new("127.0.0.1:1").token("s3cret").build().unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:1");
        let unary = client.request(());
        assert_eq!(unary.metadata().get("authorization").unwrap(), "Bearer s3cret");
        let stream = client.stream_request(());
        assert_eq!(stream.metadata().get("authorization").unwrap(), "Bearer s3cret");
        assert!(!format!("{client:?}").contains("s3cret"), "{client:?}");
        let builder = ClientBuilder::new("x").token("s3cret");
        assert!(!format!("{builder:?}").contains("s3cret"), "{builder:?}");
        let open = ClientBuilder::new("127.0.0.1:1").build().unwrap();
        assert!(open.request(()).metadata().get("authorization").is_none());

        let err = ClientBuilder::new("127.0.0.1:1")
            .token("bad\ntoken")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidSetting { setting: "token", .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("bad"), "the token leaks: {err}");
        assert!(ClientBuilder::new("127.0.0.1:1").token("").build().is_err());
    }

    #[tokio::test]
    async fn tls_settings_need_an_https_address_and_https_needs_a_ca() {
        let err = ClientBuilder::new("http://127.0.0.1:1")
            .tls_ca_pem("pem")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidSetting { setting: "tls", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("not an https:// address"), "{err}");
        let err = ClientBuilder::new("https://127.0.0.1:1").build().unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidSetting {
                    setting: "tls_ca",
                    ..
                }
            ),
            "{err}"
        );
        let key = format!(
            "{:?}",
            ClientBuilder::new("https://x:1").tls_identity_pem("c", "SECRETKEY")
        );
        assert!(!key.contains("SECRETKEY"), "the key leaks: {key}");
    }
}
