//! Fixture-driven tests of the topology module: the shared published fixtures, the litwareinc
//! Topology Builder fixture, the documented Request-CsCertificate examples and malformed input.

use super::*;
use crate::model::CertType::{self, *};

const SINGLE_EDGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/topology/single-edge.published.xml"
));
const NO_EDGE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/topology/no-edge.published.xml"
));
const LITWARE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/topology/litwareinc.tbxml"
));

fn topo(xml: &str) -> Topology {
    parse(xml).unwrap_or_else(|e| panic!("fixture does not parse: {e}"))
}

fn names(
    t: &Topology,
    computer: &str,
    uses: &[CertType],
    all: bool,
    extra: &[&str],
) -> ComputedNames {
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    compute_names(t, computer, uses, all, &extra).unwrap_or_else(|e| panic!("{e}"))
}

fn names_err(t: &Topology, computer: &str, uses: &[CertType]) -> String {
    compute_names(t, computer, uses, false, &[])
        .expect_err("names should not compute")
        .to_string()
}

fn assert_names(n: &ComputedNames, subject: &str, sans: &[&str]) {
    assert_eq!(n.subject, subject, "subject");
    assert_eq!(n.sans, sans, "SANs");
    // The subject's source first, then one per SAN, in the same order.
    assert_eq!(n.sources.len(), n.sans.len() + 1);
    assert_eq!(n.sources[0].role, NameRole::Subject);
    assert_eq!(n.sources[0].name, n.subject);
    for (s, name) in n.sources[1..].iter().zip(&n.sans) {
        assert_eq!(s.role, NameRole::San);
        assert_eq!(&s.name, name);
        assert!(!s.source.is_empty());
    }
}

fn source_of<'a>(n: &'a ComputedNames, name: &str) -> &'a str {
    &n.sources
        .iter()
        .find(|s| s.role == NameRole::San && s.name == name)
        .unwrap_or_else(|| panic!("no source for {name}"))
        .source
}

const EDGE_EXTERNAL: &[CertType] = &[
    AccessEdgeExternal,
    DataEdgeExternal,
    AudioVideoAuthentication,
    XmppServer,
];
const FRONT_END: &[CertType] = &[Default, WebServicesInternal, WebServicesExternal];

// ---- single-edge.published.xml ----

#[test]
fn single_edge_structure() {
    let t = topo(SINGLE_EDGE);
    assert_eq!(t.form, TopologyForm::Published);
    assert_eq!(t.default_sip_domain, "contoso.com");
    assert_eq!(t.sip_domains, ["contoso.com"]);
    assert_eq!(
        t.sites,
        [Site {
            id: "1".into(),
            name: Some("TVP".into())
        }]
    );
    let fqdns: Vec<_> = t.pools.iter().map(|p| (p.fqdn.as_str(), p.kind)).collect();
    assert_eq!(
        fqdns,
        [
            ("skypefe.contoso.com", PoolKind::FrontEnd),
            ("Edge.contoso.com", PoolKind::Edge),
            ("sbc1.contoso.com", PoolKind::PstnGateway),
        ]
    );
    let fe = t.pool("SKYPEFE.contoso.com").unwrap();
    assert_eq!(fe.machines, ["skypefe.contoso.com"]);
    assert_eq!(fe.web_internal_fqdn.as_deref(), Some("skypefe.contoso.com"));
    assert_eq!(fe.web_external_fqdn.as_deref(), Some("skypefe.contoso.com"));
    assert!(fe.xmpp_gateway);
    assert_eq!(
        fe.roles,
        [
            "UserServices",
            "Registrar",
            "UserStore",
            "FileStore",
            "WebServices",
            "ConfServices",
            "MediationServer",
            "ApplicationServer",
            "ApplicationStore",
            "CentralMgmt",
            "CentralMgmtStore"
        ]
    );
    let edge = t.pool("edge.contoso.com").unwrap().edge.as_ref().unwrap();
    assert_eq!(edge.access_edge_fqdn.as_deref(), Some("sip.contoso.com"));
    assert_eq!(
        edge.access_edge_port.as_deref(),
        Some("AccessEdge/SipClient")
    );
    assert_eq!(edge.data_edge_fqdn.as_deref(), Some("sip.contoso.com"));
    assert_eq!(edge.av_edge_fqdn.as_deref(), Some("sip.contoso.com"));
    assert_eq!(edge.next_hop_pools, ["skypefe.contoso.com"]);
    // No XmppFederationProxy port here: XMPP comes from the Front End's gateway.
    assert!(edge.xmpp_enabled);
    assert_eq!(
        edge.xmpp_evidence.as_deref(),
        Some("XMPP federation gateway (Registrar port XmppFederation) on next-hop pool skypefe.contoso.com")
    );
    assert!(!t.has_simple_url_configuration);
}

#[test]
fn single_edge_external_uses() {
    let t = topo(SINGLE_EDGE);
    let n = names(&t, "Edge.contoso.com", EDGE_EXTERNAL, false, &[]);
    // Access Edge and Web Conferencing share sip.contoso.com, which is also sip.<default domain>.
    assert_names(&n, "sip.contoso.com", &["sip.contoso.com", "contoso.com"]);
    assert_eq!(n.computer, "Edge.contoso.com");
    assert_eq!(n.pool, "Edge.contoso.com");
    assert_eq!(n.xmpp_domains, ["contoso.com"]);
    assert_eq!(n.sip_domains, ["contoso.com"]);
    assert_eq!(n.access_edge_fqdn.as_deref(), Some("sip.contoso.com"));
    assert_eq!(
        n.sources[0].source,
        "Access Edge external FQDN (EdgeServer port AccessEdge/SipClient)"
    );
    assert!(source_of(&n, "contoso.com").starts_with("XMPP federation domain"));
    assert!(n.notes.is_empty());

    // The legacy combined use and a case-different short name give the same names.
    let n = names(&t, "EDGE", &[External], false, &[]);
    assert_names(&n, "sip.contoso.com", &["sip.contoso.com", "contoso.com"]);
    assert_eq!(n.computer, "Edge.contoso.com");
}

#[test]
fn single_edge_internal() {
    let t = topo(SINGLE_EDGE);
    let n = names(&t, "edge.contoso.com", &[Internal], false, &[]);
    assert_names(&n, "Edge.contoso.com", &["Edge.contoso.com"]);
    assert!(n.xmpp_domains.is_empty() && n.sip_domains.is_empty());
    assert_eq!(n.access_edge_fqdn, None);
}

#[test]
fn single_edge_front_end_uses_on_the_edge_are_refused() {
    let t = topo(SINGLE_EDGE);
    assert_eq!(
        names_err(&t, "Edge.contoso.com", &[Default]),
        "The computer does not need a certificate of type \"Default\": Edge.contoso.com is an Edge Server."
    );
    // A mix names the use that does not fit.
    assert_eq!(
        names_err(&t, "Edge.contoso.com", &[AccessEdgeExternal, WebServicesExternal]),
        "The computer does not need a certificate of type \"WebServicesExternal\": Edge.contoso.com is an Edge Server."
    );
    match compute_names(&t, "Edge.contoso.com", &[OAuthTokenIssuer], false, &[]) {
        Err(NamesError::UseNotNeeded {
            cert_type,
            computer,
            role,
        }) => {
            assert_eq!(cert_type, OAuthTokenIssuer);
            assert_eq!(computer, "Edge.contoso.com");
            assert_eq!(role, "an Edge Server");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn single_edge_front_end() {
    let t = topo(SINGLE_EDGE);
    let n = names(&t, "skypefe.contoso.com", FRONT_END, false, &[]);
    assert_names(
        &n,
        "skypefe.contoso.com",
        &[
            "skypefe.contoso.com",
            "sip.contoso.com",
            "lyncdiscoverinternal.contoso.com",
            "lyncdiscover.contoso.com",
        ],
    );
    assert_eq!(n.sip_domains, ["contoso.com"]);
    assert!(n.xmpp_domains.is_empty());
    // A published topology has no simple URLs; say so rather than guess meet/dialin names.
    assert_eq!(n.notes.len(), 1);
    assert!(
        n.notes[0].contains("no SimpleUrlConfiguration"),
        "{}",
        n.notes[0]
    );

    // Edge uses on a Front End are refused, naming the use.
    assert_eq!(
        names_err(&t, "skypefe", &[Default, Internal]),
        "The computer does not need a certificate of type \"Internal\": skypefe.contoso.com is a Front End Server."
    );
    assert_eq!(
        names_err(&t, "skypefe.contoso.com", &[XmppServer]),
        "The computer does not need a certificate of type \"XmppServer\": skypefe.contoso.com is a Front End Server."
    );
}

#[test]
fn single_edge_documented_web_services_external_example() {
    // Request-CsCertificate -New -Type WebServicesExternal -DomainName "Lyncdiscover.contoso.com, Lyncdiscover.contoso.net"
    let t = topo(SINGLE_EDGE);
    let n = names(
        &t,
        "skypefe.contoso.com",
        &[WebServicesExternal],
        false,
        &["Lyncdiscover.contoso.com, Lyncdiscover.contoso.net"],
    );
    assert_names(
        &n,
        "skypefe.contoso.com",
        &[
            "skypefe.contoso.com",
            "lyncdiscover.contoso.com",
            "Lyncdiscover.contoso.net",
        ],
    );
    assert_eq!(source_of(&n, "Lyncdiscover.contoso.net"), "-DomainName");
}

#[test]
fn single_edge_oauth_and_generic_uses() {
    let t = topo(SINGLE_EDGE);
    let n = names(&t, "skypefe.contoso.com", &[OAuthTokenIssuer], false, &[]);
    assert_names(&n, "contoso.com", &[]);
    let n = names(
        &t,
        "skypefe.contoso.com",
        &[OAuthTokenIssuer],
        false,
        &["oauth.contoso.com"],
    );
    assert_names(&n, "contoso.com", &["oauth.contoso.com"]);
    // Subject from the first use group; names are the union.
    let n = names(
        &t,
        "skypefe.contoso.com",
        &[Default, OAuthTokenIssuer],
        false,
        &[],
    );
    assert_eq!(n.subject, "skypefe.contoso.com");
    let n = names(
        &t,
        "skypefe.contoso.com",
        &[OAuthTokenIssuer, Default],
        false,
        &[],
    );
    assert_eq!(n.subject, "contoso.com");
    assert_eq!(n.sans[0], "skypefe.contoso.com");
    let n = names(&t, "skypefe.contoso.com", &[MPNService], false, &[]);
    assert_names(&n, "skypefe.contoso.com", &["skypefe.contoso.com"]);
    assert_eq!(
        names_err(&t, "sbc1.contoso.com", &[Default]),
        "The computer does not need a certificate of type \"Default\": sbc1.contoso.com is a PSTN gateway."
    );
}

#[test]
fn single_edge_summary() {
    let t = topo(SINGLE_EDGE);
    let json = serde_json::to_value(t.summary()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "SipDomains": ["contoso.com"],
            "DefaultSipDomain": "contoso.com",
            "Pools": [
                {"Fqdn": "skypefe.contoso.com", "Role": "FrontEnd", "Site": "TVP", "Machines": ["skypefe.contoso.com"]},
                {"Fqdn": "Edge.contoso.com", "Role": "Edge", "Site": "TVP", "Machines": ["Edge.contoso.com"]},
                {"Fqdn": "sbc1.contoso.com", "Role": "PstnGateway", "Site": "TVP", "Machines": ["sbc1.contoso.com"]}
            ],
            "EdgeExternalFqdns": [
                {"Pool": "Edge.contoso.com", "AccessEdge": "sip.contoso.com", "DataEdge": "sip.contoso.com", "AudioVideoEdge": "sip.contoso.com"}
            ],
            "XmppFederationEnabled": true
        })
    );
    // Property order is the documented one (serde_json::Value would sort keys).
    let text = serde_json::to_string(&t.summary()).unwrap();
    let order = [
        "SipDomains",
        "DefaultSipDomain",
        "Pools",
        "EdgeExternalFqdns",
        "XmppFederationEnabled",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| text.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

// ---- no-edge.published.xml ----

#[test]
fn no_edge_summary_and_front_end() {
    let t = topo(NO_EDGE);
    let s = t.summary();
    assert_eq!(s.default_sip_domain, "tenant.rlevchenko.com");
    assert!(!s.xmpp_federation_enabled);
    assert!(s.edge_external_fqdns.is_empty());
    let roles: Vec<_> = s
        .pools
        .iter()
        .map(|p| (p.fqdn.as_str(), p.role.as_str(), p.site.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("poolfe.tenant.rlevchenko.com", "FrontEnd", "Tenant"),
            ("srv-sql-01.tenant.rlevchenko.com", "SqlStore", "Tenant"),
            ("tenant.rlevchenko.com", "FileStore", "Tenant"),
            (
                "srv-owa-01.tenant.rlevchenko.com",
                "OfficeWebApps",
                "Tenant"
            ),
        ]
    );

    // Short name, other casing: the topology's casing comes back.
    let n = names(&t, "skype-fe-01", &[Default], false, &[]);
    assert_eq!(n.computer, "SKYPE-FE-01.tenant.rlevchenko.com");
    assert_eq!(n.pool, "poolfe.tenant.rlevchenko.com");
    assert_names(
        &n,
        "poolfe.tenant.rlevchenko.com",
        &[
            "poolfe.tenant.rlevchenko.com",
            "SKYPE-FE-01.tenant.rlevchenko.com",
            "sip.tenant.rlevchenko.com",
            "lyncdiscoverinternal.tenant.rlevchenko.com",
        ],
    );
    let n = names(
        &t,
        "SKYPE-FE-01.tenant.rlevchenko.com",
        FRONT_END,
        false,
        &[],
    );
    assert_names(
        &n,
        "poolfe.tenant.rlevchenko.com",
        &[
            "poolfe.tenant.rlevchenko.com",
            "SKYPE-FE-01.tenant.rlevchenko.com",
            "sip.tenant.rlevchenko.com",
            "lyncdiscoverinternal.tenant.rlevchenko.com",
            "lyncdiscover.tenant.rlevchenko.com",
        ],
    );
    // The pool FQDN of a one-machine pool stands for its machine.
    assert_eq!(
        t.find_computer("poolfe.tenant.rlevchenko.com")
            .unwrap()
            .machine,
        "SKYPE-FE-01.tenant.rlevchenko.com"
    );
    assert_eq!(
        names_err(&t, "skype-fe-01", &[AccessEdgeExternal]),
        "The computer does not need a certificate of type \"AccessEdgeExternal\": SKYPE-FE-01.tenant.rlevchenko.com is a Front End Server."
    );
    assert_eq!(
        names_err(&t, "srv-sql-01", &[Default]),
        "The computer does not need a certificate of type \"Default\": srv-sql-01.tenant.rlevchenko.com is a SQL Server store."
    );
}

// ---- litwareinc.tbxml (Topology Builder form) ----

#[test]
fn litware_fixture_is_a_bom_prefixed_topology_builder_document() {
    assert!(
        LITWARE.starts_with('\u{feff}'),
        "the fixture must exercise the BOM path"
    );
    let t = topo(LITWARE);
    assert_eq!(t.form, TopologyForm::TopologyBuilder);
    assert_eq!(t.sip_domains, ["litwareinc.com", "litwareinc.net"]);
    let pools: Vec<_> = t
        .pools
        .iter()
        .map(|p| (p.fqdn.as_str(), p.kind, p.machines.len()))
        .collect();
    assert_eq!(
        pools,
        [
            ("atl-cs-001.litwareinc.com", PoolKind::FrontEnd, 1),
            ("pool1.litwareinc.com", PoolKind::FrontEnd, 3),
            ("atl-sql-001.litwareinc.com", PoolKind::SqlStore, 1),
            ("atl-fs-001.litwareinc.com", PoolKind::FileStore, 1),
            ("atl-edge-pool.litwareinc.com", PoolKind::Edge, 2),
            ("atl-med-pool.litwareinc.com", PoolKind::Mediation, 1),
        ]
    );
    // `<Machine />` in a single-machine cluster takes the cluster FQDN.
    assert_eq!(t.pools[2].machines, ["atl-sql-001.litwareinc.com"]);
    // Stores installed on a SQL instance UniqueId land on the instance's cluster.
    assert_eq!(t.pools[2].roles, ["UserStore", "ApplicationStore"]);
    assert_eq!(
        t.pools[0].roles,
        [
            "UserServices",
            "Registrar",
            "UserStore",
            "WebServices",
            "ConfServices",
            "MediationServer",
            "CentralMgmt",
            "CentralMgmtStore"
        ]
    );
    let edge = t.pools[4].edge.as_ref().unwrap();
    assert_eq!(edge.access_edge_fqdn.as_deref(), Some("ap.litwareinc.com"));
    assert_eq!(edge.data_edge_fqdn.as_deref(), Some("dp.litwareinc.com"));
    assert_eq!(edge.av_edge_fqdn.as_deref(), Some("av.litwareinc.com"));
    assert_eq!(
        edge.next_hop_pools,
        ["atl-cs-001.litwareinc.com", "pool1.litwareinc.com"]
    );
    assert_eq!(
        edge.xmpp_evidence.as_deref(),
        Some("EdgeServer port XmppFederationProxy/XmppServer")
    );
    let hosts: Vec<_> = t
        .simple_urls
        .iter()
        .map(|u| (u.component.as_str(), u.domain.as_str(), u.host.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("Dialin", "*", "dialin.litwareinc.com"),
            ("Meet", "litwareinc.com", "meet.litwareinc.com"),
            ("Meet", "litwareinc.net", "meet.litwareinc.net"),
            ("Cscp", "*", "admin.litwareinc.com"),
        ]
    );
    let s = t.summary();
    assert!(s.xmpp_federation_enabled);
    assert_eq!(s.pools[1].site, "Atlanta");
    assert_eq!(
        s.edge_external_fqdns,
        [EdgeSummary {
            pool: "atl-edge-pool.litwareinc.com".into(),
            access_edge: Some("ap.litwareinc.com".into()),
            data_edge: Some("dp.litwareinc.com".into()),
            audio_video_edge: Some("av.litwareinc.com".into()),
        }]
    );
}

const LITWARE_SE_DEFAULT_DOMAIN: &[&str] = &[
    "atl-cs-001.litwareinc.com",
    "sip.litwareinc.com",
    "dialin.litwareinc.com",
    "meet.litwareinc.com",
    "admin.litwareinc.com",
    "lyncdiscoverinternal.litwareinc.com",
    "atl-ext.litwareinc.com",
    "lyncdiscover.litwareinc.com",
];

#[test]
fn litware_standard_edition_example() {
    // -Type Default,WebServicesInternal,WebServicesExternal -ComputerFqdn "atl-cs-001.litwareinc.com"
    //   -DomainName "atl-cs-001.litwareinc.com,atl-ext.litwareinc.com"
    let t = topo(LITWARE);
    let n = names(
        &t,
        "atl-cs-001.litwareinc.com",
        FRONT_END,
        false,
        &["atl-cs-001.litwareinc.com,atl-ext.litwareinc.com"],
    );
    // Both extras are already computed names.
    assert_names(&n, "atl-cs-001.litwareinc.com", LITWARE_SE_DEFAULT_DOMAIN);
    assert!(n.notes.is_empty());
    assert_eq!(
        source_of(&n, "meet.litwareinc.com"),
        "simple URL Meet for litwareinc.com (https://meet.litwareinc.com)"
    );
    assert_eq!(
        source_of(&n, "atl-ext.litwareinc.com"),
        "external web services FQDN (WebService ExternalSettings Host)"
    );
}

#[test]
fn litware_enterprise_pool_example() {
    // -Type Default,WebServicesInternal,WebServicesExternal -ComputerFqdn "atl-cs-001.litwareinc.com"
    //   -DomainName "pool1.litwareinc.com,pool1int.litwareinc.com,pool1ext.litwareinc.com"
    let t = topo(LITWARE);
    let n = names(
        &t,
        "atl-cs-001.litwareinc.com",
        FRONT_END,
        false,
        &["pool1.litwareinc.com,pool1int.litwareinc.com,pool1ext.litwareinc.com"],
    );
    let mut expected = LITWARE_SE_DEFAULT_DOMAIN.to_vec();
    expected.extend([
        "pool1.litwareinc.com",
        "pool1int.litwareinc.com",
        "pool1ext.litwareinc.com",
    ]);
    assert_names(&n, "atl-cs-001.litwareinc.com", &expected);

    // The same request on a member of pool1 computes the pool's own names.
    let n = names(&t, "atl-fe-002", FRONT_END, false, &[]);
    assert_eq!(n.computer, "atl-fe-002.litwareinc.com");
    assert_names(
        &n,
        "pool1.litwareinc.com",
        &[
            "pool1.litwareinc.com",
            "atl-fe-002.litwareinc.com",
            "sip.litwareinc.com",
            "dialin.litwareinc.com",
            "meet.litwareinc.com",
            "admin.litwareinc.com",
            "lyncdiscoverinternal.litwareinc.com",
            "pool1ext.litwareinc.com",
            "lyncdiscover.litwareinc.com",
        ],
    );
}

#[test]
fn litware_all_sip_domain_example() {
    // -Type Default,WebServicesInternal,WebServicesExternal -AllSipDomain (on atl-cs-001)
    let t = topo(LITWARE);
    let n = names(&t, "atl-cs-001", FRONT_END, true, &[]);
    assert_names(
        &n,
        "atl-cs-001.litwareinc.com",
        &[
            "atl-cs-001.litwareinc.com",
            "sip.litwareinc.com",
            "sip.litwareinc.net",
            "dialin.litwareinc.com",
            "meet.litwareinc.com",
            "meet.litwareinc.net",
            "admin.litwareinc.com",
            "lyncdiscoverinternal.litwareinc.com",
            "lyncdiscoverinternal.litwareinc.net",
            "atl-ext.litwareinc.com",
            "lyncdiscover.litwareinc.com",
            "lyncdiscover.litwareinc.net",
        ],
    );
    assert_eq!(n.sip_domains, ["litwareinc.com", "litwareinc.net"]);
    assert_eq!(
        source_of(&n, "sip.litwareinc.net"),
        "sip.<SIP domain litwareinc.net, -AllSipDomain>"
    );
    // Only the default domain's names without the switch.
    let n = names(&t, "atl-cs-001", &[Default], false, &[]);
    assert!(!n.sans.iter().any(|s| s.ends_with(".net")), "{:?}", n.sans);
}

#[test]
fn litware_internal_edge_example() {
    // -Type Internal -ComputerFqdn "atl-edge-001" -DomainName "atl-edge-001.litwareinc.com, ap.litwareinc.com"
    let t = topo(LITWARE);
    let n = names(
        &t,
        "atl-edge-001",
        &[Internal],
        false,
        &["atl-edge-001.litwareinc.com, ap.litwareinc.com"],
    );
    assert_eq!(n.computer, "atl-edge-001.litwareinc.com");
    assert_eq!(n.pool, "atl-edge-pool.litwareinc.com");
    assert_names(
        &n,
        "atl-edge-pool.litwareinc.com",
        &[
            "atl-edge-pool.litwareinc.com",
            "atl-edge-001.litwareinc.com",
            "ap.litwareinc.com",
        ],
    );
}

#[test]
fn litware_external_edge_example() {
    // -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn "atl-edge-001"
    //   -DomainName "atl-edge-001.litwareinc.com,ap.litwareinc.com,dp.litwareinc.com,atl-edge-001"
    let t = topo(LITWARE);
    let n = names(
        &t,
        "atl-edge-001",
        &[
            AccessEdgeExternal,
            DataEdgeExternal,
            AudioVideoAuthentication,
        ],
        false,
        &["atl-edge-001.litwareinc.com,ap.litwareinc.com,dp.litwareinc.com,atl-edge-001"],
    );
    // The A/V Edge FQDN is never named; the XMPP domain is, since the Edge runs the proxy;
    // the short-name extra is kept as given. Issue 11 item 6: the documented order puts the
    // Web Conferencing Edge FQDN before the Access Edge FQDN (the subject).
    assert_names(
        &n,
        "ap.litwareinc.com",
        &[
            "dp.litwareinc.com",
            "ap.litwareinc.com",
            "sip.litwareinc.com",
            "litwareinc.com",
            "atl-edge-001.litwareinc.com",
            "atl-edge-001",
        ],
    );
    assert_eq!(n.xmpp_domains, ["litwareinc.com"]);
    assert_eq!(
        source_of(&n, "dp.litwareinc.com"),
        "Web Conferencing Edge external FQDN (EdgeServer port DataEdge/PsomClient)"
    );
    assert_eq!(
        source_of(&n, "litwareinc.com"),
        "XMPP federation domain (EdgeServer port XmppFederationProxy/XmppServer)"
    );

    // Every SIP domain, and its XMPP domain, with -AllSipDomain; the other member of the pool
    // gets the same names (an Edge pool shares one certificate).
    let n = names(&t, "atl-edge-002.litwareinc.com", EDGE_EXTERNAL, true, &[]);
    assert_names(
        &n,
        "ap.litwareinc.com",
        &[
            "dp.litwareinc.com",
            "ap.litwareinc.com",
            "sip.litwareinc.com",
            "sip.litwareinc.net",
            "litwareinc.com",
            "litwareinc.net",
        ],
    );
    assert_eq!(n.xmpp_domains, ["litwareinc.com", "litwareinc.net"]);
}

#[test]
fn litware_mediation_pool() {
    let t = topo(LITWARE);
    let n = names(&t, "atl-med-001", &[Default], false, &[]);
    assert_names(
        &n,
        "atl-med-pool.litwareinc.com",
        &["atl-med-pool.litwareinc.com", "atl-med-001.litwareinc.com"],
    );
    assert_eq!(
        names_err(&t, "atl-med-001", &[WebServicesExternal]),
        "The computer does not need a certificate of type \"WebServicesExternal\": atl-med-001.litwareinc.com is a Mediation Server."
    );
}

#[test]
fn computer_resolution_errors() {
    let t = topo(LITWARE);
    assert_eq!(
        names_err(&t, "atl-edge-009", &[Internal]),
        "the computer \"atl-edge-009\" is not in the topology: no Machine or Cluster has that FQDN or short name"
    );
    assert_eq!(
        names_err(&t, "atl-edge-001.fabrikam.com", &[Internal]),
        "the computer \"atl-edge-001.fabrikam.com\" is not in the topology: no Machine or Cluster has that FQDN or short name"
    );
    // A pool of several machines does not name one computer.
    assert_eq!(
        names_err(&t, "pool1.litwareinc.com", &[Default]),
        "the computer name \"pool1.litwareinc.com\" is ambiguous: it matches atl-fe-001.litwareinc.com, \
         atl-fe-002.litwareinc.com, atl-fe-003.litwareinc.com; give the FQDN of one machine"
    );
    assert!(t.find_computer("atl-edge-pool").is_none());
    assert!(t.find_computer("").is_none());
    let c = t.find_computer("ATL-EDGE-002.LITWAREINC.COM.").unwrap();
    assert_eq!(
        (c.machine, c.pool.fqdn.as_str()),
        (
            "atl-edge-002.litwareinc.com",
            "atl-edge-pool.litwareinc.com"
        )
    );
    assert_eq!(
        compute_names(&t, "atl-cs-001", &[], false, &[]).unwrap_err(),
        NamesError::NoUses
    );
}

#[test]
fn wildcard_extras() {
    let t = topo(LITWARE);
    let extra = vec!["*.litwareinc.com".to_string()];
    assert_eq!(
        compute_names(&t, "atl-edge-001", &[AccessEdgeExternal], false, &extra)
            .unwrap_err()
            .to_string(),
        "the -DomainName name \"*.litwareinc.com\" is a wildcard, which a \"AccessEdgeExternal\" certificate cannot carry"
    );
    // Internal names may carry one (only Edge external SANs may not).
    let n = compute_names(&t, "atl-cs-001", &[WebServicesExternal], false, &extra).unwrap();
    assert_eq!(n.sans.last().map(String::as_str), Some("*.litwareinc.com"));
}

// ---- documents edited to lack something ----

#[test]
fn edge_without_access_edge_fqdn() {
    let xml = SINGLE_EDGE.replace(
        "InterfaceSide=\"External\" InterfaceNumber=\"1\" Port=\"5061\" Protocol=\"Tls\" UrlPath=\"/\" AuthorizesRequests=\"false\" ConfiguredFqdn=\"sip.contoso.com\"",
        "InterfaceSide=\"External\" InterfaceNumber=\"1\" Port=\"5061\" Protocol=\"Tls\" UrlPath=\"/\" AuthorizesRequests=\"false\"",
    )
    .replace(
        "Port=\"5061\" Protocol=\"Mtls\" UrlPath=\"/\" AuthorizesRequests=\"false\" ConfiguredFqdn=\"sip.contoso.com\"",
        "Port=\"5061\" Protocol=\"Mtls\" UrlPath=\"/\" AuthorizesRequests=\"false\"",
    );
    assert_ne!(xml, SINGLE_EDGE);
    // Parsing succeeds: only computations that need the name fail.
    let t = topo(&xml);
    assert_eq!(t.summary().edge_external_fqdns[0].access_edge, None);
    assert_names(
        &names(&t, "Edge.contoso.com", &[Internal], false, &[]),
        "Edge.contoso.com",
        &["Edge.contoso.com"],
    );
    assert_eq!(
        names_err(&t, "Edge.contoso.com", &[AccessEdgeExternal]),
        "cannot compute the names for \"AccessEdgeExternal\": the EdgeServer service on pool \
         Edge.contoso.com has no external AccessEdge port with a ConfiguredFqdn attribute"
    );
}

#[test]
fn edge_without_data_edge_fqdn() {
    let xml = SINGLE_EDGE.replace(
        "Port=\"444\" Protocol=\"Tls\" UrlPath=\"/\" AuthorizesRequests=\"false\" ConfiguredFqdn=\"sip.contoso.com\"",
        "Port=\"444\" Protocol=\"Tls\" UrlPath=\"/\" AuthorizesRequests=\"false\"",
    );
    assert_ne!(xml, SINGLE_EDGE);
    let t = topo(&xml);
    assert_eq!(
        names_err(&t, "Edge.contoso.com", &[DataEdgeExternal, AccessEdgeExternal]),
        "cannot compute the names for \"DataEdgeExternal\": the EdgeServer service on pool \
         Edge.contoso.com has no external DataEdge port (Usage PsomClient) with a ConfiguredFqdn attribute"
    );
}

#[test]
fn edge_without_xmpp() {
    // Without the Front End's XMPP gateway nothing says this Edge federates over XMPP.
    let xml = SINGLE_EDGE.replace(
        "Owner=\"urn:component:XmppFederation\"",
        "Owner=\"urn:component:Unrelated\"",
    );
    assert_ne!(xml, SINGLE_EDGE);
    let t = topo(&xml);
    assert!(!t.summary().xmpp_federation_enabled);
    let n = names(&t, "Edge.contoso.com", &[AccessEdgeExternal], false, &[]);
    assert_names(&n, "sip.contoso.com", &["sip.contoso.com"]);
    assert!(n.xmpp_domains.is_empty());
    assert_eq!(
        names_err(&t, "Edge.contoso.com", &[AccessEdgeExternal, XmppServer]),
        "The computer does not need a certificate of type \"XmppServer\": Edge.contoso.com is an Edge \
         Server whose pool does not run the XMPP federation proxy."
    );
}

#[test]
fn front_end_without_external_web_host() {
    let xml = SINGLE_EDGE.replace(
        "<ExternalSettings Host=\"skypefe.contoso.com\">",
        "<ExternalSettings>",
    );
    assert_ne!(xml, SINGLE_EDGE);
    let t = topo(&xml);
    assert_eq!(
        names_err(&t, "skypefe.contoso.com", FRONT_END),
        "cannot compute the names for \"WebServicesExternal\": the WebServices service on pool \
         skypefe.contoso.com has no WebService/ExternalSettings element with a Host attribute"
    );
    assert!(compute_names(
        &t,
        "skypefe.contoso.com",
        &[Default, WebServicesInternal],
        false,
        &[]
    )
    .is_ok());
}

// ---- malformed documents ----

fn parse_err(xml: &str) -> String {
    parse(xml)
        .expect_err("document should be refused")
        .to_string()
}

#[test]
fn truncated_xml_reports_line_and_column() {
    let cut = &SINGLE_EDGE[..SINGLE_EDGE.find("<Clusters>").unwrap()];
    match parse(cut) {
        Err(TopologyError::Xml {
            line,
            column,
            message,
        }) => {
            // The cut falls after the CRLF that ends line 10, before "  <Clusters>".
            assert_eq!((line, column), (11, 3), "{message}");
            assert_eq!(
                message,
                "the document ends before its root element is closed (truncated?)"
            );
            assert!(
                !message.contains(" at "),
                "position is not repeated: {message}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    let err = parse_err("<Topology xmlns=\"urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008\">\n  <InternalDomains");
    assert!(
        err.starts_with("xml syntax error at line 2, column "),
        "{err}"
    );
    assert!(parse_err("").starts_with("xml syntax error at line 1, column 1: "));
}

#[test]
fn wrong_root_or_namespace() {
    assert_eq!(
        parse_err("<Foo xmlns=\"urn:example\"/>"),
        "not a Lync topology document: root element {urn:example}Foo (expected \
         {urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008}Topology or \
         {urn:schema:Microsoft.Rtc.Management.Deploy.TopologyBuilder.2008}TopologyBuilder)"
    );
    // The right local name without the namespace is not a topology either.
    let no_ns = SINGLE_EDGE.replacen(
        " xmlns=\"urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008\"",
        "",
        1,
    );
    assert!(parse_err(&no_ns).starts_with("not a Lync topology document: root element Topology ("));
    let wrong_ns = LITWARE.replacen(
        "Deploy.TopologyBuilder.2008",
        "Deploy.TopologyBuilder.2013",
        1,
    );
    assert!(parse_err(&wrong_ns).starts_with(
        "not a Lync topology document: root element {urn:schema:Microsoft.Rtc.Management.Deploy.TopologyBuilder.2013}TopologyBuilder"
    ));
}

#[test]
fn missing_elements_and_attributes_are_named() {
    let no_domains = SINGLE_EDGE
        .replace("<InternalDomains ", "<OtherDomains ")
        .replace("</InternalDomains>", "</OtherDomains>");
    assert_eq!(
        parse_err(&no_domains),
        "Topology has no InternalDomains element"
    );
    let no_default = SINGLE_EDGE.replace(" DefaultDomain=\"contoso.com\"", "");
    assert_eq!(
        parse_err(&no_default),
        "InternalDomains has no DefaultDomain attribute"
    );
    let bad_default = SINGLE_EDGE.replace(
        "DefaultDomain=\"contoso.com\"",
        "DefaultDomain=\"fabrikam.com\"",
    );
    assert_eq!(
        parse_err(&bad_default),
        "InternalDomains has an invalid DefaultDomain attribute \"fabrikam.com\": it is not the Name of any InternalDomain"
    );
    let no_fqdn = SINGLE_EDGE.replace(
        "RequiresSetup=\"true\" Fqdn=\"Edge.contoso.com\"",
        "RequiresSetup=\"true\"",
    );
    assert_eq!(
        parse_err(&no_fqdn),
        "Cluster (ClusterId SiteId=\"1\" Number=\"2\") has no Fqdn attribute"
    );
    let dangling = SINGLE_EDGE.replace(
        "<InstalledOn>\r\n            <ClusterId SiteId=\"1\" Number=\"2\" />",
        "<InstalledOn>\r\n            <ClusterId SiteId=\"1\" Number=\"9\" />",
    );
    assert_ne!(dangling, SINGLE_EDGE);
    assert_eq!(
        parse_err(&dangling),
        "Service EdgeServer (SiteId=\"1\" Instance=\"1\") refers to cluster SiteId=\"1\" Number=\"9\", which the document does not define"
    );
    let no_partial = LITWARE
        .replace("<PartialTopology ", "<OtherTopology ")
        .replace("</PartialTopology>", "</OtherTopology>");
    assert_eq!(
        parse_err(&no_partial),
        "NewTopology has no PartialTopology element"
    );
    let dangling_tb = LITWARE.replace(
        "InstalledOn=\"6c0f1004-0a7e-4b1d-9c1a-000000001004\"",
        "InstalledOn=\"6c0f1fff-0a7e-4b1d-9c1a-000000001fff\"",
    );
    assert_ne!(dangling_tb, LITWARE);
    assert_eq!(
        parse_err(&dangling_tb),
        "Service EdgeServer (UniqueId=\"6c0f300e-0a7e-4b1d-9c1a-00000000300e\") refers to cluster \
         UniqueId=\"6c0f1fff-0a7e-4b1d-9c1a-000000001fff\", which the document does not define"
    );
    let no_active = LITWARE.replace(" ActiveUrl=\"https://admin.litwareinc.com\"", "");
    assert_eq!(
        parse_err(&no_active),
        "SimpleUrl Component=\"Cscp\" Domain=\"*\" has no ActiveUrl attribute"
    );
    let bad_url = LITWARE.replace(
        "ActiveUrl=\"https://admin.litwareinc.com\"",
        "ActiveUrl=\"admin\"",
    );
    assert_eq!(
        parse_err(&bad_url),
        "SimpleUrl Component=\"Cscp\" Domain=\"*\" has an invalid ActiveUrl attribute \"admin\": it is not an http(s) URL with a host name"
    );
    let twice = LITWARE.replace(
        "Fqdn=\"atl-med-001.litwareinc.com\"",
        "Fqdn=\"atl-fe-001.litwareinc.com\"",
    );
    assert_eq!(
        parse_err(&twice),
        "machine atl-fe-001.litwareinc.com is defined twice: by Cluster Fqdn=\"pool1.litwareinc.com\" and by Cluster Fqdn=\"atl-med-pool.litwareinc.com\""
    );
}

#[test]
fn namespaces_are_matched_by_uri_not_prefix() {
    // Prefixed names and namespaces declared on inner elements; a Port outside the
    // ServiceRoles namespace is not a port.
    let xml = r#"<?xml version="1.0"?>
<t:Topology xmlns:t="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008">
  <t:InternalDomains DefaultDomain="fabrikam.com"><t:InternalDomain Name="fabrikam.com"/></t:InternalDomains>
  <t:Clusters>
    <t:Cluster Fqdn="edge.fabrikam.com"><t:ClusterId SiteId="1" Number="1"/><t:Machine Fqdn="edge1.fabrikam.com"/></t:Cluster>
  </t:Clusters>
  <Services xmlns="urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008">
    <Service>
      <ServiceId SiteId="1" RoleName="EdgeServer" Instance="1"/>
      <InstalledOn><ClusterId SiteId="1" Number="1"/></InstalledOn>
      <r:Ports xmlns:r="urn:schema:Microsoft.Rtc.Management.Deploy.ServiceRoles.2008">
        <r:Port Owner="urn:component:AccessEdge" Usage="SipClient" InterfaceSide="External" ConfiguredFqdn="sip.fabrikam.com"/>
        <Port Owner="urn:component:DataEdge" Usage="PsomClient" InterfaceSide="External" ConfiguredFqdn="not-a-port.fabrikam.com"/>
      </r:Ports>
    </Service>
  </Services>
</t:Topology>"#;
    let t = topo(xml);
    let edge = t.pools[0].edge.as_ref().unwrap();
    assert_eq!(edge.access_edge_fqdn.as_deref(), Some("sip.fabrikam.com"));
    assert_eq!(edge.data_edge_fqdn, None);
    assert!(edge.next_hop_pools.is_empty() && !edge.xmpp_enabled);
    assert_eq!(
        t.find_computer("edge1").unwrap().pool.fqdn,
        "edge.fabrikam.com"
    );
}
