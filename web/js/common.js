// Shared by every page of the hub: the Chinese/English switch (Chinese by default, the choice
// kept in localStorage), text lookup, the API helper (the console's bearer token comes from
// sessionStorage and only ever travels in the Authorization header) and small DOM helpers.
'use strict';

const I18N = {
  en: {
    'skip': 'Skip to content', 'nav': 'Main navigation',
    'nav.rules': 'Recognition rules', 'nav.datasets': 'Open data', 'nav.console': 'Department console',
    'home.title': 'Mutual recognition of elderly care, Yangtze River Delta and Greater Bay Area',
    'home.lead': 'Served by this region\'s carehub hub: every page and all data come from this hub, no request goes to another site.',
    'home.rules': 'Before moving: is an assessment level from one region recognised at the destination, at which level, under which conditions, for how long and on which legal basis.',
    'home.datasets': 'De-identified statistics for researchers: preview, chart, codebook, downloads and checksums.',
    'home.console': 'Civil affairs staff sign in with a token: ingest, quarantine, recognition for residents, records and peers.',
    'rules.title': 'Recognition rules', 'rules.submit': 'Look up', 'rules.answer': 'What the destination recognises',
    'rules.lead': 'Pick the origin region, the scale and level, the destination and a date to see how the destination decides under the rules in force. Only the published rules are used; no personal data is involved.',
    'f.kind': 'Record kind', 'f.origin': 'Origin region', 'f.scale': 'Scale', 'f.level': 'Level',
    'f.target': 'Destination (province or city)', 'f.targetcode': 'or type another region code (e.g. Shenzhen 440300)', 'f.dated': 'Assessed on', 'f.on': 'Decision date',
    'f.token': 'API token', 'f.profile': 'Profile (region/kind)', 'f.file': 'Native file',
    'f.identifier': 'ID number (resident ID, HKID or Macau ID)', 'f.purpose': 'Purpose (written to the access log the resident can see)', 'f.since': 'Effective on or after',
    'f.filter': 'Filter (reason, field or file)', 'f.release': 'Release', 'f.table': 'Table',
    'res.level': 'Level at the destination', 'res.equivalence': 'Equivalence', 'res.window': 'Validity window',
    'res.conditions': 'Conditions', 'res.basis': 'Legal basis', 'res.rule': 'Rules applied', 'res.reasons': 'Reasons',
    'kind.assessment': 'Care-needs assessment', 'kind.caregiver': 'Caregiver qualification',
    'kind.facility': 'Facility rating', 'kind.sanction': 'Sanction notice',
    'outcome.recognised': 'Recognised', 'outcome.recognised_with_conditions': 'Recognised with conditions',
    'outcome.reassessment_required': 'Reassessment required', 'outcome.not_recognised': 'Not recognised',
    'eq.equivalent': 'equivalent', 'eq.source-is-narrower-than-target': 'narrower than the target level',
    'eq.source-is-broader-than-target': 'broader than the target level', 'eq.related-to': 'related (not exact)',
    'eq.not-related-to': 'no corresponding level',
    'cond.statuses': 'recognised statuses', 'cond.expiry': 'after the window', 'cond.sanctions': 'a sanction in force blocks recognition',
    'cond.months': 'months', 'cond.none': 'no fixed window', 'cond.until': 'valid until', 'cond.agreement': 'agreement naming the origin',
    'cond.advisory': 'advisory: no documented legal instrument',
    'ds.title': 'Open data', 'ds.lead': 'Research tables published by this hub under person-level differential privacy: every count carries random noise of a known size; no cell is hidden.',
    'ds.releases': 'Releases', 'ds.none': 'No release has been published yet.', 'ds.files': 'Downloads',
    'ds.preview': 'Table preview', 'ds.chart': 'Chart', 'ds.codebook': 'Codebook', 'ds.dcat': 'DCAT metadata',
    'ds.privacy': 'Privacy statement', 'ds.name': 'File', 'ds.format': 'Format', 'ds.size': 'Size', 'ds.sha256': 'SHA-256',
    'ds.column': 'Column', 'ds.meaning': 'Meaning', 'ds.rows': 'rows, first shown', 'ds.temporal': 'Period',
    'ds.licence': 'Licence', 'ds.publisher': 'Publisher', 'ds.chart.caption': 'Count by',
    'ds.privacy.text': 'The datasets hold counts only: no name, identity number, person token, record id, organisation or source row reaches any file. Every count has discrete Gaussian noise (zero-concentrated differential privacy, person level); each release spends from its series\' privacy budget, which the hub keeps; the codebook gives the noise and the 95% margin of error of every table. Quarantined raw rows never leave the hub.',
    'ds.threshold': 'Disclosure control', 'ds.suppression': 'small counts suppressed below', 'ds.seedescription': 'as stated in the description above', 'ds.nested': 'more files in folders (partitions, schemas)',
    'c.title': 'Department console', 'c.signin': 'Sign in', 'c.signout': 'Sign out',
    'c.signin.lead': 'Paste the API token your hub administrator created (carehub tokens create). It is kept in this browser tab only and sent in the Authorization header, never in an address.',
    'c.signedin': 'Signed in as', 'tab.overview': 'Overview', 'tab.ingest': 'Ingest', 'tab.quarantine': 'Quarantine',
    'tab.recognition': 'Recognition', 'tab.records': 'Records', 'tab.peers': 'Peers', 'tab.tokens': 'API tokens',
    'ov.records': 'Records by origin and kind', 'ov.head': 'This hub\'s head (change-log seq)', 'ov.peers': 'Peers',
    'ov.lag': 'Sync lag over the last hour (entries behind)', 'ov.origin': 'Origin', 'ov.total': 'Total',
    'ov.nolag': 'No lag history: the exchange does not run in this process.',
    'p.name': 'Member', 'p.region': 'Region', 'p.endpoint': 'Endpoint', 'p.connected': 'Connected', 'p.heard': 'Last heard (s)',
    'p.lag': 'Lag', 'p.cursors': 'Per-origin cursors (applied / member / lag)', 'p.head': 'Head seq',
    'yes': 'yes', 'no': 'no', 'unknown': 'unknown',
    'in.upload': 'Upload and ingest', 'in.summary': 'Ingest summary', 'in.progress': 'Upload progress',
    'q.reason': 'Reason', 'q.row': 'Row', 'q.field': 'Field', 'q.file': 'File', 'q.raw': 'Raw value', 'q.more': 'Load more',
    'q.state': 'State', 'q.open': 'open (not resolved by a later ingest)', 'q.all': 'all (resolved ones too)',
    'q.resolved': 'resolved by a later ingest',
    'q.total': 'rows in quarantine', 'q.matched': 'match', 'q.shown': 'shown',
    'qr.title': 'Replay an ingest run', 'qr.lead': 'After a profile or rule fix, check a run\'s open rows again with the current profile and see what changed.',
    'qr.run': 'Ingest run', 'qr.store': 'Also store the rows accepted now', 'qr.submit': 'Replay', 'qr.report': 'Replay result',
    'qr.profile': 'Profile', 'qr.now_accepted': 'Accepted now', 'qr.reason_changed': 'Other reason now',
    'qr.unchanged': 'Unchanged', 'qr.open_after': 'Open rows in the hub afterwards', 'qr.stored': 'Stored (new run: accepted / read)',
    'qr.before': 'Reason then', 'qr.now': 'Now', 'qr.accepted': 'accepted',
    'rc.submit': 'Decide', 'rc.print': 'Print for the resident', 'rc.lead': 'The ID number is sent once in the request body and is neither stored nor shown again.',
    'rc.none': 'No record of this person is held by this hub.', 'rc.record': 'Record',
    'rec.next': 'Next page', 'rec.prev': 'Previous page', 'rec.apply': 'Apply filters', 'rec.id': 'Record id',
    'rec.kind': 'Kind', 'rec.origin': 'Origin', 'rec.status': 'Status', 'rec.level': 'Level', 'rec.date': 'Date',
    'rec.version': 'Version', 'rec.page': 'Page',
    't.id': 'Token id', 't.role': 'Role', 't.region': 'Region', 't.created': 'Created', 't.state': 'State',
    't.active': 'active', 't.revoked': 'revoked', 't.current': '(this session)',
    'all': 'all', 'loading': 'Loading…', 'error': 'Error',
  },
  zh: {},  // the pages are written in Chinese; the HTML text is the Chinese version
};
const I18N_ZH = {
  'kind.assessment': '能力评估', 'kind.caregiver': '护理员资格', 'kind.facility': '机构评级', 'kind.sanction': '处罚与失信',
  'outcome.recognised': '予以认可', 'outcome.recognised_with_conditions': '附条件认可',
  'outcome.reassessment_required': '需重新评估', 'outcome.not_recognised': '不予认可',
  'eq.equivalent': '等同', 'eq.source-is-narrower-than-target': '窄于目标等级',
  'eq.source-is-broader-than-target': '宽于目标等级', 'eq.related-to': '相关（非精确对应）',
  'eq.not-related-to': '无对应等级',
  'cond.statuses': '认可的状态', 'cond.expiry': '超过有效期后', 'cond.sanctions': '存在有效处罚时不予认可',
  'cond.months': '个月', 'cond.none': '无固定有效期', 'cond.until': '有效至', 'cond.agreement': '点名原地区的合作协议',
  'cond.advisory': '仅供参考：未找到成文法律依据',
  'ds.none': '本节点尚未发布数据集。', 'ds.suppression': '小计数抑制，阈值', 'ds.seedescription': '见上方说明', 'ds.rows': '行，显示前', 'ds.chart.caption': '计数，按',
  'c.signedin': '已登录：', 'ov.total': '合计', 'ov.nolag': '无同步延迟记录：本进程未运行节点交换。',
  'yes': '是', 'no': '否', 'unknown': '未知', 't.active': '有效', 't.revoked': '已吊销', 't.current': '（当前会话）',
  'q.state': '状态', 'q.open': '待处理', 'q.resolved': '已由后续导入解决',
  'qr.run': '导入批次', 'qr.profile': '配置', 'qr.now_accepted': '现在可接受', 'qr.reason_changed': '原因已变化',
  'qr.unchanged': '未变化', 'qr.open_after': '重放后全节点待处理行', 'qr.stored': '已存入（新批次：接受 / 读取）',
  'qr.before': '原因（当时）', 'qr.now': '现在', 'qr.accepted': '可接受', 'qr.report': '重放结果',
  'q.total': '行在隔离区', 'q.matched': '行符合筛选', 'q.shown': '已显示', 'rc.none': '本节点没有此人的记录。', 'rc.record': '记录',
  'rec.page': '第', 'all': '全部', 'loading': '加载中…', 'error': '错误',
  'res.level': '对应等级', 'res.equivalence': '等价关系', 'res.basis': '法律依据', 'res.rule': '适用规则',
  'res.reasons': '理由', 'f.target': '目的地', 'f.on': '认定日期',
  'ds.name': '文件', 'ds.format': '格式', 'ds.size': '大小', 'ds.sha256': 'SHA-256 校验值', 'ds.files': '下载',
  'ds.column': '字段', 'ds.meaning': '含义', 'ds.codebook': '字段说明', 'ds.nested': '个文件位于子目录（分区、模式）',
  'ov.origin': '来源地区', 'ov.peers': '节点', 'ov.records': '按来源地区和类型的记录数', 'ov.lag': '同步延迟',
  'p.name': '成员', 'p.region': '地区', 'p.endpoint': '地址', 'p.connected': '已连接', 'p.heard': '上次通信（秒）',
  'p.lag': '延迟', 'p.cursors': '各来源游标（已应用 / 成员 / 延迟）', 'p.head': '链头序号',
  'q.reason': '原因', 'q.row': '行', 'q.field': '字段', 'q.file': '文件', 'q.raw': '原始值',
  'rec.id': '记录编号', 'rec.kind': '类型', 'rec.origin': '来源', 'rec.status': '状态', 'rec.level': '等级',
  'rec.date': '日期', 'rec.version': '版本',
  't.id': '令牌编号', 't.role': '角色', 't.region': '地区', 't.created': '创建时间', 't.state': '状态',
  'tab.quarantine': '隔离区', 'tab.records': '记录', 'tab.tokens': 'API 令牌',
};

const Lang = {
  current() { return localStorage.getItem('carehub.lang') === 'en' ? 'en' : 'zh'; },
  toggle() { localStorage.setItem('carehub.lang', this.current() === 'en' ? 'zh' : 'en'); },
};

// Text for `key` in the current language: Chinese from I18N_ZH or the page's own element with
// that key, else English (a script-only key missing from I18N_ZH shows in English: add it there).
function t(key) {
  if (Lang.current() === 'en') return I18N.en[key] ?? key;
  return I18N_ZH[key] ?? document.querySelector(`[data-i18n="${key}"]`)?.dataset.zh ?? I18N.en[key] ?? key;
}

// Applies the language to every element marked data-i18n (its Chinese text is kept in data-zh).
function applyLanguage() {
  const en = Lang.current() === 'en';
  document.documentElement.lang = en ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-i18n]')) {
    if (el.dataset.zh === undefined) el.dataset.zh = el.textContent;
    el.textContent = en ? (I18N.en[el.dataset.i18n] ?? el.dataset.zh) : el.dataset.zh;
  }
  for (const el of document.querySelectorAll('[data-i18n-aria]')) {
    if (el.dataset.zhAria === undefined) el.dataset.zhAria = el.getAttribute('aria-label');
    el.setAttribute('aria-label', en ? I18N.en[el.dataset.i18nAria] : el.dataset.zhAria);
  }
  const button = document.getElementById('lang-switch');
  if (button) {
    button.textContent = en ? '中文' : 'English';
    button.lang = en ? 'zh-CN' : 'en';
  }
  document.dispatchEvent(new Event('carehub:language'));
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

const Session = {
  key: 'carehub.token',
  token() { return sessionStorage.getItem(this.key); },
  set(token) { sessionStorage.setItem(this.key, token); },
  clear() { sessionStorage.removeItem(this.key); },
};

// GET or POST to the hub's API; JSON answers are parsed, text ones returned as text.
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  const token = Session.token();
  if (token && !options.anonymous) headers['Authorization'] = 'Bearer ' + token;
  const response = await fetch(path, { method: options.method || 'GET', headers, body: options.body,
                                       cache: 'no-store', credentials: 'omit' });
  const type = response.headers.get('Content-Type') || '';
  // application/json and JSON-LD (application/ld+json: the DCAT catalog) are parsed.
  const body = /^application\/([\w.-]+\+)?json/.test(type) ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return body;
}

// Creates an element: el('td', {class: 'num'}, 'text', child, ...).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A table with a header row and one row per item of `rows` (arrays of cells).
function table(headers, rows, caption) {
  const thead = el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h))));
  const tbody = el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c)))));
  return el('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || headers.join(', ') },
            el('table', {}, caption ? el('caption', {}, caption) : null, thead, tbody));
}

function showError(target, error) {
  const node = typeof target === 'string' ? document.getElementById(target) : target;
  node.textContent = `${t('error')}: ${error.message}`;
  node.hidden = false;
}

function hideError(target) {
  const node = typeof target === 'string' ? document.getElementById(target) : target;
  node.hidden = true;
  node.textContent = '';
}

function formatBytes(bytes) {
  if (typeof bytes !== 'number') return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// Chart colours with at least 3:1 contrast on white (WCAG non-text contrast).
const PALETTE = ['#1f5fa8', '#b0451b', '#2e7d32', '#6a3d9a', '#8a6d00', '#00707a', '#a3195b', '#4d4d4d'];

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('lang-switch')?.addEventListener('click', () => {
    Lang.toggle();
    applyLanguage();
  });
  applyLanguage();
  api('/health', { anonymous: true }).then((health) => {
    const region = document.getElementById('hub-region');
    if (region) region.textContent = health.region;
  }).catch(() => {});
});
