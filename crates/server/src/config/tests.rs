use super::*;

#[test]
fn defaults_are_valid_and_serve_a_laptop() {
    let c = Config::default();
    c.validate().unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.issuer_str(), "http://localhost:8080");
}

#[test]
fn refusals_name_the_key() {
    let check = |c: Config, key: &str| {
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    };
    check(
        Config {
            issuer: Url::parse("http://127.0.0.1:8080").unwrap(),
            ..Default::default()
        },
        "`issuer`",
    );
    check(
        Config {
            time_zone: "Nowhere/Atlantis".into(),
            ..Default::default()
        },
        "`time_zone`",
    );
    let public = Config {
        listen: "0.0.0.0:8080".parse().unwrap(),
        ..Default::default()
    };
    check(public.clone(), "`listen`");
    Config {
        allow_plain_http: true,
        ..public
    }
    .validate()
    .unwrap();
    check(
        Config {
            tls_cert_file: Some("cert.pem".into()),
            ..Default::default()
        },
        "tls_key_file",
    );
    check(
        Config {
            database_url: "mysql://x".into(),
            ..Default::default()
        },
        "database_url",
    );
}

#[test]
fn the_deployment_example_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/sqin.toml");
    let c = Config::load(Some(&example)).unwrap();
    assert!(c.tls_enabled());
    assert_eq!(c.log_format, LogFormat::Json);
}

#[test]
fn unknown_file_keys_are_refused_by_name() {
    let dir = std::env::temp_dir().join(format!("sqin-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sqin.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlisten_port = 3\n").unwrap();
    let err = Config::load(Some(&file)).unwrap_err().to_string();
    assert!(err.contains("listen_port"), "{err}");
    std::fs::write(&file, "listen = \"not an address\"\n").unwrap();
    let err = Config::load(Some(&file)).unwrap_err().to_string();
    assert!(err.contains("listen"), "{err}");
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n").unwrap();
    assert_eq!(Config::load(Some(&file)).unwrap().listen.port(), 9000);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn with_security_txt(expires: &str) -> Config {
    Config {
        security_contact: vec!["mailto:security@gouv.example".into()],
        security_expires: Some(expires.into()),
        security_policy: Some("https://gouv.example/policy".into()),
        security_languages: vec!["fr".into(), "en-CA".into()],
        ..Default::default()
    }
}

#[test]
fn security_txt_keys_are_validated_by_name() {
    let check = |c: Config, key: &str| {
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains(&format!("`{key}`")), "{err}");
    };
    with_security_txt("2030-01-01T00:00:00Z")
        .validate()
        .unwrap();
    check(with_security_txt("next year"), "security_expires");
    check(with_security_txt("2030-01-01"), "security_expires");
    for bad in [
        "security@gouv.example",
        "http://gouv.example/report",
        "mailto:",
        "ftp://x",
    ] {
        check(
            Config {
                security_contact: vec![bad.into()],
                ..with_security_txt("2030-01-01T00:00:00Z")
            },
            "security_contact",
        );
    }
    check(
        Config {
            security_contact: Vec::new(),
            ..with_security_txt("2030-01-01T00:00:00Z")
        },
        "security_contact",
    );
    check(
        Config {
            security_expires: None,
            ..with_security_txt("2030-01-01T00:00:00Z")
        },
        "security_expires",
    );
    check(
        Config {
            security_policy: Some("http://gouv.example/policy".into()),
            ..with_security_txt("2030-01-01T00:00:00Z")
        },
        "security_policy",
    );
    check(
        Config {
            security_languages: vec!["fr; en".into()],
            ..with_security_txt("2030-01-01T00:00:00Z")
        },
        "security_languages",
    );
}

#[test]
fn an_expired_security_txt_is_refused_at_start_except_in_the_demo() {
    let now = time::macros::datetime!(2027-01-01 00:00 UTC);
    let expired = with_security_txt("2026-12-31T23:59:59Z");
    expired.validate().unwrap();
    let err = expired
        .check_security_txt_current(now, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`security_expires`") && err.contains("expired"),
        "{err}"
    );
    expired.check_security_txt_current(now, true).unwrap();
    with_security_txt("2027-06-30T00:00:00+02:00")
        .check_security_txt_current(now, false)
        .unwrap();
    Config::default()
        .check_security_txt_current(now, false)
        .unwrap();
}
