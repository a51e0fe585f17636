//! The scheduled retention pass deletes exactly what the PIA's periods say
//! has been kept long enough, and nothing else: sessions, consents, grants
//! with their tokens, security events, enrolment codes, logout notices, the
//! contact details of registrations that never enrolled and, later, those
//! registrations themselves (closed like an account, ledger shredded).
use sqin_store::{
    backchannel, citizens, consents, enrolment, grants, security_events, sessions, testing,
};
use sqin_tests::*;

const DAY: i64 = 86_400;

async fn count(server: &TestServer, sql: &str) -> i64 {
    testing::scalar(server.services.store.pool(), sql).await
}

fn grant(id: &str, citizen: &str, client: &str, expires_at: i64) -> grants::GrantRecord {
    grants::GrantRecord {
        id: id.into(),
        citizen_id: Some(citizen.into()),
        client_id: client.into(),
        session_id: None,
        consent_id: None,
        scope: vec!["openid".into()],
        claims: None,
        auth_time: None,
        acr: None,
        amr: vec![],
        created_at: expires_at - DAY,
        expires_at,
        revoked_at: None,
        revoked_reason: None,
    }
}

fn code(hash: u8, citizen: &str, expires_at: i64) -> enrolment::EnrolmentCode {
    enrolment::EnrolmentCode {
        code_hash: vec![hash; 32],
        citizen_id: citizen.into(),
        purpose: enrolment::CodePurpose::Enrolment,
        issued_at: expires_at - 30 * DAY,
        expires_at,
        spent_at: None,
        revoked_at: None,
        failed_attempts: 0,
    }
}

both_backends!(
    async fn the_retention_pass_deletes_exactly_what_is_due(db: TestDb) {
        // The pass is run by hand below; the scheduled one stays off so that
        // it cannot take the rows first.
        let server = TestServer::start_with(
            db,
            |c| c.ledger_purge_interval_secs = 0,
            axum::Router::new(),
        )
        .await;
        let now = server.now();
        let pool = server.services.store.pool().clone();
        let reg = server
            .register_client(rp("Famille", "http://127.0.0.1:9/cb", "openid profile"))
            .await;
        let client = reg.record.client_id.clone();

        // An enrolled citizen with a history of every kind.
        let aline = server.add_citizen("R-1").await;
        testing::execute(
            &pool,
            &format!(
                "UPDATE citizens SET status = 'enrolled' WHERE id = '{}'",
                aline.id
            ),
        )
        .await;
        let mut conn = pool.acquire().await.unwrap();
        for (i, (expires, revoked)) in [
            (now - DAY, None),
            (now + DAY, None),
            (now + DAY, Some(now - 60)),
        ]
        .into_iter()
        .enumerate()
        {
            sessions::insert(
                &mut conn,
                &sessions::SessionRecord {
                    id_hash: vec![i as u8 + 1; 32],
                    citizen_id: aline.id.clone(),
                    auth_time: now - 2 * DAY,
                    acr: "urn:sqin:loa:substantial".into(),
                    amr: vec!["hwk".into()],
                    created_at: now - 2 * DAY,
                    expires_at: expires,
                    revoked_at: revoked,
                },
            )
            .await
            .unwrap();
        }
        for (id, revoked) in [("c-old", Some(now - DAY)), ("c-live", None)] {
            consents::replace(
                &mut conn,
                &consents::ConsentRecord {
                    id: id.into(),
                    citizen_id: aline.id.clone(),
                    client_id: client.clone(),
                    scope: vec!["openid".into()],
                    claims: vec![],
                    purpose: "test".into(),
                    granted_at: now - 400 * DAY,
                    expires_at: now + DAY,
                    revoked_at: revoked,
                },
            )
            .await
            .unwrap();
        }
        // Grants: kept 30 days after they end.
        grants::insert_grant(
            &mut conn,
            &grant("g-31", &aline.id, &client, now - 31 * DAY),
        )
        .await
        .unwrap();
        grants::insert_refresh(
            &mut conn,
            &grants::RefreshRecord {
                token_hash: vec![9; 32],
                grant_id: "g-31".into(),
                created_at: now - 32 * DAY,
                expires_at: now - 31 * DAY,
                used_at: None,
            },
        )
        .await
        .unwrap();
        grants::insert_grant(
            &mut conn,
            &grant("g-29", &aline.id, &client, now - 29 * DAY),
        )
        .await
        .unwrap();
        // Security events: a year.
        security_events::insert(&mut conn, &aline.id, "sign_in", "{}", now - 366 * DAY)
            .await
            .unwrap();
        security_events::insert(&mut conn, &aline.id, "sign_in", "{}", now - 364 * DAY)
            .await
            .unwrap();
        // Codes of an enrolled citizen: 90 days after they end.
        enrolment::insert(&mut conn, &code(1, &aline.id, now - 91 * DAY))
            .await
            .unwrap();
        enrolment::insert(&mut conn, &code(2, &aline.id, now - 89 * DAY))
            .await
            .unwrap();
        // Logout notices: thirty days once finished; pending ones stay.
        for (id, created, delivered) in [
            ("n-old", now - 31 * DAY, Some(now - 31 * DAY)),
            ("n-new", now - 29 * DAY, Some(now - 29 * DAY)),
            ("n-pending", now - 31 * DAY, None),
        ] {
            backchannel::enqueue(
                &mut conn,
                &backchannel::Delivery {
                    id: id.into(),
                    client_id: client.clone(),
                    uri: "http://127.0.0.1:9/bcl".into(),
                    sub: "pairwise".into(),
                    sid: None,
                    created_at: created,
                    attempts: 0,
                    next_attempt_at: created,
                    delivered_at: None,
                    gave_up_at: None,
                    last_error: None,
                },
            )
            .await
            .unwrap();
            if let Some(at) = delivered {
                backchannel::delivered(&mut conn, id, at).await.unwrap();
            }
        }

        // Registrations that never enrolled.
        let gone = server.add_citizen("R-gone").await; // last code expired 400 days ago
        let quiet = server.add_citizen("R-quiet").await; // 40 days ago
        let fresh = server.add_citizen("R-fresh").await; // code still valid
        for (c, expired_days_ago) in [(&gone, 400), (&quiet, 40)] {
            testing::execute(
                &pool,
                &format!(
                    "UPDATE enrolment_codes SET expires_at = {} WHERE citizen_id = '{}'",
                    now - expired_days_ago * DAY,
                    c.id
                ),
            )
            .await;
            testing::execute(
                &pool,
                &format!(
                    "UPDATE citizens SET created_at = {} WHERE id = '{}'",
                    now - 800 * DAY,
                    c.id
                ),
            )
            .await;
        }
        // Complaints: two years after the answer; open ones stay.
        for (id, received, closed) in [
            ("C-old", now - 900 * DAY, Some(now - 731 * DAY)),
            ("C-recent", now - 900 * DAY, Some(now - 700 * DAY)),
            ("C-open", now - 900 * DAY, None),
        ] {
            sqin_store::complaints::insert(
                &mut conn,
                &sqin_store::complaints::Complaint {
                    id: id.into(),
                    citizen_id: Some(aline.id.clone()),
                    subject: "s".into(),
                    facts: "f".into(),
                    received_at: received,
                    answer_due: received + 30 * DAY,
                    answer: closed.map(|_| "a".into()),
                    answered_by: closed.map(|_| "po".into()),
                    closed_at: closed,
                    contact: None,
                    status_code_hash: None,
                },
            )
            .await
            .unwrap();
        }
        // Incidents: five years from the day the body became aware.
        for (id, aware) in [("I-old", now - 1830 * DAY), ("I-recent", now - 1800 * DAY)] {
            sqin_store::incidents::insert(
                &mut conn,
                &sqin_store::incidents::Incident {
                    id: id.into(),
                    recorded_at: aware,
                    recorded_by: "po".into(),
                    information: "i".into(),
                    elements: vec!["citizen.locale".into()],
                    circumstances: "c".into(),
                    occurred: "o".into(),
                    aware_at: aware,
                    persons: "1".into(),
                    sensitivity: 1,
                    consequences: 1,
                    likelihood: 1,
                    serious: false,
                    reasoning: "r".into(),
                    measures: "m".into(),
                },
            )
            .await
            .unwrap();
            sqin_store::incidents::add_line(
                &mut conn,
                &sqin_store::incidents::IncidentLine {
                    incident_id: id.into(),
                    at: aware,
                    by_staff: "po".into(),
                    kind: "closed".into(),
                    text: "t".into(),
                },
            )
            .await
            .unwrap();
        }
        drop(conn);

        let report = sqin_app::retention::run(&server.services, now)
            .await
            .unwrap();
        assert_eq!(report.deleted["session.id"], 2, "{report:?}");
        assert_eq!(report.deleted["consent.record"], 1, "{report:?}");
        assert_eq!(report.deleted["grant.record"], 1, "{report:?}");
        assert_eq!(report.deleted["security_event.record"], 1, "{report:?}");
        assert_eq!(report.deleted["enrolment_code.code_hash"], 1, "{report:?}");
        assert_eq!(report.deleted["logout_notice.record"], 1, "{report:?}");
        assert_eq!(report.deleted["complaint.record"], 1, "{report:?}");
        assert_eq!(report.deleted["incident.record"], 1, "{report:?}");
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM incident_lines").await,
            1,
            "lines go with their entry"
        );
        // Contact details of both old registrations go first; then the older
        // registration itself.
        assert_eq!(report.deleted["citizen.email"], 2, "{report:?}");
        assert_eq!(report.registrations_closed, vec!["R-gone".to_owned()]);

        assert_eq!(count(&server, "SELECT COUNT(*) FROM sessions").await, 1);
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM refresh_tokens").await,
            0
        );
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM grants WHERE id = 'g-29'").await,
            1
        );
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM backchannel_deliveries").await,
            2
        );
        let mut conn = pool.acquire().await.unwrap();
        assert!(
            citizens::by_register_id(&mut conn, &server.services.register, "R-gone")
                .await
                .unwrap()
                .is_none()
        );
        let quiet_now = citizens::by_id(&mut conn, &server.services.register, &quiet.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((quiet_now.email, quiet_now.locale), (None, None));
        let fresh_now = citizens::by_id(&mut conn, &server.services.register, &fresh.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            fresh_now, fresh,
            "a registration in its first code's life is untouched"
        );
        let remaining = consents::for_citizen(&mut conn, &aline.id).await.unwrap();
        assert!(
            remaining.iter().all(|c| c.revoked_at.is_none()),
            "{remaining:?}"
        );
        drop(conn);

        // A second pass finds nothing more.
        let again = sqin_app::retention::run(&server.services, now)
            .await
            .unwrap();
        assert_eq!(again.total(), 0, "{again:?}");
        server.stop().await;
    }
);
