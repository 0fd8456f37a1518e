/** Outbound messages as plain text, for channels without buttons or cards (WeChat), and numbered answers mapped back. */
import type { OrderCardData, QuickReply } from './messages.ts';

/** Chinese unless the text has no Chinese at all and some Latin words: the language a message is in. */
export function looksEnglish(text: string): boolean {
  return !/[\u3400-\u9fff]/.test(text) && /[a-z]{2,}/i.test(text);
}

/** Quick replies as numbered lines under the text: "回复 1 修改地址" ("Reply 1 for Change address"). */
export function numberedOptions(text: string, options: readonly QuickReply[]): string {
  const english = looksEnglish(text);
  const lines = options.map((o, i) => (english ? `Reply ${i + 1} for ${o.label}` : `回复 ${i + 1} ${o.label}`));
  return [text, '', ...lines].join('\n');
}

function money(amount: number, currency: string): string {
  const fixed = amount.toFixed(2);
  return currency === 'CNY' ? `¥${fixed}` : `${fixed} ${currency}`;
}

/** An order card as text: the message, then one line per item, the total and the tracking number. */
export function orderCardText(text: string, order: OrderCardData): string {
  const english = looksEnglish(text);
  const lines = order.lines.map((l) => `· ${l.name}${l.options ? `（${l.options}）` : ''} × ${l.qty}  ${money(l.price, order.currency)}`);
  return [
    text,
    '',
    english ? `Order ${order.orderId} · ${order.statusText}` : `订单 ${order.orderId} · ${order.statusText}`,
    ...lines,
    english ? `Total ${money(order.total, order.currency)}` : `合计 ${money(order.total, order.currency)}`,
    ...(order.tracking ? [english ? `Tracking ${order.tracking}` : `物流 ${order.tracking}`] : []),
  ].join('\n');
}

/** Full-width digits (what a Chinese keyboard may type) as ASCII. */
function asciiDigits(text: string): string {
  return text.replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
}

/**
 * The option a customer chose by typing its number ("1", "１", " 2 "), or null when the text is not
 * one of the offered numbers (then it goes to the pipeline as typed).
 */
export function chosenOption(text: string, options: readonly QuickReply[] | null): QuickReply | null {
  // A question whose only button is "talk to a person" (a quantity, a phone's last digits) wants
  // the number itself: "1" is one piece, not a handoff.
  if (!options || options.length < 2) return null;
  const match = /^\s*(\d{1,2})\s*[.。、]?\s*$/.exec(asciiDigits(text));
  if (!match) return null;
  return options[Number(match[1]) - 1] ?? null;
}
