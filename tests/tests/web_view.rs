//! The web view over HTTP, against a real registry with a token file:
//! every page of the known contracts, the error pages, and access control
//! (tokens, browsers' Basic credentials, scopes, read-only).
//! The browser's view of the same pages is in `web_browser.rs`.

use accord_tests::{
    TestServer,
    http::{self, Response},
    seed::{self, DEPRECATION, HOSTILE, Tokens},
};

async fn secured() -> (TestServer, Tokens) {
    let tokens = Tokens::create();
    let file = tokens.file.clone();
    let server = TestServer::start_web(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(file);
    })
    .await;
    seed::seed(&mut server.client().await, Some(&tokens.publisher)).await;
    (server, tokens)
}

async fn page(server: &TestServer, tokens: &Tokens, path: &str) -> Response {
    http::get_with_token(server.http_addr(), path, &tokens.reader).await
}

/// The page with character references replaced by their characters, so
/// that an expectation does not depend on how the templates escape.
fn unescape(html: &str) -> String {
    [
        ("&#34;", "\""),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#60;", "<"),
        ("&lt;", "<"),
        ("&#62;", ">"),
        ("&gt;", ">"),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html.to_owned(), |text, (reference, character)| {
        text.replace(reference, character)
    })
}

/// Checks the status, that the page is HTML, that each `wanted` text is on
/// it (tags as written, text unescaped), and that no `<script` element is.
fn assert_html(response: &Response, status: u16, wanted: &[&str]) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("text/html; charset=utf-8"));
    let text = unescape(&response.body);
    for wanted in wanted {
        assert!(
            text.contains(wanted),
            "{wanted:?} is not on the page:\n{}",
            response.body
        );
    }
    assert!(
        !response.body.contains("<script"),
        "a script element on the page:\n{}",
        response.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walk_components_contracts_versions_and_diffs() {
    let (server, tokens) = secured().await;

    let index = page(&server, &tokens, "/").await;
    assert_html(&index, 200, &[r#"href="/c/billing""#, r#"href="/c/orders""#]);
    assert!(
        index.body.find("billing") < index.body.find("/c/orders"),
        "sorted by name"
    );

    let orders = page(&server, &tokens, "/c/orders").await;
    assert_html(
        &orders,
        200,
        &[
            r#"href="/c/orders/order-placed""#,
            r#"href="/c/orders/order-placed/2.0.0""#,
        ],
    );

    let contract = page(&server, &tokens, "/c/orders/order-placed").await;
    assert_html(
        &contract,
        200,
        &[
            "<strong>BACKWARD</strong>",
            r#"<tr class="state-deprecated">"#,
            "deprecated 20",
            DEPRECATION,
            "<td>ci</td>",
            "<td>minor</td>",
            "<td>major</td>",
            r#"action="/c/orders/order-placed/diff""#,
        ],
    );
    assert_eq!(contract.body.matches(r#"<tr class="state-live">"#).count(), 2);

    let version = page(&server, &tokens, "/c/orders/order-placed/1.0.0").await;
    assert_html(
        &version,
        200,
        &[
            &format!("Deprecated: {DEPRECATION}"),
            r#"<span id="published-by">ci</span>"#,
            &format!("Emitted when an order is placed. {HOSTILE}</p>"),
            r#"<pre id="schema" class="schema">"#,
            r#""amount""#,
        ],
    );

    let newer = page(&server, &tokens, "/c/orders/order-placed/2.0.0").await;
    assert_html(
        &newer,
        200,
        &[r#"href="/c/orders/order-placed/diff/1.1.0..2.0.0""#],
    );

    let diff = page(&server, &tokens, "/c/orders/order-placed/diff/1.1.0..2.0.0").await;
    assert_html(
        &diff,
        200,
        &[
            r#"class="verdict breaking""#,
            r#"<strong id="bump">major</strong>"#,
            r#"<li class="finding breaking">"#,
            "TYPE_NARROWED",
            "#/properties/amount",
            "new readers fail on old data",
            "0.5",
        ],
    );
    let compatible = page(&server, &tokens, "/c/orders/order-placed/diff/1.0.0..1.1.0").await;
    assert_html(
        &compatible,
        200,
        &[r#"class="verdict ok""#, r#"<strong id="bump">minor</strong>"#],
    );
    assert!(!compatible.body.contains(r#"class="finding breaking""#));

    let form = page(
        &server,
        &tokens,
        "/c/orders/order-placed/diff?from=1.0.0&to=2.0.0",
    )
    .await;
    assert_eq!(form.status, 303, "{}", form.body);
    assert_eq!(
        form.header("location"),
        Some("/c/orders/order-placed/diff/1.0.0..2.0.0")
    );

    let raw = page(&server, &tokens, "/c/orders/order-placed/2.0.0/raw").await;
    assert_eq!(raw.status, 200);
    assert_eq!(
        raw.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(raw.body, seed::order_placed("integer", false), "byte for byte");

    let css = http::get(server.http_addr(), "/style.css", &[]).await;
    assert_eq!(css.status, 200, "the style sheet needs no token");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    for answer in [&index, &diff, &raw] {
        let policy = answer.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_addresses_get_error_pages_that_say_what_is_wrong() {
    let (server, tokens) = secured().await;
    for (path, status, wanted) in [
        ("/nothing/here", 404, "There is no page at /nothing/here."),
        ("/c/payments", 404, "component payments not found"),
        (
            "/c/orders/order-shipped",
            404,
            "contract orders/order-shipped not found",
        ),
        ("/c/orders/order-placed/9.9.9", 404, "9.9.9"),
        ("/c/orders/order-placed/1.x", 400, r#""1.x" is not a version"#),
        (
            "/c/orders/order-placed/diff/1.0.0..banana",
            400,
            r#""banana" is not a version"#,
        ),
        (
            "/c/orders/order-placed/diff/1.0.0",
            400,
            "is not a range of two versions",
        ),
        ("/c/orders/order-placed/diff", 400, "a diff needs two versions"),
        ("/c/Orders", 400, "invalid component"),
        ("/c/%3Cb%3Ebold%3C%2Fb%3E", 400, "<b>bold</b>"),
    ] {
        let answer = page(&server, &tokens, path).await;
        assert_html(&answer, status, &[wanted, r#"<h1 id="error">"#]);
        assert!(!answer.body.contains("<b>bold"), "{path}: {}", answer.body);
    }

    for method in ["POST", "PUT", "DELETE"] {
        let bearer = format!("Bearer {}", tokens.publisher);
        let answer = http::request(
            server.http_addr(),
            method,
            "/c/orders/order-placed",
            &[("Authorization", &bearer), ("Content-Length", "0")],
        )
        .await;
        assert_html(&answer, 405, &["nothing can be changed through HTTP"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_required_and_scopes_apply_as_on_grpc() {
    let (server, tokens) = secured().await;
    let addr = server.http_addr();

    for path in ["/", "/c/orders", "/metrics"] {
        let answer = http::get(addr, path, &[]).await;
        assert_html(&answer, 401, &["This registry requires a token."]);
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Basic realm="), "{challenge}");
    }
    let wrong = http::get_with_token(addr, "/", "not-a-token").await;
    assert_html(&wrong, 401, &["not valid"]);

    // What a browser sends once its user typed a name and the token.
    let basic = {
        use base64::Engine as _;
        let credentials = format!("alice:{}", tokens.reader);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    };
    let index = http::get(addr, "/", &[("Authorization", &basic)]).await;
    assert_html(&index, 200, &[r#"href="/c/orders""#, r#"href="/c/billing""#]);

    let scoped = http::get_with_token(addr, "/", &tokens.orders_reader).await;
    assert_html(&scoped, 200, &[r#"href="/c/orders""#]);
    assert!(!scoped.body.contains("billing"), "{}", scoped.body);
    let outside = http::get_with_token(addr, "/c/billing/invoice", &tokens.orders_reader).await;
    assert_html(&outside, 403, &[r#"outside the scopes of token "orders-reader""#]);
    let inside = http::get_with_token(addr, "/c/orders/order-placed/1.1.0", &tokens.orders_reader).await;
    assert_html(&inside, 200, &["1.1.0"]);
    let metrics = http::get_with_token(addr, "/metrics", &tokens.orders_reader).await;
    assert_html(&metrics, 403, &["needs an unscoped token"]);
    let metrics = http::get_with_token(addr, "/metrics", &tokens.reader).await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
}

#[tokio::test]
async fn a_contract_page_lists_the_components_that_read_it() {
    let (server, tokens) = secured().await;
    let contract = page(&server, &tokens, "/c/orders/order-placed").await;
    assert!(!contract.body.contains(r#"id="consumers""#), "no consumers yet");
    let mut client = server.client().await;
    let mut request = tonic::Request::new(accord_proto::v1::RegisterConsumerRequest {
        consumer: "billing".into(),
        component: "orders".into(),
        contract: "order-placed".into(),
        requirement: "^2".into(),
        reader: String::new(),
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {}", tokens.publisher).parse().unwrap(),
    );
    client.register_consumer(request).await.unwrap();
    let contract = page(&server, &tokens, "/c/orders/order-placed").await;
    assert_html(
        &contract,
        200,
        &[
            r#"<table id="consumers">"#,
            r#"<a href="/c/billing">billing</a>"#,
            "^2",
        ],
    );
}
