/**
 * Customer conversations for the benchmarks, as varied as a sale's peak: FAQ questions in the
 * words of the demo shop's evaluation queries (eval/demo-cases.csv, 468 wordings, a fifth of them
 * about things the shop does not answer), order tracking and cancelling with a real order number
 * and the right (or a wrong) phone tail, size advice with each customer's own height and weight,
 * product questions, handoffs, English. Each conversation comes from a seeded random generator, so
 * every run sends the same traffic; numbers and wordings vary from customer to customer, so the
 * bot's memory of texts it read before helps only as much as it would with real customers.
 */
import { readFileSync } from 'node:fs';
import demoShop from '../data/demo-shop.json' with { type: 'json' };
import { prng } from '../src/shared/prng.ts';

/** The evaluation queries' wordings (the first column; quoted fields have no commas in this file). */
const FAQ_QUESTIONS: string[] = readFileSync(new URL('../eval/demo-cases.csv', import.meta.url), 'utf8')
  .split('\n').slice(1).map((line) => line.slice(0, line.lastIndexOf(',')).replace(/^"|"$/g, '')).filter(Boolean);

const phoneOf = new Map(demoShop.customers.map((c) => [c.id, c.phone]));
/** Orders a customer might ask after: [id, phone of its customer]. */
const ORDERS: [string, string][] = demoShop.orders
  .filter((o) => ['paid', 'shipped', 'delivered'].includes(o.status))
  .map((o) => [o.id, phoneOf.get(o.customerId) ?? '13800000000']);
const CANCELLABLE: [string, string][] = demoShop.orders
  .filter((o) => o.status === 'paid')
  .map((o) => [o.id, phoneOf.get(o.customerId) ?? '13800000000']);
const PRODUCTS: string[] = demoShop.products.map((p) => p.name);

const GREETINGS = ['在吗', '你好', '亲 在吗', '有人吗', '客服在吗', '您好', 'hi', '哈喽'];
const THANKS = ['谢谢', '好的谢谢', '好的', '谢谢亲', '知道了', 'ok', '没有了 谢谢', '嗯嗯'];
const TRACK = ['查订单', '我的快递到哪了', '亲 我的快递到哪了', '查下物流', '我买的衣服发货了吗', '订单到哪了', '怎么还没到'];
const CANCEL = ['我要取消订单', '这个订单我不要了，帮我取消吧', '取消订单', '不想要了 能取消吗'];
const HUMAN = ['转人工', '人工客服', '我要找人工', '有没有真人', '我要投诉'];
const WAITING = ['还要多久', '人呢', '快点', '在等'];
const ENGLISH = [
  ['hello', 'is shipping free', 'thanks'],
  ['hi', 'where is my order'],
  ['can I return this', 'thank you'],
  ['how long does delivery take', 'ok'],
];

/** The script of the n-th conversation. */
export function mixedConversation(n: number): string[] {
  const r = prng(n * 2654435761);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const maybe = (p: number, text: () => string): string[] => (r() < p ? [text()] : []);
  const kind = r();
  if (kind < 0.35) {
    // Pre-sale and after-sale questions the FAQ answers (or does not).
    const questions = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(FAQ_QUESTIONS));
    return [...maybe(0.5, () => pick(GREETINGS)), ...questions, ...maybe(0.6, () => pick(THANKS))];
  }
  if (kind < 0.6) {
    const [order, phone] = pick(ORDERS);
    // Most know their phone; some get it wrong.
    const tail = r() < 0.85 ? phone.slice(-4) : String(1000 + Math.floor(r() * 9000));
    return [...maybe(0.3, () => pick(GREETINGS)), pick(TRACK), order, tail, pick([...THANKS, '算了'])];
  }
  if (kind < 0.7) {
    const [order, phone] = pick(CANCELLABLE);
    return [pick(CANCEL), order, phone.slice(-4), pick(['确认', '是的', '好', '算了'])];
  }
  if (kind < 0.82) {
    const height = 150 + Math.floor(r() * 40);
    const weight = 42 + Math.floor(r() * 45);
    return [
      pick([`${pick(PRODUCTS)}有L码吗`, `${pick(PRODUCTS)}是什么面料`, '尺码怎么选', `身高${height} 体重${weight}kg穿什么码`]),
      ...maybe(0.5, () => `${height} ${weight}kg`),
      ...maybe(0.5, () => pick(THANKS)),
    ];
  }
  if (kind < 0.92) return [...maybe(0.4, () => pick(GREETINGS)), pick(HUMAN), pick(WAITING)];
  return pick(ENGLISH);
}
