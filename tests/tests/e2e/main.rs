//! The end-to-end suite as one test binary: each module is what used to be
//! a test file of its own. One binary links the server once (link time and
//! disk were most of a clean `cargo test`), and the modules share the
//! real-server harness of `sqin-tests` (`TestServer`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access_log;
mod account_close_page;
mod account_closure;
mod account_data;
mod admin_api;
mod citizen_rights;
mod commission_report;
mod complaints;
mod complaints_without_account;
mod connections;
mod cookie_tossing;
mod corrections;
mod database_loss;
mod dynamic_registration;
mod federation;
mod federation_browser;
mod federation_node;
mod federation_node_dcr;
mod federation_scan;
mod federation_support;
mod interop_authlib;
mod jwks_uri;
mod ledger;
mod oidc_algorithms;
mod oidc_backchannel;
mod oidc_claims;
mod oidc_consent;
mod oidc_errors;
mod oidc_flow;
mod oidc_logout_hints;
mod oidc_pairwise;
mod oidc_reauthentication;
mod oidc_request_bounds;
mod oidc_sectors;
mod oidc_token_scope;
mod passkeys;
mod passkeys_attacks;
mod passkeys_browser;
mod passkeys_budgets;
mod passkeys_pages;
mod passkeys_sessions;
mod passkeys_support;
mod pia;
mod privacy_assessment;
mod privacy_policy;
mod protocol_errors;
mod register_at_rest;
mod relying_parties;
mod request_ids;
mod retention_schedule;
mod security_txt;
mod server;
mod shutdown;
mod staff_access;
mod staff_browser;
mod staff_support;
mod tls;
mod trusted_proxies;
mod witness;

fn main() -> std::process::ExitCode {
    sqin_store::testing::harness::main()
}
