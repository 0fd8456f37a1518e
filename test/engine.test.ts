/** The flow engine as a pure reducer: each test feeds events and asserts the effects returned (none executed). */
import { describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { step, newDialog, type DialogState, type Effect, type EngineEvent } from '../src/flows/engine.ts';
import { compileLibrary, type CompiledLibrary } from '../src/flows/compile.ts';
import { parseLibrary, readLibraryDir } from '../src/flows/loader.ts';
import { runTurn } from '../src/flows/runtime.ts';
import type { ActionContext, ActionRegistry } from '../src/flows/registry.ts';
import type { Understanding } from '../src/understanding/types.ts';
import { ShopError } from '../src/commerce/shop.ts';
import { LibraryError } from '../src/flows/errors.ts';

const LIB_DIR = fileURLToPath(new URL('./fixtures/library/', import.meta.url));
const NOW = Date.parse('2026-11-22T10:00:00+08:00');

const applyAddress = vi.fn(async () => ({ ok: true as const, data: { changed: true } }));
const actions: ActionRegistry = { applyAddress: { changesOrder: true, run: applyAddress } };

async function library(extra: Partial<ActionRegistry> = {}): Promise<CompiledLibrary> {
  return compileLibrary(parseLibrary(await readLibraryDir(LIB_DIR)), { ...actions, ...extra } as ActionRegistry, {});
}

/** What the understanding step would hand the engine, written out so the engine is tested alone. */
function u(partial: Omit<Partial<Understanding>, 'intent'> & { intent?: string | null; confidence?: number } = {}): Understanding {
  const { intent, confidence, ...rest } = partial;
  const guess = intent ? { id: intent, confidence: confidence ?? 0.9 } : null;
  return { lang: 'zh', intent: guess, candidates: guess ? [guess] : [], slots: {}, sentiment: 'neutral', control: null, ...rest };
}

function message(text: string, understanding: Understanding, at = NOW): EngineEvent {
  return { type: 'message', text, understanding, at };
}

const replies = (effects: Effect[]): string[] => effects.flatMap((e) => (e.kind === 'reply' ? [e.message.kind === 'image' ? '' : e.message.text] : []));
const kinds = (effects: Effect[]): string[] => effects.map((e) => e.kind);

describe('flow engine (pure reducer)', () => {
  it('greets and completes without asking anything', async () => {
    const lib = await library();
    const r = step(lib, newDialog(), message('在吗', u({ intent: 'greet' })));
    expect(replies(r.effects)).toEqual(['您好！']);
    expect(r.outcome).toBe('complete');
    expect(r.state.frame).toBeNull();
  });

  it('greets by salutation when known', async () => {
    const lib = await library();
    const state: DialogState = { ...newDialog(), salutation: { zh: '张先生', en: 'Mr. Zhang' } };
    expect(replies(step(lib, state, message('在吗', u({ intent: 'greet' }))).effects)).toEqual(['张先生您好！']);
  });

  it('reads back every value and asks for confirmation before an order action; nothing is executed', async () => {
    const lib = await library();
    applyAddress.mockClear();
    // The order number in the first message is not asked again.
    let r = step(lib, newDialog(), message('我要改地址 E20261015001', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } })));
    expect(replies(r.effects)).toEqual(['请告诉我新的收货地址。']);
    expect(r.outcome).toBe('waiting');
    expect(r.state.frame?.step).toBe('ask_address');

    r = step(lib, r.state, message('上海市浦东新区世纪大道100号', u()));
    expect(r.outcome).toBe('waiting');
    const readBack = r.effects.find((e) => e.kind === 'reply');
    expect(readBack).toMatchObject({ message: { kind: 'quickReplies', text: '订单 E20261015001 的地址改为：上海市浦东新区世纪大道100号，确认吗？' } });
    expect(kinds(r.effects)).not.toContain('action');

    r = step(lib, r.state, message('确认', u()));
    expect(r.outcome).toBe('action');
    expect(r.effects).toContainEqual(expect.objectContaining({ kind: 'action', name: 'applyAddress', vars: expect.objectContaining({ orderId: 'E20261015001', address: '上海市浦东新区世纪大道100号' }) }));
    expect(applyAddress).not.toHaveBeenCalled();

    r = step(lib, r.state, { type: 'actionResult', result: { ok: true }, at: NOW });
    expect(replies(r.effects)).toEqual(['地址已修改。', '请问还有其他问题吗？']);
    expect(r.outcome).toBe('complete');
    expect(r.state.frame).toBeNull();
    expect(r.state.last).toEqual({ flow: 'change_address', step: 'done' });
  });

  it('a "no" at the read-back asks for the value again', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } })));
    r = step(lib, r.state, message('北京市朝阳区建国路1号', u()));
    r = step(lib, r.state, message('不对', u()));
    expect(r.state.frame?.step).toBe('ask_address');
    expect(replies(r.effects)).toEqual(['请告诉我新的收货地址。']);
  });

  it('re-prompts an answer that does not fit, then hands to a person after maxTries', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address' })));
    expect(replies(r.effects)).toEqual(['请提供订单号。']);
    r = step(lib, r.state, message('我忘了', u()));
    expect(replies(r.effects)).toEqual(['订单号是一个字母加11位数字。', '请提供订单号。']);
    expect(r.outcome).toBe('waiting');
    r = step(lib, r.state, message('不记得', u()));
    expect(r.effects).toContainEqual({ kind: 'handoff', reason: 'not_understood', priority: 'normal' });
    expect(r.outcome).toBe('handedOff');
  });

  it('answers an FAQ question in the middle of a flow and asks its question again', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } })));
    r = step(lib, r.state, message('包邮吗', u()));
    expect(replies(r.effects)).toEqual(['满99元包邮。', '请告诉我新的收货地址。']);
    expect(r.state.frame?.step).toBe('ask_address');
  });

  it('puts a flow aside for another topic and resumes it afterwards', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } })));
    r = step(lib, r.state, message('对了我另一个快递到哪了', u({ intent: 'track_order' })));
    expect(r.state.frame?.flow).toBe('track_order');
    expect(r.state.suspended).toHaveLength(1);
    expect(r.effects).toContainEqual({ kind: 'record', event: 'topic_changed', detail: 'change_address->track_order' });
    r = step(lib, r.state, message('E20261001002', u()));
    expect(replies(r.effects)).toEqual(['订单 E20261001002 运输中。', '我们继续刚才的“修改地址”：', '请告诉我新的收货地址。']);
    expect(r.state.frame).toMatchObject({ flow: 'change_address', step: 'ask_address', slots: { orderId: 'E20261015001' } });
  });

  it('"算了" leaves the flow; "人工" hands off from anywhere', async () => {
    const lib = await library();
    const started = step(lib, newDialog(), message('改地址', u({ intent: 'change_address' })));
    const cancelled = step(lib, started.state, message('算了', u({ control: 'cancel' })));
    expect(cancelled.state.frame).toBeNull();
    expect(replies(cancelled.effects)).toEqual(['好的，已为您取消当前操作。', '请问还有其他问题吗？']);
    expect(cancelled.effects).toContainEqual({ kind: 'cancelTimer', name: 'silence' });

    const human = step(lib, started.state, message('转人工', u({ control: 'human' })));
    expect(human.outcome).toBe('handedOff');
    expect(human.effects).toContainEqual({ kind: 'handoff', reason: 'customer_request', priority: 'normal' });
    // The flow is kept so that "return to bot" continues where it was.
    expect(human.state.frame?.step).toBe('ask_order');
  });

  it('soothes an abusive customer and hands to a supervisor at once, urgent', async () => {
    const lib = await library();
    const r = step(lib, newDialog(), message('你们这什么垃圾店', u({ sentiment: 'abusive' })));
    expect(r.effects).toContainEqual({ kind: 'handoff', reason: 'abuse', priority: 'urgent' });
    expect(replies(r.effects)[0]).toMatch(/抱歉/);
  });

  it('after two messages it cannot understand, it hands to a person', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('呃呃呃', u()));
    expect(r.outcome).toBe('complete');
    expect(r.effects.some((e) => e.kind === 'reply' && e.message.kind === 'quickReplies')).toBe(true);
    r = step(lib, r.state, message('哈哈哈', u()));
    expect(r.effects).toContainEqual({ kind: 'handoff', reason: 'not_understood', priority: 'normal' });
  });

  it('silence: a reminder, then the close; a timer the customer outran does nothing', async () => {
    const lib = await library();
    const r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address' })));
    const due = NOW + 5 * 60_000;
    expect(r.effects).toContainEqual({ kind: 'setTimer', name: 'silence', at: due });
    const remind = step(lib, r.state, { type: 'timer', name: 'silence', at: due, due });
    expect(replies(remind.effects)).toEqual(['您好，请问还在吗？如需继续，直接回复我就可以。']);
    const closeAt = due + 5 * 60_000;
    expect(remind.effects).toContainEqual({ kind: 'setTimer', name: 'silence', at: closeAt });
    const closed = step(lib, remind.state, { type: 'timer', name: 'silence', at: closeAt, due: closeAt });
    expect(replies(closed.effects)[0]).toMatch(/会话先结束/);
    expect(closed.state.frame).toBeNull();
    const stale = step(lib, r.state, { type: 'timer', name: 'silence', at: due + 1, due: due - 1 });
    expect(stale.effects).toEqual([]);
  });

  it('speaks English to an English customer', async () => {
    const lib = await library();
    const r = step(lib, newDialog(), message('I want to change my address', u({ intent: 'change_address', lang: 'en' })));
    expect(replies(r.effects)).toEqual(['Your order number, please.']);
  });

  it('an action refusal says why and follows onError', async () => {
    const lib = await library();
    let r = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } })));
    r = step(lib, r.state, message('北京市朝阳区建国路1号', u()));
    r = step(lib, r.state, message('好的', u()));
    r = step(lib, r.state, { type: 'actionResult', result: { ok: false, reason: 'already_shipped', text: { zh: '订单已发货，不能改地址。', en: 'Already shipped.' } }, at: NOW });
    expect(replies(r.effects)[0]).toBe('订单已发货，不能改地址。');
    expect(r.effects).toContainEqual({ kind: 'handoff', reason: 'action_failed', priority: 'normal' });
  });
});

describe('runtime', () => {
  const context = (): ((vars: Record<string, unknown>) => ActionContext) => () => ({}) as ActionContext;

  it('performs the action and feeds its result back within the turn', async () => {
    const lib = await library();
    applyAddress.mockClear();
    let state = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } }))).state;
    state = step(lib, state, message('北京市朝阳区建国路1号', u())).state;
    const out = await runTurn(lib, state, message('确认', u()), context(), { actionTimeoutMs: 1000 });
    expect(applyAddress).toHaveBeenCalledTimes(1);
    expect(out.outcome).toBe('complete');
    expect(replies(out.effects)).toContain('地址已修改。');
    expect(kinds(out.effects)).not.toContain('action');
  });

  it('a shop that times out or is down becomes the system-down answer and a follow-up ticket', async () => {
    for (const run of [() => new Promise<never>(() => undefined), async () => { throw new ShopError('unavailable', 'shop_unavailable'); }]) {
      const lib = await library({ applyAddress: { changesOrder: true, run } });
      let state = step(lib, newDialog(), message('改地址', u({ intent: 'change_address', slots: { orderId: 'E20261015001' } }))).state;
      state = step(lib, state, message('北京市朝阳区建国路1号', u())).state;
      const out = await runTurn(lib, state, message('确认', u()), context(), { actionTimeoutMs: 50 });
      expect(replies(out.effects)).toEqual([expect.stringMatching(/系统正忙.*记下/), '请问还有其他问题吗？']);
      expect(out.effects).toContainEqual({ kind: 'followUp', reason: 'system_down', dueAt: NOW + 8 * 3_600_000, note: expect.stringContaining('E20261015001') });
      expect(kinds(out.effects)).not.toContain('handoff');
      expect(out.state.frame).toBeNull();
    }
  });
});

describe('engine: reminders, flow hand-over, prepared options, photos', () => {
  /** The fixture library plus flows written here, with stub actions (nothing is executed). */
  async function extended(): Promise<CompiledLibrary> {
    const files = await readLibraryDir(LIB_DIR);
    files['intents.yaml'] += '\n- id: unpaid\n  examples: { zh: [我的订单还没付款], en: [unpaid order] }\n- id: stop\n  examples: { zh: [别再提醒我了], en: [stop reminding me] }\n- id: damaged\n  examples: { zh: [东西坏了], en: [it arrived broken] }\n';
    files['flows/unpaid.yaml'] = [
      'id: unpaid', 'title: { zh: 待付款, en: Unpaid }', 'intents: [unpaid]', 'steps:',
      '  - { id: ask_order, type: ask, slot: orderId, slotType: orderId, prompt: { zh: 订单号？, en: Order? }, before: listOrders, optionsFrom: myOrders }',
      '  - { id: remind, type: remind, flow: nudge, policyMinutes: silenceCloseMinutes }',
      '  - { id: to_change, type: goto, flow: change_address }',
    ].join('\n');
    files['flows/nudge.yaml'] = [
      'id: nudge', 'title: { zh: 提醒, en: Reminder }', 'steps:',
      '  - id: ask', '    type: choose', '    slot: reply', '    prompt: { zh: "订单 {{orderId}} 还没付款哦", en: "Order {{orderId}} is unpaid" }', '    options:',
      '      - { label: { zh: 去付款, en: Pay }, value: pay, next: paid }',
      '      - { label: { zh: 不用了，别再提醒, en: Stop }, value: stop, next: stop, synonyms: [不用了] }',
      '  - { id: paid, type: end, text: { zh: 好的, en: OK } }',
      '  - { id: stop, type: stopReminders }', '  - { id: stopped, type: end, text: { zh: 不再提醒, en: No more reminders } }',
    ].join('\n');
    files['flows/stop.yaml'] = 'id: stop\ntitle: { zh: 关提醒, en: Stop }\nintents: [stop]\nsteps:\n  - { id: s, type: stopReminders }\n  - { id: e, type: end, askMore: false }\n';
    files['flows/damaged.yaml'] = [
      'id: damaged', 'title: { zh: 破损, en: Damaged }', 'intents: [damaged]', 'steps:',
      '  - { id: photo, type: ask, slot: photo, slotType: photo, prompt: { zh: 请发照片, en: A photo please } }',
      '  - { id: done, type: end, text: { zh: "收到 {{photo}}", en: "Got {{photo}}" }, askMore: false }',
    ].join('\n');
    const listOrders = { changesOrder: false, run: async () => ({ ok: true as const, data: { myOrders: [{ label: 'E20261030001 已付款', value: 'E20261030001' }] } }) };
    return compileLibrary(parseLibrary(files), { ...actions, listOrders } as ActionRegistry, {});
  }

  it('an ask prepares its options with an action first, then offers them with the button to a person', async () => {
    const lib = await extended();
    let r = step(lib, newDialog(), message('订单没付款', u({ intent: 'unpaid' })));
    expect(r.outcome).toBe('action');
    expect(r.effects).toContainEqual(expect.objectContaining({ kind: 'action', name: 'listOrders' }));
    r = step(lib, r.state, { type: 'actionResult', result: { ok: true, data: { myOrders: [{ label: 'E20261030001 已付款', value: 'E20261030001' }] } }, at: NOW });
    expect(r.effects).toContainEqual({ kind: 'reply', message: { kind: 'quickReplies', text: '订单号？', options: [{ label: 'E20261030001 已付款', value: 'E20261030001' }, { label: '转人工', value: '转人工' }] } });
  });

  it('a reminder is set once, runs its flow when due, and "不用了" stops all reminders', async () => {
    const lib = await extended();
    const start = (): DialogState => step(lib, newDialog(), message('订单没付款', u({ intent: 'unpaid', slots: { orderId: 'E20261031001' } }))).state;
    let r = step(lib, newDialog(), message('订单没付款', u({ intent: 'unpaid', slots: { orderId: 'E20261031001' } })));
    const due = NOW + 10 * 60_000;
    expect(r.effects).toContainEqual({ kind: 'setTimer', name: 'reminder', at: due });
    expect(r.state.reminder).toEqual({ flow: 'nudge', at: due, vars: { orderId: 'E20261031001' } });
    // The goto handed the order number to the next flow: it is not asked again.
    expect(r.state.frame).toMatchObject({ flow: 'change_address', step: 'ask_address', slots: { orderId: 'E20261031001' } });
    expect(start().reminder?.at).toBe(due);

    // Busy in another flow when it falls due: dropped, never sent twice.
    const busy = step(lib, r.state, { type: 'timer', name: 'reminder', at: due, due });
    expect(replies(busy.effects)).toEqual([]);
    expect(busy.state.reminder).toBeNull();

    r = step(lib, r.state, message('算了', u({ control: 'cancel' })));
    const stale = step(lib, r.state, { type: 'timer', name: 'reminder', at: due, due: due - 1 });
    expect(stale.effects).toEqual([]);
    const fired = step(lib, r.state, { type: 'timer', name: 'reminder', at: due, due });
    expect(replies(fired.effects)).toEqual(['订单 E20261031001 还没付款哦']);
    expect(fired.state.reminder).toBeNull();

    // "不用了" is the reminder's opt-out here, not the control word that leaves a flow.
    const stopped = step(lib, fired.state, message('不用了', u({ control: 'cancel' })));
    expect(replies(stopped.effects)).toEqual(['不再提醒', '请问还有其他问题吗？']);
    expect(stopped.state.remindersOff).toBe(true);
    const again = step(lib, { ...stopped.state, remindersSent: [] }, message('订单没付款', u({ intent: 'unpaid', slots: { orderId: 'E20261030001' } })));
    expect(again.effects.some((e) => e.kind === 'setTimer' && e.name === 'reminder')).toBe(false);
  });

  it('"别再提醒我了" at any time cancels a pending reminder', async () => {
    const lib = await extended();
    const set = step(lib, newDialog(), message('订单没付款', u({ intent: 'unpaid', slots: { orderId: 'E20261031001' } })));
    const left = step(lib, set.state, message('算了', u({ control: 'cancel' })));
    const r = step(lib, left.state, message('别再提醒我了', u({ intent: 'stop' })));
    expect(r.effects).toContainEqual({ kind: 'cancelTimer', name: 'reminder' });
    expect(r.state).toMatchObject({ reminder: null, remindersOff: true });
  });

  it('a photo question takes a picture, a link, or "稍后发", and nothing else', async () => {
    const lib = await extended();
    const asked = step(lib, newDialog(), message('东西坏了', u({ intent: 'damaged' }))).state;
    expect(replies(step(lib, asked, { type: 'message', text: '看图', understanding: u(), at: NOW, imageUrl: 'https://img.example.com/a.jpg' }).effects)[0]).toBe('收到 https://img.example.com/a.jpg');
    expect(replies(step(lib, asked, message('晚点拍给你', u())).effects)[0]).toBe('收到 later');
    expect(step(lib, asked, message('坏得很厉害', u())).state.frame?.step).toBe('photo');
  });

  it('an order number in the first words leans to a flow that asks for one, over a product-like guess', async () => {
    const lib = await extended();
    const r = step(lib, newDialog(), message('羽绒服那单 E20261027001 快递到哪了', u({
      slots: { orderId: 'E20261027001' },
      candidates: [{ id: 'greet', confidence: 0.3 }, { id: 'track_order', confidence: 0.2 }],
    })));
    expect(r.effects).toContainEqual({ kind: 'record', event: 'flow_started', detail: 'track_order' });
  });
});

describe('library checks at load', () => {
  async function problems(edit: (files: Record<string, string>) => void, extra: ActionRegistry = {}): Promise<string[]> {
    const files = await readLibraryDir(LIB_DIR);
    edit(files);
    try {
      compileLibrary(parseLibrary(files), { ...actions, ...extra }, {});
    } catch (error) {
      if (error instanceof LibraryError) return error.problems.map((p) => `${p.where}: ${p.message}`);
      throw error;
    }
    return [];
  }

  it('an order change without a read-back before it is refused', async () => {
    const found = await problems((f) => { f['flows/change_address.yaml'] = f['flows/change_address.yaml']!.replace('yes: apply', 'yes: done'); });
    expect(found).toContainEqual(expect.stringMatching(/step apply: action "applyAddress" changes the order but no confirm step \(read-back\) leads to it/));
  });

  it('a text an action says must be in replies.yaml, and a text nobody says is flagged', async () => {
    const says = { changesOrder: false, texts: ['shipLate'], run: async () => ({ ok: true as const }) };
    expect(await problems(() => undefined, { says })).toContainEqual('replies.yaml shipLate: missing: action "says" says it');
    expect(await problems((f) => { f['replies.yaml'] += '\ngretting: { zh: 你好, en: Hi }\n'; })).toContainEqual('replies.yaml gretting: no action or engine part says this text (a misspelt name?)');
  });

  it('a delay or due time must name a number of policy.yaml, and a goto an existing flow', async () => {
    const found = await problems((f) => {
      f['flows/x.yaml'] = 'id: x\ntitle: { zh: 测试, en: Test }\nsteps:\n  - { id: a, type: remind, flow: nowhere, policyMinutes: silenceRemindMinute }\n  - { id: b, type: followUp, policyHours: intentThreshold, note: { zh: 记, en: note } }\n  - { id: c, type: goto, flow: gone }\n';
    });
    expect(found).toEqual(expect.arrayContaining([
      'flows/x step a: goes to unknown flow "nowhere"',
      'flows/x step a: "silenceRemindMinute" is not a number in policy.yaml',
      'flows/x step c: goes to unknown flow "gone"',
    ]));
  });
});
