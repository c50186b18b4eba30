# test_objects.sh - the object store through the CLI: stdin, disk full,
# interrupted puts, corruption, unreadable files.
source "$(dirname "$0")/lib.sh"

run bash -c "printf 'hello\n' | '$DISCO' object put - --json"
expect_eq "put from stdin" "$(printf 'hello\n' | sha256sum | cut -d' ' -f1)" "$(jqo .hash)"
HELLO=$(jqo .hash)
run bash -c "printf 'hello\n' | '$DISCO' object put - --json"
expect_eq "second put deduplicates" "false" "$(jqo .created)"

# disk full: a file-size limit makes writes fail with EFBIG (SIGXFSZ ignored)
head -c 2000000 /dev/urandom >"$T/big.bin"
run bash -c "trap '' XFSZ; ulimit -f 200; exec '$DISCO' object put '$T/big.bin'"
expect_err "disk full is reported" 1 "space"
n_obj=$(find "$DISCO_DATA/objects" -type f -not -path "$DISCO_DATA/objects/tmp/*" | wc -l)
n_tmp=$(find "$DISCO_DATA/objects/tmp" -type f 2>/dev/null | wc -l)
expect_eq "disk full leaves no object and no temp" "1 0" "$n_obj $n_tmp"

# interrupted put: kill -9 while it streams from a pipe that stays open
mkfifo "$T/fifo"
"$DISCO" object put - <"$T/fifo" >/dev/null 2>&1 &
PUT_PID=$!
exec 3>"$T/fifo"
head -c 3000000 /dev/urandom >&3
for _ in $(seq 100); do
    [[ -n "$(find "$DISCO_DATA/objects/tmp" -type f -size +1k 2>/dev/null)" ]] && break
    sleep 0.1
done
kill -9 $PUT_PID
wait $PUT_PID 2>/dev/null
exec 3>&-
n_obj=$(find "$DISCO_DATA/objects" -type f -not -path "$DISCO_DATA/objects/tmp/*" | wc -l)
expect_eq "interrupted put leaves no object" "1" "$n_obj"
d object gc --apply --grace 0 --json
expect_eq "gc removes the interrupted temp file" "1" "$(jqo .tmp_files)"
expect_eq "gc removes objects no resource names" "1" "$(jqo .removed)"
run bash -c "printf 'hello\n' | '$DISCO' object put - --json"
expect_eq "put again after gc" "true" "$(jqo .created)"

# corruption on disk
d object put "$T/big.bin" --json
BIG=$(jqo .hash)
f="$DISCO_DATA/objects/${BIG:0:2}/${BIG:2}"
chmod u+w "$f"
old=$(od -An -tu1 -j1000 -N1 "$f" | tr -d ' ')
printf "\\$(printf %03o $(((old + 1) % 256)))" | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
d object verify "$HELLO"
expect_code "verify a good object" 0
d object verify "$BIG"
expect_err "verify reports corruption" 1 "$BIG"
d object verify --json
expect_err "verify all finds it" 1 "1 of 2 objects failed"

d object stat 0000000000000000000000000000000000000000000000000000000000000000
expect_err "unknown hash" 1 "0000000000"
d object stat abc
expect_err "malformed hash" 2 "param 'hash'"
d object put "$T/none.bin"
expect_err "missing file" 1 "$T/none.bin"

# unreadable file (as an unprivileged user when running as root)
echo secret >"$T/secret.bin"
chmod 000 "$T/secret.bin"
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    chmod 777 "$T" && mkdir -p "$T/nobody-data" && chmod 777 "$T/nobody-data"
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$DISCO" --data "$T/nobody-data" \
        object put "$T/secret.bin"
else
    d object put "$T/secret.bin"
fi
expect_err "unreadable file" 1 "secret.bin"
