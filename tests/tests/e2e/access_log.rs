//! Issue 16, the access log: one line per request at info, with the
//! method, the route's template (never the raw path), the status, the
//! latency, the request id the response carries, and the client only as
//! `access_log_client` says; never a query string, so no code, `state` or
//! hint reaches the log.
use sqin_tests::captured_logs::CapturedLogs;
use sqin_tests::TestServer;

sqin_tests::both_backends!(
    async fn one_access_line_per_request_with_the_route_template_and_no_query(db: TestDb) {
        let logs = CapturedLogs::default();
        let ran = tokio::task::spawn_blocking(move || {
            let _thread = logs.on_this_thread();
            logs.runtime(2).block_on(async move {
                let server = TestServer::start_with(
                    db,
                    |config| {
                        config.access_log_client = sqin_server::config::AccessLogClient::Network
                    },
                    axum::Router::new(),
                )
                .await;
                let http = server.client();
                let get = |path: &str| {
                    let (http, url) = (http.clone(), server.url(path));
                    async move {
                        let r = http.get(url).send().await.unwrap();
                        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
                        (r.status().as_u16(), id)
                    }
                };
                let (status, authorize_id) =
                    get("/authorize?client_id=nobody&state=SECRET-STATE-42&login_hint=aline").await;
                assert_eq!(status, 400);
                let (status, schema_id) = get("/account/data/schema/v2.json").await;
                assert_eq!(status, 200);
                let (status, lost_id) = get("/no/such/page/QC-123-SECRET").await;
                assert_eq!(status, 404);
                server.stop().await;

                let access = logs.lines_with("sqin::access");
                let line = |id: &str| {
                    let found: Vec<&String> = access
                        .iter()
                        .filter(|l| l.contains(&format!("request_id={id}")))
                        .collect();
                    assert_eq!(found.len(), 1, "one line for {id}: {access:#?}");
                    found[0].clone()
                };
                let a = line(&authorize_id);
                for field in [
                    "method=GET",
                    "route=/authorize",
                    "status=400",
                    "latency_ms=",
                    "client=127.0.0.0/24",
                ] {
                    assert!(a.contains(field), "{field} in {a}");
                }
                assert!(a.contains(" INFO "), "{a}");
                let s = line(&schema_id);
                assert!(
                    s.contains("route=/account/data/schema/{file}") && s.contains("status=200"),
                    "{s}"
                );
                let n = line(&lost_id);
                assert!(n.contains("route=- ") && n.contains("status=404"), "{n}");
                let text = logs.text();
                for secret in [
                    "SECRET-STATE-42",
                    "login_hint",
                    "aline",
                    "QC-123-SECRET",
                    "v2.json",
                ] {
                    assert!(!text.contains(secret), "{secret} in the log:\n{text}");
                }
            });
        })
        .await;
        if let Err(e) = ran {
            std::panic::resume_unwind(e.into_panic());
        }
    }
);
