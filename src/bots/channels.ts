/** The platform channels (WeChat, Telegram) made from the configuration, for the composition root to start, stop and show. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { ChannelSender } from '../conversations/delivery.ts';
import type { Log, Pipeline } from '../conversations/pipeline.ts';
import type { Store } from '../store/types.ts';
import type { Channel } from './messages.ts';
// Types only: a platform's library is loaded when its channel is configured (wechaty alone is
// 30 MB of heap, which every process would otherwise carry and every full GC walk).
import type { TelegramChannel, TelegramStatus } from './telegram.ts';
import type { WechatChannel, WechatPuppet, WechatStatus } from './wechat.ts';

/** The repository's data folder: customers' images and the WeChat session live under it. */
const DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url));

/** How long `start` waits for a channel before it goes on in the background (a puppet may be slow to come up). */
const START_WAIT_MS = 10_000;

/** What callers other than the environment decide: test doubles and timings. */
export interface ChannelOptions {
  /** A wechaty puppet instance (tests: wechaty-puppet-mock); turns WeChat on even without WECHATY_PUPPET. */
  wechatPuppet?: WechatPuppet;
  /** Where customers' images are kept; default data/uploads. */
  uploadsDir?: string;
  /** Sending rates per process. */
  wechatRate?: { perSecond: number; burst: number };
  /** Channel lock timing (tests shorten it). */
  holder?: { ttlMs?: number; retryMs?: number };
}

/** The parts of the bot the channels use. */
export interface ChannelDeps {
  pipeline: Pick<Pipeline, 'handle'>;
  store: Store;
  log: Log;
  /** A channel can send again (WeChat logged in): deliver what waits. */
  onReady: () => void;
}

/** This process's platform channels. */
export interface Channels {
  wechat: WechatChannel | null;
  telegram: TelegramChannel | null;
  /** The outbox senders of the configured channels. */
  senders: Partial<Record<Channel, ChannelSender>>;
  /** Login and connection state, for the manager console. */
  status(): { wechat: WechatStatus | null; telegram: TelegramStatus | null };
  /** One line per channel for the start-up log. */
  describe(): { wechat: string; telegram: string };
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Makes the channels the configuration turns on (and a test's puppet), loading only their
 * platforms' libraries; none starts before `start`.
 */
export async function createChannels(config: Config, deps: ChannelDeps, opts: ChannelOptions = {}): Promise<Channels> {
  const puppet = opts.wechatPuppet ?? config.WECHATY_PUPPET;
  const wechat = puppet
    ? (await import('./wechat.ts')).createWechatChannel({
      puppet,
      ...(config.WECHATY_PUPPET_SERVICE_TOKEN ? { token: config.WECHATY_PUPPET_SERVICE_TOKEN } : {}),
      pipeline: deps.pipeline,
      locks: deps.store.locks,
      deliveries: (conversationId) => deps.store.outbox.deliveries(conversationId, 20),
      log: deps.log,
      uploadsDir: opts.uploadsDir ?? path.join(DATA_DIR, 'uploads'),
      // A real account's session survives restarts (no new scan); the file holds login cookies.
      ...(typeof puppet === 'string' && puppet !== 'wechaty-puppet-mock' ? { sessionFile: path.join(DATA_DIR, 'wechat', 'session') } : {}),
      ...(opts.wechatRate ? { rate: opts.wechatRate } : {}),
      onReady: deps.onReady,
      ...(opts.holder ? { holder: opts.holder } : {}),
    })
    : null;
  const telegram = config.TELEGRAM_BOT_TOKEN
    ? (await import('./telegram.ts')).createTelegramChannel({
      token: config.TELEGRAM_BOT_TOKEN,
      ...(config.TELEGRAM_WEBHOOK_URL ? { webhookUrl: config.TELEGRAM_WEBHOOK_URL } : {}),
      ...(config.TELEGRAM_API_ROOT ? { apiRoot: config.TELEGRAM_API_ROOT } : {}),
      pipeline: deps.pipeline,
      locks: deps.store.locks,
      log: deps.log,
      ...(opts.holder ? { holder: opts.holder } : {}),
    })
    : null;

  async function startBounded(name: string, start: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const started = start().catch((error: unknown) => {
      deps.log.error({ channel: name, err: error instanceof Error ? error.message : String(error) }, 'channel did not start');
    });
    await Promise.race([started, new Promise<void>((resolve) => { timer = setTimeout(resolve, START_WAIT_MS); })]);
    clearTimeout(timer);
  }

  return {
    wechat,
    telegram,
    senders: { ...(wechat ? { wechat: wechat.sender } : {}), ...(telegram ? { telegram: telegram.sender } : {}) },
    status: () => ({ wechat: wechat?.status() ?? null, telegram: telegram?.status() ?? null }),
    describe: () => ({
      wechat: wechat
        ? `on (${typeof puppet === 'string' ? puppet : 'puppet instance'}; the process holding the channel lock logs in: scan its QR code from the log or the manager console)`
        : 'off (set WECHATY_PUPPET)',
      telegram: telegram
        ? `on (${config.TELEGRAM_WEBHOOK_URL ? `webhook ${config.TELEGRAM_WEBHOOK_URL}` : 'long polling by the process holding the channel lock'}${config.TELEGRAM_API_ROOT ? `, Bot API at ${config.TELEGRAM_API_ROOT}` : ''})`
        : 'off (set TELEGRAM_BOT_TOKEN)',
    }),
    async start() {
      await Promise.all([
        wechat ? startBounded('wechat', () => wechat.start()) : undefined,
        telegram ? startBounded('telegram', () => telegram.start()) : undefined,
      ]);
    },
    async stop() {
      await Promise.all([wechat?.stop(), telegram?.stop()]);
    },
  };
}
