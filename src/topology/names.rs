//! The names a certificate needs for a computer and a set of uses, computed from the topology
//! by the table in docs/reference/certificates.md, "Names per use", with the origin of every name.

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
    let pool = c.pool;
    let domains: Vec<&str> = if all_sip_domain {
        topo.sip_domains.iter().map(String::as_str).collect()
    } else {
        vec![topo.default_sip_domain.as_str()]
    };
    let domain_label = |d: &str| {
        if d.eq_ignore_ascii_case(&topo.default_sip_domain) {
            "default SIP domain".to_string()
        } else {
            format!("SIP domain {d}, -AllSipDomain")
        }
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
    let add_sip = |b: &mut Builder, sip_domains: &mut Vec<String>| {
        for d in &domains {
            b.san(&format!("sip.{d}"), || format!("sip.<{}>", domain_label(d)));
            if !sip_domains.iter().any(|s| s.eq_ignore_ascii_case(d)) {
                sip_domains.push(d.to_string());
            }
        }
    };
    let add_simple_urls = |b: &mut Builder| {
        if !topo.has_simple_url_configuration {
            b.note(
                "the topology document has no SimpleUrlConfiguration (a published topology \
                 does not carry simple URLs): no meet, dialin or admin name was added; give \
                 them with -DomainName"
                    .to_string(),
            );
        }
        for u in topo.simple_urls.iter().filter(|u| {
            u.domain == "*" || domains.iter().any(|d| d.eq_ignore_ascii_case(&u.domain))
        }) {
            b.san(&u.host, || {
                format!(
                    "simple URL {} for {} ({})",
                    u.component, u.domain, u.active_url
                )
            });
        }
    };
    let add_discover = |b: &mut Builder, prefix: &str| {
        for d in &domains {
            b.san(&format!("{prefix}.{d}"), || {
                format!("{prefix}.<{}> (Lync Autodiscover)", domain_label(d))
            });
        }
    };
    let pool_source = || "pool FQDN (Cluster Fqdn)".to_string();

    for &(g, u) in &groups {
        match g {
            Group::EdgeExternal => {
                // check_use admitted only Edge pools here, which always have EdgeInfo.
                let Some(edge) = pool.edge.as_ref() else {
                    continue;
                };
                let access =
                    edge.access_edge_fqdn
                        .as_deref()
                        .ok_or_else(|| NamesError::MissingName {
                            cert_type: u,
                            missing: format!(
                            "the EdgeServer service on pool {} has no external AccessEdge port \
                             with a ConfiguredFqdn attribute",
                            pool.fqdn
                        ),
                        })?;
                let data =
                    edge.data_edge_fqdn
                        .as_deref()
                        .ok_or_else(|| NamesError::MissingName {
                            cert_type: u,
                            missing: format!(
                                "the EdgeServer service on pool {} has no external DataEdge port \
                             (Usage PsomClient) with a ConfiguredFqdn attribute",
                                pool.fqdn
                            ),
                        })?;
                let port = edge.access_edge_port.as_deref().unwrap_or("AccessEdge");
                let access_source =
                    || format!("Access Edge external FQDN (EdgeServer port {port})");
                access_edge_fqdn = Some(access.to_string());
                b.subject(access, access_source);
                // The documented order (Lync "Certificate summary - XMPP federation": webcon,
                // sip, sip.<other domain>, the XMPP domain): Web Conferencing Edge FQDN, Access
                // Edge FQDN, the other sip.<domain> names, then the XMPP domains.
                b.san(data, || {
                    "Web Conferencing Edge external FQDN (EdgeServer port DataEdge/PsomClient)"
                        .to_string()
                });
                b.san(access, access_source);
                add_sip(&mut b, &mut sip_domains);
                if let Some(evidence) = edge.xmpp_evidence.as_deref() {
                    // docs/reference/certificates.md, "Names per use": the XMPP domains are the SIP
                    // domains themselves, root level.
                    for d in &domains {
                        b.san(d, || format!("XMPP federation domain ({evidence})"));
                        if !xmpp_domains.iter().any(|x| x.eq_ignore_ascii_case(d)) {
                            xmpp_domains.push(d.to_string());
                        }
                    }
                }
            }
            Group::EdgeInternal => {
                let source = || "Edge pool internal FQDN (Cluster Fqdn)".to_string();
                b.subject(&pool.fqdn, source);
                b.san(&pool.fqdn, source);
            }
            Group::Default => {
                b.subject(&pool.fqdn, pool_source);
                b.san(&pool.fqdn, pool_source);
                b.san(c.machine, || {
                    "this computer's FQDN (Machine Fqdn)".to_string()
                });
                // A standalone Mediation pool needs only its own names.
                if pool.kind != PoolKind::Mediation {
                    add_sip(&mut b, &mut sip_domains);
                    add_simple_urls(&mut b);
                    add_discover(&mut b, "lyncdiscoverinternal");
                }
            }
            Group::WebInternal => {
                let internal =
                    pool.web_internal_fqdn
                        .as_deref()
                        .ok_or_else(|| NamesError::MissingName {
                            cert_type: u,
                            missing: format!("pool {} runs no WebServices service", pool.fqdn),
                        })?;
                b.subject(&pool.fqdn, pool_source);
                b.san(&pool.fqdn, pool_source);
                b.san(internal, || {
                    "internal web services FQDN (the pool FQDN)".to_string()
                });
                add_simple_urls(&mut b);
                add_discover(&mut b, "lyncdiscoverinternal");
            }
            Group::WebExternal => {
                let external =
                    pool.web_external_fqdn
                        .as_deref()
                        .ok_or_else(|| NamesError::MissingName {
                            cert_type: u,
                            missing: format!(
                            "the WebServices service on pool {} has no WebService/ExternalSettings \
                             element with a Host attribute",
                            pool.fqdn
                        ),
                        })?;
                // The subject is always a SAN too: RFC 9525 clients read only SANs.
                b.subject(&pool.fqdn, pool_source);
                b.san(&pool.fqdn, pool_source);
                b.san(external, || {
                    "external web services FQDN (WebService ExternalSettings Host)".to_string()
                });
                add_simple_urls(&mut b);
                add_discover(&mut b, "lyncdiscover");
            }
            Group::OAuth => {
                b.subject(&topo.default_sip_domain, || {
                    "default SIP domain (InternalDomains DefaultDomain)".to_string()
                });
            }
            Group::Generic => {
                let source = || format!("this computer's FQDN (no topology rule for {u})");
                b.subject(c.machine, source);
                b.san(c.machine, source);
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
        pool: pool.fqdn.clone(),
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
