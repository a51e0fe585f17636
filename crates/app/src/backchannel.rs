//! Delivers queued back-channel logout notices to relying parties.
use std::time::Duration;

use sqin_oidc::backchannel;
use sqin_store::backchannel as queue;

use crate::{AppError, Services};

/// Ends a browser session and queues a logout notice for every relying party
/// that received grants under it, in one transaction; then wakes the sender.
pub async fn end_session(services: &Services, session_id: &str) -> Result<(), AppError> {
    let provider = services.provider();
    let t = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    backchannel::queue_session_logout(&mut tx, &provider, session_id, t).await?;
    sqin_session::end_by_id(&mut tx, session_id, t).await?;
    tx.commit().await?;
    services.backchannel_wake.notify_one();
    Ok(())
}

/// One pass over the due notices: each is claimed by exactly one node,
/// signed, POSTed, and its outcome recorded. Returns how many were delivered.
pub async fn deliver_due(services: &Services) -> Result<usize, AppError> {
    let provider = services.provider();
    let t = services.now();
    let due = {
        let mut conn = services.store.pool().acquire().await?;
        queue::due(&mut conn, t, 50).await?
    };
    let mut delivered = 0;
    for delivery in due {
        let mut conn = services.store.pool().acquire().await?;
        if !queue::claim(&mut conn, &delivery.id, t, t + 30).await? {
            continue;
        }
        // Signed like the client's ID tokens.
        let alg = sqin_store::clients::get(&mut conn, &delivery.client_id)
            .await?
            .map_or(sqin_crypto::SigningAlg::Es256, |c| {
                c.id_token_signed_response_alg
            });
        drop(conn);
        let token = backchannel::logout_token(&provider, &delivery, alg, services.now())?;
        let outcome = services
            .http
            .post(&delivery.uri)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        let mut conn = services.store.pool().acquire().await?;
        let attempts = delivery.attempts + 1;
        match outcome {
            Ok(r) if r.status().is_success() => {
                queue::delivered(&mut conn, &delivery.id, services.now()).await?;
                delivered += 1;
            }
            Ok(r) => {
                let error = format!("HTTP {}", r.status().as_u16());
                tracing::warn!(client_id = %delivery.client_id, %error, attempts, "back-channel logout refused");
                queue::failed(
                    &mut conn,
                    &delivery.id,
                    &error,
                    backchannel::retry_at(attempts, services.now()),
                    services.now(),
                )
                .await?;
            }
            Err(e) => {
                let error = if e.is_timeout() {
                    "timeout".to_owned()
                } else {
                    "connection failed".to_owned()
                };
                tracing::warn!(client_id = %delivery.client_id, %error, attempts, "back-channel logout not delivered");
                queue::failed(
                    &mut conn,
                    &delivery.id,
                    &error,
                    backchannel::retry_at(attempts, services.now()),
                    services.now(),
                )
                .await?;
            }
        }
    }
    Ok(delivered)
}

/// Runs until the process stops: a pass when woken, and every two seconds
/// for retries.
pub async fn run(services: Services) {
    loop {
        tokio::select! {
            () = services.backchannel_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
        if let Err(e) = deliver_due(&services).await {
            crate::jobs::pass_failed("back-channel logout pass failed", &e, false);
        }
    }
}

/// The HTTP client for back-channel deliveries and witness requests: no
/// redirects (a redirect could send a token elsewhere), short time limits.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(5))
        .user_agent("sqin")
        .build()
        .unwrap_or_default()
}
