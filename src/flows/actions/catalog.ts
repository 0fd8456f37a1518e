/**
 * Reading products and order lines out of what customers type: "那件白色T恤", "裤子换30的",
 * "第二件", "the hoodie". Rules over the shop's own names and option values, so a shop of other
 * goods (keyboards with switch types) is read by the same code.
 */
import type { Product, Variant } from '../../commerce/shop.ts';
import { color as colorIn, parseNumber, size as sizeIn } from '../../understanding/slots.ts';
import type { LineView } from './common.ts';

/** Lower case, full-width folded, so "Ｔ恤" and "t恤" and "T恤" are one word. */
export function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Words customers use for a category (the shop's category names are the keys). */
const CATEGORY_WORDS: Readonly<Record<string, readonly string[]>> = {
  T恤: ['t恤', 't桖', '体恤', '短袖', 'tee', 'tshirt', 't-shirt', 't shirt'],
  衬衫: ['衬衫', '衬衣', 'shirt', 'blouse'],
  连衣裙: ['连衣裙', '裙子', 'dress'],
  卫衣: ['卫衣', 'hoodie', 'sweatshirt'],
  牛仔裤: ['牛仔裤', '裤子', 'jeans'],
  羽绒服: ['羽绒服', '羽绒', 'down jacket', 'down coat', 'puffer'],
  风衣: ['风衣', 'trench'],
  针织衫: ['针织衫', '毛衣', '开衫', 'sweater', 'cardigan', 'knit'],
  运动裤: ['运动裤', '卫裤', '裤子', 'sweatpants', 'joggers', 'pants'],
  半身裙: ['半身裙', '裙子', 'skirt'],
  外套: ['外套', '夹克', '大衣', 'jacket', 'coat'],
  帽子: ['帽子', '帽', 'hat', 'cap', 'beanie'],
  袜子: ['袜子', '袜', 'socks'],
  配饰: ['方巾', '丝巾', '围巾', 'scarf'],
};

const EN_STOP = new Set(['the', 'and', 'with', 'pairs', 'pair']);

/** What a product is called, folded once: its id, name and name's character pairs, English words, category words. */
interface ProductWords {
  id: string;
  name: string;
  pairs: string[];
  english: RegExp[];
  category: string[];
}

// Products of the demo shop's catalog are the same frozen objects from one question to the next.
const wordsCache = new WeakMap<Product, ProductWords>();

function wordsOf(product: Product): ProductWords {
  let words = wordsCache.get(product);
  if (!words) {
    const name = fold(product.name);
    const pairs: string[] = [];
    for (let i = 0; i + 2 <= name.length; i++) pairs.push(name.slice(i, i + 2));
    words = {
      id: fold(product.id),
      name,
      pairs,
      english: fold(product.nameEn ?? '').split(/[^a-z]+/).filter((w) => w.length >= 3 && !EN_STOP.has(w)).map((w) => new RegExp(`\\b${w}s?\\b`)),
      category: (CATEGORY_WORDS[product.category] ?? [product.category]).map(fold),
    };
    wordsCache.set(product, words);
  }
  return words;
}

/** How strongly `text` names `product` (0: not at all); `folded` is `fold(text)` when the caller has it. */
export function productScore(product: Product, text: string, folded = fold(text)): number {
  const t = folded;
  const w = wordsOf(product);
  let score = 0;
  if (t.includes(w.id)) score += 10;
  if (t.includes(w.name)) score += 5;
  for (const pair of w.pairs) if (t.includes(pair)) score += 1;
  for (const word of w.english) if (word.test(t)) score += 1.5;
  if (w.category.some((c) => t.includes(c))) score += 1;
  return score;
}

/** The products `text` names best: one, several equally good, or none. `among` narrows to earlier candidates. */
export function findProducts(products: readonly Product[], text: string, among?: readonly string[]): Product[] {
  const pool = among && among.length > 0 ? products.filter((p) => among.includes(p.id)) : products;
  const wanted = wantedFromText(text);
  const folded = fold(text);
  const scored = pool.map((p) => {
    let score = productScore(p, text, folded);
    // A colour or size the customer named breaks ties towards the products that have it.
    if (score > 0 && wanted.color) score += optionValues(p, 'color').includes(wanted.color) ? 0.5 : -0.5;
    if (score > 0 && wanted.size) score += optionValues(p, 'size').includes(wanted.size) ? 0.25 : -0.25;
    return { p, score };
  }).filter((s) => s.score >= 1);
  if (scored.length === 0) return [];
  const best = Math.max(...scored.map((s) => s.score));
  return scored.filter((s) => s.score >= best - 0.01).map((s) => s.p);
}

/** The distinct values of one option of a product, in catalog order. */
export function optionValues(product: Product, option: string): string[] {
  return [...new Set(product.variants.flatMap((v) => (v.options[option] !== undefined ? [v.options[option]] : [])))];
}

/** The option names a product has, colour and size first. */
export function optionNames(product: Product): string[] {
  const names = [...new Set(product.variants.flatMap((v) => Object.keys(v.options)))];
  return [...['color', 'size'].filter((n) => names.includes(n)), ...names.filter((n) => n !== 'color' && n !== 'size')];
}

/** Colour and size named in a text, read by the shop's slot rules (the last one named wins). */
export function wantedFromText(text: string): { color?: string; size?: string } {
  const out: { color?: string; size?: string } = {};
  const c = colorIn(text);
  const s = sizeIn(text) ?? looseSize(text);
  if (c) out.color = c;
  if (s) out.size = s;
  return out;
}

// "to L", "in M", or a capital size standing alone: English customers rarely write "size L".
const LOOSE_SIZE = /(?:\b(?:to|in|into|size|for)\s+|^|\s)(XXXL|XXL|XL|XS|S|M|L)(?=$|[\s,.!?])/;

function looseSize(text: string): string | undefined {
  return LOOSE_SIZE.exec(text.normalize('NFKC'))?.[1];
}

/**
 * The option values of `product` that `text` asks for: for each option the value named last
 * ("白色换成黑色" → 黑色), matched against the product's own values first (蓝色碎花, 30, 九分),
 * then the slot rules' spellings (black → 黑色, 2XL → XXL). `unknown` lists what was named that
 * the product does not have.
 */
export function wantedOptions(product: Product, text: string): { options: Record<string, string>; unknown: string[] } {
  const t = fold(text);
  const options: Record<string, string> = {};
  const unknown: string[] = [];
  for (const option of optionNames(product)) {
    const values = optionValues(product, option);
    let best: { value: string; at: number; length: number } | undefined;
    for (const value of values) {
      const v = fold(value);
      // Letter sizes are whole tokens ("L" is not inside "XL"); numbers are not inside longer numbers.
      const pattern = /^[a-z0-9]+$/.test(v) ? new RegExp(`(?<![a-z0-9])${v}(?![a-z0-9])`, 'g') : new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g');
      for (const m of t.matchAll(pattern)) {
        if (!best || m.index > best.at || (m.index === best.at && v.length > best.length)) best = { value, at: m.index, length: v.length };
      }
    }
    if (option === 'color' || option === 'size') {
      const ruled = wantedFromText(text)[option];
      // The rules read aliases (黑 → 黑色, 2XL → XXL); they win when they name one of the product's values.
      if (ruled && values.includes(ruled)) best = { value: ruled, at: Number.MAX_SAFE_INTEGER, length: 0 };
      else if (ruled && !best) unknown.push(ruled);
    }
    if (best) options[option] = best.value;
  }
  return { options, unknown };
}

/** The variant of `product` with these options, or null. */
export function variantWith(product: Product, options: Record<string, string>): Variant | null {
  return product.variants.find((v) => Object.entries(options).every(([k, value]) => v.options[k] === value)
    && Object.keys(v.options).every((k) => options[k] !== undefined)) ?? null;
}

const ALL_WORDS = /全部|都|所有|整单|一起|两件|两个都|all\b|both\b|everything|every item|whole order/i;
const ORDINAL = /第\s*([一二两三四五六七八九十\d]{1,2})\s*(?:件|个|条|行|样|款)?/g;
const EN_ORDINAL: Readonly<Record<string, number>> = { first: 1, second: 2, third: 3, fourth: 4, fifth: 5, '1st': 1, '2nd': 2, '3rd': 3, '4th': 4 };

/**
 * The order lines a text refers to: "全部"/"both", "第二件", "1和2", a product ("牛仔裤"), or an
 * option value ("白色那件"). [] when it names none.
 */
export function lineRefs(text: string, lines: readonly LineView[]): number[] {
  const t = fold(text);
  if (ALL_WORDS.test(t)) return lines.map((l) => l.index);
  const picked = new Set<number>();
  for (const m of t.matchAll(ORDINAL)) {
    const n = parseNumber(m[1] ?? '');
    if (n !== undefined && lines[n - 1]) picked.add(n - 1);
  }
  for (const [word, n] of Object.entries(EN_ORDINAL)) if (new RegExp(`\\b${word}\\b`).test(t) && lines[n - 1]) picked.add(n - 1);
  // A message of numbers only ("1", "1和2", "1,3") names lines by their number.
  if (/^[\d\s,，、和&and]+$/.test(t)) for (const d of t.match(/\d+/g) ?? []) if (lines[Number(d) - 1]) picked.add(Number(d) - 1);
  if (picked.size > 0) return [...picked].sort((a, b) => a - b);

  const scored = lines.map((l) => ({ l, score: l.product ? productScore(l.product, text) : 0 })).filter((s) => s.score >= 1);
  if (scored.length > 0) {
    const best = Math.max(...scored.map((s) => s.score));
    return scored.filter((s) => s.score >= best - 0.01).map((s) => s.l.index);
  }
  const byOption = lines.filter((l) => l.variant && Object.values(l.variant.options).some((v) => t.includes(fold(v)) && v.length >= 2));
  return byOption.length > 0 && byOption.length < lines.length ? byOption.map((l) => l.index) : [];
}

/** Splits "T恤换黑色L，牛仔裤换30码" into one request per item. */
export function clauses(text: string): string[] {
  return text.split(/[，,;；。\n]|还有|另外|and also|\balso\b/).map((c) => c.trim()).filter((c) => c.length > 0);
}
