//! output (in progress).
