//! Test-CsCertificate's work [cscert]: validates requests and certificates (files, folders, or
//! store items) for CI. One result per item.

use super::certs::{CertError, InputError};
use super::request::RequestError;
use super::topology::TopologyOpError;
use super::Ctx;
use crate::error::CsError;
use crate::model::CertType;
use crate::output::objects::ser_opt_date;
use crate::output::to_ascii_json;
use crate::pki::certfile::certificates_in;
use crate::pki::chain::{check_with, ChainReport};
use crate::pki::inspect::{
    inspect_bytes, inspect_der_certificate, inspect_der_request, InspectError, Inspected, Kind,
};
use crate::pki::validate::{validate, with_chain, DomainCoverage, Expectations, Finding};
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Files a folder is searched for: certificates and requests as CAs and Windows write them.
const EXTENSIONS: &[&str] = &[
    "cer", "crt", "pem", "der", "req", "csr", "p10", "p7b", "p7c",
];

/// Why an item (or the whole check) could not be checked.
#[derive(Debug)]
pub enum CheckError {
    Input(InputError),
    Cert(CertError),
    Topology(TopologyOpError),
    Store(StoreError),
    RequestNotFound {
        id: i64,
    },
    /// A stored request whose DER does not parse.
    RequestUnreadable {
        id: i64,
        error: InspectError,
    },
    /// A file (`shown`: its full path) that holds no certificate or request.
    NotACertificateOrRequest {
        shown: String,
        reason: String,
    },
}

crate::ops::wraps!(
    CheckError:
    Input(InputError),
    Cert(CertError),
    Topology(TopologyOpError),
    Store(StoreError),
);

impl From<CheckError> for CsError {
    fn from(e: CheckError) -> CsError {
        use crate::error::Category;
        match e {
            CheckError::Input(e) => e.into(),
            CheckError::Cert(e) => e.into(),
            CheckError::Topology(e) => e.into(),
            CheckError::Store(e) => e.into(),
            CheckError::RequestNotFound { id } => RequestError::NotFound(id).into(),
            CheckError::RequestUnreadable { id, error } => CsError::failed(
                "StoredRequestUnreadable",
                Category::InvalidData,
                format!("Request {id} cannot be read: {error}"),
            ),
            CheckError::NotACertificateOrRequest { shown, reason } => CsError::failed(
                "NotACertificateOrRequest",
                Category::InvalidData,
                format!("'{shown}' is not a certificate or certificate request: {reason}"),
            )
            .with_target(shown),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestResult {
    pub path: Option<String>,
    pub kind: Kind,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub thumbprint: Option<String>,
    #[serde(serialize_with = "ser_opt_date")]
    pub not_after: Option<DateTime<Utc>>,
    pub xmpp_domains: Vec<DomainCoverage>,
    pub sip_domains: Vec<DomainCoverage>,
    pub findings: Vec<Finding>,
    pub passed: bool,
}

fn result(
    path: Option<String>,
    item: &Inspected,
    exp: &Expectations,
    chain: Option<&ChainReport>,
) -> TestResult {
    let v = validate(item, exp);
    let v = match chain {
        Some(c) => with_chain(v, c),
        None => v,
    };
    TestResult {
        path,
        kind: item.kind,
        subject: item.subject.clone(),
        alternative_names: item.dns_names.clone(),
        thumbprint: item.thumbprint.clone(),
        not_after: item.not_after,
        xmpp_domains: v.xmpp_domains,
        sip_domains: v.sip_domains,
        findings: v.findings,
        passed: v.passed,
    }
}

/// Expands files and folders (recursively, certificate extensions only) in a stable order.
fn collect(ctx: &mut Ctx, paths: &[String]) -> Result<Vec<(PathBuf, bool)>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        let full = ctx.full_path(p);
        if full.is_dir() {
            let mut found = Vec::new();
            let mut skipped = Vec::new();
            walk(&full, &mut found, &mut skipped).map_err(|error| InputError::FolderNotRead {
                full: full.clone(),
                shown: p.clone(),
                error,
            })?;
            for (p, what) in skipped {
                ctx.host
                    .verbose(format!("Skipped '{}': {what}.", p.display()));
            }
            sort_paths(&mut found);
            out.extend(found.into_iter().map(|f| (f, false)));
        } else if full.exists() {
            out.push((full, true));
        } else {
            return Err(InputError::PathNotFound {
                full,
                shown: p.clone(),
            });
        }
    }
    Ok(out)
}

/// `paths.sort()`, comparing each path's components once instead of re-parsing them in every
/// comparison (Path's order is the order of its component sequence).
fn sort_paths(paths: &mut Vec<PathBuf>) {
    let mut keyed: Vec<(Vec<std::path::Component<'_>>, usize)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.components().collect(), i))
        .collect();
    keyed.sort();
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    let mut taken: Vec<Option<PathBuf>> = std::mem::take(paths).into_iter().map(Some).collect();
    paths.extend(
        order
            .into_iter()
            .map(|i| taken[i].take().expect("each index once")),
    );
}

/// Collects certificate files under `dir`. Only regular files are read (a FIFO would block, a
/// device never ends); anything else is listed in `skipped` with what it is. Links to regular
/// files are followed, links to folders are not (no cycles).
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, &'static str)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let mut ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&path, out, skipped)?;
            continue;
        }
        let wanted = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
        if !wanted {
            continue;
        }
        if ft.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) => ft = m.file_type(),
                Err(_) => {
                    skipped.push((path, "a link to nothing"));
                    continue;
                }
            }
        }
        if ft.is_file() {
            out.push(path);
        } else {
            skipped.push((path, special_name(&ft)));
        }
    }
    Ok(())
}

fn special_name(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO, not a regular file";
        }
        if ft.is_socket() {
            return "a socket, not a regular file";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device, not a regular file";
        }
    }
    if ft.is_dir() {
        return "a link to a folder (not followed)";
    }
    "not a regular file"
}

/// The items of one file, in the formats Import-CsCertificate reads: PEM/DER certificates and
/// requests, PKCS#7 (.p7b) chains, and PFX (opened with $env:CSCERT_PASSWORD or no password).
fn read_items(bytes: &[u8], password: Option<&str>) -> Result<Vec<Inspected>, String> {
    match inspect_bytes(bytes) {
        Ok(items) => Ok(items),
        Err(first) => match crate::pki::certfile::read_certificates(bytes, password) {
            Ok(loaded) => std::iter::once(&loaded.leaf)
                .chain(&loaded.chain)
                .map(|d| inspect_der_certificate(d).map_err(|e| e.to_string()))
                .collect(),
            Err(crate::pki::certfile::CertFileError::NotACertificate(_)) => Err(first.to_string()),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// The leaf items of a file: a PEM chain (leaf + CA certificates) is judged by its leaf.
fn leaves(items: Vec<Inspected>) -> Vec<Inspected> {
    if items.len() > 1 && items.iter().any(|i| i.basic_constraints_ca != Some(true)) {
        items
            .into_iter()
            .filter(|i| i.basic_constraints_ca != Some(true))
            .collect()
    } else {
        items
    }
}

/// What the item (or a served certificate, ops::probe) should cover: from the published topology
/// for -Type on the computer, plus
/// -XmppDomain / -SipDomain.
pub(super) fn expectations(
    a: &CheckArgs<'_>,
    ctx: &mut Ctx,
) -> Result<Expectations, TopologyOpError> {
    let now = a.verification_time.unwrap_or(ctx.now);
    let mut exp = Expectations::new(now);
    exp.uses = a.uses.clone();
    if !exp.uses.is_empty() {
        if let Some(topo) = crate::ops::topology::published(ctx)? {
            let given = a
                .computer
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            let computer = given.clone().unwrap_or_else(|| ctx.this_computer());
            match crate::ops::topology::expected_names(&topo, &computer, &exp.uses, true, &[]) {
                Ok(names) => {
                    ctx.host.verbose(format!(
                        "Expected names from the published topology for {} on {}: XMPP domains [{}], SIP domains [{}], Access Edge {}.",
                        crate::model::join_uses(&exp.uses),
                        names.computer,
                        names.xmpp_domains.join(", "),
                        names.sip_domains.join(", "),
                        names.access_edge_fqdn.as_deref().unwrap_or("-")
                    ));
                    exp.xmpp_domains = names.xmpp_domains;
                    exp.sip_domains = names.sip_domains;
                    exp.access_edge_fqdn = names.access_edge_fqdn;
                }
                // An explicit computer must be in the topology; "this computer" may be a CI runner.
                Err(e) if given.is_some() => return Err(e),
                Err(e) => ctx.host.verbose(format!(
                    "No names from the published topology: {}",
                    CsError::from(e)
                )),
            }
        }
    }
    for d in a.xmpp_domains.iter().cloned() {
        if !exp.xmpp_domains.iter().any(|x| x.eq_ignore_ascii_case(&d)) {
            exp.xmpp_domains.push(d);
        }
    }
    for d in a.sip_domains.iter().cloned() {
        if !exp.sip_domains.iter().any(|x| x.eq_ignore_ascii_case(&d)) {
            exp.sip_domains.push(d);
        }
    }
    Ok(exp)
}

/// One result as its output line, with whether it passed.
fn line(
    path: Option<String>,
    item: &Inspected,
    exp: &Expectations,
    chain: Option<&ChainReport>,
) -> (bool, String) {
    let r = result(path, item, exp, chain);
    (r.passed, to_ascii_json(&r))
}

/// SHA-1 thumbprint of DER, as [`Inspected::thumbprint`] holds it.
fn thumbprint_of(der: &[u8]) -> Option<String> {
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    Some(crate::pki::dn::hex_upper(sha1.as_ref()))
}

/// The chain walk with the system's trust store as the last resort (loaded only if asked).
fn check_chain(der: &[u8], pool: &[Vec<u8>], anchors: Option<&[Vec<u8>]>) -> ChainReport {
    check_with(der, pool, anchors, &crate::pki::system_roots::named)
}

/// Batches this large show progress on stderr when a person watches it (stderr a terminal);
/// scripts, pipes and CI logs get none.
const PROGRESS_FROM: usize = 200;

fn progress_bar(files: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if files < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return None;
    }
    let p = indicatif::ProgressBar::new(files as u64);
    p.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} files checked ({elapsed})")
            .expect("a valid template"),
    );
    Some(p)
}

/// What to check (by parameter set) and against what.
#[derive(Debug, Clone)]
pub enum Items<'a> {
    /// Files or folders (`-Path`).
    Paths(Vec<String>),
    /// A certificate in the store, the thumbprint as given.
    Thumbprint(&'a str),
    /// A pending request in the store.
    RequestId(i64),
}

#[derive(Debug, Clone)]
pub struct CheckArgs<'a> {
    pub items: Items<'a>,
    pub uses: Vec<CertType>,
    /// `-ComputerFqdn` as given (`$null` and blanks: this computer).
    pub computer: Option<&'a str>,
    pub xmpp_domains: Vec<String>,
    pub sip_domains: Vec<String>,
    pub verification_time: Option<DateTime<Utc>>,
    pub trusted_roots: Vec<String>,
}

/// The results, each as its output line with whether it passed, and the error records of
/// files that could not be read (shown first).
#[derive(Debug, Default)]
pub struct Checked {
    pub results: Vec<(bool, String)>,
    pub errors: Vec<CheckError>,
}

/// Up to this many files are checked on the calling thread with indexed issuer look-ups; more
/// start the thread pool and read the store's certificates once.
const THREADED_FROM: usize = 8;

/// The stored certificates that may have issued the certificates given (and their issuers).
type IssuerLookup<'a> = dyn FnMut(&[&[u8]]) -> Result<Vec<Vec<u8>>, StoreError> + 'a;

/// What every file of a check shares.
struct FileCheck<'a> {
    exp: &'a Expectations,
    anchors: Option<&'a [Vec<u8>]>,
    password: Option<&'a str>,
}

impl FileCheck<'_> {
    /// One file's results. `store_has_issuers`: the store may know an issuer; `issuers` gives
    /// the stored certificates that may have issued the certificates given (and their issuers).
    fn file(
        &self,
        path: &Path,
        store_has_issuers: bool,
        issuers: &mut IssuerLookup<'_>,
    ) -> Result<Vec<(bool, String)>, CheckError> {
        let shown = path.display().to_string();
        // Any read error (too large included) is "not read" here: the file was found in a
        // folder or named, and the batch goes on.
        let bytes = crate::ops::certs::read_limited(path, crate::ops::certs::CERT_FILE_LIMIT)
            .map_err(|error| InputError::NotRead {
                full: path.to_path_buf(),
                shown: shown.clone(),
                error,
            })?;
        let items = read_items(&bytes, self.password).map_err(|reason| {
            CheckError::NotACertificateOrRequest {
                shown: shown.clone(),
                reason,
            }
        })?;
        // Every certificate's signature is checked (its issuer from the file, the store,
        // -TrustedRoot, itself, or at last the system's trust store), or said to be unchecked
        // (ISSUER-UNKNOWN).
        let wanted = items.iter().any(|i| i.kind == Kind::Certificate);
        let file_certs = if wanted {
            certificates_in(&bytes, self.password)
        } else {
            Vec::new()
        };
        let mut out = Vec::new();
        for i in leaves(items) {
            let der = (i.kind == Kind::Certificate)
                .then(|| file_certs.iter().find(|d| thumbprint_of(d) == i.thumbprint))
                .flatten();
            let chain = match der {
                Some(d) => {
                    let mut pool: Vec<Vec<u8>> =
                        file_certs.iter().filter(|o| *o != d).cloned().collect();
                    if store_has_issuers {
                        let mut wanted: Vec<&[u8]> = vec![d];
                        wanted.extend(pool.iter().map(Vec::as_slice));
                        let found = issuers(&wanted)?;
                        pool.extend(found);
                    }
                    Some(check_chain(d, &pool, self.anchors))
                }
                None => None,
            };
            out.push(line(Some(shown.clone()), &i, self.exp, chain.as_ref()));
        }
        Ok(out)
    }
}

/// Checks the items; a file that cannot be read is an error record, the others are checked.
pub fn check(ctx: &mut Ctx, a: CheckArgs<'_>) -> Result<Checked, CheckError> {
    let mut exp = expectations(&a, ctx)?;
    let anchors = crate::ops::certs::trusted_roots(ctx, &a.trusted_roots)?;
    let mut errors = Vec::new();
    let results: Vec<(bool, String)> = match a.items {
        Items::Thumbprint(t) => {
            let t = crate::ops::certs::normalize_thumbprint(t)?;
            let (row, c, pool) = ctx.store()?.read(|tx| -> Result<_, CheckError> {
                let (row, c) = crate::ops::certs::load(tx, &t)?;
                let mut wanted: Vec<&[u8]> = vec![&row.der];
                wanted.extend(row.chain.iter().map(Vec::as_slice));
                let pool = tx.issuer_pool_for_all(&wanted)?;
                Ok((row, c, pool))
            })?;
            exp.key_exportable = Some(row.key_pkcs8.is_some() && row.exportable);
            let mut pool = pool;
            pool.extend(row.chain.iter().cloned());
            let chain = check_chain(&row.der, &pool, anchors.as_deref());
            vec![line(None, &c, &exp, Some(&chain))]
        }
        Items::RequestId(id) => {
            let rows = ctx.store()?.read(|tx| tx.requests(Some(id)))?;
            let Some(r) = rows.into_iter().next() else {
                return Err(CheckError::RequestNotFound { id });
            };
            if exp.uses.is_empty() {
                exp.uses = r.uses.split(',').filter_map(CertType::parse).collect();
            }
            exp.key_exportable = Some(r.exportable);
            let item = inspect_der_request(&r.csr_der)
                .map_err(|error| CheckError::RequestUnreadable { id, error })?;
            vec![line(r.output, &item, &exp, None)]
        }
        Items::Paths(paths) => {
            let files = collect(ctx, &paths)?;
            let password = ctx.password(None);
            let job = FileCheck {
                exp: &exp,
                anchors: anchors.as_deref(),
                password: password.as_deref(),
            };
            let store_exists = ctx.store_dir().join(crate::store::DB_FILE).exists();
            let per_file: Vec<Result<Vec<(bool, String)>, CheckError>> =
                if files.len() <= THREADED_FROM {
                    // A few files: no threads to start, and each certificate's issuers come
                    // from the store's index, so the cost does not grow with the store.
                    let mut store = if store_exists {
                        Some(ctx.store()?)
                    } else {
                        None
                    };
                    files
                        .iter()
                        .map(|(path, _)| {
                            job.file(
                                path,
                                store.is_some(),
                                &mut |ders: &[&[u8]]| match &mut store {
                                    Some(s) => s.read(|tx| tx.issuer_pool_for_all(ders)),
                                    None => Ok(Vec::new()),
                                },
                            )
                        })
                        .collect()
                } else {
                    // Many files: the whole pool once, then the files spread over the cores
                    // (reading and checking are independent per file), results in file order.
                    let pool = crate::ops::certs::store_pool_if_any(ctx)?;
                    let progress = progress_bar(files.len());
                    let out = files
                        .par_iter()
                        .map(|(path, _)| {
                            if let Some(p) = &progress {
                                p.inc(1);
                            }
                            job.file(path, !pool.is_empty(), &mut |_: &[&[u8]]| Ok(pool.clone()))
                        })
                        .collect();
                    if let Some(p) = progress {
                        p.finish();
                    }
                    out
                };
            let mut all = Vec::with_capacity(per_file.len());
            for r in per_file {
                match r {
                    Ok(v) => all.extend(v),
                    Err(e) => errors.push(e),
                }
            }
            all
        }
    };
    Ok(Checked { results, errors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::TempDir;

    fn paths(p: Vec<String>) -> CheckArgs<'static> {
        CheckArgs {
            items: Items::Paths(p),
            uses: Vec::new(),
            computer: None,
            xmpp_domains: Vec::new(),
            sip_domains: Vec::new(),
            verification_time: None,
            trusted_roots: Vec::new(),
        }
    }

    #[test]
    fn a_missing_path_stops_the_check() {
        let dir = TempDir::new("check-missing");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let missing = dir.0.join("nothing.cer").display().to_string();
        match check(&mut ctx, paths(vec![missing.clone()])).unwrap_err() {
            CheckError::Input(InputError::PathNotFound { full, shown }) => {
                assert_eq!(shown, missing);
                assert_eq!(full, dir.0.join("nothing.cer"));
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_file_that_is_no_certificate_is_an_error_of_its_own() {
        let dir = TempDir::new("check-junk");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let junk = dir.0.join("junk.cer");
        std::fs::write(&junk, "no certificate here").unwrap();
        let checked = check(&mut ctx, paths(vec![junk.display().to_string()])).unwrap();
        assert!(checked.results.is_empty());
        match checked.errors.as_slice() {
            [CheckError::NotACertificateOrRequest { shown, .. }] => {
                assert_eq!(*shown, junk.display().to_string())
            }
            e => panic!("{e:?}"),
        }
        // No store was made by a check of files.
        assert!(!dir.0.join("store").exists());
    }

    #[test]
    fn a_trusted_root_folder_without_certificates_is_refused() {
        let dir = TempDir::new("check-roots");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let roots = dir.0.join("roots");
        std::fs::create_dir(&roots).unwrap();
        std::fs::write(roots.join("readme.txt"), "no certificates").unwrap();
        let mut a = paths(Vec::new());
        a.trusted_roots = vec![roots.display().to_string()];
        match check(&mut ctx, a).unwrap_err() {
            CheckError::Cert(CertError::NoTrustedRoot { full, .. }) => assert_eq!(full, roots),
            e => panic!("{e:?}"),
        }
    }
}
