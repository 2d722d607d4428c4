//! Every name a topology gives a certificate (pool and machine FQDNs, the Edge's external
//! FQDNs, the web services' external host, SIP domains, simple URL hosts) must be a host name:
//! Publish-CsTopology refuses `ConfiguredFqdn="sip.contoso.com&#10;, evil.com"`, which would
//! otherwise become a request with a forged second name.

use super::{Topology, TopologyError};
use crate::model::hostname::hostname_fault;

/// The first name attribute that is not a host name, as an error naming where it is.
pub fn check(t: &Topology) -> Result<(), TopologyError> {
    let mut names: Vec<(String, &'static str, &str)> = Vec::new();
    names.push((
        "InternalDomains".into(),
        "DefaultDomain",
        &t.default_sip_domain,
    ));
    for d in &t.sip_domains {
        names.push(("an InternalDomain".into(), "Name", d));
    }
    for p in &t.pools {
        let cluster = || format!("Cluster Fqdn=\"{}\"", p.fqdn);
        names.push(("a Cluster".into(), "Fqdn", &p.fqdn));
        for m in &p.machines {
            names.push((format!("a Machine of {}", cluster()), "Fqdn", m));
        }
        if let Some(h) = &p.web_external_fqdn {
            names.push((format!("ExternalSettings of {}", cluster()), "Host", h));
        }
        if let Some(e) = &p.edge {
            let edge = [&e.access_edge_fqdn, &e.data_edge_fqdn, &e.av_edge_fqdn];
            for f in edge.into_iter().flatten() {
                names.push((format!("a Port of {}", cluster()), "ConfiguredFqdn", f));
            }
        }
    }
    for u in &t.simple_urls {
        names.push((format!("SimpleUrl {}", u.component), "ActiveUrl", &u.host));
    }
    for (element, attribute, value) in names {
        if let Some(why) = hostname_fault(value) {
            return Err(TopologyError::NotAHostname {
                element,
                attribute,
                value: value.to_string(),
                why,
            });
        }
    }
    Ok(())
}
