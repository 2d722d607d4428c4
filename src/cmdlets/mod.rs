//! cmdlets (in progress).
