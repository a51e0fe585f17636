//! What the federation tests share: the Family portal and the revenue office
//! (the `sqin-family-portal` library, which speaks OpenID Connect only),
//! registered with a real sqin and serving on 127.0.0.1 in the test process.
//! The portal's public URL uses the host `localhost`, the revenue office's
//! `127.0.0.1`, so they are two pairwise sectors.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use sqin_family_portal::{Lang, Portal, PortalConfig, Profile};
use sqin_tests::TestServer;

pub struct Ministry {
    pub portal: Portal,
    pub addr: SocketAddr,
    /// Where a browser reaches it.
    pub base: String,
    pub client_id: String,
}

pub struct Ministries {
    pub family: Ministry,
    pub revenue: Ministry,
}

/// Registers an RP as `sqin client add` would, with its post-logout and
/// back-channel logout URIs, and starts it.
async fn start(server: &TestServer, profile: Profile, host: &str) -> Ministry {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{host}:{}", addr.port());
    let mut config = PortalConfig {
        profile,
        issuer: url::Url::parse(&server.issuer).unwrap(),
        client_id: String::new(),
        client_secret: String::new(),
        public_url: url::Url::parse(&base).unwrap(),
        scopes: None,
    };
    let registered = server
        .register_client(sqin_oidc::client::ClientRegistration {
            name: profile.name(Lang::En).into(),
            name_fr: Some(profile.name(Lang::Fr).into()),
            redirect_uris: vec![config.redirect_uri()],
            post_logout_redirect_uris: vec![config.post_logout_redirect_uri()],
            scopes: vec![profile.default_scopes().into()],
            // As the demo registers them: the purpose's claims only.
            claims: Some(vec![profile.registered_claims().into()]),
            purpose: Some(profile.purpose(Lang::En).into()),
            purpose_fr: Some(profile.purpose(Lang::Fr).into()),
            backchannel_logout_uri: Some(config.backchannel_logout_uri()),
            ..Default::default()
        })
        .await;
    config.client_id = registered.record.client_id.clone();
    config.client_secret = registered.client_secret.unwrap().expose().to_owned();
    let (portal, addr, _task) = sqin_family_portal::spawn_on(config, listener).unwrap();
    Ministry {
        portal,
        addr,
        base,
        client_id: registered.record.client_id,
    }
}

pub async fn start_ministries(server: &TestServer) -> Ministries {
    Ministries {
        family: start(server, Profile::Family, "localhost").await,
        revenue: start(server, Profile::Revenue, "127.0.0.1").await,
    }
}

impl Ministry {
    /// A browser for this service: its own cookie jar, no redirects
    /// followed, the host pinned to the service's address.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .resolve("localhost", self.addr)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
