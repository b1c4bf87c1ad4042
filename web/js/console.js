// The department console: token sign-in (sessionStorage only, sent in the Authorization header),
// then tabs over the API: overview (records by origin and kind from /metrics, head and peers from
// /v1/peers, lag chart from /v1/metrics/lag), ingest upload with progress, quarantine review,
// recognition for a resident (the ID number goes once in a POST body and the field is cleared),
// records browser, peers and cursors, API tokens.
'use strict';

const PROFILE_REGIONS = ['shanghai', 'jiangsu', 'zhejiang', 'anhui', 'guangdong', 'hongkong', 'macau'];
const KINDS = ['assessment', 'caregiver', 'facility', 'sanction'];
const REGION_PROFILE = { '310000': 'shanghai', '320000': 'jiangsu', '330000': 'zhejiang', '340000': 'anhui',
                         '440000': 'guangdong', '810000': 'hongkong', '820000': 'macau' };

// Prometheus text -> [{name, labels: {...}, value}].
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const ConsolePage = {
  who: null,
  tabs: ['overview', 'ingest', 'quarantine', 'recognition', 'records', 'peers', 'tokens'],
  loaders: {},
  quarantine: { rows: [], cursor: null, total: 0 },
  records: { cursors: [null], page: 0 },
  lagChart: null,

  init() {
    document.getElementById('signin-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = document.getElementById('token');
      Session.set(input.value.trim());
      input.value = '';
      this.signIn();
    });
    document.getElementById('signout').addEventListener('click', () => this.signOut());
    this.initTabs();
    this.initIngest();
    this.initQuarantine();
    this.initRecognition();
    this.initRecords();
    this.loaders = {
      overview: () => this.loadOverview(), quarantine: () => this.loadQuarantine(true),
      records: () => this.loadRecords(), peers: () => this.loadPeers(), tokens: () => this.loadTokens(),
    };
    // Tables and charts are drawn by script: draw the open tab again in the new language.
    document.addEventListener('carehub:language', () => {
      const open = this.tabs.find((n) => !document.getElementById('panel-' + n).hidden);
      if (this.who && open && this.loaders[open]) this.loaders[open]().catch((e) => showError('c-error', e));
      if (this.who && open === 'recognition' && this.recognition) this.showDecisions(this.recognition);
    });
    if (Session.token()) this.signIn();
  },

  async signIn() {
    hideError('c-error');
    try {
      this.who = await api('/v1/whoami');
      if (!this.who.can_read) throw new ApiError(403, `role ${this.who.role} may not use the console`);
    } catch (error) {
      Session.clear();
      showError('c-error', error);
      return;
    }
    document.getElementById('who').textContent =
        `${this.who.role}${this.who.region ? ' · ' + this.who.region : ''} @ ${this.who.hub_region}`;
    document.getElementById('signin').hidden = true;
    document.getElementById('console').hidden = false;
    const profile = document.getElementById('ingest-profile');
    const own = REGION_PROFILE[this.who.hub_region];
    if (own) profile.value = `${own}/assessment`;
    document.getElementById('tab-ingest').hidden = !this.who.can_write;
    document.getElementById('tab-tokens').hidden = !this.who.can_write;
    this.select(this.tabs.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'overview');
  },

  // Also forgets what was shown: at a service window the next person must not see it.
  signOut() {
    Session.clear();
    this.who = null;
    this.recognition = null;
    document.getElementById('rc-decisions').replaceChildren();
    document.getElementById('rc-result').hidden = true;
    document.getElementById('ingest-summary').hidden = true;
    document.getElementById('console').hidden = true;
    document.getElementById('signin').hidden = false;
    document.getElementById('token').focus();
  },

  // WAI-ARIA tabs: click or arrow keys select; the panel's data loads on selection.
  initTabs() {
    for (const name of this.tabs) {
      const tab = document.getElementById('tab-' + name);
      tab.addEventListener('click', () => this.select(name));
      tab.addEventListener('keydown', (event) => {
        if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
        const visible = this.tabs.filter((n) => !document.getElementById('tab-' + n).hidden);
        const step = event.key === 'ArrowRight' ? 1 : -1;
        const next = visible[(visible.indexOf(name) + step + visible.length) % visible.length];
        this.select(next);
        document.getElementById('tab-' + next).focus();
      });
    }
  },

  select(name) {
    for (const other of this.tabs) {
      const selected = other === name;
      const tab = document.getElementById('tab-' + other);
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById('panel-' + other).hidden = !selected;
    }
    history.replaceState(null, '', '#' + name);
    hideError('c-error');
    const load = this.loaders[name];
    if (load) load().catch((error) => showError('c-error', error));
  },

  async loadOverview() {
    const [metrics, peers, lag] = await Promise.all([api('/metrics'), api('/v1/peers?limit=1000'),
                                                     api('/v1/metrics/lag')]);
    const counts = {};
    for (const m of parseMetrics(metrics)) {
      if (m.name !== 'carehub_records') continue;
      counts[m.labels.origin] = counts[m.labels.origin] || {};
      counts[m.labels.origin][m.labels.kind] = m.value;
    }
    const rows = Object.keys(counts).sort().map((origin) => {
      const byKind = KINDS.map((k) => counts[origin][k] || 0);
      return [origin, ...byKind, byKind.reduce((a, b) => a + b, 0)];
    });
    document.getElementById('ov-records').replaceChildren(table(
        [t('ov.origin'), ...KINDS.map((k) => t('kind.' + k)), t('ov.total')], rows, t('ov.records')));
    const self = peers.items.find((p) => p.self);
    document.getElementById('ov-head').textContent = self ? String(self.head_seq) : '—';
    document.getElementById('ov-peers').replaceChildren(this.peerTable(peers.items.filter((p) => !p.self), false));
    this.drawLag(lag, peers.items.filter((p) => !p.self).map((p) => p.name));
  },

  yesNo(value) { return value === null || value === undefined ? t('unknown') : t(value ? 'yes' : 'no'); },

  peerLag(peer) {
    const lags = peer.origins.map((o) => o.lag).filter((l) => l !== null && l !== undefined);
    return lags.length ? lags.reduce((a, b) => a + b, 0) : '—';
  },

  peerTable(items, cursors) {
    const headers = [t('p.name'), t('p.region'), t('p.endpoint'), t('p.connected'), t('p.heard'), t('p.head'), t('p.lag')];
    if (cursors) headers.push(t('p.cursors'));
    const rows = items.map((p) => {
      const row = [p.name, p.region, p.endpoint || '—', this.yesNo(p.connected),
                   p.last_heard_seconds === null ? '—' : p.last_heard_seconds.toFixed(1), p.head_seq, this.peerLag(p)];
      if (cursors) {
        row.push(el('ul', {}, ...p.origins.map((o) => el('li', {},
            `${o.origin}: ${o.applied_seq} / ${o.peer_seq ?? '—'} / ${o.lag ?? '—'}`))));
      }
      return row;
    });
    return table(headers, rows, t('ov.peers'));
  },

  // One line per member (those of /v1/peers too, so a member not sampled yet has its line).
  drawLag(lag, members) {
    const note = document.getElementById('ov-lag-note');
    note.hidden = lag.exchange === 'running';
    note.textContent = t('ov.nolag');
    const peers = [...new Set([...members, ...lag.samples.flatMap((s) => Object.keys(s.lag))])].sort();
    const labels = lag.samples.map((s) => new Date(s.at_ms).toLocaleTimeString());
    if (this.lagChart) this.lagChart.destroy();
    const canvas = document.getElementById('ov-lag-chart');
    canvas.setAttribute('aria-label', `${t('ov.lag')}: ${peers.map((p) => {
      const last = lag.samples.length ? lag.samples[lag.samples.length - 1].lag[p] : undefined;
      return `${p} ${last ?? '—'}`;
    }).join(', ')}`);
    this.lagChart = new Chart(canvas, {
      type: 'line',
      data: { labels, datasets: peers.map((p, i) => ({ label: p, data: lag.samples.map((s) => s.lag[p] ?? null),
        borderColor: PALETTE[i % PALETTE.length], backgroundColor: PALETTE[i % PALETTE.length], pointRadius: 2 })) },
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, title: { display: true, text: t('p.lag') } } } },
    });
  },

  initIngest() {
    const select = document.getElementById('ingest-profile');
    for (const region of PROFILE_REGIONS) {
      for (const kind of KINDS) select.append(el('option', { value: `${region}/${kind}` }, `${region}/${kind}`));
    }
    document.getElementById('ingest-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.upload();
    });
  },

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  upload() {
    hideError('ingest-error');
    const file = document.getElementById('ingest-file').files[0];
    if (!file) return;
    const profile = document.getElementById('ingest-profile').value;
    const progress = document.getElementById('ingest-progress');
    const button = document.querySelector('#ingest-form button');
    progress.value = 0;
    button.disabled = true;
    document.getElementById('ingest-summary').hidden = true;
    const request = new XMLHttpRequest();
    const query = new URLSearchParams({ profile, filename: file.name });
    request.open('POST', '/v1/ingest?' + query);
    request.setRequestHeader('Authorization', 'Bearer ' + Session.token());
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
    });
    request.addEventListener('loadend', () => {
      button.disabled = false;
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (e) { body = null; }
      if (request.status !== 200) {
        showError('ingest-error', new Error(body && body.error ? body.error.message : `HTTP ${request.status}`));
        return;
      }
      progress.value = 100;
      this.showSummary(body);
    });
    request.send(file);
  },

  showSummary(summary) {
    const facts = document.getElementById('ingest-facts');
    facts.replaceChildren();
    for (const key of ['upload', 'profile', 'bytes', 'sha256', 'read', 'accepted', 'quarantined', 'inserted',
                       'updated', 'unchanged', 'run_id']) {
      if (summary[key] === undefined) continue;
      facts.append(el('dt', {}, key), el('dd', { 'data-field': key }, String(summary[key])));
    }
    document.getElementById('ingest-summary').hidden = false;
  },

  initQuarantine() {
    document.getElementById('q-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.loadQuarantine(true).catch((error) => showError('c-error', error));
    });
    document.getElementById('q-more').addEventListener('click', () =>
        this.loadQuarantine(false).catch((error) => showError('c-error', error)));
    document.getElementById('qr-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.replay();
    });
  },

  // POST /v1/quarantine/replay: what the current profile says about a run's open rows now;
  // with the box ticked the rows accepted now are stored (the list is reloaded).
  async replay() {
    hideError('qr-error');
    const run = document.getElementById('qr-run').value.trim();
    const store = document.getElementById('qr-store').checked;
    const button = document.getElementById('qr-submit');
    button.disabled = true;
    try {
      const query = new URLSearchParams({ run, store: String(store) });
      this.showReplay(await api('/v1/quarantine/replay?' + query, { method: 'POST' }));
      if (store) await this.loadQuarantine(true);
    } catch (error) {
      document.getElementById('qr-report').hidden = true;
      showError('qr-error', error);
    } finally {
      button.disabled = false;
    }
  },

  showReplay(report) {
    const facts = document.getElementById('qr-facts');
    facts.replaceChildren();
    const add = (key, value) => facts.append(el('dt', {}, t('qr.' + key)),
                                             el('dd', { 'data-field': key }, String(value)));
    for (const key of ['run', 'profile', 'now_accepted', 'reason_changed', 'unchanged', 'open_after']) {
      add(key, report[key]);
    }
    if (report.stored) {
      add('stored', `${report.stored.run_id}: ${report.stored.accepted} / ${report.stored.read}`);
    }
    document.getElementById('qr-table').replaceChildren(table(
        [t('q.row'), t('q.field'), t('qr.before'), t('qr.now')],
        report.rows.map((r) => [r.row, r.field_before, r.before,
                                r.now === 'accepted' ? t('qr.accepted') : r.now]),
        t('qr.report')));
    document.getElementById('qr-report').hidden = false;
  },

  // The reason codes present, from /metrics (carehub_quarantine_rows{reason=...}).
  async loadReasonCodes() {
    const select = document.getElementById('q-reason');
    const chosen = select.value;
    const codes = parseMetrics(await api('/metrics'))
        .filter((m) => m.name === 'carehub_quarantine_rows').map((m) => [m.labels.reason, m.value]);
    select.replaceChildren(el('option', { value: '' }, t('all')),
                           ...codes.map(([code, n]) => el('option', { value: code }, `${code} (${n})`)));
    select.value = codes.some(([code]) => code === chosen) ? chosen : '';
  },

  // One page of rows matching the filters (the server filters, so every page is searched).
  async loadQuarantine(fresh) {
    if (fresh) {
      await this.loadReasonCodes();
      this.quarantine = { rows: [], cursor: null, total: 0, matched: 0 };
    }
    const query = new URLSearchParams({ limit: '200' });
    for (const name of ['reason', 'field', 'file', 'state']) {
      const value = document.getElementById('q-' + name).value.trim();
      if (value) query.set(name, value);
    }
    if (this.quarantine.cursor) query.set('cursor', this.quarantine.cursor);
    const page = await api('/v1/quarantine?' + query);
    this.quarantine.rows.push(...page.items);
    this.quarantine.cursor = page.next_cursor;
    this.quarantine.total = page.total;
    this.quarantine.matched = page.matched ?? page.total;
    this.showQuarantine();
  },

  showQuarantine() {
    const rows = this.quarantine.rows;
    const withRaw = rows.some((r) => r.raw !== undefined);
    const headers = [t('q.file'), t('qr.run'), t('q.row'), t('q.field'), t('q.reason'), t('q.state')];
    if (withRaw) headers.push(t('q.raw'));
    const run = document.getElementById('qr-run');
    if (!run.value && rows.length) run.value = rows[rows.length - 1].run_id;
    document.getElementById('qr').hidden = !this.who.can_write;
    document.getElementById('q-table').replaceChildren(table(headers, rows.map((r) => {
      const cells = [r.file, r.run_id, r.row, r.field, r.reason, r.state ? t('q.' + r.state) : ''];
      if (withRaw) cells.push(el('code', {}, r.raw ?? ''));
      return cells;
    }), t('tab.quarantine')));
    document.getElementById('q-count').textContent =
        `${this.quarantine.total} ${t('q.total')}, ${this.quarantine.matched} ${t('q.matched')}, ${rows.length} ${t('q.shown')}`;
    document.getElementById('q-more').hidden = !this.quarantine.cursor;
  },

  initRecognition() {
    document.getElementById('rc-on').value = new Date().toISOString().slice(0, 10);
    document.getElementById('rc-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.recognise();
    });
    document.getElementById('rc-print').addEventListener('click', () => window.print());
  },

  async recognise() {
    hideError('rc-error');
    const input = document.getElementById('rc-identifier');
    // A lookup by ID number states its purpose: the hub writes it to the access log, which the
    // resident can ask to see (docs/API.md, Security).
    const body = { identifier: input.value.trim(), target: document.getElementById('rc-target').value.trim(),
                   purpose: document.getElementById('rc-purpose').value };
    const on = document.getElementById('rc-on').value;
    if (on) body.on = on;
    // The identifier leaves the page once, in this body; the field is emptied straight away.
    input.value = '';
    let answer;
    try {
      answer = await api('/v1/recognitions?limit=1000', { method: 'POST', body: JSON.stringify(body),
                                                          headers: { 'Content-Type': 'application/json' } });
    } catch (error) {
      document.getElementById('rc-result').hidden = true;
      showError('rc-error', error);
      return;
    } finally {
      body.identifier = '';
    }
    this.showDecisions(answer);
  },

  showDecisions(answer) {
    this.recognition = answer;
    document.getElementById('rc-print-head').textContent =
        `carehub · ${this.who.hub_region} · ${t('f.target')}: ${answer.target} · ${t('f.on')}: ${answer.on}`;
    const box = document.getElementById('rc-decisions');
    box.replaceChildren();
    if (answer.records.length === 0) box.append(el('p', {}, t('rc.none')));
    for (const r of answer.records) {
      const d = r.decision;
      const target = d.target.code !== undefined ? `${d.target.scale} ${d.target.code} ${d.target.label || ''}` : '—';
      const basis = d.legal_basis ? `${d.legal_basis.document} ${d.legal_basis.title} ${d.legal_basis.article}` : '—';
      box.append(el('article', { class: 'decision' },
          el('h3', {}, `${t('kind.' + r.kind)} · ${r.origin} · ${r.native.scale} ${r.native.code} ${r.native.label} · ${r.date}`),
          el('p', { class: 'outcome ' + d.outcome }, t('outcome.' + d.outcome)),
          el('dl', { class: 'facts' },
             el('dt', {}, t('res.level')), el('dd', {}, target),
             el('dt', {}, t('res.equivalence')), el('dd', {}, t('eq.' + d.equivalence)),
             el('dt', {}, t('res.basis')), el('dd', {}, basis),
             el('dt', {}, t('res.rule')), el('dd', {}, [d.policy, d.rule].filter(Boolean).join(' · ')),
             el('dt', {}, t('rc.record')), el('dd', {}, el('code', {}, r.record_id))),
          el('h4', {}, t('res.reasons')),
          el('ol', { class: 'reasons' }, ...reasonTexts(d).map((text) => el('li', {}, text)))));
    }
    document.getElementById('rc-result').hidden = false;
  },

  initRecords() {
    document.getElementById('rec-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.records = { cursors: [null], page: 0 };
      this.loadRecords().catch((error) => showError('c-error', error));
    });
    document.getElementById('rec-next').addEventListener('click', () => {
      this.records.page += 1;
      this.loadRecords().catch((error) => showError('c-error', error));
    });
    document.getElementById('rec-prev').addEventListener('click', () => {
      this.records.page -= 1;
      this.loadRecords().catch((error) => showError('c-error', error));
    });
  },

  async loadRecords() {
    const query = new URLSearchParams({ limit: '25' });
    for (const name of ['kind', 'origin', 'since']) {
      const value = document.getElementById('rec-' + name).value.trim();
      if (value) query.set(name, value);
    }
    const cursor = this.records.cursors[this.records.page];
    if (cursor) query.set('cursor', cursor);
    const page = await api('/v1/records?' + query);
    this.records.cursors[this.records.page + 1] = page.next_cursor;
    const rows = page.items.map((r) => {
      const body = r.body || {};
      const native = body.native || {};
      const date = body.assessed_on || body.issued_on || body.rated_on || body.decided_on || '';
      return [el('code', {}, r.record_id), t('kind.' + r.kind), r.origin, r.status,
              `${native.scale || ''} ${native.code || ''} ${native.label || ''}`, date, r.version];
    });
    document.getElementById('rec-table').replaceChildren(table(
        [t('rec.id'), t('rec.kind'), t('rec.origin'), t('rec.status'), t('rec.level'), t('rec.date'), t('rec.version')],
        rows, t('tab.records')));
    document.getElementById('rec-page').textContent = `${t('rec.page')} ${this.records.page + 1}`;
    document.getElementById('rec-prev').disabled = this.records.page === 0;
    document.getElementById('rec-next').disabled = !page.next_cursor;
  },

  async loadPeers() {
    const peers = await api('/v1/peers?limit=1000');
    document.getElementById('peers-table').replaceChildren(this.peerTable(peers.items, true));
  },

  async loadTokens() {
    const tokens = await api('/v1/tokens');
    const rows = tokens.items.map((k) => [el('code', {}, k.id), k.role, k.region ?? '—',
        new Date(k.created_at_ms).toISOString().slice(0, 19).replace('T', ' '),
        `${t(k.revoked_at_ms ? 't.revoked' : 't.active')}${k.current ? ' ' + t('t.current') : ''}`]);
    document.getElementById('tokens-table').replaceChildren(table(
        [t('t.id'), t('t.role'), t('t.region'), t('t.created'), t('t.state')], rows, t('tab.tokens')));
  },
};

document.addEventListener('DOMContentLoaded', () => ConsolePage.init());
