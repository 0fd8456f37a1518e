/**
 * The Telegram channel on telegraf: long polling (one process, by the channel lock) or a webhook
 * (every process; the express route checks Telegram's secret-token header). Updates become
 * Inbound (parse step); Outbound becomes messages with inline keyboards (one `send`).
 */
import { createHash } from 'node:crypto';
import { Telegraf, TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import { z } from 'zod';
import type { ChannelSender } from '../conversations/delivery.ts';
import type { Log, Pipeline } from '../conversations/pipeline.ts';
import type { LockStore } from '../store/types.ts';
import { ChannelError } from './channel-error.ts';
import { createChannelHolder, type ChannelHolder } from './channel-holder.ts';
import { assertNever, conversationIdOf, type ConversationRef, type Inbound, type Lang, type Outbound, type QuickReply } from './messages.ts';
import { PerKeySerial } from './serial.ts';
import { TELEGRAM_WEBHOOK_PATH, type TelegramWebhook } from './telegram-webhook.ts';
import { orderCardText } from './text-render.ts';
import { TokenBucket } from './token-bucket.ts';

/** The updates the bot asks for. */
const ALLOWED_UPDATES = ['message', 'callback_query'] as const;
/** Telegram's limit on a button's callback data, in bytes. */
const CALLBACK_DATA_MAX = 64;

/** The Telegram channel's state, as the manager console shows it. */
export interface TelegramStatus {
  mode: 'polling' | 'webhook';
  /** `standby`: another process polls. */
  state: 'standby' | 'starting' | 'running' | 'stopped';
  /** The bot's @username, once known. */
  username: string | null;
  since: string;
  lastError: string | null;
}

/** What the Telegram channel is made of: token and mode, the pipeline, the lock store, its limits. */
export interface TelegramOptions {
  token: string;
  /** TELEGRAM_WEBHOOK_URL: set = webhook mode, else long polling. */
  webhookUrl?: string;
  /** TELEGRAM_API_ROOT: another Bot API server (a local one in tests, a self-hosted one). */
  apiRoot?: string;
  /** The webhook's secret token; default derived from the bot token. */
  webhookSecret?: string;
  pipeline: Pick<Pipeline, 'handle'>;
  /** The shared lock store: one process polls. */
  locks: LockStore;
  log: Log;
  /** Sending rate of this process (Telegram: about 30 messages a second per bot). */
  rate?: { perSecond: number; burst: number };
  /** Lock renewal and takeover timing (tests shorten them). */
  holder?: { ttlMs?: number; retryMs?: number };
}

/** The Telegram channel of this process. */
export interface TelegramChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): TelegramStatus;
  /** Present in webhook mode. */
  webhook: TelegramWebhook | null;
  sender: ChannelSender;
}

/** The webhook secret for a bot token: stable across processes and restarts, useless without the token. */
export function webhookSecretFor(token: string): string {
  return createHash('sha256').update(`telegram-webhook|${token}`).digest('hex');
}

/** `zh` for Chinese language codes (zh, zh-hans, zh-TW ...), `en` for every other one. */
export function langOfCode(code: string | undefined): Lang | undefined {
  if (!code) return undefined;
  return /^zh\b/i.test(code) ? 'zh' : 'en';
}

// The parse step's view of an update: only the fields used, checked.
const TgUser = z.object({
  id: z.number(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
  language_code: z.string().optional(),
});
const TgChat = z.object({ id: z.number(), type: z.string() });
const TgButton = z.object({ text: z.string(), callback_data: z.string().optional() });
const TgMessage = z.object({
  message_id: z.number(),
  date: z.number(),
  chat: TgChat,
  from: TgUser.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  photo: z.array(z.object({ file_id: z.string() })).optional(),
  voice: z.object({ file_id: z.string() }).optional(),
  sticker: z.object({ file_id: z.string() }).optional(),
  reply_to_message: z.object({ from: TgUser.optional() }).optional(),
  reply_markup: z.object({ inline_keyboard: z.array(z.array(TgButton)) }).optional(),
});
const TgUpdate = z.object({
  update_id: z.number(),
  message: TgMessage.optional(),
  callback_query: z.object({
    id: z.string(),
    from: TgUser,
    data: z.string().optional(),
    message: TgMessage.optional(),
  }).optional(),
});
type TgUser = z.infer<typeof TgUser>;
type TgMessage = z.infer<typeof TgMessage>;

/** What an update asks of the adapter. */
type Parsed =
  | { kind: 'ignore' }
  | { kind: 'message'; inbound: Inbound }
  | { kind: 'choice'; inbound: Inbound; callbackId: string; chatId: number; messageId: number | undefined };

/** A button's callback data: the option's value when it fits, else its position (mapped back by label). */
export function callbackDataOf(option: QuickReply, index: number): string {
  const data = `v:${option.value}`;
  return Buffer.byteLength(data) <= CALLBACK_DATA_MAX ? data : `i:${index}`;
}

/** The value a pressed button stands for, from its data (and the message's keyboard for long values). */
function choiceOf(data: string, message: TgMessage | undefined): string | null {
  if (data.startsWith('v:')) return data.slice(2) || null;
  const index = /^i:(\d+)$/.exec(data)?.[1];
  if (index === undefined) return null;
  return message?.reply_markup?.inline_keyboard.flat()[Number(index)]?.text ?? null;
}

function nameOf(user: TgUser): string | undefined {
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || user.username;
  return name ? name.slice(0, 100) : undefined;
}

function customerOf(user: TgUser): Inbound['customer'] {
  const displayName = nameOf(user);
  const languageHint = langOfCode(user.language_code);
  return { ...(displayName ? { displayName } : {}), ...(languageHint ? { languageHint } : {}) };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A failed Bot API call as ChannelError. Blocked by the customer (403) or a request Telegram
 * refuses (400: chat not found, message too long) do not get better by retrying; anything else
 * may (a wrong token, 401, is fixed by the operator, and the messages should still be there).
 */
function channelError(error: unknown): ChannelError {
  if (error instanceof TelegramError) {
    const retryable = error.code !== 400 && error.code !== 403;
    return new ChannelError('telegram', `${error.code} ${error.description}`, { retryable, cause: error });
  }
  return new ChannelError('telegram', reason(error), { retryable: true, cause: error });
}

/**
 * Creates the Telegram channel. `start` registers the webhook (webhook mode) or polls once this
 * process holds the channel lock (polling mode); sending works in every process.
 */
export function createTelegramChannel(opts: TelegramOptions): TelegramChannel {
  const mode = opts.webhookUrl ? 'webhook' : 'polling';
  const bot = new Telegraf(opts.token, { telegram: { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}), webhookReply: false } });
  const bucket = new TokenBucket(opts.rate?.perSecond ?? 25, opts.rate?.burst ?? 30);
  const serial = new PerKeySerial();
  const secret = opts.webhookSecret ?? webhookSecretFor(opts.token);
  let status: TelegramStatus = { mode, state: 'standby', username: null, since: new Date().toISOString(), lastError: null };
  let polling: Promise<void> | null = null;
  let stopped = true;

  function setStatus(change: Partial<TelegramStatus>): void {
    status = { ...status, ...change, since: change.state && change.state !== status.state ? new Date().toISOString() : status.since };
  }

  /** In groups the bot answers only when addressed: @-mentioned, replied to, or a command to it. */
  function addressedText(message: TgMessage, text: string): string | null {
    if (message.chat.type === 'private') return text;
    const me = bot.botInfo;
    if (!me) return null;
    const mention = `@${me.username}`;
    if (text.includes(mention)) return text.replace(mention, '').trim();
    if (message.reply_to_message?.from?.id === me.id) return text;
    return null;
  }

  /** The parse step: an update as Inbound, or what to ignore. */
  function parse(raw: unknown): Parsed {
    const parsed = TgUpdate.safeParse(raw);
    if (!parsed.success) return { kind: 'ignore' };
    const update = parsed.data;
    const id = `tg:${update.update_id}`;
    const query = update.callback_query;
    if (query) {
      const value = query.data ? choiceOf(query.data, query.message) : null;
      const chat = query.message?.chat;
      if (!value || !chat) return { kind: 'ignore' };
      const ref: ConversationRef = { channel: 'telegram', chatId: String(chat.id), userId: String(query.from.id) };
      const at = new Date().toISOString();
      return {
        kind: 'choice',
        inbound: { id, ref, customer: customerOf(query.from), text: value.slice(0, 4000), at },
        callbackId: query.id,
        chatId: chat.id,
        messageId: query.message?.message_id,
      };
    }
    const message = update.message;
    if (!message?.from || message.from.is_bot) return { kind: 'ignore' };
    const customer = customerOf(message.from);
    let text = message.text ?? message.caption;
    let imageUrl: string | undefined;
    const photo = message.photo?.at(-1);
    if (photo) {
      // A reference: the file is fetched with getFile (and the token) when someone looks at it.
      imageUrl = `telegram-file:${photo.file_id}`;
      text ??= '[图片]';
    } else if (message.voice) text ??= '[语音]';
    else if (message.sticker) text ??= '[表情]';
    if (text === undefined) return { kind: 'ignore' };
    const addressed = addressedText(message, text);
    if (addressed === null) return { kind: 'ignore' };
    // /start is the customer's hello: it goes through the pipeline as a greeting in their language.
    const command = /^\/start(@\w+)?(\s|$)/.exec(addressed);
    const said = command ? (customer.languageHint === 'en' ? 'hello' : '你好') : addressed;
    const ref: ConversationRef = { channel: 'telegram', chatId: String(message.chat.id), userId: String(message.from.id) };
    return {
      kind: 'message',
      inbound: { id, ref, customer, text: said.slice(0, 4000), ...(imageUrl ? { imageUrl } : {}), at: new Date(message.date * 1000).toISOString() },
    };
  }

  /** The one send: switches over the kind, throws on an unknown one. */
  async function send(ref: ConversationRef, message: Outbound, signal?: AbortSignal): Promise<void> {
    await bucket.take(signal);
    signal?.throwIfAborted();
    try {
      switch (message.kind) {
        case 'text':
          await bot.telegram.sendMessage(ref.chatId, message.text);
          return;
        case 'quickReplies':
          await bot.telegram.sendMessage(ref.chatId, message.text, {
            reply_markup: { inline_keyboard: message.options.map((o, i) => [{ text: o.label, callback_data: callbackDataOf(o, i) }]) },
          });
          return;
        case 'orderCard':
          await bot.telegram.sendMessage(ref.chatId, orderCardText(message.text, message.order));
          return;
        case 'image':
          await bot.telegram.sendPhoto(ref.chatId, message.url, message.caption ? { caption: message.caption } : {});
          return;
        default:
          return assertNever(message);
      }
    } catch (error) {
      throw channelError(error);
    }
  }

  async function run(parsed: Exclude<Parsed, { kind: 'ignore' }>): Promise<void> {
    if (parsed.kind === 'choice') {
      // Answer at once (the button stops spinning), and take the keyboard away so it is not chosen twice.
      await bot.telegram.answerCbQuery(parsed.callbackId).catch((error: unknown) => opts.log.warn({ err: reason(error) }, 'Telegram callback not answered'));
      if (parsed.messageId !== undefined) {
        await bot.telegram.editMessageReplyMarkup(parsed.chatId, parsed.messageId, undefined, { inline_keyboard: [] })
          .catch((error: unknown) => opts.log.warn({ err: reason(error) }, 'Telegram keyboard not removed'));
      }
    }
    const { inbound } = parsed;
    const turn = await opts.pipeline.handle(inbound);
    if (turn.queued || turn.duplicate) return;
    // Not queued (store down, turn failed): the apology goes out from here, or the customer hears nothing.
    for (const reply of turn.replies) {
      await send(inbound.ref, reply).catch((error: unknown) => {
        opts.log.warn({ conversationId: conversationIdOf(inbound.ref), err: reason(error) }, 'Telegram reply not sent');
      });
    }
  }

  bot.use(async (ctx) => {
    const parsed = parse(ctx.update);
    if (parsed.kind === 'ignore') return;
    // One chat's updates in arrival order; telegraf hands a batch over all at once.
    await serial.run(conversationIdOf(parsed.inbound.ref), () => run(parsed));
  });
  bot.catch((error) => {
    opts.log.error({ err: reason(error) }, 'Telegram update handling failed');
  });

  async function launchPolling(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const launched = bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] }, () => resolve());
      polling = launched.then(
        () => undefined,
        (error: unknown) => {
          reject(error);
          if (stopped || !holder.holding()) return;
          // Polling ended by itself (network, 409 while another poller was still running): try again.
          setStatus({ lastError: reason(error) });
          opts.log.warn({ err: reason(error) }, 'Telegram polling stopped; starting it again in 5 s');
          setTimeout(() => { if (!stopped && holder.holding()) void launchPolling().catch(() => undefined); }, 5000).unref();
        },
      );
    });
    setStatus({ state: 'running', username: bot.botInfo?.username ?? null, lastError: null });
  }

  const holder: ChannelHolder = createChannelHolder({
    locks: opts.locks,
    key: `channel:telegram:${opts.token.split(':')[0] ?? ''}`,
    log: opts.log,
    ...opts.holder,
    async onAcquired() {
      setStatus({ state: 'starting' });
      await launchPolling();
    },
    async onReleased() {
      setStatus({ state: stopped ? 'stopped' : 'standby' });
      const running = polling;
      polling = null;
      if (running) {
        try { bot.stop('channel released'); } catch { /* not running any more */ }
        await running;
      }
      await serial.idle();
    },
  });

  /** Webhook mode: tells Telegram where to post (every process does the same; harmless). */
  async function registerWebhook(url: string): Promise<void> {
    setStatus({ state: 'starting' });
    try {
      bot.botInfo ??= await bot.telegram.getMe();
      await bot.telegram.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] });
      setStatus({ state: 'running', username: bot.botInfo.username, lastError: null });
    } catch (error) {
      setStatus({ lastError: reason(error) });
      opts.log.warn({ err: reason(error) }, 'Telegram webhook not registered; trying again in 30 s');
      setTimeout(() => { if (!stopped) void registerWebhook(url); }, 30_000).unref();
    }
  }

  const webhookUrl = opts.webhookUrl;
  return {
    async start() {
      stopped = false;
      if (!webhookUrl) return holder.start();
      if (new URL(webhookUrl).pathname !== TELEGRAM_WEBHOOK_PATH) {
        opts.log.warn({ url: webhookUrl, path: TELEGRAM_WEBHOOK_PATH }, 'TELEGRAM_WEBHOOK_URL does not end in the path this server listens on; a proxy must map it');
      }
      await registerWebhook(webhookUrl);
    },
    async stop() {
      stopped = true;
      // The webhook stays registered: other processes may still serve it.
      await holder.stop();
      await serial.idle();
      setStatus({ state: 'stopped' });
    },
    status: () => ({ ...status }),
    webhook: webhookUrl
      ? {
        secret,
        async handle(update) {
          if (stopped) throw new ChannelError('telegram', 'stopped', { retryable: true });
          // Checked here too: telegraf would build a context even for a body that is no update.
          if (!TgUpdate.safeParse(update).success) return;
          await bot.handleUpdate(update as Update);
        },
      }
      : null,
    sender: { send, ready: () => !stopped },
  };
}
