#!/usr/bin/env bash
# Debian's notmuch, unchanged (libnotmuch keeps its query and message
# objects in talloc memory), on our libtalloc: a generated maildir of a few
# thousand messages (threads, attachments; maildir.py, the same bytes every
# run) is indexed, searched, tagged, dumped, retagged, restored, re-indexed
# and compacted, once on Debian's libraries and once on ours, each side
# with a database and configuration of its own. Every command's output and
# exit status must be the same; so must the dumps of the two databases.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need notmuch notmuch
messages=${NOTMUCH_MESSAGES:-2000}
python3 "$SRC_ROOT/tests/integration/maildir.py" "$work/mail-template" "$messages"

session() {
    local side=$1 n=0 d libs=talloc
    d=$work/$side
    mkdir -p "$d"
    cp -r "$work/mail-template" "$d/mail"
    printf '[database]\npath=%s\n[user]\nname=Tester\nprimary_email=user00@example.org\n[new]\ntags=inbox;unread;\n[maildir]\nsynchronize_flags=true\n' \
        "$d/mail" >"$d/config"
    export NOTMUCH_CONFIG=$d/config
    step notmuch new
    step notmuch count '*'
    step notmuch count --output=threads '*'
    step notmuch count tag:unread
    step notmuch search --sort=oldest-first --limit=40 'subject:thread and talloc'
    step notmuch search --output=messages --sort=newest-first 'from:user07@example.org and date:2010-03-01..2010-09-01'
    step notmuch search --output=files --sort=oldest-first 'attachment:notes*'
    step notmuch search --format=json --limit=5 '(tevent or pool) and not samba'
    step notmuch show --format=json --entire-thread=true id:msg00010@integration.example
    step notmuch show --format=raw id:msg00050@integration.example
    step notmuch address --output=count --deduplicate=address --sort=oldest-first '*'
    unordered_step=$n
    step notmuch tag +important -inbox -- 'from:user03@example.org or subject:radius'
    step notmuch tag +reviewed -- 'tag:important and date:2010-01-01..2010-06-30'
    step notmuch count tag:important
    step notmuch dump --output="$d/dump1" '*'
    step notmuch tag -important -reviewed +scratch -- '*'
    step notmuch count tag:important
    step notmuch restore --accumulate=false --input="$d/dump1"
    step notmuch count tag:important
    step notmuch count tag:scratch
    step notmuch reindex 'subject:ctdb or attachment:notes*'
    step notmuch compact --backup="$d/backup"
    step notmuch search --output=tags '*'
    step notmuch count 'tag:reviewed'
    step notmuch dump --output="$d/dump2" '*'
    step notmuch search --output=threads --sort=oldest-first 'thread:{from:user01@example.org} and tag:important'
    unset NOTMUCH_CONFIG
    steps=$n
}
session ref
session ours
maps_report "$work/ours.1.maps"

for side in ref ours; do
    # notmuch address ignores --sort with --output=count or
    # --deduplicate=address (its manual: "the order of the results will be
    # undefined"): it prints its hash table, filled in the order of the
    # documents, which is again the order notmuch new met the files
    t=$work/$side.$unordered_step
    { sort "$t.stdout"; sed -n '/^--- stderr$/,$p' "$t"; } >"$t.sorted" && mv "$t.sorted" "$t"
    # notmuch new reports its rate; compact names its backup directory and
    # the sizes of Xapian's tables before and after (which vary a block or
    # two from one database to another, with either library);
    # thread ids are numbered in the order notmuch new met the files, which
    # is the order of each copy's directory (on tmpfs, the reverse of the
    # order cp made them in), not the libraries'
    mask_steps $side "$steps" 's/thread:[0-9a-f]\{16\}/thread:ID/g' \
        's/"thread": "[0-9a-f]\{16\}"/"thread": "ID"/g' \
        's/^Processed \([0-9]*\) total files in .*/Processed \1 total files/' \
        's/ in [0-9.]* \(seconds\|minutes\|milliseconds\)\././' \
        's/^ *\(Reduced by\|Size unchanged\) .*/     (table size)/'
done
same_steps notmuch "$steps"
# A dump lists the messages in document order (unsorted), which follows the
# order notmuch new met the files (above): the lines are compared sorted.
for dump in dump1 dump2; do
    for side in ref ours; do sort -o "$work/$side/$dump.sorted" "$work/$side/$dump"; done
    same "$work/ref/$dump.sorted" "$work/ours/$dump.sorted" "notmuch $dump"
done
# The session did something: all messages indexed, the restore undid the
# retagging.
grep -qx "$messages" "$work/ours.2.stdout" || fail "count of all messages: $(cat "$work/ours.2")"
[ "$(cat "$work/ours.19.stdout")" = "$(cat "$work/ours.14.stdout")" ] && [ "$(cat "$work/ours.14.stdout")" -gt 0 ] ||
    fail "restore did not bring the tags back: $(cat "$work/ours.14.stdout") before, $(cat "$work/ours.19.stdout") after"
grep -qx 0 "$work/ours.20.stdout" || fail "the scratch tag survived the restore"
note "notmuch: $messages messages, $steps steps and the dumps are the same on both"
