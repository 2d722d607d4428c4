//! Reads both topology document forms into one `Topology`, matching elements by namespace and
//! local name (namespaces may be declared on any element) and resolving the IDs that link them.

use super::{EdgeInfo, Pool, PoolKind, SimpleUrl, Site, Topology, TopologyError, TopologyForm};
use roxmltree::{Document, Node};
use std::collections::HashMap;

const NS_TOPOLOGY: &str = "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008";
const NS_WRITABLE: &str = "urn:schema:Microsoft.Rtc.Management.Deploy.WritableTopology.2008";
const NS_BUILDER: &str = "urn:schema:Microsoft.Rtc.Management.Deploy.TopologyBuilder.2008";
const NS_ROLES: &str = "urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008";
const NS_SIMPLE_URL: &str = "urn:schema:Microsoft.Rtc.Management.Settings.SimpleUrl.2008";

/// Structural elements are in the Topology namespace in the published form; a .tbxml mixes
/// WritableTopology (clusters, services) with Topology (InternalDomains, NetInterface, Name).
const TOPO: &[&str] = &[NS_TOPOLOGY, NS_WRITABLE];
const ROLES: &[&str] = &[NS_ROLES];
const BUILDER: &[&str] = &[NS_BUILDER];
const WRITABLE: &[&str] = &[NS_WRITABLE];
const SIMPLE_URL: &[&str] = &[NS_SIMPLE_URL];

type Result<T> = std::result::Result<T, TopologyError>;

fn is_el(node: Node, nss: &[&str], local: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == local
        && node
            .tag_name()
            .namespace()
            .is_some_and(|ns| nss.contains(&ns))
}

fn kids<'a, 'i>(
    node: Node<'a, 'i>,
    nss: &'static [&'static str],
    local: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| is_el(*c, nss, local))
}

fn kid<'a, 'i>(
    node: Node<'a, 'i>,
    nss: &'static [&'static str],
    local: &'static str,
) -> Option<Node<'a, 'i>> {
    kids(node, nss, local).next()
}

fn need_kid<'a, 'i>(
    node: Node<'a, 'i>,
    nss: &'static [&'static str],
    local: &'static str,
    parent: impl FnOnce() -> String,
) -> Result<Node<'a, 'i>> {
    kid(node, nss, local).ok_or_else(|| TopologyError::MissingElement {
        element: local,
        parent: parent(),
    })
}

/// An attribute's trimmed value; empty counts as absent (Topology Builder writes empty names).
fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attribute(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn need_attr<'a>(
    node: Node<'a, '_>,
    name: &'static str,
    element: impl FnOnce() -> String,
) -> Result<&'a str> {
    attr(node, name).ok_or_else(|| TopologyError::MissingAttribute {
        element: element(),
        attribute: name,
    })
}

fn expanded_name(node: Node) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_string(),
    }
}

struct RawCluster {
    fqdn: String,
    site_id: String,
    machines: Vec<String>,
    desc: String,
}

struct RawPort {
    owner: String,
    usage: String,
    side: String,
    fqdn: Option<String>,
}

struct RawService {
    key: String,
    role: String,
    cluster: usize,
    depends_on: Vec<String>,
    ports: Vec<RawPort>,
    web_external_host: Option<String>,
    is_director: bool,
    desc: String,
}

#[derive(Default)]
struct Raw {
    sites: Vec<Site>,
    clusters: Vec<RawCluster>,
    /// Cluster key (published `SiteId:Number`, .tbxml `UniqueId`, SQL instance `UniqueId`) -> index.
    cluster_index: HashMap<String, usize>,
    services: Vec<RawService>,
}

impl Raw {
    fn add_cluster(&mut self, key: String, cluster: RawCluster) -> Result<()> {
        if let Some(&i) = self.cluster_index.get(&key) {
            return Err(TopologyError::Duplicate {
                what: format!("cluster {key}"),
                first: self.clusters[i].desc.clone(),
                second: cluster.desc,
            });
        }
        self.cluster_index.insert(key, self.clusters.len());
        self.clusters.push(cluster);
        Ok(())
    }
}

/// Maps a syntax error to line and column. roxmltree places an unclosed root at the root's
/// start; for a truncated file the end of the input is the useful place to point at.
fn xml_error(xml: &str, e: roxmltree::Error) -> TopologyError {
    if let roxmltree::Error::NodesLimitReached = e {
        return TopologyError::TooManyNodes { limit: MAX_NODES };
    }
    if let roxmltree::Error::UnclosedRootNode = e {
        let line = xml.matches('\n').count() + 1;
        let last = xml.rsplit('\n').next().unwrap_or_default();
        return TopologyError::Xml {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX),
            message: "the document ends before its root element is closed (truncated?)".into(),
        };
    }
    let pos = e.pos();
    let text = e.to_string();
    // roxmltree appends " at row:col"; the position is reported separately.
    let message = text
        .strip_suffix(&format!(" at {pos}"))
        .unwrap_or(&text)
        .to_string();
    TopologyError::Xml {
        line: pos.row,
        column: pos.col,
        message,
    }
}

/// The most XML nodes (elements, attributes' owners, text runs) a document may have. A real
/// topology has a few thousand elements; the parser keeps every node in memory, so a hostile
/// document of millions of empty elements is refused as soon as it passes this many.
pub const MAX_NODES: u32 = 200_000;

/// The most attributes one element may carry. Lync's elements have a dozen at most; the XML
/// parser checks duplicates pairwise (quadratic), so a hostile element with 200,000 attributes
/// would never finish.
pub const MAX_ATTRIBUTES: usize = 256;

/// One linear pass over the start tags: refuses an element with more than [`MAX_ATTRIBUTES`]
/// attributes. Anything it does not understand is left to the XML parser to report.
fn check_attribute_counts(xml: &str) -> Result<()> {
    let b = xml.as_bytes();
    let find = |from: usize, pat: &[u8]| -> Option<usize> {
        b.get(from..)?
            .windows(pat.len())
            .position(|w| w == pat)
            .map(|p| from + p)
    };
    let mut i = 0;
    while let Some(lt) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        let start = i + lt;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            let Some(e) = find(start + 4, b"-->") else {
                return Ok(());
            };
            i = e + 3;
        } else if rest.starts_with(b"<![CDATA[") {
            let Some(e) = find(start + 9, b"]]>") else {
                return Ok(());
            };
            i = e + 3;
        } else if rest.starts_with(b"<?") {
            let Some(e) = find(start + 2, b"?>") else {
                return Ok(());
            };
            i = e + 2;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"</") {
            let Some(e) = find(start + 2, b">") else {
                return Ok(());
            };
            i = e + 1;
        } else {
            // A start tag: name, then name="value" pairs, quotes honoured.
            let mut j = start + 1;
            let mut count = 0usize;
            loop {
                while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' && b[j] != b'/' {
                    j += 1;
                }
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                match b.get(j) {
                    None => return Ok(()),
                    Some(b'>') => break,
                    Some(b'/') => {
                        j += 1;
                        continue;
                    }
                    _ => {}
                }
                // An attribute: up to '=', then a quoted value.
                let Some(eq) = b[j..].iter().position(|&c| c == b'=' || c == b'>') else {
                    return Ok(());
                };
                j += eq;
                if b[j] != b'=' {
                    return Ok(());
                }
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                let Some(&q) = b.get(j).filter(|&&c| c == b'"' || c == b'\'') else {
                    return Ok(());
                };
                let Some(close) = b[j + 1..].iter().position(|&c| c == q) else {
                    return Ok(());
                };
                j += 1 + close + 1;
                count += 1;
                if count > MAX_ATTRIBUTES {
                    let line = b[..start].iter().filter(|&&c| c == b'\n').count() + 1;
                    let column = start
                        - b[..start]
                            .iter()
                            .rposition(|&c| c == b'\n')
                            .map_or(0, |p| p + 1)
                        + 1;
                    return Err(TopologyError::Xml {
                        line: u32::try_from(line).unwrap_or(u32::MAX),
                        column: u32::try_from(column).unwrap_or(u32::MAX),
                        message: format!("an element with more than {MAX_ATTRIBUTES} attributes; a topology element has a few dozen at most"),
                    });
                }
            }
            i = j + 1;
        }
    }
    Ok(())
}

/// Parses a published topology or a Topology Builder document (UTF-8, optional BOM).
pub fn parse(xml: &str) -> Result<Topology> {
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    check_attribute_counts(xml)?;
    let options = roxmltree::ParsingOptions {
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    let doc = Document::parse_with_options(xml, options).map_err(|e| xml_error(xml, e))?;
    let root = doc.root_element();
    if is_el(root, &[NS_TOPOLOGY], "Topology") {
        let raw = read_published(root)?;
        let t = assemble(TopologyForm::Published, root, "Topology", raw)?;
        super::fqdns::check(&t)?;
        Ok(t)
    } else if is_el(root, BUILDER, "TopologyBuilder") {
        let new = need_kid(root, BUILDER, "NewTopology", || "TopologyBuilder".into())?;
        let partial = need_kid(new, WRITABLE, "PartialTopology", || "NewTopology".into())?;
        let raw = read_builder(partial)?;
        let t = assemble(
            TopologyForm::TopologyBuilder,
            partial,
            "PartialTopology",
            raw,
        )?;
        super::fqdns::check(&t)?;
        Ok(t)
    } else {
        Err(TopologyError::NotTopology {
            root: expanded_name(root),
        })
    }
}

/// Members of a cluster. Topology Builder writes `<Machine />` for a single-machine cluster,
/// whose machine then has the cluster's FQDN.
fn read_machines<'a, 'i: 'a>(
    machines: impl Iterator<Item = Node<'a, 'i>>,
    cluster_fqdn: &str,
    desc: &str,
) -> Result<Vec<String>> {
    let machines: Vec<Node<'a, 'i>> = machines.collect();
    let single = machines.len() == 1;
    machines
        .iter()
        .map(|m| match attr(*m, "Fqdn") {
            Some(f) => Ok(f.to_string()),
            None if single => Ok(cluster_fqdn.to_string()),
            None => Err(TopologyError::MissingAttribute {
                element: format!("a Machine of {desc}"),
                attribute: "Fqdn",
            }),
        })
        .collect()
}

/// The parts of a `Service` that are the same in both forms.
fn read_service_body(service: Node) -> (Vec<RawPort>, Option<String>, bool) {
    let ports = kid(service, ROLES, "Ports")
        .map(|ports| {
            kids(ports, ROLES, "Port")
                .map(|p| RawPort {
                    owner: attr(p, "Owner").unwrap_or_default().to_string(),
                    usage: attr(p, "Usage").unwrap_or_default().to_string(),
                    side: attr(p, "InterfaceSide").unwrap_or_default().to_string(),
                    fqdn: attr(p, "ConfiguredFqdn").map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default();
    let web_external_host = kid(service, ROLES, "WebService")
        .and_then(|w| kid(w, ROLES, "ExternalSettings"))
        .and_then(|e| attr(e, "Host"))
        .map(str::to_string);
    let is_director = kid(service, ROLES, "RegistrarService")
        .and_then(|r| attr(r, "IsDirector"))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    (ports, web_external_host, is_director)
}

fn read_site(site: Node) -> Result<Site> {
    let id = need_attr(site, "SiteId", || site.tag_name().name().to_string())?;
    let name = kid(site, TOPO, "Name")
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Ok(Site {
        id: id.to_string(),
        name,
    })
}

/// Published form: `Sites`, `Clusters/Cluster` keyed by `ClusterId`, `Services/Service` keyed by
/// `ServiceId`, with `InstalledOn` and `Dependency` pointing by those keys.
fn read_published(root: Node) -> Result<Raw> {
    let mut raw = Raw::default();
    if let Some(sites) = kid(root, TOPO, "Sites") {
        for site in sites
            .children()
            .filter(|s| is_el(*s, TOPO, "CentralSite") || is_el(*s, TOPO, "BranchSite"))
        {
            raw.sites.push(read_site(site)?);
        }
    }
    let clusters = need_kid(root, TOPO, "Clusters", || "Topology".into())?;
    for cluster in kids(clusters, TOPO, "Cluster") {
        let named = || match attr(cluster, "Fqdn") {
            Some(f) => format!("Cluster Fqdn=\"{f}\""),
            None => "a Cluster".to_string(),
        };
        let id = need_kid(cluster, TOPO, "ClusterId", named)?;
        let site = need_attr(id, "SiteId", || format!("the ClusterId of {}", named()))?;
        let number = need_attr(id, "Number", || format!("the ClusterId of {}", named()))?;
        let desc = format!("Cluster (ClusterId SiteId=\"{site}\" Number=\"{number}\")");
        let fqdn = need_attr(cluster, "Fqdn", || desc.clone())?;
        let machines = read_machines(kids(cluster, TOPO, "Machine"), fqdn, &desc)?;
        raw.add_cluster(
            format!("{site}:{number}"),
            RawCluster {
                fqdn: fqdn.to_string(),
                site_id: site.to_string(),
                machines,
                desc: format!("Cluster Fqdn=\"{fqdn}\""),
            },
        )?;
    }
    let services = need_kid(root, TOPO, "Services", || "Topology".into())?;
    for service in kids(services, TOPO, "Service") {
        let sid = need_kid(service, TOPO, "ServiceId", || "a Service".into())?;
        let role = need_attr(sid, "RoleName", || "the ServiceId of a Service".into())?;
        let desc = || format!("the ServiceId of Service {role}");
        let site = need_attr(sid, "SiteId", desc)?;
        let instance = need_attr(sid, "Instance", desc)?;
        let desc = format!("Service {role} (SiteId=\"{site}\" Instance=\"{instance}\")");
        let installed = need_kid(service, TOPO, "InstalledOn", || desc.clone())?;
        // Stores are installed on a SQL instance, which names its cluster inside.
        let cluster_id = kid(installed, TOPO, "ClusterId")
            .or_else(|| {
                kid(installed, TOPO, "SqlInstanceId").and_then(|s| kid(s, TOPO, "ClusterId"))
            })
            .ok_or_else(|| TopologyError::MissingElement {
                element: "ClusterId",
                parent: format!("the InstalledOn of {desc}"),
            })?;
        let c_site = need_attr(cluster_id, "SiteId", || {
            format!("the InstalledOn ClusterId of {desc}")
        })?;
        let c_number = need_attr(cluster_id, "Number", || {
            format!("the InstalledOn ClusterId of {desc}")
        })?;
        let cluster = *raw
            .cluster_index
            .get(&format!("{c_site}:{c_number}"))
            .ok_or_else(|| TopologyError::DanglingReference {
                from: desc.clone(),
                to: format!("cluster SiteId=\"{c_site}\" Number=\"{c_number}\""),
            })?;
        let depends_on = kid(service, TOPO, "DependsOn")
            .map(|d| {
                kids(d, TOPO, "Dependency")
                    .filter_map(|dep| kid(dep, TOPO, "ServiceId"))
                    .filter_map(|id| {
                        Some(format!(
                            "{}:{}:{}",
                            attr(id, "SiteId")?,
                            attr(id, "RoleName")?,
                            attr(id, "Instance")?
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (ports, web_external_host, is_director) = read_service_body(service);
        raw.services.push(RawService {
            key: format!("{site}:{role}:{instance}"),
            role: role.to_string(),
            cluster,
            depends_on,
            ports,
            web_external_host,
            is_director,
            desc,
        });
    }
    Ok(raw)
}

/// Topology Builder form: `CentralSites/CentralSite/Clusters/Cluster` keyed by `UniqueId`,
/// `Services/Service` with `RoleName` and `InstalledOn="<UniqueId>"` attributes.
fn read_builder(partial: Node) -> Result<Raw> {
    let mut raw = Raw::default();
    let sites = need_kid(partial, TOPO, "CentralSites", || "PartialTopology".into())?;
    for site_node in kids(sites, TOPO, "CentralSite") {
        let site = read_site(site_node)?;
        let Some(clusters) = kid(site_node, TOPO, "Clusters") else {
            raw.sites.push(site);
            continue;
        };
        for cluster in kids(clusters, TOPO, "Cluster") {
            let named = || match attr(cluster, "Fqdn") {
                Some(f) => format!("Cluster Fqdn=\"{f}\""),
                None => "a Cluster".to_string(),
            };
            let unique = need_attr(cluster, "UniqueId", named)?.to_ascii_lowercase();
            let fqdn = need_attr(cluster, "Fqdn", || format!("Cluster UniqueId=\"{unique}\""))?;
            let desc = format!("Cluster Fqdn=\"{fqdn}\"");
            let machines = match kid(cluster, TOPO, "Machines") {
                Some(m) => read_machines(kids(m, TOPO, "Machine"), fqdn, &desc)?,
                None => Vec::new(),
            };
            let index = raw.clusters.len();
            raw.add_cluster(
                unique,
                RawCluster {
                    fqdn: fqdn.to_string(),
                    site_id: site.id.clone(),
                    machines,
                    desc: desc.clone(),
                },
            )?;
            // Services name a SQL instance's UniqueId in InstalledOn; it stands for its cluster.
            if let Some(sql) = kid(cluster, TOPO, "SqlInstances") {
                for instance in kids(sql, TOPO, "SqlInstance") {
                    if let Some(id) = attr(instance, "UniqueId") {
                        raw.cluster_index
                            .entry(id.to_ascii_lowercase())
                            .or_insert(index);
                    }
                }
            }
        }
        raw.sites.push(site);
    }
    let services = need_kid(partial, TOPO, "Services", || "PartialTopology".into())?;
    for service in kids(services, TOPO, "Service") {
        let role = need_attr(service, "RoleName", || "a Service".into())?;
        let unique =
            need_attr(service, "UniqueId", || format!("Service {role}"))?.to_ascii_lowercase();
        let desc = format!("Service {role} (UniqueId=\"{unique}\")");
        let installed = need_attr(service, "InstalledOn", || desc.clone())?.to_ascii_lowercase();
        let cluster =
            *raw.cluster_index
                .get(&installed)
                .ok_or_else(|| TopologyError::DanglingReference {
                    from: desc.clone(),
                    to: format!("cluster UniqueId=\"{installed}\""),
                })?;
        let depends_on = kid(service, TOPO, "DependsOn")
            .map(|d| {
                kids(d, TOPO, "Dependency")
                    .filter_map(|dep| attr(dep, "ServiceUniqueId"))
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let (ports, web_external_host, is_director) = read_service_body(service);
        raw.services.push(RawService {
            key: unique,
            role: role.to_string(),
            cluster,
            depends_on,
            ports,
            web_external_host,
            is_director,
            desc,
        });
    }
    Ok(raw)
}

/// `InternalDomains`: the default SIP domain first, then the others in document order.
fn read_sip_domains(content: Node, parent: &str) -> Result<(String, Vec<String>)> {
    let domains = need_kid(content, TOPO, "InternalDomains", || parent.to_string())?;
    let default = need_attr(domains, "DefaultDomain", || "InternalDomains".into())?;
    let mut names = Vec::new();
    for d in kids(domains, TOPO, "InternalDomain") {
        names.push(need_attr(d, "Name", || "an InternalDomain".into())?.to_string());
    }
    if !names.iter().any(|n| n.eq_ignore_ascii_case(default)) {
        return Err(TopologyError::InvalidValue {
            element: "InternalDomains".into(),
            attribute: "DefaultDomain",
            value: default.to_string(),
            reason: "it is not the Name of any InternalDomain",
        });
    }
    let mut ordered = vec![default.to_string()];
    ordered.extend(
        names
            .into_iter()
            .filter(|n| !n.eq_ignore_ascii_case(default)),
    );
    Ok((default.to_string(), ordered))
}

/// `s` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    s.get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .map(|_| &s[prefix.len()..])
}

/// The host of an `https://host[:port]/path` URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = strip_prefix_ci(url, "https://").or_else(|| strip_prefix_ci(url, "http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.split(':').next()?;
    (!host.is_empty() && !host.contains(['@', ' ']) && host.contains('.')).then_some(host)
}

fn read_simple_urls(content: Node) -> Result<(bool, Vec<SimpleUrl>)> {
    let Some(config) = content
        .descendants()
        .find(|n| is_el(*n, SIMPLE_URL, "SimpleUrlConfiguration"))
    else {
        return Ok((false, Vec::new()));
    };
    let mut urls = Vec::new();
    for u in kids(config, SIMPLE_URL, "SimpleUrl") {
        let component = need_attr(u, "Component", || "a SimpleUrl".into())?;
        let domain = need_attr(u, "Domain", || {
            format!("SimpleUrl Component=\"{component}\"")
        })?;
        let desc = || format!("SimpleUrl Component=\"{component}\" Domain=\"{domain}\"");
        let active = need_attr(u, "ActiveUrl", desc)?;
        let host = url_host(active).ok_or_else(|| TopologyError::InvalidValue {
            element: desc(),
            attribute: "ActiveUrl",
            value: active.to_string(),
            reason: "it is not an http(s) URL with a host name",
        })?;
        urls.push(SimpleUrl {
            component: component.to_string(),
            domain: domain.to_string(),
            active_url: active.to_string(),
            host: host.to_string(),
        });
    }
    Ok((true, urls))
}

fn external_port_fqdn<'a>(
    ports: &'a [RawPort],
    owner: &str,
    usages: &[&str],
) -> Option<(&'a str, String)> {
    usages.iter().find_map(|usage| {
        ports
            .iter()
            .filter(|p| {
                p.owner.eq_ignore_ascii_case(owner)
                    && p.usage.eq_ignore_ascii_case(usage)
                    && p.side.eq_ignore_ascii_case("External")
            })
            .find_map(|p| p.fqdn.as_deref())
            .map(|f| {
                let short = owner.trim_start_matches("urn:component:");
                (f, format!("{short}/{usage}"))
            })
    })
}

fn assemble(form: TopologyForm, content: Node, content_name: &str, raw: Raw) -> Result<Topology> {
    let (default_sip_domain, sip_domains) = read_sip_domains(content, content_name)?;
    let (has_simple_url_configuration, simple_urls) = read_simple_urls(content)?;

    // One machine belongs to one pool; a second definition would make resolution ambiguous.
    let mut seen_machines: HashMap<String, usize> = HashMap::new();
    let mut seen_pools: HashMap<String, usize> = HashMap::new();
    for (i, c) in raw.clusters.iter().enumerate() {
        if let Some(&j) = seen_pools.get(&c.fqdn.to_ascii_lowercase()) {
            return Err(TopologyError::Duplicate {
                what: format!("pool {}", c.fqdn),
                first: raw.clusters[j].desc.clone(),
                second: format!("another {}", c.desc),
            });
        }
        seen_pools.insert(c.fqdn.to_ascii_lowercase(), i);
        for m in &c.machines {
            if let Some(&j) = seen_machines.get(&m.to_ascii_lowercase()) {
                if j != i {
                    return Err(TopologyError::Duplicate {
                        what: format!("machine {m}"),
                        first: raw.clusters[j].desc.clone(),
                        second: c.desc.clone(),
                    });
                }
            }
            seen_machines.insert(m.to_ascii_lowercase(), i);
        }
    }

    let mut pools: Vec<Pool> = raw
        .clusters
        .iter()
        .map(|c| Pool {
            fqdn: c.fqdn.clone(),
            site_id: c.site_id.clone(),
            machines: c.machines.clone(),
            roles: Vec::new(),
            kind: PoolKind::Other,
            is_director: false,
            web_internal_fqdn: None,
            web_external_fqdn: None,
            xmpp_gateway: false,
            edge: None,
        })
        .collect();

    for s in &raw.services {
        let pool = &mut pools[s.cluster];
        if !pool.roles.iter().any(|r| r.eq_ignore_ascii_case(&s.role)) {
            pool.roles.push(s.role.clone());
        }
        match s.role.as_str() {
            "WebServices" => {
                // docs/reference/topology.md, "Where each name lives": the internal web FQDN is the
                // pool FQDN.
                pool.web_internal_fqdn = Some(pool.fqdn.clone());
                pool.web_external_fqdn = s.web_external_host.clone();
            }
            "Registrar" => {
                pool.is_director |= s.is_director;
                pool.xmpp_gateway |= s
                    .ports
                    .iter()
                    .any(|p| p.owner.eq_ignore_ascii_case("urn:component:XmppFederation"));
            }
            _ => {}
        }
    }
    for pool in &mut pools {
        pool.kind = PoolKind::from_roles(&pool.roles, pool.is_director);
    }

    let by_key: HashMap<&str, &RawService> =
        raw.services.iter().map(|s| (s.key.as_str(), s)).collect();
    for (edge_index, edge) in raw
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == "EdgeServer")
    {
        let mut next_hop_pools: Vec<String> = Vec::new();
        let mut push = |fqdn: &str| {
            if !next_hop_pools.iter().any(|p| p.eq_ignore_ascii_case(fqdn)) {
                next_hop_pools.push(fqdn.to_string());
            }
        };
        // The Edge's own next hop first, then every Registrar that federates through it.
        for dep in &edge.depends_on {
            if let Some(reg) = by_key.get(dep.as_str()).filter(|d| d.role == "Registrar") {
                push(&pools[reg.cluster].fqdn);
            }
        }
        for reg in raw.services.iter().filter(|s| s.role == "Registrar") {
            if reg.depends_on.contains(&edge.key) {
                push(&pools[reg.cluster].fqdn);
            }
        }
        let access = external_port_fqdn(
            &edge.ports,
            "urn:component:AccessEdge",
            &["SipClient", "SipServer"],
        );
        let data = external_port_fqdn(&edge.ports, "urn:component:DataEdge", &["PsomClient"]);
        let av = external_port_fqdn(
            &edge.ports,
            "urn:component:MediaRelayEdge",
            &["TURNServer", "MediaCommunication"],
        );
        let proxy = edge.ports.iter().any(|p| {
            p.owner
                .eq_ignore_ascii_case("urn:component:XmppFederationProxy")
                && p.usage.eq_ignore_ascii_case("XmppServer")
                && p.side.eq_ignore_ascii_case("External")
        });
        // A published topology may omit the proxy port while the associated Front End runs the
        // XMPP gateway, which exists only to federate through this Edge (see the README).
        let gateway_pool = next_hop_pools
            .iter()
            .find(|f| pools.iter().any(|p| p.fqdn == **f && p.xmpp_gateway));
        let xmpp_evidence = if proxy {
            Some("EdgeServer port XmppFederationProxy/XmppServer".to_string())
        } else {
            gateway_pool.map(|f| {
                format!(
                    "XMPP federation gateway (Registrar port XmppFederation) on next-hop pool {f}"
                )
            })
        };
        let info = EdgeInfo {
            access_edge_fqdn: access.as_ref().map(|(f, _)| f.to_string()),
            access_edge_port: access.map(|(_, p)| p),
            data_edge_fqdn: data.map(|(f, _)| f.to_string()),
            av_edge_fqdn: av.map(|(f, _)| f.to_string()),
            xmpp_enabled: xmpp_evidence.is_some(),
            xmpp_evidence,
            next_hop_pools,
        };
        let pool = &mut pools[edge.cluster];
        if pool.edge.is_some() {
            let first = raw.services[..edge_index]
                .iter()
                .find(|s| s.role == "EdgeServer" && s.cluster == edge.cluster)
                .map(|s| s.desc.clone())
                .unwrap_or_default();
            return Err(TopologyError::Duplicate {
                what: format!("the EdgeServer service of pool {}", pool.fqdn),
                first,
                second: edge.desc.clone(),
            });
        }
        pool.edge = Some(info);
    }

    Ok(Topology {
        form,
        default_sip_domain,
        sip_domains,
        sites: raw.sites,
        pools,
        simple_urls,
        has_simple_url_configuration,
    })
}

#[cfg(test)]
mod tests {
    use super::url_host;

    #[test]
    fn url_host_takes_the_authority_without_port_or_path() {
        assert_eq!(
            url_host("https://meet.contoso.com"),
            Some("meet.contoso.com")
        );
        assert_eq!(
            url_host("https://meet.contoso.com/"),
            Some("meet.contoso.com")
        );
        assert_eq!(
            url_host("HTTPS://www.contoso.com:443/meet"),
            Some("www.contoso.com")
        );
        assert_eq!(
            url_host("http://dialin.contoso.com?x"),
            Some("dialin.contoso.com")
        );
        assert_eq!(url_host("meet.contoso.com"), None);
        assert_eq!(url_host("https://"), None);
        assert_eq!(url_host("https:///path"), None);
    }
}
