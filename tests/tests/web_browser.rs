//! The web view in a real browser: headless Chromium reads the pages of a
//! real registry and the test checks the document it built. When a check
//! fails, a screenshot of the page is saved under
//! `target/tmp/web-screenshots/` and its path printed.
//!
//! Without Chromium the test says it skipped; with `ACCORD_REQUIRE_TOOLS=1`
//! (CI) it fails instead.

use std::path::Path;

use accord_tests::{
    TestServer,
    browser::Browser,
    seed::{self, DEPRECATION},
};

fn contains(dom: &str, wanted: &[&str]) -> Result<(), String> {
    match wanted.iter().find(|w| !dom.contains(*w)) {
        Some(missing) => Err(format!("{missing:?} is not in the page")),
        None => Ok(()),
    }
}

fn lacks(dom: &str, unwanted: &[&str]) -> Result<(), String> {
    match unwanted.iter().find(|u| dom.contains(*u)) {
        Some(found) => Err(format!("{found:?} is in the page")),
        None => Ok(()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_shows_components_versions_a_breaking_diff_and_a_404() {
    let test = "a_browser_shows_components_versions_a_breaking_diff_and_a_404";
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    let Some(browser) = Browser::find(test, &shots) else {
        return;
    };
    let server = TestServer::start_web(tempfile::tempdir().unwrap(), |_| {}).await;
    seed::seed(&mut server.client().await, None).await;
    let base = server.http_url();

    browser
        .check(&format!("{base}/"), "components", |dom| {
            contains(
                dom,
                &[
                    "<title>Components · Accord</title>",
                    r#"<table id="components">"#,
                    r#"<a href="/c/billing">billing</a>"#,
                    r#"<a href="/c/orders">orders</a>"#,
                ],
            )
        })
        .await;

    browser
        .check(&format!("{base}/c/orders/order-placed"), "contract", |dom| {
            contains(
                dom,
                &[
                    r#"<tr class="state-deprecated">"#,
                    r#"<a href="/c/orders/order-placed/2.0.0">2.0.0</a>"#,
                    r#"<form class="diff" method="get" action="/c/orders/order-placed/diff">"#,
                ],
            )
        })
        .await;

    browser
        .check(
            &format!("{base}/c/orders/order-placed/1.0.0"),
            "version",
            |dom| {
                contains(
                    dom,
                    &[
                        &format!("Deprecated: {DEPRECATION}"),
                        r#"<span id="published-by">anonymous</span>"#,
                        // The description's script is text: escaped in the
                        // document, never an element that ran.
                        "Emitted when an order is placed. &lt;script&gt;document.title='pwned'&lt;/script&gt;</p>",
                        "<title>orders/order-placed@1.0.0 · Accord</title>",
                    ],
                )?;
                lacks(dom, &["<script", "pwned</title>"])
            },
        )
        .await;

    browser
        .check(
            &format!("{base}/c/orders/order-placed/diff/1.1.0..2.0.0"),
            "diff",
            |dom| {
                contains(
                    dom,
                    &[
                        r#"<p id="verdict" class="verdict breaking">Breaking under BACKWARD"#,
                        r#"<strong id="bump">major</strong>"#,
                        r#"<li class="finding breaking">"#,
                        r#"<code class="rule">TYPE_NARROWED</code>"#,
                        "#/properties/amount",
                    ],
                )
            },
        )
        .await;

    browser
        .check(
            &format!("{base}/c/orders/order-placed/9.9.9/x/y"),
            "not-found",
            |dom| {
                contains(
                    dom,
                    &[
                        r#"<h1 id="error">Not found</h1>"#,
                        "There is no page at /c/orders/order-placed/9.9.9/x/y.",
                    ],
                )
            },
        )
        .await;
}
