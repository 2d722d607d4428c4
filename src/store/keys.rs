//! Private keys at rest. With `CSCERT_STORE_PASSWORD` keys are kept as encrypted PKCS#8; the
//! store records that it is protected (a random salt and a PBKDF2 verifier of the password in
//! `key_protection`), so that a process without the password never stores a key in the clear,
//! even after the last encrypted key was cleared. [`Tx::change_key_password`] re-encrypts every
//! key under a new password (or none) in the caller's one transaction.

use super::{params, StoreError, StoreResult, Tx};
use crate::pki::export::{decrypt_pkcs8_der, encrypt_pkcs8_der, is_encrypted_pkcs8};
use rusqlite::OptionalExtension;
use std::num::NonZeroU32;

/// PBKDF2-HMAC-SHA256 rounds of the verifier: as many as a key's own encryption uses, so the
/// verifier is no cheaper to attack than a key.
const VERIFIER_ROUNDS: u32 = 600_000;

/// The recorded protection: salt, verifier, rounds.
type Protection = (Vec<u8>, Vec<u8>, u32);

fn verifier(password: &str, salt: &[u8], rounds: NonZeroU32) -> [u8; 32] {
    let mut out = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

impl Tx<'_> {
    /// Every stored private key (requests and certificates).
    fn stored_keys(&self) -> StoreResult<Vec<Vec<u8>>> {
        let mut st = self.0.prepare(
            "SELECT key_pkcs8 FROM requests UNION ALL SELECT key_pkcs8 FROM certificates WHERE key_pkcs8 IS NOT NULL",
        )?;
        let rows = st
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn protection(&self) -> StoreResult<Option<Protection>> {
        Ok(self
            .0
            .query_row(
                "SELECT salt, verifier, rounds FROM key_protection WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Whether the store's keys are protected by a password: recorded, or (a store from before
    /// the record) an encrypted key is there.
    pub fn is_protected(&self) -> StoreResult<bool> {
        Ok(self.protection()?.is_some()
            || self.stored_keys()?.iter().any(|k| is_encrypted_pkcs8(k)))
    }

    /// Records `password` as the store's (a fresh salt and its verifier).
    fn record_protection(&self, password: &str) -> StoreResult<()> {
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt)
            .map_err(|_| StoreError::KeyNotSealed("no random salt".into()))?;
        let rounds = NonZeroU32::new(VERIFIER_ROUNDS).expect("not zero");
        self.0.execute(
            "INSERT OR REPLACE INTO key_protection (id, salt, verifier, rounds) VALUES (1, ?1, ?2, ?3)",
            params![&salt[..], &verifier(password, &salt, rounds)[..], VERIFIER_ROUNDS],
        )?;
        Ok(())
    }

    /// Checks `CSCERT_STORE_PASSWORD` against the recorded verifier (or, in a store from before
    /// the record, a key already encrypted) once per run, so that a wrong password never
    /// encrypts a new key under a second password.
    fn check_password(&self, password: &str) -> StoreResult<()> {
        if self.1.checked.get() {
            return Ok(());
        }
        match self.protection()? {
            Some((salt, expected, rounds)) => {
                let rounds = NonZeroU32::new(rounds).ok_or(StoreError::KeyPasswordWrong)?;
                aws_lc_rs::pbkdf2::verify(
                    aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                    rounds,
                    &salt,
                    password.as_bytes(),
                    &expected,
                )
                .map_err(|_| StoreError::KeyPasswordWrong)?;
            }
            None => {
                if let Some(enc) = self
                    .stored_keys()?
                    .into_iter()
                    .find(|k| is_encrypted_pkcs8(k))
                {
                    decrypt_pkcs8_der(&enc, password).map_err(|_| StoreError::KeyPasswordWrong)?;
                }
            }
        }
        self.1.checked.set(true);
        Ok(())
    }

    /// A private key as it is kept: encrypted PKCS#8 when `CSCERT_STORE_PASSWORD` is set (keys
    /// stored earlier in the clear are encrypted too, and the store records its protection); in
    /// the clear otherwise, which is refused once the store is protected.
    pub(super) fn seal_key(&self, key: &[u8]) -> StoreResult<Vec<u8>> {
        match &self.1.password {
            Some(pw) => {
                self.check_password(pw)?;
                self.encrypt_clear_keys(pw)?;
                if self.protection()?.is_none() {
                    self.record_protection(pw)?;
                }
                if is_encrypted_pkcs8(key) {
                    return Ok(key.to_vec());
                }
                encrypt_pkcs8_der(key, pw).map_err(|e| StoreError::KeyNotSealed(e.to_string()))
            }
            None => {
                if is_encrypted_pkcs8(key) || self.is_protected()? {
                    return Err(StoreError::KeyPasswordMissing);
                }
                Ok(key.to_vec())
            }
        }
    }

    /// Every stored key with where it is: (table, row key, stored bytes).
    fn keys_by_row(&self) -> StoreResult<Vec<(&'static str, String, Vec<u8>)>> {
        let mut out = Vec::new();
        let mut st = self.0.prepare("SELECT id, key_pkcs8 FROM requests")?;
        for r in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?)))? {
            let (id, k) = r?;
            out.push(("requests", id.to_string(), k));
        }
        let mut st = self.0.prepare(
            "SELECT thumbprint, key_pkcs8 FROM certificates WHERE key_pkcs8 IS NOT NULL",
        )?;
        for r in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
            let (t, k) = r?;
            out.push(("certificates", t, k));
        }
        // ACME account keys live inside instant-acme's credentials JSON.
        let mut st = self
            .0
            .prepare("SELECT id, credentials FROM acme_accounts")?;
        for r in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, c) = r?;
            if let Some((_, k)) = super::acme::credentials_key(&c) {
                out.push(("acme_accounts", id.to_string(), k));
            }
        }
        Ok(out)
    }

    fn put_key(&self, table: &str, row: &str, key: &[u8]) -> StoreResult<()> {
        if table == "acme_accounts" {
            let c: String = self.0.query_row(
                "SELECT credentials FROM acme_accounts WHERE id = CAST(?1 AS INTEGER)",
                params![row],
                |r| r.get(0),
            )?;
            if let Some((v, _)) = super::acme::credentials_key(&c) {
                self.0.execute(
                    "UPDATE acme_accounts SET credentials = ?2 WHERE id = CAST(?1 AS INTEGER)",
                    params![row, super::acme::with_key(v, key)],
                )?;
            }
            return Ok(());
        }
        let sql = match table {
            "requests" => "UPDATE requests SET key_pkcs8 = ?2 WHERE id = CAST(?1 AS INTEGER)",
            _ => "UPDATE certificates SET key_pkcs8 = ?2 WHERE thumbprint = ?1",
        };
        self.0.execute(sql, params![row, key])?;
        Ok(())
    }

    /// Encrypts keys that were stored in the clear before a password was set.
    fn encrypt_clear_keys(&self, pw: &str) -> StoreResult<()> {
        for (table, row, k) in self.keys_by_row()? {
            if !is_encrypted_pkcs8(&k) {
                let sealed = encrypt_pkcs8_der(&k, pw)
                    .map_err(|e| StoreError::KeyNotSealed(e.to_string()))?;
                self.put_key(table, &row, &sealed)?;
            }
        }
        Ok(())
    }

    /// Re-encrypts every stored key under `new` (or, with `None`, keeps them in the clear and
    /// forgets the protection). The current password (`CSCERT_STORE_PASSWORD`) must open the
    /// store when it is protected. Returns how many keys were rewritten; nothing is committed
    /// here: the caller's one transaction holds the old state or the new, never a mix.
    pub fn change_key_password(&self, new: Option<&str>) -> StoreResult<usize> {
        if new == Some("") {
            return Err(StoreError::KeyPasswordEmpty);
        }
        match &self.1.password {
            Some(pw) => self.check_password(pw)?,
            None if self.is_protected()? => return Err(StoreError::KeyPasswordMissing),
            None => {}
        }
        let keys = self.keys_by_row()?;
        for (table, row, k) in &keys {
            let plain = zeroize::Zeroizing::new(self.open_key(k)?);
            let stored = match new {
                Some(n) => encrypt_pkcs8_der(&plain, n)
                    .map_err(|e| StoreError::KeyNotSealed(e.to_string()))?,
                None => plain.to_vec(),
            };
            self.put_key(table, row, &stored)?;
        }
        match new {
            Some(n) => self.record_protection(n)?,
            None => {
                self.0.execute("DELETE FROM key_protection", [])?;
            }
        }
        Ok(keys.len())
    }

    /// A stored key in the clear (PKCS#8 DER), for the one place that needs it (export).
    pub fn open_key(&self, stored: &[u8]) -> StoreResult<Vec<u8>> {
        if !is_encrypted_pkcs8(stored) {
            return Ok(stored.to_vec());
        }
        let pw = self
            .1
            .password
            .as_deref()
            .ok_or(StoreError::KeyPasswordMissing)?;
        decrypt_pkcs8_der(stored, pw).map_err(|_| StoreError::KeyPasswordWrong)
    }
}
