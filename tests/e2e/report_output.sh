# darkscope report -o PATH writes what PATH is the way a shell's `>` would, and replaces only
# regular files (util/atomic_file.c; issue #21: as root, `report -o /dev/null` turned /dev/null
# into a regular file, and symbolic links and FIFOs were replaced too):
#   - /dev/null stays a character device, /dev/stdout writes to the descriptor;
#   - a FIFO is written through and stays a FIFO;
#   - a symbolic link stays a link and its target gets the report (atomically, mode kept);
#   - a regular file is replaced by rename (new inode), keeping its mode;
#   - a directory it may not write into gives a clear error and leaves the old file intact.
source "$(dirname "$0")/lib.bash"
need stat

# were this test to break /dev/null or /dev/stdout (as the bug did, run as root), everything
# else on the machine would suffer: put them back, and fail
restore_devs() {
    local bad=0
    [ "$(id -u)" = 0 ] || return 0
    if [ ! -c /dev/null ]; then
        rm -f /dev/null && mknod -m 666 /dev/null c 1 3
        echo "FAIL: /dev/null was not a character device afterwards (restored)" >&2
        bad=1
    fi
    if [ -e /proc/self/fd/1 ] && [ ! -L /dev/stdout ]; then
        rm -f /dev/stdout && ln -s /proc/self/fd/1 /dev/stdout
        echo "FAIL: /dev/stdout was not a symbolic link afterwards (restored)" >&2
        bad=1
    fi
    return $bad
}
trap 'rc=$?; restore_devs || rc=1; chattr -i "$T/ro" 2>/dev/null || true; rm -rf "$T"; exit $rc' EXIT

write_conf
# with DS=build-sanitize/darkscope: fontconfig's process-lifetime caches are not our leaks (as in
# report_sanitize.sh)
printf 'leak:libfontconfig.so\n' > lsan.supp
export LSAN_OPTIONS=suppressions=$T/lsan.supp G_SLICE=always-malloc
$DS synth -q -o a.pcap --start 2023-07-01 --days 2 --rate 3000 --seed 21
$DS ingest -q a.pcap
R() { $DS report --period 2023-07-01..2023-07-02 --format json "$@"; }
R -o want.json 2>/dev/null
[ -s want.json ] || fail "no report written to a plain file"

# /dev/null: a character device before and after (the bug needs root to show)
[ "$(stat -c %F /dev/null)" = "character special file" ] || skip "/dev/null is not a character device here"
before=$(stat -c '%F %t:%T %i %a' /dev/null)
R -o /dev/null 2>err || { cat err >&2; fail "report -o /dev/null failed"; }
[ "$(stat -c %F /dev/null)" = "character special file" ] || fail "/dev/null is now a $(stat -c %F /dev/null)"
[ "$(stat -c '%F %t:%T %i %a' /dev/null)" = "$before" ] || fail "/dev/null changed: $before -> $(stat -c '%F %t:%T %i %a' /dev/null)"
ls -a /dev | grep -q '^\.null\.tmp\.' && fail "a temporary file was left in /dev"
# Markdown into /dev/null: its figures go to the current directory, not /dev/null-*.svg
R --format md -o /dev/null 2>err >/dev/null || { cat err >&2; fail "report --format md -o /dev/null failed"; }
ls /dev | grep -q '^null-' && { rm -f /dev/null-*.svg; fail "figures were written into /dev"; }
ls report-*.svg >/dev/null 2>&1 || fail "no Markdown figures in the current directory"
[ "$(stat -c %F /dev/null)" = "character special file" ] || fail "/dev/null is now a $(stat -c %F /dev/null)"

# /dev/stdout: into a pipe, and into a file opened by >> (appended, not replaced)
R -o /dev/stdout 2>/dev/null | cmp -s - want.json || fail "report -o /dev/stdout into a pipe differs"
[ -L /dev/stdout ] || fail "/dev/stdout is no longer a symbolic link"
echo "first line" > appended
R -o /dev/stdout 2>/dev/null >> appended
{ echo "first line"; cat want.json; } | cmp -s - appended || fail "report -o /dev/stdout >> FILE did not append"

# a FIFO: written through to its reader, still a FIFO afterwards
mkfifo fifo
cat fifo > from_fifo &
reader=$!
R -o fifo 2>/dev/null || fail "report -o FIFO failed"
wait "$reader"
[ "$(stat -c %F fifo)" = "fifo" ] || fail "the FIFO is now a $(stat -c %F fifo)"
cmp -s from_fifo want.json || fail "what came through the FIFO differs from the report"

# a symbolic link (relative, into another directory): the link stays, its target is replaced
mkdir pub
echo old > pub/report.json
chmod 640 pub/report.json
ino=$(stat -c %i pub/report.json)
ln -s pub/report.json link.json
R -o link.json 2>/dev/null || fail "report -o SYMLINK failed"
[ "$(stat -c %F link.json)" = "symbolic link" ] || fail "the symbolic link is now a $(stat -c %F link.json)"
[ "$(readlink link.json)" = "pub/report.json" ] || fail "the link now points at $(readlink link.json)"
cmp -s pub/report.json want.json || fail "the link's target did not get the report"
[ "$(stat -c %a pub/report.json)" = 640 ] || fail "the target's mode became $(stat -c %a pub/report.json)"
[ "$(stat -c %i pub/report.json)" != "$ino" ] || fail "the target was rewritten in place, not replaced by rename"
[ -z "$(ls -A pub | grep -v '^report.json$')" ] || fail "left in pub/: $(ls -A pub)"
# a dangling link: its target is created
ln -s pub/new.json dangling.json
R -o dangling.json 2>/dev/null && cmp -s pub/new.json want.json || fail "report -o DANGLING-LINK did not create its target"
[ -L dangling.json ] || fail "the dangling link was replaced"

# a regular file: replaced by rename, its mode kept
echo old > plain.json
chmod 600 plain.json
ino=$(stat -c %i plain.json)
R -o plain.json 2>/dev/null
cmp -s plain.json want.json || fail "the plain file did not get the report"
[ "$(stat -c %a plain.json)" = 600 ] || fail "the plain file's mode became $(stat -c %a plain.json)"
[ "$(stat -c %i plain.json)" != "$ino" ] || fail "the plain file was rewritten in place"

# a directory: refused by name
mkdir adir
R -o adir 2>err && fail "report -o DIRECTORY succeeded"
grep -q "'adir' is a directory" err || fail "unclear error for a directory: $(cat err)"

# a directory that cannot be written into (read-only to us; for root, immutable): clear error,
# old file intact, no temporary file left
mkdir ro
echo old > ro/report.json
if [ "$(id -u)" = 0 ]; then
    chattr +i ro 2>/dev/null || skip "chattr +i not supported here (the rest passed)"
else
    chmod 555 ro
fi
R -o ro/report.json 2>err && fail "report into a read-only directory succeeded"
grep -q "cannot write 'ro/report.json': cannot create a temporary file in 'ro'" err ||
    fail "unclear error for a read-only directory: $(cat err)"
[ "$(cat ro/report.json)" = old ] || fail "the old report was damaged"
[ "$(id -u)" = 0 ] && chattr -i ro || chmod 755 ro
[ "$(ls -A ro)" = report.json ] || fail "left in ro/: $(ls -A ro)"
echo "PASS report_output"
