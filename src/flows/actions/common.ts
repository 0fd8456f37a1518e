/** What the shop actions share: reading a flow's vars, naming order lines, refusals and dates in the customer's words. */
import type { Lang, QuickReply } from '../../bots/messages.ts';
import { describeVariant, formatMoney, ShopError, shopErrorText, type Address, type Order, type Product, type Shop, type Variant } from '../../commerce/shop.ts';
import { formatDue } from '../engine.ts';
import type { ActionCall, ActionDef, ActionResult, Json, Vars } from '../registry.ts';
import type { Text } from '../schema.ts';

/** A non-empty string var, or undefined. */
export function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value.trim().length > 0 ? value.trim() : undefined;
}

/** A refusal in the library's words (a named text of replies.yaml). */
export function refuse(ctx: ActionCall, reason: string, textName: string, vars: Vars = {}, extra: { data?: Vars; quiet?: boolean } = {}): ActionResult {
  return { ok: false, reason, text: ctx.text(textName, vars), ...extra };
}

/** A refusal worded by the shop's rules (shopErrorText), in both languages. */
export function refusedByShop(error: ShopError): ActionResult {
  return { ok: false, reason: error.reason, text: { zh: shopErrorText(error, 'zh'), en: shopErrorText(error, 'en') } };
}

/** Wraps an action so that the shop's rule refusals become the customer-facing refusal; an unreachable shop goes up to the runtime. */
export function refusing(def: ActionDef): ActionDef {
  return {
    ...def,
    async run(ctx) {
      try {
        return await def.run(ctx);
      } catch (error) {
        if (error instanceof ShopError && error.code !== 'unavailable') return refusedByShop(error);
        throw error;
      }
    },
  };
}

/** The order named in the flow's `orderId`, or null. */
export async function orderOf(ctx: ActionCall): Promise<Order | null> {
  const id = str(ctx.vars.orderId)?.toUpperCase();
  return id ? ctx.shop.order(id) : null;
}

/**
 * The order, only once the flow proved it is the customer's. Reaching an order action without the
 * proof is a broken library, not a customer mistake, so it throws.
 */
export async function ownedOrder(ctx: ActionCall): Promise<Order | null> {
  if (ctx.vars.orderOwned !== true) throw new Error('an order action was reached without proof of ownership');
  return orderOf(ctx);
}

/** One order line as the customer reads it. */
export interface LineView {
  index: number;
  sku: string;
  qty: number;
  price: number;
  product: Product | null;
  variant: Variant | null;
  /** Product name in the customer's language. */
  name: string;
  /** "白色 / L". */
  options: string;
}

/** A product's name in the customer's language. */
export function productName(product: Product, lang: Lang): string {
  return lang === 'en' && product.nameEn ? product.nameEn : product.name;
}

/** The order's lines with their products. */
export async function linesOf(shop: Shop, order: Order, lang: Lang): Promise<LineView[]> {
  return Promise.all(order.items.map(async (item, index) => {
    const found = await shop.variant(item.sku);
    return {
      index,
      sku: item.sku,
      qty: item.qty,
      price: item.price,
      product: found?.product ?? null,
      variant: found?.variant ?? null,
      name: found ? productName(found.product, lang) : item.sku,
      options: found ? variantWords(found.variant, lang) : '',
    };
  }));
}

/** "纯棉圆领T恤（白色 / L）×1" / "Cotton Crew-neck T-shirt (白色 / L) ×1". */
export function lineText(line: Pick<LineView, 'name' | 'options' | 'qty'>, lang: Lang): string {
  const options = line.options ? (lang === 'zh' ? `（${line.options}）` : ` (${line.options})`) : '';
  return `${line.name}${options} ×${line.qty}`;
}

/** Numbered lines, one per row, for a prompt ("1. 纯棉圆领T恤（白色 / L）×1"). */
export function numberedLines(lines: readonly LineView[], lang: Lang): string {
  return lines.map((l) => `${l.index + 1}. ${lineText(l, lang)}`).join('\n');
}

/** Quick replies naming each line (the value is the line's number, which the planners read). */
export function lineOptions(lines: readonly LineView[], lang: Lang, all?: Text): QuickReply[] {
  const options = lines.slice(0, 8).map((l) => ({ label: `${l.index + 1}. ${l.name}${l.options ? ` ${l.options}` : ''}`.slice(0, 40), value: `${l.index + 1}` }));
  return all && lines.length > 1 ? [...options, { label: all[lang], value: all[lang] }] : options;
}

/** Money as the shop writes it. */
export function money(shop: Shop, amount: number): string {
  return formatMoney(amount, shop.currency);
}

/** A time as a customer reads it ("11月3日 16:05"), in the shop's time zone. */
export function when(iso: string | number, lang: Lang): string {
  return formatDue(typeof iso === 'number' ? iso : Date.parse(iso), lang);
}

/** An address without name and phone: `浙江省杭州市西湖区文三路100号`. */
export function placeOf(address: Address): string {
  return `${address.province}${address.city === address.province ? '' : address.city}${address.district}${address.detail}`;
}

/** Quick replies as flow data, for an ask step's `optionsFrom`. */
export function asQuickReplies(options: readonly QuickReply[]): Json {
  return options.map((o) => ({ label: o.label, value: o.value }));
}

const COLOR_EN: Readonly<Record<string, string>> = {
  白色: 'white', 黑色: 'black', 灰色: 'grey', 浅灰色: 'light grey', 深灰色: 'dark grey', 藏青色: 'navy', 蓝色: 'blue', 浅蓝色: 'light blue',
  深蓝色: 'dark blue', 红色: 'red', 酒红色: 'burgundy', 粉色: 'pink', 米白色: 'off-white', 米色: 'beige', 卡其色: 'khaki', 驼色: 'camel',
  杏色: 'apricot', 军绿色: 'army green', 绿色: 'green', 黄色: 'yellow', 紫色: 'purple', 橙色: 'orange', 棕色: 'brown', 咖啡色: 'coffee',
  蓝色碎花: 'blue floral', 黄色碎花: 'yellow floral', 均码: 'one size',
};

/** An option value in the customer's language where the shop's Chinese word has a common English one. */
export function optionWord(value: string, lang: Lang): string {
  return lang === 'en' ? COLOR_EN[value] ?? value : value;
}

/** "白色 / L" in the customer's language. */
export function variantWords(variant: Pick<Variant, 'options'>, lang: Lang): string {
  return describeVariant({ options: Object.fromEntries(Object.entries(variant.options).map(([k, v]) => [k, optionWord(v, lang)])) });
}

/** "颜色：白色、黑色；尺码：S、M" for whatever options a product has (a keyboard's switch type too). */
export function choicesText(ctx: ActionCall, product: Product): string {
  const names = [...new Set(product.variants.flatMap((v) => Object.keys(v.options)))];
  const ordered = [...['color', 'size'].filter((n) => names.includes(n)), ...names.filter((n) => n !== 'color' && n !== 'size')];
  return ordered.map((name) => {
    const values = [...new Set(product.variants.flatMap((v) => (v.options[name] !== undefined ? [optionWord(v.options[name], ctx.lang)] : [])))];
    const label = name === 'color' ? ctx.text('choiceColor')[ctx.lang] : name === 'size' ? ctx.text('choiceSize')[ctx.lang] : name;
    return `${label}${ctx.lang === 'zh' ? '：' : ': '}${values.join(ctx.lang === 'zh' ? '、' : ', ')}`;
  }).join(ctx.lang === 'zh' ? '；' : '; ');
}
