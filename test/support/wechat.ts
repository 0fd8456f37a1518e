/** WeChat for tests: wechaty-puppet-mock with the shop's own account and customers who write and read. */
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import type { ConversationRef } from '../../src/bots/messages.ts';

/** What a mock contact received from the bot. */
export interface WechatReceived {
  text: string;
}

/** A customer on the mock WeChat. */
export interface WechatCustomer {
  id: string;
  ref: ConversationRef;
  /** Writes to the shop's account; resolves with the platform message id. */
  say(text: string): string;
  /** Writes in a room, @-mentioning the shop's account when `mention` is true. */
  sayInRoom(room: mock.RoomMock, text: string, mention: boolean): string;
  /** Everything the bot sent this contact (in rooms too), in order. */
  received: WechatReceived[];
}

export interface FakeWechat {
  puppet: PuppetMock;
  mocker: mock.Mocker;
  /** The shop's own account (the bot logs in as it). */
  self: mock.ContactMock;
  customer(id: string, name: string, opts?: { alias?: string; official?: boolean }): WechatCustomer;
  room(id: string, members: WechatCustomer[]): mock.RoomMock;
  /** Messages the bot sent into a room. */
  roomReceived(room: mock.RoomMock): string[];
  login(): void;
  logout(): Promise<void>;
  /** Makes the next `n` sends fail, as a dropped connection would. */
  failSends(n: number): void;
}

export function createFakeWechat(): FakeWechat {
  const mocker = new mock.Mocker();
  const puppet = new PuppetMock({ mocker });
  const self = mocker.createContact({ id: 'wxid_shop_service', name: '小店客服' });
  /** What the puppet delivered, per contact or room id. */
  const delivered = new Map<string, string[]>();
  let failing = 0;
  // Seen at the puppet, below wechaty and the adapter; a failure injected here is what a dropped send looks like.
  const sendText = puppet.messageSendText.bind(puppet);
  puppet.messageSendText = async (conversationId: string, text: string) => {
    if (failing > 0) {
      failing -= 1;
      throw new Error('mock: connection reset while sending');
    }
    await sendText(conversationId, text);
    const list = delivered.get(conversationId) ?? [];
    list.push(text);
    delivered.set(conversationId, list);
  };

  return {
    puppet,
    mocker,
    self,
    customer(id, name, opts = {}) {
      const contact = mocker.createContact({ id, name, ...(opts.alias ? { alias: opts.alias } : {}), ...(opts.official ? { type: 2 } : {}) });
      delivered.set(id, []);
      const lastId = (): string => [...mocker.cacheMessagePayload.keys()].at(-1) ?? '';
      return {
        id,
        ref: { channel: 'wechat', chatId: id, userId: id },
        say(text) {
          contact.say(text).to(self);
          return lastId();
        },
        sayInRoom(room, text, mention) {
          contact.say(text, mention ? [self] : []).to(room);
          return lastId();
        },
        get received() { return (delivered.get(id) ?? []).map((text) => ({ text })); },
      };
    },
    room(id, members) {
      return mocker.createRoom({ id, topic: '老顾客群', memberIdList: [self.id, ...members.map((m) => m.id)] });
    },
    roomReceived: (room) => delivered.get(room.id) ?? [],
    login: () => mocker.login(self),
    logout: () => puppet.logout('test: connection dropped'),
    failSends(n) { failing = n; },
  };
}
