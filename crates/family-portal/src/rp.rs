//! The relying party: everything this service says to its OpenID Provider,
//! through the `openidconnect` crate only. Discovery is lazy and cached, so
//! the portal may start before the provider; an ID token signed with a key
//! the cached JWKS does not know triggers one fresh discovery (key rotation).
use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthenticationFlow, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyAdditionalClaims, EmptyExtraTokenFields, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IdToken, IdTokenFields, IssuerUrl, LanguageTag,
    LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse as _, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::Error;

/// The `sid` claim (OIDC Front/Back-Channel Logout), which `openidconnect`
/// does not model: it names the provider's session, so a back-channel logout
/// can end exactly the local sessions it started.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SessionClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}
impl AdditionalClaims for SessionClaims {}

pub type PortalIdToken = IdToken<
    SessionClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type IdFields = IdTokenFields<
    SessionClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type PortalTokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type OpClient = Client<
    SessionClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    PortalTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery told us, with the client built from it.
pub struct Provider {
    pub client: OpClient,
    pub end_session: Option<EndSessionUrl>,
    pub jwks_uri: url::Url,
    fetched: Instant,
}

/// A login in progress: bound to the browser by a cookie holding `id`.
pub struct PendingLogin {
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
    pub created: Instant,
}

/// Who signed in, as the ID token and userinfo say.
#[derive(Clone, Debug, Serialize)]
pub struct Identity {
    pub sub: String,
    pub sid: Option<String>,
    pub auth_time: Option<i64>,
    pub acr: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthdate: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    /// The claim names userinfo returned, as received (for display).
    pub claim_names: Vec<String>,
}

pub struct RelyingParty {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    scopes: Vec<String>,
    http: reqwest::Client,
    provider: Mutex<Option<Arc<Provider>>>,
}

/// Discovery is refreshed at most this often when a key is unknown.
const REDISCOVER_AFTER: Duration = Duration::from_secs(5);

impl RelyingParty {
    pub fn new(
        issuer: &url::Url,
        client_id: &str,
        client_secret: &str,
        public_url: &url::Url,
        scopes: Vec<String>,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        let base = public_url.as_str().trim_end_matches('/');
        Ok(RelyingParty {
            issuer: IssuerUrl::new(issuer.as_str().trim_end_matches('/').to_owned())
                .map_err(|e| Error::Config(format!("issuer: {e}")))?,
            client_id: ClientId::new(client_id.to_owned()),
            client_secret: ClientSecret::new(client_secret.to_owned()),
            redirect: RedirectUrl::new(format!("{base}/callback"))
                .map_err(|e| Error::Config(format!("public url: {e}")))?,
            post_logout: PostLogoutRedirectUrl::new(format!("{base}/logged-out"))
                .map_err(|e| Error::Config(format!("public url: {e}")))?,
            scopes,
            http,
            provider: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The cached provider, discovering it the first time (or again when
    /// `refresh` and the cache is older than a few seconds).
    pub async fn provider(&self, refresh: bool) -> Result<Arc<Provider>, Error> {
        let mut cached = self.provider.lock().await;
        if let Some(p) = cached.as_ref() {
            if !refresh || p.fetched.elapsed() < REDISCOVER_AFTER {
                return Ok(p.clone());
            }
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| Error::Provider(format!("discovery: {e}")))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let jwks_uri = metadata.jwks_uri().url().clone();
        let client = OpClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect.clone());
        let provider = Arc::new(Provider {
            client,
            end_session,
            jwks_uri,
            fetched: Instant::now(),
        });
        *cached = Some(provider.clone());
        Ok(provider)
    }

    /// Starts a login: the authorization URL (code flow, PKCE S256, `state`,
    /// `nonce`) and what the callback will need.
    pub async fn begin(
        &self,
        ui_locale: &str,
        prompt_login: bool,
    ) -> Result<(url::Url, PendingLogin), Error> {
        let provider = self.provider(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_ui_locale(LanguageTag::new(ui_locale.to_owned()));
        for scope in self.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if prompt_login {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            PendingLogin {
                state,
                nonce,
                verifier,
                created: Instant::now(),
            },
        ))
    }

    /// Finishes a login: exchanges the code, validates the ID token (signature
    /// against the provider's JWKS, `iss`, `aud`, `exp`, `nonce`, `at_hash`),
    /// then asks userinfo for the claims, checking its `sub`.
    pub async fn finish(
        &self,
        pending: PendingLogin,
        code: String,
    ) -> Result<(Identity, PortalIdToken), Error> {
        let provider = self.provider(false).await?;
        let tokens = provider
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Error::Provider(e.to_string()))?
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| Error::Provider(format!("token exchange: {e}")))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| Error::Provider("the token response has no ID token".into()))?
            .clone();
        // An unknown kid means the provider rotated its keys since discovery:
        // fetch its metadata and JWKS once more and verify again.
        let verified = id_token
            .claims(&provider.client.id_token_verifier(), &pending.nonce)
            .is_ok();
        let provider = if verified {
            provider
        } else {
            self.provider(true).await?
        };
        let verifier = provider.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &pending.nonce)
            .map_err(|e| Error::Provider(format!("ID token: {e}")))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| Error::Provider(format!("ID token: {e}")))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| Error::Provider(format!("ID token: {e}")))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| Error::Provider(format!("at_hash: {e}")))?;
            if &actual != expected {
                return Err(Error::Provider("at_hash does not match".into()));
            }
        }
        let sub = claims.subject().clone();
        let sid = claims.additional_claims().sid.clone();
        let auth_time = claims.auth_time().map(|t| t.timestamp());
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_owned());

        let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = provider
            .client
            .user_info(tokens.access_token().clone(), Some(sub.clone()))
            .map_err(|e| Error::Provider(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| Error::Provider(format!("userinfo: {e}")))?;
        let raw = serde_json::to_value(&info).unwrap_or_default();
        let claim_names = raw
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        fn localized<T: std::ops::Deref<Target = String>>(
            c: Option<&openidconnect::LocalizedClaim<T>>,
        ) -> Option<String> {
            c.and_then(|c| c.get(None)).map(|v| v.to_string())
        }
        let given_name = localized(info.given_name());
        let family_name = localized(info.family_name());
        let name = localized(info.name()).or_else(|| match (&given_name, &family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(g), None) => Some(g.clone()),
            (None, Some(f)) => Some(f.clone()),
            (None, None) => None,
        });
        let address = info.address().and_then(|a| {
            a.formatted
                .as_ref()
                .map(|f| f.as_str().to_owned())
                .or_else(|| {
                    let parts: Vec<String> = [
                        a.street_address.as_ref().map(|s| s.as_str().to_owned()),
                        a.locality.as_ref().map(|s| s.as_str().to_owned()),
                        a.region.as_ref().map(|s| s.as_str().to_owned()),
                        a.postal_code.as_ref().map(|s| s.as_str().to_owned()),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    (!parts.is_empty()).then(|| parts.join(", "))
                })
        });
        let identity = Identity {
            sub: sub.as_str().to_owned(),
            sid,
            auth_time,
            acr,
            name,
            given_name,
            family_name,
            birthdate: info.birthdate().map(|b| b.as_str().to_owned()),
            address,
            email: info.email().map(|e| e.as_str().to_owned()),
            claim_names,
        };
        Ok((identity, id_token))
    }

    /// The provider's end-session URL for RP-initiated logout, with the ID
    /// token as hint, our registered post-logout URI and a `state`.
    pub async fn logout_url(
        &self,
        id_token: &PortalIdToken,
        state: CsrfToken,
        ui_locale: &str,
    ) -> Result<Option<url::Url>, Error> {
        let provider = self.provider(false).await?;
        Ok(provider.end_session.clone().map(|endpoint| {
            LogoutRequest::from(endpoint)
                .set_id_token_hint(id_token)
                .set_client_id(self.client_id.clone())
                .set_post_logout_redirect_uri(self.post_logout.clone())
                .set_state(state)
                .add_ui_locale(LanguageTag::new(ui_locale.to_owned()))
                .http_get_url()
        }))
    }
}
