// The public rules explorer: fills the pickers from GET /v1/rules and shows the answer of
// GET /v1/rules/decision (no token, no personal data).
'use strict';

const RulesPage = {
  catalog: null,
  regionNames: {},

  async init() {
    const today = new Date().toISOString().slice(0, 10);
    document.getElementById('r-on').value = today;
    document.getElementById('r-dated').value = today;
    try {
      this.catalog = await api('/v1/rules', { anonymous: true });
    } catch (error) {
      showError('rules-error', error);
      return;
    }
    for (const region of this.catalog.regions) this.regionNames[region.code] = region.name;
    this.fillKinds();
    this.fillRegions();
    this.fillScales();
    document.getElementById('r-kind').addEventListener('change', () => this.fillScales());
    document.getElementById('r-origin').addEventListener('change', () => this.fillScales());
    document.getElementById('r-scale').addEventListener('change', () => this.fillLevels());
    document.getElementById('rules-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.decide();
    });
    document.addEventListener('carehub:language', () => {
      this.fillKinds(true);
      if (this.answer) this.show(this.answer, false);
    });
  },

  regionLabel(code) {
    const name = this.regionNames[code];
    return name ? `${name} (${code})` : code;
  },

  fillKinds(keep) {
    const select = document.getElementById('r-kind');
    const value = select.value;
    select.replaceChildren(...this.catalog.kinds.map((k) => el('option', { value: k }, t('kind.' + k))));
    if (keep && value) select.value = value;
  },

  fillRegions() {
    const origin = document.getElementById('r-origin');
    origin.replaceChildren(...this.catalog.origins.map((c) => el('option', { value: c }, this.regionLabel(c))));
    const target = document.getElementById('r-target');
    target.replaceChildren(...this.catalog.regions.map((r) => el('option', { value: r.code }, this.regionLabel(r.code))));
  },

  // The scales of the chosen kind, the origin's own scale first and selected.
  fillScales() {
    const kind = document.getElementById('r-kind').value;
    const origin = this.catalog.regions.find((r) => r.code === document.getElementById('r-origin').value);
    const own = origin ? origin.scales[kind] : undefined;
    const scales = this.catalog.scales.filter((s) => s.kind === kind);
    scales.sort((a, b) => (b.id === own) - (a.id === own));
    const select = document.getElementById('r-scale');
    select.replaceChildren(...scales.map((s) => el('option', { value: s.id }, `${s.name} [${s.id}]`)));
    if (own) select.value = own;
    this.fillLevels();
  },

  fillLevels() {
    const scale = this.catalog.scales.find((s) => s.id === document.getElementById('r-scale').value);
    const select = document.getElementById('r-level');
    select.replaceChildren(...(scale ? scale.levels : []).map(
        (l) => el('option', { value: l.code }, `${l.code} — ${l.label}`)));
  },

  async decide() {
    hideError('rules-error');
    const form = new FormData(document.getElementById('rules-form'));
    const query = new URLSearchParams();
    for (const [name, value] of form) if (value && name !== 'target_code') query.set(name, value);
    // A typed code (a city or district without rules of its own) wins over the list: the engine
    // applies the rules of the nearest level up (440305 -> 440300 -> 440000).
    const code = form.get('target_code').trim();
    if (code) query.set('target', code);
    try {
      this.show(await api('/v1/rules/decision?' + query, { anonymous: true }));
    } catch (error) {
      document.getElementById('rules-result').hidden = true;
      showError('rules-error', error);
    }
  },

  show(answer, focus = true) {
    this.answer = answer;
    const d = answer.decision;
    const c = answer.conditions;
    const outcome = document.getElementById('res-outcome');
    outcome.textContent = t('outcome.' + d.outcome);
    outcome.className = 'outcome ' + d.outcome;
    const target = d.target;
    document.getElementById('res-level').textContent = target.code !== undefined
        ? `${target.scale} ${target.code}${target.upper ? '–' + target.upper : ''} ${target.label || ''}` : '—';
    document.getElementById('res-equivalence').textContent = t('eq.' + d.equivalence) + (d.lossy ? ' ⚠' : '');
    document.getElementById('res-window').textContent = c.validity_months
        ? `${c.validity_months} ${t('cond.months')}${c.valid_until ? ` (${c.valid_from} – ${c.valid_until})` : ''}`
        : t('cond.none');
    const conditions = [];
    if (c.recognised_statuses) conditions.push(`${t('cond.statuses')}: ${c.recognised_statuses.join(', ')}`);
    if (c.on_expiry) conditions.push(`${t('cond.expiry')}: ${t('outcome.' + c.on_expiry)}`);
    if (c.sanctions_block) conditions.push(t('cond.sanctions'));
    document.getElementById('res-conditions').replaceChildren(
        el('ul', {}, ...conditions.map((text) => el('li', {}, text))));
    const basis = d.legal_basis;
    const basisText = basis ? `${basis.document} ${basis.title} ${basis.article}`.trim() : '—';
    const basisNode = document.getElementById('res-basis');
    basisNode.replaceChildren(basisText);
    if (answer.agreement) basisNode.append(el('br'), `${t('cond.agreement')}: ${answer.agreement.document}`);
    if (basis && !basis.documented) basisNode.append(el('br'), t('cond.advisory'));
    document.getElementById('res-rule').textContent = [d.policy, d.rule].filter(Boolean).join(' · ') || '—';
    document.getElementById('res-reasons').replaceChildren(...reasonTexts(d).map((r) => el('li', {}, r)));
    const section = document.getElementById('rules-result');
    section.hidden = false;
    if (focus) section.querySelector('h2').focus();
  },
};

document.addEventListener('DOMContentLoaded', () => RulesPage.init());
