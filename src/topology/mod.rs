//! The Lync topology: reads published (`Topology.2008`) and Topology Builder (`.tbxml`) documents,
//! resolves computers, summarises the deployment and computes the certificate names per use.

mod error;
mod fqdns;
mod names;
mod parse;
#[cfg(test)]
mod tests;

pub use error::{NamesError, TopologyError};
pub use names::{compute_names, ComputedNames, NameRole, NameSource};
pub use parse::parse;

use serde::Serialize;

/// Which of the two document forms a `Topology` was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyForm {
    /// `Get-CsTopology -AsXml` / `Publish-CsTopology -FileName`: root `Topology`.
    Published,
    /// Topology Builder `.tbxml`: root `TopologyBuilder`, content in `NewTopology/PartialTopology`.
    TopologyBuilder,
}

/// A parsed topology document. Built once by [`parse`]; every lookup works on this value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub form: TopologyForm,
    /// `InternalDomains/@DefaultDomain`, the primary SIP domain.
    pub default_sip_domain: String,
    /// Every SIP domain, the default first, then document order.
    pub sip_domains: Vec<String>,
    pub sites: Vec<Site>,
    /// One per `Cluster`, in document order.
    pub pools: Vec<Pool>,
    pub simple_urls: Vec<SimpleUrl>,
    /// Whether the document has a `SimpleUrlConfiguration` at all. Published topologies do not
    /// carry one (simple URLs live in the Central Management Store), which is not the same as a
    /// configuration that lists no URL.
    pub has_simple_url_configuration: bool,
}

/// A central site (`CentralSite/@SiteId`, `Name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: String,
    pub name: Option<String>,
}

/// What a pool is, derived from the roles (services) installed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PoolKind {
    FrontEnd,
    Director,
    Edge,
    Mediation,
    PstnGateway,
    OfficeWebApps,
    FileStore,
    SqlStore,
    Other,
}

impl PoolKind {
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::FrontEnd => "FrontEnd",
            PoolKind::Director => "Director",
            PoolKind::Edge => "Edge",
            PoolKind::Mediation => "Mediation",
            PoolKind::PstnGateway => "PstnGateway",
            PoolKind::OfficeWebApps => "OfficeWebApps",
            PoolKind::FileStore => "FileStore",
            PoolKind::SqlStore => "SqlStore",
            PoolKind::Other => "Other",
        }
    }

    /// The phrase the "does not need a certificate" message uses: "... is an Edge Server."
    pub fn role_phrase(self) -> &'static str {
        match self {
            PoolKind::FrontEnd => "a Front End Server",
            PoolKind::Director => "a Director",
            PoolKind::Edge => "an Edge Server",
            PoolKind::Mediation => "a Mediation Server",
            PoolKind::PstnGateway => "a PSTN gateway",
            PoolKind::OfficeWebApps => "an Office Web Apps Server",
            PoolKind::FileStore => "a file store",
            PoolKind::SqlStore => "a SQL Server store",
            PoolKind::Other => "not a server that holds Lync certificates",
        }
    }

    /// Classifies by the most certificate-relevant role present (an Edge never shares a
    /// cluster with other roles; a Standard Edition server also hosts stores and Mediation).
    pub fn from_roles(roles: &[String], is_director: bool) -> PoolKind {
        let has = |r: &str| roles.iter().any(|x| x.eq_ignore_ascii_case(r));
        if has("EdgeServer") {
            PoolKind::Edge
        } else if has("Registrar") && is_director {
            PoolKind::Director
        } else if has("UserServices") || has("Registrar") {
            PoolKind::FrontEnd
        } else if has("MediationServer") {
            PoolKind::Mediation
        } else if has("PstnGateway") {
            PoolKind::PstnGateway
        } else if has("WacService") {
            PoolKind::OfficeWebApps
        } else if has("FileStore") {
            PoolKind::FileStore
        } else if roles.iter().any(|r| r.ends_with("Store")) {
            PoolKind::SqlStore
        } else {
            PoolKind::Other
        }
    }
}

/// A `Cluster`: a pool (or a single server) with its machines and the roles installed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// `Cluster/@Fqdn`; for an Edge pool this is the internal FQDN.
    pub fqdn: String,
    pub site_id: String,
    /// `Machine/@Fqdn` of each member, document order.
    pub machines: Vec<String>,
    /// `RoleName` of each service installed on the pool, document order, no duplicates.
    pub roles: Vec<String>,
    pub kind: PoolKind,
    /// `RegistrarService/@IsDirector`.
    pub is_director: bool,
    /// The internal web services FQDN: the pool FQDN when the pool runs WebServices.
    pub web_internal_fqdn: Option<String>,
    /// `WebService/ExternalSettings/@Host`.
    pub web_external_fqdn: Option<String>,
    /// The Registrar runs the XMPP federation gateway (`Port Owner="urn:component:XmppFederation"`).
    pub xmpp_gateway: bool,
    pub edge: Option<EdgeInfo>,
}

/// What the EdgeServer service on an Edge pool says about its external side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeInfo {
    /// `ConfiguredFqdn` of the external AccessEdge port.
    pub access_edge_fqdn: Option<String>,
    /// Which port gave it, e.g. `AccessEdge/SipClient`.
    pub access_edge_port: Option<String>,
    /// `ConfiguredFqdn` of the external DataEdge (Web Conferencing) `PsomClient` port.
    pub data_edge_fqdn: Option<String>,
    /// `ConfiguredFqdn` of the external MediaRelayEdge (A/V) port.
    pub av_edge_fqdn: Option<String>,
    /// The Edge runs the XMPP federation proxy (see `xmpp_evidence`).
    pub xmpp_enabled: bool,
    /// Why `xmpp_enabled` is true, for verbose output.
    pub xmpp_evidence: Option<String>,
    /// Front End / Director pools associated with this Edge: the Edge's own next hop (its
    /// dependency on a Registrar) and every pool whose Registrar depends on this EdgeServer.
    pub next_hop_pools: Vec<String>,
}

/// One `SimpleUrl` of the `SimpleUrlConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleUrl {
    /// `Meet`, `Dialin` or `Cscp` (the admin URL).
    pub component: String,
    /// A SIP domain, or `*` for every domain.
    pub domain: String,
    pub active_url: String,
    /// The host part of `active_url`.
    pub host: String,
}

/// A computer of the topology: one machine and the pool it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputerRef<'a> {
    pub machine: &'a str,
    pub pool: &'a Pool,
}

/// `Get-CsTopology`-style overview, serialised with Lync-style property names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopologySummary {
    pub sip_domains: Vec<String>,
    pub default_sip_domain: String,
    pub pools: Vec<PoolSummary>,
    pub edge_external_fqdns: Vec<EdgeSummary>,
    pub xmpp_federation_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolSummary {
    pub fqdn: String,
    /// `PoolKind::name()`.
    pub role: String,
    /// The site's name, or its id when the document gives no name.
    pub site: String,
    pub machines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EdgeSummary {
    pub pool: String,
    pub access_edge: Option<String>,
    pub data_edge: Option<String>,
    pub audio_video_edge: Option<String>,
}

/// The first DNS label, for short-name matching (compared case-insensitively).
fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

impl Topology {
    /// Resolves a full or short computer name (case-insensitive) against machines and pool FQDNs.
    /// `None` when unknown or ambiguous; [`Topology::resolve_computer`] says which.
    pub fn find_computer(&self, name: &str) -> Option<ComputerRef<'_>> {
        self.resolve_computer(name).ok()
    }

    /// Like [`Topology::find_computer`], with the reason on failure. Order: machine FQDN, pool
    /// FQDN, then (for a name without a dot) the first label of machines, then of pools.
    pub fn resolve_computer(&self, name: &str) -> Result<ComputerRef<'_>, NamesError> {
        let wanted = name.trim().trim_end_matches('.');
        let unknown = || NamesError::UnknownComputer {
            name: name.trim().to_string(),
        };
        if wanted.is_empty() {
            return Err(unknown());
        }
        let machines = || {
            self.pools
                .iter()
                .flat_map(|p| p.machines.iter().map(move |m| (m.as_str(), p)))
        };
        if let Some((machine, pool)) = machines().find(|(m, _)| m.eq_ignore_ascii_case(wanted)) {
            return Ok(ComputerRef { machine, pool });
        }
        if let Some(pool) = self
            .pools
            .iter()
            .find(|p| p.fqdn.eq_ignore_ascii_case(wanted))
        {
            return self.pool_member(wanted, pool);
        }
        if wanted.contains('.') {
            return Err(unknown());
        }
        let by_label: Vec<_> = machines()
            .filter(|(m, _)| first_label(m).eq_ignore_ascii_case(wanted))
            .collect();
        match by_label.as_slice() {
            [(machine, pool)] => return Ok(ComputerRef { machine, pool }),
            [] => {}
            many => {
                return Err(NamesError::AmbiguousComputer {
                    name: wanted.to_string(),
                    candidates: many.iter().map(|(m, _)| m.to_string()).collect(),
                })
            }
        }
        let pools: Vec<&Pool> = self
            .pools
            .iter()
            .filter(|p| first_label(&p.fqdn).eq_ignore_ascii_case(wanted))
            .collect();
        match pools.as_slice() {
            [pool] => self.pool_member(wanted, pool),
            [] => Err(unknown()),
            many => Err(NamesError::AmbiguousComputer {
                name: wanted.to_string(),
                candidates: many.iter().map(|p| p.fqdn.clone()).collect(),
            }),
        }
    }

    /// A pool name stands for a computer only when it cannot mean two machines.
    fn pool_member<'a>(&self, wanted: &str, pool: &'a Pool) -> Result<ComputerRef<'a>, NamesError> {
        match pool.machines.as_slice() {
            [only] => Ok(ComputerRef {
                machine: only,
                pool,
            }),
            [] => Err(NamesError::UnknownComputer {
                name: wanted.to_string(),
            }),
            many => Err(NamesError::AmbiguousComputer {
                name: wanted.to_string(),
                candidates: many.to_vec(),
            }),
        }
    }

    /// The pool with this FQDN (case-insensitive).
    pub fn pool(&self, fqdn: &str) -> Option<&Pool> {
        self.pools
            .iter()
            .find(|p| p.fqdn.eq_ignore_ascii_case(fqdn))
    }

    pub fn summary(&self) -> TopologySummary {
        let site_name = |id: &str| {
            self.sites
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        TopologySummary {
            sip_domains: self.sip_domains.clone(),
            default_sip_domain: self.default_sip_domain.clone(),
            pools: self
                .pools
                .iter()
                .map(|p| PoolSummary {
                    fqdn: p.fqdn.clone(),
                    role: p.kind.name().to_string(),
                    site: site_name(&p.site_id),
                    machines: p.machines.clone(),
                })
                .collect(),
            edge_external_fqdns: self
                .pools
                .iter()
                .filter_map(|p| {
                    p.edge.as_ref().map(|e| EdgeSummary {
                        pool: p.fqdn.clone(),
                        access_edge: e.access_edge_fqdn.clone(),
                        data_edge: e.data_edge_fqdn.clone(),
                        audio_video_edge: e.av_edge_fqdn.clone(),
                    })
                })
                .collect(),
            xmpp_federation_enabled: self
                .pools
                .iter()
                .any(|p| p.edge.as_ref().is_some_and(|e| e.xmpp_enabled)),
        }
    }
}
