//! Start-up from the cache while the registry is down: last good copies are
//! served marked stale, a crash in the middle of a cache write leaves the
//! old copy usable, and a copy is never served for another requirement.

use std::time::Duration;

use accord_client::{
    Client, ClientBuilder, ContractCache, ContractName, Error, RetryPolicy, Version, VersionSelector,
};
use accord_tests::TestServer;

fn name(s: &str) -> ContractName {
    s.parse().expect("valid contract name")
}

fn sel(s: &str) -> VersionSelector {
    s.parse().expect("valid selector")
}

fn v(s: &str) -> Version {
    s.parse().expect("valid version")
}

fn schema(title: &str) -> String {
    format!(r#"{{"title": "{title}", "type": "object"}}"#)
}

/// A client that gives up quickly once the registry is gone.
fn cached_client(url: &str, cache: &std::path::Path) -> Client {
    ClientBuilder::new(url)
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .cache_dir(cache)
        .build()
        .expect("client")
}

#[tokio::test]
async fn start_up_serves_last_good_copies_marked_stale_while_the_registry_is_down() {
    let cache_dir = tempfile::tempdir().expect("cache dir");
    let server = TestServer::start().await;
    let url = server.url();
    let client = cached_client(&url, cache_dir.path());
    let placed = name("orders/order-placed");
    let invoice = name("billing/invoice");
    client
        .publish(&placed, &schema("a"), Some(&v("1.0.0")))
        .await
        .expect("publish");
    client
        .publish(&placed, &schema("b"), Some(&v("1.1.0")))
        .await
        .expect("publish");
    client
        .publish(&invoice, &schema("c"), Some(&v("0.3.0")))
        .await
        .expect("publish");

    let wanted = vec![
        (placed.clone(), sel("^1")),
        (invoice.clone(), VersionSelector::Latest),
    ];
    let fresh = client.fetch_contracts(&wanted).await.expect("fresh fetch");
    assert!(!fresh.any_stale());
    drop(server.stop().await);

    let restarted = cached_client(&url, cache_dir.path());
    let stale = restarted
        .fetch_contracts(&wanted)
        .await
        .expect("served from the cache");
    assert_eq!(stale.len(), 2);
    for (got, want) in stale.iter().zip(fresh.iter()) {
        assert!(got.stale, "{} is not marked stale", got.contract.name);
        assert_eq!(got.contract.version, want.contract.version);
        assert_eq!(got.contract.fingerprint, want.contract.fingerprint);
        assert_eq!(got.contract.schema, want.contract.schema);
    }
    assert_eq!(stale.get(&placed).expect("placed").contract.version, v("1.1.0"));

    // A copy fetched for "^1" is never served for "~1.0", which would
    // resolve to another version.
    let err = restarted
        .fetch_contracts(&[
            (placed.clone(), sel("~1.0")),
            (invoice.clone(), VersionSelector::Latest),
        ])
        .await
        .unwrap_err();
    let Error::ContractsUnavailable { contracts, reasons } = &err else {
        panic!("expected ContractsUnavailable, got {err}");
    };
    assert_eq!(contracts, &vec!["orders/order-placed@~1.0".to_owned()]);
    assert!(
        reasons[0].contains(&url),
        "the reason names the registry: {reasons:?}"
    );

    // Without a cache there is nothing to fall back on.
    let bare = ClientBuilder::new(&url)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = bare.fetch_contracts(&wanted).await.unwrap_err();
    assert!(
        matches!(&err, Error::ContractsUnavailable { contracts, .. } if contracts.len() == 2),
        "{err}"
    );
}

#[tokio::test]
async fn a_crash_during_a_cache_write_leaves_the_last_good_copy_usable() {
    let cache_dir = tempfile::tempdir().expect("cache dir");
    let server = TestServer::start().await;
    let url = server.url();
    let client = cached_client(&url, cache_dir.path());
    let placed = name("orders/order-placed");
    let wanted = vec![(placed.clone(), sel("^1"))];
    client
        .publish(&placed, &schema("first"), Some(&v("1.0.0")))
        .await
        .expect("publish");
    let first = client.fetch_contracts(&wanted).await.expect("fetch 1.0.0");

    // The next copy is written, as a crash would leave it: half a temporary
    // file beside the final one, which still holds 1.0.0.
    client
        .publish(&placed, &schema("second"), Some(&v("1.1.0")))
        .await
        .expect("publish");
    let scratch = tempfile::tempdir().expect("scratch");
    let newer = client.get(&placed, &sel("^1")).await.expect("get 1.1.0");
    assert_eq!(newer.version, v("1.1.0"));
    let scratch_cache = ContractCache::new(scratch.path());
    scratch_cache.store(&sel("^1"), &newer).expect("store");
    let whole = std::fs::read(scratch_cache.path_for(&placed, &sel("^1"))).expect("read");
    let cache = ContractCache::new(cache_dir.path());
    let final_path = cache.path_for(&placed, &sel("^1"));
    let file_name = final_path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let torn = cache_dir.path().join(format!(".{file_name}.4242.17.tmp"));
    std::fs::write(&torn, &whole[..whole.len() / 2]).expect("write a torn temporary file");
    drop(server.stop().await);

    let restarted = cached_client(&url, cache_dir.path());
    let set = restarted
        .fetch_contracts(&wanted)
        .await
        .expect("served from the cache");
    let got = set.get(&placed).expect("placed");
    assert!(got.stale);
    assert_eq!(got.contract.version, v("1.0.0"));
    assert_eq!(
        got.contract.fingerprint,
        first.get(&placed).expect("first").contract.fingerprint
    );
    assert!(torn.exists(), "the torn file is ignored, not read");

    // A final file damaged in place is refused, not half-read: the error
    // names the contract.
    let intact = std::fs::read(&final_path).expect("read");
    std::fs::write(&final_path, &intact[..intact.len() - 10]).expect("damage");
    let err = restarted.fetch_contracts(&wanted).await.unwrap_err();
    let Error::ContractsUnavailable { contracts, reasons } = &err else {
        panic!("expected ContractsUnavailable, got {err}");
    };
    assert_eq!(contracts, &vec!["orders/order-placed@^1".to_owned()]);
    assert!(reasons[0].contains("unusable"), "{reasons:?}");
}
