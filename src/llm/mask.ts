/** Personal data replaced by placeholders before text leaves the process for a model: phones, ID numbers, e-mails, addresses. */

/** What a masked mobile number becomes: no digit of it is kept, not even the last four. */
export const PHONE_PLACEHOLDER = '[PHONE]';
/** What a masked address becomes. */
export const ADDRESS_PLACEHOLDER = '[ADDRESS]';
/** What a masked mainland ID card number becomes. */
export const ID_PLACEHOLDER = '[ID]';
/** What a masked e-mail address becomes. */
export const EMAIL_PLACEHOLDER = '[EMAIL]';

const PLACEHOLDERS = [PHONE_PLACEHOLDER, ADDRESS_PLACEHOLDER, ID_PLACEHOLDER, EMAIL_PLACEHOLDER];

// 18-digit ID: 6-digit area, birth date, 3 digits, check digit.
const ID_CARD = /(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])/g;
// Mainland mobile: optional +86, then 1[3-9] and 9 more digits, spaces or dashes allowed between.
const MOBILE = /(?<!\d)(?:\+?86[\s-]?)?1[3-9](?:[\s-]?\d){9}(?!\d)/g;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
// A cue word, an optional verb or colon, then the address up to the end of the clause.
const ADDRESS_ZH = /(收货地址|收件地址|配送地址|送货地址|地址|寄到|送到|发到)(\s*(?:是|为|改成|改为|换成|改到|变成|到|:|：)?\s*)([^，。,；;！!？?\n]+)/g;
// Masked only when it looks like a place, so "地址怎么改" (how do I change the address) stays.
const PLACE_HINT = /[省市区县镇乡村路街道巷弄号栋幢楼室]|单元|小区|\d/;
const ADDRESS_EN = /\b(address|ship to|deliver to|send it to|send to)\b(\s*(?:is|:|to)?\s*)([^\n;!?]+)/gi;

/** Full-width digits as ASCII, so "１３８…" is masked like "138…". */
function asciiDigits(text: string): string {
  return text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
}

/**
 * The text with mainland mobile numbers, ID card numbers, e-mails and address-like strings
 * (after 地址/收货地址/寄到…, or "address"/"ship to" in English) replaced by placeholders.
 * Order numbers and 4-digit numbers stay: the model needs the first, the second may be a size.
 */
export function maskForModel(text: string): string {
  return asciiDigits(text)
    .replace(ID_CARD, ID_PLACEHOLDER)
    .replace(MOBILE, PHONE_PLACEHOLDER)
    .replace(EMAIL, EMAIL_PLACEHOLDER)
    .replace(ADDRESS_ZH, (all, cue: string, joint: string, rest: string) =>
      PLACE_HINT.test(rest) ? `${cue}${joint}${ADDRESS_PLACEHOLDER}` : all)
    .replace(ADDRESS_EN, (all, cue: string, joint: string, rest: string) =>
      /\d/.test(rest) ? `${cue}${joint}${ADDRESS_PLACEHOLDER}` : all);
}

/** A copy of a JSON-like value with every string masked and phone/address keys (phoneLast4 too) hidden whole. */
export function maskValueForModel(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskForModel(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskValueForModel(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (/phone|mobile|^tel$/i.test(key)) out[key] = PHONE_PLACEHOLDER;
    else if (/address|street|^detail$/i.test(key)) out[key] = ADDRESS_PLACEHOLDER;
    else out[key] = maskValueForModel(v, depth + 1);
  }
  return out;
}

/** Whether a value the model returned is (or holds) a placeholder, i.e. says nothing usable. */
export function holdsPlaceholder(text: string): boolean {
  return PLACEHOLDERS.some((p) => text.includes(p));
}
