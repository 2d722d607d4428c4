#!/usr/bin/env bash
# Builds cscert and installs it with one link per cmdlet name, so that scripts calling
# `Request-CsCertificate ...` find it on the PATH. Usage: scripts/install.sh [PREFIX] (default ~/.local)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-$HOME/.local}"
cargo build --release --locked
mkdir -p "$prefix/bin" "$prefix/share/cscert"
install -m 0755 target/release/cscert "$prefix/bin/cscert"
for c in Request-CsCertificate Import-CsCertificate Set-CsCertificate Get-CsCertificate Remove-CsCertificate \
         Test-CsCertificateConfiguration Export-CsCertificate Test-CsCertificate Publish-CsTopology Get-CsTopology; do
    ln -sf cscert "$prefix/bin/$c"
done
install -m 0644 scripts/CsCertificate.psm1 "$prefix/share/cscert/CsCertificate.psm1"
echo "installed $prefix/bin/cscert and its cmdlet links; pwsh: Import-Module $prefix/share/cscert/CsCertificate.psm1"
