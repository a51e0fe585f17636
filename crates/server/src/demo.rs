//! Synthetic demo data: a demo relying party and generated citizens. Never
//! real people: names are drawn from a short fixed list and register
//! identifiers carry a `DEMO-` prefix.
use std::io::Write;

use sqin_oidc::client::{self, ClientRegistration};
use sqin_register::NewCitizen;
use sqin_store::citizens;
use sqin_store::clients as client_store;
use sqin_store::enrolment::CodePurpose;

use crate::bootstrap::{now, Services};

pub const DEMO_CLIENT_ID: &str = "demo-family-portal";

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

/// Seeds (or refreshes) the demo and prints how to try it. Idempotent: a
/// second start reissues the demo citizen's code and the demo RP's secret,
/// since neither is stored in clear.
pub async fn seed(services: &Services) -> anyhow::Result<()> {
    let mut conn = services.store.pool().acquire().await?;
    let t = now();
    let mut first_code = None;
    for (i, c) in demo_citizens().into_iter().enumerate() {
        let birthdate = c.birthdate.clone();
        let register_id = c.register_id.clone();
        let code = match citizens::by_register_id(&mut conn, &register_id).await? {
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
                sqin_register::add_citizen(&mut conn, &services.codes, c, t)
                    .await?
                    .1,
            ),
        };
        if i == 0 {
            first_code = code.map(|code| (register_id, birthdate, code));
        }
    }
    let issuer = services.config.issuer_str();
    let secret = match client_store::get(&mut conn, DEMO_CLIENT_ID).await? {
        Some(_) => client::rotate_secret(&mut conn, DEMO_CLIENT_ID, t).await?,
        None => {
            let registered = client::register(
                &mut conn,
                ClientRegistration {
                    client_id: Some(DEMO_CLIENT_ID.into()),
                    name: "Portail Famille (démo)".into(),
                    redirect_uris: vec!["http://localhost:8081/callback".into()],
                    post_logout_redirect_uris: vec!["http://localhost:8081/".into()],
                    scopes: vec!["openid profile birthdate address".into()],
                    purpose: Some(
                        "Demander une allocation pour la garde d'enfants / Apply for a childcare allowance"
                            .into(),
                    ),
                    ..Default::default()
                },
                t,
            )
            .await?;
            registered
                .client_secret
                .ok_or_else(|| anyhow::anyhow!("the demo client has no secret"))?
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "\nsqin demo: synthetic data only\n")?;
    writeln!(out, "  Issuer        {issuer}")?;
    writeln!(
        out,
        "  Health        {issuer}/healthz   Ready {issuer}/readyz"
    )?;
    writeln!(out, "  JWKS          {issuer}/jwks")?;
    writeln!(
        out,
        "  Demo RP       client_id={DEMO_CLIENT_ID} client_secret={} (redirect http://localhost:8081/callback)",
        secret.expose()
    )?;
    if let Some((register_id, birthdate, code)) = first_code {
        writeln!(
            out,
            "  Demo citizen  register_id={register_id} birthdate={birthdate} enrolment_code={}",
            code.code.expose()
        )?;
    }
    writeln!(
        out,
        "\nStop with Ctrl-C. Data lives in {}.\n",
        services.config.database_url
    )?;
    out.flush()?;
    Ok(())
}
