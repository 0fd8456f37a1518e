/** The numbers a text states (Arabic, Chinese and English number words), to refuse model text that invents prices, days or amounts. */

const CN_DIGIT: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const CN_SMALL_UNIT: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };
const CN_BIG_UNIT: Record<string, number> = { 万: 10_000, 亿: 100_000_000 };
const CN_RUN = /[零〇一二两三四五六七八九十百千万亿]+/g;
// Words that are written with numerals but state no number (十分抱歉, 万一, 一下…).
const CN_IDIOMS = /十分|万一|千万|[统唯之]一|一[些点直起样下定切般旦致共律再同经向边面方半]|三包|五金/g;

const EN_WORD: Record<string, number> = {
  two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11,
  twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80,
  ninety: 90, hundred: 100, thousand: 1000,
};

/** The value of a Chinese numeral with units (三百五十 → 350, 十五 → 15, 两万 → 20000). */
function chineseWithUnits(run: string): number {
  let total = 0;
  let section = 0;
  let digit = 0;
  for (const ch of run) {
    const d = CN_DIGIT[ch];
    const small = CN_SMALL_UNIT[ch];
    const big = CN_BIG_UNIT[ch];
    if (d !== undefined) digit = d;
    else if (small !== undefined) {
      section += (digit || 1) * small;
      digit = 0;
    } else if (big !== undefined) {
      total += ((section + digit) || 1) * big;
      section = 0;
      digit = 0;
    }
  }
  return total + section + digit;
}

/** Numbers written in Chinese numerals. A lone 一 is not counted: it is mostly a word (一件, 一个). */
function chineseNumbers(text: string): number[] {
  const out: number[] = [];
  for (const match of text.replace(CN_IDIOMS, ' ').matchAll(CN_RUN)) {
    // A run cannot start with 百/千/万/亿 as a number ("千万" is "by all means").
    const run = match[0].replace(/^[百千万亿]+/, '');
    if (!run) continue;
    if (/[十百千万亿]/.test(run)) out.push(chineseWithUnits(run));
    else for (const ch of run) {
      const d = CN_DIGIT[ch];
      if (d !== undefined && ch !== '一') out.push(d);
    }
  }
  return out;
}

/** Numbers written with digits: 1,299.00 → 1299; 9:00 → 9; 3-5 → 3 and 5. */
function arabicNumbers(text: string): number[] {
  const plain = text
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/(\d)[,，](?=\d{3}(?!\d))/g, '$1')
    .replace(/(\d):00(?!\d)/g, '$1');
  return [...plain.matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number.parseFloat(m[0]));
}

/** English number words (two … thousand); "one" is left out like 一. */
function englishNumbers(text: string): number[] {
  const out: number[] = [];
  for (const m of text.toLowerCase().matchAll(/[a-z]+/g)) {
    const v = EN_WORD[m[0]];
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** Every number a text states, in any of the ways the shop's languages write them. */
export function numbersIn(text: string): number[] {
  return [...arabicNumbers(text), ...chineseNumbers(text), ...englishNumbers(text)];
}

/** The numbers `text` states that `source` does not (empty when the text invents none). */
export function inventedNumbers(text: string, source: string): number[] {
  const known = numbersIn(source);
  return numbersIn(text).filter((n) => !known.some((k) => Math.abs(k - n) < 1e-9));
}
