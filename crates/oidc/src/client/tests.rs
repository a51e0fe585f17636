use super::*;

#[test]
fn redirect_uri_rules() {
    assert!(validate_redirect_uri("https://famille.example/cb").is_ok());
    assert!(validate_redirect_uri("http://127.0.0.1:9000/cb").is_ok());
    assert!(validate_redirect_uri("http://localhost:9000/cb").is_ok());
    assert!(validate_redirect_uri("http://[::1]/cb").is_ok());
    assert!(validate_redirect_uri("http://famille.example/cb").is_err());
    assert!(validate_redirect_uri("https://famille.example/cb#x").is_err());
    assert!(validate_redirect_uri("javascript:alert(1)").is_err());
    assert!(validate_redirect_uri("/relative").is_err());
    assert!(validate_redirect_uri("https://user:pw@famille.example/cb").is_err());
}

#[test]
fn generated_client_ids_never_look_like_options() {
    for _ in 0..2000 {
        let id = new_client_id().unwrap();
        assert!(!id.starts_with('-'), "{id}");
        assert_eq!(id.len(), 22);
    }
}

#[test]
fn sector_defaults_to_the_single_host() {
    let reg = ClientRegistration {
        name: "Famille".into(),
        redirect_uris: vec!["https://famille.example/cb".into()],
        scopes: vec!["profile birthdate".into()],
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(reg.sector.as_deref(), Some("famille.example"));
    assert_eq!(reg.scopes, vec!["openid", "profile", "birthdate"]);
    let err = ClientRegistration {
        name: "Two".into(),
        redirect_uris: vec!["https://a.example/cb".into(), "https://b.example/cb".into()],
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert!(err.to_string().contains("sector_identifier"), "{err}");
    let err = ClientRegistration {
        name: "X".into(),
        redirect_uris: vec!["https://a.example/cb".into()],
        scopes: vec!["openid phone".into()],
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert!(err.to_string().contains("unknown scope \"phone\""));
}

#[test]
fn id_token_algorithm_defaults_to_es256_and_keeps_a_choice() {
    let base = || ClientRegistration {
        name: "Famille".into(),
        redirect_uris: vec!["https://famille.example/cb".into()],
        ..Default::default()
    };
    let reg = base().validate().unwrap();
    assert_eq!(reg.id_token_signed_response_alg, Some(SigningAlg::Es256));
    for alg in SigningAlg::ALL {
        for public_client in [false, true] {
            let reg = ClientRegistration {
                id_token_signed_response_alg: Some(alg),
                public_client,
                ..base()
            }
            .validate()
            .unwrap();
            assert_eq!(reg.id_token_signed_response_alg, Some(alg));
        }
    }
    // The hook a profile narrows: today every algorithm, for every client.
    for t in [ClientType::Confidential, ClientType::Public] {
        assert_eq!(id_token_algs_allowed(t), &SigningAlg::ALL);
    }
}
