//! `sqin keys`: token signing keys.
use clap::Subcommand;
use serde_json::json;
use sqin_app::Services;

use super::{print_json, rfc3339};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their states.
    List,
    /// For each algorithm (ES256, PS256, RS256): promote the next key, keep
    /// the current one published until its tokens expire, and create a new
    /// next key.
    Rotate,
}

/// `sqin keys ...`.
pub async fn run(services: &Services, cmd: KeysCommand) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        KeysCommand::List => {
            let all = sqin_store::keys::list_all(&mut conn).await?;
            let rows: Vec<_> = all
                .iter()
                .map(|k| {
                    json!({
                        "kid": k.kid,
                        "alg": k.alg.as_str(),
                        "state": k.state.as_str(),
                        "created_at": rfc3339(k.created_at),
                        "activated_at": k.activated_at.map(rfc3339),
                        "published_until": k.publish_until.map(rfc3339),
                    })
                })
                .collect();
            print_json(&json!(rows))?;
        }
        KeysCommand::Rotate => {
            let r = sqin_oidc::keys::rotate(
                &mut conn,
                &services.kek,
                services.now(),
                services.settings.token_ttl_secs * 2,
            )
            .await?;
            sqin_app::staff::record_operator_action(
                services,
                "keys.rotated",
                &[("current", &r.currents()), ("next", &r.nexts())],
            )
            .await?;
            print_json(&r.to_json())?;
        }
    }
    Ok(())
}
