#!/usr/bin/env python3
"""promparse.py FILE: a strict parser of the Prometheus text format 0.0.4
as yaimd prints it.  Exits 1 naming the first problem; otherwise prints
one "name{labels} value" per sample, sorted (for the tests to query).
Rules: every line is a HELP, a TYPE, another comment or a sample; names
match [a-zA-Z_:][a-zA-Z0-9_:]* and start with yaim_; label names match
[a-zA-Z_][a-zA-Z0-9_]*, values are quoted with \\\\ \\" \\n escapes only;
a family's TYPE comes before its samples, once; counters end in _total;
histograms have _bucket (monotone, le ascending, +Inf equal to _count),
_sum and _count; no series twice; the text ends in a newline."""
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


def die(n, line, why):
    sys.exit('line %d: %s: %r' % (n, why, line))


def parse_labels(n, line, s):
    labels, i = [], 0
    while i < len(s):
        m = LABEL.match(s, i)
        if not m:
            die(n, line, 'bad label name')
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            die(n, line, 'label without ="')
        i += 2
        val = ''
        while True:
            if i >= len(s):
                die(n, line, 'unterminated label value')
            c = s[i]
            if c == '\\':
                if i + 1 >= len(s) or s[i + 1] not in '\\"n':
                    die(n, line, 'bad escape')
                val += s[i:i + 2]
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                die(n, line, 'newline in label value')
            else:
                val += c
                i += 1
        if name in [k for k, _ in labels]:
            die(n, line, 'label twice')
        labels.append((name, val))
        if i < len(s):
            if s[i] != ',':
                die(n, line, 'expected , between labels')
            i += 1
    return labels


def value(n, line, s):
    if s in ('+Inf', '-Inf', 'NaN'):
        return float(s.replace('Inf', 'inf').replace('NaN', 'nan'))
    if not re.match(r'-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z', s):
        die(n, line, 'bad value')
    return float(s)


def main():
    text = open(sys.argv[1]).read()
    if not text.endswith('\n'):
        sys.exit('the text does not end in a newline')
    types, helps, seen, done = {}, set(), set(), set()
    samples = []
    hist = {}
    current = None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        if line.startswith('#'):
            f = line.split(' ', 3)
            if len(f) >= 3 and f[1] in ('HELP', 'TYPE'):
                if not NAME.match(f[2]) or not f[2].startswith('yaim_'):
                    die(n, line, 'bad metric name')
                if f[1] == 'HELP':
                    if f[2] in helps or len(f) < 4 or not f[3]:
                        die(n, line, 'HELP twice or empty')
                    helps.add(f[2])
                else:
                    if f[2] in types or len(f) != 4 or f[3] not in TYPES:
                        die(n, line, 'TYPE twice or unknown')
                    if f[2] in done:
                        die(n, line, 'TYPE after samples')
                    types[f[2]] = f[3]
                    if f[3] == 'counter' and not f[2].endswith('_total'):
                        die(n, line, 'counter not ending in _total')
                    if 'seconds' in f[2] and not f[2].endswith('_seconds'):
                        die(n, line, 'a duration not in _seconds')
                continue
            continue
        m = re.match(r'([^{ ]+)(\{(.*)\})? (\S+)( -?[0-9]+)?\Z', line)
        if not m:
            die(n, line, 'not a comment or a sample')
        name = m.group(1)
        if not NAME.match(name) or not name.startswith('yaim_'):
            die(n, line, 'bad metric name')
        labels = parse_labels(n, line, m.group(3) or '')
        v = value(n, line, m.group(4))
        fam = name
        for suf in ('_bucket', '_sum', '_count'):
            base = name[:-len(suf)]
            if name.endswith(suf) and types.get(base) in ('histogram',
                                                          'summary'):
                fam = base
        if fam not in types:
            die(n, line, 'sample before (or without) its TYPE')
        if fam in done and fam != current:
            die(n, line, 'family not contiguous')
        current = fam
        done.add(fam)
        t = types[fam]
        if t == 'histogram' and fam == name:
            die(n, line, 'histogram sample without a suffix')
        if t == 'counter' and (v < 0 or math.isnan(v)):
            die(n, line, 'negative counter')
        key = (name, tuple(sorted(labels)))
        if key in seen:
            die(n, line, 'series twice')
        seen.add(key)
        if t == 'histogram':
            rest = tuple(sorted((k, x) for k, x in labels if k != 'le'))
            h = hist.setdefault((fam, rest), {'b': [], 'count': None})
            if name.endswith('_bucket'):
                le = dict(labels).get('le')
                if le is None:
                    die(n, line, 'bucket without le')
                h['b'].append((value(n, line, le), v))
            elif name.endswith('_count'):
                h['count'] = v
        samples.append('%s{%s} %s' % (name, ','.join(
            '%s="%s"' % kv for kv in labels), m.group(4)))
    for (fam, rest), h in hist.items():
        b = h['b']
        if not b or b[-1][0] != math.inf:
            sys.exit('%s%s: no +Inf bucket last' % (fam, rest))
        for (l1, c1), (l2, c2) in zip(b, b[1:]):
            if l2 <= l1 or c2 < c1:
                sys.exit('%s%s: buckets not ascending' % (fam, rest))
        if h['count'] != b[-1][1]:
            sys.exit('%s%s: +Inf bucket is not _count' % (fam, rest))
    for fam in types:
        if fam not in done:
            sys.exit('%s: TYPE without samples' % fam)
    print('\n'.join(sorted(samples)))


main()
