//! The exit code, error id and category of every ACME error, in one table. A mutation that
//! changes any of them (a rate limit that ends with exit 2 "binding failed") fails here, and a
//! new variant does not compile until it has its row ([`covered`] matches without a wildcard).

use super::client::Transport;
use super::error::{AcmeError as A, Unreachable};
use crate::error::{Category as C, CsError, Exit};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Every variant must be listed here, so that [`table`] is updated with it.
fn covered(e: &A) {
    match e {
        A::DirectoryNotUrl { .. }
        | A::DirectoryNotHttps { .. }
        | A::ParameterWithoutAcmeCa { .. }
        | A::OutOfRange { .. }
        | A::InvalidContact { .. }
        | A::EabKeyWithoutKeyId
        | A::EabKeyIdWithoutKey
        | A::EabKeyNotBase64
        | A::DnsHookMissing
        | A::HttpParameterWithDns01 { .. }
        | A::DnsParameterWithHttp01 { .. }
        | A::WebRootAndHttpPort
        | A::WebRootMissing { .. }
        | A::CaBundleUnreadable { .. }
        | A::CaBundleUnusable { .. }
        | A::ProxyUnusable { .. }
        | A::RuntimeNotStarted(_)
        | A::SignalsNotHandled(_)
        | A::HttpPortUnavailable { .. }
        | A::Store(_)
        | A::Ctx(_)
        | A::DirectoryUnreachable { .. }
        | A::AccountUnreadable { .. }
        | A::AccountMissing { .. }
        | A::TermsNotAgreed { .. }
        | A::EabRequired { .. }
        | A::RateLimited { .. }
        | A::Refused { .. }
        | A::StageTimedOut { .. }
        | A::RequestFailed { .. }
        | A::Transport { .. }
        | A::UnorderedIdentifier { .. }
        | A::OrderRejected { .. }
        | A::AuthorizationNotPending { .. }
        | A::ChallengeNotOffered { .. }
        | A::ChallengeNotPresented { .. }
        | A::ChallengeFailed { .. }
        | A::CertificateUnusable { .. }
        | A::CertificateUnreadable(_)
        | A::OrderTimedOut { .. }
        | A::RetrieveTimedOut { .. }
        | A::Interrupted { .. }
        | A::CertificateNotStored { .. }
        | A::AlreadyRevoked { .. }
        | A::NotFromAcme { .. }
        | A::Kept { .. }
        | A::StaysPending { .. } => {}
    }
}

fn problem(kind: &str) -> Box<instant_acme::Problem> {
    Box::new(
        serde_json::from_str(&format!(
            r#"{{"type":"urn:ietf:params:acme:error:{kind}","detail":"d"}}"#
        ))
        .unwrap(),
    )
}

fn io() -> std::io::Error {
    std::io::Error::other("x")
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Each error with its expected id, category and exit.
fn table() -> Vec<(A, &'static str, C, Exit)> {
    let bad_uri = "a b".parse::<http::Uri>().unwrap_err();
    let json_err = serde_json::from_str::<u8>("x").unwrap_err();
    let t = |e: Transport| A::Transport {
        stage: s("the order"),
        error: e,
    };
    use Exit::Failed as F;
    vec![
        (
            A::DirectoryNotUrl {
                directory: s("a b"),
                error: bad_uri,
            },
            "InvalidAcmeDirectory",
            C::InvalidArgument,
            F,
        ),
        (
            A::DirectoryNotHttps {
                directory: s("http://x"),
            },
            "InvalidAcmeDirectory",
            C::InvalidArgument,
            F,
        ),
        (
            A::ParameterWithoutAcmeCa {
                parameter: "AcmeHttpPort",
            },
            "AcmeParameterWithoutAcmeCa",
            C::InvalidArgument,
            F,
        ),
        (
            A::OutOfRange {
                parameter: "AcmeHttpPort",
                value: 0,
                min: 1,
                max: 2,
            },
            "InvalidAcmeParameter",
            C::InvalidArgument,
            F,
        ),
        (
            A::InvalidContact { contact: s("x") },
            "InvalidAcmeContact",
            C::InvalidArgument,
            F,
        ),
        (
            A::EabKeyWithoutKeyId,
            "AcmeEabIncomplete",
            C::InvalidArgument,
            F,
        ),
        (
            A::EabKeyIdWithoutKey,
            "AcmeEabIncomplete",
            C::InvalidArgument,
            F,
        ),
        (
            A::EabKeyNotBase64,
            "AcmeEabIncomplete",
            C::InvalidArgument,
            F,
        ),
        (
            A::DnsHookMissing,
            "AcmeDnsHookMissing",
            C::InvalidArgument,
            F,
        ),
        (
            A::HttpParameterWithDns01 {
                parameter: "AcmeWebRoot",
            },
            "AcmeConflictingParameters",
            C::InvalidArgument,
            F,
        ),
        (
            A::DnsParameterWithHttp01 {
                parameter: "AcmeDnsHook",
            },
            "AcmeConflictingParameters",
            C::InvalidArgument,
            F,
        ),
        (
            A::WebRootAndHttpPort,
            "AcmeConflictingParameters",
            C::InvalidArgument,
            F,
        ),
        (
            A::WebRootMissing {
                path: PathBuf::from("w"),
            },
            "AcmeWebRootMissing",
            C::InvalidArgument,
            F,
        ),
        (
            A::CaBundleUnreadable {
                path: PathBuf::from("b"),
                error: io(),
            },
            "AcmeCaBundleUnreadable",
            C::ReadError,
            F,
        ),
        (
            A::CaBundleUnusable {
                path: None,
                reason: s("r"),
            },
            "AcmeCaBundleUnusable",
            C::InvalidData,
            F,
        ),
        (
            A::RuntimeNotStarted(io()),
            "AcmeRuntimeFailed",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::SignalsNotHandled(io()),
            "AcmeRuntimeFailed",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::HttpPortUnavailable {
                port: 80,
                reason: s("r"),
            },
            "AcmeHttpPortUnavailable",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::DirectoryUnreachable {
                directory: s("https://x"),
                why: Unreachable::Status(http::StatusCode::NOT_FOUND),
            },
            "AcmeDirectoryUnreachable",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::AccountUnreadable {
                url: None,
                error: json_err,
            },
            "AcmeAccountUnreadable",
            C::InvalidData,
            F,
        ),
        (
            A::AccountMissing { request_id: 1 },
            "AcmeAccountMissing",
            C::ObjectNotFound,
            F,
        ),
        (
            A::TermsNotAgreed {
                directory: s("d"),
                terms: s("t"),
            },
            "AcmeTermsNotAgreed",
            C::PermissionDenied,
            F,
        ),
        (
            A::EabRequired { directory: s("d") },
            "AcmeEabRequired",
            C::InvalidArgument,
            F,
        ),
        (
            A::RateLimited {
                stage: s("the order"),
                problem: problem("rateLimited"),
                retry_after: Some((s("60"), SystemTime::now())),
            },
            "AcmeRateLimited",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::Refused {
                stage: s("the order"),
                problem: problem("malformed"),
            },
            "AcmeRequestRefused",
            C::InvalidOperation,
            F,
        ),
        (
            A::StageTimedOut {
                stage: s("the order"),
            },
            "AcmeTimeout",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::RequestFailed {
                stage: s("the order"),
                error: Box::new(instant_acme::Error::Str("x")),
            },
            "AcmeRequestFailed",
            C::ResourceUnavailable,
            F,
        ),
        (
            t(Transport::UnsafeUrl {
                url: s("file:///x"),
                why: "is not an https:// URL",
            }),
            "AcmeUnsafeUrl",
            C::SecurityError,
            F,
        ),
        (
            t(Transport::TooLarge {
                host: s("h"),
                limit: 1 << 20,
            }),
            "AcmeAnswerTooLarge",
            C::InvalidData,
            F,
        ),
        (
            t(Transport::TimedOut {
                host: s("h"),
                after: Duration::from_secs(30),
            }),
            "AcmeTimeout",
            C::ResourceUnavailable,
            F,
        ),
        (
            t(Transport::Failed {
                host: s("h"),
                error: s("reset"),
            }),
            "AcmeRequestFailed",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::UnorderedIdentifier {
                identifier: s("x;y"),
            },
            "AcmeUnorderedIdentifier",
            C::SecurityError,
            F,
        ),
        (
            A::OrderRejected { problem: None },
            "AcmeOrderRejected",
            C::InvalidOperation,
            F,
        ),
        (
            A::AuthorizationNotPending {
                identifier: s("x"),
                status: instant_acme::AuthorizationStatus::Invalid,
            },
            "AcmeChallengeFailed",
            C::InvalidOperation,
            F,
        ),
        (
            A::ChallengeNotOffered {
                kind: s("http-01"),
                identifier: s("x"),
                offered: vec![],
            },
            "AcmeChallengeNotOffered",
            C::InvalidOperation,
            F,
        ),
        (
            A::ChallengeNotPresented {
                kind: s("dns-01"),
                identifier: s("x"),
                reason: s("r"),
            },
            "AcmeChallengeNotPresented",
            C::InvalidOperation,
            F,
        ),
        (
            A::ChallengeFailed {
                kind: s("http-01"),
                reasons: vec![s("r")],
            },
            "AcmeChallengeFailed",
            C::InvalidOperation,
            F,
        ),
        (
            A::CertificateUnusable { reason: s("r") },
            "AcmeCertificateUnusable",
            C::InvalidData,
            F,
        ),
        (
            A::CertificateUnreadable(crate::pki::inspect::InspectError::NothingUsable),
            "AcmeCertificateUnusable",
            C::InvalidData,
            F,
        ),
        (
            A::OrderTimedOut {
                limit: Duration::from_secs(1),
            },
            "AcmeTimeout",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::RetrieveTimedOut {
                limit: Duration::from_secs(1),
            },
            "AcmeTimeout",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::Interrupted {
                signal: "Ctrl-C",
                retrieving: false,
            },
            "AcmeInterrupted",
            C::InvalidOperation,
            F,
        ),
        (
            A::CertificateNotStored {
                thumbprint: s("AB"),
            },
            "CertificateNotFound",
            C::ObjectNotFound,
            F,
        ),
        (
            A::AlreadyRevoked {
                thumbprint: s("AB"),
                reason: s("superseded"),
                revoked: chrono::Utc::now(),
            },
            "AcmeAlreadyRevoked",
            C::InvalidOperation,
            F,
        ),
        (
            A::NotFromAcme {
                thumbprint: s("AB"),
            },
            "AcmeAccountNotFound",
            C::ObjectNotFound,
            F,
        ),
        // A wrapped error keeps the id, category and exit of its cause.
        (
            A::Kept {
                request_id: 1,
                error: Box::new(A::RateLimited {
                    stage: s("the order"),
                    problem: problem("rateLimited"),
                    retry_after: None,
                }),
                resumable: true,
            },
            "AcmeRateLimited",
            C::ResourceUnavailable,
            F,
        ),
        (
            A::StaysPending {
                request_id: 1,
                error: Box::new(A::StageTimedOut { stage: s("x") }),
            },
            "AcmeTimeout",
            C::ResourceUnavailable,
            F,
        ),
    ]
}

#[test]
fn every_acme_error_has_its_exit_code_id_and_category() {
    let rows = table();
    for (e, id, category, exit) in rows {
        covered(&e);
        let shown = format!("{e:?}");
        let cs = CsError::from(e);
        assert_eq!(
            (cs.error_id.as_str(), cs.category, cs.exit),
            (id, category, exit),
            "{shown}"
        );
        assert!(!cs.message.is_empty(), "{shown}");
    }
}
