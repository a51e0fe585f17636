//! Ceremony budgets through HTTP, behind a trusted proxy that names each
//! client in `X-Forwarded-For`: one account hint spending its budget from
//! an address leaves the other citizens behind that address alone; the
//! address's ceiling still stops a flood across many hints; budgets slide
//! with the clock instead of resetting at a boundary. Every refusal is a
//! `429` with `Retry-After`, counted per limit (the log line each one
//! writes is checked in `sqin_webauthn::limits`'s unit tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reqwest::StatusCode;
use serde_json::json;
use sqin_tests::{both_backends, TestServer};
use sqin_webauthn::Limit;

use crate::passkeys_support::*;

async fn start(db: sqin_tests::TestDb) -> TestServer {
    TestServer::start_with(
        db,
        |config| config.trusted_proxies = vec!["127.0.0.1/32".into(), "::1/128".into()],
        axum::Router::new(),
    )
    .await
}

/// `POST /api/passkeys/login/start` for the client the proxy calls `from`,
/// naming `register_id` (or no account): the status, and `Retry-After`.
async fn login_start(
    browser: &Browser,
    from: &str,
    register_id: Option<&str>,
) -> (StatusCode, Option<i64>) {
    let body = match register_id {
        Some(id) => json!({ "register_id": id }),
        None => json!({}),
    };
    let reply = browser
        .post_with(
            "/api/passkeys/login/start",
            body,
            &[("x-forwarded-for", from)],
        )
        .await;
    if reply.status == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(reply.error(), "rate_limited");
    }
    let retry_after = reply
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (reply.status, retry_after)
}

/// Starts `n` sign-ins that must all be admitted.
async fn spend(browser: &Browser, from: &str, register_id: Option<&str>, n: i64) {
    for i in 0..n {
        let (status, _) = login_start(browser, from, register_id).await;
        assert_eq!(status, StatusCode::OK, "attempt {i} for {register_id:?}");
    }
}

fn refused(server: &TestServer, limit: Limit) -> u64 {
    server.services.passkeys.refused(limit)
}

both_backends!(
    async fn one_citizen_spending_their_budget_leaves_the_others_at_the_address_alone(db: TestDb) {
        let server = start(db).await;
        let limits = server.services.passkeys.limits().clone();
        let (_, _, mut key) = enrolled(&server, "H-2").await;
        let office = "198.51.100.20";
        let b = Browser::open(&server).await;

        // Someone behind the office's address knocks with one identifier.
        spend(&b, office, Some("H-1"), limits.ceremonies_per_hint).await;
        let (status, retry_after) = login_start(&b, office, Some("H-1")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(retry_after.is_some_and(|s| (1..=limits.window_secs).contains(&s)));
        // However it is spelt.
        assert_eq!(
            login_start(&b, office, Some(" h-1 ")).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(refused(&server, Limit::CeremoniesPerHint), 2);

        // Another citizen at the same address signs in, by identifier and
        // username-less alike.
        let colleague = Browser::open(&server).await;
        let reply = colleague
            .post_with(
                "/api/passkeys/login/start",
                json!({ "register_id": "H-2" }),
                &[("x-forwarded-for", office)],
            )
            .await;
        let (ceremony, options) = split_request(reply.ok());
        use webauthn_authenticator_rs::WebauthnAuthenticator;
        let credential = key
            .do_authentication(colleague.origin.clone(), options)
            .unwrap();
        let done = colleague
            .post_with(
                "/api/passkeys/login/finish",
                json!({ "ceremony": ceremony, "credential": credential }),
                &[("x-forwarded-for", office)],
            )
            .await;
        assert_eq!(done.ok()["redirect"], "/account");
        assert_eq!(colleague.account().await.0, StatusCode::OK);
        assert_eq!(login_start(&b, office, None).await.0, StatusCode::OK);
        // The same identifier from elsewhere is not limited either.
        assert_eq!(
            login_start(&b, "198.51.100.21", Some("H-1")).await.0,
            StatusCode::OK
        );
        assert_eq!(refused(&server, Limit::CeremoniesPerAddress), 0);
        server.stop().await;
    }
);

both_backends!(
    async fn the_address_ceiling_stops_a_flood_across_many_hints(db: TestDb) {
        let server = start(db).await;
        let limits = server.services.passkeys.limits().clone();
        let flood = "203.0.113.50";
        let b = Browser::open(&server).await;
        // Username-less sign-ins share one hint per address, with a larger
        // budget...
        spend(&b, flood, None, limits.discoverable_per_address).await;
        assert_eq!(
            login_start(&b, flood, None).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(refused(&server, Limit::DiscoverablePerAddress), 1);
        // ...and identifiers have one each, until the address's ceiling.
        let left = limits.ceremonies_per_address - limits.discoverable_per_address;
        let hints = left / limits.ceremonies_per_hint;
        assert!(hints > 1 && left % limits.ceremonies_per_hint == 0);
        for h in 0..hints {
            spend(
                &b,
                flood,
                Some(&format!("F-{h}")),
                limits.ceremonies_per_hint,
            )
            .await;
        }
        let (status, retry_after) = login_start(&b, flood, Some("F-NEW")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(retry_after.is_some());
        assert_eq!(refused(&server, Limit::CeremoniesPerAddress), 1);
        assert_eq!(refused(&server, Limit::CeremoniesPerHint), 0);
        // Adding a passkey and enrolling are ceremonies too: shut out alike.
        let grant = b
            .post_with(
                "/api/passkeys/enrol/start",
                json!({ "grant": "unknown" }),
                &[("x-forwarded-for", flood)],
            )
            .await;
        assert_eq!(grant.status, StatusCode::TOO_MANY_REQUESTS);
        // Another address is not.
        assert_eq!(
            login_start(&b, "203.0.113.51", Some("F-NEW")).await.0,
            StatusCode::OK
        );
        server.stop().await;
    }
);

both_backends!(
    async fn ceremony_budgets_slide_with_the_clock(db: TestDb) {
        let server = start(db).await;
        let limits = server.services.passkeys.limits().clone();
        let (per_hint, window) = (limits.ceremonies_per_hint, limits.window_secs);
        let from = "192.0.2.77";
        let b = Browser::open(&server).await;
        // The server's clock is the real one moved forward by the test, so
        // the moments are read, not assumed.
        let advance_to = |at: i64| {
            let by = at - server.now();
            if by > 0 {
                server.advance(by);
            }
        };
        // Two thirds of the budget now, the rest two thirds of a window
        // later.
        let early = per_hint * 2 / 3;
        let first = server.now();
        spend(&b, from, Some("W-1"), early).await;
        let last_early = server.now();
        server.advance(window * 2 / 3);
        spend(&b, from, Some("W-1"), per_hint - early).await;
        let (status, retry_after) = login_start(&b, from, Some("W-1")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        // The wait is until the earliest attempt leaves the window.
        let wait = retry_after.unwrap();
        assert!((1..=window - window * 2 / 3).contains(&wait), "{wait}");
        // Shortly before it does, still refused...
        advance_to(first + window - 30);
        let (status, retry_after) = login_start(&b, from, Some("W-1")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(retry_after.is_some_and(|s| s <= 60), "{retry_after:?}");
        // ...then the early attempts have aged out, and only they: the
        // budget is back by that much, not whole, as a window aligned to the
        // clock would have made it; the wait is now for the later ones.
        advance_to(last_early + window + 1);
        spend(&b, from, Some("W-1"), early).await;
        let (status, retry_after) = login_start(&b, from, Some("W-1")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let wait = retry_after.unwrap();
        assert!(
            (window - window * 2 / 3..=window * 2 / 3).contains(&wait),
            "{wait}"
        );
        // A whole window later, the whole budget.
        server.advance(window);
        spend(&b, from, Some("W-1"), per_hint).await;
        assert_eq!(refused(&server, Limit::CeremoniesPerHint), 3);
        server.stop().await;
    }
);
