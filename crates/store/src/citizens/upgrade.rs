//! Sealing of rows written before the register was sealed at rest
//! (migration 0013 moved their fields to `citizens_unsealed`). SQL cannot
//! do it, as it lacks the key-encryption key; the server does it when it
//! opens the database, in small transactions, so an interrupted run loses
//! nothing and the next one carries on.
use sqlx::{AnyConnection, Row};

use super::vault::{PersonalFields, RegisterVault};
use crate::Result;

const BATCH: i64 = 200;

/// Seals every row still in the holding table and returns how many it
/// sealed; `progress` is told after each batch.
pub async fn seal_unsealed(
    conn: &mut AnyConnection,
    vault: &RegisterVault,
    mut progress: impl FnMut(u64),
) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        let mut tx = crate::begin_on(&mut *conn).await?;
        let rows = sqlx::query(
            "SELECT id, register_id, given_name, family_name, birthdate, email, address, locale
             FROM citizens_unsealed ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(sealed);
        }
        for row in &rows {
            let id: String = row.try_get("id")?;
            let fields = PersonalFields {
                register_id: row.try_get("register_id")?,
                given_name: row.try_get("given_name")?,
                family_name: row.try_get("family_name")?,
                birthdate: row.try_get("birthdate")?,
                email: row.try_get("email")?,
                address: row.try_get("address")?,
                locale: row.try_get("locale")?,
            };
            let has_contact =
                fields.email.is_some() || fields.address.is_some() || fields.locale.is_some();
            let out = vault.seal(&id, &fields)?;
            sqlx::query(
                "UPDATE citizens SET register_key = $1, sealed_record = $2, wrapped_key = $3, has_contact = $4
                 WHERE id = $5",
            )
            .bind(&out.register_key)
            .bind(&out.sealed_record)
            .bind(&out.wrapped_key)
            .bind(i32::from(has_contact))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM citizens_unsealed WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        sealed += rows.len() as u64;
        progress(sealed);
    }
}
