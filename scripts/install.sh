#!/usr/bin/env bash
# Installs cscert for the current user:
#   - the binary as PREFIX/bin/cscert; with --links also one link per cmdlet name
#     (Request-CsCertificate, ...) for bash users. Without them pwsh autoloads the module's
#     cmdlets (a native command of the same name would win over module autoloading);
#   - the pwsh module CsCertificate, with its own copy of the binary (bin/<platform>/cscert), into
#     the user's PowerShell module folder
#     (${XDG_DATA_HOME:-~/.local/share}/powershell/Modules/CsCertificate/<version>), so that its
#     cmdlets work in pwsh from any folder. Never inside cscert's store folder;
#   - modules named Lync and SkypeForBusiness that load CsCertificate (for `#Requires -Modules
#     Lync` scripts), only where no module of that name exists.
#
# Usage: scripts/install.sh [--prefix DIR] [--module-path DIR] [--binary FILE] [--links]
#                           [--no-compat-modules]
#   --prefix             default ~/.local (the binary goes to DIR/bin)
#   --module-path        a folder of pwsh's $env:PSModulePath (default: the user's module folder)
#   --binary             install this cscert instead of building one (cargo build --release; the
#                        build honours CARGO_TARGET_DIR)
#   --links              also put the cmdlet names on the PATH (bash); pwsh then runs the links
#                        instead of the module unless the module is imported
#   --no-compat-modules  do not install the Lync and SkypeForBusiness modules
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$HOME/.local"
module_path="${XDG_DATA_HOME:-$HOME/.local/share}/powershell/Modules"
binary=""
links=0
compat=1
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --module-path) module_path="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --links) links=1; shift ;;
        --no-compat-modules) compat=0; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
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
    if [ "$links" = 1 ]; then
        ln -sfn cscert "$prefix/bin/$c"
    elif [ "$(readlink "$prefix/bin/$c" 2>/dev/null)" = cscert ]; then
        # A link an earlier install made: it would hide the module's cmdlet from autoloading.
        rm -f "$prefix/bin/$c"
    fi
done

# The module files come from the binary being installed, so they match its tables; the module
# carries that binary and prefers it to one on the PATH.
version=$("$prefix/bin/cscert" --version | awk '{print $2}')
dest="$module_path/CsCertificate/$version"
rm -rf "$dest"
mkdir -p "$dest"
"$prefix/bin/cscert" module --out "$dest" --with-binary

# Lync and SkypeForBusiness: only where pwsh knows no module of that name, or it is one of ours
# (a user-scope module would shadow the real one on a Lync server).
compat_done=""
if [ "$compat" = 1 ]; then
    pwsh_exe=$(command -v pwsh || true)
    [ -z "$pwsh_exe" ] && [ -x "$HOME/.dotnet/tools/pwsh" ] && pwsh_exe="$HOME/.dotnet/tools/pwsh"
    known=""
    if [ -n "$pwsh_exe" ]; then
        known=$(PSModulePath="$module_path${PSModulePath:+:$PSModulePath}" "$pwsh_exe" -NoProfile -NonInteractive \
            -Command 'Get-Module -ListAvailable -Name Lync, SkypeForBusiness | ForEach-Object Path' 2>/dev/null || true)
    fi
    for name in Lync SkypeForBusiness; do
        foreign=""
        while IFS= read -r f; do
            [ -n "$f" ] || continue
            case "$(basename "$f")" in "$name.psd1" | "$name.psm1" | "$name.dll") ;; *) continue ;; esac
            grep -q 'cscert module --compat' "$f" 2>/dev/null || foreign="$f"
        done < <(printf '%s\n' "$known"; ls "$module_path/$name"/*/"$name.psd1" 2>/dev/null || true)
        if [ -n "$foreign" ]; then
            echo "note: a module named $name exists ($foreign); not installing cscert's"
            continue
        fi
        rm -rf "${module_path:?}/$name"
        "$prefix/bin/cscert" module --compat "$name" --out "$module_path/$name/$version"
        compat_done="$compat_done $name"
    done
fi

echo "installed $prefix/bin/cscert"
if [ "$links" = 1 ]; then
    echo "installed links for: $(echo $cmdlets) (pwsh: Import-Module CsCertificate, or the links run natively)"
else
    echo "no cmdlet-name links (bash: cscert <Cmdlet-Name> ..., or install again with --links)"
fi
echo "installed the pwsh module in $dest (pwsh loads it by itself when a cmdlet is used)"
[ -n "$compat_done" ] && echo "installed the modules$compat_done (they load CsCertificate)"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "note: add $prefix/bin to PATH" ;; esac
exit 0
