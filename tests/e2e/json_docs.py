#!/usr/bin/env python3
"""Check real JSON output against the field tables of docs/json.md.

usage: json_docs.py DOC SECTION FILE [SECTION FILE ...]
       json_docs.py DOC --selftest SECTION FILE

Each table follows a line `<!-- json-fields: NAME -->`; a row is
| `path` | type | meaning |. A path is dotted, `[]` is an array element,
`*` any key. A type is alternatives joined by " or ": string, integer,
boolean, object, array, null, a "literal" string, or another section's name
(the value is that section's object); ", optional" means it may be absent.
Fails (exit 1) on a field the table lacks, a required field missing, or a
value of another type. Prints the documented paths no file exercised.
--selftest mutates FILE (a field added, one removed, one retyped) and fails
unless each mutation is caught.
"""
import copy
import json
import re
import sys

TYPES = {"string", "integer", "boolean", "object", "array", "null"}


def tokens(path):
    return re.findall(r"\[\]|[^.\[\]]+", path)


def parse_doc(text):
    sections, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"<!-- json-fields: (\S+) -->", line)
        if m:
            cur = sections.setdefault(m.group(1), [])
            continue
        if cur is None:
            continue
        if line.startswith("| `"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            path = cells[0].strip("`")
            tcell = cells[1]
            optional = tcell.endswith(", optional")
            if optional:
                tcell = tcell[: -len(", optional")]
            alts = []
            for alt in tcell.split(" or "):
                alt = alt.strip().strip("`")
                if alt.startswith('"') and alt.endswith('"'):
                    alts.append(("literal", alt[1:-1]))
                elif alt in TYPES:
                    alts.append(("type", alt))
                else:
                    alts.append(("section", alt))
            cur.append({"path": path, "tokens": tokens(path), "alts": alts,
                        "optional": optional})
        elif cur and line.strip() == "":
            cur = None
    return sections


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def match(pat, toks):
    return len(pat) == len(toks) and all(
        p == t or (p == "*" and t != "[]") for p, t in zip(pat, toks))


class Checker:
    def __init__(self, sections):
        self.sections = sections
        self.errors = []
        self.seen = set()

    def check(self, section, value, where):
        rows = self.sections[section]
        self.walk(section, rows, value, [], where)

    def walk(self, section, rows, value, toks, where):
        shown = where + ":" + (".".join(toks).replace(".[]", "[]") or "(root)")
        if toks:
            found = [r for r in rows if match(r["tokens"], toks)]
            if not found and toks[-1] == "[]" and any(
                    len(r["tokens"]) > len(toks) and match(r["tokens"][:len(toks)], toks)
                    for r in rows):
                # an array's element described only by its fields: an object
                if not isinstance(value, dict):
                    self.errors.append("%s: %s, documented as an object" % (shown, jtype(value)))
                    return
                found = [{"path": None, "alts": [("type", "object")]}]
            if not found:
                self.errors.append("%s: not in docs/json.md (%s)" % (shown, section))
                return
            row = found[0]
            if row["path"]:
                self.seen.add((section, row["path"]))
            t = jtype(value)
            ok, sub = False, None
            for kind, a in row["alts"]:
                if kind == "type" and a == t:
                    ok = True
                elif kind == "literal" and t == "string" and value == a:
                    ok = True
                elif kind == "section" and t == "object":
                    ok, sub = True, a
                if ok:
                    break
            if not ok:
                self.errors.append("%s: %s %s, documented as %s" % (
                    shown, t, json.dumps(value)[:60], " or ".join(
                        a if k != "literal" else '"%s"' % a for k, a in row["alts"])))
                return
            if sub:
                if sub not in self.sections:
                    self.errors.append("%s: section '%s' not in docs/json.md" % (shown, sub))
                else:
                    self.check(sub, value, shown)
                return
        if isinstance(value, dict):
            # required fields of this object
            for r in rows:
                rt = r["tokens"]
                if (len(rt) == len(toks) + 1 and match(rt[:-1], toks)
                        and rt[-1] not in ("*", "[]") and not r["optional"]
                        and rt[-1] not in value):
                    self.errors.append("%s: lacks '%s' (documented, not optional)" % (shown, rt[-1]))
            for k, v in value.items():
                self.walk(section, rows, v, toks + [k], where)
        elif isinstance(value, list):
            for v in value:
                self.walk(section, rows, v, toks + ["[]"], where)


def main(argv):
    doc = parse_doc(open(argv[1]).read())
    for name in ("plan", "status", "apply", "config", "lock"):
        if not doc.get(name):
            print("FAIL - docs/json.md has no field table '%s'" % name)
            return 1
    if argv[2] == "--selftest":
        section, value = argv[3], json.load(open(argv[4]))
        mutations = []
        m = copy.deepcopy(value)
        m["undocumented_field"] = 1
        mutations.append(("an undocumented field", m))
        m = copy.deepcopy(value)
        del m["format_version"]
        mutations.append(("format_version removed", m))
        m = copy.deepcopy(value)
        m["format_version"] = 2
        mutations.append(("format_version an integer", m))
        m = copy.deepcopy(value)
        m["hosts"] = [dict(m["hosts"][0], name=7)] if m.get("hosts") else 7
        mutations.append(("a host name an integer", m))
        for what, m in mutations:
            c = Checker(doc)
            c.check(section, m, "selftest")
            if not c.errors:
                print("FAIL - the check misses: %s" % what)
                return 1
            print("ok - the check catches %s: %s" % (what, c.errors[0]))
        return 0
    c = Checker(doc)
    pairs = list(zip(argv[2::2], argv[3::2]))
    for section, path in pairs:
        if section not in doc:
            print("FAIL - no section '%s'" % section)
            return 1
        c.check(section, json.load(open(path)), path.rsplit("/", 1)[-1])
    for e in c.errors:
        print("FAIL - " + e)
    checked = {s for s, _ in pairs} | {"plan"} if "apply" in {s for s, _ in pairs} else {s for s, _ in pairs}
    total = [(s, r["path"]) for s in sorted(checked) for r in doc[s]]
    unseen = [p for p in total if p not in c.seen]
    print("%d of %d documented fields seen in %d outputs" % (
        len(total) - len(unseen), len(total), len(pairs)))
    for s, p in unseen:
        print("  not exercised: %s %s" % (s, p))
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
