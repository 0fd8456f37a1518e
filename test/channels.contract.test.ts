/**
 * One contract for every platform channel, run against the real client libraries: wechaty with
 * wechaty-puppet-mock, and telegraf against a local Bot API server, by long polling and by webhook.
 * A customer talks to the whole bot (pipeline, outbox, delivery) as they would on the platform.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOf } from '../src/bots/messages.ts';
import { chat, duplicatesOn, expectMessage, sleep, telegramFixture, until, wechatFixture, type ChannelFixture } from './support/channel-bot.ts';

/** The cases every channel must pass (Hono's `runTest({ newRouter })` shape). */
function channelContract(name: string, make: () => Promise<ChannelFixture>): void {
  describe(name, () => {
    let fx: ChannelFixture;
    beforeAll(async () => { fx = await make(); });
    afterAll(async () => { await fx?.close(); });

    it('greets through the whole pipeline, with the quick replies the platform can show', async () => {
      const customer = fx.customer();
      await chat(customer).says('在吗', /您好/);
      expect(customer.received().at(-1)).toMatch(/查订单\/物流/);
    });

    it('tracks an order to its card once the last 4 digits of its phone match', async () => {
      const customer = fx.customer();
      await (await (await chat(customer).says('查订单', /订单号/)).says('E20261029001', /后4位/)).says('5432', /E20261029001/);
      const card = customer.received().find((t) => t.includes('合计'));
      expect(card).toMatch(/订单 E20261029001/);
      expect(card).toMatch(/¥\d+\.\d\d/);
    });

    it('completes an order change through the shop scripts, confirmed with a quick reply', async () => {
      const customer = fx.customer();
      let talk = await chat(customer).says('我要改地址', /订单号/);
      talk = await (await talk.says('E20261029001', /后4位/)).says('5432', /新的收货地址/);
      await (await talk.says('浙江省杭州市西湖区文三路200号', /确认修改吗/)).chooses(0, /已经为您改好了/);
      const order = await fx.bot.shop.order('E20261029001');
      expect(order?.address.detail).toMatch(/文三路200号/);
    });

    it('takes a quick reply back as the option’s value', async () => {
      const customer = fx.customer();
      await (await chat(customer).says('你好', /您好/)).chooses(0, /订单号/);
      const transcript = await fx.bot.store.conversations.transcript(conversationIdOf(customer.ref));
      expect(transcript.filter((l) => l.from === 'customer').map((l) => l.text)).toEqual(['你好', '查订单']);
    });

    it('ignores a message the platform delivers twice', async () => {
      const customer = fx.customer();
      const again = await customer.say('查订单');
      await expectMessage(customer, /订单号/, 0);
      const before = await duplicatesOn(fx.bot, customer.ref.channel);
      await again();
      await until('the redelivery to reach the pipeline', async () => (await duplicatesOn(fx.bot, customer.ref.channel)) === before + 1);
      await sleep(100);
      expect(customer.received().filter((t) => /订单号/.test(t))).toHaveLength(1);
      const transcript = await fx.bot.store.conversations.transcript(conversationIdOf(customer.ref));
      expect(transcript.filter((l) => l.from === 'customer')).toHaveLength(1);
    });

    it('delivers a message sent later, as an agent’s reply from the console', async () => {
      const customer = fx.customer();
      await chat(customer).says('在吗', /您好/);
      await fx.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '您好，我是客服小王，马上为您查看。' }, 'agent', 'wang');
      await expectMessage(customer, /客服小王/, 0);
      const transcript = await fx.bot.store.conversations.transcript(conversationIdOf(customer.ref));
      expect(transcript.at(-1)).toMatchObject({ from: 'agent', by: 'wang' });
    });

    it('retries a send that failed and delivers it once', async () => {
      const customer = fx.customer();
      await chat(customer).says('在吗', /您好/);
      fx.failNextSend();
      await fx.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '您的退款已经处理好了。' }, 'agent');
      const id = conversationIdOf(customer.ref);
      await until('the failed attempt', async () => (await fx.bot.store.outbox.pending(id))[0]?.attempts === 1);
      fx.skip(1500);
      await expectMessage(customer, /退款已经处理好了/, 0);
      await sleep(100);
      expect(customer.received().filter((t) => /退款已经处理好了/.test(t))).toHaveLength(1);
      expect(await fx.bot.store.outbox.pending(id)).toEqual([]);
      expect((await fx.bot.store.outbox.deliveries(id)).map((d) => d.message.text)).toContain('您的退款已经处理好了。');
      expect(fx.logs.join('')).toMatch(/delivery failed; will retry/);
    });
  });
}

channelContract('WeChat (wechaty + wechaty-puppet-mock)', wechatFixture);
channelContract('Telegram by long polling (telegraf + local Bot API)', () => telegramFixture('polling'));
channelContract('Telegram by webhook (telegraf + local Bot API)', () => telegramFixture('webhook'));
