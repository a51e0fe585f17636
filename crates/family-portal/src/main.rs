//! `family-portal`: the Family ministry's portal (or, with `--profile
//! revenue`, the revenue office) as a stand-alone relying party of sqin.
//!
//! ```sh
//! family-portal --issuer http://localhost:8080 --client-id ID --client-secret SECRET \
//!     --listen 127.0.0.1:8081 --public-url http://localhost:8081
//! ```
//! Every option can also be given as a `PORTAL_*` environment variable.
use clap::Parser;
use sqin_family_portal::{PortalConfig, Profile};

#[derive(Parser)]
#[command(
    version,
    about = "A ministry's portal that signs citizens in through sqin (OpenID Connect)"
)]
struct Args {
    /// Which service: the Family ministry or the revenue office.
    #[arg(long, env = "PORTAL_PROFILE", value_enum, default_value = "family")]
    profile: Profile,
    /// The OpenID Provider's issuer URL.
    #[arg(long, env = "PORTAL_ISSUER", default_value = "http://localhost:8080")]
    issuer: url::Url,
    #[arg(long, env = "PORTAL_CLIENT_ID")]
    client_id: String,
    /// Prefer the environment variable: command lines are visible to others.
    #[arg(long, env = "PORTAL_CLIENT_SECRET", hide_env_values = true)]
    client_secret: String,
    /// The address to listen on.
    #[arg(long, env = "PORTAL_LISTEN", default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// Where browsers reach this service (its redirect URI is PUBLIC/callback).
    #[arg(
        long,
        env = "PORTAL_PUBLIC_URL",
        default_value = "http://localhost:8081"
    )]
    public_url: url::Url,
    /// Scopes to ask for (space-separated); default: the profile's.
    #[arg(long, env = "PORTAL_SCOPES")]
    scopes: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = PortalConfig {
        profile: args.profile,
        issuer: args.issuer,
        client_id: args.client_id,
        client_secret: args.client_secret,
        public_url: args.public_url,
        scopes: args.scopes,
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("family-portal: cannot bind {}: {e}", args.listen);
            return std::process::ExitCode::FAILURE;
        }
    };
    let portal = match sqin_family_portal::Portal::new(config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("family-portal: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(listen = %args.listen, "portal listening");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match sqin_family_portal::serve(portal, listener, shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("family-portal: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
