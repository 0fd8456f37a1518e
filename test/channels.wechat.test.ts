/** WeChat beyond the contract: bound customers, numbered options, rooms, images, login state, drops and takeover. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FileBox } from 'file-box';
import { ScanStatus } from 'wechaty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOf } from '../src/bots/messages.ts';
import { chosenOption, numberedOptions, orderCardText } from '../src/bots/text-render.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import { chat, expectMessage, sleep, until, wechatFixture, type WechatFixture } from './support/channel-bot.ts';

/** A 1×1 PNG, as a customer's photo. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

describe('WeChat rendering', () => {
  it('numbers quick replies and maps a typed number back, full-width digits too', () => {
    const options = [{ label: '查订单/物流', value: '查订单' }, { label: '转人工', value: '转人工' }];
    expect(numberedOptions('您好，请问有什么可以帮您？', options)).toBe('您好，请问有什么可以帮您？\n\n回复 1 查订单/物流\n回复 2 转人工');
    expect(numberedOptions('How can I help?', [{ label: 'Track an order', value: 'track' }])).toMatch(/Reply 1 for Track an order$/);
    expect(chosenOption('1', options)?.value).toBe('查订单');
    expect(chosenOption(' ２ ', options)?.value).toBe('转人工');
    expect(chosenOption('3', options)).toBeNull();
    expect(chosenOption('5432', options)).toBeNull();
    expect(chosenOption('1', null)).toBeNull();
    // A lone "talk to a person" button under a quantity question: "1" is the answer, not the button.
    expect(chosenOption('1', [{ label: '转人工', value: '转人工' }])).toBeNull();
  });

  it('writes an order card as lines of text', () => {
    const text = orderCardText('订单 E1：已发货', {
      orderId: 'E1', status: 'shipped', statusText: '已发货', currency: 'CNY', total: 198, tracking: 'SF 123',
      lines: [{ name: '纯棉T恤', options: '白色 / M', qty: 2, price: 99 }],
    });
    expect(text).toBe('订单 E1：已发货\n\n订单 E1 · 已发货\n· 纯棉T恤（白色 / M） × 2  ¥99.00\n合计 ¥198.00\n物流 SF 123');
  });
});

describe('WeChat channel', () => {
  let fx: WechatFixture;
  beforeAll(async () => { fx = await wechatFixture(); });
  afterAll(async () => { await fx?.close(); });

  it('greets a bound customer by surname and shows their order without the phone digits', async () => {
    const zhang = fx.contact('wxid_zhangwei', '张伟');
    await (await (await chat(zhang).says('在吗', /张先生您好/)).says('查订单', /订单号/)).says('E20261030001', /E20261030001/);
    expect(zhang.received().join('\n')).not.toMatch(/后4位/);
    expect(zhang.received().at(0)).toMatch(/您好.*\n\n回复 1 查订单\/物流\n回复 2 \S+/s);
  });

  it('uses the contact’s remark as the name to greet', async () => {
    await chat(fx.contact('wxid_remarked', 'cj_1990', { alias: '陈静' })).says('你好', /陈静您好/);
  });

  it('answers in a room only when @-mentioned, and ignores official accounts', async () => {
    const member = fx.contact('wxid_room_member', '赵敏');
    const room = fx.wechat.room('r1@chatroom', [member.contact]);
    member.contact.sayInRoom(room, '大家好', false);
    const official = fx.wechat.customer('gh_promotions', '某公众号', { official: true });
    official.say('今日特惠');
    member.contact.sayInRoom(room, '@小店客服 在吗', true);
    await until('a reply in the room', () => fx.wechat.roomReceived(room).find((t) => /您好/.test(t)));
    await sleep(100);
    expect(fx.wechat.roomReceived(room)).toHaveLength(1);
    expect(official.received).toEqual([]);
    const transcript = await fx.bot.store.conversations.transcript(conversationIdOf({ channel: 'wechat', chatId: 'r1@chatroom' }));
    expect(transcript.filter((l) => l.from === 'customer').map((l) => l.text)).toEqual(['在吗']);
    expect(await fx.bot.store.conversations.transcript('wechat:gh_promotions')).toEqual([]);
  });

  it('keeps a customer’s photo with the transcript', async () => {
    const customer = fx.contact('wxid_photo', '孙丽');
    customer.contact.say('在吗');
    await expectMessage(customer, /您好/, 0);
    fx.wechat.mocker.ContactMock.load('wxid_photo').say(FileBox.fromBase64(PNG.toString('base64'), 'damage.png')).to(fx.wechat.self);
    const id = conversationIdOf(customer.ref);
    const line = await until('the photo in the transcript', async () => (await fx.bot.store.conversations.transcript(id)).find((l) => l.imageUrl));
    expect(line).toMatchObject({ from: 'customer', text: '[图片]' });
    expect(line.imageUrl).toMatch(/^uploads\/wechat\/\d{4}-\d\d-\d\d\/[\w-]+\.png$/);
    expect(existsSync(path.join(fx.uploads, line.imageUrl?.replace(/^uploads\//, '') ?? ''))).toBe(true);
  });

  it('shows the login QR code and state, and keeps messages in the outbox while logged out', async () => {
    const customer = fx.contact('wxid_waiting', '周杰');
    await chat(customer).says('在吗', /您好/);
    expect(fx.bot.channels.status().wechat).toMatchObject({ state: 'loggedIn', user: { id: 'wxid_shop_service', name: '小店客服' }, qrcode: null });

    await fx.wechat.logout();
    await until('logged out', () => fx.bot.channels.wechat?.status().state === 'loggedOut');
    fx.wechat.mocker.scan('https://login.weixin.qq.com/l/test-qr', ScanStatus.Waiting);
    expect(fx.bot.channels.status().wechat).toMatchObject({ state: 'waitingForScan', qrcode: 'https://login.weixin.qq.com/l/test-qr', user: null });
    expect(fx.logs.join('')).toMatch(/"qrcode":"https:\/\/login\.weixin\.qq\.com\/l\/test-qr"/);

    await fx.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '您的包裹已经发出。' }, 'agent');
    await fx.bot.delivery.runOnce();
    await sleep(100);
    const id = conversationIdOf(customer.ref);
    expect((await fx.bot.store.outbox.pending(id)).map((i) => i.attempts)).toEqual([0]);

    fx.wechat.login();
    await expectMessage(customer, /包裹已经发出/, 0);
    expect(fx.bot.channels.status().wechat?.state).toBe('loggedIn');
    expect(await fx.bot.store.outbox.pending(id)).toEqual([]);
  });
});

describe('WeChat across processes', () => {
  it('the process holding the channel delivers what any process queued; another takes over and still maps a numbered answer', async () => {
    const store = createMemoryStore();
    const a = await wechatFixture({ store });
    const b = await wechatFixture({ store, login: false });
    try {
      expect(b.bot.channels.wechat?.status().state).toBe('standby');
      const customer = a.contact('wxid_loyal', '吴磊');
      await chat(customer).says('在吗', /您好/);
      // An agent's reply queued by B (which has no WeChat) goes out through A.
      await b.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '我是客服小李，已为您登记。' }, 'agent', 'li');
      await b.bot.delivery.runOnce();
      await expectMessage(customer, /客服小李/, 0);
      expect(b.logs.join('')).not.toMatch(/delivery failed/);
      await chat(customer).says('你好', /您好/);

      // A dies; B takes the channel, logs in, and knows the options A offered from the store's delivery log.
      await a.close();
      await until('B starting', () => b.bot.channels.wechat?.status().state === 'starting');
      b.wechat.login();
      await until('B logged in', () => b.bot.channels.wechat?.status().state === 'loggedIn');
      const again = b.contact('wxid_loyal', '吴磊');
      await chat(again).says('1', /订单号/);
      const transcript = await b.bot.store.conversations.transcript(conversationIdOf(again.ref));
      expect(transcript.filter((l) => l.from === 'customer').map((l) => l.text)).toEqual(['在吗', '你好', '查订单']);
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
    }
  });
});
