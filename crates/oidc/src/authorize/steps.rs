//! The steps after an authorization request is stored: the next step for
//! the browser (sign-in, consent, or the answer), the citizen's decision,
//! and the code issued.
#[allow(clippy::wildcard_imports)]
use super::*;

/// Whether the request demands a ceremony of its own, whatever the session:
/// `prompt=login`, or `max_age=0` (no time at all may have passed since the
/// citizen last authenticated, which only a new ceremony can meet).
fn forces_ceremony(req: &AuthRequestRecord) -> bool {
    prompts(req, "login") || req.max_age == Some(0)
}

/// Why the current session cannot answer this request, if it cannot.
fn needs_fresh_login(req: &AuthRequestRecord, session: &AuthenticatedSession, now: i64) -> bool {
    if forces_ceremony(req) {
        // Only a ceremony completed after the citizen was sent to sign in
        // again answers prompt=login or max_age=0: the session they had then
        // never does, however recent.
        match req.forced_login_at {
            None => return true,
            Some(_) => {
                if req.stale_session.as_deref() == Some(session.session_id.as_str())
                    || session.auth_time < req.created_at
                {
                    return true;
                }
            }
        }
    }
    if let Some(max_age) = req.max_age.filter(|m| *m > 0) {
        if now - session.auth_time > max_age {
            return true;
        }
    }
    if let Some(values) = &req.acr_values {
        let known: Vec<&str> = values
            .split(' ')
            .filter(|v| acr::ORDER.contains(v))
            .collect();
        // Voluntary acr_values (OIDC Core 3.1.2.1): step up only towards a
        // level this provider can reach.
        if !known.is_empty() && !known.iter().any(|r| acr::satisfies(&session.acr, r)) {
            return true;
        }
    }
    if let Some(values) = essential_acr_values(req.claims.as_deref()) {
        // Essential (OIDC Core 5.5.1.1): only a level from the list will do
        // (begin refused a list with none this provider can reach).
        if !values.iter().any(|r| acr::satisfies(&session.acr, r)) {
            return true;
        }
    }
    false
}

/// Whether the session's citizen is the one the request is about, if it is
/// about one (`subject_hint`): compared as this client's pairwise `sub`.
fn is_hinted_subject(
    provider: &Provider,
    client: &ClientRecord,
    req: &AuthRequestRecord,
    session: &AuthenticatedSession,
) -> bool {
    req.subject_hint.as_deref().is_none_or(|hint| {
        PairwiseSubject::for_client(&provider.pairwise_key, client, &session.citizen_id).as_str()
            == hint
    })
}

fn prompts(req: &AuthRequestRecord, value: &str) -> bool {
    req.prompt
        .as_deref()
        .is_some_and(|p| p.split(' ').any(|v| v == value))
}

/// Decides the next step for a pending request given the browser's session.
pub async fn next_step(
    conn: &mut Connection,
    provider: &Provider,
    request_id: &str,
    session: Option<&AuthenticatedSession>,
    now: i64,
) -> Result<Next, AuthorizeError> {
    let req = auth_requests::find_open(conn, request_id, now)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or_else(|| {
            AuthorizeError::NoRedirect(
                "this sign-in request has expired or was already used; go back to the service and start again".into(),
            )
        })?;
    let client = clients::get(conn, &req.client_id)
        .await
        .map_err(|e| unavailable_at(&req, &e))?
        .ok_or_else(|| AuthorizeError::NoRedirect("the client is no longer registered".into()))?;
    if let Some(why) = unavailable_for_sign_in(&client) {
        return Err(AuthorizeError::NoRedirect(why.into()));
    }
    let prompt_none = req.prompt.as_deref() == Some("none");
    let fail = |code: ErrorCode, d: &str| {
        Next::Redirect(error_redirect(
            provider,
            &req.redirect_uri,
            req.state.as_deref(),
            &OAuthError::new(code, d),
        ))
    };
    let session = match session {
        Some(s)
            if !needs_fresh_login(&req, s, now)
                && is_hinted_subject(provider, &client, &req, s) =>
        {
            s
        }
        _ if prompt_none => {
            consume(conn, &req, now).await?;
            return Ok(fail(
                ErrorCode::LoginRequired,
                "the citizen is not signed in",
            ));
        }
        Some(_) | None => {
            if forces_ceremony(&req) && req.forced_login_at.is_none() {
                auth_requests::mark_login_forced(
                    conn,
                    &req.id,
                    session.map(|s| s.session_id.as_str()),
                    now,
                )
                .await
                .map_err(|e| unavailable_at(&req, &e))?;
            }
            return Ok(Next::Login {
                request_id: req.id.clone(),
                force: session.is_some(),
                ui_locales: req.ui_locales.clone(),
            });
        }
    };
    let wanted = disclosed_claims(&client, &req.scope, req.claims.as_deref());
    let offline = req.scope.split(' ').any(|s| s == "offline_access");
    let prompt_consent = prompts(&req, "consent");
    let existing = consents::live(conn, &session.citizen_id, &client.client_id)
        .await
        .map_err(|e| unavailable_at(&req, &e))?;
    let covered = existing.as_ref().is_some_and(|c| {
        c.expires_at > now
            && wanted.iter().all(|w| c.claims.contains(w))
            && req.scope.split(' ').all(|s| c.scope.iter().any(|g| g == s))
    });
    if covered && !prompt_consent {
        let consent_id = existing.map(|c| c.id);
        return issue_code(conn, provider, &req, &client, session, consent_id, now).await;
    }
    if prompt_none {
        consume(conn, &req, now).await?;
        return Ok(fail(
            ErrorCode::ConsentRequired,
            "the citizen has not consented to this client's request",
        ));
    }
    Ok(Next::Consent(ConsentPrompt {
        request_id: req.id.clone(),
        client_id: client.client_id.clone(),
        pia_entry: client.pia_entry.clone(),
        client_name: client.name.clone(),
        purpose: client.purpose.clone(),
        client_name_fr: client.name_fr.clone(),
        purpose_fr: client.purpose_fr.clone(),
        claims: wanted,
        offline_access: offline,
        ui_locales: req.ui_locales.clone(),
        form_token: form_token(&provider.form_key, &req.id, &session.session_id),
    }))
}

async fn consume(
    conn: &mut Connection,
    req: &AuthRequestRecord,
    now: i64,
) -> Result<(), AuthorizeError> {
    auth_requests::consume(conn, &req.id, now)
        .await
        .map_err(|e| unavailable_at(req, &e))?;
    Ok(())
}

/// The citizen's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
}

/// Records the citizen's decision and redirects to the client: a code after
/// `allow`, `access_denied` after `deny`.
pub async fn decide(
    conn: &mut Connection,
    provider: &Provider,
    request_id: &str,
    form_token_presented: &str,
    decision: Decision,
    session: &AuthenticatedSession,
    now: i64,
) -> Result<String, AuthorizeError> {
    let expected = form_token(&provider.form_key, request_id, &session.session_id);
    if !sqin_crypto::HashedSecret(sha256(expected.as_bytes())).matches(form_token_presented) {
        return Err(AuthorizeError::NoRedirect(
            "this consent form is not valid for your session; go back to the service and start again".into(),
        ));
    }
    let req = auth_requests::find_open(conn, request_id, now)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or_else(|| {
            AuthorizeError::NoRedirect(
                "this sign-in request has expired or was already used; go back to the service and start again".into(),
            )
        })?;
    let client = clients::get(conn, &req.client_id)
        .await
        .map_err(|e| unavailable_at(&req, &e))?
        .ok_or_else(|| AuthorizeError::NoRedirect("the client is no longer registered".into()))?;
    if let Some(why) = unavailable_for_sign_in(&client) {
        return Err(AuthorizeError::NoRedirect(why.into()));
    }
    if decision == Decision::Deny {
        consume(conn, &req, now).await?;
        return Ok(error_redirect(
            provider,
            &req.redirect_uri,
            req.state.as_deref(),
            &OAuthError::new(ErrorCode::AccessDenied, "the citizen declined"),
        ));
    }
    let claims = disclosed_claims(&client, &req.scope, req.claims.as_deref());
    let consent = ConsentRecord {
        id: b64url(&random_bytes::<16>()?),
        citizen_id: session.citizen_id.clone(),
        client_id: client.client_id.clone(),
        scope: req.scope.split(' ').map(str::to_owned).collect(),
        claims: claims.clone(),
        purpose: client.purpose.clone(),
        granted_at: now,
        expires_at: now + provider.lifetimes.consent,
        revoked_at: None,
    };
    let mut tx = begin_on(conn).await.map_err(|e| unavailable_at(&req, &e))?;
    consents::replace(&mut tx, &consent)
        .await
        .map_err(|e| unavailable_at(&req, &e))?;
    provider
        .ledger
        .record(
            &mut tx,
            LedgerEvent::ConsentGranted {
                citizen_id: consent.citizen_id.clone(),
                client_id: consent.client_id.clone(),
                consent_id: consent.id.clone(),
                purpose: consent.purpose.clone(),
                scopes: consent.scope.clone(),
                claims,
                notice_version: None,
                expires_at: consent.expires_at,
            },
            now,
        )
        .await
        .map_err(|e| unavailable_at(&req, &e))?;
    let next = issue_code(
        &mut tx,
        provider,
        &req,
        &client,
        session,
        Some(consent.id),
        now,
    )
    .await?;
    tx.commit().await.map_err(|e| unavailable_at(&req, &e))?;
    match next {
        Next::Redirect(url) => Ok(url),
        _ => Err(AuthorizeError::NoRedirect("unexpected state".into())),
    }
}

/// Creates the grant and a single-use code bound to the client, the redirect
/// URI and the PKCE challenge, and consumes the request, in one transaction.
async fn issue_code(
    conn: &mut Connection,
    provider: &Provider,
    req: &AuthRequestRecord,
    client: &ClientRecord,
    session: &AuthenticatedSession,
    consent_id: Option<String>,
    now: i64,
) -> Result<Next, AuthorizeError> {
    let code = random_token()?;
    let offline = req.scope.split(' ').any(|s| s == "offline_access");
    let grant = GrantRecord {
        id: b64url(&random_bytes::<16>()?),
        citizen_id: Some(session.citizen_id.clone()),
        client_id: client.client_id.clone(),
        session_id: Some(session.session_id.clone()),
        consent_id,
        scope: req.scope.split(' ').map(str::to_owned).collect(),
        claims: req.claims.clone(),
        auth_time: Some(session.auth_time),
        acr: Some(session.acr.clone()),
        amr: session.amr.clone(),
        created_at: now,
        expires_at: now
            + if offline {
                provider.lifetimes.refresh
            } else {
                provider.lifetimes.token + provider.lifetimes.code
            },
        revoked_at: None,
        revoked_reason: None,
    };
    let mut tx = begin_on(conn).await.map_err(|e| unavailable_at(req, &e))?;
    if !auth_requests::consume(&mut tx, &req.id, now)
        .await
        .map_err(|e| unavailable_at(req, &e))?
    {
        return Err(AuthorizeError::NoRedirect(
            "this sign-in request was already used".into(),
        ));
    }
    grants::insert_grant(&mut tx, &grant)
        .await
        .map_err(|e| unavailable_at(req, &e))?;
    grants::insert_code(
        &mut tx,
        &CodeRecord {
            code_hash: code.hash().0.to_vec(),
            grant_id: grant.id.clone(),
            client_id: client.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.code_challenge.clone(),
            nonce: req.nonce.clone(),
            created_at: now,
            expires_at: now + provider.lifetimes.code.min(60),
            used_at: None,
        },
    )
    .await
    .map_err(|e| unavailable_at(req, &e))?;
    provider
        .ledger
        .record(
            &mut tx,
            LedgerEvent::SignIn {
                citizen_id: session.citizen_id.clone(),
                client_id: Some(client.client_id.clone()),
                acr: session.acr.clone(),
                amr: session.amr.clone(),
                passkey: None,
            },
            now,
        )
        .await
        .map_err(|e| unavailable_at(req, &e))?;
    tx.commit().await.map_err(|e| unavailable_at(req, &e))?;
    let mut pairs = vec![("code", code.expose())];
    if let Some(s) = req.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", provider.issuer.as_str()));
    Ok(Next::Redirect(redirect_with(&req.redirect_uri, &pairs)))
}

/// Why a client cannot take citizens through sign-in now, if it cannot.
/// Shown on sqin's own page, never sent to the client's redirect URI.
pub(super) fn unavailable_for_sign_in(client: &ClientRecord) -> Option<&'static str> {
    match client.status {
        ClientStatus::Active => None,
        ClientStatus::Pending => Some(
            "this service is not yet approved to use sign-in with sqin; try again later or contact the service",
        ),
        ClientStatus::Suspended => Some(
            "this service's use of sign-in with sqin is suspended; contact the service",
        ),
    }
}
