/** The script library: the shipped one loads whole; a malformed one is refused with file, line, path and reason. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIBRARY_DIR, loadLibrary } from '../src/bot.ts';
import { parseLibrary, readLibraryDir } from '../src/flows/loader.ts';
import { compileLibrary } from '../src/flows/compile.ts';
import { LibraryError } from '../src/flows/errors.ts';
import { shopActions, shopGuards } from '../src/flows/shop-actions.ts';

async function shippedFiles(): Promise<Record<string, string>> {
  return readLibraryDir(DEFAULT_LIBRARY_DIR);
}

function problemsOf(run: () => unknown): { where: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof LibraryError) return error.problems;
    throw error;
  }
  throw new Error('the library was accepted');
}

describe('script library', () => {
  it('loads every file of the shipped library, every name resolved', async () => {
    const files = await shippedFiles();
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['intents.yaml', 'replies.yaml', 'policy.yaml', 'forbidden.yaml', 'synonyms.yaml', 'faq.csv', 'flows/track_order.yaml']));
    const lib = await loadLibrary(DEFAULT_LIBRARY_DIR);
    expect([...lib.flows.keys()].sort()).toEqual(['after_sale', 'cancel_order', 'cart_reminder', 'change_order', 'complaint', 'greeting', 'how_to_buy', 'human', 'product_info', 'promotions', 'size_advice', 'stop_reminders', 'thanks', 'track_order', 'unpaid_reminder']);
    expect(lib.content.faq.length).toBeGreaterThanOrEqual(8);
    for (const intent of lib.content.intents) expect(lib.flowByIntent.get(intent.id), intent.id).toBeDefined();
  });

  it('refuses a flow with a missing English text, naming the file, line, path and reason', async () => {
    const files = await shippedFiles();
    files['flows/track_order.yaml'] = files['flows/track_order.yaml']!.replace('en: Sure. What is your order number? (It starts with a letter, e.g. E20261015001.)', 'en: ""');
    const problems = problemsOf(() => parseLibrary(files));
    expect(problems).toEqual([{ where: 'flows/track_order.yaml:13 steps[0].prompt.en', message: 'the English text is empty' }]);
  });

  it('refuses broken YAML with its line', async () => {
    const files = await shippedFiles();
    files['policy.yaml'] = 'silenceRemindMinutes: 5\nsilenceRemindMinutes: 6\n';
    const [problem] = problemsOf(() => parseLibrary(files));
    expect(problem?.where).toBe('policy.yaml:2');
    expect(problem?.message).toMatch(/^YAML: Map keys must be unique/);
  });

  it('refuses an unknown step kind and a wrong value type', async () => {
    const files = await shippedFiles();
    files['flows/x.yaml'] = ['id: x', 'title: { zh: 测试, en: Test }', 'steps:', '  - id: a', '    type: sing', '  - id: b', '    type: ask', '    slot: s', '    slotType: shoe', '    prompt: { zh: 问, en: Ask }'].join('\n');
    const problems = problemsOf(() => parseLibrary(files));
    expect(problems.map((p) => p.where)).toEqual(['flows/x.yaml:5 steps[0].type', 'flows/x.yaml:9 steps[1].slotType']);
  });

  it('resolves names at load: an unknown action, guard, step or intent is refused before any chat', async () => {
    const files = await shippedFiles();
    files['flows/track_order.yaml'] = files['flows/track_order.yaml']!
      .replace('action: findOrder', 'action: findOrderz')
      .replace('when: orderOwned', 'when: isOwner')
      .replace('onError: not_owner', 'onError: nowhere')
      .replace('intents: [track_order]', 'intents: [track_order, trak]');
    const messages = problemsOf(() => compileLibrary(parseLibrary(files), shopActions, shopGuards)).map((p) => `${p.where}: ${p.message}`);
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringMatching(/step find: unknown action "findOrderz"/),
      expect.stringMatching(/step owned: unknown guard "isOwner"/),
      expect.stringMatching(/step verify: goes to unknown step "nowhere"/),
      expect.stringMatching(/flows\/track_order: starts on unknown intent "trak"/),
    ]));
  });

  it('refuses a reply that contains a forbidden phrase, saying where', async () => {
    const files = await shippedFiles();
    files['replies.yaml'] = files['replies.yaml']!.replace('请问还有其他问题吗？', '我现在很忙，你等会再打来');
    const problems = problemsOf(() => compileLibrary(parseLibrary(files), shopActions, shopGuards));
    expect(problems).toContainEqual({ where: 'replies.yaml anythingElse (zh)', message: 'contains the forbidden phrase "我现在很忙，你等会再打来"' });
  });

  it('refuses a malformed FAQ row with its line', async () => {
    const files = await shippedFiles();
    files['faq.csv'] = 'id,question,answer,alternates,tags\nok,包邮吗,满99包邮,,\nbad,,没有问题文本,,\n';
    const problems = problemsOf(() => parseLibrary(files));
    expect(problems[0]?.where).toMatch(/^faq\.csv:3/);
  });
});
