/** Named behaviour the library refers to: actions (call the shop) and guards (conditions), resolved at load. */
import type { Lang, Outbound } from '../bots/messages.ts';
import type { Shop } from '../commerce/shop.ts';
import type { HandoffReason, Policy, Text } from './schema.ts';

/** A JSON value as kept in flow slots and action data. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What a flow knows at a step: its slots and action data, and the customer's salutation. */
export type Vars = Record<string, Json>;

/** What the conversation tells an action (built by the pipeline). It never sees the platform, only the shop and the conversation's facts. */
export interface ActionContext {
  shop: Shop;
  now: () => Date;
  lang: Lang;
  conversationId: string;
  /** The shop customer bound to this channel identity, if any (wechatId / telegramId match). */
  shopCustomerId: string | null;
  /** Slots and data of the running flow. */
  vars: Vars;
  /** Who is acting, for order notes (e.g. "bot@web:abc"). */
  actor: string;
}

/**
 * What an action is called with: the conversation's facts plus what the live library says — the
 * manager's policy values and the library's texts (so the words a customer reads are the library's,
 * not the code's). The runtime adds these to the pipeline's {@link ActionContext}.
 */
export interface ActionCall extends ActionContext {
  policy: Policy;
  /** A text of replies.yaml by name, `{{var}}` filled, in both languages. The name must be in the action's `texts`. */
  text(name: string, vars?: Vars): Text;
}

/** An action's answer: data for later steps and replies, or a refusal with its reason in both languages. */
export type ActionResult =
  | { ok: true; data?: Vars; replies?: Outbound[] }
  | {
    ok: false;
    reason: string;
    text: Text;
    handoff?: HandoffReason;
    /** Facts about the refusal for the flow's onError path to branch on (e.g. the order's status). */
    data?: Vars;
    /** Say nothing and count nothing: a first guess from the customer's opening words did not fit; the flow just asks. */
    quiet?: boolean;
  };

/** A named action of the library: what it may change, the texts it says, and how it runs. */
export interface ActionDef {
  /** Whether it changes an order; the library check demands a confirm (read-back) before it. */
  changesOrder: boolean;
  /** Names of replies.yaml texts this action says; checked when the library loads. */
  texts?: readonly string[];
  run(ctx: ActionCall): Promise<ActionResult>;
}

/** The actions a library may name, by name (src/flows/shop-actions.ts for the shipped one). */
export type ActionRegistry = Readonly<Record<string, ActionDef>>;

/** A condition over a flow's vars; pure and synchronous so the engine stays a pure function. */
export type Guard = (vars: Vars) => boolean;
/** The guards a library may name, by name. */
export type GuardRegistry = Readonly<Record<string, Guard>>;
