/** The FAQ knowledge base: reading CSV and YAML, and deciding to answer, ask back or abstain. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYamlText } from 'yaml';
import { parseCsv } from '../src/knowledge/csv.ts';
import { answerIn, createFaqIndex, parseFaqCsv, parseFaqYaml, type FaqEntry } from '../src/knowledge/faq.ts';
import { createFaqAnalyzer } from '../src/knowledge/analysis.ts';
import { DEFAULT_MODELS, fitLogistic, predict } from '../src/knowledge/calibration.ts';
import { createRanker } from '../src/knowledge/ranker.ts';

describe('parseCsv', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF and a BOM', () => {
    const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",\r\n\r\n3,plain,last';
    const { records, problems } = parseCsv(text);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', 'say "hi"'] },
      { line: 3, fields: ['2', 'two\nlines', ''] },
      { line: 6, fields: ['3', 'plain', 'last'] },
    ]);
  });

  it('reports an unclosed quote and text after a closing quote with their lines', () => {
    expect(parseCsv('a,b\n1,"x"y\n').problems).toEqual([{ line: 2, message: expect.stringContaining('after a closing quote') }]);
    expect(parseCsv('a,b\n1,2\n3,"open\n').problems).toEqual([{ line: 3, message: 'a quoted field is not closed' }]);
  });
});

const CSV = `id,question,answer,alternates,tags
shipping_fee,运费怎么算?,"满99元包邮,不满收10元运费。
---en---
Free shipping over ¥99, otherwise ¥10.",包邮吗|要运费吗|is shipping free,物流|运费
return_policy,支持七天无理由退货吗?,"签收后7天内,吊牌完好可无理由退货。",不喜欢能退吗|return policy,售后
bad row with spaces,问题,答案,,
quoted,"他说""你好""是什么意思?",见说明,,
missing_answer,有答案吗?,,,
`;

describe('parseFaqCsv', () => {
  it('reads good rows and refuses bad ones with the line number and the reason', () => {
    const { entries, problems } = parseFaqCsv(CSV, 'faq.csv');
    expect(entries.map((e) => e.id)).toEqual(['shipping_fee', 'return_policy', 'quoted']);
    expect(entries[0]).toEqual({
      id: 'shipping_fee',
      question: '运费怎么算?',
      answer: '满99元包邮,不满收10元运费。\n---en---\nFree shipping over ¥99, otherwise ¥10.',
      alternates: ['包邮吗', '要运费吗', 'is shipping free'],
      tags: ['物流', '运费'],
    });
    expect(entries[2]?.question).toBe('他说"你好"是什么意思?');
    // The first entry spans lines 2–4, so the bad rows are on lines 6 and 8.
    expect(problems).toEqual([
      { where: 'faq.csv:6', line: 6, message: expect.stringContaining('id') },
      { where: 'faq.csv:8', line: 8, message: expect.stringContaining('answer is empty') },
    ]);
  });

  it('refuses a row with the wrong number of fields, a duplicate id and a wrong header', () => {
    const dup = parseFaqCsv('id,question,answer,alternates,tags\na,问?,答,,\na,又问?,答,,\nb,问,答,多,了,字段\n', 'x.csv');
    expect(dup.entries.map((e) => e.id)).toEqual(['a']);
    expect(dup.problems.map((p) => [p.line, p.message])).toEqual([
      [3, 'id a is already used on line 2'],
      [4, expect.stringContaining('expected 5 fields, found 6')],
    ]);
    const header = parseFaqCsv('question,answer\n问,答\n', 'h.csv');
    expect(header.entries).toEqual([]);
    expect(header.problems[0]).toMatchObject({ line: 1, message: expect.stringContaining('header') });
  });
});

describe('the optional threshold column', () => {
  it('accepts a sixth column "threshold" (empty = the default) and refuses a value outside 0..1', () => {
    const text = 'id,question,answer,alternates,tags,threshold\nsizes,尺码准吗?,标准码。,,,0.9\nwash,怎么洗?,冷水洗。,,,\nbad,问?,答。,,,1.5\nnan,问?,答。,,,很高\n';
    const { entries, problems } = parseFaqCsv(text, 't.csv');
    expect(entries).toEqual([
      { id: 'sizes', question: '尺码准吗?', answer: '标准码。', alternates: [], tags: [], threshold: 0.9 },
      { id: 'wash', question: '怎么洗?', answer: '冷水洗。', alternates: [], tags: [] },
    ]);
    expect(entries[1]).not.toHaveProperty('threshold');
    expect(problems.map((p) => [p.line, p.message])).toEqual([
      [4, expect.stringContaining('threshold must be a number from 0 to 1')],
      [5, expect.stringContaining('threshold must be a number from 0 to 1')],
    ]);
  });

  it('takes threshold from YAML too, and keeps the five-column header working', () => {
    const yaml = parseFaqYaml('- {id: a, question: 问?, answer: 答, threshold: 0.8}\n', 'f.yaml');
    expect(yaml.entries[0]?.threshold).toBe(0.8);
    expect(parseFaqCsv('id,question,answer,alternates,tags\na,问?,答,,\n', 'f.csv').entries[0]).not.toHaveProperty('threshold');
  });
});

describe('parseFaqYaml', () => {
  it('reads a list with lists or |-separated text, and refuses bad entries with their line', () => {
    const yaml = [
      '- id: invoice',
      '  question: 可以开发票吗?',
      '  answer: 可以开电子发票。',
      '  alternates: [怎么开发票, invoice]',
      '  tags: 发票',
      '- id: cod',
      '  question: 支持货到付款吗?',
      '  answer: 暂不支持。',
      '  alternates: 能货到付款吗|cash on delivery',
      '- id: broken',
      '  question: ""',
      '  answer: 有',
    ].join('\n');
    const { entries, problems } = parseFaqYaml(yaml, 'faq.yaml');
    expect(entries).toEqual([
      { id: 'invoice', question: '可以开发票吗?', answer: '可以开电子发票。', alternates: ['怎么开发票', 'invoice'], tags: ['发票'] },
      { id: 'cod', question: '支持货到付款吗?', answer: '暂不支持。', alternates: ['能货到付款吗', 'cash on delivery'], tags: [] },
    ]);
    expect(problems).toEqual([{ where: 'faq.yaml:10', line: 10, message: expect.stringContaining('question is empty') }]);
  });

  it('accepts {faq: [...]} and refuses other shapes and broken YAML', () => {
    expect(parseFaqYaml('faq:\n  - {id: a, question: 问?, answer: 答}\n', 'f.yaml').entries).toHaveLength(1);
    expect(parseFaqYaml('hello: world\n', 'f.yaml').problems[0]?.message).toContain('expected a list');
    expect(parseFaqYaml('- id: [unclosed\n', 'f.yaml').problems.length).toBeGreaterThan(0);
  });
});

describe('answerIn', () => {
  it('gives the English part after ---en--- to English speakers, Chinese otherwise', () => {
    const entry = { answer: '满99元包邮。\n---en---\nFree shipping over ¥99.' };
    expect(answerIn(entry, 'zh')).toBe('满99元包邮。');
    expect(answerIn(entry, 'en')).toBe('Free shipping over ¥99.');
    expect(answerIn({ answer: '只有中文。' }, 'en')).toBe('只有中文。');
  });
});

const faq = (id: string, question: string, alternates: string[]): FaqEntry => ({ id, question, answer: `${id} 的答案`, alternates, tags: [] });

const FAQ: FaqEntry[] = [
  faq('shipping_time', '下单后多久发货?', ['什么时候发货', '多久能发出', '几天发货', 'how soon do you ship']),
  faq('shipping_fee', '运费怎么算?', ['包邮吗', '要运费吗', '邮费多少', 'is shipping free']),
  faq('courier', '发什么快递?', ['用哪家快递', '能发顺丰吗', 'which courier']),
  faq('return_policy', '支持七天无理由退货吗?', ['可以退货吗', '不喜欢能退吗', '多少天内可以退', 'return policy']),
  faq('return_fee', '退货运费谁承担?', ['退货要自己出运费吗', '退回的邮费谁出', 'who pays return shipping']),
  faq('refund_time', '退款多久到账?', ['钱什么时候退回来', '退款几天到', 'when will I get my refund']),
  faq('size_guide', '尺码怎么选?', ['穿多大码', '尺码表在哪', '我该买什么码', 'size chart']),
  faq('fabric', '衣服是什么面料?', ['什么材质', '是纯棉的吗', '会起球吗', 'what fabric']),
  faq('washing', '衣服怎么洗?', ['可以机洗吗', '洗了会缩水吗', 'how to wash']),
  faq('invoice', '可以开发票吗?', ['怎么开发票', '能开专票吗', 'invoice']),
  faq('cod', '支持货到付款吗?', ['能货到付款吗', 'cash on delivery']),
];
const SYNONYMS = [['包邮', '免运费', '免邮'], ['退货', '退款', '退回', '退'], ['尺码', '码', '号', '码数'], ['快递', '物流']];

describe('FAQ index', () => {
  const index = createFaqIndex(FAQ, { synonyms: SYNONYMS });

  it.each([
    ['付款后几天能发货', 'shipping_time'],
    ['满多少包邮', 'shipping_fee'],
    ['免运费吗', 'shipping_fee'],
    ['可以发顺丰吗', 'courier'],
    ['不喜欢可以退吗', 'return_policy'],
    ['七天无理由吗', 'return_policy'],
    ['退款什么时候到账', 'refund_time'],
    ['尺碼表', 'size_guide'],
    ['这件什么材质的', 'fabric'],
    ['能开增值税专票吗', 'invoice'],
    ['可以货到付款吗', 'cod'],
    ['do you accept cash on delivery', 'cod'],
  ])('answers %s with %s', (query, id) => {
    const decision = index.decide(query);
    expect(decision.kind).toBe('answer');
    if (decision.kind === 'answer') expect(decision.entry.id).toBe(id);
  });

  it.each([
    ['退回来邮费谁付', 'return_fee'],
    ['羽绒服怎么洗', 'washing'],
  ])('ranks %s first with %s (words the FAQ does not know make it less sure)', (query, id) => {
    expect(index.search(query, 3)[0]?.entry.id).toBe(id);
  });

  it.each(['你们老板是谁', '今天天气怎么样', '你是机器人吗', '推荐一款适合约会的裙子', "what's your name"])(
    'abstains on %s',
    (query) => {
      expect(index.decide(query)).toEqual({ kind: 'abstain' });
    },
  );

  it('asks back when two entries fit about equally well', () => {
    // Shipping or refund: both take "几天".
    const decision = index.decide('几天');
    expect(decision.kind).toBe('clarify');
    if (decision.kind === 'clarify') {
      expect(decision.entries.map((e) => e.id)).toEqual(expect.arrayContaining(['shipping_time', 'refund_time']));
      expect(decision.entries.length).toBeLessThanOrEqual(3);
    }
  });

  it('ranks search hits best first with relevance and confidence in 0..1', () => {
    const hits = index.search('退货运费谁出', 3);
    expect(hits[0]?.entry.id).toBe('return_fee');
    for (const h of hits) {
      expect(h.score).toBeGreaterThan(0);
      expect(h.score).toBeLessThanOrEqual(1);
      expect(h.confidence).toBeGreaterThanOrEqual(0);
      expect(h.confidence).toBeLessThanOrEqual(1);
    }
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));
    // The best hit's confidence is the one decide() uses.
    const decision = index.decide('退货运费谁出');
    expect(decision).toMatchObject({ kind: 'answer', confidence: hits[0]?.confidence });
    expect(index.search('')).toEqual([]);
  });

  it('uses the default models on an FAQ too small to learn from', () => {
    expect(createFaqIndex(FAQ.slice(0, 3), { synonyms: SYNONYMS }).models).toBe(DEFAULT_MODELS);
  });

  it('abstains on an empty FAQ', () => {
    expect(createFaqIndex([]).decide('运费怎么算')).toEqual({ kind: 'abstain' });
  });
});

describe('per-entry threshold', () => {
  const base = createFaqIndex(FAQ, { synonyms: SYNONYMS });
  const query = '退款要几天才到';

  it('an entry with a high threshold of its own is not answered where it otherwise would be', () => {
    const before = base.decide(query);
    expect(before).toMatchObject({ kind: 'answer', entry: { id: 'refund_time' } });
    const strict = FAQ.map((e) => (e.id === 'refund_time' ? { ...e, threshold: 0.99 } : e));
    const after = createFaqIndex(strict, { synonyms: SYNONYMS }).decide(query);
    expect(after.kind).not.toBe('answer');
  });

  it('an entry with a low threshold of its own is answered where the index would ask back', () => {
    const decision = base.decide('几天');
    expect(decision.kind).toBe('clarify');
    const lenient = FAQ.map((e) => (e.id === 'refund_time' || e.id === 'shipping_time' ? { ...e, threshold: 0.05 } : e));
    expect(createFaqIndex(lenient, { synonyms: SYNONYMS }).decide('几天').kind).toBe('answer');
  });
});

describe('analysis', () => {
  it('reads pinyin initials and English mixed into Chinese as the synonym group\'s word', () => {
    const analyzer = createFaqAnalyzer([['包邮', '免运费', 'by'], ['优惠券', '券', 'yhq', 'coupon']]);
    expect(analyzer.tokens('by吗').has('包邮')).toBe(true);
    expect(analyzer.tokens('这个能by不').has('包邮')).toBe(true);
    expect(analyzer.tokens('yhq').has('优惠券')).toBe(true);
    expect(analyzer.tokens('coupon怎么用').has('优惠券')).toBe(true);
    // An English sentence keeps its words.
    expect(analyzer.tokens('ship it by friday').has('包邮')).toBe(false);
    // Full width and traditional characters fold like everywhere else.
    expect([...analyzer.tokens('免運費嗎')]).toEqual([...analyzer.tokens('免运费吗')]);
  });
});

describe('calibration', () => {
  it('fits a logistic model that recovers a known one, and keeps the prior with no data', () => {
    // Deterministic data from p = σ(-1 + 3x): outcome rates at each x match the model.
    const rows: { x: number[]; y: number }[] = [];
    for (let i = 0; i <= 20; i++) {
      const x = i / 20;
      const p = 1 / (1 + Math.exp(-(-1 + 3 * x)));
      for (let k = 0; k < 100; k++) rows.push({ x: [x], y: k < Math.round(p * 100) ? 1 : 0 });
    }
    const model = fitLogistic(rows, { bias: 0, weights: [0] }, 0.01);
    expect(model.bias).toBeCloseTo(-1, 1);
    expect(model.weights[0]).toBeCloseTo(3, 1);
    expect(predict(model, [0.5])).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 2);
    expect(fitLogistic([], { bias: 2, weights: [1] }, 1)).toEqual({ bias: 2, weights: [1] });
  });
});

// The shipped library's FAQ, asked the way customers write (these questions are not in
// eval/demo-cases.csv, and not copied from the entries).
describe('the shipped FAQ', () => {
  const entries = parseFaqCsv(readFileSync(new URL('../scripts/faq.csv', import.meta.url), 'utf8'), 'faq.csv').entries;
  const synonyms = parseYamlText(readFileSync(new URL('../scripts/synonyms.yaml', import.meta.url), 'utf8')) as string[][];
  const index = createFaqIndex(entries, { synonyms });

  it('learns its models from its own wordings', () => {
    expect(index.models).not.toBe(DEFAULT_MODELS);
  });

  it.each([
    ['你们包邮吗', 'free_shipping'],
    ['请问运费险有送吗', 'freight_insurance'],
    ['能不能用花呗分期付', 'installment'],
    ['羽绒服里填的是鸭绒吗', 'down_fill'],
  ])('answers %s with %s', (query, id) => {
    expect(index.decide(query)).toMatchObject({ kind: 'answer', entry: { id } });
  });

  it.each([
    ['退款一般几天能回来', 'refund_time'],
    ['衣服洗完变小了', 'shrinkage'],
    ['can I pay with alipay', 'payment_methods'],
  ])('has the right entry first for %s (answered or asked back)', (query, id) => {
    expect(index.search(query, 3)[0]?.entry.id).toBe(id);
    expect(index.decide(query).kind).not.toBe('abstain');
  });

  it.each(['查订单', '我的快递到哪了', '转人工', '你好', '谢谢', '明天会下雨吗', '你们卖手机吗'])(
    'does not answer %s (a flow or nobody handles it)',
    (query) => {
      expect(index.decide(query).kind).not.toBe('answer');
    },
  );
});

describe('ranker', () => {
  const many: FaqEntry[] = Array.from({ length: 300 }, (_, i) => ({
    id: `e${i}`,
    question: i % 3 === 0 ? `wool sweater care ${i}` : `cotton shirt size ${i}`,
    answer: 'see the label',
    alternates: [`washing question ${i}`],
    tags: [],
  }));

  it('spends one posting budget per question: the rarest term alone beyond it, up to the cap', () => {
    const ranker = createRanker(many, createFaqAnalyzer([]), { postingBudget: 50, rarestTermCap: 150 });
    // "wool" lists 100 entries: over the budget, within the cap, so it is searched alone.
    expect(ranker.candidates('wool', 10).length).toBe(10);
    // "cotton" lists 200: beyond the cap, nothing is searched.
    expect(ranker.candidates('cotton', 10)).toEqual([]);
  });

  it('puts a held-out wording back after the question, and hides a held-out entry', () => {
    const ranker = createRanker(FAQ, createFaqAnalyzer(SYNONYMS));
    const before = ranker.candidates('包邮吗', 5);
    const shipping = FAQ.findIndex((e) => e.id === 'shipping_fee');
    expect(ranker.candidates('包邮吗', 5, { entry: shipping }).some((c) => c.entry === shipping)).toBe(false);
    ranker.candidates('包邮吗', 5, { entry: shipping, phrase: 1 });
    expect(ranker.candidates('包邮吗', 5)).toEqual(before);
  });

});
