#!/usr/bin/env python3
"""Prints the "Profiles" part of docs/connectors.md from connectors/profiles/*/*.json and the
golden fixtures beside this script (as examples). Usage:
  python3 tests/data/connectors/profile_docs.py > /tmp/profiles.md   # then paste into the doc"""
import json, os

ROOT = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(ROOT, '..', '..', '..', 'connectors', 'profiles')
REGIONS = ['shanghai', 'jiangsu', 'zhejiang', 'anhui', 'guangdong', 'hongkong', 'macau']
KINDS = ['assessment', 'caregiver', 'facility', 'sanction']


def cell(t):
    return str(t).replace('|', '\\|')


def example(p):
    region, kind = p['name'].split('/')
    ext = {'csv': 'csv', 'json': 'json', 'ndjson': 'ndjson', 'xml': 'xml'}[p['format']]
    path = os.path.join(ROOT, region, f'{kind}.{ext}')
    if not os.path.exists(path):
        return None
    data = open(path, 'rb').read()
    enc = {'utf-8': 'utf-8-sig', 'gbk': 'gbk', 'big5': 'big5', 'big5-hkscs': 'big5hkscs'}[p.get('encoding', 'utf-8')]
    text = data.decode(enc, errors='replace').replace('\r\n', '\n')
    lines = text.split('\n')
    n = 3 if p['format'] in ('csv', 'xml') else 2
    if p['format'] == 'xml':
        n = 3
    return '\n'.join(lines[:n]) + ('\n…' if len(lines) > n else '')


def section(p):
    out = []
    out.append(f"### {p['name']} (version {p.get('version', 1)})\n")
    out.append(p.get('description', '') + '\n')
    fmt = p['format']
    facts = [f"format **{fmt}**", f"encoding **{p.get('encoding', 'utf-8')}**"]
    if fmt == 'csv':
        c = p.get('csv', {})
        d = c.get('delimiter', ',')
        facts.append('delimiter `' + ('TAB' if d == '\\t' else d) + '`')
        facts.append('UTF-8 BOM' if c.get('bom') else 'no BOM')
        facts.append('CRLF line ends' if c.get('crlf') else 'LF line ends')
        facts.append('one header row with the field names below')
    if fmt == 'xml':
        facts.append(f"root `<{p['xml']['root']}>`, one `<{p['xml']['record']}>` per record")
    if fmt == 'json':
        facts.append('a top-level array of objects (NDJSON also read)')
    if fmt == 'ndjson':
        facts.append('one object per line (a top-level array also read)')
    facts.append(f"dates `{p.get('date_format', 'YYYY-MM-DD')}`")
    facts.append(f"person id scheme `{p.get('id_scheme', 'PRC_RESIDENT_ID')}`"
                 + (f", second id `{p['alt_id_scheme']}`" if 'alt_id_scheme' in p else ''))
    facts.append(f"region `{p['region']}`")
    out.append('- ' + '; '.join(facts) + '.\n')
    out.append('| # | Native name | Canonical | Required | Notes |')
    out.append('|---|---|---|---|---|')
    for i, f in enumerate(p['fields'], 1):
        notes = []
        if f['field'] in ('birth_date', 'event_date', 'valid_until'):
            notes.append('date `' + (f.get('date_format') or p.get('date_format', 'YYYY-MM-DD')) + '`')
        if 'min' in f or 'max' in f:
            notes.append(f"whole number {f.get('min', 0)}..{f.get('max', 1000000)}")
        if f.get('xml_attribute'):
            notes.append('XML attribute of the record element')
        if f.get('json_number'):
            notes.append('JSON number')
        if f['field'] == 'level':
            notes.append('scale table below')
        if f['field'] == 'status':
            notes.append('status table below')
        if f['field'] == 'sex':
            notes.append('sex table below')
        if f['field'] == 'subject_kind':
            notes.append('subject table below')
        if f['field'] in ('person_id', 'person_alt_id', 'person_name', 'birth_date', 'certificate_no'):
            notes.append('personal: validated/tokenised, never stored')
        out.append(f"| {i} | `{cell(f['name'])}` | {f['field']} | {'yes' if f.get('required') or f['field'] == 'source_id' else ''} | {cell('; '.join(notes))} |")
    s = p['scale']
    out.append(f"\nScale `{s['code']}` ({cell(s.get('name', ''))}):\n")
    kind = p['kind']
    if kind == 'sanction':
        out.append('| Native text | Code | Sanction type |')
        out.append('|---|---|---|')
        for l in s['levels']:
            out.append(f"| `{cell(l['native'])}` | {cell(l.get('code', l['native']))} | {l.get('sanction_type', 'penalty')} |")
    else:
        extra = ' Comparable |' if kind == 'facility' else ''
        out.append('| Native text | Code | Pivot | Range upper | Flag | Documented |' + extra)
        out.append('|---|---|---|---|---|---|' + ('---|' if extra else ''))
        for l in s['levels']:
            row = (f"| `{cell(l['native'])}` | {cell(l.get('code', l['native']))}"
                   + (f" ({l['scale']})" if 'scale' in l else '')
                   + f" | {l.get('pivot', '—')} | {l.get('range_upper', '')} | {l.get('flag', '')} | {'yes' if l.get('documented') else 'no'} |")
            if extra:
                row += f" {'yes' if l.get('comparable', 'pivot' in l) else 'no'} |"
            out.append(row)
    for key, title in (('statuses', 'Status'), ('sexes', 'Sex'), ('subject_kinds', 'Subject')):
        if key in p:
            out.append(f"\n{title}: " + ', '.join(f"`{cell(k)}` → {v}" for k, v in p[key].items()) + '.')
    ex = example(p)
    if ex:
        lang = {'csv': 'text', 'json': 'json', 'ndjson': 'json', 'xml': 'xml'}[fmt]
        out.append(f"\nExample (start of `tests/data/connectors/{p['name'].split('/')[0]}/{kind}.{fmt if fmt != 'csv' else 'csv'}`, shown as UTF-8):\n")
        out.append(f"```{lang}\n{ex}\n```")
    return '\n'.join(out) + '\n'


def main():
    print('## Profiles\n')
    print('Generated from the profile files by `tests/data/connectors/profile_docs.py`; the profile '
          'JSON is the authority. "Canonical" names the meaning (see the profile format above).\n')
    for r in REGIONS:
        for k in KINDS:
            with open(os.path.join(PROFILES, r, k + '.json'), encoding='utf-8') as fh:
                print(section(json.load(fh)))


if __name__ == '__main__':
    main()
