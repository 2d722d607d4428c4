#!/usr/bin/env bash
# Installs cscert for the current user:
#   - the binary as PREFIX/bin/cscert, with one link per cmdlet name (Request-CsCertificate, ...)
#     so that scripts find the cmdlet names on the PATH even without the module;
#   - the pwsh module CsCertificate into the user's PowerShell module folder
#     (${XDG_DATA_HOME:-~/.local/share}/powershell/Modules/CsCertificate/<version>), so that
#     `Import-Module CsCertificate` works from any folder. Never inside cscert's store folder.
#
# Usage: scripts/install.sh [--prefix DIR] [--module-path DIR] [--binary FILE]
#   --prefix       default ~/.local (the binary goes to DIR/bin)
#   --module-path  a folder of pwsh's $env:PSModulePath (default: the user's module folder)
#   --binary       install this cscert instead of building one (cargo build --release; the
#                  build honours CARGO_TARGET_DIR)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$HOME/.local"
module_path="${XDG_DATA_HOME:-$HOME/.local/share}/powershell/Modules"
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --module-path) module_path="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) # the old form: scripts/install.sh PREFIX
            prefix="$1"; shift ;;
    esac
done

if [ -z "$binary" ]; then
    target="${CARGO_TARGET_DIR:-$repo/target}"
    case "$target" in /*) ;; *) target="$repo/$target" ;; esac
    (cd "$repo" && cargo build --release --locked)
    binary="$target/release/cscert"
fi
[ -x "$binary" ] || { echo "install.sh: no cscert binary at $binary" >&2; exit 1; }

# The module must not land in the store folder (cscert.db lives there, owner-only).
store="${CSCERT_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/cscert}"
case "$(realpath -m "$module_path")/" in
    "$(realpath -m "$store")/"*)
        echo "install.sh: $module_path is inside the cscert store folder $store; choose another --module-path" >&2
        exit 1 ;;
esac

mkdir -p "$prefix/bin" "$module_path"
install -m 0755 "$binary" "$prefix/bin/cscert.new"
mv -f "$prefix/bin/cscert.new" "$prefix/bin/cscert"
cmdlets=$("$prefix/bin/cscert" --help | awk '/^CMDLETS/{on=1; next} on && /^[A-Z]/{exit} on && $1 ~ /^[A-Z][a-z]+-Cs[A-Za-z]+$/{print $1}')
[ -n "$cmdlets" ] || { echo "install.sh: $prefix/bin/cscert lists no cmdlets" >&2; exit 1; }
for c in $cmdlets; do
    ln -sfn cscert "$prefix/bin/$c"
done

# The module files come from the binary being installed, so they match its tables.
version=$("$prefix/bin/cscert" --version | awk '{print $2}')
dest="$module_path/CsCertificate/$version"
rm -rf "$dest"
mkdir -p "$dest"
"$prefix/bin/cscert" module --out "$dest"
# The module looks for `cscert` next to itself first: pwsh sessions whose PATH lacks
# PREFIX/bin still find the binary.
ln -sfn "$prefix/bin/cscert" "$dest/cscert"

echo "installed $prefix/bin/cscert with links for: $(echo $cmdlets)"
echo "installed the pwsh module in $dest (pwsh: Import-Module CsCertificate)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: add $prefix/bin to PATH" ;; esac
