param([securestring] $Password = (Read-Host -AsSecureString 'PFX password'))
Import-Module CsCertificate          # on the Lync server: Import-Module Lync
Import-CsCertificate -Path ./oauth.pfx -Password $Password -Identity Global -Type OAuthTokenIssuer -Confirm:$false
$expiring = Get-CsCertificate | Where-Object { $_.NotAfter -lt (Get-Date).AddDays(30) -and -not $_.SourceScope }
foreach ($c in $expiring) {
    Request-CsCertificate -New -Type $c.Use -Output "./$($c.Use).req" -PrivateKeyExportable $True -Verbose:$false
}
try { Set-CsCertificate -Type Default -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -ErrorAction Stop }
catch { Write-Warning "not assigned: $($_.FullyQualifiedErrorId)" }
