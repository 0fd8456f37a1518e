/**
 * Pre-sale: a named or described product's colours, sizes, stock, price and fabric from the catalog;
 * a size from height and weight with the size chart; the promotions on now; the link to buy; and the
 * checks the follow-up reminders make before they speak (still unpaid, still in stock).
 */
import { effectivePrice, formatMoney, type Product, type SizeChartRow } from '../../commerce/shop.ts';
import { renderTemplate } from '../engine.ts';
import type { ActionCall, ActionDef, ActionResult, Json } from '../registry.ts';
import { findProducts, optionValues, variantWith, wantedOptions } from './catalog.ts';
import { asQuickReplies, choicesText, lineText, linesOf, optionWord, orderOf, productName, str, variantWords, when } from './common.ts';

/** Pieces at or below which the bot says how many are left (a nudge, and the truth). */
const FEW_LEFT = 5;

const ASKS_FABRIC = /面料|材质|料子|什么料|成分|纯棉吗|棉的吗|fabric|material|made of|cotton/i;

function list(values: readonly string[], ctx: ActionCall): string {
  return values.map((v) => optionWord(v, ctx.lang)).join(ctx.lang === 'zh' ? '、' : ', ');
}

function priceRange(product: Product, currency: string): string {
  const prices = product.variants.map((v) => effectivePrice(product, v));
  const [low, high] = [Math.min(...prices), Math.max(...prices)];
  return low === high ? formatMoney(low, currency) : `${formatMoney(low, currency)}–${formatMoney(high, currency)}`;
}

/** The product the flow already knows (`productId`), or null. */
async function knownProduct(ctx: ActionCall): Promise<Product | null> {
  const id = str(ctx.vars.productId);
  return id ? ctx.shop.product(id) : null;
}

/**
 * Finds the product the customer asks about ("那件白色T恤有L码吗", "the hoodie in black?") and
 * answers from the catalog: the variant's stock and price when colour and size are named, the sizes
 * in stock of a colour, the colours of a size, or the product's options, price and fabric. Several
 * products fitting: `productFound: many` with them as quick replies; none: `none`.
 */
export const findProduct: ActionDef = {
  changesOrder: false,
  texts: ['productInfo', 'productVariantInStock', 'productVariantFew', 'productVariantOutOfStock', 'productOtherSizes', 'productOtherColors',
    'productColorSizes', 'productColorSoldOut', 'productSizeColors', 'productNoSuchOption', 'productFabric', 'productNotFound', 'productWhichAgain',
    'choiceColor', 'choiceSize'],
  async run(ctx): Promise<ActionResult> {
    const picked = await pickProduct(ctx);
    if (picked.kind !== 'one') return picked.result;
    const { product } = picked;
    const asked = `${str(ctx.vars.startText) ?? ''} ${str(ctx.vars.productQuery) ?? ''}`;
    return {
      ok: true,
      replies: [{ kind: 'text', text: answerAbout(ctx, product, asked) }],
      data: { productFound: 'one', productId: product.id, productName: productName(product, ctx.lang), productCandidates: [] },
    };
  },
};

/**
 * The product the customer means: from their answer to "which one?" (narrowed to the earlier
 * candidates, or picked by number), from the words that started the flow, or the one already known.
 * Several fitting: `productFound: many` with them as quick replies (a refusal when the customer
 * already answered, so the question is asked again and counted); none: `none`.
 */
async function pickProduct(ctx: ActionCall): Promise<{ kind: 'one'; product: Product } | { kind: 'other'; result: ActionResult }> {
  const query = str(ctx.vars.productQuery);
  const start = str(ctx.vars.startText) ?? '';
  const among = Array.isArray(ctx.vars.productCandidates) ? ctx.vars.productCandidates.filter((c): c is string => typeof c === 'string') : undefined;
  const products = await ctx.shop.products();
  // The product already talked about wins over the opening words, unless the customer now names one.
  const known = query ? null : await knownProduct(ctx);
  if (known) return { kind: 'one', product: known };
  let found = findProducts(products, query ?? start, query ? among : undefined);
  const byNumber = query && among && /^\s*\d\s*$/.test(query) ? among[Number(query) - 1] : undefined;
  if (byNumber) found = products.filter((p) => p.id === byNumber);
  if (found.length === 1 && found[0]) return { kind: 'one', product: found[0] };
  if (found.length === 0) {
    if (query) return { kind: 'other', result: { ok: false, reason: 'no_such_product', text: ctx.text('productNotFound'), data: { productFound: 'none' } } };
    return { kind: 'other', result: { ok: true, data: { productFound: 'none' } } };
  }
  const options = found.slice(0, 6).map((p) => ({ label: `${productName(p, ctx.lang)} ${priceRange(p, ctx.shop.currency)}`, value: p.name }));
  const data = { productFound: 'many', productCandidates: found.slice(0, 6).map((p) => p.id), productOptions: asQuickReplies(options) };
  // Asked again and still several: a refusal, so the question is asked again (and counted).
  if (query) return { kind: 'other', result: { ok: false, reason: 'several_products', text: ctx.text('productWhichAgain'), data } };
  return { kind: 'other', result: { ok: true, data } };
}

/** The catalog's answer to a question about one product. */
function answerAbout(ctx: ActionCall, product: Product, asked: string): string {
  const say = (name: string, vars: Record<string, Json>): string => ctx.text(name, vars)[ctx.lang];
  const name = productName(product, ctx.lang);
  const colors = optionValues(product, 'color');
  const sizes = optionValues(product, 'size');
  const { options: wanted, unknown } = wantedOptions(product, asked);
  const currency = ctx.shop.currency;
  const fabric = product.fabric ?? '';
  const base = { name, colors: list(colors, ctx), sizes: list(sizes, ctx), choices: choicesText(ctx, product), price: priceRange(product, currency), fabric };
  const fabricLine = ASKS_FABRIC.test(asked) && fabric ? `\n${say('productFabric', base)}` : '';

  if (unknown.length > 0) return say('productNoSuchOption', { ...base, wanted: list(unknown, ctx) }) + fabricLine;
  const inStock = product.variants.filter((v) => v.stock > 0);
  const named = Object.keys(wanted);
  const complete = named.length > 0 && product.variants.some((v) => Object.keys(v.options).every((k) => wanted[k] !== undefined));
  if (complete) {
    const variant = variantWith(product, wanted);
    if (variant) {
      const vars = { ...base, variant: variantWords(variant, ctx.lang), price: formatMoney(effectivePrice(product, variant), currency), stock: variant.stock };
      if (variant.stock > FEW_LEFT) return say('productVariantInStock', vars) + fabricLine;
      if (variant.stock > 0) return say('productVariantFew', vars) + fabricLine;
      // Out of stock: what is there instead, the same colour in other sizes first.
      const sameColor = inStock.filter((v) => wanted.color !== undefined && v.options.color === wanted.color).map((v) => v.options.size ?? '').filter(Boolean);
      const sameSize = inStock.filter((v) => wanted.size !== undefined && v.options.size === wanted.size).map((v) => v.options.color ?? '').filter(Boolean);
      const alternative = sameColor.length > 0 ? say('productOtherSizes', { color: optionWord(wanted.color ?? '', ctx.lang), list: list(sameColor, ctx) })
        : sameSize.length > 0 ? say('productOtherColors', { size: wanted.size ?? '', list: list(sameSize, ctx) }) : '';
      return say('productVariantOutOfStock', vars) + alternative + fabricLine;
    }
  }
  if (wanted.color !== undefined && wanted.size === undefined) {
    const available = inStock.filter((v) => v.options.color === wanted.color).map((v) => v.options.size ?? '').filter(Boolean);
    const vars = { ...base, color: optionWord(wanted.color, ctx.lang), list: list(available, ctx) };
    return say(available.length > 0 ? 'productColorSizes' : 'productColorSoldOut', vars) + fabricLine;
  }
  if (wanted.size !== undefined && wanted.color === undefined) {
    const available = inStock.filter((v) => v.options.size === wanted.size).map((v) => v.options.color ?? '').filter(Boolean);
    if (available.length > 0) return say('productSizeColors', { ...base, size: wanted.size, list: list(available, ctx) }) + fabricLine;
  }
  return say('productInfo', base);
}

/** Distance of a value outside an inclusive range (0 inside). */
function outside(value: number, [min, max]: readonly [number, number]): number {
  return value < min ? min - value : value > max ? value - max : 0;
}

/** The size chart most products share, for advice without a named product. */
function commonChart(products: readonly Product[]): SizeChartRow[] | undefined {
  const counts = new Map<string, { chart: SizeChartRow[]; n: number }>();
  for (const p of products) {
    if (!p.sizeChart || p.sizeChart.length === 0) continue;
    const key = JSON.stringify(p.sizeChart);
    const entry = counts.get(key) ?? { chart: p.sizeChart, n: 0 };
    entry.n += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.chart;
}

/**
 * A size from height and weight with the product's size chart (or the chart most products share):
 * the size both fit; when height and weight point to different sizes, the larger (weight decides the
 * fit); outside the chart, no guess — a person checks.
 */
export const adviseSize: ActionDef = {
  changesOrder: false,
  texts: ['sizeAdvice', 'sizeAdviceLoose', 'sizeAdviceBetween', 'sizeOutOfChart', 'sizeNoChart', 'sizeGeneralName', 'sizeInStock', 'sizeSoldOut'],
  async run(ctx) {
    const height = typeof ctx.vars.heightCm === 'number' ? ctx.vars.heightCm : NaN;
    const weight = typeof ctx.vars.weightKg === 'number' ? ctx.vars.weightKg : NaN;
    const products = await ctx.shop.products();
    let product = await knownProduct(ctx);
    if (!product) {
      const named = findProducts(products, str(ctx.vars.startText) ?? '');
      if (named.length === 1) product = named[0] ?? null;
    }
    const name = product ? productName(product, ctx.lang) : ctx.text('sizeGeneralName')[ctx.lang];
    const chart = product ? product.sizeChart : commonChart(products);
    const base = { name, height, weight };
    const say = (text: string, vars: Record<string, Json> = {}): string => ctx.text(text, { ...base, ...vars })[ctx.lang];
    if (!chart || chart.length === 0) return { ok: true, data: { sizeAdvised: false }, replies: [{ kind: 'text', text: say('sizeNoChart', { sizes: product ? list(optionValues(product, 'size'), ctx) : '' }) }] };

    const both = chart.filter((r) => outside(height, r.heightCm) === 0 && outside(weight, r.weightKg) === 0);
    const byHeight = chart.findIndex((r) => outside(height, r.heightCm) === 0);
    const byWeight = chart.findIndex((r) => outside(weight, r.weightKg) === 0);
    let size: string;
    let text: string;
    if (both.length > 0) {
      size = both[0]!.size;
      text = say('sizeAdvice', { size }) + (both.length > 1 ? say('sizeAdviceLoose', { looser: both.at(-1)!.size }) : '');
    } else if (byHeight >= 0 && byWeight >= 0) {
      size = chart[Math.max(byHeight, byWeight)]!.size;
      text = say('sizeAdviceBetween', { hSize: chart[byHeight]!.size, wSize: chart[byWeight]!.size, size });
    } else {
      // Close to the chart (within 5 cm and 5 kg of a row) is still a fair guess; further is a person's call.
      const scored = chart.map((r) => ({ r, d: outside(height, r.heightCm) / 5 + outside(weight, r.weightKg) / 5 }));
      const best = scored.sort((a, b) => a.d - b.d || chart.indexOf(b.r) - chart.indexOf(a.r))[0];
      if (!best || best.d > 1) return { ok: true, data: { sizeAdvised: false }, replies: [{ kind: 'text', text: say('sizeOutOfChart') }] };
      size = best.r.size;
      text = say('sizeAdvice', { size });
    }
    const color = str(ctx.vars.productColor);
    if (product) {
      const pieces = product.variants.filter((v) => v.options.size === size && (!color || v.options.color === color));
      if (pieces.length > 0) text += say(pieces.some((v) => v.stock > 0) ? 'sizeInStock' : 'sizeSoldOut', { size });
    }
    return { ok: true, data: { sizeAdvised: true, advisedSize: size, ...(product ? { productId: product.id, productName: name } : {}) }, replies: [{ kind: 'text', text }] };
  },
};

/** The promotions valid now, from the shop. */
export const listPromotions: ActionDef = {
  changesOrder: false,
  texts: ['promotionsList', 'promotionsNone'],
  async run(ctx) {
    const promos = await ctx.shop.promotions(ctx.now());
    if (promos.length === 0) return { ok: true, replies: [{ kind: 'text', text: ctx.text('promotionsNone')[ctx.lang] }] };
    const lines = promos.map((p) => `· ${p.title}：${p.description}（${when(p.validTo, ctx.lang)}）`).join('\n');
    return { ok: true, replies: [{ kind: 'text', text: ctx.text('promotionsList', { list: lines })[ctx.lang] }] };
  },
};

/** A product's page as the manager's productUrl template says. */
function productUrl(ctx: ActionCall, productId: string): string {
  return renderTemplate(ctx.policy.productUrl, { productId });
}

/**
 * The link to buy the product being talked about (several fitting: the customer picks, as in
 * findProduct), or the way to buy in the shop when no product is named.
 */
export const purchaseLink: ActionDef = {
  changesOrder: false,
  texts: ['purchaseLink', 'purchaseGuide', 'productNotFound', 'productWhichAgain'],
  async run(ctx): Promise<ActionResult> {
    const picked = await pickProduct(ctx);
    if (picked.kind !== 'one') {
      const result = picked.result;
      if (result.ok && result.data?.productFound === 'none') {
        return { ok: true, data: { linkSent: false, productFound: 'none' }, replies: [{ kind: 'text', text: ctx.text('purchaseGuide', { url: ctx.policy.shopUrl })[ctx.lang] }] };
      }
      return result;
    }
    const { product } = picked;
    const url = productUrl(ctx, product.id);
    const text = ctx.text('purchaseLink', { name: productName(product, ctx.lang), url })[ctx.lang];
    return { ok: true, data: { linkSent: true, productFound: 'one', productId: product.id, productName: productName(product, ctx.lang), productUrl: url }, replies: [{ kind: 'text', text }] };
  },
};

/** Before an unpaid-order reminder speaks: the order is still the customer's and still unpaid. */
export const checkStillUnpaid: ActionDef = {
  changesOrder: false,
  texts: ['reminderNotNeeded'],
  async run(ctx) {
    const order = ctx.vars.orderOwned === true ? await orderOf(ctx) : null;
    if (!order || order.status !== 'pending_payment') return { ok: false, reason: 'not_needed', text: ctx.text('reminderNotNeeded'), quiet: true };
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    return { ok: true, data: { orderId: order.id, itemsText: lines.map((l) => lineText(l, ctx.lang)).join('；'), createdAt: when(order.createdAt, ctx.lang) } };
  },
};

/** Before an abandoned-cart reminder speaks: the product still exists and is in stock. */
export const checkStillInStock: ActionDef = {
  changesOrder: false,
  texts: ['reminderNotNeeded'],
  async run(ctx) {
    const product = await knownProduct(ctx);
    if (!product || !product.variants.some((v) => v.stock > 0)) return { ok: false, reason: 'not_needed', text: ctx.text('reminderNotNeeded'), quiet: true };
    return { ok: true, data: { productName: productName(product, ctx.lang), productUrl: productUrl(ctx, product.id) } };
  },
};
