// The reasons of a recognition decision in the page's language. The API gives each reason as a
// stable code with named parameters (mapping/engine.h ReasonDetail) beside its English text:
// English pages show that text, Chinese pages word the code here. Data from the rule files
// (rule ids, scale codes, legal documents) is shown as it is; an entry's English comment and
// citation are left to the English page.
'use strict';

const STATUS_ZH = { ACTIVE: '有效', EXPIRED: '已过期', REVOKED: '已撤销', WITHDRAWN: '已撤回',
                    REPAIRED: '已更正', RETRACTED: '已撤回发布' };

// The Chinese part of a bilingual rule-set name ("Zhuhai 珠海市" -> "珠海市").
function chineseName(name) {
  const parts = String(name || '').split(' ').filter((p) => /[\u3400-\u9fff]/.test(p));
  return parts.length ? parts.join(' ') : String(name || '');
}

function equivalenceZh(code) { return I18N_ZH['eq.' + code] ?? code; }

function mappingStepZh(p, code) {
  const to = p.to ? p.to + (p.to_upper ? ` .. ${p.to_upper}` : '') : `${p.target_scale}（无对应等级）`;
  let text = `${p.from} → ${to}：${equivalenceZh(p.equivalence)}，依据 ${p.rule}`;
  if (p.bilateral) text += '（双边规则，优先于国家基准量表）';
  text += p.documented ? '；有文件依据' : '；建议对应（尚无文件依据）';
  if (code === 'case_by_case') text += '；需个案认定';
  if (code === 'unmatched') text += '；无对应等级，无可认可内容';
  return text;
}

function legalBasisZh(p) {
  if (!p.basis) return '无法律依据';
  let text = `法律依据：${p.basis}`;
  if (p.agreement) text += '：目的地与记录来源地的合作协议';
  else if (p.documented) text += '：目的地对任何地区记录适用的依据';
  return text;
}

function sanctionBlocksZh(p) {
  return `因处罚通知 ${p.record_id} 不予认可：由 ${p.issuing_region} 发布（${p.native_code}，法律依据：` +
         `${p.legal_basis}），决定日期 ${p.decided_on}，${p.ends_on ? '有效至 ' + p.ends_on : '无截止日期'}；` +
         '任一地区的有效处罚在其有效期内阻止所有地区的互认';
}

// Chinese wording per reason code; every code of mapping::ReasonCodeName has one.
const REASON_ZH = {
  no_target_rules: (p) => `目的地 ${p.target} 没有互认规则（其所在城市或省份也没有）`,
  target_rules: (p) => (p.own
    ? `目的地 ${p.target} ${chineseName(p.rules_name)}：适用其本地规则 ${p.rule}`
    : `目的地 ${p.target} 没有自己的${I18N_ZH['kind.' + p.kind] ?? p.kind}规则：` +
      `适用 ${p.rules_region} ${chineseName(p.rules_name)} 的规则 ${p.rule}`),
  status_not_recognised: (p) => `记录状态“${STATUS_ZH[p.status] ?? p.status}”不予认可（${p.rule} 仅认可有效记录）`,
  status_recognised: (p) => `记录状态“${STATUS_ZH[p.status] ?? p.status}”予以认可`,
  sanction_blocks: sanctionBlocksZh,
  no_sanction: () => '任何地区均无针对该对象的有效处罚通知',
  sanction_in_force: (p) => `该处罚通知在 ${p.on} 有效，有效期内适用于所有地区`,
  sanction_not_in_force: (p) => (p.not_yet ? `该处罚通知的日期晚于 ${p.on}`
                                           : `该处罚通知已于 ${p.ended_on} 结束，早于 ${p.on}`),
  dated_after: (p) => `记录日期 ${p.date} 晚于认定日期 ${p.on}`,
  unknown_scale: () => '没有规则认识该记录的评估量表',
  unknown_code: (p) => `记录的等级代码不是量表 ${p.scale} 的等级`,
  no_rule_in_force: (p) => `${p.on} 没有有效的 ${p.source_scale} → ${p.target_scale} 对照规则`,
  no_entry: (p) => `${p.rule} 没有 ${p.level} 的对照条目`,
  same_scale: (p) => `目的地使用相同的量表 ${p.scale}：等级直接对应`,
  pivot_is_target: (p) => `目的地直接使用国家基准量表 ${p.scale}`,
  step: (p) => mappingStepZh(p, 'step'),
  case_by_case: (p) => mappingStepZh(p, 'case_by_case'),
  unmatched: (p) => mappingStepZh(p, 'unmatched'),
  flag: (p) => `标记 ${p.flag}：原等级可能对应更高的等级，请以本地评估确认`,
  lossy: (p) => `有损对应：原等级与目标等级的关系为“${equivalenceZh(p.equivalence)}”，并非等同；给出较低的目标等级`,
  valid_until_passed: (p) => `有效期至 ${p.date}，早于 ${p.on}`,
  window_expired: (p) => `评估日期 ${p.date}：已超过 ${p.rule} 规定的 ${p.months} 个月有效期（有效至 ${p.valid_through}）`,
  within_window: (p) => `评估日期 ${p.date}：在 ${p.rule} 规定的 ${p.months} 个月有效期内（有效至 ${p.valid_through}）`,
  proposed_scale_choice: () => '目的地所用的量表为建议选择（尚无文件依据）',
  legal_basis: legalBasisZh,
  advisory_only: () => '目的地没有成文的互认法律依据：结果仅供参考',
};

// The reasons of a decision JSON as text in the current language.
function reasonTexts(decision) {
  const details = decision.reason_details;
  if (Lang.current() === 'en' || !Array.isArray(details)) return decision.reasons || [];
  return details.map((d) => (REASON_ZH[d.code] ? REASON_ZH[d.code](d.params || {}) : d.text));
}
