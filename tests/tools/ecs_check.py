#!/usr/bin/python3
"""ecs_check.py - check flowtop-emit's records against the ECS schema itself.

    ecs_check.py SCHEMA json FILE [--require F1,F2,...]   NDJSON records
    ecs_check.py SCHEMA csv FILE [--require ...]          CSV, header first
    ecs_check.py SCHEMA fields FILE                       --list-fields output

SCHEMA is the JSON that scripts/install-deps makes from npm's @elastic/ecs
(generated ecs_flat): {"version": "...", "fields": {"dotted.name": {...}}}.

Every key outside conntrack.* must be an ECS field; its value must fit the
field's type (keyword, long, ip, date, boolean ...), be an array only where
ECS normalises the field to one, and be one of the allowed (or, for
network.direction, expected) values where ECS lists them; an event.type
must be one that ECS expects for the record's event.category.  No null, no
empty string, no empty object.  ecs.version must name SCHEMA's release.
--require: each named field must occur in at least one record (so that a
check that passes has really looked at it).  Problems go to stdout, one a
line; the status is 1 when there is any.
"""
import csv
import datetime
import ipaddress
import json
import re
import sys

OWN = "conntrack."
LONG_MIN, LONG_MAX = -(2 ** 63), 2 ** 63 - 1
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
STRING_TYPES = {"keyword", "constant_keyword", "wildcard", "match_only_text", "text"}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
# --list-fields types: what each may be in ECS
LIST_TYPES = {
    "string": STRING_TYPES | {"ip", "date"},
    "number": {"long", "integer"},
    "array": STRING_TYPES,
}


class Checker:
    def __init__(self, schema_path):
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        self.version = schema["version"]
        self.fields = schema["fields"]
        self.problems = []
        self.seen = set()

    def bad(self, where, msg):
        self.problems.append("%s: %s" % (where, msg))

    def allowed(self, name):
        spec = self.fields[name]
        if spec.get("allowed_values"):
            return {a["name"] for a in spec["allowed_values"]}
        if spec.get("expected_values"):
            return set(spec["expected_values"])
        return None

    def check_scalar(self, where, name, value, from_csv):
        """One value of field name; CSV hands every value over as text."""
        t = self.fields[name]["type"]
        if value is None:
            return self.bad(where, "%s is null" % name)
        if t in ("long", "integer"):
            if from_csv:
                if not re.fullmatch(r"-?\d+", value):
                    return self.bad(where, "%s: %r is not an integer (%s)" % (name, value, t))
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                return self.bad(where, "%s: %r is not an integer (%s)" % (name, value, t))
            lo, hi = (LONG_MIN, LONG_MAX) if t == "long" else (INT_MIN, INT_MAX)
            if not lo <= value <= hi:
                return self.bad(where, "%s: %d out of range for %s" % (name, value, t))
        elif t == "boolean":
            if from_csv:
                if value not in ("true", "false"):
                    return self.bad(where, "%s: %r is not a boolean" % (name, value))
            elif not isinstance(value, bool):
                return self.bad(where, "%s: %r is not a boolean" % (name, value))
        elif t in ("float", "double", "scaled_float"):
            if from_csv:
                try:
                    float(value)
                except ValueError:
                    return self.bad(where, "%s: %r is not a number" % (name, value))
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.bad(where, "%s: %r is not a number" % (name, value))
        elif t in STRING_TYPES or t in ("ip", "date"):
            if not isinstance(value, str):
                return self.bad(where, "%s: %r is not a string (%s)" % (name, value, t))
            if value == "":
                return self.bad(where, "%s is an empty string" % name)
            if t == "ip":
                try:
                    ipaddress.ip_address(value)
                except ValueError:
                    return self.bad(where, "%s: %r is not an IP address" % (name, value))
            elif t == "date":
                if not DATE_RE.match(value):
                    return self.bad(where, "%s: %r is not an ISO 8601 date" % (name, value))
                try:
                    datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
                except ValueError:
                    return self.bad(where, "%s: %r is not a valid date" % (name, value))
            allowed = self.allowed(name)
            if allowed is not None and value not in allowed:
                self.bad(where, "%s: %r is not one of ECS's values %s"
                         % (name, value, ",".join(sorted(allowed))))
        else:
            self.bad(where, "%s: type %s is not one the emitter may write" % (name, t))

    def check_field(self, where, name, value, from_csv=False):
        if name.startswith(OWN):
            return
        self.seen.add(name)
        if name not in self.fields:
            return self.bad(where, "%s is not an ECS %s field" % (name, self.version))
        is_array = "array" in self.fields[name].get("normalize", [])
        if from_csv and is_array:
            value = value.split("|")
        if isinstance(value, list):
            if not is_array:
                return self.bad(where, "%s is an array; ECS does not make it one" % name)
            if not value:
                return self.bad(where, "%s is an empty array" % name)
            for v in value:
                self.check_scalar(where, name, v, from_csv)
        else:
            self.check_scalar(where, name, value, from_csv)

    def check_categories(self, where, rec_get):
        """event.type values must be ones ECS expects for event.category."""
        cats, types = rec_get("event.category"), rec_get("event.type")
        if not cats or not types or "event.category" not in self.fields:
            return
        expect = {}
        for a in self.fields["event.category"].get("allowed_values", []):
            expect[a["name"]] = set(a.get("expected_event_types", []))
        ok_types = set()
        for c in cats:
            ok_types |= expect.get(c, set())
        for t in types:
            if t not in ok_types:
                self.bad(where, "event.type %r is not expected for event.category %s"
                         % (t, ",".join(cats)))

    def check_version(self, where, value):
        if value is not None and value != self.version:
            self.bad(where, "ecs.version %r, but the schema checked is %s" % (value, self.version))

    def flatten(self, where, obj, prefix, out):
        if not obj:
            self.bad(where, "%s is an empty object" % (prefix.rstrip(".") or "the record"))
        for k, v in obj.items():
            name = prefix + k
            if isinstance(v, dict):
                self.flatten(where, v, name + ".", out)
            else:
                out[name] = v

    def run_json(self, path):
        n = 0
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                where = "%s:%d" % (path, lineno)
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    self.bad(where, "not JSON: %s" % e)
                    continue
                if not isinstance(rec, dict):
                    self.bad(where, "not a JSON object")
                    continue
                flat = {}
                self.flatten(where, rec, "", flat)
                for name, value in flat.items():
                    self.check_field(where, name, value)
                self.check_categories(where, flat.get)
                self.check_version(where, flat.get("ecs.version"))
                n += 1
        return n

    def run_csv(self, path):
        n = 0
        with open(path, encoding="utf-8", newline="") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            if not header:
                self.bad(path, "no header line")
                return 0
            for name in header:
                if not name.startswith(OWN) and name not in self.fields:
                    self.bad(path + ":1", "column %s is not an ECS %s field" % (name, self.version))
            for lineno, row in enumerate(rows, 2):
                where = "%s:%d" % (path, lineno)
                if len(row) != len(header):
                    self.bad(where, "%d columns, header has %d" % (len(row), len(header)))
                    continue
                flat = {h: v for h, v in zip(header, row) if v != ""}
                for name, value in flat.items():
                    if name in self.fields or name.startswith(OWN):
                        self.check_field(where, name, value, from_csv=True)

                def get_list(name):
                    v = flat.get(name)
                    return v.split("|") if v is not None else None
                self.check_categories(where, get_list)
                self.check_version(where, flat.get("ecs.version"))
                n += 1
        return n

    def run_fields(self, path):
        n = 0
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) < 2:
                    continue
                name, kind = parts[0], parts[1]
                where = "%s:%d" % (path, lineno)
                n += 1
                if name.startswith(OWN):
                    continue
                self.seen.add(name)
                spec = self.fields.get(name)
                if spec is None:
                    self.bad(where, "%s is not an ECS %s field" % (name, self.version))
                    continue
                if spec["type"] not in LIST_TYPES.get(kind, ()):
                    self.bad(where, "%s is written as a %s, ECS says %s" % (name, kind, spec["type"]))
                is_array = "array" in spec.get("normalize", [])
                if (kind == "array") != is_array:
                    self.bad(where, "%s: written %s, ECS %s" % (
                        name, "as an array" if kind == "array" else "as one value",
                        "makes it an array" if is_array else "keeps it one value"))
        return n


def main(argv):
    if len(argv) < 4 or argv[2] not in ("json", "csv", "fields"):
        sys.stderr.write(__doc__)
        return 2
    c = Checker(argv[1])
    require = []
    if len(argv) == 6 and argv[4] == "--require":
        require = [r for r in argv[5].split(",") if r]
    n = {"json": c.run_json, "csv": c.run_csv, "fields": c.run_fields}[argv[2]](argv[3])
    if n == 0:
        c.bad(argv[3], "no records")
    for r in require:
        if r not in c.seen:
            c.bad(argv[3], "%s never occurs" % r)
    for p in c.problems:
        print(p)
    print("# %d records, %d ECS fields seen, %d problems" % (n, len(c.seen), len(c.problems)))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
