# shellcheck shell=bash disable=SC2154  # ($work and same() come from common.sh)
# Sourced by tests/python/samba-ldb.sh and system-install.sh, after
# tests/integration/common.sh.

# same_samba_transcripts WHAT: samba_ldb.py's transcripts $work/ref and
# $work/ours (run with work directories $work/ref.dir and $work/ours.dir)
# must be equal once those directories are written alike.
same_samba_transcripts() {
    sed -i "s#$work/ref.dir#WORK#g" "$work/ref"
    sed -i "s#$work/ours.dir#WORK#g" "$work/ours"
    same "$work/ref" "$work/ours" "$1"
}
