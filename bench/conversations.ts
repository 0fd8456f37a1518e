/** Realistic mixed customer scripts for the benchmarks: FAQ, order tracking with proof, handoffs, small talk. */

const SCRIPTS: string[][] = [
  ['在吗', '你们包邮吗', '多久发货', '谢谢'],
  ['查订单', 'E20261029001', '5432', '谢谢'],
  ['亲 我的快递到哪了', 'E20261029001', '1234', '算了'],
  ['能开发票吗', '衣服可以机洗吗', '好的'],
  ['hello', 'is shipping free', 'thanks'],
  ['转人工', '还要多久'],
  ['优惠券怎么用', '七天无理由能退吗', '查订单', '算了'],
];

/** The script of the n-th conversation: the mix repeats, so every run sends the same traffic. */
export function mixedConversation(n: number): string[] {
  return SCRIPTS[n % SCRIPTS.length]!;
}
