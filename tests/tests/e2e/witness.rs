//! A witness (C2SP tlog-witness) run beside sqin, as the Commission would:
//! sqin sends each new checkpoint with a consistency proof, keeps the
//! cosignature and publishes it with the checkpoint; a reviewer who requires
//! the witness verifies the log against the cosigned checkpoint; a witness
//! that lost track is brought back by its 409 answer; and one that saw
//! another history refuses.
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use sqin_app::witness::{cosign_all, Outcome};
use sqin_ledger_service::core::{CosignatureVerifier, SignedCheckpoint};
use sqin_ledger_service::{
    append, checkpoints, verify, CheckpointPolicy, DisclosureEndpoint, LedgerEvent, VerifyOptions,
};
use sqin_tests::*;

fn disclosure(citizen: &str) -> LedgerEvent {
    LedgerEvent::Disclosure {
        citizen_id: citizen.into(),
        client_id: "famille".into(),
        consent_id: None,
        grant_id: None,
        endpoint: DisclosureEndpoint::IdToken,
        claims: vec!["given_name".into()],
    }
}

async fn grow_and_sign(server: &TestServer, n: usize) {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    for i in 0..n {
        append(
            &mut conn,
            &server.services.ledger,
            disclosure(&format!("c{i}")),
            server.now(),
        )
        .await
        .unwrap();
    }
    checkpoints::publish(
        &mut conn,
        &server.services.ledger,
        server.now(),
        CheckpointPolicy::IfGrown,
    )
    .await
    .unwrap();
}

async fn published(server: &TestServer) -> String {
    http_client()
        .get(server.url("/ledger/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

both_backends!(
    async fn a_witness_cosigns_each_checkpoint_and_reviewers_require_it(db: TestDb) {
        // The witness's address first: sqin is configured with it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = std::env::temp_dir().join(format!(
            "sqin-witness-e2e-{}-{}",
            std::process::id(),
            addr.port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let witness_vkey = sqin_witness::init(&dir, "commission.test.example/witness").unwrap();
        let vkey = witness_vkey.clone();
        let server = TestServer::start_with(
            db,
            move |config| {
                config.ledger_witnesses = vec![sqin_app::LedgerWitness {
                    url: url::Url::parse(&format!("http://{addr}/")).unwrap(),
                    vkey,
                }];
                // The test asks the witness itself; the background job does
                // so once at start-up only.
                config.ledger_checkpoint_interval_secs = 3600;
            },
            axum::Router::new(),
        )
        .await;
        let witness =
            Arc::new(sqin_witness::Witness::open(&dir, &[server.services.ledger.vkey()]).unwrap());
        let w = witness.clone();
        tokio::spawn(
            async move { axum::serve(listener, sqin_server::http::witness::router(w)).await },
        );

        grow_and_sign(&server, 5).await;
        let results = cosign_all(&server.services).await;
        assert_eq!(results.len(), 1);
        let size = match &results[0].1 {
            Ok(Outcome::Cosigned(size)) => *size,
            // The start-up pass of the background job (which runs once, at
            // a moment the test does not choose) may have got there first.
            Ok(Outcome::AlreadyCosigned) => {
                let mut conn = server.services.store.pool().acquire().await.unwrap();
                sqin_ledger_service::checkpoints::latest(&mut conn)
                    .await
                    .unwrap()
                    .tree_size
            }
            other => panic!("{other:?}"),
        };
        // Asked again for the same checkpoint: nothing to do.
        assert!(matches!(
            cosign_all(&server.services).await[0].1,
            Ok(Outcome::AlreadyCosigned)
        ));
        // Published with the cosignature, which verifies with the witness key.
        let note = published(&server).await;
        let signed = SignedCheckpoint::parse(&note).unwrap();
        assert_eq!(signed.signatures().len(), 2, "{note}");
        assert_eq!(signed.checkpoint().size, size);
        let witness_key = CosignatureVerifier::from_vkey(&witness_vkey).unwrap();
        signed
            .verify(server.services.ledger.origin(), &witness_key)
            .unwrap();

        // A citizen's download carries the cosigned checkpoint too.
        let download = ledger_history(&server, "c0").await;
        SignedCheckpoint::parse(&download.context.checkpoint.note)
            .unwrap()
            .verify(server.services.ledger.origin(), &witness_key)
            .unwrap();

        // It grows: the next request carries a consistency proof.
        grow_and_sign(&server, 3).await;
        assert!(matches!(
            cosign_all(&server.services).await[0].1,
            Ok(Outcome::Cosigned(s)) if s == size + 3
        ));
        assert_eq!(
            witness.cosigned_size(server.services.ledger.origin()),
            Some(size + 3)
        );

        // sqin forgot what the witness saw (a restored backup): the
        // witness's 409 tells it, and the retry succeeds.
        sqin_store::testing::execute(server.services.store.pool(), "DELETE FROM ledger_witnesses")
            .await;
        grow_and_sign(&server, 2).await;
        assert!(matches!(
            cosign_all(&server.services).await[0].1,
            Ok(Outcome::Cosigned(s)) if s == size + 5
        ));

        // A reviewer requiring the witness verifies against the cosigned
        // checkpoint; another witness's key, or a bare note, fails.
        let note = published(&server).await;
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let verify_with = |witnesses: Vec<String>, note: String| VerifyOptions {
            vkey: Some(server.services.ledger.vkey()),
            checkpoints: vec![note],
            witnesses,
            ..Default::default()
        };
        let report = verify::verify_store(
            &mut conn,
            &server.services.ledger,
            &verify_with(vec![witness_vkey.clone()], note.clone()),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        assert_eq!(report.entries, size + 5);
        let other_dir = dir.join("other");
        let other_vkey = sqin_witness::init(&other_dir, "other.test.example/witness").unwrap();
        let err = verify::verify_store(
            &mut conn,
            &server.services.ledger,
            &verify_with(vec![other_vkey], note.clone()),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("not cosigned by other.test.example/witness"),
            "{err}"
        );
        let bare = note
            .lines()
            .take(5)
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        assert!(verify::verify_store(
            &mut conn,
            &server.services.ledger,
            &verify_with(vec![witness_vkey.clone()], bare),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .is_err());
        drop(conn);

        // A witness that saw a larger tree of this origin (another history)
        // is reported, and sqin does not pretend it cosigned.
        let forked = witness
            .cosigned_size(server.services.ledger.origin())
            .unwrap();
        std::fs::write(
            dir.join(sqin_witness::STATE_FILE),
            format!(
                "{{\"logs\":{{\"{}\":{{\"size\":{},\"root\":\"{}\"}}}}}}",
                server.services.ledger.origin(),
                forked + 100,
                base64_zero_hash()
            ),
        )
        .unwrap();
        let witness2 =
            Arc::new(sqin_witness::Witness::open(&dir, &[server.services.ledger.vkey()]).unwrap());
        let listener2 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr2 = listener2.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener2, sqin_server::http::witness::router(witness2)).await
        });
        grow_and_sign(&server, 1).await;
        let err = sqin_app::witness::cosign(
            &server.services,
            &sqin_app::LedgerWitness {
                url: url::Url::parse(&format!("http://{addr2}/")).unwrap(),
                vkey: witness_vkey.clone(),
            },
        )
        .await
        .unwrap_err();
        assert!(format!("{err:#}").contains("another history"), "{err:#}");
        server.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
);

fn base64_zero_hash() -> String {
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()
}
