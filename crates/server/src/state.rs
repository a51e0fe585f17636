//! What every handler and extractor of the HTTP edge shares: the
//! application's services and what the edge itself needs of the
//! configuration. Both `http` (routes) and `web` (pages) depend on this
//! module; neither depends on the other for it.
use std::sync::Arc;

use sqin_app::Services;

use crate::config::Config;
use crate::web::client_addr::TrustedProxies;

/// The handlers' shared state. Nothing global.
pub struct HttpState {
    pub services: Services,
    pub config: Arc<Config>,
    /// The proxies whose `X-Forwarded-For` names the client, parsed once.
    pub trusted_proxies: TrustedProxies,
}

impl std::ops::Deref for HttpState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// The state handlers take.
pub type AppState = Arc<HttpState>;
