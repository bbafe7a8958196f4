#!/bin/bash
# The shipper examples that no Debian package can run here (Filebeat,
# Vector, Fluent Bit): each parses, reads the file that the unit writes,
# takes the record's @timestamp as the event's time and its fields as they
# are, and drops the same markers.  (rsyslog's runs for real: 72-ship-rsyslog.t.)
. "$(dirname "$0")/lib.sh"
# Debian's python3 with python3-yaml (install-deps), whatever python3 PATH finds
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || skip_all "python3-yaml is not installed (scripts/install-deps)"
plan 6
D=$TOP/dist/shipping
LOG=/var/log/flowtop/flows.ndjson

"$PY" - "$D/filebeat.yml" "$LOG" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
inp = c["filebeat.inputs"][0]
nd = inp["parsers"][0]["ndjson"]
assert inp["type"] == "filestream" and sys.argv[2] in inp["paths"], inp
assert nd["target"] == "" and nd["overwrite_keys"] is True, nd
drops = [e["equals"]["event.action"] for e in inp["processors"][0]["drop_event"]["when"]["or"]]
assert sorted(drops) == ["refresh", "snapshot-begin", "snapshot-end"], drops
PY
ok $? "filebeat.yml: filestream on $LOG, ndjson at the top level with our @timestamp, markers dropped"

"$PY" - "$D/vector.yaml" "$LOG" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert c["log_schema"]["timestamp_key"] == "@timestamp"
src = c["sources"]["flowtop"]
assert src["type"] == "file" and sys.argv[2] in src["include"]
remap = c["transforms"]["flowtop_ecs"]
assert remap["type"] == "remap" and "parse_json!" in remap["source"] and '."@timestamp" = parse_timestamp!' in remap["source"]
f = c["transforms"]["flowtop_flows"]
assert f["inputs"] == ["flowtop_ecs"] and "snapshot-begin" in f["condition"] and "snapshot-end" in f["condition"] and '"refresh"' in f["condition"]
for s in c["sinks"].values():
    for i in s["inputs"]:
        assert i in c["transforms"] or i in c["sources"], i
PY
ok $? "vector.yaml: file source on $LOG, remap to the record with @timestamp as the timestamp key, markers dropped"

# Fluent Bit's classic format: [SECTION] then 'Key value' lines
fb() { awk -v sec="[$2]" -v key="$3" '/^\[/{in_sec = ($1 == sec)} in_sec && $1 == key {$1 = ""; sub(/^ +/, ""); print}' "$1"; }
[ "$(fb "$D/fluent-bit.conf" INPUT Path)" = "$LOG" ] && [ "$(fb "$D/fluent-bit.conf" INPUT Parser)" = flowtop_ndjson ] &&
	[ -f "$D/$(fb "$D/fluent-bit.conf" SERVICE Parsers_File)" ]
ok $? "fluent-bit.conf: tail on $LOG with the parser from the file beside it"
[ "$(fb "$D/flowtop-parsers.conf" PARSER Name)" = flowtop_ndjson ] && [ "$(fb "$D/flowtop-parsers.conf" PARSER Format)" = json ] &&
	[ "$(fb "$D/flowtop-parsers.conf" PARSER Time_Key)" = @timestamp ] && [ "$(fb "$D/flowtop-parsers.conf" PARSER Time_Keep)" = Off ]
ok $? "flowtop-parsers.conf: json, @timestamp is the time (not kept twice)"

# Fluent Bit's Time_Format must read what the emitter writes: check it
# against a real record's @timestamp with strptime (%L: fractional seconds)
netns_setup
ct_inject -s 192.0.2.1 -d 198.51.100.2 -p tcp --sport 1000 --dport 443 --state ESTABLISHED -t 300
ts=$(nsx "$EMIT" --once -n 2>/dev/null | jq -r '."@timestamp"' | head -1)
fmt=$(fb "$D/flowtop-parsers.conf" PARSER Time_Format)
"$PY" -c 'import sys, datetime; datetime.datetime.strptime(sys.argv[1], sys.argv[2].replace("%L", "%f"))' "$ts" "$fmt"
ok $? "Time_Format $fmt reads a record's @timestamp ($ts)"
t=$(fb "$D/fluent-bit.conf" FILTER Exclude)
echo "$t" | grep -q "^\$event\['action'\] " && "$PY" -c 'import re, sys; r = re.compile(sys.argv[1]); assert r.search("snapshot-begin") and r.search("snapshot-end") and r.search("refresh") and not r.search("snapshot") and not r.search("overrun")' "${t#* }"
ok $? "fluent-bit.conf: markers dropped, flows and overrun kept"
done_testing
