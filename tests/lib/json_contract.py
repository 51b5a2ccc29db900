#!/usr/bin/env python3
"""Checks pgcutover's --json / --log-json output against docs/json.md.

docs/json.md holds one markdown table per document kind, each after a
`<!-- json-contract: NAME -->` marker (the page says how to read them).  This
parses those tables and checks a document both ways: every documented
`always` field is present with its type, and no field is present that the
page does not document.  Standard library only.

  json_contract.py DOC --command NAME --exit-code N FILE
      FILE holds one --json document of command NAME (indented or not);
      its exit_code must be N (the process's exit status).
  json_contract.py DOC --command status --ndjson --exit-code N FILE
      one compact document per line (status --watch --json); the last
      line's exit_code must be N, each line must be a single line.
  json_contract.py DOC --log-lines [--exit-code N] FILE
      --log-json stderr: every line a log-line object; with N != 0 the last
      line carries exit_code N.
  json_contract.py DOC --self-check
      the page itself: every table parses, every type and reference is known.

Prints one line per problem and exits 1 if there is any.
"""
import argparse
import json
import math
import re
import sys

BASE_TYPES = {"string", "int", "number", "bool", "object", "map", "array", "any",
              "timestamp", "lsn", "part"}
COMMANDS = ["check", "copy", "follow", "status", "switchover", "verify", "cleanup",
            "migrate", "ddl-capture"]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LSN = re.compile(r"^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")


class Row:
    def __init__(self, table, path, type_, presence, unit):
        self.table, self.path, self.presence, self.unit = table, path, presence, unit
        self.nullable = type_.endswith("?")
        type_ = type_.rstrip("?")
        m = re.fullmatch(r"object\(([\w-]+)\)", type_)
        self.ref = m.group(1) if m else None
        self.type = "object" if m else type_


def parse_contract(text):
    """{name: [Row]} from the page's marked tables."""
    tables = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"<!-- json-contract: ([\w-]+) -->", lines[i].strip())
        i += 1
        if not m:
            continue
        name = m.group(1)
        while i < len(lines) and not lines[i].startswith("|"):
            i += 1
        header = [c.strip() for c in lines[i].strip().strip("|").split("|")]
        if header[:4] != ["field", "type", "presence", "unit"]:
            raise SystemExit(f"json.md: table {name}: header {header}")
        i += 2                                  # header and |---|
        rows = []
        while i < len(lines) and lines[i].startswith("|"):
            cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
            path = cells[0].strip("`")
            rows.append(Row(name, path, cells[1], cells[2], cells[3]))
            i += 1
        tables[name] = rows
    return tables


def self_check(tables):
    problems = []
    for name in ["envelope", "log-line"] + COMMANDS:
        if name not in tables:
            problems.append(f"json.md: no table for {name}")
    for name, rows in tables.items():
        paths = {r.path for r in rows}
        for r in rows:
            if r.type not in BASE_TYPES:
                problems.append(f"json.md: {name}.{r.path}: unknown type {r.type}")
            if r.presence not in ("always", "optional"):
                problems.append(f"json.md: {name}.{r.path}: presence {r.presence}")
            ref = r.ref or (r.path[3:] if r.path.startswith("...") else None)
            if ref and ref not in tables:
                problems.append(f"json.md: {name}.{r.path}: no table {ref}")
            parent = parent_of(r.path)
            if parent and not r.path.startswith("...") and parent not in paths:
                problems.append(f"json.md: {name}.{r.path}: its parent {parent} is not documented")
    return problems


def parent_of(path):
    if path.endswith("[]"):
        return path[:-2]
    if "." in path:
        return path.rsplit(".", 1)[0]
    return None


def expand(tables, name, with_envelope):
    """The rows of a document kind: its table, parts spread, envelope first."""
    rows = {}
    if with_envelope:
        for r in tables["envelope"]:
            rows[r.path] = r
    for r in tables[name]:
        if r.path.startswith("..."):
            for pr in expand(tables, r.path[3:], False).values():
                rows[pr.path] = pr
            continue
        # a command's row replaces the envelope's, with its sub-rows
        if r.path in rows and rows[r.path].table == "envelope":
            for p in [p for p in rows if p.startswith(r.path + ".") or p.startswith(r.path + "[]")]:
                del rows[p]
        rows[r.path] = r
    return rows


def type_ok(value, row):
    if value is None:
        return row.nullable or row.type == "any"
    t = row.type
    if t == "string":
        return isinstance(value, str)
    if t == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "bool":
        return isinstance(value, bool)
    if t in ("object", "map"):
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "timestamp":
        return isinstance(value, str) and TIMESTAMP.match(value) is not None
    if t == "lsn":
        return isinstance(value, str) and LSN.match(value) is not None
    return t == "any"


def unit_ok(value, row):
    """Durations are rounded to 0.1 ms."""
    if not isinstance(value, float):
        return True
    scale = {"ms": 10, "s": 10000}.get(row.unit)
    return scale is None or abs(value * scale - round(value * scale)) < 1e-6 * max(1, abs(value * scale))


class Checker:
    def __init__(self, tables):
        self.tables = tables
        self.problems = []

    def problem(self, where, text):
        self.problems.append(f"{where}: {text}")

    def document(self, doc, name, where, with_envelope=True):
        rows = expand(self.tables, name, with_envelope)
        if not isinstance(doc, dict):
            self.problem(where, "not a JSON object")
            return
        if with_envelope and set(doc) <= {r.path for r in self.tables["envelope"]} and "error" in doc:
            # the failure document: the envelope and error only
            rows = expand(self.tables, "envelope", False)
            if doc.get("ok") is not False:
                self.problem(where, "a failure document with ok not false")
        self.obj(doc, "", rows, where)

    def obj(self, value, prefix, rows, where):
        children = {p[len(prefix):]: r for p, r in rows.items()
                    if p.startswith(prefix) and "." not in p[len(prefix):] and "[]" not in p[len(prefix):]
                    and p != prefix}
        for key in value:
            if key not in children:
                self.problem(where, f"field {prefix}{key} is not documented in docs/json.md")
        for key, r in children.items():
            if key not in value:
                if r.presence == "always":
                    self.problem(where, f"documented field {prefix}{key} is missing")
                continue
            self.value(value[key], r, rows, where)

    def value(self, v, r, rows, where):
        if not type_ok(v, r):
            self.problem(where, f"{r.path}: {json.dumps(v)[:80]} is not {r.type}{'?' if r.nullable else ''}")
            return
        if not unit_ok(v, r):
            self.problem(where, f"{r.path}: {v} {r.unit} is not rounded to 0.1 ms")
        if v is None:
            return
        if r.ref:
            self.document(v, r.ref, f"{where} {r.path}", with_envelope=r.ref in COMMANDS)
        elif r.type == "object":
            self.obj(v, r.path + ".", rows, where)
        elif r.type == "array":
            elem = rows.get(r.path + "[]")
            if elem is None:
                self.problem(where, f"{r.path}[] is not documented")
                return
            for i, item in enumerate(v):
                self.value(item, elem, rows, f"{where} {r.path}[{i}]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("doc")
    ap.add_argument("file", nargs="?")
    ap.add_argument("--command")
    ap.add_argument("--exit-code", type=int)
    ap.add_argument("--ndjson", action="store_true")
    ap.add_argument("--log-lines", action="store_true")
    ap.add_argument("--self-check", action="store_true")
    a = ap.parse_intermixed_args()
    with open(a.doc) as f:
        tables = parse_contract(f.read())
    c = Checker(tables)
    c.problems += self_check(tables)
    if not a.self_check:
        with open(a.file) as f:
            text = f.read()
        if a.ndjson or a.log_lines:
            lines = [line for line in text.split("\n") if line != ""]
            if not lines:
                c.problem(a.file, "no lines")
            docs = []
            for n, line in enumerate(lines, 1):
                try:
                    docs.append(json.loads(line))
                except ValueError as e:
                    c.problem(f"{a.file}:{n}", f"not one JSON document per line: {e}")
                    docs.append(None)
            for n, d in enumerate(docs, 1):
                if d is None:
                    continue
                if a.log_lines:
                    c.document(d, "log-line", f"{a.file}:{n}", with_envelope=False)
                else:
                    c.document(d, a.command, f"{a.file}:{n}")
                    if d.get("command") != a.command:
                        c.problem(f"{a.file}:{n}", f"command {d.get('command')!r}, not {a.command!r}")
            last = docs[-1] if docs else None
            if a.log_lines and a.exit_code and (not last or last.get("exit_code") != a.exit_code):
                c.problem(a.file, f"the last log line does not carry exit_code {a.exit_code}")
            if a.ndjson and a.exit_code is not None and last and last.get("exit_code") != a.exit_code:
                c.problem(a.file, f"last line's exit_code {last.get('exit_code')} is not the exit status {a.exit_code}")
        else:
            try:
                doc = json.loads(text)
            except ValueError as e:
                c.problem(a.file, f"stdout is not one JSON document: {e}")
                doc = None
            if doc is not None:
                c.document(doc, a.command, a.file)
                if doc.get("command") != a.command:
                    c.problem(a.file, f"command {doc.get('command')!r}, not {a.command!r}")
                if a.exit_code is not None and doc.get("exit_code") != a.exit_code:
                    c.problem(a.file, f"exit_code {doc.get('exit_code')} is not the exit status {a.exit_code}")
                if isinstance(doc.get("exit_code"), int) and doc.get("ok") is not (doc.get("exit_code") == 0):
                    c.problem(a.file, "ok is not exit_code == 0")
    for p in c.problems:
        print(p)
    sys.exit(1 if c.problems else 0)


if __name__ == "__main__":
    main()
