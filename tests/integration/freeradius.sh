#!/usr/bin/env bash
# Debian's FreeRADIUS, unchanged (the server and its modules, radclient,
# keep their requests, attributes and configuration in talloc memory):
# `freeradius -X` in the foreground on 127.0.0.1 with a private copy of
# Debian's configuration (a site of our own: files, PAP, CHAP, MS-CHAP,
# detail accounting; Status-Server answered; no proxying), once on
# Debian's libtalloc and once on ours. radclient and radtest send PAP, CHAP
# and MS-CHAP logins, refused ones (a wrong password, an unknown user),
# accounting start/stop, a Status-Server request and a batch of requests.
# Every reply, the accounting detail file and the server's debug log must
# be the same on both after masking ports, packet ids, authenticators and
# times.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"
need freeradius freeradius
need radclient freeradius-utils
need radtest freeradius-utils

# raddb DIR AUTH-PORT ACCT-PORT: Debian's configuration copied to DIR/raddb,
# with every directory pointing into DIR and a single site of our own.
raddb() {
    local d=$1 r=$1/raddb m
    mkdir -p "$d/log" "$d/run"
    cp -rL /etc/freeradius/3.0 "$r"
    rm -f "$r"/sites-enabled/*
    for m in "$r"/mods-enabled/*; do
        case ${m##*/} in always|attr_filter|chap|detail|expr|files|mschap|pap|preprocess) ;; *) rm "$m" ;; esac
    done
    sed -i -e "s#^raddbdir = .*#raddbdir = $r#" -e "s#^logdir = .*#logdir = $d/log#" \
        -e "s#^run_dir = .*#run_dir = $d/run#" -e '/^\s*user = freerad/d' -e '/^\s*group = freerad/d' \
        -e 's/^\(\s*auth\) = no/\1 = yes/' -e 's/^\(\s*status_server\) = .*/\1 = yes/' \
        -e 's/^proxy_requests\s*=.*/proxy_requests = no/' "$r/radiusd.conf"
    cat >"$r/sites-enabled/test" <<SITE
server test {
listen {
	type = auth
	ipaddr = 127.0.0.1
	port = $2
}
listen {
	type = acct
	ipaddr = 127.0.0.1
	port = $3
}
authorize {
	preprocess
	chap
	mschap
	files
	pap
}
authenticate {
	Auth-Type PAP {
		pap
	}
	Auth-Type CHAP {
		chap
	}
	Auth-Type MS-CHAP {
		mschap
	}
}
preacct {
	preprocess
	acct_unique
}
accounting {
	detail
}
post-auth {
	Post-Auth-Type REJECT {
		attr_filter.access_reject
	}
}
}
SITE
    printf 'client localhost {\n\tipaddr = 127.0.0.1\n\tsecret = testing123\n}\n' >"$r/clients.conf"
    cat >"$r/mods-config/files/authorize" <<'USERS'
alice	Cleartext-Password := "alice-pw"
	Reply-Message := "Hello, %{User-Name}"
bob	Cleartext-Password := "bob-pw"
	Reply-Message := "Hi bob", Session-Timeout := 3600
USERS
}

# A batch: 60 logins, every third with a wrong password.
for i in $(seq 1 60); do
    if [ $((i % 3)) -eq 0 ]; then pw=wrong; else pw=alice-pw; fi
    printf 'User-Name = "alice", User-Password = "%s", NAS-Port = %d\n\n' $pw "$i"
done >"$work/batch"

session() {
    local side=$1 n=0 d auth acct libs=talloc
    d=$work/$side
    auth=$(free_port)
    acct=$(free_port)
    raddb "$d" "$auth" "$acct"
    # stdin: a file of attributes
    send() { local f=$1; shift; run_stdin=$f step "$@"; }
    start_service "$side" "$work/$side.server" talloc freeradius -X -d "$d/raddb"
    wait_until 60 "freeradius ready" grep -q '^Ready to process requests' "$work/$side.server.stdout"
    printf 'User-Name = "alice", User-Password = "alice-pw"\n' >"$d/pap"
    send "$d/pap" radclient -x 127.0.0.1:"$auth" auth testing123
    step radtest -t pap bob bob-pw 127.0.0.1:"$auth" 7 testing123
    step radtest -t chap alice alice-pw 127.0.0.1:"$auth" 0 testing123
    step radtest -t mschap bob bob-pw 127.0.0.1:"$auth" 0 testing123
    step radtest -t pap alice not-her-password 127.0.0.1:"$auth" 0 testing123
    step radtest -t mschap alice not-her-password 127.0.0.1:"$auth" 0 testing123
    step radtest -t pap mallory any-password 127.0.0.1:"$auth" 0 testing123
    printf 'User-Name = "alice", Acct-Status-Type = Start, Acct-Session-Id = "s-1", NAS-IP-Address = 127.0.0.1, NAS-Port = 3\n' >"$d/start"
    printf 'User-Name = "alice", Acct-Status-Type = Stop, Acct-Session-Id = "s-1", NAS-IP-Address = 127.0.0.1, NAS-Port = 3, Acct-Session-Time = 60, Acct-Input-Octets = 1000, Acct-Output-Octets = 2000\n' >"$d/stop"
    send "$d/start" radclient -x 127.0.0.1:"$acct" acct testing123
    send "$d/stop" radclient -x 127.0.0.1:"$acct" acct testing123
    printf 'Message-Authenticator = 0x00\n' >"$d/status"
    send "$d/status" radclient -x 127.0.0.1:"$auth" status testing123
    step radclient -s -q -p 1 -f "$work/batch" 127.0.0.1:"$auth" auth testing123
    stop_service "$work/$side.server"
    cat "$d"/log/radacct/127.0.0.1/detail-* >"$work/$side.detail"
    steps=$n
}
session ref
session ours
maps_report "$work/ours.server.maps"

for side in ref ours; do
    for i in $(seq 1 "$steps") server detail; do
        # (the server's timers clean up requests and report idleness when
        # the machine's load lets them: those lines come at any place)
        mask "$work/$side.$i" "s#$work/$side#SIDE#g" \
            '/Cleaning up request packet ID/d' '/^Waking up in /d' '/^Ready to process requests/d' \
            '/^Threads: /d' \
            's/\(Id\|ID\) [0-9]\+/\1 N/g' 's/\(127\.0\.0\.1\|0\.0\.0\.0\|\*\)\([: ]\)\(port \)\?[0-9]\+/\1\2\3PORT/g' \
            's/port = [0-9]\+/port = PORT/' \
            's/\(Authenticator\|Message-Authenticator\|CHAP-Password\|CHAP-Challenge\|MS-CHAP-Challenge\|MS-CHAP2-Response\|MS-CHAP2-Success\|MS-CHAP-Error\|MS-MPPE-[A-Za-z-]*\|Acct-Unique-Session-Id\|Event-Timestamp\|Acct-Delay-Time\|Timestamp\|Packet-Original-Timestamp\) \(=\|:=\) .*/\1 = X/' \
            's/^\(\t\|\s*\)\(Mon\|Tue\|Wed\|Thu\|Fri\|Sat\|Sun\) .*/\1DATE/' \
            's/timestamp +[0-9]\+/timestamp +T/' 's/Waking up in [0-9.]* seconds/Waking up in T seconds/' \
            's/length [0-9]\+/length N/' 's/\(NT-Response\|Challenge\|response\|challenge\)\(.\) [0-9a-fA-F]\{16,\}/\1\2 HEX/g' \
            's/ [0-9a-f]\{32,\}\b/ HEX/g' 's/0x[0-9a-f]\{16,\}/0xHEX/g'
    done
done
same_steps freeradius "$steps"
same "$work/ref.detail" "$work/ours.detail" "the accounting detail file"
same "$work/ref.server" "$work/ours.server" "the server's debug log"

# What the server answered: accepted, refused, accounted, status given.
grep -q 'Received Access-Accept' "$work/ours.1" || fail "PAP login not accepted: $(cat "$work/ours.1")"
for i in 2 3 4; do grep -q 'Received Access-Accept' "$work/ours.$i" || fail "step $i not accepted: $(cat "$work/ours.$i")"; done
for i in 5 6 7; do grep -q 'Received Access-Reject' "$work/ours.$i" || fail "step $i not rejected: $(cat "$work/ours.$i")"; done
grep -q 'Received Accounting-Response' "$work/ours.9" || fail "accounting stop not answered: $(cat "$work/ours.9")"
grep -q 'Received Access-Accept' "$work/ours.10" || fail "Status-Server not answered: $(cat "$work/ours.10")"
grep -q 'Accepted *: *40' "$work/ours.11" && grep -q 'Rejected *: *20' "$work/ours.11" || fail "batch summary: $(cat "$work/ours.11")"
grep -q 'Acct-Session-Time = 60' "$work/ours.detail" || fail "the detail file lacks the stop record"
note "freeradius: $steps client steps, the detail file and the server's log are the same on both"
