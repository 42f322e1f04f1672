#!/usr/bin/env bash
# `make install` (issue #21): a staged install (DESTDIR, PREFIX=/usr) holds the binary, its data
# tables, the man page, the documentation and the systemd units, each unit's ExecStart= and
# Documentation= naming files that the install put there; the staged binary runs synth, ingest
# and report from / with only the installed files (no DARKSCOPE_DATA_DIR, no repository file
# but the geo data, which is not installed); the data folder compiled in is PREFIX's, never
# DESTDIR's; `make uninstall` removes every file again.  Builds its own tree in $T (the repo's
# build/ is not touched), so it takes a full build's time.
source "$(dirname "$0")/lib.bash"
need make
need groff

B=$T/build
mk() { make -C "$ROOT" -s -j2 BUILD="$B" "$@"; }

# ---- staged install: DESTDIR + PREFIX=/usr
mk install DESTDIR="$T/stage" PREFIX=/usr >/dev/null || fail "make install DESTDIR=$T/stage PREFIX=/usr failed"
S=$T/stage
for f in usr/bin/darkscope usr/share/darkscope/payload-tools.tsv usr/share/darkscope/iot-ports.tsv \
         usr/share/darkscope/icmp-types.tsv usr/share/darkscope/country-names-ja.tsv \
         usr/share/man/man1/darkscope.1 usr/share/doc/darkscope/README.md usr/share/doc/darkscope/collector.md \
         usr/share/doc/darkscope/sensor.md usr/lib/systemd/system/darkscope-collector.service \
         usr/lib/systemd/system/darkscope-sensor.service; do
    [ -f "$S/$f" ] || fail "make install did not install /$f"
done
[ -x "$S/usr/bin/darkscope" ] || fail "installed binary is not executable"

# the units name the installed binary and documentation, nothing under /usr/local
for u in "$S"/usr/lib/systemd/system/*.service; do
    grep -q '^ExecStart=/usr/bin/darkscope ' "$u" || fail "$(basename "$u"): ExecStart= is not /usr/bin/darkscope: $(grep ExecStart= "$u")"
    ! grep -v '^#' "$u" | grep -q /usr/local || fail "$(basename "$u") still names /usr/local: $(grep -n /usr/local "$u")"
    docs=$(sed -n 's/^Documentation=//p' "$u")
    [ -n "$docs" ] || fail "$(basename "$u") has no Documentation="
    for d in $docs; do
        case $d in
            file://*) [ -f "$S${d#file://}" ] || fail "$(basename "$u"): Documentation=$d is not installed" ;;
            man:darkscope\(1\)) ;;
            *) fail "$(basename "$u"): unexpected Documentation=$d" ;;
        esac
    done
done
# the man page renders without warnings and names the installed paths
warn=$(groff -man -Tutf8 -ww "$S/usr/share/man/man1/darkscope.1" 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man page warnings: $warn"
grep -q '/usr/share/darkscope' "$S/usr/share/man/man1/darkscope.1" || fail "man page does not name /usr/share/darkscope"
! grep -q /usr/local "$S/usr/share/man/man1/darkscope.1" || fail "installed man page still names /usr/local"
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$S/usr/share/man/man1/darkscope.1" 2>"$T/man.err" | grep -q 'darkscope ingest' \
        || fail "man -l does not render the commands"
    [ ! -s "$T/man.err" ] || fail "man -l: $(cat "$T/man.err")"
fi

# ---- the staged binary, from /, with the installed files only
unset DARKSCOPE_DATA_DIR DARKSCOPE_CONFIG
mkdir "$T/w"
cat > "$T/w/darkscope.conf" <<EOC
[store]
path = $T/w/store.db
[geo]
country = $ROOT/data/geo/country
asn = $ROOT/data/geo/asn
[sensor.tokyo]
darknet = 198.51.100.0/24
[sensor.osaka]
darknet = 203.0.113.0/24
EOC
[ -e "$ROOT/data/geo/country" ] || sed -i '/^\[geo\]/,/^asn/d' "$T/w/darkscope.conf"   # no geo: ZZ, a warning
DSI=$S/usr/bin/darkscope
(cd / && "$DSI" -V) | grep -q '^darkscope ' || fail "installed darkscope -V"
(cd / && "$DSI" synth -c "$T/w/darkscope.conf" -o "$T/w/cap.pcap" --days 3 --rate 3000 -q) || fail "installed synth"
(cd / && "$DSI" -c "$T/w/darkscope.conf" ingest -q "$T/w/cap.pcap") 2>"$T/ingest.err" \
    || fail "installed ingest from /: $(cat "$T/ingest.err")"
(cd / && "$DSI" -c "$T/w/darkscope.conf" top ports --format csv) > "$T/top.csv" || fail "installed top"
grep -q '^1,' "$T/top.csv" || fail "installed top printed no rows"
(cd / && "$DSI" -c "$T/w/darkscope.conf" report --period 2023-07-01..2023-07-03 -o "$T/w/r.html") 2>"$T/report.err" \
    || fail "installed report from /: $(cat "$T/report.err")"
grep -q 'telnet' "$T/w/r.html" || fail "the report names no service (names tables not found?)"

# ---- the data folder compiled in is PREFIX's, not DESTDIR's: a copy of the binary elsewhere
# looks in /usr/share/darkscope (and fails, unless this machine has it)
! grep -aq "$T/stage" "$DSI" || fail "the binary has DESTDIR ($T/stage) compiled in"
mkdir -p "$T/elsewhere/bin"
cp "$DSI" "$T/elsewhere/bin/darkscope"
if [ ! -e /usr/share/darkscope/payload-tools.tsv ]; then
    if (cd / && "$T/elsewhere/bin/darkscope" -c "$T/w/darkscope.conf" ingest -q --force "$T/w/cap.pcap") 2>"$T/copy.err"; then
        fail "a copied binary found data files it should not have"
    fi
    grep -q '/usr/share/darkscope/payload-tools.tsv' "$T/copy.err" \
        || fail "a copied binary did not look in PREFIX's share/darkscope: $(cat "$T/copy.err")"
fi

# ---- PREFIX without DESTDIR: the binary, moved away from its tree, finds the tables through the
# path compiled in (only main.o and datadir.o are rebuilt for the new PREFIX)
mk install PREFIX="$T/prefix" >/dev/null || fail "make install PREFIX=$T/prefix failed"
mkdir -p "$T/moved"
cp "$T/prefix/bin/darkscope" "$T/moved/darkscope"
(cd / && "$T/moved/darkscope" -c "$T/w/darkscope.conf" ingest -q --force "$T/w/cap.pcap") 2>"$T/moved.err" \
    || fail "a binary moved out of PREFIX did not find PREFIX's tables: $(cat "$T/moved.err")"
grep -q "ExecStart=$T/prefix/bin/darkscope " "$T/prefix/lib/systemd/system/darkscope-sensor.service" \
    || fail "PREFIX=$T/prefix: the sensor unit does not run $T/prefix/bin/darkscope"

# ---- uninstall removes every file it installed
mk uninstall DESTDIR="$T/stage" PREFIX=/usr >/dev/null || fail "make uninstall (DESTDIR) failed"
left=$(find "$S" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
mk uninstall PREFIX="$T/prefix" >/dev/null || fail "make uninstall (PREFIX) failed"
left=$(find "$T/prefix" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install: ok"
