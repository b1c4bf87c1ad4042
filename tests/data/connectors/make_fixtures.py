#!/usr/bin/env python3
"""Writes the golden native fixtures tests/data/connectors/<region>/<kind>.<ext> from the
profiles in connectors/profiles: a few valid rows, then one row per relevant defect kind
(reason codes of notes/reason_codes.md), in the profile's real format and encoding (GBK / Big5
bytes via Python codecs). The expected outputs are written by the golden test itself:
  CAREHUB_REGENERATE_GOLDEN=1 build/.../tests/connectors_tests --gtest_filter='Profiles/*'
Re-run this script only when a profile changes, then review both diffs."""
import json, os, sys

ROOT = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(ROOT, '..', '..', '..', 'connectors', 'profiles')

PRC_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY'
USCC_W = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def prc(addr, birth, seq):
    body = f'{addr}{birth}{seq:03d}'
    return body + '10X98765432'[sum(int(c) * w for c, w in zip(body, PRC_W)) % 11]


def prc_bad_check(good):
    return good[:17] + ('0' if good[17] != '0' else '1')


def hkid(letters, digits):
    vals = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters] + [int(c) for c in digits]
    s = sum(v * w for v, w in zip(vals, [9, 8, 7, 6, 5, 4, 3, 2]))
    r = s % 11
    c = 0 if r == 0 else 11 - r
    return f'{letters}{digits}({"A" if c == 10 else c})'


def uscc(region, org):
    body = f'52{region}{org}'
    s = sum(USCC_CHARS.index(c) * w for c, w in zip(body, USCC_W))
    return body + USCC_CHARS[(31 - s % 31) % 31]


def fmt_date(pattern, y, m, d):
    out, i = '', 0
    while i < len(pattern):
        if pattern.startswith('YYYY', i):
            out += f'{y:04d}'; i += 4
        elif pattern.startswith('MM', i):
            out += f'{m:02d}'; i += 2
        elif pattern.startswith('DD', i):
            out += f'{d:02d}'; i += 2
        elif pattern[i] == 'M':
            out += str(m); i += 1
        elif pattern[i] == 'D':
            out += str(d); i += 1
        else:
            out += pattern[i]; i += 1
    return out


NAMES = {
    'shanghai': ['王秀英', '李建国', '陈美华', '张伟'], 'jiangsu': ['刘桂兰', '周志强', '吴丽娟', '孙明'],
    'zhejiang': ['钱晓燕', '赵国庆', '郑淑芬', '冯军'], 'anhui': ['杨玉兰', '黄德胜', '何秀珍', '胡斌'],
    'guangdong': ['梁淑仪', '陈国华', '黎美玲', '林伟强'], 'hongkong': ['CHAN Tai Man', 'WONG Siu Ying', 'LEE Ka Wai', 'CHEUNG Wing'],
    'macau': ['Ho Kuok Wa', 'Leong Mei Lin', 'Chan Sio Pou', 'Lam Ka Ian'],
}
HK_CHINESE_NAMES = ['陳大文', '黃小英', '李家偉', '張永']
ORG_NAMES = {
    'shanghai': ['浦东新区第一养老院', '上海市长者照护评估中心', '静安区"乐龄"护理院, 分部'],
    'jiangsu': ['南京市秦淮区颐养院', '江苏省老年人能力评估中心', '南京"康乐"护理中心'],
    'zhejiang': ['杭州市福利中心', '浙江省老年评估中心', '西湖区 "安康" & 颐养院'],
    'anhui': ['合肥市第一社会福利院', '安徽省长护险评估中心', '蜀山区"夕阳红", 护理院'],
    'guangdong': ['广州市老人院', '广东省老年人能力评估中心', '深圳"康宁";护理院'],
    'hongkong': ['Tsuen Wan Care Home', 'SWD Standardised Assessment Office (Kowloon)', 'Sunshine "Golden Age", Home'],
    'macau': ['Lar de Idosos da Taipa', 'Centro de Avaliação do IAS', 'Lar "Santa Maria", Coloane'],
}
LEGAL = {
    'shanghai': '《养老机构管理办法》第四十六条', 'jiangsu': '《江苏省养老服务条例》第七十二条',
    'zhejiang': '《浙江省社会养老服务促进条例》第五十条', 'anhui': '《养老机构管理办法》第四十六条',
    'guangdong': '《广东省养老服务条例》第六十五条', 'hongkong': 'Cap. 459 s. 20',
    'macau': 'Lei n.º 12/2018 第十五條',
}


class Row:
    def __init__(self, values, note=''):
        self.values = dict(values)
        self.note = note
        self.raw_override = None  # (field, bytes) for undecodable bytes
        self.malformed = None


def build_rows(p):
    region = p['name'].split('/')[0]
    kind = p['kind']
    fields = {f['field']: f for f in p['fields']}
    rc = p['region_codes']
    home = rc[0]
    dfmt = lambda f, y, m, d: fmt_date(fields[f].get('date_format') or p.get('date_format', 'YYYY-MM-DD'), y, m, d)
    levels = p['scale']['levels']
    status_of = {}
    for native, sym in p.get('statuses', {}).items():
        status_of.setdefault(sym, native)
    sex_of = {}
    for native, sym in p.get('sexes', {}).items():
        sex_of.setdefault(sym, native)
    names = NAMES[region] if not (region == 'hongkong' and p['encoding'].startswith('big5')) else HK_CHINESE_NAMES
    orgs = ORG_NAMES[region]
    addr = {'shanghai': '310115', 'jiangsu': '320104', 'zhejiang': '330106', 'anhui': '340104',
            'guangdong': '440304', 'hongkong': '810000', 'macau': '820000'}[region]
    scheme = p.get('id_scheme', 'PRC_RESIDENT_ID')

    def person(i, sex, birth):
        y, m, d = birth
        if scheme == 'PRC_RESIDENT_ID':
            return prc(addr, f'{y:04d}{m:02d}{d:02d}', 10 + i * 2 + (1 if sex == 'M' else 0))
        if scheme == 'HK_ID':
            return hkid(['A', 'E', 'AB', 'D'][i], ['123456', '364912', '987654', '288754'][i])
        return ['1234567(8)', '5215299(3)', '7123456(0)', '1450321(6)'][i]

    people = [('F', (1949, 12, 31)), ('M', (1938, 5, 20)), ('F', (1952, 2, 29)), ('M', (1960, 7, 1))]
    seq = [0]

    def sid():
        seq[0] += 1
        prefix = {'assessment': 'PG', 'caregiver': 'HL', 'facility': 'JG', 'sanction': 'CF'}[kind]
        return f'{region[:2].upper()}-{prefix}-{seq[0]:04d}'

    def base(i, level_index, subject='organisation'):
        sex, birth = people[i % 4]
        v = {}
        v['source_id'] = sid()
        lvl = levels[level_index % len(levels)]
        v['level'] = lvl['native']
        ev = [(2024, 3, 15), (2023, 11, 2), (2025, 6, 30), (2022, 1, 10)][i % 4]
        v['event_date'] = dfmt('event_date', *ev)
        if 'valid_until' in fields:
            v['valid_until'] = dfmt('valid_until', ev[0] + 2, ev[1], min(ev[2], 28))
        if 'status' in fields:
            v['status'] = status_of.get('ACTIVE', '')
        person_row = kind in ('assessment', 'caregiver') or subject == 'person'
        if person_row:
            v['person_name'] = names[i % 4]
            v['person_id'] = person(i % 4, sex, birth)
            if 'sex' in fields:
                v['sex'] = sex_of.get(sex, '')
            if 'birth_date' in fields:
                v['birth_date'] = dfmt('birth_date', *birth)
            if 'residence_region' in fields:
                v['residence_region'] = rc[i % len(rc)]
            if 'person_alt_id' in fields and i % 2 == 1:
                v['person_alt_id'] = prc('810000', f'{birth[0]:04d}{birth[1]:02d}{birth[2]:02d}', 20 + i)
        if 'subject_kind' in fields:
            v['subject_kind'] = [n for n, k in p['subject_kinds'].items() if k == subject][0]
        org_row = kind != 'sanction' or subject == 'organisation'
        if org_row:
            if 'org_name' in fields:
                v['org_name'] = orgs[i % 3]
            if 'org_uscc' in fields:
                v['org_uscc'] = uscc(rc[i % len(rc)], f'MJ{i:07d}'.replace('I', '1'))
            if 'org_local_id' in fields:
                v['org_local_id'] = p.get('local_id_pattern', 'L-{n}').replace('{n}', f'{1000 + i}')
            if 'org_region' in fields:
                v['org_region'] = rc[i % len(rc)]
        if 'employer_name' in fields:
            v['employer_name'] = orgs[(i + 2) % 3]
        if 'employer_uscc' in fields:
            v['employer_uscc'] = uscc(rc[(i + 1) % len(rc)], f'MK{i:07d}')
        if 'employer_local_id' in fields:
            v['employer_local_id'] = p.get('local_id_pattern', 'L-{n}').replace('{n}', f'{2000 + i}')
        if 'employer_region' in fields:
            v['employer_region'] = rc[(i + 1) % len(rc)]
        if 'certificate_no' in fields:
            v['certificate_no'] = f'{home[:2]}{2019 + i}{i:06d}'
        if 'total_score' in fields:
            hi = fields['total_score'].get('max', 100)
            v['total_score'] = str([hi, hi * 2 // 3, hi // 3, 0][i % 4])
        if 'beds' in fields:
            v['beds'] = str([120, 45, 300, 8][i % 4])
        if 'legal_basis' in fields:
            v['legal_basis'] = LEGAL[region]
        if 'issuing_region' in fields:
            v['issuing_region'] = rc[i % len(rc)]
        return v

    rows = []
    person_subject = 'person'
    # Valid rows: every level of the scale at least once.
    for li in range(len(levels)):
        subject = 'person' if (kind == 'sanction' and li % 2 == 1) else 'organisation'
        v = base(li % 4, li, subject)
        if li == len(levels) - 1 and 'status' in fields:
            other = [n for n, s in p['statuses'].items() if s != 'ACTIVE']
            if other:
                v['status'] = sorted(other)[0]
        rows.append(Row(v, 'valid'))
    first_id = rows[0].values['source_id']

    def defect(note, subject='organisation', **changes):
        v = base(1, 1, subject)
        for k, val in changes.items():
            if val is None:
                v.pop(k, None)
            else:
                v[k] = val
        r = Row(v, note)
        rows.append(r)
        return r

    has_person = 'person_id' in fields
    person_kind = kind in ('assessment', 'caregiver')
    subj = 'person' if kind == 'sanction' else 'organisation'
    # 1. malformed_row
    defect('malformed_row').malformed = 'structure'
    if p['encoding'] != 'utf-8':
        r = defect('malformed_row (undecodable bytes)')
        r.raw_override = ('person_name' if 'person_name' in r.values else 'org_name', b'\xff\xfe')
    # 2. missing_field
    if person_kind:
        defect('missing_field', person_name=None)
    elif kind == 'facility':
        defect('missing_field', org_name=None)
    else:
        defect('missing_field', legal_basis=None)
        defect('missing_field (person subject without id)', 'person', person_id=None)
    # 3. duplicate_row
    defect('duplicate_row', source_id=first_id)
    # 4./5. identifiers
    if has_person:
        bad_format = {'PRC_RESIDENT_ID': '31011519491231002', 'HK_ID': 'A12345(3)', 'MO_ID': '2234567(8)'}[scheme]
        defect('bad_id_format', subj if kind == 'sanction' else 'organisation', person_id=bad_format)
        if scheme == 'PRC_RESIDENT_ID':
            good = person(1, 'M', (1938, 5, 20))
            defect('bad_check_digit', subj if kind == 'sanction' else 'organisation', person_id=prc_bad_check(good))
        elif scheme == 'HK_ID':
            defect('bad_check_digit', subj if kind == 'sanction' else 'organisation', person_id='A123456(4)')
    # 6. bad_uscc
    for f in ('org_uscc', 'employer_uscc'):
        if f in fields:
            good = uscc(home, 'MJ9999999')
            defect('bad_uscc', **{f: good[:17] + ('0' if good[17] != '0' else '1')})
            break
    # 7. bad_region_code
    for f in ('residence_region', 'org_region', 'employer_region', 'issuing_region'):
        if f in fields:
            defect('bad_region_code', subj if f == 'residence_region' and kind == 'sanction' else 'organisation',
                   **{f: '990101'})
            break
    # 8. bad_date
    defect('bad_date', event_date=fmt_date(fields['event_date'].get('date_format') or p.get('date_format'), 2023, 2, 30))
    # 9. future_date
    defect('future_date', event_date=dfmt('event_date', 2027, 6, 1))
    # 10. before_birth
    if has_person and (scheme == 'PRC_RESIDENT_ID' or 'birth_date' in fields or 'person_alt_id' in fields):
        defect('before_birth', subj if kind == 'sanction' else 'organisation', event_date=dfmt('event_date', 1936, 1, 5))
    # 11. unknown_level
    defect('unknown_level', level={'hongkong': 'very severe', 'macau': 'desconhecido'}.get(region, '等级X'))
    # 12. bad_number
    for f in ('total_score', 'beds'):
        if f in fields:
            defect('bad_number', **{f: str(fields[f].get('max', 100) + 1)})
            break
    return rows


def csv_quote(text, delim):
    if any(c in text for c in (delim, '"', '\n', '\r')):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(p, rows, path):
    enc = {'utf-8': 'utf-8', 'gbk': 'gbk', 'big5': 'big5', 'big5-hkscs': 'big5hkscs'}[p['encoding']]
    csvp = p.get('csv', {})
    delim = csvp.get('delimiter', ',')
    nl = b'\r\n' if csvp.get('crlf') else b'\n'
    out = b'\xef\xbb\xbf' if csvp.get('bom') else b''
    names = [f['name'] for f in p['fields']]
    out += delim.join(csv_quote(n, delim) for n in names).encode(enc) + nl
    for r in rows:
        cells = []
        for f in p['fields']:
            val = r.values.get(f['field'], '')
            cell = csv_quote(val, delim).encode(enc)
            if r.raw_override and r.raw_override[0] == f['field']:
                cell = r.raw_override[1]
            cells.append(cell)
        if r.malformed:
            cells.append(b'extra column')
        out += delim.encode(enc).join(cells) + nl
    with open(path, 'wb') as fh:
        fh.write(out)


def json_value(f, val):
    if f.get('json_number') and val.lstrip('-').isdigit():
        return int(val)
    return val


def write_json(p, rows, path, ndjson):
    objs = []
    for r in rows:
        if r.malformed:
            objs.append(None)
            continue
        o = {}
        for f in p['fields']:
            if f['field'] in r.values:
                o[f['name']] = json_value(f, r.values[f['field']])
        objs.append(o)
    with open(path, 'w', encoding='utf-8') as fh:
        if ndjson:
            for o in objs:
                fh.write((json.dumps(o, ensure_ascii=False) if o is not None else '{"broken": ') + '\n')
        else:
            fh.write('[\n')
            parts = [json.dumps(o, ensure_ascii=False) if o is not None else '"not an object"' for o in objs]
            fh.write(',\n'.join(parts))
            fh.write('\n]\n')


def xml_escape(t):
    return t.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')


def write_xml(p, rows, path):
    root, rec = p['xml']['root'], p['xml']['record']
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root}>']
    for r in rows:
        attrs = ''.join(f' {f["name"]}="{xml_escape(r.values[f["field"]])}"' for f in p['fields']
                        if f.get('xml_attribute') and f['field'] in r.values)
        kids = []
        for f in p['fields']:
            if f.get('xml_attribute') or f['field'] not in r.values:
                continue
            val = xml_escape(r.values[f['field']])
            if r.malformed and f['field'] == 'level':
                val = f'<Code>{val}</Code>'
            kids.append(f'<{f["name"]}>{val}</{f["name"]}>')
        out.append(f'  <{rec}{attrs}>' + ''.join(kids) + f'</{rec}>')
    out.append(f'</{root}>')
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(out) + '\n')


def main():
    for region in sorted(os.listdir(PROFILES)):
        for fn in sorted(os.listdir(os.path.join(PROFILES, region))):
            with open(os.path.join(PROFILES, region, fn), encoding='utf-8') as fh:
                p = json.load(fh)
            rows = build_rows(p)
            os.makedirs(os.path.join(ROOT, region), exist_ok=True)
            kind = p['kind']
            ext = {'csv': 'csv', 'json': 'json', 'ndjson': 'ndjson', 'xml': 'xml'}[p['format']]
            path = os.path.join(ROOT, region, f'{kind}.{ext}')
            if p['format'] == 'csv':
                write_csv(p, rows, path)
            elif p['format'] in ('json', 'ndjson'):
                write_json(p, rows, path, p['format'] == 'ndjson')
            else:
                write_xml(p, rows, path)
            print(path, len(rows), 'rows:', ', '.join(r.note for r in rows if r.note != 'valid'))


if __name__ == '__main__':
    main()
