//! The command line: `sqin serve`, `sqin demo`, and the operator's commands
//! for the citizen register, relying parties and keys.
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use sqin_oidc::client::{self, ClientRegistration};
use sqin_register::{import_csv, NewCitizen};
use sqin_store::citizens;
use sqin_store::clients::{self as client_store, ClientRecord};
use sqin_store::enrolment::CodePurpose;

use crate::bootstrap::{now, Services};

#[derive(Debug, Parser)]
#[command(
    name = "sqin",
    version,
    about = "sqin: a federated digital identity provider for governments (OpenID Connect, passkeys, consent ledger)"
)]
pub struct Cli {
    /// Configuration file (TOML). Every key can also be set as SQIN_<KEY>.
    #[arg(long, short, global = true, env = "SQIN_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Also load the synthetic demo (a demo relying party and citizens).
        #[arg(long)]
        demo: bool,
    },
    /// Run the server with synthetic demo data in `var/demo.db`.
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and print it (secrets are never printed).
    Config,
    /// The citizen register.
    #[command(subcommand)]
    Citizen(CitizenCommand),
    /// Relying parties (ministry services).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum CitizenCommand {
    /// Import a register extract (CSV: register_id, given_name, family_name,
    /// birthdate, and optionally email, address, locale). All rows or none.
    /// Prints `register_id,enrolment_code` for each citizen, once.
    Import { file: PathBuf },
    /// Add one citizen and print their enrolment code, once.
    Add(AddCitizen),
    /// Issue a new code for a citizen (lost passkey); earlier codes stop working.
    ReissueCode { register_id: String },
}

#[derive(Debug, Args)]
pub struct AddCitizen {
    #[arg(long)]
    pub register_id: String,
    #[arg(long)]
    pub given_name: String,
    #[arg(long)]
    pub family_name: String,
    /// ISO 8601 date, YYYY-MM-DD.
    #[arg(long)]
    pub birthdate: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    /// fr or en (optionally with a region, e.g. fr-CA).
    #[arg(long)]
    pub locale: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a relying party; prints JSON with its client_id and, for a
    /// confidential client, its client_secret (shown once).
    Add(AddClient),
    List,
    Show {
        client_id: String,
    },
    Remove {
        client_id: String,
    },
    /// Issue a new secret; the old one stops working at once.
    RotateSecret {
        client_id: String,
    },
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
    pub auth_method: Option<String>,
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

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their states.
    List,
    /// Promote the next key, keep the current one published until its tokens
    /// expire, and create a new next key.
    Rotate,
}

fn client_json(c: &ClientRecord) -> serde_json::Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "client_type": c.client_type.as_str(),
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "scope": c.scopes.join(" "),
        "purpose": c.purpose,
        "sector": c.sector,
        "subject_type": c.subject_type,
        "backchannel_logout_uri": c.backchannel_logout_uri,
    })
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub async fn citizen(services: &Services, cmd: CitizenCommand) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        CitizenCommand::Import { file } => {
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} importing {pos}/{len} citizens {wide_bar} {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report = import_csv(&mut conn, &services.codes, input, now(), |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
            bar.finish_and_clear();
            let mut out = std::io::stdout().lock();
            writeln!(out, "register_id,enrolment_code,expires_at")?;
            for (register_id, code) in &report.issued {
                writeln!(
                    out,
                    "{register_id},{},{}",
                    code.code.expose(),
                    rfc3339(code.expires_at)
                )?;
            }
            eprintln!(
                "imported {} citizens; their enrolment codes are above and are not stored in clear anywhere",
                report.issued.len()
            );
        }
        CitizenCommand::Add(a) => {
            let (citizen, code) = sqin_register::add_citizen(
                &mut conn,
                &services.codes,
                NewCitizen {
                    register_id: a.register_id,
                    given_name: a.given_name,
                    family_name: a.family_name,
                    birthdate: a.birthdate,
                    email: a.email,
                    address: a.address,
                    locale: a.locale,
                },
                now(),
            )
            .await?;
            print_json(&json!({
                "register_id": citizen.register_id,
                "enrolment_code": code.code.expose(),
                "expires_at": rfc3339(code.expires_at),
            }))?;
        }
        CitizenCommand::ReissueCode { register_id } => {
            let citizen = citizens::by_register_id(&mut conn, &register_id)
                .await?
                .with_context(|| format!("no citizen with register_id {register_id}"))?;
            let mut tx = sqin_store::begin_on(&mut conn).await?;
            let code = services
                .codes
                .issue(&mut tx, &citizen.id, CodePurpose::Recovery, now())
                .await?;
            tx.commit().await?;
            print_json(&json!({
                "register_id": citizen.register_id,
                "enrolment_code": code.code.expose(),
                "expires_at": rfc3339(code.expires_at),
                "purpose": "recovery",
            }))?;
        }
    }
    Ok(())
}

pub async fn client(services: &Services, cmd: ClientCommand) -> anyhow::Result<()> {
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
                    purpose: a.purpose,
                    sector: a.sector,
                    public_client: a.public,
                    auth_method: a.auth_method,
                    jwks,
                    public_subject: a.public_subject,
                    backchannel_logout_uri: a.backchannel_logout_uri,
                },
                now(),
            )
            .await?;
            let mut out = client_json(&registered.record);
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
            eprintln!("removed client {client_id}");
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = client::rotate_secret(&mut conn, &client_id, now()).await?;
            print_json(&json!({ "client_id": client_id, "client_secret": secret.expose() }))?;
        }
    }
    Ok(())
}

pub async fn keys(services: &Services, cmd: KeysCommand) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        KeysCommand::List => {
            let all = sqin_store::keys::list_all(&mut conn).await?;
            let rows: Vec<_> = all
                .iter()
                .map(|k| {
                    json!({
                        "kid": k.kid,
                        "alg": k.alg,
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
                now(),
                services.config.token_ttl_secs * 2,
            )
            .await?;
            print_json(&json!({
                "current": r.current,
                "next": r.next,
                "previous": r.previous,
                "retired": r.retired,
            }))?;
        }
    }
    Ok(())
}

pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Refuses to run a command when the configuration names no database we can use.
pub fn check_args(cli: &Cli) -> anyhow::Result<()> {
    if let Some(path) = &cli.config {
        if !path.exists() {
            bail!("configuration file {} does not exist", path.display());
        }
    }
    Ok(())
}
