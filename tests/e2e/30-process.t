#!/bin/bash
# 30-process.t - process and user of a flow's local socket, against real
# sockets: the test's namespace talks over a veth pair to a second namespace,
# so that the local end of each flow is unambiguous (the client end of an
# outgoing connection, the accepted end of an incoming one).
. "$(dirname "$0")/lib.sh"

[ -x "$EMIT" ] || skip_all "flowtop-emit not built"
# the system python: a per-user shim (pyenv) is not for the user nobody
PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "needs /usr/bin/python3"
id nobody >/dev/null 2>&1 || skip_all "needs the user nobody"
netns_setup

PEER="$NS-peer"
ip netns add "$PEER" || { echo "Bail out! cannot add the peer namespace"; exit 1; }
at_exit 'for p in $(ip netns pids "$PEER"); do kill -9 $p; done; ip netns del "$PEER"'
px() { ip netns exec "$PEER" "$@"; }

ip -n "$NS" link add vA type veth peer name vB netns "$PEER"
nsx ip addr add 192.168.77.1/24 dev vA
nsx ip addr add fd77::1/64 dev vA nodad
nsx ip link set vA up
px ip link set lo up
px ip addr add 192.168.77.2/24 dev vB
px ip addr add fd77::2/64 dev vB nodad
px ip link set vB up

# The programs the test runs; each names itself with prctl, says "ready PID"
# when its sockets are up and then holds them until killed.
chmod 755 "$TMP"
cat > "$TMP/peer.py" <<'PY'
import ctypes, os, socket, sys, time

def setname(name):
    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)

role = sys.argv[1]
keep = []
if role == "server":
    setname(b"ft-server")
    for fam, addr, port in ((socket.AF_INET, "192.168.77.1", 7001),
                            (socket.AF_INET6, "fd77::1", 7002)):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((addr, port)); s.listen(8); keep.append(s)
    ds = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ds.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ds.bind(("::", 7004)); ds.listen(8); keep.append(ds)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", 7003)); keep.append(u)
    print("ready", os.getpid(), flush=True)
    for s in keep[:3]:
        keep.append(s.accept()[0])
    u.recvfrom(100)
    print("accepted", flush=True)
elif role == "remote-client":
    for fam, addr, port in ((socket.AF_INET, "192.168.77.1", 7001),
                            (socket.AF_INET6, "fd77::1", 7002),
                            (socket.AF_INET, "192.168.77.1", 7004)):
        keep.append(socket.create_connection((addr, port)))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", ("192.168.77.1", 7003)); keep.append(u)
    print("ready", os.getpid(), flush=True)
elif role == "remote-server":
    for fam, addr, port in ((socket.AF_INET, "192.168.77.2", 7101),
                            (socket.AF_INET6, "fd77::2", 7102)):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((addr, port)); s.listen(8); keep.append(s)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("192.168.77.2", 7103)); keep.append(u)
    print("ready", os.getpid(), flush=True)
    while True:
        for s in keep[:2]:
            s.setblocking(False)
            try:
                keep.append(s.accept()[0])
            except BlockingIOError:
                pass
        time.sleep(0.02)
elif role in ("client", "hostile"):
    if role == "client":
        setname(b"ft-client")
        targets = (("192.168.77.2", 7101), ("fd77::2", 7102))
    else:
        setname(b'q"b\\s\nn\x01\x1b\xff\xfe\x7f')
        targets = (("192.168.77.2", 7101),)
    for t in targets:
        keep.append(socket.create_connection(t))
    if role == "client":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect(("192.168.77.2", 7103)); u.send(b"x"); keep.append(u)
    print("ready", os.getpid(), flush=True)
while True:
    time.sleep(1)
PY
chmod 644 "$TMP/peer.py"

ready() { grep -q '^ready' "$1"; }
pid_of() { awk '/^ready/ { print $2; exit }' "$1"; }

nsx "$PY" "$TMP/peer.py" server > "$TMP/server.out" 2>&1 &
px "$PY" "$TMP/peer.py" remote-server > "$TMP/rserver.out" 2>&1 &
wait_for 5 ready "$TMP/server.out" && wait_for 5 ready "$TMP/rserver.out" ||
	{ echo "Bail out! servers did not start: $(cat "$TMP"/*.out)"; exit 1; }
px "$PY" "$TMP/peer.py" remote-client > "$TMP/rclient.out" 2>&1 &
nsx setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$PY" "$TMP/peer.py" client > "$TMP/client.out" 2>&1 &
nsx setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$PY" "$TMP/peer.py" hostile > "$TMP/hostile.out" 2>&1 &
wait_for 5 ready "$TMP/rclient.out" && wait_for 5 ready "$TMP/client.out" &&
	wait_for 5 ready "$TMP/hostile.out" && wait_for 5 grep -q accepted "$TMP/server.out" ||
	{ echo "Bail out! clients did not start: $(cat "$TMP"/*.out)"; exit 1; }
SPID=$(pid_of "$TMP/server.out")
CPID=$(pid_of "$TMP/client.out")
HPID=$(pid_of "$TMP/hostile.out")
PYEXE=$(readlink "/proc/$SPID/exe")

# flows with no socket behind them: an established TCP flow to the
# server's listening port (its socket is gone), and a routed UDP flow
ct_inject -p tcp -s 192.168.77.2 -d 192.168.77.1 --sport 5555 --dport 7001 \
	--state ESTABLISHED -t 100 -u SEEN_REPLY
ct_inject -p udp -s 192.0.2.1 -d 198.51.100.1 --sport 5000 --dport 7003 -t 100

plan 34

nsx "$EMIT" --once -n --no-geoip > "$TMP/out.json" 2> "$TMP/err"
ok $? "flowtop-emit --once ran"
json_lines_valid "$TMP/out.json"
ok $? "every line is valid JSON"

# flow SELECTOR: the one record that matches the jq condition
flow() { jq -c "select($1)" "$TMP/out.json" | head -n 1; }
# check NAME SELECTOR PID COMM UID USER
check() {
	local r
	r=$(flow "$2")
	[ -n "$r" ] || { ok 1 "$1: flow is there"; diag "$(cat "$TMP/out.json")"; return; }
	is "$(jq -r '[.process.pid, .process.name, .process.executable] | join(" ")' <<<"$r")" \
		"$3 $4 $PYEXE" "$1: pid, name, executable"
	is "$(jq -r '[.user.id, .user.name] | join(" ")' <<<"$r")" "$5 $6" "$1: user"
}
tcp='.network.transport == "tcp"'
udp='.network.transport == "udp"'

check "accepted tcp (ipv4)" "$tcp and .destination.port == 7001 and .source.port != 5555" \
	"$SPID" ft-server 0 root
check "accepted tcp (ipv6)" "$tcp and .destination.port == 7002" "$SPID" ft-server 0 root
check "accepted tcp on a dual-stack socket" "$tcp and .destination.port == 7004" \
	"$SPID" ft-server 0 root
check "udp to an unconnected socket" "$udp and .destination.port == 7003 and .source.ip == \"192.168.77.2\"" \
	"$SPID" ft-server 0 root
check "outgoing tcp (client side)" "$tcp and .destination.port == 7101 and .process.name != null and (.process.name | startswith(\"ft-\"))" \
	"$CPID" ft-client 65534 nobody
check "outgoing tcp over ipv6" "$tcp and .destination.port == 7102" "$CPID" ft-client 65534 nobody
check "connected udp socket" "$udp and .destination.port == 7103" "$CPID" ft-client 65534 nobody

r=$(flow "$tcp and .source.port == 5555")
[ -n "$r" ]
ok $? "the injected tcp flow is there"
is "$(jq -c '[.process, .user]' <<<"$r")" "[null,null]" "a flow whose socket is gone has no process or user"
r=$(flow "$udp and .destination.ip == \"198.51.100.1\"")
[ -n "$r" ]
ok $? "the injected routed udp flow is there"
is "$(jq -c '[.process, .user]' <<<"$r")" "[null,null]" "a routed flow to a bound port has no process"

# the hostile name: valid JSON, and every byte that can be kept is kept
r=$(jq -c "select(.process.pid == $HPID)" "$TMP/out.json" | head -n 1)
[ -n "$r" ]
ok $? "the flow of the renamed process is there"
jq -e . >/dev/null <<<"$r"
ok $? "its record is valid JSON"
name=$(jq -r '.process.name' <<<"$r")
want=$(printf 'q"b\\s\nn\001\033\357\277\275\357\277\275\177')
is "$name" "$want" "quotes, backslash, newline and control characters kept, invalid UTF-8 as U+FFFD"
is "$(jq -r '.user.name' <<<"$r")" nobody "its user"

# the same in CSV: one line per record, the name quoted (RFC 4180)
nsx "$EMIT" --once -n --no-geoip -f csv -F process.pid,process.name > "$TMP/out.csv" 2>/dev/null
ok $? "csv output ran"
grep -q "^$HPID,\"q\"\"b" "$TMP/out.csv"
ok $? "the hostile name is quoted in csv"

# --no-process turns it off
nsx "$EMIT" --once -n --no-geoip --no-process > "$TMP/off.json" 2>/dev/null
ok $? "--no-process ran"
is "$(jq -c 'select(.process != null or .user != null)' "$TMP/off.json" | wc -l)" 0 \
	"--no-process: no record has process or user"
is "$(jq -c 'select(.destination.port == 7001)' "$TMP/off.json" | wc -l | tr -d ' ')" 2 \
	"--no-process: the flows are still written"

# as a user without the right to read other processes' descriptors: one
# notice naming the capabilities that would give it, the stream goes on, and the user is still known from sock_diag
# (flowtop-emit needs CAP_NET_ADMIN only to read conntrack)
nsx setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=+net_admin \
	--ambient-caps=+net_admin "$EMIT" --once -n --no-geoip > "$TMP/np.json" 2> "$TMP/np.err"
rc=$?
if [ $rc -eq 0 ] && [ -s "$TMP/np.json" ]; then
	ok 0 "runs without the right to read /proc/*/fd"
	is "$(grep -c 'process attribution needs' "$TMP/np.err")" 1 "says so once"
	grep -q "^flowtop-emit: no process fields for other users' processes: process attribution needs CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH$" "$TMP/np.err"
	ok $? "in the house style, naming what is missing: $(grep 'process attribution' "$TMP/np.err")"
	r=$(jq -c "select($tcp and .destination.port == 7001 and .source.port != 5555)" "$TMP/np.json" | head -n 1)
	is "$(jq -r '[.process.pid, .user.name] | join(" ")' <<<"$r")" " root" \
		"another user's socket: the user, without the process"
	is "$(jq -sc "[.[] | select($tcp and .destination.port == 7101) | .process.pid] | sort" "$TMP/np.json")" \
		"$(jq -nc "[$CPID, $HPID] | sort")" "its own user's processes are still found"
else
	diag "unprivileged run failed ($rc): $(cat "$TMP/np.err")"
	for i in 1 2 3 4 5; do ok 1 "unprivileged run"; done
fi

done_testing
