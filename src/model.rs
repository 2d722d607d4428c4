//! Domain vocabulary shared by every layer: certificate uses (`CertType`) and their groups.

pub mod hostname;

use std::fmt;

/// `Microsoft.Rtc.Management.Deployment.CertType`: the uses a certificate can be assigned to.
/// Declaration order is the order PowerShell lists the enumerator names in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertType {
    Default,
    WebServicesInternal,
    WebServicesExternal,
    Internal,
    External,
    AccessEdgeExternal,
    DataEdgeExternal,
    AudioVideoAuthentication,
    XmppServer,
    OAuthTokenIssuer,
    IPhoneAPNService,
    IPadAPNService,
    MPNService,
    PICWebService,
    ProvisionService,
    WsFedTokenTransfer,
    LogRetentionService,
    SMPDNSWebService,
    TenantAdmin,
    UpgradeEngineService,
}

/// The .NET type name PowerShell prints in conversion errors.
pub const CERT_TYPE_DOTNET: &str = "Microsoft.Rtc.Management.Deployment.CertType";

impl CertType {
    pub const ALL: [CertType; 20] = [
        CertType::Default,
        CertType::WebServicesInternal,
        CertType::WebServicesExternal,
        CertType::Internal,
        CertType::External,
        CertType::AccessEdgeExternal,
        CertType::DataEdgeExternal,
        CertType::AudioVideoAuthentication,
        CertType::XmppServer,
        CertType::OAuthTokenIssuer,
        CertType::IPhoneAPNService,
        CertType::IPadAPNService,
        CertType::MPNService,
        CertType::PICWebService,
        CertType::ProvisionService,
        CertType::WsFedTokenTransfer,
        CertType::LogRetentionService,
        CertType::SMPDNSWebService,
        CertType::TenantAdmin,
        CertType::UpgradeEngineService,
    ];

    /// Canonical casing, as the real cmdlets print it.
    pub fn name(self) -> &'static str {
        match self {
            CertType::Default => "Default",
            CertType::WebServicesInternal => "WebServicesInternal",
            CertType::WebServicesExternal => "WebServicesExternal",
            CertType::Internal => "Internal",
            CertType::External => "External",
            CertType::AccessEdgeExternal => "AccessEdgeExternal",
            CertType::DataEdgeExternal => "DataEdgeExternal",
            CertType::AudioVideoAuthentication => "AudioVideoAuthentication",
            CertType::XmppServer => "XmppServer",
            CertType::OAuthTokenIssuer => "OAuthTokenIssuer",
            CertType::IPhoneAPNService => "iPhoneAPNService",
            CertType::IPadAPNService => "iPadAPNService",
            CertType::MPNService => "MPNService",
            CertType::PICWebService => "PICWebService",
            CertType::ProvisionService => "ProvisionService",
            CertType::WsFedTokenTransfer => "WsFedTokenTransfer",
            CertType::LogRetentionService => "LogRetentionService",
            CertType::SMPDNSWebService => "SMPDNSWebService",
            CertType::TenantAdmin => "TenantAdmin",
            CertType::UpgradeEngineService => "UpgradeEngineService",
        }
    }

    /// Case-insensitive, like PowerShell's enum conversion.
    pub fn parse(s: &str) -> Option<CertType> {
        let s = s.trim();
        CertType::ALL
            .iter()
            .copied()
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }

    /// Uses served on the external side of an Edge Server; their names come from the Edge's
    /// external FQDNs.
    pub fn is_edge_external(self) -> bool {
        matches!(
            self,
            CertType::External
                | CertType::AccessEdgeExternal
                | CertType::DataEdgeExternal
                | CertType::AudioVideoAuthentication
                | CertType::XmppServer
        )
    }

    /// Uses whose private key an Edge pool shares between its members.
    pub fn needs_exportable_key(self) -> bool {
        self.is_edge_external()
    }

    /// Uses that only a Front End / Director / Standard Edition server needs.
    pub fn is_front_end(self) -> bool {
        matches!(
            self,
            CertType::Default | CertType::WebServicesInternal | CertType::WebServicesExternal
        )
    }

    /// Uses assigned at global scope rather than per computer.
    pub fn is_global(self) -> bool {
        matches!(self, CertType::OAuthTokenIssuer)
    }
}

impl fmt::Display for CertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Joins uses the way the real cmdlets print them: `Default,WebServicesInternal`.
pub fn join_uses(uses: &[CertType]) -> String {
    uses.iter().map(|u| u.name()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_canonical() {
        assert_eq!(CertType::parse("xmppserver"), Some(CertType::XmppServer));
        assert_eq!(CertType::parse("XMPPServer"), Some(CertType::XmppServer));
        assert_eq!(
            CertType::parse("IPHONEAPNSERVICE").unwrap().name(),
            "iPhoneAPNService"
        );
        assert_eq!(CertType::parse("Bogus"), None);
    }

    #[test]
    fn every_name_round_trips() {
        for t in CertType::ALL {
            assert_eq!(CertType::parse(t.name()), Some(t));
        }
    }
}
