/** Rule-based slot extractors (order id, phone, size, colour, quantity, yes/no, address, body size), Chinese and English. */
import type { Slots } from './types.ts';
import { cleanText, normalize } from './text.ts';

/** The kinds of answer a flow's ask step can expect; each has a rule here. */
export type SlotType =
  | 'orderId' | 'phone' | 'phoneLast4' | 'size' | 'color' | 'quantity' | 'yesNo' | 'address'
  | 'heightCm' | 'weightKg' | 'text' | 'number';

/** The value each slot type yields. */
export interface SlotValues {
  orderId: string;
  phone: string;
  phoneLast4: string;
  size: string;
  color: string;
  quantity: number;
  yesNo: 'yes' | 'no';
  address: string;
  heightCm: number;
  weightKg: number;
  text: string;
  number: number;
}

/** What {@link extractSlot} found: a value, or that the answer does not fit. */
export type SlotResult<T> = { ok: true; value: T } | { ok: false };

// ---------------------------------------------------------------------------------------------
// Numbers

const CN_DIGITS: Readonly<Record<string, number>> = {
  零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 俩: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9,
};
const CN_UNITS: Readonly<Record<string, number>> = { 十: 10, 百: 100, 千: 1000 };
const CN_NUMBER = '[零〇一二两俩三四五六七八九十百千]+';

/** "一百三十" → 130, "十二" → 12, "两" → 2, "42" → 42; undefined when it is not a number. */
export function parseNumber(text: string): number | undefined {
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text);
  if (!new RegExp(`^${CN_NUMBER}$`).test(text)) return undefined;
  let total = 0;
  let current = 0;
  for (const ch of text) {
    const digit = CN_DIGITS[ch];
    const unit = CN_UNITS[ch];
    if (digit !== undefined) current = digit;
    else if (unit !== undefined) {
      total += (current || 1) * unit;
      current = 0;
    }
  }
  return total + current;
}

/** "七五" → 75, "8" → 8: digits read one by one, as in 一米七五. */
function parseDigitByDigit(text: string): number | undefined {
  let out = '';
  for (const ch of text) {
    const d = /\d/.test(ch) ? ch : CN_DIGITS[ch]?.toString();
    if (d === undefined) return undefined;
    out += d;
  }
  return out ? Number(out) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Order ids and phone numbers. Both are found first and blanked out, so that their digits are
// never read as a phone's last 4, a height or a quantity.

// One letter and 11 digits; digits may be grouped with spaces or dashes ("E2026 1015 001").
const ORDER_ID = /(?<![a-z0-9])([a-z])((?:\d[\s-]?){10}\d)(?!\d)/g;
// Mainland mobile, optionally +86, digits grouped with spaces or dashes ("138-1234-5678").
const PHONE = /(?<![\da-z])(?:\+?86[\s-]?)?(1[3-9](?:[\s-]?\d){9})(?!\d)/g;

function findOrderId(n: string): string | undefined {
  for (const m of n.matchAll(ORDER_ID)) {
    const letter = m[1];
    const digits = m[2]?.replace(/\D/g, '');
    if (letter && digits?.length === 11) return `${letter.toUpperCase()}${digits}`;
  }
  return undefined;
}

function findPhone(n: string): string | undefined {
  for (const m of n.replace(ORDER_ID, ' ').matchAll(PHONE)) {
    const digits = m[1]?.replace(/\D/g, '');
    if (digits?.length === 11) return digits;
  }
  return undefined;
}

/** The text with order ids and phone numbers blanked out. */
function withoutIds(n: string): string {
  return n.replace(ORDER_ID, ' ').replace(PHONE, ' ');
}

/** The shop's order id ("E20261015001"), upper-cased, from "订单号:e2026 1015 001" or "order #E20261015001". */
export function orderId(text: string): string | undefined {
  return findOrderId(normalize(text));
}

/** A mainland mobile number as 11 digits, from "138 1234 5678", "+86-138-1234-5678"... */
export function phone(text: string): string | undefined {
  return findPhone(normalize(text));
}

const LAST4_CUE = /(?:尾号|后四位|后4位|末四位|末4位|最后四位|最后4位|last\s*(?:4|four)(?:\s*digits?)?|ending(?:\s*(?:in|with))?)\D{0,6}?(\d{4})(?!\d)/;
// A number followed by one of these is an amount, a date, a size or an address, not a phone's tail.
const UNITS = '元|块|年|月|日|号|件|个|条|双|米|cm|厘米|kg|公斤|千克|斤|码|%|楼|室|栋|单元|路|次|天|ml|mm|g\\b|lbs?|磅';
const UNIT_AFTER = `(?:${UNITS})`;
const LONE_4_DIGITS = new RegExp(`(?<![\\d.:/$¥#-])(\\d{4})(?![\\d.:/-]|\\s*${UNIT_AFTER})`);

/**
 * The last 4 digits of a phone, from "尾号1234", "后四位是 1234", "last 4 digits 1234", or a
 * lone 4-digit number; never digits inside an order id or a full phone number.
 */
export function phoneLast4(text: string): string | undefined {
  const n = withoutIds(normalize(text));
  return LAST4_CUE.exec(n)?.[1] ?? LONE_4_DIGITS.exec(n)?.[1];
}

// ---------------------------------------------------------------------------------------------
// Size

const LETTER_SIZE = /(?<![a-z0-9'])(xxxxl|xxxl|xxl|xl|xs|[2-5]xl|s|m|l)(?![a-z'])/g;
const SIZE_WORD = /(?<!(?:too|so|very|bit|little|abit)\s)\b(extra[\s-]?extra[\s-]?large|xx[\s-]large|extra[\s-]?large|x[\s-]large|small|medium|large)\b/g;
const FREE_SIZE = /均码|free\s?size|one\s?size/g;
const NUMERIC_SIZE = /(?:(?:尺码|码数|size|穿)\s*(?:是|为|:|is)?\s*(\d{2})(?!\d))|(?:(?<![\d.])(\d{2})\s*码)/g;
// A lone s/m/l is a size only next to Chinese ("要m的"), after "size"/"a"/"in", or as the whole answer.
const SINGLE_LETTER_CONTEXT_BEFORE = /(?:\p{Script=Han}|\b(?:size|a|an|in|the|get|want|take|wear)\s*)$/u;
const SINGLE_LETTER_CONTEXT_AFTER = /^\s*(?:\p{Script=Han}|size\b)/u;

function canonicalLetterSize(s: string): string {
  const m = /^([2-5])xl$/.exec(s);
  return m?.[1] ? `${'X'.repeat(Number(m[1]))}L` : s.toUpperCase();
}

interface Found<T> {
  at: number;
  value: T;
}

function findSizes(n: string): Found<string>[] {
  const found: Found<string>[] = [];
  const whole = n.replace(/[\s\p{P}]/gu, '');
  for (const m of n.matchAll(LETTER_SIZE)) {
    const s = m[1] ?? '';
    if (s.length === 1) {
      const before = n.slice(0, m.index);
      const after = n.slice(m.index + 1);
      const alone = whole === s;
      if (!alone && !SINGLE_LETTER_CONTEXT_BEFORE.test(before) && !SINGLE_LETTER_CONTEXT_AFTER.test(after)) continue;
    }
    found.push({ at: m.index, value: canonicalLetterSize(s) });
  }
  for (const m of n.matchAll(SIZE_WORD)) {
    const w = (m[1] ?? '').replace(/[\s-]/g, '');
    const value = w === 'small' ? 'S' : w === 'medium' ? 'M' : w === 'large' ? 'L'
      : w === 'extraextralarge' || w === 'xxlarge' ? 'XXL' : 'XL';
    found.push({ at: m.index, value });
  }
  for (const m of n.matchAll(FREE_SIZE)) found.push({ at: m.index, value: '均码' });
  for (const m of n.matchAll(NUMERIC_SIZE)) {
    const v = Number(m[1] ?? m[2]);
    if (v >= 26 && v <= 44) found.push({ at: m.index, value: String(v) });
  }
  return found.sort((a, b) => a.at - b.at);
}

/**
 * A clothing size: S M L XL XXL XXXL (2XL → XXL), 均码, or 26–44 with 码. When several are named
 * the last one wins, because customers name the wanted size after the current one ("M换成L").
 */
export function size(text: string): string | undefined {
  return findSizes(withoutIds(normalize(text))).at(-1)?.value;
}

// ---------------------------------------------------------------------------------------------
// Colour

/** The shop's colour names and the ways customers write them. Longer spellings are tried first. */
const COLOR_ALIASES: Readonly<Record<string, readonly string[]>> = {
  米白色: ['米白色', '米白', 'off white', 'off-white', 'cream', 'ivory'],
  酒红色: ['酒红色', '酒红', 'wine red', 'burgundy', 'wine'],
  藏青色: ['藏青色', '藏青', '藏蓝色', '藏蓝', '深蓝色', '深蓝', 'navy blue', 'navy', 'dark blue'],
  浅蓝色: ['浅蓝色', '浅蓝', '天蓝色', '天蓝', 'light blue', 'sky blue'],
  浅灰色: ['浅灰色', '浅灰', 'light grey', 'light gray'],
  深灰色: ['深灰色', '深灰', 'dark grey', 'dark gray', 'charcoal'],
  军绿色: ['军绿色', '军绿', 'army green', 'olive'],
  卡其色: ['卡其色', '卡其', 'khaki'],
  咖啡色: ['咖啡色', '咖色', 'coffee'],
  杏色: ['杏色', '杏', 'apricot'],
  驼色: ['驼色', '驼', 'camel'],
  米色: ['米色', 'beige'],
  白色: ['白色', '白', 'white'],
  黑色: ['黑色', '黑', 'black'],
  灰色: ['灰色', '灰', 'grey', 'gray'],
  粉色: ['粉色', '粉红色', '粉红', '粉', 'pink'],
  红色: ['红色', '大红', '红', 'red'],
  蓝色: ['蓝色', '蓝', 'blue'],
  绿色: ['绿色', '绿', 'green'],
  黄色: ['黄色', '黄', 'yellow'],
  紫色: ['紫色', '紫', 'purple'],
  橙色: ['橙色', '橘色', '橙', 'orange'],
  棕色: ['棕色', '棕', 'brown'],
  银色: ['银色', 'silver'],
  金色: ['金色', 'gold'],
};

const COLOR_BY_ALIAS = new Map<string, string>();
for (const [name, aliases] of Object.entries(COLOR_ALIASES)) for (const a of aliases) COLOR_BY_ALIAS.set(a, name);

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const COLOR = new RegExp(
  [...COLOR_BY_ALIAS.keys()]
    .sort((a, b) => b.length - a.length)
    .map((a) => (/^[a-z]/.test(a) ? `\\b${escapeRegExp(a).replace(/[ -]/g, '[\\s-]?')}\\b` : escapeRegExp(a)))
    .join('|'),
  'g',
);
// Words that contain a colour character but are no colour (红包, 明白, 蓝牙...).
const NOT_COLOR = /明白|白天|白送|白白|空白|坦白|白费|白跑|白条|红包|网红|红利|走红|粉丝|蓝牙|黑名单|拉黑|黑店|黑心|灰心|绿色通道|黄牛|金额|现金|金币|黄金周|杏仁|驼背|紫外线|灰尘/g;
// A one-character colour counts before 的/色/款 or a garment ("白衬衫"), after a choosing verb, or alone.
const SINGLE_COLOR_AFTER = /^(?:$|[的色款系\s\p{P}]|[衣裤裙衫袜鞋帽外卫毛羽牛风夹马背短长吊打西运针棉羊t])/u;
const SINGLE_COLOR_BEFORE = /(?:^|[要换选拿买改成是发用\s\p{P}])$/u;

function findColors(n: string): Found<string>[] {
  const masked = n.replace(NOT_COLOR, (w) => ' '.repeat(w.length));
  const found: Found<string>[] = [];
  for (const m of masked.matchAll(COLOR)) {
    const alias = m[0].replace(/[\s-]+/g, ' ');
    const name = COLOR_BY_ALIAS.get(alias) ?? COLOR_BY_ALIAS.get(alias.replace(' ', '-')) ?? COLOR_BY_ALIAS.get(alias.replace(' ', ''));
    if (!name) continue;
    if (alias.length === 1) {
      const after = masked.slice(m.index + 1, m.index + 2);
      const before = masked.slice(Math.max(0, m.index - 1), m.index);
      if (!SINGLE_COLOR_AFTER.test(after) && !SINGLE_COLOR_BEFORE.test(before)) continue;
    }
    found.push({ at: m.index, value: name });
  }
  return found;
}

/**
 * A colour as the shop names it (白/white → 白色, navy → 藏青色, 130-odd spellings). The last one
 * named wins, as with sizes ("白色换成黑色" → 黑色).
 */
export function color(text: string): string | undefined {
  return findColors(normalize(text)).at(-1)?.value;
}

// ---------------------------------------------------------------------------------------------
// Quantity

const EN_NUMBERS: Readonly<Record<string, number>> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
};
const QUANTITY = new RegExp(
  `(?<![第\\d.])(\\d{1,3}|${CN_NUMBER})\\s*(?:件|个|条|双|套|顶|只|包|盒|pcs|pc|pieces?|items?|pairs?)(?![a-z])` +
    // "两个问题", "一件事", "三个工作日" count other things.
    '(?!问题|事|地方|月|小时|工作日|星期|礼拜|人|订单|单|快递|包裹|颜色|尺码|码|号)',
);
const QUANTITY_EN = /\b(one|two|three|four|five|six|seven|eight|nine|ten|\d{1,3})\s+(?:pcs|pieces?|items?|pairs?|of them)\b/;
const QUANTITY_TIMES = /(?:^|\s)[x×*]\s*(\d{1,3})(?!\d)/;

/** How many pieces: "2件", "两条", "买三个", "x2", "3 pcs", "two pieces"; 1–999. */
export function quantity(text: string): number | undefined {
  const n = withoutIds(normalize(text));
  const m = QUANTITY.exec(n) ?? QUANTITY_EN.exec(n) ?? QUANTITY_TIMES.exec(n);
  const word = m?.[1];
  if (word === undefined) return undefined;
  const v = EN_NUMBERS[word] ?? parseNumber(word);
  return v !== undefined && Number.isInteger(v) && v >= 1 && v <= 999 ? v : undefined;
}

// ---------------------------------------------------------------------------------------------
// Yes / no

const YES_ZH = /^(?:是|是的|是滴|是啊|对|对的|对滴|对啊|对呀|没错|正确|好|好的|好滴|好哒|好嘞|好啊|好吧|行|行的|行吧|可以|可以的|没问题|确认|确定|确认无误|确定的|嗯|恩|要|要的|需要|同意|ok|okk|okay|ok的)+$/;
const NO_ZH = /^(?:不|不是|不是的|不对|不对的|不要|不用|不用了|不需要|否|没有|没|不行|不可以|不好|错了|不正确|不了|no)+$/;
const YES_EN = /^(?:yes|y|yeah|yea|yep|yup|ya|sure|ok|okay|confirm|confirmed|correct|right|thats right|of course|absolutely|definitely|go ahead|alright|fine|yes it is)(?: (?:please|thanks|thank you|sure))*$/;
const NO_EN = /^(?:no|n|nope|nah|not really|no thanks|no thank you|wrong|incorrect|negative|not correct|thats wrong|dont|do not|no it isnt)(?: (?:please|thanks|thank you))*$/;
const FILLER = /^(?:谢谢|谢了|多谢|谢谢你|谢谢亲|麻烦了|麻烦你了|辛苦了|亲|亲亲|哈|哈哈|呀|啊|吧|啦|呢|嘞|哒|滴|哦|噢|呐|thanks|thank you|thx|please)$/;
const TRAILING_PARTICLES = /(?:啊|呀|吧|哈|啦|呢|嘞|哒|滴|哦|噢|亲|~)+$/;
const NEGATION = /不|没|错|no\b|not\b|nope/;
const AFFIRMATION = /是|对|好|行|可以|确认|yes|ok|sure/;

/**
 * "是的", "好滴", "ok", "yep", "不是", "不用了", "nope" — only when the message is essentially an
 * answer: "不是我要的衣服坏了" is a statement, not a no. 取消 and cancel are control words, not no.
 */
export function yesNo(text: string): 'yes' | 'no' | undefined {
  const cleaned = normalize(text).replace(/'/g, '').replace(/[\p{P}\p{S}\s]+/gu, ' ').trim();
  if (!cleaned) return undefined;
  if (YES_EN.test(cleaned)) return 'yes';
  if (NO_EN.test(cleaned)) return 'no';
  const clauses = cleaned.split(' ');
  const first = (clauses[0] ?? '').replace(TRAILING_PARTICLES, '') || (clauses[0] ?? '');
  // "好的谢谢" without a comma: the filler is glued on.
  const head = first.replace(/(?:谢谢你?|谢了|多谢|麻烦了|麻烦你了|辛苦了)$/, '').replace(TRAILING_PARTICLES, '') || first;
  const answer = YES_ZH.test(head) ? 'yes' : NO_ZH.test(head) ? 'no' : undefined;
  if (!answer) return undefined;
  const rest = clauses.slice(1).filter((c) => !FILLER.test(c)).join('');
  if (!rest) return answer;
  // "对,就是这个" is still a yes; "好的,不过不要了" is not clearly one.
  if (rest.length > 20) return undefined;
  const opposite = answer === 'yes' ? NEGATION : AFFIRMATION;
  return opposite.test(rest) ? undefined : answer;
}

// ---------------------------------------------------------------------------------------------
// Address

const ADDRESS_LEAD = /(?:(?:收货|新的?|寄送|送货|配送|收件)?地址(?:改成|改为|换成|更改为|修改为|更新为|变成|变更为|是|为|在|:)|改寄到|改送到|改发到|寄到|送到|发到|改到|寄去|送去|发去|(?:new\s+)?address\s*(?:is|to|:)|(?:ship|send|deliver)\s+(?:it\s+)?to)\s*:?\s*(.+)$/iu;
const ADMIN_MARK = /省|自治区|特别行政区|市|区|县|旗|盟|州/u;
const STREET_MARK = /路|街|大道|巷|弄|胡同|村|镇|乡|小区|花园|公寓|大厦|广场|苑|\d+\s*(?:号|栋|幢|单元|室|楼|层)|号楼|road|street|\brd\b|\bst\b|avenue|district/iu;
const ADDRESS_FILLER_START = /^(?:我的?(?:新的?)?(?:收货)?地址(?:是|在|为)?|我(?:家)?住在|我(?:家)?在|帮我(?:寄|送|发)到|请?(?:寄|送|发)到|收货人?地址|地址|(?:请|帮我)?(?:改成|改为|换成|改到|更改为|修改为|更新为))\s*:?\s*/u;
const ADDRESS_FILLER_END = /[\s,.;!?~]*(?:谢谢你?|谢了|麻烦了|麻烦你了|辛苦了|thanks|thank you)?[\s,.;!?~]*$/iu;

function looksLikeAddress(s: string): boolean {
  return s.length >= 6 && ADMIN_MARK.test(s) && STREET_MARK.test(s);
}

// A short name before a full address ("张三 浙江省杭州市...") is the recipient, not the address.
const LEADING_NAME = /^\p{Script=Han}{2,4}\s+(?=\S*(?:省|市|自治区))/u;

function tidyAddress(s: string): string | undefined {
  const out = s.replace(/\s+/g, ' ').trim().replace(ADDRESS_FILLER_START, '').replace(LEADING_NAME, '')
    .replace(ADDRESS_FILLER_END, '').trim();
  return out.length >= 4 && /[\p{Script=Han}\d]/u.test(out) ? out : undefined;
}

/**
 * A delivery address as the customer wrote it (case and characters kept, emoji removed): the part
 * after "地址改成/寄到/address:", or a clause that reads like an address (省/市/区 with 路/号/小区...).
 */
export function address(text: string): string | undefined {
  const clean = cleanText(text);
  const blanked = clean.replace(/(?<![\da-z])(?:\+?86[\s-]?)?1[3-9](?:[\s-]?\d){9}(?!\d)/gi, ' ');
  const lead = ADDRESS_LEAD.exec(blanked)?.[1];
  if (lead) {
    const tidy = tidyAddress(lead);
    if (tidy && (looksLikeAddress(tidy) || tidy.length >= 8 || STREET_MARK.test(tidy))) return tidy;
  }
  // Consecutive clauses that carry address marks form one address ("浙江省杭州市西湖区,文三路100号").
  let best: string | undefined;
  let run: string[] = [];
  const flush = (): void => {
    const joined = run.join(' ').trim();
    if (looksLikeAddress(joined) && (!best || joined.length > best.length)) best = joined;
    run = [];
  };
  for (const clause of blanked.split(/[,;。!?\n]|,\s/)) {
    if (ADMIN_MARK.test(clause) || STREET_MARK.test(clause)) run.push(clause.trim());
    else flush();
  }
  flush();
  return best ? tidyAddress(best) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Height and weight (for size advice)

const HEIGHT_METRE_DIGITS = /([1一])\s*(?:米|m)\s*([0-9零一二三四五六七八九]{1,2})(?![0-9])/;
const HEIGHT_DECIMAL = /(?<![\d.])([12]\.\d{1,2})\s*(?:米|m)(?![a-z])/;
const HEIGHT_CM = /(?<![\d.])(\d{3})(?:\.\d)?\s*(?:cm|厘米|公分)/;
const HEIGHT_CUE = /(?:身高|height|个子|个头|高)\s*(?:是|为|:|is|大概|约|有)?\s*(\d{3})(?![\d.])/;
const HEIGHT_FEET = /(?<!\d)([4-7])\s*(?:'|’|′|ft|feet|foot)\s*(\d{1,2})?\s*(?:"|”|″|''|in|inch|inches)?(?!\d)/;
const BARE_HEIGHT = new RegExp(`(?<![\\d.])(1[4-9]\\d|20\\d|210)(?![\\d.]|\\s*${UNIT_AFTER})`);
const WEIGHT_CUE_BEFORE = /(?:体重|weight|重|weigh)\s*(?:是|为|:|is|大概|约|有)?\s*$/;

function inRange(v: number | undefined, min: number, max: number): number | undefined {
  return v !== undefined && Number.isFinite(v) && v >= min && v <= max ? Math.round(v) : undefined;
}

function findHeight(n: string, allowBare: boolean): number | undefined {
  const metre = HEIGHT_METRE_DIGITS.exec(n);
  if (metre?.[2]) {
    const rest = parseDigitByDigit(metre[2]);
    if (rest !== undefined) return inRange(100 + (metre[2].length === 1 ? rest * 10 : rest), 100, 230);
  }
  const decimal = HEIGHT_DECIMAL.exec(n)?.[1];
  if (decimal) return inRange(Number(decimal) * 100, 100, 230);
  const cm = HEIGHT_CM.exec(n)?.[1] ?? HEIGHT_CUE.exec(n)?.[1];
  if (cm) return inRange(Number(cm), 100, 230);
  const feet = HEIGHT_FEET.exec(n);
  if (feet?.[1]) return inRange((Number(feet[1]) * 12 + Number(feet[2] ?? 0)) * 2.54, 120, 230);
  if (!allowBare) return undefined;
  const bare = BARE_HEIGHT.exec(n);
  if (bare?.[1] && !WEIGHT_CUE_BEFORE.test(n.slice(0, bare.index))) return inRange(Number(bare[1]), 140, 210);
  return undefined;
}

/**
 * Height in cm from "175", "175cm", "一米七五", "1米75", "1.75m", "身高170", "5'9"". A bare number
 * counts only in 140–210 and not when it reads as a weight or an amount.
 */
export function heightCm(text: string): number | undefined {
  return findHeight(withoutIds(normalize(text)), true);
}

const WEIGHT_KG = /(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(?:kg|kgs|公斤|千克)/;
const WEIGHT_JIN = new RegExp(`(?<![\\d.])(\\d{2,3}(?:\\.\\d)?|${CN_NUMBER})\\s*斤`);
const WEIGHT_LBS = /(?<![\d.])(\d{2,3}(?:\.\d)?)\s*(?:lbs?|pounds?|磅)/;
const WEIGHT_CUE = /(?:体重|weight|weigh|重)\s*(?:是|为|:|is|大概|约|有)?\s*(\d{2,3}(?:\.\d)?)(?![\d.]|\s*(?:cm|厘米|米|m\b))/;
// Without a unit, Chinese customers mostly mean 斤: 110 is 55 kg. Below 90 it reads as kg.
const JIN_ABOVE = 90;

function unitlessWeight(v: number): number | undefined {
  return inRange(v >= JIN_ABOVE ? v / 2 : v, 25, 200);
}

/**
 * Weight in kg (rounded) from "65kg", "130斤" (→ 65), "一百三十斤", "体重60公斤", "120 lbs" (→ 54),
 * "体重110" (no unit: 90 and more are read as 斤).
 */
export function weightKg(text: string): number | undefined {
  return findWeight(withoutIds(normalize(text)), false);
}

function findWeight(n: string, allowBare: boolean): number | undefined {
  const kg = WEIGHT_KG.exec(n)?.[1];
  if (kg) return inRange(Number(kg), 25, 200);
  const jin = WEIGHT_JIN.exec(n)?.[1];
  if (jin) return inRange((parseNumber(jin) ?? NaN) / 2, 25, 200);
  const lbs = WEIGHT_LBS.exec(n)?.[1];
  if (lbs) return inRange(Number(lbs) * 0.45359237, 25, 200);
  const cued = WEIGHT_CUE.exec(n)?.[1];
  if (cued) return unitlessWeight(Number(cued));
  if (allowBare && /^\d{2,3}(?:\.\d)?$/.test(n)) return unitlessWeight(Number(n));
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// All at once, and one for a flow's question

/** Every slot the rules find in one message. */
export function extractSlots(text: string): Slots {
  const n = normalize(text);
  const slots: Slots = {};
  const addr = address(text);
  if (addr) slots.address = addr;
  // Numbers inside an address (room 1201, No. 175) are not a phone's tail or a height.
  const bare = withoutIds(addr ? n.replace(normalize(addr), ' ') : n);
  const id = findOrderId(n);
  if (id) slots.orderId = id;
  const tel = findPhone(n);
  if (tel) slots.phone = tel;
  const last4 = LAST4_CUE.exec(bare)?.[1] ?? LONE_4_DIGITS.exec(bare)?.[1];
  if (last4) slots.phoneLast4 = last4;
  const sz = findSizes(bare).at(-1)?.value;
  if (sz) slots.size = sz;
  const col = findColors(n).at(-1)?.value;
  if (col) slots.color = col;
  const qty = quantity(bare);
  if (qty !== undefined) slots.quantity = qty;
  const yn = yesNo(n);
  if (yn) slots.yesNo = yn;
  const h = findHeight(bare, true);
  if (h !== undefined) slots.heightCm = h;
  const w = findWeight(bare, false);
  if (w !== undefined) slots.weightKg = w;
  return slots;
}

function result<T>(value: T | undefined): SlotResult<T> {
  return value === undefined ? { ok: false } : { ok: true, value };
}

/**
 * Checks a customer's answer to a flow's question for one slot type. In answer to a question a
 * little more is accepted than in free text: a whole phone number answers "last 4 digits", and
 * a bare number answers the weight question. 'text' is any non-empty text up to 500 characters
 * (as written, trimmed); 'number' is a message that is just a number (digits or 一二三).
 */
export function extractSlot<T extends SlotType>(type: T, text: string): SlotResult<SlotValues[T]> {
  return extractAny(type, text) as SlotResult<SlotValues[T]>;
}

function extractAny(type: SlotType, text: string): SlotResult<SlotValues[SlotType]> {
  switch (type) {
    case 'orderId': return result(orderId(text));
    case 'phone': return result(phone(text));
    case 'phoneLast4': {
      const tel = phone(text);
      return result(phoneLast4(text) ?? tel?.slice(-4));
    }
    case 'size': return result(size(text));
    case 'color': return result(color(text));
    case 'quantity': {
      const plain = parseNumber(normalize(text));
      return result(quantity(text) ?? (plain !== undefined && Number.isInteger(plain) && plain >= 1 && plain <= 999 ? plain : undefined));
    }
    case 'yesNo': return result(yesNo(text));
    case 'address': return result(address(text));
    case 'heightCm': return result(heightCm(text));
    case 'weightKg': return result(findWeight(withoutIds(normalize(text)), true));
    case 'text': {
      const t = text.trim();
      return t.length > 0 && t.length <= 500 ? { ok: true, value: t } : { ok: false };
    }
    case 'number': {
      const n = normalize(text).replace(/\s+/g, '');
      return result(/^-?\d+(?:\.\d+)?$/.test(n) ? Number(n) : parseNumber(n));
    }
  }
}
