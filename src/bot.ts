/** Wires the parts into one bot (the composition root used by `npm start`, `npm run chat` and tests). */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { fileURLToPath } from 'node:url';
import { toWebReply, webTopic } from './bots/webchat.ts';
import type { Config } from './config.ts';
import { createDemoShop, DEMO_BASE_TIME, DEMO_SHOP_PATH, loadShopData, rebaseShopData } from './commerce/demo-shop.ts';
import type { Shop } from './commerce/shop.ts';
import { createDelivery, type Delivery, type Sender } from './conversations/delivery.ts';
import { createPipeline, type Pipeline } from './conversations/pipeline.ts';
import { compileLibrary, type CompiledLibrary } from './flows/compile.ts';
import { parseLibrary, readLibraryDir } from './flows/loader.ts';
import { shopActions, shopGuards } from './flows/shop-actions.ts';
import { createApp } from './server/app.ts';
import { createAuth, type Auth } from './server/auth.ts';
import { staffRoutes } from './server/staff-routes.ts';
import { handoverRoutes } from './server/handover-routes.ts';
import { createHandoverDesk, HANDOVER_TOPIC, type HandoverDesk } from './handover/desk.ts';
import { loadHandoverConfig } from './handover/config.ts';
import { createMetrics, type Metrics } from './server/metrics.ts';
import { createMemoryStore } from './store/memory.ts';
import { createRedisStore } from './store/redis.ts';
import type { Store } from './store/types.ts';
import { understand } from './understanding/understand.ts';

export const DEFAULT_LIBRARY_DIR = fileURLToPath(new URL('../scripts/', import.meta.url));

export interface Bot {
  config: Config;
  store: Store;
  shop: Shop;
  pipeline: Pipeline;
  delivery: Delivery;
  metrics: Metrics;
  library: () => CompiledLibrary;
  app: ReturnType<typeof createApp>;
  desk: HandoverDesk;
  auth: Auth;
  /** Starts the HTTP server and the outbox deliverer; resolves with the server once it listens. */
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

export interface BotOptions {
  log: Logger;
  now?: () => Date;
  /** A store made by the caller (tests); otherwise from REDIS_URL or in memory. */
  store?: Store;
  shop?: Shop;
}

/** Loads the library from a folder and resolves its names against the shipped actions and guards. */
export async function loadLibrary(dir: string): Promise<CompiledLibrary> {
  return compileLibrary(parseLibrary(await readLibraryDir(dir)), shopActions, shopGuards);
}

/**
 * The shop data: the given file as it is, or the shipped demo shop moved in time so that its
 * "now" is today (orders stay "delivered 2 days ago", promotions stay current).
 */
async function demoOrFileData(file: string | undefined, now: Date) {
  if (file) return loadShopData(file);
  return rebaseShopData(await loadShopData(DEMO_SHOP_PATH), new Date(DEMO_BASE_TIME), now);
}

export async function createBot(config: Config, opts: BotOptions): Promise<Bot> {
  const { log } = opts;
  const now = opts.now ?? (() => new Date());
  if (config.SHOP_BACKEND_URL) {
    throw new Error('SHOP_BACKEND_URL: the HTTP shop adapter is not part of this version yet; unset it to use SHOP_DATA or the demo shop');
  }
  const store = opts.store ?? (config.REDIS_URL ? await createRedisStore(config.REDIS_URL) : createMemoryStore({ now: () => now().getTime() }));
  const shop = opts.shop ?? createDemoShop(await demoOrFileData(config.SHOP_DATA, now()), { now });
  const libraryDir = config.LIBRARY_DIR ?? DEFAULT_LIBRARY_DIR;
  const compiled = await loadLibrary(libraryDir);
  const library = (): CompiledLibrary => compiled;
  const handoverConfig = loadHandoverConfig(await readLibraryDir(libraryDir), compiled.content.forbidden);
  const metrics = createMetrics();
  const auth = createAuth(store.docs, now);
  const desk = createHandoverDesk({
    docs: store.docs,
    bus: store.bus,
    config: () => handoverConfig,
    timeZone: config.TZ_SHOP,
    now,
    forbidden: () => library().content.forbidden,
    conversations: () => ({
      sendAgentReply: (ref, text, by) => pipeline.sendLater(ref, { kind: 'text', text }, 'agent', by),
      giveBack: (conversationId, how, ticketId) => pipeline.giveBack(conversationId, how, ticketId),
    }),
  });

  const pipeline = createPipeline({
    store, library, shop, now, log,
    understand: (text, lib) => understand(text, { classifier: lib.classifier }),
    inlineChannels: new Set(['web']),
    observer: {
      ...metrics.observer,
      // A customer writing while a person has the conversation: the agent console shows it live.
      customerMessageInHumanMode: ({ conversationId, text }) => {
        void store.bus.publish(HANDOVER_TOPIC, { type: 'message', conversationId, message: { from: 'customer', text, at: now().toISOString() } }).catch(() => undefined);
      },
    },
    tickets: desk,
    handoverTexts: () => handoverConfig.texts,
    onSatisfaction: (ticketId, score) => desk.satisfaction(ticketId, score),
    // Called only after start, when `delivery` below exists.
    onQueued: () => delivery.kick(),
  });
  // The web chat's later messages go out on the bus; whichever process holds the SSE connection forwards them.
  const webSender: Sender = async (ref, message) => {
    await store.bus.publish(webTopic(ref.chatId), { ...toWebReply(message, message.from) });
  };
  const delivery = createDelivery({ store, pipeline, senders: { web: webSender }, log, onDelivered: metrics.delivered, now: () => now().getTime() });
  const app = createApp({
    pipeline, store, shop, metrics, log, now,
    apiRouters: [
      staffRoutes(auth, { secureCookies: false }),
      handoverRoutes({ auth, desk, store, shop, config: () => handoverConfig }),
    ],
  });
  const firstManager = await auth.ensureFirstManager({ username: config.ADMIN_USER, password: config.ADMIN_PASSWORD });
  if (firstManager.created) {
    log.info({ manager: firstManager.username }, firstManager.password
      ? `first manager account created: ${firstManager.username} / ${firstManager.password} (demo; set ADMIN_USER and ADMIN_PASSWORD to choose)`
      : `first manager account created: ${firstManager.username}`);
  }

  log.info({
    store: store.kind === 'memory' ? 'memory (demo: conversations are lost on restart; set REDIS_URL for Redis)' : 'redis',
    shop: opts.shop ? 'custom' : config.SHOP_DATA ? `file ${config.SHOP_DATA}` : 'demo shop (data/demo-shop.json)',
    library: `${libraryDir} (${compiled.flows.size} flows, ${compiled.content.intents.length} intents, ${compiled.content.faq.length} FAQ entries)`,
    channels: {
      web: 'on',
      wechat: config.WECHATY_PUPPET ? 'configured, but not part of this version yet' : 'off (set WECHATY_PUPPET)',
      telegram: config.TELEGRAM_BOT_TOKEN ? 'configured, but not part of this version yet' : 'off (set TELEGRAM_BOT_TOKEN)',
    },
    llm: config.OPENAI_API_KEY ? 'configured, but not part of this version yet' : 'off (set OPENAI_API_KEY)',
  }, 'bot ready');

  let server: Server | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  return {
    config, store, shop, pipeline, delivery, metrics, library, app, desk, auth,
    listen(port = config.PORT) {
      delivery.start();
      // Overdue tickets rise and tickets of an ended shift roll over; any process may do it.
      sweeper = setInterval(() => { void desk.sweep().catch((error: unknown) => log.warn({ err: String(error) }, 'handover sweep failed')); }, 10_000);
      return new Promise((resolve, reject) => {
        const s = app.listen(port, '0.0.0.0', () => resolve(s));
        s.once('error', reject);
        server = s;
      });
    },
    async close() {
      clearInterval(sweeper);
      await delivery.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await store.close();
    },
  };
}
