//! The one-command demo: synthetic citizens, and two relying parties served
//! in this process by `sqin-family-portal` (the Family portal and a revenue
//! office, in two pairwise sectors). Never real people: names are drawn from
//! a short fixed list and register identifiers carry a `DEMO-` prefix.
use std::io::Write;
use std::net::SocketAddr;

use sqin_family_portal::{Lang, PortalConfig, Profile};

use sqin_app::clients::ClientActor;
use sqin_oidc::client::ClientRegistration;
use sqin_register::NewCitizen;
use sqin_store::citizens;
use sqin_store::clients as client_store;
use sqin_store::enrolment::CodePurpose;

use sqin_app::Services;

pub const DEMO_CLIENT_ID: &str = "demo-family-portal";
pub const DEMO_REVENUE_CLIENT_ID: &str = "demo-revenue-office";

const GIVEN: [&str; 5] = ["Camille", "Alexis", "Dominique", "Sacha", "Maxime"];
const FAMILY: [&str; 5] = ["Exemple", "Fictif", "Démo", "Essai", "Modèle"];

fn demo_citizens() -> Vec<NewCitizen> {
    (0..5)
        .map(|i| NewCitizen {
            register_id: format!("DEMO-{:04}", i + 1),
            given_name: GIVEN[i % GIVEN.len()].into(),
            family_name: FAMILY[(i * 2) % FAMILY.len()].into(),
            birthdate: format!("{}-0{}-1{}", 1960 + i * 9, 1 + i, i),
            email: Some(format!("citoyen{}@demo.invalid", i + 1)),
            address: Some(format!(
                "{} rue de l'Exemple, Québec QC G1A 0A{}",
                10 + i,
                i
            )),
            locale: Some(if i % 2 == 0 { "fr" } else { "en" }.into()),
        })
        .collect()
}

/// What [`seed`] prepared: the first demo citizen's fresh code and the
/// portals to start.
pub struct Demo {
    pub citizen: Option<DemoCitizen>,
    pub portals: Vec<DemoPortal>,
}

pub struct DemoCitizen {
    pub register_id: String,
    pub birthdate: String,
    pub code: String,
}

pub struct DemoPortal {
    pub listen: SocketAddr,
    pub config: PortalConfig,
}

/// Seeds (or refreshes) the demo: synthetic citizens and the two relying
/// parties. Idempotent: a second start reissues the first demo citizen's
/// code and the RPs' secrets, since none is stored in clear.
pub async fn seed(services: &Services) -> anyhow::Result<Demo> {
    let mut conn = services.store.pool().acquire().await?;
    let t = services.now();
    let mut first_code = None;
    for (i, c) in demo_citizens().into_iter().enumerate() {
        let birthdate = c.birthdate.clone();
        let register_id = c.register_id.clone();
        let code = match citizens::by_register_id(&mut conn, &services.register, &register_id)
            .await?
        {
            Some(existing) if i == 0 => {
                let mut tx = sqin_store::begin_on(&mut conn).await?;
                let code = services
                    .codes
                    .issue(&mut tx, &existing.id, CodePurpose::Enrolment, t)
                    .await?;
                tx.commit().await?;
                Some(code)
            }
            Some(_) => None,
            None => Some(
                sqin_register::add_citizen(&mut conn, &services.codes, &services.register, c, t)
                    .await?
                    .1,
            ),
        };
        if i == 0 {
            first_code = code.map(|code| (register_id, birthdate, code));
        }
    }
    let mut portals = Vec::new();
    for rp in demo_rps() {
        let secret = register_demo_rp(services, &rp).await?;
        portals.push(DemoPortal {
            listen: rp.listen,
            config: PortalConfig {
                profile: rp.profile,
                issuer: services.settings.issuer.clone(),
                client_id: rp.client_id.into(),
                client_secret: secret.expose().to_owned(),
                public_url: url::Url::parse(rp.public_url)?,
                scopes: None,
            },
        });
    }
    Ok(Demo {
        citizen: first_code.map(|(register_id, birthdate, code)| DemoCitizen {
            register_id,
            birthdate,
            code: code.code.expose().to_owned(),
        }),
        portals,
    })
}

/// The demo's two relying parties: the Family portal on `localhost` and the
/// revenue office on `127.0.0.1`, two hosts and so two pairwise sectors.
struct DemoRp {
    client_id: &'static str,
    profile: Profile,
    listen: SocketAddr,
    public_url: &'static str,
}

fn demo_rps() -> [DemoRp; 2] {
    [
        DemoRp {
            client_id: DEMO_CLIENT_ID,
            profile: Profile::Family,
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            public_url: "http://localhost:8081",
        },
        DemoRp {
            client_id: DEMO_REVENUE_CLIENT_ID,
            profile: Profile::Revenue,
            listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            public_url: "http://127.0.0.1:8082",
        },
    ]
}

/// Registers a demo RP as `sqin client add` would (purpose, scopes, redirect,
/// post-logout and back-channel logout URIs), or gives it a fresh secret
/// when it is already registered as wanted. A registration from an older
/// demo is replaced.
async fn register_demo_rp(
    services: &Services,
    rp: &DemoRp,
) -> anyhow::Result<sqin_crypto::SecretString> {
    let issuer = &services.settings.issuer;
    let config = PortalConfig {
        profile: rp.profile,
        issuer: issuer.clone(),
        client_id: rp.client_id.into(),
        client_secret: String::new(),
        public_url: url::Url::parse(rp.public_url)?,
        scopes: None,
    };
    let registration = ClientRegistration {
        client_id: Some(rp.client_id.into()),
        name: rp.profile.name(Lang::En).into(),
        name_fr: Some(rp.profile.name(Lang::Fr).into()),
        redirect_uris: vec![config.redirect_uri()],
        post_logout_redirect_uris: vec![config.post_logout_redirect_uri()],
        scopes: vec![rp.profile.default_scopes().into()],
        claims: Some(vec![rp.profile.registered_claims().into()]),
        backchannel_logout_uri: Some(config.backchannel_logout_uri()),
        ..Default::default()
    };
    let operator = ClientActor::Operator;
    let mut conn = services.store.pool().acquire().await?;
    if let Some(existing) = client_store::get(&mut conn, rp.client_id).await? {
        let current = existing.redirect_uris == registration.redirect_uris
            && existing.backchannel_logout_uri == registration.backchannel_logout_uri
            && existing.post_logout_redirect_uris == registration.post_logout_redirect_uris
            && existing.pia_entry.as_deref() == Some(rp.client_id)
            && existing.status == sqin_store::clients::ClientStatus::Active
            && existing.claims.as_ref().map(|c| c.join(" ")).as_deref()
                == Some(rp.profile.registered_claims());
        if current {
            return Ok(sqin_app::clients::rotate_secret(services, &operator, rp.client_id).await?);
        }
        sqin_app::clients::remove(services, &operator, rp.client_id)
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "the demo client {} is from an older demo and cannot be replaced ({e}); delete var/demo.db and start again",
                    rp.client_id
                )
            })?;
    }
    // A demonstration entry of the PIA: active at once (synthetic citizens
    // only), and on the record like any registration.
    sqin_app::clients::register(services, &operator, rp.client_id, registration)
        .await?
        .client_secret
        .ok_or_else(|| anyhow::anyhow!("the demo client {} has no secret", rp.client_id))
}

/// Starts the demo's portals in this process (tokio tasks) and prints how to
/// try everything.
pub async fn start(services: &Services, demo: Demo) -> anyhow::Result<()> {
    let mut started = Vec::new();
    for p in demo.portals {
        let profile = p.config.profile;
        let public = p.config.public_url.to_string();
        sqin_family_portal::spawn(p.config, p.listen)
            .await
            .map_err(|e| {
                anyhow::anyhow!("demo {profile:?} portal: {e} (is another demo running?)")
            })?;
        started.push((profile, public.trim_end_matches('/').to_owned()));
    }
    let issuer = services.settings.issuer_str();
    let url_of = |p: Profile| {
        started
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, u)| u.as_str())
            .unwrap_or("")
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nsqin demo: synthetic data only\n")?;
    if let Some(c) = &demo.citizen {
        writeln!(out, "  1. Enrol a passkey   {issuer}/enrol")?;
        writeln!(
            out,
            "                        enrolment code {}   birthdate {}   (register id {})",
            c.code, c.birthdate, c.register_id
        )?;
    }
    writeln!(
        out,
        "  2. Family portal     {}   receives name, birthdate, address",
        url_of(Profile::Family)
    )?;
    writeln!(
        out,
        "  3. Revenue office    {}   receives the name only; another sector, so another sub",
        url_of(Profile::Revenue)
    )?;
    writeln!(
        out,
        "  4. Sign out of one portal: sqin ends its session and tells the other (back-channel logout)."
    )?;
    writeln!(
        out,
        "\n  Issuer {issuer}   discovery {issuer}/.well-known/openid-configuration   JWKS {issuer}/jwks"
    )?;
    writeln!(
        out,
        "  Clients {DEMO_CLIENT_ID}, {DEMO_REVENUE_CLIENT_ID} (secrets rotated at each start; see docs/integrating.md)"
    )?;
    writeln!(
        out,
        "\nOpen the URLs exactly as printed (localhost, not 127.0.0.1, for sqin: passkeys are bound to it).\nStop with Ctrl-C. Data lives in {}.\n",
        sqin_app::redact_url(&services.settings.database_url)
    )?;
    out.flush()?;
    Ok(())
}
