//! The protocol endpoints for relying parties (`/token`, `/revoke`,
//! `/introspect`) answer every refusal as RFC 6749 section 5.2 JSON with
//! `Cache-Control: no-store`, whatever was wrong with the request: a JSON
//! body, no body, no `Content-Type`, a body over the limit, another method.
use sqin_tests::{both_backends, TestServer};

/// Sends `request` and checks the answer is an RFC 6749 error: `status`,
/// JSON with `error` = `code`, and `no-store`; what differs, if anything.
async fn refused(request: reqwest::RequestBuilder, status: u16, code: &str) -> Result<(), String> {
    let r = request.send().await.unwrap();
    let headers = r.headers().clone();
    let got = r.status().as_u16();
    let text = r.text().await.unwrap();
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if got == status
        && header(reqwest::header::CONTENT_TYPE).starts_with("application/json")
        && header(reqwest::header::CACHE_CONTROL) == "no-store"
        && body["error"] == code
        && body["error_description"].is_string()
    {
        Ok(())
    } else {
        Err(format!(
            "{got} {:?} {:?} {text}",
            header(reqwest::header::CONTENT_TYPE),
            header(reqwest::header::CACHE_CONTROL)
        ))
    }
}

both_backends!(
    async fn protocol_endpoints_refuse_in_rfc6749_json_whatever_the_body(db: TestDb) {
        let server = TestServer::start(db).await;
        let client = server.client();
        let too_big = format!("token={}", "x".repeat(70 * 1024));
        let mut wrong = Vec::new();
        for path in ["/token", "/revoke", "/introspect"] {
            let post = || {
                client
                    .post(server.url(path))
                    .basic_auth("someone", Some("secret"))
            };
            let cases = [
                (
                    "a JSON body",
                    post()
                        .header("content-type", "application/json")
                        .body(r#"{"grant_type":"client_credentials","token":"t"}"#),
                    400,
                ),
                ("no body and no Content-Type", post(), 400),
                (
                    "a form without its Content-Type",
                    post().body("grant_type=client_credentials&token=t"),
                    400,
                ),
                (
                    "a body over the limit",
                    post()
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(too_big.clone()),
                    413,
                ),
                ("another method", client.get(server.url(path)), 405),
            ];
            for (what, request, status) in cases {
                if let Err(e) = refused(request, status, "invalid_request").await {
                    wrong.push(format!("{path}, {what}: {e}"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        server.stop().await;
    }
);
