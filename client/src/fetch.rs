//! The start-up fetch: every contract a service needs, in one call, with a
//! fallback to the last good copies when the registry is unreachable.

use std::time::SystemTime;

use crate::{Client, ContractName, ContractVersion, Error, VersionSelector, cache::ContractCache};

/// One contract obtained by [`Client::fetch_contracts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedContract {
    /// The selector it was fetched for.
    pub selector: VersionSelector,
    /// The contract, with its schema.
    pub contract: ContractVersion,
    /// True when the registry could not be reached and this is the last
    /// good copy from the cache.
    pub stale: bool,
    /// When this copy came from the registry.
    pub fetched_at: SystemTime,
}

/// The contracts a service asked for, in the order it asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractSet {
    contracts: Vec<FetchedContract>,
}

impl ContractSet {
    /// The first contract fetched under `name`.
    pub fn get(&self, name: &ContractName) -> Option<&FetchedContract> {
        self.contracts.iter().find(|c| &c.contract.name == name)
    }

    /// The contract fetched for exactly `name` and `selector`.
    pub fn get_for(&self, name: &ContractName, selector: &VersionSelector) -> Option<&FetchedContract> {
        self.contracts
            .iter()
            .find(|c| &c.contract.name == name && &c.selector == selector)
    }

    /// Every contract, in the order asked.
    pub fn iter(&self) -> impl Iterator<Item = &FetchedContract> {
        self.contracts.iter()
    }

    /// How many contracts the set holds.
    pub fn len(&self) -> usize {
        self.contracts.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.contracts.is_empty()
    }

    /// Whether any contract is a cached copy rather than a fresh one.
    pub fn any_stale(&self) -> bool {
        self.contracts.iter().any(|c| c.stale)
    }

    pub(crate) fn into_vec(self) -> Vec<FetchedContract> {
        self.contracts
    }
}

/// Checks that a contract's schema is JSON and has the fingerprint the
/// registry gave: a mismatch means the wrong bytes, which must not be run on.
pub(crate) fn verify(contract: &ContractVersion) -> Result<(), Error> {
    let value = contract.schema_json()?;
    let actual = accord_compat::fingerprint(&value);
    if actual != contract.fingerprint {
        return Err(Error::InvalidResponse {
            message: format!(
                "{}@{}: the schema's fingerprint is {actual}, the registry says {}",
                contract.name, contract.version, contract.fingerprint
            ),
        });
    }
    Ok(())
}

/// Runs blocking cache I/O off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

impl Client {
    /// Fetches every `(contract, selector)` pair in one `BatchGetContracts`
    /// call — what a service does at start-up.
    ///
    /// With a cache directory ([`crate::ClientBuilder::cache_dir`]) each
    /// fresh copy is written there atomically, and when the registry cannot
    /// be reached (after the retries of the policy) the last good copy of
    /// each pair is served instead, marked [`FetchedContract::stale`], with a
    /// warning logged. Without a usable copy, or when the registry answers
    /// that a contract does not resolve, the call fails with
    /// [`Error::ContractsUnavailable`] naming every contract it could not get.
    ///
    /// With [`crate::ClientBuilder::register_as`], the service is then
    /// registered as a consumer of each contract it got fresh, with the
    /// requirement it asked by (best effort: a failure is logged, the
    /// contracts are returned all the same).
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), accord_client::Error> {
    /// use accord_client::{ClientBuilder, ContractName, VersionSelector};
    ///
    /// let client = ClientBuilder::new("http://127.0.0.1:50051")
    ///     .cache_dir("/var/cache/orders-service/contracts")
    ///     .build()?;
    /// let wanted: Vec<(ContractName, VersionSelector)> = vec![
    ///     ("orders/order-placed".parse()?, "^1.2".parse()?),
    ///     ("billing/invoice".parse()?, VersionSelector::Latest),
    /// ];
    /// let contracts = client.fetch_contracts(&wanted).await?;
    /// for fetched in contracts.iter() {
    ///     let c = &fetched.contract;
    ///     println!("{}@{} stale={}", c.name, c.version, fetched.stale);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch_contracts(
        &self,
        wanted: &[(ContractName, VersionSelector)],
    ) -> Result<ContractSet, Error> {
        let cache = self.cache_dir().map(ContractCache::new);
        let results: Vec<Result<ContractVersion, Error>> = match self.batch_get(wanted).await {
            Ok(results) => results,
            Err(e) if e.is_unreachable() => {
                let message = match &e {
                    Error::Timeout { after, .. } => format!("no answer within {after:?}"),
                    Error::Unreachable { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                wanted
                    .iter()
                    .map(|_| {
                        Err(Error::Unreachable {
                            url: self.url().to_owned(),
                            message: message.clone(),
                        })
                    })
                    .collect()
            }
            Err(e) => {
                return Err(Error::ContractsUnavailable {
                    contracts: wanted.iter().map(|(n, s)| format!("{n}@{s}")).collect(),
                    reasons: wanted.iter().map(|_| e.to_string()).collect(),
                });
            }
        };

        let now = SystemTime::now();
        let mut fetched = Vec::with_capacity(wanted.len());
        let mut missing = Vec::new();
        let mut reasons = Vec::new();
        for ((name, selector), result) in wanted.iter().zip(results) {
            let result = result.and_then(|c| verify(&c).map(|()| c));
            match result {
                Ok(contract) => {
                    fetched.push(FetchedContract {
                        selector: selector.clone(),
                        contract,
                        stale: false,
                        fetched_at: now,
                    });
                }
                Err(e) if e.is_unreachable() => match load(cache.as_ref(), name, selector).await {
                    Ok(copy) => {
                        tracing::warn!(
                            contract = %name,
                            %selector,
                            version = %copy.contract.version,
                            error = %e,
                            "registry unreachable: serving the last good copy"
                        );
                        fetched.push(FetchedContract {
                            selector: selector.clone(),
                            contract: copy.contract,
                            stale: true,
                            fetched_at: copy.fetched_at,
                        });
                    }
                    Err(why) => {
                        missing.push(format!("{name}@{selector}"));
                        reasons.push(format!("{e}, and {why}"));
                    }
                },
                Err(e) => {
                    missing.push(format!("{name}@{selector}"));
                    reasons.push(e.to_string());
                }
            }
        }
        if let Some(cache) = &cache {
            // Each write waits on the disk; issued together they share the
            // file system's journal commits instead of queueing one by one.
            futures::future::join_all(
                fetched
                    .iter()
                    .filter(|f| !f.stale)
                    .map(|f| store(cache, &f.selector, &f.contract)),
            )
            .await;
        }
        if let Some(consumer) = self.registers_as() {
            futures::future::join_all(
                fetched
                    .iter()
                    .filter(|f| !f.stale)
                    .map(|f| self.register_reading(consumer, &f.contract.name, &f.selector)),
            )
            .await;
        }
        if missing.is_empty() {
            Ok(ContractSet { contracts: fetched })
        } else {
            Err(Error::ContractsUnavailable {
                contracts: missing,
                reasons,
            })
        }
    }
}

impl Client {
    /// Registers `consumer` as reading `name` by `selector`; a failure is
    /// logged, not fatal: the service has its contracts.
    async fn register_reading(&self, consumer: &str, name: &ContractName, selector: &VersionSelector) {
        let requirement = requirement_of(selector);
        match self.register_consumer(consumer, name, &requirement, None).await {
            Ok(registration) => tracing::debug!(
                contract = %name,
                %requirement,
                created = registration.created,
                "registered as a consumer"
            ),
            Err(e) => tracing::warn!(
                contract = %name,
                %requirement,
                error = %e,
                "cannot register as a consumer; producers will not know this service reads it"
            ),
        }
    }
}

/// The requirement a selector fetches by: itself, `=V` for an exact
/// version, `*` (any release) for the latest.
pub fn requirement_of(selector: &VersionSelector) -> semver::VersionReq {
    match selector {
        VersionSelector::Requirement(r) => r.clone(),
        VersionSelector::Exact(v) => semver::VersionReq {
            comparators: vec![semver::Comparator {
                op: semver::Op::Exact,
                major: v.major,
                minor: Some(v.minor),
                patch: Some(v.patch),
                pre: v.pre.clone(),
            }],
        },
        VersionSelector::Latest => semver::VersionReq::STAR,
    }
}

/// Writes a fresh copy; a failure is logged, not fatal: the service has its
/// contract, only the next start without a registry would miss it.
pub(crate) async fn store(cache: &ContractCache, selector: &VersionSelector, contract: &ContractVersion) {
    let (cache, selector, contract) = (cache.clone(), selector.clone(), contract.clone());
    let name = contract.name.clone();
    match blocking(move || cache.store(&selector, &contract)).await {
        Some(Ok(())) => {}
        Some(Err(e)) => tracing::warn!(contract = %name, error = %e, "cannot cache the contract"),
        None => tracing::warn!(contract = %name, "the cache write was interrupted"),
    }
}

async fn load(
    cache: Option<&ContractCache>,
    name: &ContractName,
    selector: &VersionSelector,
) -> Result<crate::cache::CachedCopy, String> {
    let Some(cache) = cache else {
        return Err("no cache directory is configured".into());
    };
    let (c, n, s) = (cache.clone(), name.clone(), selector.clone());
    match blocking(move || c.load(&n, &s)).await {
        Some(Ok(Some(copy))) => Ok(copy),
        Some(Ok(None)) => Err(format!("no cached copy in {}", cache.dir().display())),
        Some(Err(e)) => Err(format!("the cached copy is unusable: {e}")),
        None => Err("reading the cache was interrupted".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_asks_for_what_the_fetch_asked_for() {
        let of = |s: &str| requirement_of(&s.parse().unwrap()).to_string();
        assert_eq!(of("^1.2"), "^1.2");
        assert_eq!(of("1.4.0"), "=1.4.0");
        assert_eq!(of("2.0.0-rc.1"), "=2.0.0-rc.1");
        assert_eq!(of("latest"), "*");
        let exact = requirement_of(&"1.4.0".parse().unwrap());
        assert!(exact.matches(&"1.4.0".parse().unwrap()));
        assert!(!exact.matches(&"1.4.1".parse().unwrap()));
    }
}
