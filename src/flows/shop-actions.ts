/** The actions and guards the shipped library may name, resolved when the library loads (STYLE.md §4). */
import type { ActionRegistry, GuardRegistry, Vars } from './registry.ts';
import { refusing } from './actions/common.ts';
import { checkDelivery, findOrder, offerMyOrders, showOrder, verifyOrderOwner } from './actions/orders.ts';
import { applyChange, checkEditable, planAddress, planCancel, planDeliveryRequest, planPhone, planQuantity, planVariant } from './actions/changes.ts';
import { applyAfterSale, checkAfterSale, planExchange, planReturn, readBackAfterSale } from './actions/after-sale.ts';
import { adviseSize, checkStillInStock, checkStillUnpaid, findProduct, listPromotions, purchaseLink } from './actions/presale.ts';
import { recordComplaint, recordCompensation } from './actions/complaint.ts';

export { orderCard } from './actions/orders.ts';

const actions = {
  // finding an order and proving it is the customer's
  offerMyOrders, findOrder, verifyOrderOwner, showOrder, checkDelivery,
  // changes before shipment; only applyChange changes, after a read-back
  checkEditable, planAddress, planPhone, planDeliveryRequest, planVariant, planQuantity, planCancel, applyChange,
  // returns and exchanges
  checkAfterSale, planReturn, planExchange, readBackAfterSale, applyAfterSale,
  // pre-sale and the reminders' checks
  findProduct, adviseSize, listPromotions, purchaseLink, checkStillUnpaid, checkStillInStock,
  // complaints
  recordComplaint, recordCompensation,
};

/** Every action the shipped library may name; the shop's rule refusals become the customer's answer. */
export const shopActions: ActionRegistry = Object.fromEntries(Object.entries(actions).map(([name, def]) => [name, refusing(def)]));

/** The policy's list of return reasons that are the shop's fault, as the flow's vars carry it. */
function faultyReasons(vars: Vars): string[] {
  const policy = vars.policy;
  const list = policy !== null && typeof policy === 'object' && !Array.isArray(policy) ? policy.faultyReasons : undefined;
  return Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
}

/** Every guard the shipped library may name. */
export const shopGuards: GuardRegistry = {
  orderOwned: (vars) => vars.orderOwned === true,
  /** The return reason is the shop's fault (damaged, quality, not as described): a photo is asked for. */
  faultyReason: (vars) => typeof vars.reason === 'string' && faultyReasons(vars).includes(vars.reason),
};
