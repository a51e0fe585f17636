//! `sqin client`: the relying-party register.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use sqin_app::Services;
use sqin_oidc::client::{self, ClientRegistration};
use sqin_store::clients::{self as client_store, ClientRecord};

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a relying party; prints JSON with its client_id and, for a
    /// confidential client, its client_secret (shown once).
    Add(Box<AddClient>),
    List,
    Show {
        /// (May start with '-': generated ids are base64url.)
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    Remove {
        /// (May start with '-': generated ids are base64url.)
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Issue a new secret; the old one stops working within
    /// `client_cache_secs` (5 s) on every node.
    RotateSecret {
        /// (May start with '-': generated ids are base64url.)
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

/// `--auth-method`, as clap parses it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum AuthMethodArg {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl AuthMethodArg {
    fn method(self) -> client::AuthMethod {
        match self {
            Self::ClientSecretBasic => client::AuthMethod::ClientSecretBasic,
            Self::ClientSecretPost => client::AuthMethod::ClientSecretPost,
            Self::PrivateKeyJwt => client::AuthMethod::PrivateKeyJwt,
            Self::None => client::AuthMethod::None,
        }
    }
}

#[derive(Debug, Args)]
pub struct AddClient {
    #[arg(long)]
    pub name: String,
    /// Exact redirect URI (repeatable): https, or http on loopback only.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes the service's purpose allows (openid is implied).
    #[arg(long, default_value = "openid")]
    pub scope: String,
    /// Space-separated claims the purpose allows, when narrower than the
    /// scopes carry (e.g. --scope "openid profile" --claims "name": no
    /// locale, no separate names). Default: every claim of the scopes.
    #[arg(long)]
    pub claims: Option<String>,
    /// The purpose, in plain words, shown to citizens on the consent page.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Pairwise sector; defaults to the redirect URIs' host.
    #[arg(long)]
    pub sector: Option<String>,
    /// A public client (native or browser app): PKCE, no secret.
    #[arg(long)]
    pub public: bool,
    /// client_secret_basic (default), client_secret_post or private_key_jwt.
    #[arg(long)]
    pub auth_method: Option<AuthMethodArg>,
    /// File with the client's JWK set, for private_key_jwt.
    #[arg(long)]
    pub jwks: Option<PathBuf>,
    /// Exact post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Send the same `sub` to every sector for this client (off: pairwise).
    #[arg(long)]
    pub public_subject: bool,
}

fn client_json(c: &ClientRecord) -> serde_json::Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "client_type": c.client_type.as_str(),
        "token_endpoint_auth_method": c.token_endpoint_auth_method.as_str(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "scope": c.scopes.join(" "),
        "claims": c.claims,
        "purpose": c.purpose,
        "sector": c.sector,
        "subject_type": c.subject_type.as_str(),
        "backchannel_logout_uri": c.backchannel_logout_uri,
    })
}

/// `sqin client ...`.
pub async fn run(services: &Services, cmd: ClientCommand) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        ClientCommand::Add(a) => {
            let jwks = match &a.jwks {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read --jwks {}", path.display()))?,
                ),
                None => None,
            };
            let registered = client::register(
                &mut conn,
                ClientRegistration {
                    client_id: None,
                    name: a.name,
                    redirect_uris: a.redirect_uris,
                    post_logout_redirect_uris: a.post_logout_redirect_uris,
                    scopes: vec![a.scope],
                    claims: a.claims.map(|c| vec![c]),
                    purpose: a.purpose,
                    sector: a.sector,
                    public_client: a.public,
                    auth_method: a.auth_method.map(AuthMethodArg::method),
                    jwks,
                    public_subject: a.public_subject,
                    backchannel_logout_uri: a.backchannel_logout_uri,
                },
                services.now(),
            )
            .await?;
            let record = &registered.record;
            let scopes = record.scopes.join(" ");
            sqin_app::staff::record_operator_action(
                services,
                "client.registered",
                &[
                    ("client_id", &record.client_id),
                    ("name", &record.name),
                    ("redirect_uris", &record.redirect_uris.join(" ")),
                    ("scope", &scopes),
                    ("sector", &record.sector),
                    ("subject_type", record.subject_type.as_str()),
                ],
            )
            .await?;
            let mut out = client_json(record);
            if let Some(secret) = &registered.client_secret {
                out["client_secret"] = json!(secret.expose());
            }
            print_json(&out)?;
        }
        ClientCommand::List => {
            let all = client_store::list(&mut conn).await?;
            print_json(&json!(all.iter().map(client_json).collect::<Vec<_>>()))?;
        }
        ClientCommand::Show { client_id } => {
            let c = client_store::get(&mut conn, &client_id)
                .await?
                .with_context(|| format!("no client with client_id {client_id}"))?;
            print_json(&client_json(&c))?;
        }
        ClientCommand::Remove { client_id } => {
            client_store::delete(&mut conn, &client_id)
                .await
                .with_context(|| format!("cannot remove client {client_id}"))?;
            sqin_app::staff::record_operator_action(
                services,
                "client.removed",
                &[("client_id", &client_id)],
            )
            .await?;
            eprintln!("removed client {client_id}");
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = client::rotate_secret(&mut conn, &client_id, services.now()).await?;
            sqin_app::staff::record_operator_action(
                services,
                "client.secret_rotated",
                &[("client_id", &client_id)],
            )
            .await?;
            print_json(&json!({ "client_id": client_id, "client_secret": secret.expose() }))?;
        }
    }
    Ok(())
}
