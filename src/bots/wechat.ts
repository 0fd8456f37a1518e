/**
 * The WeChat channel on wechaty: one-to-one chats are customers, rooms only when the bot is
 * @-mentioned; messages become Inbound (parse step) and Outbound becomes WeChat text (one `send`).
 * Only the process holding the channel lock logs in, receives and sends; the others stand by.
 */
import QRCode from 'qrcode';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScanStatus, types, WechatyBuilder, type PuppetModuleName, type Wechaty } from 'wechaty';
import type { ContactSelfInterface, MessageInterface } from 'wechaty/impls';
import type { ChannelSender } from '../conversations/delivery.ts';
import type { Log, Pipeline } from '../conversations/pipeline.ts';
import type { LockStore, OutboxDelivery } from '../store/types.ts';
import { ChannelError } from './channel-error.ts';
import { createChannelHolder, type ChannelHolder } from './channel-holder.ts';
import { assertNever, conversationIdOf, Outbound, type ConversationRef, type Inbound, type QuickReply } from './messages.ts';
import { PerKeySerial } from './serial.ts';
import { chosenOption, numberedOptions, orderCardText } from './text-render.ts';
import { TokenBucket } from './token-bucket.ts';

/** A wechaty puppet instance (tests pass wechaty-puppet-mock's). */
export type WechatPuppet = Wechaty['puppet'];

/** The puppets this adapter is known to work with; see docs/channels.md for which to choose. */
export const WECHAT_PUPPETS = ['wechaty-puppet-wechat4u', 'wechaty-puppet-service', 'wechaty-puppet-mock'] as const satisfies readonly PuppetModuleName[];

/** The WeChat channel's state, as the manager console shows it. */
export interface WechatStatus {
  state: 'standby' | 'starting' | 'waitingForScan' | 'loggedIn' | 'loggedOut' | 'stopped';
  /** The puppet in use. */
  puppet: string;
  /** The account logged in, while logged in. */
  user: { id: string; name: string } | null;
  /** The login QR code's content while a scan is awaited: show it as a QR code. */
  qrcode: string | null;
  /** ISO 8601 time the state last changed. */
  since: string;
  lastError: string | null;
}

/** What the WeChat channel is made of: the puppet, the pipeline and store parts it uses, and its limits. */
export interface WechatOptions {
  /** A puppet name (WECHATY_PUPPET) or a puppet instance. */
  puppet: string | WechatPuppet;
  /** WECHATY_PUPPET_SERVICE_TOKEN, for wechaty-puppet-service. */
  token?: string;
  pipeline: Pick<Pipeline, 'handle'>;
  /** The shared lock store: only the process holding the lock logs in. */
  locks: LockStore;
  /** The conversation's last deliveries, so a numbered answer still maps after a restart. */
  deliveries: (conversationId: string) => Promise<OutboxDelivery[]>;
  log: Log;
  /** Where customers' images are kept (`<uploadsDir>/wechat/<date>/<message>.<ext>`). */
  uploadsDir: string;
  /** The wechaty session file (login cookies; keep private), absolute; none in tests. */
  sessionFile?: string;
  /** Sending rate of this process; WeChat restricts accounts that send fast. Default 1/s, bursts of 5. */
  rate?: { perSecond: number; burst: number };
  /** Called when the channel can send again (after a login), so waiting outbox items go at once. */
  onReady?: () => void;
  /** Lock renewal and takeover timing (tests shorten them). */
  holder?: { ttlMs?: number; retryMs?: number };
}

/** The WeChat channel of this process. */
export interface WechatChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Login state, user and QR code, for the manager console. */
  status(): WechatStatus;
  /** Logs the account out (the console's logout button); a new QR code follows. */
  logout(): Promise<void>;
  /** The outbox's sender: ready only while logged in here. */
  sender: ChannelSender;
}

/** Images larger than this are not kept (a photo from a phone is a few MB). */
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Conversations whose last offered options are remembered in this process. */
const OPTIONS_REMEMBERED = 5000;
/** After a logout with no new QR code within this time, the puppet is restarted to get one. */
const RELOGIN_AFTER_MS = 30_000;

/** What a customer sent, when it is not text, as the pipeline sees it. */
const PLACEHOLDERS: Partial<Record<types.Message, string>> = {
  [types.Message.Image]: '[图片]',
  [types.Message.Audio]: '[语音]',
  [types.Message.Video]: '[视频]',
  [types.Message.Emoticon]: '[表情]',
  [types.Message.Attachment]: '[文件]',
};

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isKnownPuppet(name: string): name is (typeof WECHAT_PUPPETS)[number] {
  return (WECHAT_PUPPETS as readonly string[]).includes(name);
}

/** The options a conversation was last offered, from its last delivered message (same rule as in memory). */
function optionsFromDeliveries(log: OutboxDelivery[]): QuickReply[] | null {
  const last = log.at(-1);
  if (!last) return null;
  const parsed = Outbound.safeParse(last.message);
  return parsed.success && parsed.data.kind === 'quickReplies' ? parsed.data.options : null;
}

/**
 * Creates the WeChat channel. Nothing connects until `start`, and then only in the process that
 * takes the channel lock; throws RangeError for a puppet name it does not know.
 */
export function createWechatChannel(opts: WechatOptions): WechatChannel {
  const puppetName = typeof opts.puppet === 'string' ? opts.puppet : 'wechaty-puppet (instance)';
  if (typeof opts.puppet === 'string' && !isKnownPuppet(opts.puppet)) {
    throw new RangeError(`WECHATY_PUPPET: unknown puppet ${opts.puppet}; use one of ${WECHAT_PUPPETS.join(', ')}`);
  }
  const bucket = new TokenBucket(opts.rate?.perSecond ?? 1, opts.rate?.burst ?? 5);
  const serial = new PerKeySerial();
  /** conversation id -> the options of the last message sent there (null: the last had none). */
  const offered = new Map<string, QuickReply[] | null>();
  let bot: Wechaty | null = null;
  let relogin: NodeJS.Timeout | undefined;
  let status: WechatStatus = { state: 'standby', puppet: puppetName, user: null, qrcode: null, since: new Date().toISOString(), lastError: null };

  function setStatus(change: Partial<WechatStatus>): void {
    status = { ...status, ...change, since: change.state && change.state !== status.state ? new Date().toISOString() : status.since };
  }

  function remember(conversationId: string, options: QuickReply[] | null): void {
    offered.delete(conversationId);
    offered.set(conversationId, options);
    if (offered.size > OPTIONS_REMEMBERED) {
      const oldest = offered.keys().next().value;
      if (oldest !== undefined) offered.delete(oldest);
    }
  }

  /**
   * The options to map a typed number to. In memory while this process holds WeChat (it both
   * sends and receives, so it knows the last message); after a restart or takeover, from the
   * outbox's delivery log in the store.
   */
  async function lastOptions(conversationId: string): Promise<QuickReply[] | null> {
    if (offered.has(conversationId)) return offered.get(conversationId) ?? null;
    try {
      return optionsFromDeliveries(await opts.deliveries(conversationId));
    } catch {
      return null;
    }
  }

  /** Keeps a customer's image under uploadsDir; returns its reference for the transcript. */
  async function keepImage(message: MessageInterface, at: Date): Promise<string> {
    const file = await message.toFileBox();
    const data = await file.toBuffer();
    if (data.length > MAX_IMAGE_BYTES) throw new Error(`image of ${data.length} bytes is over the limit`);
    const ext = (path.extname(file.name).toLowerCase().match(/^\.(jpe?g|png|gif|webp|heic)$/)?.[0]) ?? '.jpg';
    const day = at.toISOString().slice(0, 10);
    const name = `${message.id.replace(/[^\w-]/g, '_').slice(0, 100)}${ext}`;
    const dir = path.join(opts.uploadsDir, 'wechat', day);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, name), data);
    return `uploads/wechat/${day}/${name}`;
  }

  /** The parse step: a WeChat message as Inbound, or null when the bot must not answer it. */
  async function parse(message: MessageInterface): Promise<Inbound | null> {
    if (message.self()) return null;
    const talker = message.talker();
    if (talker.self() || talker.type() === types.Contact.Official) return null;
    const room = message.room();
    if (room && !(await message.mentionSelf())) return null;
    const type = message.type();
    const at = message.date();
    let text: string;
    let imageUrl: string | undefined;
    if (type === types.Message.Text) {
      text = room ? await message.mentionText() : message.text();
    } else {
      const placeholder = PLACEHOLDERS[type];
      if (!placeholder) return null; // recalls, system notes, transfers: nothing to answer
      text = placeholder;
      if (type === types.Message.Image) {
        imageUrl = await keepImage(message, at).catch((error: unknown) => {
          opts.log.warn({ messageId: message.id, err: reason(error) }, 'WeChat image not kept; only referenced');
          return `wechat-message:${message.id}`;
        });
      }
    }
    const alias = await talker.alias().catch(() => undefined);
    const displayName = (alias || talker.name() || '').slice(0, 100);
    const ref: ConversationRef = { channel: 'wechat', chatId: room ? room.id : talker.id, userId: talker.id };
    const chosen = chosenOption(text, await lastOptions(conversationIdOf(ref)));
    return {
      id: `wx:${message.id}`,
      ref,
      customer: displayName ? { displayName } : {},
      text: (chosen ? chosen.value : text).slice(0, 4000),
      ...(imageUrl ? { imageUrl } : {}),
      at: at.toISOString(),
    };
  }

  /** The one send: switches over the kind, throws on an unknown one. */
  async function send(ref: ConversationRef, message: Outbound, signal?: AbortSignal): Promise<void> {
    const current = bot;
    if (!current?.isLoggedIn) throw new ChannelError('wechat', 'not logged in', { retryable: true });
    let text: string;
    let options: QuickReply[] | null = null;
    switch (message.kind) {
      case 'text': text = message.text; break;
      case 'quickReplies': text = numberedOptions(message.text, message.options); options = message.options; break;
      case 'orderCard': text = orderCardText(message.text, message.order); break;
      // Sent as a link: sending the file needs file-box, not one of our dependencies (docs/channels.md).
      case 'image': text = [message.caption, message.url].filter(Boolean).join('\n'); break;
      default: return assertNever(message);
    }
    await bucket.take(signal);
    signal?.throwIfAborted();
    try {
      const inRoom = ref.chatId !== ref.userId;
      await current.puppet.messageSendText(ref.chatId, text, inRoom ? [ref.userId] : undefined);
    } catch (error) {
      throw new ChannelError('wechat', reason(error), { retryable: true, cause: error });
    }
    remember(conversationIdOf(ref), options);
  }

  async function onMessage(message: MessageInterface): Promise<void> {
    let inbound: Inbound | null;
    try {
      inbound = await parse(message);
    } catch (error) {
      opts.log.warn({ messageId: message.id, err: reason(error) }, 'WeChat message not understood; ignored');
      return;
    }
    if (!inbound) return;
    const ready = inbound;
    await serial.run(conversationIdOf(ready.ref), async () => {
      const turn = await opts.pipeline.handle(ready);
      if (turn.queued || turn.duplicate) return;
      // Not queued (store down, turn failed): the apology goes out from here, or the customer hears nothing.
      for (const reply of turn.replies) {
        await send(ready.ref, reply).catch((error: unknown) => {
          opts.log.warn({ conversationId: conversationIdOf(ready.ref), err: reason(error) }, 'WeChat reply not sent');
        });
      }
    });
  }

  function build(): Wechaty {
    const puppet = opts.puppet;
    const instance = typeof puppet === 'string'
      ? WechatyBuilder.build({
        puppet: puppet as PuppetModuleName,
        ...(opts.token ? { puppetOptions: { token: opts.token } } : {}),
        ...(opts.sessionFile ? { name: opts.sessionFile } : {}),
      })
      : WechatyBuilder.build({ puppet, ...(opts.sessionFile ? { name: opts.sessionFile } : {}) });
    // Events of an instance this process already let go of (a late logout while stopping) change nothing.
    instance.on('scan', (qrcode: string, scan: ScanStatus) => {
      if (bot !== instance || (scan !== ScanStatus.Waiting && scan !== ScanStatus.Timeout)) return;
      setStatus({ state: 'waitingForScan', qrcode, user: null });
      opts.log.info({ qrcode }, 'WeChat: scan the login QR code (printed below, and in the manager console) with the shop account');
      // The operator at the terminal scans it there; stderr keeps it out of the JSON log lines.
      void QRCode.toString(qrcode, { type: 'terminal', small: true }).then((art) => process.stderr.write(`\n${art}\n`)).catch(() => undefined);
    });
    instance.on('login', (user: ContactSelfInterface) => {
      if (bot !== instance) return;
      clearTimeout(relogin);
      setStatus({ state: 'loggedIn', user: { id: user.id, name: user.name() }, qrcode: null, lastError: null });
      opts.log.info({ user: user.name() }, 'WeChat logged in');
      opts.onReady?.();
    });
    instance.on('logout', (user: ContactSelfInterface, why?: string) => {
      if (bot !== instance) return;
      setStatus({ state: 'loggedOut', user: null });
      // Outgoing messages wait in the outbox until the next login (the sender is not ready).
      opts.log.warn({ user: user.name(), reason: why }, 'WeChat logged out; messages wait in the outbox');
      clearTimeout(relogin);
      relogin = setTimeout(() => void restartForLogin(instance), RELOGIN_AFTER_MS);
      relogin.unref();
    });
    instance.on('error', (error: Error) => {
      if (bot !== instance) return;
      setStatus({ lastError: reason(error) });
      opts.log.warn({ err: reason(error) }, 'WeChat error');
    });
    instance.on('message', (message: MessageInterface) => {
      if (bot !== instance) return;
      void onMessage(message).catch((error: unknown) => opts.log.error({ err: reason(error) }, 'WeChat message handling failed'));
    });
    return instance;
  }

  /** A puppet that dropped the login and offers no new QR code is restarted, so one comes. */
  async function restartForLogin(instance: Wechaty): Promise<void> {
    if (bot !== instance || status.state !== 'loggedOut') return;
    opts.log.info({}, 'WeChat: no new login QR code after the logout; restarting the puppet');
    try {
      await instance.stop();
      if (bot === instance) await instance.start();
    } catch (error) {
      setStatus({ lastError: reason(error) });
      opts.log.warn({ err: reason(error) }, 'WeChat restart failed');
    }
  }

  const holder: ChannelHolder = createChannelHolder({
    locks: opts.locks,
    key: 'channel:wechat',
    log: opts.log,
    ...opts.holder,
    async onAcquired() {
      setStatus({ state: 'starting', lastError: null });
      if (opts.sessionFile) await mkdir(path.dirname(opts.sessionFile), { recursive: true });
      const instance = build();
      bot = instance;
      try {
        await instance.start();
      } catch (error) {
        bot = null;
        setStatus({ state: 'standby', lastError: reason(error) });
        throw error;
      }
    },
    async onReleased() {
      const instance = bot;
      bot = null;
      clearTimeout(relogin);
      setStatus({ state: 'standby', user: null, qrcode: null });
      await serial.idle();
      await instance?.stop();
    },
  });

  return {
    start: () => holder.start(),
    async stop() {
      await holder.stop();
      setStatus({ state: 'stopped' });
    },
    status: () => ({ ...status, user: status.user ? { ...status.user } : null }),
    async logout() {
      await bot?.logout();
    },
    sender: {
      send,
      ready: () => bot?.isLoggedIn === true,
      // What one process sends within a lease at the default rate.
      batch: 10,
    },
  };
}
