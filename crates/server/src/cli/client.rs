//! `sqin client`: the relying-party register.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use sqin_app::clients::{self, ClientActor, ClientMetadata};
use sqin_app::Services;
use sqin_oidc::client::{self, ClientRegistration};
use sqin_store::clients::ClientRecord;

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a relying party within its entry of the PIA; prints JSON
    /// with its client_id, its state (pending until a privacy officer
    /// approves it in the staff console) and, for a confidential client,
    /// its client_secret (shown once).
    Add(Box<AddClient>),
    List,
    Show {
        /// (May start with '-': generated ids are base64url.)
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Change a relying party's metadata. What widens what it receives
    /// (scopes, claims, sector, a public sub, another PIA entry, the
    /// purpose) waits for a privacy officer's approval.
    Edit(Box<EditClient>),
    /// Stop a relying party (sign-ins and tokens refused).
    Suspend {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        reason: String,
    },
    /// Resume a suspended relying party (checked against the PIA again).
    Resume {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        reason: String,
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
    /// Issue an initial access token (RFC 7591) with which a ministry's
    /// pipeline registers its own clients within one PIA entry.
    InitialAccessToken {
        #[arg(long)]
        pia_entry: String,
        /// How long it stays valid.
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// How many registrations it allows.
        #[arg(long, default_value_t = 1)]
        uses: i64,
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

/// `--id-token-alg`, as clap parses it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IdTokenAlgArg {
    #[value(name = "ES256")]
    Es256,
    #[value(name = "PS256")]
    Ps256,
    #[value(name = "RS256")]
    Rs256,
}

impl IdTokenAlgArg {
    fn alg(self) -> client::SigningAlg {
        match self {
            Self::Es256 => client::SigningAlg::Es256,
            Self::Ps256 => client::SigningAlg::Ps256,
            Self::Rs256 => client::SigningAlg::Rs256,
        }
    }
}

#[derive(Debug, Args)]
pub struct AddClient {
    /// The relying party's entry in the PIA (`[[relying_party]]` id): it
    /// bounds the scopes, claims, sector, hosts and subject type.
    #[arg(long)]
    pub pia_entry: String,
    #[arg(long)]
    pub name: String,
    /// The name in French, if it differs.
    #[arg(long)]
    pub name_fr: Option<String>,
    /// Exact redirect URI (repeatable): https, or http on loopback only.
    #[arg(long = "redirect-uri", required = true)]
    pub redirect_uris: Vec<String>,
    /// Space-separated scopes (openid is implied), within the PIA entry.
    #[arg(long, default_value = "openid")]
    pub scope: String,
    /// Space-separated claims, when narrower than the scopes carry.
    /// Default: the claims of the scopes that the PIA entry allows.
    #[arg(long)]
    pub claims: Option<String>,
    /// The purpose shown to citizens; default: the PIA entry's.
    #[arg(long)]
    pub purpose: Option<String>,
    #[arg(long)]
    pub purpose_fr: Option<String>,
    /// Pairwise sector; default: the PIA entry's.
    #[arg(long)]
    pub sector: Option<String>,
    /// A public client (native or browser app): PKCE, no secret.
    #[arg(long)]
    pub public: bool,
    /// client_secret_basic (default), client_secret_post or private_key_jwt.
    #[arg(long)]
    pub auth_method: Option<AuthMethodArg>,
    /// File with the client's JWK set, for private_key_jwt.
    #[arg(long, conflicts_with = "jwks_uri")]
    pub jwks: Option<PathBuf>,
    /// Where the client publishes its JWK set, for private_key_jwt.
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// Exact post-logout redirect URI (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Send the same `sub` to every sector (only if the PIA entry allows it).
    #[arg(long)]
    pub public_subject: bool,
    /// How its ID tokens and logout tokens are signed
    /// (id_token_signed_response_alg): ES256 (default), PS256 or RS256.
    #[arg(long, ignore_case = true)]
    pub id_token_alg: Option<IdTokenAlgArg>,
}

/// What `client edit` changes; anything not given stays.
#[derive(Debug, Args)]
pub struct EditClient {
    #[arg(allow_hyphen_values = true)]
    pub client_id: String,
    /// The version the change is made against (from `client show`); the
    /// edit is refused if it changed meanwhile. Default: the current one.
    #[arg(long)]
    pub if_version: Option<i64>,
    #[arg(long)]
    pub pia_entry: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub name_fr: Option<String>,
    /// Replaces the redirect URIs (repeatable).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Replaces the post-logout redirect URIs (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    #[arg(long)]
    pub scope: Option<String>,
    #[arg(long)]
    pub claims: Option<String>,
    #[arg(long)]
    pub purpose: Option<String>,
    #[arg(long)]
    pub purpose_fr: Option<String>,
    #[arg(long)]
    pub sector: Option<String>,
    #[arg(long)]
    pub jwks_uri: Option<String>,
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// ES256, PS256 or RS256 (id_token_signed_response_alg).
    #[arg(long, ignore_case = true)]
    pub id_token_alg: Option<IdTokenAlgArg>,
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
        "id_token_signed_response_alg": c.id_token_signed_response_alg.as_str(),
        "jwks_uri": c.jwks_uri,
        "pia_entry": c.pia_entry,
        "status": c.status.as_str(),
        "status_reason": c.status_reason,
        "version": c.version,
    })
}

/// `sqin client ...`: thin callers of `sqin_app::clients`, under the same
/// PIA checks as the console and the admin API, recorded as the
/// operator's.
pub async fn run(services: &Services, cmd: ClientCommand) -> anyhow::Result<()> {
    let operator = ClientActor::Operator;
    match cmd {
        ClientCommand::Add(a) => {
            let jwks = match &a.jwks {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read --jwks {}", path.display()))?,
                ),
                None => None,
            };
            let registered = clients::register(
                services,
                &operator,
                &a.pia_entry,
                ClientRegistration {
                    client_id: None,
                    name: a.name,
                    name_fr: a.name_fr,
                    redirect_uris: a.redirect_uris,
                    post_logout_redirect_uris: a.post_logout_redirect_uris,
                    scopes: vec![a.scope],
                    claims: a.claims.map(|c| vec![c]),
                    purpose: a.purpose,
                    purpose_fr: a.purpose_fr,
                    sector: a.sector,
                    public_client: a.public,
                    auth_method: a.auth_method.map(AuthMethodArg::method),
                    jwks,
                    jwks_uri: a.jwks_uri,
                    public_subject: a.public_subject,
                    backchannel_logout_uri: a.backchannel_logout_uri,
                    id_token_signed_response_alg: a.id_token_alg.map(IdTokenAlgArg::alg),
                },
            )
            .await?;
            let mut out = client_json(&registered.record);
            if let Some(secret) = &registered.client_secret {
                out["client_secret"] = json!(secret.expose());
            }
            if let Some(request) = &registered.approval_request {
                out["approval_request"] = json!(request);
                eprintln!(
                    "registered; it works once a privacy officer approves request {request} in the staff console"
                );
            }
            print_json(&out)?;
        }
        ClientCommand::List => {
            let all = clients::list(services, &operator).await?;
            print_json(&json!(all.iter().map(client_json).collect::<Vec<_>>()))?;
        }
        ClientCommand::Show { client_id } => {
            let c = clients::get(services, &operator, &client_id).await?;
            print_json(&client_json(&c))?;
        }
        ClientCommand::Edit(e) => {
            let current = clients::get(services, &operator, &e.client_id).await?;
            let mut md = ClientMetadata::of(&current);
            if let Some(v) = e.pia_entry.clone() {
                md.pia_entry = Some(v);
            }
            if let Some(v) = e.name {
                md.client_name = v;
            }
            if let Some(v) = e.name_fr {
                md.client_name_fr = Some(v);
            }
            if !e.redirect_uris.is_empty() {
                md.redirect_uris = e.redirect_uris;
            }
            if !e.post_logout_redirect_uris.is_empty() {
                md.post_logout_redirect_uris = e.post_logout_redirect_uris;
            }
            if let Some(v) = e.scope {
                md.scope = v;
            }
            if let Some(v) = e.claims {
                md.claims = Some(v.split_whitespace().map(str::to_owned).collect());
            }
            if let Some(v) = e.purpose {
                md.purpose = v;
            }
            if let Some(v) = e.purpose_fr {
                md.purpose_fr = Some(v);
            }
            if let Some(v) = e.sector {
                md.sector_identifier = v;
            }
            if let Some(v) = e.jwks_uri {
                md.jwks_uri = Some(v);
                md.jwks = None;
            }
            if let Some(v) = e.backchannel_logout_uri {
                md.backchannel_logout_uri = Some(v);
            }
            if let Some(v) = e.id_token_alg {
                md.id_token_signed_response_alg = Some(v.alg());
            }
            let edited = clients::edit(
                services,
                &operator,
                &e.client_id,
                md.to_registration(current.client_type, current.token_endpoint_auth_method),
                md.pia_entry.as_deref(),
                e.if_version.unwrap_or(current.version),
            )
            .await?;
            let mut out = client_json(&edited.record);
            out["changed"] = json!(edited.changed);
            if let Some((widens, request)) = &edited.awaiting_approval {
                out["awaiting_approval"] = json!({ "widens": widens, "request": request });
                eprintln!(
                    "nothing changed yet: this edit widens {} and takes effect once a privacy officer approves request {request}",
                    widens.join(", ")
                );
            }
            print_json(&out)?;
        }
        ClientCommand::Suspend { client_id, reason } => {
            let c = clients::set_suspended(services, &operator, &client_id, true, &reason).await?;
            print_json(&client_json(&c))?;
        }
        ClientCommand::Resume { client_id, reason } => {
            let c = clients::set_suspended(services, &operator, &client_id, false, &reason).await?;
            print_json(&client_json(&c))?;
        }
        ClientCommand::Remove { client_id } => {
            clients::remove(services, &operator, &client_id).await?;
            eprintln!("removed client {client_id}");
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = clients::rotate_secret(services, &operator, &client_id).await?;
            print_json(&json!({ "client_id": client_id, "client_secret": secret.expose() }))?;
        }
        ClientCommand::InitialAccessToken {
            pia_entry,
            days,
            uses,
        } => {
            let issued = clients::tokens::issue_initial_access_token(
                services,
                &operator,
                &pia_entry,
                days * 86_400,
                uses,
            )
            .await?;
            print_json(&json!({
                "initial_access_token": issued.token.expose(),
                "pia_entry": issued.pia_entry,
                "expires_at": super::rfc3339(issued.expires_at),
                "uses": issued.uses,
            }))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Result<ClientCommand, clap::Error> {
        let mut all = vec!["sqin", "client"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all)?.command {
            Command::Client(c) => Ok(c),
            other => panic!("not a client command: {other:?}"),
        }
    }

    fn add(extra: &[&str]) -> Result<Option<client::SigningAlg>, clap::Error> {
        let mut args = vec![
            "add",
            "--pia-entry",
            "revenue",
            "--name",
            "Revenu",
            "--redirect-uri",
            "https://revenu.example/cb",
        ];
        args.extend_from_slice(extra);
        match parse(&args)? {
            ClientCommand::Add(a) => Ok(a.id_token_alg.map(IdTokenAlgArg::alg)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_id_token_algorithm_is_chosen_by_name_or_left_to_the_default() {
        // Left out: `None`, which registration makes ES256.
        assert_eq!(add(&[]).unwrap(), None);
        for (name, alg) in [
            ("ES256", client::SigningAlg::Es256),
            ("PS256", client::SigningAlg::Ps256),
            ("RS256", client::SigningAlg::Rs256),
            ("rs256", client::SigningAlg::Rs256),
        ] {
            assert_eq!(add(&["--id-token-alg", name]).unwrap(), Some(alg));
            match parse(&["edit", "some-client", "--id-token-alg", name]).unwrap() {
                ClientCommand::Edit(e) => {
                    assert_eq!(e.id_token_alg.map(IdTokenAlgArg::alg), Some(alg));
                }
                other => panic!("{other:?}"),
            }
        }
        for refused in ["HS256", "none", "ES384", ""] {
            let err = add(&["--id-token-alg", refused]).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::InvalidValue,
                "{refused}"
            );
        }
        match parse(&["edit", "some-client"]).unwrap() {
            ClientCommand::Edit(e) => assert!(e.id_token_alg.is_none(), "an edit keeps it"),
            other => panic!("{other:?}"),
        }
    }
}
