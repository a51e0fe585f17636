//! `sqin serve`, `sqin demo`, `sqin migrate` and `sqin config`.
use std::sync::Arc;

use anyhow::Context;

use crate::Config;

/// `sqin config`: the configuration in force, secrets and passwords hidden.
pub fn show_config(config: &Config) -> anyhow::Result<()> {
    let mut shown = serde_json::to_value(config)?;
    shown["database_url"] = sqin_app::redact_url(&config.database_url).into();
    println!("{}", serde_json::to_string_pretty(&shown)?);
    if let Err(e) = config.check_deployment_complete(false) {
        eprintln!("sqin: warning: `sqin serve` would refuse to start: {e}");
    }
    Ok(())
}

/// `sqin migrate`: brings the schema up to date and exits.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = sqin_store::Store::open(&config.database_url)
        .await
        .context("migrating the database")?;
    store.close().await;
    eprintln!("database is up to date");
    Ok(())
}

/// `sqin serve` (with the synthetic demo when `demo`, in builds with the
/// `demo` feature).
pub async fn serve(mut config: Config, demo: bool) -> anyhow::Result<()> {
    #[cfg(not(feature = "demo"))]
    if demo {
        anyhow::bail!(
            "this sqin was built without the demo (the release build carries no demo relying party); run `cargo run --features demo --bin sqin -- demo`"
        );
    }
    config.check_security_txt_current(time::OffsetDateTime::now_utc(), demo)?;
    if demo && config.deployment.is_empty() {
        // Fictitious values, each marked as a demonstration.
        config.deployment = crate::config::Deployment::demo();
    }
    config.check_deployment_complete(demo)?;
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("configuration key `listen`: cannot bind {}", config.listen))?;
    let staff = std::net::TcpListener::bind(config.staff_listen).with_context(|| {
        format!(
            "configuration key `staff_listen`: cannot bind {}",
            config.staff_listen
        )
    })?;
    let services = crate::open(&config).await?;
    #[cfg(feature = "demo")]
    if demo {
        let seeded = crate::demo::seed(&services).await?;
        crate::demo::start(&services, seeded).await?;
    }
    let addr = listener.local_addr()?;
    let scheme = if config.tls_enabled() {
        "https"
    } else {
        "http"
    };
    tracing::info!(address = %addr, issuer = %config.issuer_str(), "sqin listening on {scheme}://{addr}");
    tracing::info!(address = %staff.local_addr()?, url = %config.staff_url, "staff console listening");
    crate::run(
        services.clone(),
        Arc::new(config),
        crate::Listeners {
            public: listener,
            staff,
        },
        crate::http::shutdown_signal(),
    )
    .await?;
    services.store.close().await;
    tracing::info!("sqin stopped");
    Ok(())
}
