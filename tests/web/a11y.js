// A small axe-style check run inside each page by browser_test.py: returns a list of problems.
// Checks: <html lang>, a label for every form control, alt text on images, a name for every
// button and link, an accessible name on canvases, and WCAG AA contrast of visible text
// (4.5:1, 3:1 for large text) against the nearest opaque background.
const problems = [];
const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) &&
    getComputedStyle(e).visibility !== 'hidden';
const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
if (!document.documentElement.lang) problems.push('html has no lang attribute');
for (const e of document.querySelectorAll('input, select, textarea')) {
  if (e.type === 'hidden') continue;
  const labelled = (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label') ||
      e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
  if (!labelled) problems.push('form control without a label: ' + describe(e));
}
for (const e of document.querySelectorAll('img')) {
  if (!e.hasAttribute('alt')) problems.push('image without alt: ' + describe(e));
}
for (const e of document.querySelectorAll('button, a[href]')) {
  if (visible(e) && !(e.textContent.trim() || e.getAttribute('aria-label'))) problems.push('unnamed ' + describe(e));
}
for (const e of document.querySelectorAll('canvas')) {
  if (!e.getAttribute('aria-label') && !e.textContent.trim()) problems.push('canvas without a name: ' + describe(e));
}
const rgba = (text) => {
  const m = text.match(/[\d.]+/g) || [];
  return m.length >= 3 ? [+m[0], +m[1], +m[2], m.length > 3 ? +m[3] : 1] : [0, 0, 0, 0];
};
const luminance = ([r, g, b]) => {
  const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
const background = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c[3] > 0.5) return c;
  }
  return [255, 255, 255, 1];
};
for (const e of document.querySelectorAll('body *')) {
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !visible(e) || e.closest('[hidden]')) continue;
  const style = getComputedStyle(e);
  if (e.disabled) continue;
  const fg = rgba(style.color);
  const bg = background(e);
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const ratio = (l1 + 0.05) / (l2 + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && +style.fontWeight >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} on ${describe(e)}`);
}
// Chart colours (web/js/common.js PALETTE): WCAG non-text contrast 3:1 against white.
if (typeof PALETTE !== 'undefined') {
  for (const hex of PALETTE) {
    const rgb = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const ratio = 1.05 / (luminance(rgb) + 0.05);
    if (ratio < 3) problems.push(`chart colour ${hex} contrast ${ratio.toFixed(2)} on white`);
  }
}
return problems;
