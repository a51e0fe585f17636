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
    /// The consent ledger: verify, export, purge, checkpoint.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The register of confidentiality incidents (A-2.1 s. 63.11), for the
    /// privacy officer (pia/incidents.md).
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Complaints about the protection of personal information, for the
    /// privacy officer (pia/governance.md, section 6).
    #[command(subcommand)]
    Complaint(ComplaintCommand),
    /// Staff access to a citizen's file, as the PIA's roles allow, recorded
    /// in the ledger before anything is shown.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// A witness of someone else's consent ledger (C2SP tlog-witness), run by
    /// an independent party such as the Commission.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// The privacy impact assessment this binary runs under: check one
    /// against the code, or render it for reviewers.
    #[command(subcommand)]
    Pia(PiaCommand),
    /// Delete, once, what is past the retention the PIA sets (sessions,
    /// consents, grants, codes, security events, logout notices,
    /// never-enrolled registrations); `sqin serve` does it every
    /// `ledger_purge_interval_secs`. Prints what it deleted as JSON. The
    /// ledger's own purge is `sqin ledger purge`.
    Retention,
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record an incident (every one, serious or not). The sensitivity score
    /// is the highest the PIA gives the elements concerned; you score the
    /// consequences and the likelihood (1 to 3, pia/incidents.md section 3)
    /// and the decision rule says whether the risk of serious injury is
    /// presumed (--serious makes it so anyway). Prints the entry.
    Record(Box<RecordIncident>),
    /// Add a dated line to an entry: a notice sent, a measure, a correction,
    /// the closure (entries are never rewritten).
    Add {
        number: String,
        #[arg(long)]
        by: String,
        /// notice_commission, notice_persons, public_notice, measure, correction or closed.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        text: String,
    },
    /// The whole register as JSON (the fields of r. 3.1 s. 7, numbered),
    /// as given to the Commission on request.
    Export,
}

#[derive(Debug, Args)]
pub struct RecordIncident {
    /// Your staff identifier.
    #[arg(long)]
    pub by: String,
    /// 1: the personal information concerned.
    #[arg(long)]
    pub information: String,
    /// Its inventory element ids (repeatable), e.g. citizen.birthdate.
    #[arg(long = "element", required = true)]
    pub elements: Vec<String>,
    /// 2: the circumstances.
    #[arg(long)]
    pub circumstances: String,
    /// 3: the date or period of the incident.
    #[arg(long)]
    pub occurred: String,
    /// 4: the day the body became aware of it (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub aware: String,
    /// 5: the number (or approximate number) of persons concerned.
    #[arg(long)]
    pub persons: String,
    /// Consequences if misused, 1 to 3.
    #[arg(long)]
    pub consequences: i64,
    /// Likelihood of injurious use, 1 to 3.
    #[arg(long)]
    pub likelihood: i64,
    /// Treat the risk as serious whatever the scores.
    #[arg(long)]
    pub serious: bool,
    /// 6: why (the elements of the assessment).
    #[arg(long)]
    pub reasoning: String,
    /// 8: the measures taken to reduce the risk.
    #[arg(long)]
    pub measures: String,
}

/// `sqin incident record|add|export`.
pub async fn incident(services: &Services, cmd: IncidentCommand) -> anyhow::Result<()> {
    match cmd {
        IncidentCommand::Record(r) => {
            let aware_at = parse_day(&r.aware).context("--aware must be YYYY-MM-DD")?;
            let entry = crate::incidents::record(
                services,
                crate::incidents::NewIncident {
                    recorded_by: r.by,
                    information: r.information,
                    elements: r.elements,
                    circumstances: r.circumstances,
                    occurred: r.occurred,
                    aware_at,
                    persons: r.persons,
                    consequences: r.consequences,
                    likelihood: r.likelihood,
                    serious_anyway: r.serious,
                    reasoning: r.reasoning,
                    measures: r.measures,
                },
                now(),
            )
            .await?;
            print_json(&json!({
                "number": entry.id,
                "sensitivity": entry.sensitivity,
                "consequences": entry.consequences,
                "likelihood": entry.likelihood,
                "serious": entry.serious,
            }))?;
            if entry.serious {
                eprintln!(
                    "risk of serious injury: notify the Commission and the persons concerned promptly (pia/incidents.md, section 4), then record each notice with `sqin incident add {} --kind notice_commission|notice_persons`",
                    entry.id
                );
            } else {
                eprintln!("not serious by the grid; the reasoning is on record and is revisited if new facts appear");
            }
        }
        IncidentCommand::Add {
            number,
            by,
            kind,
            text,
        } => {
            crate::incidents::add_line(services, &number, &by, &kind, &text, now()).await?;
            eprintln!("added a {kind} line to {number}");
        }
        IncidentCommand::Export => {
            let register = crate::incidents::register(services).await?;
            print_json(&serde_json::to_value(&register)?)?;
        }
    }
    Ok(())
}

/// A calendar day (YYYY-MM-DD) as the Unix time of its start, UTC.
fn parse_day(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

#[derive(Debug, Subcommand)]
pub enum ComplaintCommand {
    /// List complaints: number, received, answer due, answered (no text).
    List {
        /// Only those not answered yet.
        #[arg(long)]
        open: bool,
    },
    /// Open a complaint and print it; recorded in the complainant's ledger
    /// as a look at their file.
    Show {
        id: String,
        /// Your staff identifier.
        #[arg(long)]
        staff: String,
    },
    /// Answer a complaint, which closes it; the complainant reads the
    /// answer on their complaints page. Recorded like `show`.
    Answer {
        id: String,
        #[arg(long)]
        staff: String,
        /// The answer, with findings, measures and the complainant's recourse.
        #[arg(long)]
        text: String,
    },
}

fn complaint_json(c: &sqin_store::complaints::Complaint, with_text: bool) -> serde_json::Value {
    let mut out = json!({
        "id": c.id,
        "received_at": rfc3339(c.received_at),
        "answer_due": rfc3339(c.answer_due),
        "answered_at": c.closed_at.map(rfc3339),
        "overdue": c.closed_at.is_none() && c.answer_due < now(),
    });
    if with_text {
        out["subject"] = json!(c.subject);
        out["facts"] = json!(c.facts);
        out["answer"] = json!(c.answer);
        out["answered_by"] = json!(c.answered_by);
    }
    out
}

/// `sqin complaint list|show|answer`.
pub async fn complaint(services: &Services, cmd: ComplaintCommand) -> anyhow::Result<()> {
    match cmd {
        ComplaintCommand::List { open } => {
            let mut conn = services.store.pool().acquire().await?;
            let all = sqin_store::complaints::list(&mut conn, open).await?;
            print_json(&json!(all
                .iter()
                .map(|c| complaint_json(c, false))
                .collect::<Vec<_>>()))?;
        }
        ComplaintCommand::Show { id, staff } => {
            let c = crate::complaints::open(services, &id, &staff, now()).await?;
            print_json(&complaint_json(&c, true))?;
        }
        ComplaintCommand::Answer { id, staff, text } => {
            let c = crate::complaints::answer(services, &id, &staff, &text, now()).await?;
            print_json(&complaint_json(&c, true))?;
            eprintln!("complaint {id} is answered and closed; it is deleted two years from now");
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Look a citizen's file up: shows the elements the role may read per
    /// the PIA, checks the values given with --verify, and writes a
    /// `staff_access` entry (who, role, purpose, which elements) to the
    /// ledger first; the citizen sees it under "Who looked at my file".
    Lookup {
        /// The register identifier the caller states.
        register_id: String,
        /// Your staff identifier.
        #[arg(long)]
        staff: String,
        /// The role you act in (a staff role of the PIA: support, registrar, privacy-officer).
        #[arg(long)]
        role: String,
        /// Why you look, in words (recorded, shown to the citizen).
        #[arg(long)]
        purpose: String,
        /// A value the caller states, to check without seeing the stored one
        /// (repeatable): ELEMENT=VALUE, e.g. citizen.birthdate=1984-03-02.
        #[arg(long = "verify")]
        verify: Vec<String>,
    },
}

/// `sqin staff lookup`.
pub async fn staff(services: &Services, cmd: StaffCommand) -> anyhow::Result<()> {
    match cmd {
        StaffCommand::Lookup {
            register_id,
            staff,
            role,
            purpose,
            verify,
        } => {
            let verify = verify
                .iter()
                .map(|v| {
                    v.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .with_context(|| format!("--verify {v:?}: expected ELEMENT=VALUE"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let result = crate::staff::lookup(
                services,
                &crate::staff::LookupRequest {
                    register_id,
                    staff_id: staff,
                    role,
                    purpose,
                    verify,
                },
                now(),
            )
            .await?;
            print_json(&serde_json::to_value(&result)?)?;
            eprintln!("this access is recorded in the ledger and shown to the citizen");
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness in DIR: a new Ed25519 key named NAME. Prints the
    /// witness's verifier key, for the logs (`ledger_witnesses`) and the
    /// reviewers who will require its cosignature.
    Init {
        /// The witness's name, a schema-less URL (commission.example/witness).
        #[arg(long)]
        name: String,
        /// Where its key and state live.
        #[arg(long, default_value = "witness")]
        dir: PathBuf,
    },
    /// Serve `POST /add-checkpoint` for the logs given by their verifier
    /// keys (GET /ledger/vkey of each; repeat --log, and add a log's new key
    /// after it rotates). Stops cleanly on SIGTERM or Ctrl-C.
    Serve {
        #[arg(long, default_value = "witness")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
        /// A watched log's verifier key (repeatable).
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

/// `sqin witness init|serve`.
pub async fn witness(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Init { name, dir } => {
            let vkey = sqin_witness::init(&dir, &name)?;
            println!("{vkey}");
            eprintln!(
                "created the witness {name} in {}; give its key (above) to the logs and reviewers",
                dir.display()
            );
        }
        WitnessCommand::Serve { dir, listen, logs } => {
            let witness = std::sync::Arc::new(sqin_witness::Witness::open(&dir, &logs)?);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            tracing::info!(address = %listen, vkey = %witness.vkey(), "witness listening");
            axum::serve(listener, crate::witness::router(witness))
                .with_graceful_shutdown(crate::http::shutdown_signal())
                .await?;
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum PiaCommand {
    /// Check an inventory (FILE, else `pia_file`, else the built-in one)
    /// as the server does at start-up: valid, and describing this code.
    /// Prints a summary with the ledger's retention; exits 1 naming every
    /// difference otherwise. Needs no database.
    Check { file: Option<PathBuf> },
    /// Print the inventory (FILE, else `pia_file`, else the built-in one) as
    /// the Markdown document a reviewer reads (pia/inventory.md).
    Render { file: Option<PathBuf> },
}

/// `sqin pia check|render`.
pub fn pia(config: &crate::Config, cmd: PiaCommand) -> anyhow::Result<()> {
    let (PiaCommand::Check { file } | PiaCommand::Render { file }) = &cmd;
    let adopted = crate::pia::load(file.as_deref().or(config.pia_file.as_deref()))?;
    match cmd {
        PiaCommand::Check { .. } => {
            print_json(&json!({
                "source": adopted.source,
                "elements": adopted.pia.inventory().elements.len(),
                "relying_parties": adopted.pia.inventory().relying_parties.len(),
                "ledger_retention_days": adopted.ledger_retention,
            }))?;
            eprintln!(
                "the PIA inventory ({}) is valid and describes this code",
                adopted.source
            );
        }
        PiaCommand::Render { .. } => {
            let mut out = std::io::stdout().lock();
            out.write_all(adopted.pia.render_markdown().as_bytes())?;
        }
    }
    Ok(())
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
    /// Close a citizen's account for good: relying parties are told
    /// (back-channel logout), every token is revoked, the citizen's ledger
    /// history is crypto-shredded (the shredding is logged; proofs stay
    /// valid), and the account and everything keyed to it is deleted. One
    /// transaction: all of it or nothing. Prints what was done as JSON.
    Delete {
        register_id: String,
        /// Confirms the deletion; without it nothing is changed.
        #[arg(long)]
        yes: bool,
    },
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
        "claims": c.claims,
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
        CitizenCommand::Delete { register_id, yes } => {
            if !yes {
                bail!(
                    "deleting {register_id}'s account destroys their passkeys, sessions, consents and tokens and shreds their ledger history, and cannot be undone; run again with --yes to confirm"
                );
            }
            drop(conn);
            let closed = crate::account::close(services, &register_id, now()).await?;
            print_json(&serde_json::to_value(&closed)?)?;
            return Ok(());
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
            // Shown on the citizen's account page and handed to the ledger.
            sqin_webauthn::events::record(
                &mut tx,
                &citizen.id,
                &sqin_webauthn::SecurityEvent::CodeReissued {
                    purpose: CodePurpose::Recovery.as_str().into(),
                },
                now(),
            )
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
                    claims: a.claims.map(|c| vec![c]),
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

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Rebuild the ledger's tree from its entries and check it against every
    /// stored checkpoint signature, every stored tree node, and any
    /// checkpoint given; names the first bad entry. With --export, verify an
    /// export offline (no database, no key-encryption key). Exits 1 when the
    /// ledger does not verify.
    Verify(LedgerVerify),
    /// Write the ledger as JSON Lines (entries, stored leaf hashes, every
    /// checkpoint; pseudonyms and ciphertext only, no personal data in clear)
    /// for a reviewer to check with `sqin ledger verify --export`.
    Export {
        /// Output file (written whole or not at all); standard output if absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Destroy, by crypto-shredding, the personal details past their
    /// retention (set by the PIA, `pia_file`); each batch is logged in the
    /// ledger. Ctrl-C stops after the current batch; run again to resume.
    Purge {
        /// Only count what is due.
        #[arg(long)]
        dry_run: bool,
        /// Keys destroyed per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// Sign a checkpoint now if the ledger grew (always with --force) and
    /// print the latest checkpoint note.
    Checkpoint {
        #[arg(long)]
        force: bool,
    },
    /// Replace the checkpoint signing key (for example after a suspected
    /// compromise of the key-encryption key): a `checkpoint_key_rotated`
    /// entry names the old and the new verifier key, the checkpoint that
    /// ends with it is signed by both, the old private key is deleted, and
    /// every node signs with the new key from its next checkpoint. Reviewers
    /// who pinned the old key follow the change. Prints the rotation as
    /// JSON; publish the new key (/ledger/vkey) where the old one was.
    RotateKey,
}

#[derive(Debug, Args)]
pub struct LedgerVerify {
    /// An export (`sqin ledger export`) to verify instead of the database.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// A checkpoint note obtained independently, e.g. from /ledger/checkpoint
    /// last week (repeatable): the ledger must be consistent with it.
    #[arg(long = "checkpoint")]
    pub checkpoints: Vec<PathBuf>,
    /// The published verifier key (/ledger/vkey). Without it the key is read
    /// from what is being verified, which proves consistency, not authenticity.
    #[arg(long)]
    pub vkey: Option<String>,
    /// A file holding the verifier key.
    #[arg(long, conflicts_with = "vkey")]
    pub vkey_file: Option<PathBuf>,
    /// The origin the export must have (export only).
    #[arg(long)]
    pub origin: Option<String>,
    /// A witness's verifier key (repeatable): every --checkpoint must carry
    /// its valid cosignature (fetch /ledger/checkpoint, which includes them).
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
}

fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} {what} {{pos}}/{{len}} {{wide_bar}} {{per_sec}} {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// A flag set by Ctrl-C, so long runs stop between consistent steps.
fn cancel_on_ctrl_c() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted: stopping at the next consistent point");
            set.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    });
    flag
}

fn verify_options(v: &LedgerVerify) -> anyhow::Result<sqin_ledger_service::VerifyOptions> {
    let vkey = match (&v.vkey, &v.vkey_file) {
        (Some(k), _) => Some(k.trim().to_owned()),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --vkey-file {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    };
    let checkpoints = v
        .checkpoints
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --checkpoint {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(sqin_ledger_service::VerifyOptions {
        vkey,
        checkpoints,
        origin: v.origin.clone(),
        witnesses: v.witnesses.clone(),
    })
}

fn report_verified(report: &sqin_ledger_service::VerifyReport) -> anyhow::Result<()> {
    print_json(&serde_json::to_value(report)?)?;
    if !report.key_pinned {
        eprintln!(
            "note: the verifier key was read from the data itself; pin the published one with --vkey"
        );
    }
    if report.queued > 0 {
        eprintln!(
            "note: {} entries are queued for the sequencer and not in the tree yet",
            report.queued
        );
    }
    if report.entries > report.latest_checkpoint_size {
        eprintln!(
            "note: entries {}..{} are covered by no signed checkpoint yet",
            report.latest_checkpoint_size, report.entries
        );
    }
    eprintln!(
        "ledger verified: {} entries, {} checkpoints",
        report.entries, report.checkpoints_verified
    );
    Ok(())
}

/// `sqin ledger ...`. `verify --export` runs offline; the rest open the
/// server's database and keys.
pub async fn ledger(config: crate::Config, cmd: LedgerCommand) -> anyhow::Result<()> {
    use sqin_ledger_service::{checkpoints, export, purge, verify, CheckpointPolicy};
    if let LedgerCommand::Verify(v) = &cmd {
        if let Some(path) = &v.export {
            let opts = verify_options(v)?;
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("verifying");
            let report = tokio::task::spawn_blocking(move || {
                verify::verify_export(
                    std::io::BufReader::new(file),
                    &opts,
                    &mut |done, total| {
                        bar.set_length(total);
                        bar.set_position(done);
                    },
                    &cancel,
                )
            })
            .await?
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            return report_verified(&report);
        }
    }
    let services = crate::bootstrap::open(config).await?;
    let ledger = &services.ledger;
    let mut conn = services.store.pool().acquire().await?;
    match cmd {
        LedgerCommand::Verify(v) => {
            let opts = verify_options(&v)?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("verifying");
            let report = verify::verify_store(
                &mut conn,
                ledger,
                &opts,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
                &cancel,
            )
            .await;
            bar.finish_and_clear();
            report_verified(&report?)?;
        }
        LedgerCommand::Export { output } => {
            // Entries committed but still queued are placed first.
            sqin_ledger_service::sequence(&mut conn, ledger).await?;
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("exporting");
            let mut progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let summary = match &output {
                Some(path) => {
                    // Written beside the target and renamed when complete, so
                    // an interrupted export never looks like a whole one.
                    let partial = path.with_extension("partial");
                    let file = std::fs::File::create(&partial)
                        .with_context(|| format!("cannot create {}", partial.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let result =
                        export::export(&mut conn, ledger, &mut out, now(), &mut progress, &cancel)
                            .await;
                    drop(out);
                    match result {
                        Ok(summary) => {
                            std::fs::rename(&partial, path).with_context(|| {
                                format!("cannot rename {} to {}", partial.display(), path.display())
                            })?;
                            summary
                        }
                        Err(e) => {
                            let _ = std::fs::remove_file(&partial);
                            bail!("export failed, nothing written: {e}");
                        }
                    }
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout());
                    export::export(&mut conn, ledger, &mut out, now(), &mut progress, &cancel)
                        .await?
                }
            };
            bar.finish_and_clear();
            eprintln!(
                "exported {} entries and {} checkpoints",
                summary.entries, summary.checkpoints
            );
        }
        LedgerCommand::Purge { dry_run, batch } => {
            if dry_run {
                let due = purge::due(&mut conn, ledger, now()).await?;
                print_json(&json!({ "due": due, "total": due.values().sum::<u64>() }))?;
                return Ok(());
            }
            let cancel = cancel_on_ctrl_c();
            let bar = progress_bar("destroying keys");
            let report = purge::purge(
                &mut conn,
                ledger,
                now(),
                batch,
                &mut |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
                &cancel,
            )
            .await;
            bar.finish_and_clear();
            let report = report?;
            print_json(&serde_json::to_value(&report)?)?;
            if report.interrupted {
                bail!(
                    "interrupted after destroying {} keys (every batch done is logged); run `sqin ledger purge` again to finish",
                    report.total()
                );
            }
            eprintln!("destroyed {} data keys past retention", report.total());
        }
        LedgerCommand::RotateKey => {
            let rotation = checkpoints::rotate_key(&mut conn, ledger, now()).await?;
            print_json(&serde_json::to_value(&rotation)?)?;
            eprintln!(
                "the ledger's checkpoints are now signed with {}; publish it where the old key was",
                rotation.vkey
            );
        }
        LedgerCommand::Checkpoint { force } => {
            let policy = if force {
                CheckpointPolicy::Always
            } else {
                CheckpointPolicy::IfGrown
            };
            let (cp, new) = checkpoints::publish(&mut conn, ledger, now(), policy).await?;
            print!("{}", cp.note);
            eprintln!(
                "{} checkpoint of {} entries",
                if new { "signed a new" } else { "latest" },
                cp.tree_size
            );
        }
    }
    Ok(())
}
