//! Update-CsCertificateStorePassword's work: the password of the keys at rest changed (or
//! removed), every stored key re-encrypted in one transaction, so that a crash leaves the old
//! state or the new, never a mix. The current password is `CSCERT_STORE_PASSWORD`.

use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::store::StoreError;

/// Why the password was not changed.
#[derive(Debug)]
pub enum PasswordChangeError {
    /// Neither -NewPassword (nor `CSCERT_NEW_PASSWORD`) nor -Remove.
    NothingAsked,
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(PasswordChangeError: Store(StoreError), Ctx(CtxError));

impl From<PasswordChangeError> for CsError {
    fn from(e: PasswordChangeError) -> CsError {
        match e {
            PasswordChangeError::NothingAsked => CsError::failed(
                "NewPasswordMissing",
                Category::InvalidArgument,
                "Give the new password with -NewPassword (or $env:CSCERT_NEW_PASSWORD), or -Remove to keep the keys in the clear. The current password comes from CSCERT_STORE_PASSWORD.",
            ),
            PasswordChangeError::Store(e) => e.into(),
            PasswordChangeError::Ctx(e) => e.into(),
        }
    }
}

/// What was done: how many keys were rewritten, and whether the store is protected now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub keys: usize,
    pub protected: bool,
}

/// Re-encrypts every key under `new` (`None` with `remove`: in the clear). `Ok(None)`: -WhatIf
/// or declined.
pub fn change(
    ctx: &mut Ctx,
    new: Option<&str>,
    remove: bool,
    force: bool,
) -> Result<Option<Changed>, PasswordChangeError> {
    if new.is_none() && !remove {
        return Err(PasswordChangeError::NothingAsked);
    }
    if new == Some("") {
        return Err(StoreError::KeyPasswordEmpty.into());
    }
    let dir = ctx.store_dir().display().to_string();
    let action = if remove {
        "Remove the store password (keep every private key in the clear)"
    } else {
        "Change the store password (re-encrypt every private key)"
    };
    if !ctx.should_process_high(force, &dir, action)? {
        return Ok(None);
    }
    let keys = ctx.store()?.write(|tx| -> Result<usize, StoreError> {
        let n = tx.change_key_password(new)?;
        tx.commit()?;
        Ok(n)
    })?;
    // The log still holds the pages as they were (the keys under the old password).
    ctx.store()?.forget_deleted();
    Ok(Some(Changed {
        keys,
        protected: new.is_some(),
    }))
}
