// The dataset portal: releases from GET /v1/datasets, a release's DCAT catalog, its downloads
// with sizes and checksums, a preview and a chart of a CSV table, and a codebook. readCatalog
// accepts the plain DCAT-style catalog and the DCAT-AP JSON-LD one alike.
'use strict';

// Meanings of the columns carehub publishes (docs/DATASETS.md); unknown columns show without.
const CODEBOOK = {
  kind: ['记录类型：assessment、caregiver、facility、sanction', 'Record kind: assessment, caregiver, facility, sanction'],
  region: ['地区：GB/T 2260 代码截至地级（xxxx00），省级代码表示仅知省份', 'Region: GB/T 2260 code truncated to the prefecture (xxxx00); a province code means only the province is known'],
  quarter: ['季度：记录日期所在季度 YYYYQn', 'Quarter of the record date, YYYYQn'],
  pivot_level: ['全国对照等级（GB/T 42195 0–4、护理员 1–5、机构 GB/T 37276 1–5）', 'National pivot level (GB/T 42195 0–4, caregivers 1–5, facilities GB/T 37276 1–5)'],
  level: ['护理员全国技能等级', 'Caregiver national skill level'],
  grade: ['机构等级', 'Facility grade'],
  native_scale: ['原地区量表编号', 'The region\'s own scale id'],
  native_code: ['原地区量表中的等级代码', 'Level code in the region\'s scale'],
  sanction_type: ['处罚类型：PENALTY、BLACKLIST、DISHONESTY', 'Sanction type: PENALTY, BLACKLIST, DISHONESTY'],
  age_band: ['年龄段（五岁一组，100+）', 'Age band (five years, 100+)'],
  sex: ['性别：M、F、U', 'Sex: M, F, U'],
  class_dim: ['分类维度名称', 'Name of the class dimension'],
  class: ['分类取值', 'Class value'],
  prefecture: ['地级区划代码（GB/T 2260）；省级代码表示该省未列出的地级市', 'Prefecture-level GB/T 2260 code; a province code means a prefecture of that province not listed'],
  province: ['省级区划代码（GB/T 2260）', 'Province-level GB/T 2260 code'],
  group_total: ['该组（同一地区与时期）的合计', 'Total of the group (same region and period)'],
  period_complete: ['该时期的数据是否完整', 'Whether the period is complete'],
  count: ['计数（按版本的披露控制：可能被抑制为空或加噪）', 'Count (per the release\'s disclosure control: empty when suppressed, or with noise)'],
  suppressed: ['是否被抑制（true/false）', 'Suppressed (true/false)'],
};
const PREVIEW_ROWS = 20;

// A release catalog in either shape carehub has published: plain DCAT-style JSON (title,
// distribution[].downloadURL, ...) or DCAT-AP JSON-LD (@graph of dcat:Dataset, dcat:Distribution,
// spdx:Checksum nodes with prefixed keys, literals as {"@value"}, links as {"@id"}). Returns
// {title, description, start, end, publisher, licence, threshold, rule, distributions: [{title,
// path, mediaType, format, byteSize, sha256}]} with `path` relative to the release.
function readCatalog(catalog, release) {
  const graph = Array.isArray(catalog['@graph']) ? catalog['@graph'] : [catalog];
  const byId = new Map(graph.filter((n) => n && n['@id']).map((n) => [n['@id'], n]));
  const lang = Lang.current() === 'en' ? 'en' : 'zh';
  const node = (v) => (v && typeof v === 'object' && v['@id'] && byId.has(v['@id']) ? byId.get(v['@id']) : v);
  const literal = (v) => {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) {
      const pick = v.find((x) => x && String(x['@language'] || '').startsWith(lang)) || v[0];
      return literal(pick);
    }
    if (typeof v === 'object') return String(v['@value'] ?? v['@id'] ?? '');
    return String(v);
  };
  const field = (n, ...keys) => {
    for (const k of keys) if (n && n[k] !== undefined) return n[k];
    return undefined;
  };
  const types = (n) => [].concat(n && n['@type'] || []);
  const dataset = graph.find((n) => types(n).some((t) => /(^|:)Dataset$/.test(t))) || catalog;
  const list = [].concat(field(dataset, 'dcat:distribution', 'distribution', 'distributions') || []);
  const lastSegment = (iri) => iri.split('/').pop();
  const distributions = list.map(node).filter(Boolean).map((d) => {
    const url = literal(field(d, 'dcat:downloadURL', 'downloadURL'));
    const marker = `/v1/datasets/${encodeURIComponent(release)}/files/`;
    const at = url.indexOf(marker);
    const path = at >= 0 ? url.slice(at + marker.length).split('/').map(decodeURIComponent).join('/') : url;
    const media = literal(field(d, 'dcat:mediaType', 'mediaType'));
    const checksum = node(field(d, 'spdx:checksum', 'checksum')) || {};
    return {
      title: literal(field(d, 'dct:title', 'title')), path,
      mediaType: media.includes('media-types/') ? media.split('media-types/').pop() : media,
      format: lastSegment(literal(field(d, 'dct:format', 'format'))),
      byteSize: Number(literal(field(d, 'dcat:byteSize', 'byteSize'))) || undefined,
      sha256: literal(field(checksum, 'spdx:checksumValue', 'checksumValue', 'value')),
      licence: literal(field(d, 'dct:license', 'license')),
    };
  }).filter((d) => d.path);
  const temporal = node(field(dataset, 'dct:temporal', 'temporal')) || {};
  const publisher = node(field(dataset, 'dct:publisher', 'publisher')) || {};
  const control = field(dataset, 'disclosureControl') || {};
  return {
    title: literal(field(dataset, 'dct:title', 'title')),
    description: literal(field(dataset, 'dct:description', 'description')),
    start: literal(field(temporal, 'dcat:startDate', 'startDate')),
    end: literal(field(temporal, 'dcat:endDate', 'endDate')),
    publisher: literal(field(publisher, 'foaf:name', 'name')),
    licence: literal(field(dataset, 'dct:license', 'license', 'licence')) || (distributions[0] || {}).licence || '',
    threshold: control.threshold, rule: control.rule,
    distributions,
  };
}

// RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const DatasetsPage = {
  release: null,
  catalog: null,
  chart: null,

  async init() {
    try {
      this.showReleases(await this.allReleases());
    } catch (error) {
      showError('ds-error', error);
    }
    document.getElementById('ds-table').addEventListener('change', () => this.preview());
    document.addEventListener('carehub:language', () => {
      if (!this.catalog) return;
      this.info = readCatalog(this.catalog, this.release);
      this.files();
      this.codebook(this.header || []);
    });
  },

  // Every release: the API answers a page at a time (100 by default); follow next_cursor.
  async allReleases() {
    const items = [];
    let cursor = null;
    do {
      const query = cursor ? '?' + new URLSearchParams({ cursor }) : '';
      const page = await api('/v1/datasets' + query, { anonymous: true });
      items.push(...(page.items || []));
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  },

  showReleases(items) {
    const box = document.getElementById('ds-releases');
    if (items.length === 0) {
      box.replaceChildren(el('p', { 'data-i18n': 'ds.none' }, t('ds.none')));
      return;
    }
    const list = el('ul');
    for (const item of items) {
      const label = [item.series, item.id].filter(Boolean).join(' · ') + (item.title ? ' — ' + item.title : '');
      const button = el('button', { type: 'button', class: 'secondary', 'data-release': item.id }, label);
      button.addEventListener('click', () => this.open(item.id));
      list.append(el('li', {}, button));
    }
    box.replaceChildren(list);
    this.open(items[items.length - 1].id);
  },

  async open(id) {
    hideError('ds-error');
    try {
      this.catalog = await api('/v1/datasets/' + encodeURIComponent(id), { anonymous: true });
    } catch (error) {
      showError('ds-error', error);
      return;
    }
    this.release = id;
    const c = this.info = readCatalog(this.catalog, id);
    document.getElementById('ds-title').textContent = c.title || id;
    document.getElementById('ds-description').textContent = c.description;
    document.getElementById('ds-temporal').textContent = [c.start, c.end].filter(Boolean).join(' – ') || '—';
    document.getElementById('ds-publisher').textContent = c.publisher || '—';
    document.getElementById('ds-licence').textContent = c.licence || '—';
    document.getElementById('ds-threshold').textContent = c.threshold !== undefined
        ? `${t('ds.suppression')} ${c.threshold} (${c.rule || ''})` : t('ds.seedescription');
    const link = document.getElementById('ds-catalog-link');
    link.href = '/v1/datasets/' + encodeURIComponent(id);
    document.getElementById('ds-catalog').textContent = JSON.stringify(this.catalog, null, 2);
    this.files();
    const csvs = c.distributions.filter((d) => /csv/i.test(d.mediaType + ' ' + d.format + ' ' + d.path));
    const select = document.getElementById('ds-table');
    select.replaceChildren(...csvs.map((d) => el('option', { value: d.path }, d.title || d.path)));
    // A table with levels by region makes the most telling first chart.
    const tables = csvs.filter((d) => !/codebook/i.test(d.path));
    const preferred = tables.find((d) => /by_level|level/i.test(d.path)) || tables[0] || csvs[0];
    if (preferred) select.value = preferred.path;
    document.getElementById('ds-release').hidden = false;
    await this.preview();
  },

  distributions() {
    return this.info ? this.info.distributions : [];
  },

  fileUrl(name) {
    return `/v1/datasets/${encodeURIComponent(this.release)}/files/${name.split('/').map(encodeURIComponent).join('/')}`;
  },

  // Top-level files in one table; files in folders (e.g. Hive partitions, hundreds of them) in a
  // collapsed second table.
  files() {
    const row = (d) => [
      el('a', { href: this.fileUrl(d.path), download: d.path.split('/').pop() }, d.path),
      d.format || d.mediaType || '', formatBytes(d.byteSize), el('code', {}, d.sha256 || '')];
    const headers = [t('ds.name'), t('ds.format'), t('ds.size'), t('ds.sha256')];
    const top = this.distributions().filter((d) => !d.path.includes('/'));
    const nested = this.distributions().filter((d) => d.path.includes('/'));
    const box = document.getElementById('ds-files');
    box.replaceChildren(table(headers, top.map(row), t('ds.files')));
    if (nested.length) {
      box.append(el('details', {}, el('summary', {}, `${nested.length} ${t('ds.nested')}`),
                    table(headers, nested.map(row), t('ds.nested'))));
    }
  },

  async preview() {
    const name = document.getElementById('ds-table').value;
    if (!name) return;
    let text;
    try {
      text = await api(this.fileUrl(name), { anonymous: true });
    } catch (error) {
      showError('ds-error', error);
      return;
    }
    const rows = parseCsv(typeof text === 'string' ? text : JSON.stringify(text)).filter((r) => r.length > 1 || r[0]);
    this.header = rows.shift() || [];
    document.getElementById('ds-rowcount').textContent =
        `${rows.length} ${t('ds.rows')} ${Math.min(rows.length, PREVIEW_ROWS)}`;
    document.getElementById('ds-preview').replaceChildren(
        table(this.header, rows.slice(0, PREVIEW_ROWS), name));
    this.draw(this.header, rows, name);
    this.codebook(this.header);
  },

  // Bars of `count` by the first column, stacked by the column just before `count` (the class:
  // a level, grade or type), e.g. the level distribution by region. Suppressed cells (empty
  // count) add nothing.
  draw(header, rows, name) {
    const countAt = header.indexOf('count');
    if (this.chart) this.chart.destroy();
    if (countAt < 1 || typeof Chart === 'undefined') return;
    const xAt = 0;
    const seriesAt = countAt - 1 > xAt ? countAt - 1 : -1;
    const labels = [...new Set(rows.map((r) => r[xAt]))];
    const seriesNames = seriesAt < 0 ? [header[countAt]] : [...new Set(rows.map((r) => r[seriesAt]))];
    const data = new Map(seriesNames.map((s) => [s, new Array(labels.length).fill(0)]));
    for (const r of rows) {
      const n = Number(r[countAt]);
      if (!r[countAt] || Number.isNaN(n)) continue;
      data.get(seriesAt < 0 ? header[countAt] : r[seriesAt])[labels.indexOf(r[xAt])] += n;
    }
    const canvas = document.getElementById('ds-chart');
    canvas.setAttribute('aria-label', `${t('ds.chart.caption')} ${header[xAt]}${seriesAt >= 0 ? ' / ' + header[seriesAt] : ''}: ${name}`);
    this.chart = new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets: seriesNames.map((s, i) => ({
        label: seriesAt < 0 ? s : `${header[seriesAt]} ${s}`, data: data.get(s),
        backgroundColor: PALETTE[i % PALETTE.length] })) },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });
  },

  codebook(header) {
    const en = Lang.current() === 'en' ? 1 : 0;
    const rows = header.map((h) => [el('code', {}, h), CODEBOOK[h] ? CODEBOOK[h][en] : '—']);
    const box = document.getElementById('ds-codebook');
    box.replaceChildren(table([t('ds.column'), t('ds.meaning')], rows, t('ds.codebook')));
    const schemas = this.distributions().filter((d) => /avsc|schema|codebook|readme/i.test(d.path));
    if (schemas.length) {
      box.append(el('ul', {}, ...schemas.map((d) => el('li', {}, el('a', { href: this.fileUrl(d.path) }, d.path)))));
    }
  },
};

document.addEventListener('DOMContentLoaded', () => DatasetsPage.init());
