//! The names a certificate needs for a computer and a set of uses, computed from the topology
//! by one table of (use, pool role) -> names ([`parts`]; docs/reference/certificates.md,
//! "Names per use"), with the origin of every name.

use super::{ComputerRef, NamesError, PoolKind, Topology};
use crate::model::CertType;
use serde::Serialize;

/// Whether a `NameSource` describes the subject CN or a SAN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NameRole {
    Subject,
    San,
}

/// Where one name came from, for `-Verbose` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameSource {
    pub name: String,
    pub role: NameRole,
    pub source: String,
}

/// The outcome of [`compute_names`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ComputedNames {
    /// The machine FQDN `computer` resolved to, in the topology's casing.
    pub computer: String,
    /// Its pool FQDN.
    pub pool: String,
    /// The subject CN.
    pub subject: String,
    /// In order, duplicates dropped case-insensitively.
    pub sans: Vec<String>,
    /// The subject's source first, then one per entry of `sans`, same order.
    pub sources: Vec<NameSource>,
    /// Domains that must be covered for XMPP server-to-server federation.
    pub xmpp_domains: Vec<String>,
    /// SIP domains whose `sip.<domain>` name was added.
    pub sip_domains: Vec<String>,
    pub access_edge_fqdn: Option<String>,
    /// Things the caller should tell the user (verbose or warning), e.g. names the document
    /// could not provide and that were therefore left out.
    pub notes: Vec<String>,
}

/// Uses that share one row of the names table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    EdgeExternal,
    EdgeInternal,
    Default,
    WebInternal,
    WebExternal,
    OAuth,
    /// Uses without a topology rule (mobility push, online-only, ...).
    Generic,
}

fn group(u: CertType) -> Group {
    match u {
        _ if u.is_edge_external() => Group::EdgeExternal,
        CertType::Internal => Group::EdgeInternal,
        CertType::Default => Group::Default,
        CertType::WebServicesInternal => Group::WebInternal,
        CertType::WebServicesExternal => Group::WebExternal,
        CertType::OAuthTokenIssuer => Group::OAuth,
        _ => Group::Generic,
    }
}

#[derive(Default)]
struct Builder {
    subject: Option<String>,
    sans: Vec<String>,
    sources: Vec<NameSource>,
    notes: Vec<String>,
}

impl Builder {
    /// Only the first use group names the subject.
    fn subject(&mut self, name: &str, source: impl FnOnce() -> String) {
        if self.subject.is_none() {
            self.subject = Some(name.to_string());
            self.sources.push(NameSource {
                name: name.to_string(),
                role: NameRole::Subject,
                source: source(),
            });
        }
    }

    fn san(&mut self, name: &str, source: impl FnOnce() -> String) {
        if !self.sans.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            self.sans.push(name.to_string());
            self.sources.push(NameSource {
                name: name.to_string(),
                role: NameRole::San,
                source: source(),
            });
        }
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// Refuses a use the computer's role does not need, like the real cmdlet.
fn check_use(u: CertType, c: ComputerRef<'_>) -> Result<(), NamesError> {
    let not_needed = |role: &str| {
        Err(NamesError::UseNotNeeded {
            cert_type: u,
            computer: c.machine.to_string(),
            role: role.to_string(),
        })
    };
    match (c.pool.kind, group(u)) {
        (PoolKind::Edge, Group::EdgeExternal) => {
            let xmpp = c.pool.edge.as_ref().is_some_and(|e| e.xmpp_enabled);
            if u == CertType::XmppServer && !xmpp {
                not_needed("an Edge Server whose pool does not run the XMPP federation proxy")
            } else {
                Ok(())
            }
        }
        (PoolKind::Edge, Group::EdgeInternal) => Ok(()),
        (
            PoolKind::FrontEnd | PoolKind::Director,
            Group::Default
            | Group::WebInternal
            | Group::WebExternal
            | Group::OAuth
            | Group::Generic,
        ) => Ok(()),
        (PoolKind::Mediation, Group::Default) => Ok(()),
        (kind, _) => not_needed(kind.role_phrase()),
    }
}

/// One name, or family of names, that a certificate of a use gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    /// The Edge pool's external Access Edge FQDN (its AccessEdge port's ConfiguredFqdn).
    AccessEdge,
    /// The external Web Conferencing Edge FQDN (the DataEdge / PsomClient port).
    DataEdge,
    /// The Edge pool's internal FQDN.
    EdgePool,
    /// The pool's FQDN.
    Pool,
    /// This computer's FQDN.
    Machine,
    /// This computer's FQDN, for a use the topology has no rule for.
    MachineNoRule,
    WebInternal,
    WebExternal,
    /// The default SIP domain itself (OAuth).
    DefaultSipDomain,
    /// `sip.<domain>` for each SIP domain.
    SipDomains,
    /// Each SIP domain itself, as the XMPP domain, when the pool federates over XMPP.
    XmppDomains,
    /// The simple URLs (meet, dialin, admin) of the SIP domains.
    SimpleUrls,
    /// `<prefix>.<domain>` for each SIP domain (Lync Autodiscover).
    Discover(&'static str),
}

/// Where a name goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Subject(Name),
    San(Name),
}

use Name::*;
use Part::{San, Subject};

/// Microsoft's certificate summaries (Lync Server 2013 "Certificate requirements" per server
/// role) as data: the names of each row, in the documented
/// order. For Edge external that is the "Certificate summary - XMPP federation" order:
/// webcon, sip, sip.<other domain>, then the XMPP domains; the subject is always a SAN too,
/// since RFC 9525 clients read only SANs. A standalone Mediation pool needs only its own names.
fn parts(g: Group, pool: PoolKind) -> &'static [Part] {
    match (g, pool) {
        (Group::EdgeExternal, _) => &[
            Subject(AccessEdge),
            San(DataEdge),
            San(AccessEdge),
            San(SipDomains),
            San(XmppDomains),
        ],
        (Group::EdgeInternal, _) => &[Subject(EdgePool), San(EdgePool)],
        (Group::Default, PoolKind::Mediation) => &[Subject(Pool), San(Pool), San(Machine)],
        (Group::Default, _) => &[
            Subject(Pool),
            San(Pool),
            San(Machine),
            San(SipDomains),
            San(SimpleUrls),
            San(Discover("lyncdiscoverinternal")),
        ],
        (Group::WebInternal, _) => &[
            Subject(Pool),
            San(Pool),
            San(WebInternal),
            San(SimpleUrls),
            San(Discover("lyncdiscoverinternal")),
        ],
        (Group::WebExternal, _) => &[
            Subject(Pool),
            San(Pool),
            San(WebExternal),
            San(SimpleUrls),
            San(Discover("lyncdiscover")),
        ],
        (Group::OAuth, _) => &[Subject(DefaultSipDomain)],
        (Group::Generic, _) => &[Subject(MachineNoRule), San(MachineNoRule)],
    }
}

/// What the names are computed from: the topology, the computer, and the SIP domains chosen.
struct Names<'a> {
    topo: &'a Topology,
    c: ComputerRef<'a>,
    domains: Vec<&'a str>,
}

impl Names<'_> {
    fn domain_label(&self, d: &str) -> String {
        if d.eq_ignore_ascii_case(&self.topo.default_sip_domain) {
            "default SIP domain".to_string()
        } else {
            format!("SIP domain {d}, -AllSipDomain")
        }
    }

    fn missing(u: CertType, missing: String) -> NamesError {
        NamesError::MissingName {
            cert_type: u,
            missing,
        }
    }

    /// The names (with their sources) `name` stands for, for use `u`.
    fn resolve(&self, name: Name, u: CertType) -> Result<Vec<(String, String)>, NamesError> {
        let pool = self.c.pool;
        let one = |n: &str, src: String| Ok(vec![(n.to_string(), src)]);
        let edge = pool.edge.as_ref();
        let access_port = edge
            .and_then(|e| e.access_edge_port.as_deref())
            .unwrap_or("AccessEdge");
        match name {
            AccessEdge => {
                let access = edge
                    .and_then(|e| e.access_edge_fqdn.as_deref())
                    .ok_or_else(|| {
                        Self::missing(
                            u,
                            format!(
                            "the EdgeServer service on pool {} has no external AccessEdge port \
                             with a ConfiguredFqdn attribute",
                            pool.fqdn
                        ),
                        )
                    })?;
                one(
                    access,
                    format!("Access Edge external FQDN (EdgeServer port {access_port})"),
                )
            }
            DataEdge => {
                let data = edge
                    .and_then(|e| e.data_edge_fqdn.as_deref())
                    .ok_or_else(|| {
                        Self::missing(
                            u,
                            format!(
                                "the EdgeServer service on pool {} has no external DataEdge port \
                             (Usage PsomClient) with a ConfiguredFqdn attribute",
                                pool.fqdn
                            ),
                        )
                    })?;
                one(
                    data,
                    "Web Conferencing Edge external FQDN (EdgeServer port DataEdge/PsomClient)"
                        .to_string(),
                )
            }
            EdgePool => one(
                &pool.fqdn,
                "Edge pool internal FQDN (Cluster Fqdn)".to_string(),
            ),
            Pool => one(&pool.fqdn, "pool FQDN (Cluster Fqdn)".to_string()),
            Machine => one(
                self.c.machine,
                "this computer's FQDN (Machine Fqdn)".to_string(),
            ),
            MachineNoRule => one(
                self.c.machine,
                format!("this computer's FQDN (no topology rule for {u})"),
            ),
            WebInternal => {
                let internal = pool.web_internal_fqdn.as_deref().ok_or_else(|| {
                    Self::missing(u, format!("pool {} runs no WebServices service", pool.fqdn))
                })?;
                one(
                    internal,
                    "internal web services FQDN (the pool FQDN)".to_string(),
                )
            }
            WebExternal => {
                let external = pool.web_external_fqdn.as_deref().ok_or_else(|| {
                    Self::missing(
                        u,
                        format!(
                            "the WebServices service on pool {} has no WebService/ExternalSettings \
                             element with a Host attribute",
                            pool.fqdn
                        ),
                    )
                })?;
                one(
                    external,
                    "external web services FQDN (WebService ExternalSettings Host)".to_string(),
                )
            }
            DefaultSipDomain => one(
                &self.topo.default_sip_domain,
                "default SIP domain (InternalDomains DefaultDomain)".to_string(),
            ),
            SipDomains => Ok(self
                .domains
                .iter()
                .map(|d| {
                    (
                        format!("sip.{d}"),
                        format!("sip.<{}>", self.domain_label(d)),
                    )
                })
                .collect()),
            XmppDomains => Ok(match edge.and_then(|e| e.xmpp_evidence.as_deref()) {
                // The XMPP domains are the SIP domains themselves, at root level
                // (docs/reference/certificates.md, "Names per use").
                Some(evidence) => self
                    .domains
                    .iter()
                    .map(|d| {
                        (
                            d.to_string(),
                            format!("XMPP federation domain ({evidence})"),
                        )
                    })
                    .collect(),
                None => Vec::new(),
            }),
            SimpleUrls => Ok(self
                .topo
                .simple_urls
                .iter()
                .filter(|s| {
                    s.domain == "*"
                        || self
                            .domains
                            .iter()
                            .any(|d| d.eq_ignore_ascii_case(&s.domain))
                })
                .map(|s| {
                    (
                        s.host.clone(),
                        format!(
                            "simple URL {} for {} ({})",
                            s.component, s.domain, s.active_url
                        ),
                    )
                })
                .collect()),
            Discover(prefix) => Ok(self
                .domains
                .iter()
                .map(|d| {
                    (
                        format!("{prefix}.{d}"),
                        format!("{prefix}.<{}> (Lync Autodiscover)", self.domain_label(d)),
                    )
                })
                .collect()),
        }
    }
}

/// Computes the subject and SANs for `uses` on `computer` (a machine FQDN, short name or
/// single-machine pool FQDN). `all_sip_domain` is `-AllSipDomain`; `extra` holds the
/// `-DomainName` entries (comma-separated lists are split; each entry is kept as given).
pub fn compute_names(
    topo: &Topology,
    computer: &str,
    uses: &[CertType],
    all_sip_domain: bool,
    extra: &[String],
) -> Result<ComputedNames, NamesError> {
    if uses.is_empty() {
        return Err(NamesError::NoUses);
    }
    let c = topo.resolve_computer(computer)?;
    for &u in uses {
        check_use(u, c)?;
    }
    let names = Names {
        topo,
        c,
        domains: if all_sip_domain {
            topo.sip_domains.iter().map(String::as_str).collect()
        } else {
            vec![topo.default_sip_domain.as_str()]
        },
    };

    // The first use of each row, in the order given.
    let mut groups: Vec<(Group, CertType)> = Vec::new();
    for &u in uses {
        if !groups.iter().any(|(g, _)| *g == group(u)) {
            groups.push((group(u), u));
        }
    }

    let mut b = Builder::default();
    let mut xmpp_domains: Vec<String> = Vec::new();
    let mut sip_domains: Vec<String> = Vec::new();
    let mut access_edge_fqdn = None;
    for &(g, u) in &groups {
        for &part in parts(g, c.pool.kind) {
            let (Subject(name) | San(name)) = part;
            if name == SimpleUrls && !topo.has_simple_url_configuration {
                b.note(
                    "the topology document has no SimpleUrlConfiguration (a published topology \
                     does not carry simple URLs): no meet, dialin or admin name was added; give \
                     them with -DomainName"
                        .to_string(),
                );
            }
            let found = names.resolve(name, u)?;
            if name == AccessEdge && access_edge_fqdn.is_none() {
                access_edge_fqdn = found.first().map(|(n, _)| n.clone());
            }
            for (n, source) in found {
                match part {
                    Subject(_) => b.subject(&n, || source),
                    San(_) => b.san(&n, || source),
                }
            }
            let domains = names.domains.iter().map(|d| d.to_string());
            let federates = c
                .pool
                .edge
                .as_ref()
                .is_some_and(|e| e.xmpp_evidence.is_some());
            match name {
                SipDomains => add_once(&mut sip_domains, domains),
                XmppDomains if federates => add_once(&mut xmpp_domains, domains),
                _ => {}
            }
        }
    }

    let edge_use = groups
        .iter()
        .find(|(g, _)| *g == Group::EdgeExternal)
        .map(|(_, u)| *u);
    for name in extra.iter().flat_map(|e| e.split(',')).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        if let (Some(cert_type), true) = (edge_use, name.contains('*')) {
            return Err(NamesError::WildcardNotAllowed {
                cert_type,
                name: name.to_string(),
            });
        }
        b.san(name, || "-DomainName".to_string());
    }

    Ok(ComputedNames {
        computer: c.machine.to_string(),
        pool: c.pool.fqdn.clone(),
        // Every group sets a subject and `uses` is not empty.
        subject: b.subject.unwrap_or_default(),
        sans: b.sans,
        sources: b.sources,
        xmpp_domains,
        sip_domains,
        access_edge_fqdn,
        notes: b.notes,
    })
}

/// Appends the names `list` does not hold yet (case-insensitively).
fn add_once(list: &mut Vec<String>, names: impl Iterator<Item = String>) {
    for n in names {
        if !list.iter().any(|s| s.eq_ignore_ascii_case(&n)) {
            list.push(n);
        }
    }
}
