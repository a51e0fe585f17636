//! The pages, in French and English: plain HTML, one stylesheet served by
//! the portal itself, no script and no third-party asset.
use crate::rp::Identity;
use crate::{Application, PortalConfig, Profile};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Lang {
        if s.starts_with("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }
    fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }
    fn t(self, fr: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

pub enum Problem {
    ProviderDown,
    Expired,
    Denied,
    Failed,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(
    config: &PortalConfig,
    lang: Lang,
    title: &str,
    header_extra: &str,
    main: &str,
) -> String {
    let name = config.profile.name(lang);
    let other = lang.other();
    let switch = lang.t("English", "Français");
    format!(
        r##"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {name}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body class="{slug}">
<a class="skip" href="#main">{skip}</a>
<header>
<div class="wrap">
<p class="brand"><a href="/">{name}</a></p>
<nav aria-label="{nav}"><a class="lang" href="/?lang={other}" hreflang="{other}" lang="{other}">{switch}</a>{header_extra}</nav>
</div>
</header>
<main id="main" class="wrap">
{main}
</main>
<footer class="wrap"><p>{footer}</p></footer>
</body>
</html>
"##,
        code = lang.code(),
        title = esc(title),
        name = esc(name),
        slug = config.profile.slug(),
        skip = lang.t("Aller au contenu", "Skip to content"),
        nav = lang.t("Langue et session", "Language and session"),
        other = other.code(),
        footer = lang.t(
            "Service de démonstration : données synthétiques uniquement. Connexion par sqin (OpenID Connect).",
            "Demonstration service: synthetic data only. Sign-in by sqin (OpenID Connect)."
        ),
    )
}

fn claim_row(id: &str, label: &str, value: &Option<String>) -> String {
    match value {
        Some(v) => format!(
            "<dt>{}</dt><dd id=\"claim-{id}\">{}</dd>\n",
            esc(label),
            esc(v)
        ),
        None => String::new(),
    }
}

pub fn home(
    config: &PortalConfig,
    lang: Lang,
    session: Option<(&Identity, &str, &[Application])>,
    notice: Option<&str>,
) -> String {
    let Some((identity, form_token, applications)) = session else {
        return signed_out(config, lang);
    };
    let logout = format!(
        r#"<form method="post" action="/logout" class="inline"><input type="hidden" name="form_token" value="{}"><button type="submit" id="logout">{}</button></form>"#,
        esc(form_token),
        lang.t("Se déconnecter", "Sign out")
    );
    let mut main = String::new();
    let greeting = identity
        .given_name
        .clone()
        .or_else(|| identity.name.clone())
        .unwrap_or_default();
    main.push_str(&format!(
        "<h1>{} {}</h1>\n",
        lang.t("Bonjour", "Hello"),
        esc(&greeting)
    ));
    match notice {
        Some("submitted") => main.push_str(&format!(
            "<p class=\"notice\" role=\"status\" id=\"notice\">{}</p>\n",
            lang.t(
                "Votre demande a été reçue.",
                "Your application was received."
            )
        )),
        Some("invalid") => main.push_str(&format!(
            "<p class=\"notice error\" role=\"alert\" id=\"notice\">{}</p>\n",
            lang.t(
                "Indiquez le nom et la date de naissance de l'enfant.",
                "Give the child's name and date of birth."
            )
        )),
        _ => {}
    }
    main.push_str(&format!(
        "<section aria-labelledby=\"received-title\">\n<h2 id=\"received-title\">{}</h2>\n<p>{}</p>\n<dl class=\"claims\">\n",
        lang.t("Ce que sqin nous a transmis", "What sqin sent us"),
        lang.t(
            "Seulement ce que notre mission autorise et que vous avez accepté de partager.",
            "Only what our registered purpose allows and you agreed to share."
        )
    ));
    main.push_str(&claim_row("name", lang.t("Nom", "Name"), &identity.name));
    main.push_str(&claim_row(
        "birthdate",
        lang.t("Date de naissance", "Date of birth"),
        &identity.birthdate,
    ));
    main.push_str(&claim_row(
        "address",
        lang.t("Adresse", "Address"),
        &identity.address,
    ));
    main.push_str(&claim_row(
        "email",
        lang.t("Courriel", "Email"),
        &identity.email,
    ));
    main.push_str(&format!(
        "<dt>{}</dt><dd><code id=\"sub\">{}</code></dd>\n</dl>\n<p class=\"hint\">{}</p>\n</section>\n",
        lang.t(
            "Votre identifiant auprès de ce service",
            "Your identifier at this service"
        ),
        esc(&identity.sub),
        lang.t(
            "Un pseudonyme propre à ce ministère : les autres ministères en reçoivent un autre.",
            "A pseudonym of this ministry's own: other ministries receive a different one."
        )
    ));
    match config.profile {
        Profile::Family => {
            main.push_str(&application_form(lang, identity, form_token));
            main.push_str(&application_list(lang, applications));
        }
        Profile::Revenue => main.push_str(&format!(
            "<section aria-labelledby=\"file-title\">\n<h2 id=\"file-title\">{}</h2>\n<p id=\"file\">{}</p>\n</section>\n",
            lang.t("Votre dossier", "Your file"),
            lang.t(
                "Avis de cotisation 2024 : aucun solde dû (exemple fictif).",
                "2024 notice of assessment: no balance owing (fictitious example)."
            )
        )),
    }
    layout(
        config,
        lang,
        lang.t("Votre espace", "Your space"),
        &logout,
        &main,
    )
}

fn application_form(lang: Lang, identity: &Identity, form_token: &str) -> String {
    let field = |id: &str, label: &str, value: &Option<String>| {
        match value {
        Some(v) => format!(
            "<p><label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" value=\"{}\" readonly></p>\n",
            esc(label),
            esc(v)
        ),
        None => String::new(),
    }
    };
    format!(
        r#"<section aria-labelledby="apply-title">
<h2 id="apply-title">{title}</h2>
<form method="post" action="/apply" id="apply">
<input type="hidden" name="form_token" value="{token}">
<fieldset>
<legend>{applicant}</legend>
{name}{birthdate}{address}<p class="hint">{prefilled}</p>
</fieldset>
<fieldset>
<legend>{child}</legend>
<p><label for="child_name">{child_name}</label><input id="child_name" name="child_name" required maxlength="200" autocomplete="off"></p>
<p><label for="child_birthdate">{child_birthdate}</label><input id="child_birthdate" name="child_birthdate" type="date" required></p>
<p><label for="care">{care}</label><select id="care" name="care"><option value="cpe">{cpe}</option><option value="home">{home}</option><option value="school">{school}</option></select></p>
</fieldset>
<p><button type="submit">{submit}</button></p>
</form>
</section>
"#,
        title = lang.t(
            "Demander une allocation pour la garde d'enfants",
            "Apply for a childcare allowance"
        ),
        token = esc(form_token),
        applicant = lang.t("Vous", "You"),
        name = field("applicant_name", lang.t("Nom", "Name"), &identity.name),
        birthdate = field(
            "applicant_birthdate",
            lang.t("Date de naissance", "Date of birth"),
            &identity.birthdate
        ),
        address = field(
            "applicant_address",
            lang.t("Adresse", "Address"),
            &identity.address
        ),
        prefilled = lang.t(
            "Prérempli à partir de votre identité numérique ; pour corriger, adressez-vous au registre.",
            "Pre-filled from your digital identity; to correct it, contact the register."
        ),
        child = lang.t("L'enfant", "The child"),
        child_name = lang.t("Nom de l'enfant", "Child's name"),
        child_birthdate = lang.t("Date de naissance de l'enfant", "Child's date of birth"),
        care = lang.t("Type de garde", "Type of care"),
        cpe = lang.t("Centre de la petite enfance", "Early childhood centre"),
        home = lang.t("Garde en milieu familial", "Home daycare"),
        school = lang.t("Service de garde scolaire", "School daycare"),
        submit = lang.t("Envoyer la demande", "Submit the application"),
    )
}

fn application_list(lang: Lang, applications: &[Application]) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"list-title\">\n<h2 id=\"list-title\">{}</h2>\n",
        lang.t("Vos demandes", "Your applications")
    );
    if applications.is_empty() {
        out.push_str(&format!(
            "<p id=\"no-applications\">{}</p>\n",
            lang.t("Aucune demande pour l'instant.", "No applications yet.")
        ));
    } else {
        out.push_str(&format!(
            "<table id=\"applications\">\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
            lang.t("Numéro", "Number"),
            lang.t("Enfant", "Child"),
            lang.t("Naissance", "Born"),
            lang.t("État", "Status")
        ));
        for a in applications {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&a.number),
                esc(&a.child_name),
                esc(&a.child_birthdate),
                lang.t("Reçue", "Received")
            ));
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
    out
}

fn signed_out(config: &PortalConfig, lang: Lang) -> String {
    let (title, intro) = match config.profile {
        Profile::Family => (
            lang.t(
                "Allocation pour la garde d'enfants",
                "Childcare allowance"
            ),
            lang.t(
                "Faites votre demande en ligne : connectez-vous avec votre identité numérique, et le formulaire sera prérempli avec votre nom, votre date de naissance et votre adresse.",
                "Apply online: sign in with your digital identity, and the form will be pre-filled with your name, date of birth and address."
            ),
        ),
        Profile::Revenue => (
            lang.t("Votre dossier fiscal", "Your tax file"),
            lang.t(
                "Consultez votre dossier : connectez-vous avec votre identité numérique. Nous ne recevons que votre nom.",
                "View your file: sign in with your digital identity. We receive your name only."
            ),
        ),
    };
    let main = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<p><a class=\"button\" id=\"login\" href=\"/login?lang={}\">{}</a></p>\n",
        esc(title),
        esc(intro),
        lang.code(),
        lang.t("Se connecter avec sqin", "Sign in with sqin")
    );
    layout(config, lang, title, "", &main)
}

pub fn logged_out(config: &PortalConfig, lang: Lang) -> String {
    let main = format!(
        "<h1 id=\"logged-out\">{}</h1>\n<p>{}</p>\n<p><a href=\"/\">{}</a></p>\n",
        lang.t("Vous êtes déconnecté", "You are signed out"),
        lang.t(
            "Votre session est terminée ici et auprès de sqin, et donc aussi auprès des autres services gouvernementaux.",
            "Your session has ended here and at sqin, and so at the other government services too."
        ),
        lang.t("Retour à l'accueil", "Back to the home page")
    );
    layout(config, lang, lang.t("Déconnexion", "Signed out"), "", &main)
}

pub fn error(config: &PortalConfig, lang: Lang, problem: Problem) -> String {
    let (title, text) = match problem {
        Problem::ProviderDown => (
            lang.t("Connexion indisponible", "Sign-in unavailable"),
            lang.t(
                "Le service d'identité ne répond pas. Réessayez dans quelques minutes.",
                "The identity service is not answering. Try again in a few minutes."
            ),
        ),
        Problem::Expired => (
            lang.t("La connexion a expiré", "The sign-in expired"),
            lang.t(
                "Cette connexion n'a pas été commencée dans ce navigateur, ou a expiré. Recommencez.",
                "This sign-in was not started in this browser, or it expired. Start again."
            ),
        ),
        Problem::Denied => (
            lang.t("Partage refusé", "Sharing declined"),
            lang.t(
                "Vous n'avez pas accepté de partager vos renseignements : rien n'a été transmis.",
                "You did not agree to share your details: nothing was sent."
            ),
        ),
        Problem::Failed => (
            lang.t("La connexion a échoué", "The sign-in failed"),
            lang.t(
                "La réponse du service d'identité n'a pas pu être vérifiée. Recommencez.",
                "The identity service's answer could not be verified. Start again."
            ),
        ),
    };
    let main = format!(
        "<h1 id=\"error\">{}</h1>\n<p>{}</p>\n<p><a href=\"/\">{}</a></p>\n",
        esc(title),
        esc(text),
        lang.t("Retour à l'accueil", "Back to the home page")
    );
    layout(config, lang, title, "", &main)
}

pub fn stylesheet(profile: Profile) -> String {
    let accent = match profile {
        Profile::Family => "#1d5e3a",
        Profile::Revenue => "#23407a",
    };
    format!(
        r#":root {{ --accent: {accent}; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: system-ui, sans-serif; line-height: 1.5; color: #1b1b1b; background: #f6f6f4; }}
.wrap {{ max-width: 46rem; margin: 0 auto; padding: 0 1rem; }}
.skip {{ position: absolute; left: -999px; }}
.skip:focus {{ left: 1rem; top: 1rem; background: #fff; padding: .5rem; }}
header {{ background: var(--accent); color: #fff; }}
header .wrap {{ display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: .5rem; padding: .75rem 1rem; }}
header a {{ color: #fff; }}
.brand {{ margin: 0; font-weight: 700; font-size: 1.15rem; }}
.brand a {{ text-decoration: none; }}
nav {{ display: flex; gap: 1rem; align-items: center; }}
.inline {{ display: inline; margin: 0; }}
main {{ background: #fff; padding-top: 1rem; padding-bottom: 1.5rem; margin-top: 1rem; border-radius: 4px; }}
h1 {{ color: var(--accent); }}
dl.claims {{ display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }}
dt {{ font-weight: 600; }}
dd {{ margin: 0; }}
code {{ word-break: break-all; }}
.hint {{ color: #555; font-size: .92rem; }}
.notice {{ background: #e6f2ea; border-left: 4px solid var(--accent); padding: .5rem .75rem; }}
.notice.error {{ background: #fbeaea; border-color: #a4262c; }}
fieldset {{ border: 1px solid #ccc; margin: 0 0 1rem; }}
label {{ display: block; font-weight: 600; }}
input, select {{ font: inherit; padding: .35rem; width: 100%; max-width: 28rem; border: 1px solid #767676; }}
input[readonly] {{ background: #eee; }}
button, .button {{ font: inherit; display: inline-block; padding: .5rem 1rem; background: var(--accent); color: #fff; border: 2px solid var(--accent); border-radius: 4px; text-decoration: none; cursor: pointer; }}
header button {{ background: #fff; color: var(--accent); border-color: #fff; padding: .25rem .75rem; }}
a:focus, button:focus, input:focus, select:focus {{ outline: 3px solid #f2a900; outline-offset: 2px; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; border-bottom: 1px solid #ddd; padding: .35rem; }}
footer {{ color: #555; font-size: .9rem; }}
"#
    )
}
