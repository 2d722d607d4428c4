//! Request-CsCertificate: new requests (offline PKCS#10, a lab CA or an ACME CA), -List,
//! -Retrieve, -Clear (ops::request).

use crate::binder::table::{p, CmdletDef, PType, ACME_CHALLENGE, KEY_ALG};
use crate::binder::{Bound, Value};
use crate::error::CsResult;
use crate::ops::acme::{acme_parameter_names, AcmeArgs};
use crate::ops::request::{self, Cleared, NewArgs, NewResult};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
const NEW: &[&str] = &["New"];
const REQUEST_ID_SETS: &[&str] = &["List", "Retrieve", "Clear"];
const NEW_RETRIEVE: &[&str] = &["New", "Retrieve"];

pub static DEF: CmdletDef = CmdletDef {
    name: "Request-CsCertificate",
    synopsis: "Requests a new certificate (offline PKCS#10 file, or issued at once by an ACME CA such as Let's Encrypt or by a lab CA), and lists, retrieves or clears pending requests.",
    description: "The subject and subject alternative names are computed from the published topology (Publish-CsTopology) for the requested uses on this computer (-ComputerFqdn, default this computer or $env:CSCERT_COMPUTERFQDN), with -AllSipDomain and -DomainName on top. Without a topology, the subject is -ComputerFqdn (or the first -DomainName name) and the SANs are the subject followed by the -DomainName names. -Output writes a PKCS#10 request and keeps the new private key pending in the store. -CA <pem file or folder> issues the certificate at once with that CA certificate and key; an AD CS value host\\CAName needs a Windows domain member and is refused. [cscert] -CA https://<ACME directory> orders the certificate from an ACME CA (RFC 8555): the account is created on first use (-AcmeContact, -AcmeAgreeTos, -AcmeEabKeyId) and kept in the store, the names are proven with http-01 (-AcmeHttpPort, -AcmeWebRoot) or dns-01 (-AcmeDnsHook), and the key and order stay pending in the store if anything fails, for -Retrieve. The names of an ACME order (and of its CSR) start with the subject, so that a CA that takes the common name from the first name issues CN = the Access Edge FQDN that Lync matches; an offline request (-Output) keeps the order of the topology and -DomainName, so the two lists may differ in order but never in content.",
    sets: &["New", "List", "Retrieve", "Clear"],
    default_set: None,
    should_process: true,
    params: &[
        p("AcmeAgreeTos", PType::Switch, "[cscert] Agree to the ACME CA's terms of service when an account is created (without it, the error shows the terms' URL).").sets(NEW),
        p("AcmeCaBundle", PType::Str, "[cscert] PEM certificates to trust for the ACME directory's TLS instead of the system's roots (private ACME CAs).").sets(NEW_RETRIEVE),
        p("AcmeChallenge", PType::Enum(&ACME_CHALLENGE), "[cscert] Http01 or Dns01.").sets(NEW).default("Http01"),
        p("AcmeContact", PType::StrList, "[cscert] Contact URIs of the ACME account (mailto:admin@contoso.com); one account is kept per CA and contact.").sets(NEW),
        p("AcmeDnsHook", PType::Str, "[cscert] Dns01: a command run with CSCERT_ACME_ACTION=present|cleanup, CSCERT_ACME_DOMAIN, CSCERT_ACME_RECORD, CSCERT_ACME_VALUE (and those as arguments: action record value) to set and remove the TXT records. The hook gets none of cscert's own CSCERT_* variables (no store, PFX or CA password, no EAB key), and only names of the order: an authorization the CA sends for any other name stops the order.").sets(NEW),
        p("AcmeDnsWaitSec", PType::Int, "[cscert] Dns01: seconds to wait for the TXT records to propagate before validation.").sets(NEW).default("20"),
        p("AcmeEabHmacKey", PType::Password, "[cscert] External account binding: the base64url HMAC key the CA issued (or $env:CSCERT_ACME_EAB_HMAC_KEY, which keeps it off the command line).").sets(NEW),
        p("AcmeEabKeyId", PType::Str, "[cscert] External account binding: the key id the CA issued.").sets(NEW),
        p("AcmeHttpPort", PType::Int, "[cscert] Http01: the port cscert answers challenges on for the duration of the order.").sets(NEW).default("80"),
        p("AcmePreferredChain", PType::Str, "[cscert] The common name of the issuer the chain should end at, among the chains the ACME CA offers (RFC 8555 Link rel=\"alternate\"), like --preferred-chain of certbot and lego; default: the CA's default chain. When no chain matches, the default one is used with a warning.").sets(NEW),
        p("AcmeProxy", PType::Str, "[cscert] An http:// proxy (http://[user:password@]host:port) that every request to the ACME CA goes through as an HTTP CONNECT tunnel; default $env:HTTPS_PROXY (or ALL_PROXY), with the hosts in $env:NO_PROXY reached directly.").sets(NEW_RETRIEVE),
        p("AcmeTimeoutSec", PType::Int, "[cscert] Give up on the ACME order after this many seconds. Each request to the CA waits at most 30 seconds (or half of this limit when that is shorter).").sets(NEW_RETRIEVE).default("300"),
        p("AcmeWebRoot", PType::Str, "[cscert] Http01: write the answers under <folder>/.well-known/acme-challenge/ for the web server on port 80 instead of answering on -AcmeHttpPort.").sets(NEW),
        p("AllSipDomain", PType::Switch, "Add the names of every SIP domain, not only the default one.").sets(NEW),
        p("CA", PType::Str, "A lab CA: a PEM file (or folder) with the CA certificate and its private key; or [cscert] an ACME directory URL (https://...), which issues through ACME (RFC 8555). AD CS values (host\\CAName) are refused.").sets(NEW),
        p("CaAccount", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW),
        p("CaPassword", PType::Password, "Accepted for compatibility; used only by AD CS (or $env:CSCERT_CA_PASSWORD).").sets(NEW),
        p("City", PType::Str, "Locality (L) of the subject.").sets(NEW),
        p("Clear", PType::Switch, "Delete pending requests.").sets(&["Clear"]).mandatory(&["Clear"]),
        p("ClientEKU", PType::Bool, "Add the Client Authentication EKU beside Server Authentication.").sets(NEW),
        p("ComputerFqdn", PType::NullableStr, "The computer the certificate is for (full or short name); default this computer.").sets(NEW).shown_as("Fqdn"),
        p("Country", PType::Str, "Two-letter country (C) of the subject.").sets(NEW),
        p("DomainName", PType::StrList, "Extra FQDNs added to the subject alternative names (comma-separated).").sets(NEW).shown_as("String"),
        p("Force", PType::Switch, "Overwrite an existing -Output file; request despite validation errors; -Clear every request without asking."),
        p("FriendlyName", PType::Str, "Friendly name recorded with the request and certificate.").sets(NEW),
        p("GlobalCatalog", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW).shown_as("Fqdn"),
        p("GlobalSettingsDomainController", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW).shown_as("Fqdn"),
        p("KeyAlg", PType::Enum(&KEY_ALG), "RSA, ECDH_P256, ECDH_P384 or ECDH_P521.").sets(NEW).default("RSA"),
        p("KeySize", PType::Int, "RSA key size: 2048, 3072 or 4096; ignored with a warning for ECDH_* keys.").sets(NEW).default("2048"),
        p("List", PType::Switch, "List the pending requests.").sets(&["List"]).mandatory(&["List"]),
        p("New", PType::Switch, "Make a new request.").sets(NEW).mandatory(NEW),
        p("Organization", PType::Str, "Organization (O) of the subject.").sets(NEW),
        p("OU", PType::Str, "Organizational unit (OU) of the subject.").sets(NEW),
        p("Output", PType::Str, "Write an offline PKCS#10 request to this file.").sets(NEW),
        p("PrivateKeyExportable", PType::Bool, "Allow Export-CsCertificate to export the private key (Edge pools).").sets(NEW),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("RequestId", PType::Int, "Narrow -List, -Retrieve or -Clear to one request.").sets(REQUEST_ID_SETS),
        p("Retrieve", PType::Switch, "Complete pending requests whose certificate is available.").sets(&["Retrieve"]).mandatory(&["Retrieve"]),
        p("State", PType::Str, "State or province (S) of the subject.").sets(NEW),
        p("Template", PType::Str, "AD CS template name, recorded in the request's template extension.").sets(NEW),
        p("Type", PType::CertTypes, "The uses of the certificate.").sets(NEW).mandatory(NEW),
        p("ValidityDays", PType::Int, "[cscert] Days a lab CA (-CA) issues the certificate for, never beyond the CA's own expiry.").sets(NEW).default("365"),
    ],
    examples: &[
        ("Request-CsCertificate -New -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn sip.contoso.com -DomainName 'webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com' -PrivateKeyExportable True -Output edge.req", "Makes the offline request for the Edge external certificate with XMPP federation for contoso.com."),
        ("Request-CsCertificate -New -Type WebServicesExternal -Output 'C:\\Certificates\\WebServicesExternal.cer'", "Makes an offline request for the external web services."),
        ("Request-CsCertificate -New -Type Default,WebServicesInternal,WebServicesExternal -CA ./lab-ca.pem", "Issues a Front End certificate at once with a lab CA kept as PEM files."),
        ("Request-CsCertificate -List", "Lists the pending requests."),
        ("Request-CsCertificate -Clear -RequestId 224", "Deletes pending request 224."),
        ("Request-CsCertificate -New -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn sip.contoso.com -DomainName 'webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com' -PrivateKeyExportable True -CA https://acme-v02.api.letsencrypt.org/directory -AcmeContact mailto:admin@contoso.com -AcmeAgreeTos", "[cscert] Issues the Edge external certificate from an ACME CA, answering http-01 on port 80."),
        ("Request-CsCertificate -Retrieve -RequestId 7", "Completes request 7: imported certificates, or [cscert] an ACME order that was left unfinished."),
    ],
    lync: true,
};

fn acme_args(b: &Bound) -> AcmeArgs<'_> {
    AcmeArgs {
        agree_tos: b.switch("AcmeAgreeTos"),
        ca_bundle: b.str("AcmeCaBundle"),
        challenge: b.enum_value("AcmeChallenge"),
        contact: b.list("AcmeContact"),
        dns_hook: b.str("AcmeDnsHook"),
        dns_wait_sec: b.int("AcmeDnsWaitSec"),
        eab_hmac_key: b.str("AcmeEabHmacKey"),
        eab_key_id: b.str("AcmeEabKeyId"),
        http_port: b.int("AcmeHttpPort"),
        preferred_chain: b.str("AcmePreferredChain"),
        proxy: b.str("AcmeProxy"),
        timeout_sec: b.int("AcmeTimeoutSec"),
        web_root: b.str("AcmeWebRoot"),
        given: acme_parameter_names()
            .iter()
            .copied()
            .filter(|p| b.has(p))
            .collect(),
    }
}

/// [ValidateRange(1, 36500)] on -ValidityDays, checked while binding as PowerShell does (a
/// hundred years is beyond any CA already).
fn checked_new_args(b: &Bound) -> CsResult<NewArgs<'_>> {
    let a = new_args(b);
    if let Some(d) = a.validity_days {
        if !(1..=request::MAX_VALIDITY_DAYS).contains(&d) {
            return Err(crate::binder::errors::out_of_range(
                "ValidityDays",
                d.into(),
                1,
                request::MAX_VALIDITY_DAYS.into(),
            ));
        }
    }
    Ok(a)
}

fn new_args(b: &Bound) -> NewArgs<'_> {
    NewArgs {
        uses: b.uses("Type"),
        key_alg: b.enum_value("KeyAlg"),
        key_size: b.int("KeySize"),
        organization: b.str("Organization"),
        ou: b.str("OU"),
        city: b.str("City"),
        state: b.str("State"),
        country: b.str("Country"),
        validity_days: b.int("ValidityDays"),
        exportable: b.bool("PrivateKeyExportable").unwrap_or(false),
        computer: match b.get("ComputerFqdn") {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
        domain_names: b.list("DomainName"),
        all_sip_domain: b.switch("AllSipDomain"),
        output: b.str("Output"),
        ca: b.str("CA"),
        client_eku: b.bool("ClientEKU").unwrap_or(false),
        template: b.str("Template"),
        friendly_name: b.str("FriendlyName"),
        force: b.switch("Force"),
        acme: acme_args(b),
        ..NewArgs::default()
    }
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let id = b.int("RequestId").map(i64::from);
    match b.set {
        "New" => match request::new(ctx, checked_new_args(b)?)? {
            Some(NewResult::Issued(c)) => ctx.host.emit(&c),
            Some(NewResult::Offline(r)) => ctx.host.emit(&r),
            None => {}
        },
        "List" => {
            for r in request::list(ctx, id)? {
                ctx.host.emit(&r);
            }
        }
        "Clear" => {
            if let Cleared::Deleted(n) = request::clear(ctx, id, b.switch("Force"))? {
                ctx.host.verbose(format!("Cleared {n} request(s)."));
                ctx.host.summary(format!("Cleared {n} request(s)."));
            }
        }
        _ => {
            // Requests made through an ACME CA: finish their orders first (no-op without any).
            crate::ops::acme::finish_pending(ctx, &acme_args(b), id)?;
            for r in request::retrieve(ctx, id)? {
                ctx.host.emit(&r);
            }
        }
    }
    Ok(())
}
