//! Checkpoint key rotation on SQLite and PostgreSQL: the log stays
//! verifiable for a reviewer who pinned the old key or the new one, on the
//! database and on an export; every node signs with the new key from its
//! next checkpoint; the old private key is gone; and the key chain refuses a
//! retired key past its range, a rotation without a checkpoint signed by
//! both keys, a rotation hidden from or invented in an export, and a key the
//! log never used.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::AtomicBool;

use common::*;
use sqin_ledger_service::core::{
    Checkpoint, EcdsaNoteSigner, EcdsaNoteVerifier, SignedCheckpoint, EMPTY_ROOT,
};
use sqin_ledger_service::keychain::{KeyChain, Rotation};
use sqin_ledger_service::{
    append, checkpoints, verify, CheckpointPolicy, Ledger, LedgerServiceError, VerifyOptions,
};
use sqin_store::{both_backends, Store};

async fn verify_db(store: &Store, ledger: &Ledger, vkey: Option<&str>) -> Result<u64, String> {
    let opts = VerifyOptions {
        vkey: vkey.map(str::to_owned),
        ..Default::default()
    };
    verify_stored(store, ledger, &opts)
        .await
        .map(|r| r.entries)
        .map_err(|e| e.to_string())
}

fn verify_text(text: &str, vkey: &str) -> Result<u64, String> {
    verify::verify_export(
        text.as_bytes(),
        &VerifyOptions {
            vkey: Some(vkey.to_owned()),
            ..Default::default()
        },
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .map(|r| r.entries)
    .map_err(|e| e.to_string())
}

both_backends!(
    async fn rotation_keeps_the_log_verifiable_from_either_key(db: TestDb) {
        let store = db.open().await;
        let node_a = open_ledger(&store).await;
        let node_b = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        for i in 0..5 {
            append(&mut conn, &node_a, event(i, "alice"), T0 + 1)
                .await
                .unwrap();
        }
        checkpoints::publish(&mut conn, &node_a, T0 + 2, CheckpointPolicy::IfGrown)
            .await
            .unwrap();
        let k0 = node_a.vkey();

        let rotation = checkpoints::rotate_key(&mut conn, &node_a, T0 + 3)
            .await
            .unwrap();
        let k1 = node_a.vkey();
        assert_ne!(k0, k1);
        assert_eq!(
            (rotation.previous_vkey.as_str(), rotation.vkey.as_str()),
            (k0.as_str(), k1.as_str())
        );
        assert_eq!(rotation.checkpoint.tree_size, rotation.entry + 1);
        // The rotation checkpoint is signed by both keys.
        let note = SignedCheckpoint::parse(&rotation.checkpoint.note).unwrap();
        for vkey in [&k0, &k1] {
            note.verify(ORIGIN, &EcdsaNoteVerifier::from_vkey(vkey).unwrap())
                .unwrap();
        }
        // The old private key is gone; the new one is stored sealed.
        assert!(
            sqin_store::secrets::get(&mut conn, sqin_ledger_service::CHECKPOINT_KEY_SECRET)
                .await
                .unwrap()
                .is_none()
        );
        let keys = sqin_store::ledger::checkpoint_keys(&mut conn)
            .await
            .unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (keys[0].vkey.as_str(), keys[0].sealed_key.is_none()),
            (k0.as_str(), true)
        );
        assert_eq!(
            (keys[1].vkey.as_str(), keys[1].sealed_key.is_some()),
            (k1.as_str(), true)
        );

        // Node B, opened before the rotation, signs its next checkpoint with
        // the new key only.
        append(&mut conn, &node_b, event(5, "bob"), T0 + 4)
            .await
            .unwrap();
        let (cp, signed) =
            checkpoints::publish(&mut conn, &node_b, T0 + 5, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        assert!(signed);
        assert_eq!(node_b.vkey(), k1);
        let note = SignedCheckpoint::parse(&cp.note).unwrap();
        note.verify(ORIGIN, &EcdsaNoteVerifier::from_vkey(&k1).unwrap())
            .unwrap();
        assert!(note
            .verify(ORIGIN, &EcdsaNoteVerifier::from_vkey(&k0).unwrap())
            .is_err());
        // A restarted node knows both keys.
        let restarted = open_ledger(&store).await;
        assert_eq!(restarted.vkey(), k1);
        assert_eq!(restarted.vkeys(), vec![k0.clone(), k1.clone()]);

        // A second rotation, then verification from any key of the chain.
        append(&mut conn, &node_a, event(6, "alice"), T0 + 6)
            .await
            .unwrap();
        checkpoints::rotate_key(&mut conn, &node_b, T0 + 7)
            .await
            .unwrap();
        let k2 = node_b.vkey();
        append(&mut conn, &node_a, event(7, "alice"), T0 + 8)
            .await
            .unwrap();
        checkpoints::publish(&mut conn, &node_a, T0 + 9, CheckpointPolicy::IfGrown)
            .await
            .unwrap();
        assert_eq!(node_a.vkey(), k2);
        drop(conn);
        let entries = 8 + 2;
        for pinned in [&k0, &k1, &k2] {
            assert_eq!(
                verify_db(&store, &node_a, Some(pinned)).await,
                Ok(entries),
                "{pinned}"
            );
        }
        assert_eq!(verify_db(&store, &node_a, None).await, Ok(entries));
        let text = export_text(&store, &node_a, T0 + 10).await;
        for pinned in [&k0, &k1, &k2] {
            assert_eq!(verify_text(&text, pinned), Ok(entries), "{pinned}");
        }

        // A key the log never used is refused.
        let stranger =
            EcdsaNoteSigner::from_pkcs8(ORIGIN, &EcdsaNoteSigner::generate_pkcs8().unwrap())
                .unwrap()
                .vkey();
        let err = verify_db(&store, &node_a, Some(&stranger))
            .await
            .unwrap_err();
        assert!(
            err.contains("not one of the keys this log has used"),
            "{err}"
        );
        let err = verify_text(&text, &stranger).unwrap_err();
        assert!(
            err.contains("not one of the keys this log has used"),
            "{err}"
        );

        // An export that hides a rotation: the later checkpoints do not
        // verify under the keys it admits.
        let hidden: String = text
            .lines()
            .filter(|l| !l.contains("\"type\":\"key_rotation\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let err = verify_text(&hidden, &k0).unwrap_err();
        assert!(
            err.contains("checkpoint of size") && err.contains("no signature from trusted key"),
            "{err}"
        );
        // An export that swaps the new key for the attacker's, consistently:
        // the checkpoints the real new key signed no longer verify.
        let swapped: String = text
            .lines()
            .map(|l| {
                if l.contains("\"type\":\"key_rotation\"") {
                    format!("{}\n", l.replace(&k1, &stranger))
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        assert_ne!(swapped, text);
        let err = verify_text(&swapped, &k0).unwrap_err();
        assert!(
            err.contains("rejected: no signature from trusted key"),
            "{err}"
        );
    }
);

fn signer() -> EcdsaNoteSigner {
    EcdsaNoteSigner::from_pkcs8(ORIGIN, &EcdsaNoteSigner::generate_pkcs8().unwrap()).unwrap()
}

fn note(size: u64, signers: &[&EcdsaNoteSigner]) -> SignedCheckpoint {
    let mut n = SignedCheckpoint::sign(
        Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: EMPTY_ROOT,
        },
        signers[0],
    )
    .unwrap();
    for s in &signers[1..] {
        n.add_signature(*s).unwrap();
    }
    n
}

sqin_store::sync_test!(
    fn each_key_signs_only_its_range() {
        let (k0, k1) = (signer(), signer());
        let rotations = [Rotation {
            seq: 5,
            previous_vkey: k0.vkey(),
            vkey: k1.vkey(),
        }];
        for pinned in [k0.vkey(), k1.vkey()] {
            let chain = KeyChain::new(&pinned, &rotations).unwrap();
            // The old key up to the rotation's size plus one, the new one from there.
            assert!(chain.verify(&note(3, &[&k0]), ORIGIN).is_ok());
            assert!(chain.verify(&note(6, &[&k0]), ORIGIN).is_ok());
            assert!(chain.verify(&note(6, &[&k1]), ORIGIN).is_ok());
            assert!(chain.verify(&note(9, &[&k1]), ORIGIN).is_ok());
            // A retired key past its range (stolen later: useless), and the new
            // key before its range.
            assert!(chain.verify(&note(9, &[&k0]), ORIGIN).is_err());
            assert!(chain.verify(&note(3, &[&k1]), ORIGIN).is_err());
            // Every rotation needs its checkpoint signed by both.
            let all = [note(3, &[&k0]), note(6, &[&k0, &k1]), note(9, &[&k1])];
            assert_eq!(chain.verify_all(&all, ORIGIN).unwrap().len(), 3);
            let without = [note(3, &[&k0]), note(6, &[&k1]), note(9, &[&k1])];
            let err = chain.verify_all(&without, ORIGIN).unwrap_err();
            assert!(err.to_string().contains("signed by both keys"), "{err}");
        }
        // A chain that does not follow on is refused.
        let k2 = signer();
        let broken = [
            rotations[0].clone(),
            Rotation {
                seq: 9,
                previous_vkey: k2.vkey(),
                vkey: signer().vkey(),
            },
        ];
        assert!(matches!(
            KeyChain::new(&k0.vkey(), &broken),
            Err(LedgerServiceError::Verification(_))
        ));
    }
);
