/**
 * A local Telegram Bot API server for tests: real HTTP, the methods the bot uses (getMe,
 * getUpdates with offset and long-poll timeout, setWebhook, deleteWebhook, sendMessage, sendPhoto,
 * answerCallbackQuery, editMessageReplyMarkup), a record of every call, and customers whose
 * updates are queued for polling or POSTed to the registered webhook.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Telegram user as updates carry it. */
export interface TgTestUser {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** One Bot API call the bot made. */
export interface TgCall {
  method: string;
  payload: Record<string, unknown>;
}

/** A message the bot sent, as the server stored it. */
export interface TgSent {
  message_id: number;
  chat_id: string;
  text: string;
  /** The inline keyboard's buttons, flattened, while the message has one. */
  buttons: { text: string; callback_data: string }[];
}

export interface FakeTelegram {
  /** TELEGRAM_API_ROOT for the bot. */
  apiRoot: string;
  token: string;
  /** Every call but getUpdates, in order. */
  calls: TgCall[];
  /** Messages the bot sent to a chat, in order. */
  sentTo(chatId: number | string): TgSent[];
  /** The registered webhook, if any. */
  webhook: { url: string; secret: string | undefined } | null;
  /** The customer writes; returns the update (queued for polling, or POSTed to the webhook). */
  say(user: TgTestUser, text: string, chat?: { id: number; type: string }): Promise<Record<string, unknown>>;
  /** The customer presses a button of a message the bot sent. */
  press(user: TgTestUser, message: TgSent, buttonIndex: number): Promise<Record<string, unknown>>;
  /** Delivers an update again, with its update_id (as Telegram does when it was not confirmed). */
  redeliver(update: Record<string, unknown>): Promise<void>;
  /** Status codes of the webhook POSTs, in order. */
  webhookResponses: number[];
  /** Makes the next `times` calls of `method` fail with `code`. */
  failNext(method: string, code: number, times?: number): void;
  /** getUpdates requests answered 409 because another poller took over (should stay 0 with one poller). */
  conflicts: number;
  close(): Promise<void>;
}

const BOT = { id: 7000000001, is_bot: true, first_name: '小店客服', username: 'shop_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  if (!body) return {};
  return JSON.parse(body) as Record<string, unknown>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function buttonsOf(markup: unknown): TgSent['buttons'] {
  const keyboard = (markup as { inline_keyboard?: { text: string; callback_data: string }[][] } | undefined)?.inline_keyboard;
  return keyboard ? keyboard.flat().map((b) => ({ text: b.text, callback_data: b.callback_data })) : [];
}

export async function startFakeTelegram(opts: { token?: string } = {}): Promise<FakeTelegram> {
  const token = opts.token ?? '7000000001:TEST-local-bot-api-token-abcdef';
  const calls: TgCall[] = [];
  const sent: TgSent[] = [];
  /** Updates not yet confirmed; `again` marks one delivered anew although its id is below the offset. */
  const queue: { update: Record<string, unknown>; again: boolean }[] = [];
  const failures = new Map<string, { code: number; times: number }>();
  const webhookResponses: number[] = [];
  let nextUpdateId = 500_000;
  let nextMessageId = 100;
  let webhook: FakeTelegram['webhook'] = null;
  let conflicts = 0;
  /** The long poll waiting for updates, if any. */
  let waiting: { res: ServerResponse; offset: number; limit: number; timer: NodeJS.Timeout } | null = null;

  function pending(offset: number, limit: number): Record<string, unknown>[] {
    // Updates below the offset are confirmed: Telegram forgets them (a redelivery is handed out once more).
    for (let i = queue.length - 1; i >= 0; i -= 1) {
      const entry = queue[i];
      if (entry && Number(entry.update.update_id) < offset && !entry.again) queue.splice(i, 1);
    }
    const ready = queue.slice(0, limit);
    for (const entry of ready) entry.again = false;
    return ready.map((entry) => entry.update);
  }

  function wake(): void {
    if (!waiting) return;
    const ready = pending(waiting.offset, waiting.limit);
    if (ready.length === 0) return;
    clearTimeout(waiting.timer);
    reply(waiting.res, 200, { ok: true, result: ready });
    waiting = null;
  }

  async function deliver(update: Record<string, unknown>, again = false): Promise<void> {
    if (!webhook) {
      queue.push({ update, again });
      wake();
      return;
    }
    const res = await fetch(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(webhook.secret ? { 'x-telegram-bot-api-secret-token': webhook.secret } : {}) },
      body: JSON.stringify(update),
    });
    await res.arrayBuffer();
    webhookResponses.push(res.status);
  }

  function method(name: string, payload: Record<string, unknown>, res: ServerResponse): void {
    if (name !== 'getUpdates') calls.push({ method: name, payload });
    const failure = failures.get(name);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      reply(res, failure.code, { ok: false, error_code: failure.code, description: `Injected failure ${failure.code}` });
      return;
    }
    switch (name) {
      case 'getMe':
        return reply(res, 200, { ok: true, result: BOT });
      case 'setWebhook':
        webhook = { url: String(payload.url), secret: typeof payload.secret_token === 'string' ? payload.secret_token : undefined };
        return reply(res, 200, { ok: true, result: true, description: 'Webhook was set' });
      case 'deleteWebhook':
        webhook = null;
        if (payload.drop_pending_updates === true) queue.length = 0;
        return reply(res, 200, { ok: true, result: true });
      case 'getUpdates': {
        if (webhook) return reply(res, 409, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active" });
        if (waiting) {
          // As Telegram: a second request ends the first one's. Counted when two long polls meet (two
          // pollers); a stopping poller's last short call may still find its own aborted poll here.
          if (Number(payload.timeout ?? 0) > 0) conflicts += 1;
          clearTimeout(waiting.timer);
          reply(waiting.res, 409, { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request' });
          waiting = null;
        }
        const offset = Number(payload.offset ?? 0);
        const limit = Number(payload.limit ?? 100);
        const ready = pending(offset, limit);
        const timeout = Number(payload.timeout ?? 0);
        if (ready.length > 0 || timeout <= 0) return reply(res, 200, { ok: true, result: ready });
        const timer = setTimeout(() => {
          if (waiting?.res === res) waiting = null;
          reply(res, 200, { ok: true, result: [] });
        }, timeout * 1000);
        waiting = { res, offset, limit, timer };
        // The bot aborts its long poll when it stops: the connection closes before an answer.
        res.on('close', () => { if (waiting?.res === res) { clearTimeout(timer); waiting = null; } });
        return;
      }
      case 'sendMessage':
      case 'sendPhoto': {
        const message: TgSent = {
          message_id: nextMessageId++,
          chat_id: String(payload.chat_id),
          text: String(payload.text ?? payload.caption ?? payload.photo ?? ''),
          buttons: buttonsOf(payload.reply_markup),
        };
        sent.push(message);
        return reply(res, 200, {
          ok: true,
          result: {
            message_id: message.message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(payload.chat_id), type: 'private' },
            from: BOT,
            text: message.text,
            ...(payload.reply_markup ? { reply_markup: payload.reply_markup } : {}),
          },
        });
      }
      case 'answerCallbackQuery':
        return reply(res, 200, { ok: true, result: true });
      case 'editMessageReplyMarkup': {
        const message = sent.find((m) => m.message_id === Number(payload.message_id) && m.chat_id === String(payload.chat_id));
        if (!message) return reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
        message.buttons = buttonsOf(payload.reply_markup);
        return reply(res, 200, { ok: true, result: { message_id: message.message_id, date: 0, chat: { id: Number(message.chat_id), type: 'private' }, text: message.text } });
      }
      default:
        return reply(res, 404, { ok: false, error_code: 404, description: `Not Found: method ${name}` });
    }
  }

  const server = createServer((req, res) => {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!match) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== token) return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    readJson(req).then(
      (payload) => method(match[2] ?? '', payload, res),
      () => reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: body is not JSON' }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function privateChat(user: TgTestUser): { id: number; type: string } {
    return { id: user.id, type: 'private' };
  }

  const fake: FakeTelegram = {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    calls,
    sentTo: (chatId) => sent.filter((m) => m.chat_id === String(chatId)),
    get webhook() { return webhook; },
    async say(user, text, chat = privateChat(user)) {
      const update = {
        update_id: nextUpdateId++,
        message: {
          message_id: nextMessageId++,
          date: Math.floor(Date.now() / 1000),
          chat,
          from: { is_bot: false, ...user },
          text,
          ...(text.startsWith('/') ? { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]?.length ?? 0 }] } : {}),
        },
      };
      await deliver(update);
      return update;
    },
    async press(user, message, buttonIndex) {
      const button = message.buttons[buttonIndex];
      if (!button) throw new Error(`message ${message.message_id} has no button ${buttonIndex}`);
      const update = {
        update_id: nextUpdateId++,
        callback_query: {
          id: `cb${nextUpdateId}`,
          from: { is_bot: false, ...user },
          chat_instance: 'ci1',
          data: button.callback_data,
          message: {
            message_id: message.message_id,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(message.chat_id), type: 'private' },
            from: BOT,
            text: message.text,
            reply_markup: { inline_keyboard: message.buttons.map((b) => [b]) },
          },
        },
      };
      await deliver(update);
      return update;
    },
    // As after a bot that handled an update but died before confirming it.
    redeliver: (update) => deliver(update, true),
    webhookResponses,
    failNext(name, code, times = 1) { failures.set(name, { code, times }); },
    get conflicts() { return conflicts; },
    async close() {
      if (waiting) { clearTimeout(waiting.timer); reply(waiting.res, 200, { ok: true, result: [] }); waiting = null; }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
