/**
 * Complaints, as the handbooks' three stages: what the customer said is recorded in full (on the
 * order when it is theirs, and in the ticket the flow opens); compensation is offered only within
 * the manager's limits and recorded so the promise is kept.
 */
import { ownsOrder, type Order } from '../../commerce/shop.ts';
import type { ActionCall, ActionDef } from '../registry.ts';
import { orderOf, str } from './common.ts';

/** The order the complaint is about, when the customer is known to own it (bound identity or proof). */
async function complainedOrder(ctx: ActionCall): Promise<Order | null> {
  const order = await orderOf(ctx);
  if (!order) return null;
  const owned = ctx.vars.orderOwned === true || (ctx.shopCustomerId !== null && ownsOrder(order, { customerId: ctx.shopCustomerId }));
  return owned ? order : null;
}

/** Writes the complaint, in the customer's words and its kind, on their order. */
export const recordComplaint: ActionDef = {
  changesOrder: false,
  async run(ctx) {
    const order = await complainedOrder(ctx);
    const words = [str(ctx.vars.complaintText), str(ctx.vars.complaintMore)].filter((w): w is string => w !== undefined && !/^(没有了?|没了|没有补充|no|nothing|none|that'?s all)$/i.test(w));
    if (order) {
      const text = `客户投诉（${str(ctx.vars.complaintKind) ?? '未分类'}）：${words.join(' / ')}`.slice(0, 2000);
      await ctx.shop.changeOrder(order.id, { type: 'note', text }, ctx.actor);
    }
    return { ok: true, data: { complaintRecorded: true, complaintOnOrder: order !== null } };
  },
};

/**
 * Records the compensation the customer accepted: the policy's coupon, which the compile-time
 * check keeps within the manager's maximum. The coupon itself is issued by a person (the flow's
 * follow-up ticket): the shop interface has no coupons.
 */
export const recordCompensation: ActionDef = {
  changesOrder: false,
  async run(ctx) {
    const amount = Math.min(ctx.policy.compensationCouponYuan, ctx.policy.compensationMaxYuan);
    const order = await complainedOrder(ctx);
    if (order) await ctx.shop.changeOrder(order.id, { type: 'note', text: `补偿：${amount}元无门槛优惠券（待客服发放）` }, ctx.actor);
    return { ok: true, data: { couponYuan: amount } };
  },
};
