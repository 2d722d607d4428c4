//! binder (in progress).
