/** Understanding of customer messages: normalising, language, slots, control words, mood and intents. */
import { describe, expect, it } from 'vitest';
import { controlWord, sentiment } from '../src/understanding/control.ts';
import { createIntentClassifier, type IntentExamples } from '../src/understanding/intents.ts';
import {
  address, color, extractSlot, extractSlots, heightCm, orderId, phone, phoneLast4, quantity, size, weightKg, yesNo,
} from '../src/understanding/slots.ts';
import { applySynonyms, detectLang, normalize, stem, tokenize } from '../src/understanding/text.ts';
import { understand } from '../src/understanding/understand.ts';

describe('normalize', () => {
  it('turns full-width letters, digits and punctuation into ASCII and lower-cases', () => {
    expect(normalize('ＸＬ码，订单Ｅ２０２６１０１５００１？')).toBe('xl码,订单e20261015001?');
  });
  it('turns traditional characters into simplified ones', () => {
    expect(normalize('請問這件衣服退貨運費誰付')).toBe('请问这件衣服退货运费谁付');
    expect(normalize('我的訂單到哪裡了')).toBe('我的订单到哪里了');
  });
  it('removes emoji and control characters and collapses spaces', () => {
    expect(normalize('  好的👍🏻  谢谢😊\n\t亲 ')).toBe('好的 谢谢 亲');
    expect(normalize('a\u200Bb\u0007c')).toBe('ab c');
    expect(normalize('🎉🎉')).toBe('');
  });
});

describe('detectLang', () => {
  it('is Chinese as soon as Chinese carries the message', () => {
    expect(detectLang('我要退货')).toBe('zh');
    expect(detectLang('我要买XL的T恤')).toBe('zh');
    expect(detectLang('E20261015001')).toBe('zh');
    expect(detectLang('ok')).toBe('zh');
  });
  it('is English for English, even with a Chinese product word in it', () => {
    expect(detectLang('where is my order?')).toBe('en');
    expect(detectLang('Can I return the 卫衣? It is too small for me')).toBe('en');
  });
  it('defaults to Chinese for empty and emoji-only messages', () => {
    expect(detectLang('')).toBe('zh');
    expect(detectLang('😂😂')).toBe('zh');
  });
});

describe('tokenize', () => {
  it('keeps shop words whole and drops function words', () => {
    const tokens = tokenize('请问卫衣有XL码吗?运费险怎么赔呢');
    expect(tokens).toEqual(expect.arrayContaining(['卫衣', 'xl', '运费险']));
    for (const stop of ['请问', '吗', '呢', '?']) expect(tokens).not.toContain(stop);
  });
  it('adds character pairs inside long words and across unknown characters', () => {
    expect(tokenize('羽绒服')).toEqual(expect.arrayContaining(['羽绒服', '羽绒', '绒服']));
  });
  it('stems English words so forms of one word meet', () => {
    expect(tokenize('The dresses were returned')).toEqual(['dress', 'return']);
    expect(stem('shipping')).toBe(stem('shipped'));
    expect(stem('changing')).toBe(stem('change'));
  });
  it('turns order ids into one placeholder', () => {
    expect(tokenize('E20261015001到哪了')).toContain('#order');
  });
  it('maps synonyms to the first word of their group', () => {
    const groups = [['包邮', '免运费', '免邮'], ['尺码', '码', '号', '码数']];
    expect(applySynonyms(['免邮', '码数', '卫衣'], groups)).toEqual(['包邮', '尺码', '卫衣']);
    expect(applySynonyms(['码', '尺码'], groups)).toEqual(['尺码']);
  });
});

describe('slots', () => {
  it('order id: one letter and 11 digits, however written', () => {
    expect(orderId('订单号:e2026 1015 001 还没发货😡')).toBe('E20261015001');
    expect(orderId('order #E20261015001 pls check')).toBe('E20261015001');
    expect(orderId('我的订单是E20261015001呀')).toBe('E20261015001');
    expect(orderId('订单号20261015001')).toBeUndefined();
    expect(orderId('E2026101500')).toBeUndefined();
  });

  it('phone: mainland mobile with spaces, dashes or +86', () => {
    expect(phone('电话 138-1234-5678 谢谢')).toBe('13812345678');
    expect(phone('+86 139 1234 5678')).toBe('13912345678');
    expect(phone('12345678901')).toBeUndefined();
    expect(phone('E13812345678')).toBeUndefined();
  });

  it('phone last 4: cued or alone, never inside an order id or phone', () => {
    expect(phoneLast4('手机尾号是 5678')).toBe('5678');
    expect(phoneLast4('后四位1234')).toBe('1234');
    expect(phoneLast4('last 4 digits are 4321')).toBe('4321');
    expect(phoneLast4('0923')).toBe('0923');
    expect(phoneLast4('E20261015001')).toBeUndefined();
    expect(phoneLast4('13812345678')).toBeUndefined();
    expect(phoneLast4('买了1299元的羽绒服')).toBeUndefined();
    expect(phoneLast4('2024年买的')).toBeUndefined();
  });

  it('size: letters, 2XL, 均码, numbers with 码; not letters inside English', () => {
    expect(size('XL码还有吗')).toBe('XL');
    expect(size('我要m的')).toBe('M');
    expect(size('ｌ')).toBe('L');
    expect(size('2xl有没有')).toBe('XXL');
    expect(size('是均码吗')).toBe('均码');
    expect(size('free size?')).toBe('均码');
    expect(size('平时穿38码')).toBe('38');
    expect(size('size m please')).toBe('M');
    expect(size('M码小了想换成L码')).toBe('L');
    expect(size("I'll take it")).toBeUndefined();
    expect(size("I'm not sure")).toBeUndefined();
    expect(size('身高1.75m')).toBeUndefined();
    expect(size('50码')).toBeUndefined();
  });

  it('colour: many spellings to the shop name; not 明白 or 红包', () => {
    expect(color('要黑的')).toBe('黑色');
    expect(color('白衬衫还有吗')).toBe('白色');
    expect(color('navy please')).toBe('藏青色');
    expect(color('do you have it in grey?')).toBe('灰色');
    expect(color('米白的好看')).toBe('米白色');
    expect(color('卡其')).toBe('卡其色');
    expect(color('酒紅色')).toBe('酒红色');
    expect(color('白色换成黑色')).toBe('黑色');
    expect(color('我明白了')).toBeUndefined();
    expect(color('有红包吗')).toBeUndefined();
    expect(color('蓝牙耳机')).toBeUndefined();
  });

  it('quantity: digits, Chinese numerals, pcs, x2', () => {
    expect(quantity('我要2件')).toBe(2);
    expect(quantity('两条牛仔裤')).toBe(2);
    expect(quantity('买十二个')).toBe(12);
    expect(quantity('x3')).toBe(3);
    expect(quantity('3 pcs')).toBe(3);
    expect(quantity('two pieces please')).toBe(2);
    expect(quantity('有两个问题想问')).toBeUndefined();
    expect(quantity('第二件半价吗')).toBeUndefined();
  });

  it('yes/no: only when the message is essentially an answer', () => {
    for (const y of ['是的', '好滴', '嗯嗯', '对的,就是这个', 'ok', 'OK👌', 'yes please', 'Yep!', '好的谢谢', '没问题', '确认']) {
      expect(yesNo(y), y).toBe('yes');
    }
    for (const n of ['不是', '不对', '不用了', 'nope', 'No.', '不要', '错了', '没有']) expect(yesNo(n), n).toBe('no');
    for (const x of ['不是我要的衣服坏了', '取消', 'cancel', '可以吗?', '好的,不过不要了', '我要退货']) {
      expect(yesNo(x), x).toBeUndefined();
    }
  });

  it('address: after 地址改成/寄到, or a clause that reads like an address', () => {
    expect(address('地址改成浙江省杭州市西湖区文三路100号')).toBe('浙江省杭州市西湖区文三路100号');
    expect(address('帮我寄到上海市浦东新区世纪大道1号,谢谢')).toBe('上海市浦东新区世纪大道1号');
    expect(address('张三 13812345678 广东省深圳市南山区科技园10栋501室')).toBe('广东省深圳市南山区科技园10栋501室');
    expect(address('新地址:北京市朝阳区建国路88号SOHO现代城A座')).toBe('北京市朝阳区建国路88号SOHO现代城A座');
    expect(address('我想改地址')).toBeUndefined();
    expect(address('什么时候发货')).toBeUndefined();
  });

  it('height and weight in the ways customers say them', () => {
    expect(heightCm('175')).toBe(175);
    expect(heightCm('一米七五')).toBe(175);
    expect(heightCm('1米75')).toBe(175);
    expect(heightCm('1米7')).toBe(170);
    expect(heightCm('175cm')).toBe(175);
    expect(heightCm('身高170')).toBe(170);
    expect(heightCm('1.68m')).toBe(168);
    expect(heightCm("5'9\"")).toBe(175);
    expect(heightCm('130斤')).toBeUndefined();
    expect(weightKg('65kg')).toBe(65);
    expect(weightKg('130斤')).toBe(65);
    expect(weightKg('一百三十斤')).toBe(65);
    expect(weightKg('体重60公斤')).toBe(60);
    expect(weightKg('120 lbs')).toBe(54);
    expect(weightKg('体重110')).toBe(55);
    expect(weightKg('175cm')).toBeUndefined();
  });

  it('extractSlots reads a whole colloquial message', () => {
    expect(extractSlots('我175,130斤,平时穿L码,这件白色的要两件')).toEqual({
      heightCm: 175, weightKg: 65, size: 'L', color: '白色', quantity: 2,
    });
    expect(extractSlots('订单E20261015001 手机尾号5678 帮我改成黑色XL')).toEqual({
      orderId: 'E20261015001', phoneLast4: '5678', color: '黑色', size: 'XL',
    });
    // Numbers inside an address are not a phone's tail.
    expect(extractSlots('新地址:北京市朝阳区建国路88号A座1201').phoneLast4).toBeUndefined();
  });

  it('extractSlot checks an answer to a flow question', () => {
    expect(extractSlot('orderId', 'e20261015001')).toEqual({ ok: true, value: 'E20261015001' });
    expect(extractSlot('orderId', '不知道')).toEqual({ ok: false });
    expect(extractSlot('phoneLast4', '13812345678')).toEqual({ ok: true, value: '5678' });
    expect(extractSlot('quantity', '两')).toEqual({ ok: true, value: 2 });
    expect(extractSlot('weightKg', '120')).toEqual({ ok: true, value: 60 });
    expect(extractSlot('number', '３')).toEqual({ ok: true, value: 3 });
    expect(extractSlot('number', '三个吧')).toEqual({ ok: false });
    expect(extractSlot('text', '  衣服有个洞  ')).toEqual({ ok: true, value: '衣服有个洞' });
    expect(extractSlot('text', '   ')).toEqual({ ok: false });
    expect(extractSlot('text', 'x'.repeat(501))).toEqual({ ok: false });
    expect(extractSlot('yesNo', '好的')).toEqual({ ok: true, value: 'yes' });
  });
});

describe('controlWord', () => {
  it('asks for a person anywhere in the message', () => {
    for (const t of ['转人工', '人工', '人工客服在吗?', '我要找真人', '找你们主管来', 'can I talk to a human?', 'agent', 'real person please']) {
      expect(controlWord(t), t).toBe('human');
    }
  });
  it('does not take a refusal or another topic for a request', () => {
    expect(controlWord('不要转人工')).toBeNull();
    expect(controlWord('人工智能是什么')).toBeNull();
  });
  it('leaves a flow only when the whole message says so; 取消订单 is an intent', () => {
    for (const t of ['算了', '取消', '取消吧', '那就算了吧', '算了,不改了', '不用了谢谢', 'cancel', 'Never mind!', 'forget it']) {
      expect(controlWord(t), t).toBe('cancel');
    }
    for (const t of ['取消订单', '帮我取消订单', 'cancel my order', '我要取消这个订单', '不用了,我自己去查物流']) {
      expect(controlWord(t), t).toBeNull();
    }
  });
});

describe('sentiment', () => {
  it('tells abuse, anger, displeasure and neutral apart', () => {
    expect(sentiment('你们就是骗子')).toBe('abusive');
    expect(sentiment('傻逼客服')).toBe('abusive');
    expect(sentiment('fuck this shop')).toBe('abusive');
    expect(sentiment('我要投诉!')).toBe('angry');
    expect(sentiment('什么破衣服,给差评')).toBe('angry');
    expect(sentiment('还没到!!!')).toBe('angry');
    expect(sentiment('怎么还没发货,等了好久,太慢了')).toBe('angry');
    expect(sentiment('this is unacceptable')).toBe('angry');
    expect(sentiment('发货有点慢,太慢了')).toBe('negative');
    expect(sentiment('有点失望')).toBe('negative');
    expect(sentiment('I am disappointed')).toBe('negative');
    expect(sentiment('你好,想问下尺码')).toBe('neutral');
    expect(sentiment('滚边的裙子还有吗')).toBe('neutral');
  });
});

const INTENTS: IntentExamples[] = [
  { id: 'greet', examples: { zh: ['你好', '在吗', '您好,有人吗', '哈喽', '早上好'], en: ['hello', 'hi there', 'good morning'] } },
  {
    id: 'track_order',
    examples: {
      zh: ['我的快递到哪了', '查一下物流', '什么时候发货', '订单E20261015001到哪里了', '包裹怎么还没到', '帮我查下快递'],
      en: ['where is my order', 'track my package', 'when will it ship'],
    },
  },
  {
    id: 'change_address',
    examples: {
      zh: ['我要改地址', '修改收货地址', '地址填错了', '能换个地址寄吗', '收货地址写错了想改一下'],
      en: ['change my address', 'wrong shipping address', 'update delivery address'],
    },
  },
  {
    id: 'cancel_order',
    examples: {
      zh: ['取消订单', '我不想要了,帮我取消订单', '订单还没发货能取消吗', '拍错了要取消'],
      en: ['cancel my order', 'I want to cancel the order'],
    },
  },
  {
    id: 'return',
    examples: {
      zh: ['我要退货', '衣服不合适想退', '怎么申请退货退款', '七天无理由退货', '收到的衣服有质量问题要退'],
      en: ['I want to return this', 'how do I return an item', 'refund please'],
    },
  },
  { id: 'human', examples: { zh: ['转人工', '我要找人工客服', '有没有真人'], en: ['talk to a human', 'real person please'] } },
];
const SYNONYMS = [['退货', '退款', '退回', '退掉'], ['快递', '包裹', '物流'], ['地址', '收货地址', '收件地址']];

describe('intent classifier', () => {
  const classifier = createIntentClassifier(INTENTS, { synonyms: SYNONYMS });

  it.each([
    ['我买的衣服到哪里了', 'track_order'],
    ['快递怎么这么久还没到', 'track_order'],
    ['物流信息查不到', 'track_order'],
    ["where's my package??", 'track_order'],
    ['收货地址能改吗', 'change_address'],
    ['地址写错了', 'change_address'],
    ['I need to change the shipping address', 'change_address'],
    ['下错单了能取消吗', 'cancel_order'],
    ['帮我把订单取消掉', 'cancel_order'],
    ['please cancel order', 'cancel_order'],
    ['cancle my order pls', 'cancel_order'],
    ['这件衣服我想退掉', 'return'],
    ['申请退款', 'return'],
    ['質量太差了要退貨', 'return'],
    ['can I get a refund', 'return'],
    ['找个真人客服', 'human'],
    ['你好呀', 'greet'],
    ['hi', 'greet'],
  ])('%s → %s', (query, expected) => {
    const [best, second] = classifier.classify(query);
    expect(best?.id).toBe(expected);
    expect(best?.confidence).toBeGreaterThanOrEqual(0.3);
    if (second) expect(second.confidence).toBeLessThan(best?.confidence ?? 0);
  });

  it('gives nothing confident for messages outside the library', () => {
    for (const q of ['今天天气怎么样', '讲个笑话', 'what is the meaning of life', '你们有实体店吗', '发票怎么开']) {
      const best = classifier.classify(q)[0];
      expect(best?.confidence ?? 0, q).toBeLessThan(0.3);
    }
    expect(classifier.classify('')).toEqual([]);
    expect(classifier.classify('😂')).toEqual([]);
  });

  it('is fully sure of a copied example and ranks candidates best first', () => {
    const guesses = classifier.classify('取消订单');
    expect(guesses[0]).toEqual({ id: 'cancel_order', confidence: 1 });
    const confidences = guesses.map((g) => g.confidence);
    expect([...confidences].sort((a, b) => b - a)).toEqual(confidences);
  });
});

describe('understand', () => {
  const classifier = createIntentClassifier(INTENTS, { synonyms: SYNONYMS });

  it('fills every part of the understanding', () => {
    const u = understand('订单E20261015001的地址写错了,改成浙江省杭州市西湖区文三路100号!!!', { classifier });
    expect(u.lang).toBe('zh');
    expect(u.intent?.id).toBe('change_address');
    expect(u.candidates[0]).toEqual(u.intent);
    expect(u.slots).toMatchObject({ orderId: 'E20261015001', address: '浙江省杭州市西湖区文三路100号' });
    expect(u.control).toBeNull();
  });

  it('leaves the intent empty below the threshold but keeps the candidates', () => {
    const u = understand('今天天气怎么样', { classifier });
    expect(u.intent).toBeNull();
    const strict = understand('地址写错了', { classifier }, { minConfidence: 0.99 });
    expect(strict.intent).toBeNull();
    expect(strict.candidates[0]?.id).toBe('change_address');
  });

  it('reports control words and mood', () => {
    expect(understand('算了', { classifier }).control).toBe('cancel');
    const angry = understand('什么破快递,我要投诉,转人工', { classifier });
    expect(angry.control).toBe('human');
    expect(angry.sentiment).toBe('angry');
    expect(understand('where is my order???', { classifier }).lang).toBe('en');
  });
});
