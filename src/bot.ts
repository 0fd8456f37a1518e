/** Wires the parts into one bot (the composition root used by `npm start`, `npm run chat` and tests). */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { fileURLToPath } from 'node:url';
import { toWebReply, webTopic } from './bots/webchat.ts';
import { llmConfigOf, type Config } from './config.ts';
import { createDemoShop, DEMO_BASE_TIME, DEMO_SHOP_PATH, loadShopData, rebaseShopData } from './commerce/demo-shop.ts';
import type { Shop } from './commerce/shop.ts';
import { createHttpShop } from './commerce/http-shop.ts';
import { createDelivery, type Delivery, type Sender } from './conversations/delivery.ts';
import { createChannels, type ChannelOptions, type Channels } from './bots/channels.ts';
import { createPipeline, type Pipeline } from './conversations/pipeline.ts';
import { compileLibrary, type CompiledLibrary, type CompileOptions } from './flows/compile.ts';
import { parseLibrary, readLibraryDir, type LibraryFiles } from './flows/loader.ts';
import { shopActions, shopGuards } from './flows/shop-actions.ts';
import { createApp } from './server/app.ts';
import { createAuth, type Auth } from './server/auth.ts';
import { staffRoutes } from './server/staff-routes.ts';
import { handoverRoutes } from './server/handover-routes.ts';
import { createHandoverDesk, HANDOVER_TOPIC, type HandoverDesk } from './handover/desk.ts';
import { loadHandoverConfig, type HandoverConfig } from './handover/config.ts';
import { createLibraryRepository } from './library/repository.ts';
import { createLlm } from './llm/client.ts';
import { createFaqEmbeddings } from './knowledge/embeddings.ts';
import type { Llm } from './llm/types.ts';
import { createLiveLibrary } from './library/live.ts';
import { libraryRoutes } from './server/library-routes.ts';
import { parseStoryFile, runStories } from './flows/stories.ts';
import { storyBots } from './library/story-bot.ts';
import { channelRoutes } from './server/channel-routes.ts';
import { reportRoutes } from './server/report-routes.ts';
import { batchedReports } from './reports/batch.ts';
import { createReportRecorder } from './reports/recorder.ts';
import { reportingShop } from './reports/shop.ts';
import { createMetrics, type Metrics } from './server/metrics.ts';
import { createMemoryStore } from './store/memory.ts';
import { createRedisStore } from './store/redis.ts';
import type { Store } from './store/types.ts';

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
  /** WeChat and Telegram in this process; `channels.status()` is what the manager console shows. */
  channels: Channels;
  /** Starts the HTTP server and the outbox deliverer; resolves with the server once it listens. */
  listen(port?: number): Promise<Server>;
  close(): Promise<void>;
}

export interface BotOptions {
  log: Logger;
  now?: () => Date;
  /** A model client made by the caller (tests); otherwise from OPENAI_* when OPENAI_API_KEY is set. */
  llm?: Llm;
  /** A store made by the caller (tests); otherwise from REDIS_URL or in memory. */
  store?: Store;
  shop?: Shop;
  /** Channel test doubles and timings (a wechaty mock puppet). */
  channels?: ChannelOptions;
  /** Texts whose reading and FAQ decision are remembered per library version (the benchmark's cold run sets 0). */
  memoSize?: number;
}

/** Loads the library from a folder and resolves its names against the shipped actions and guards. */
export async function loadLibrary(dir: string): Promise<CompiledLibrary> {
  return compileBundle(await readLibraryDir(dir)).library;
}

/** Everything the bot answers with, made from one version of the library's files. */
export interface LibraryBundle {
  library: CompiledLibrary;
  handover: HandoverConfig;
}

/** Loads a version's files as the bot runs them; throws LibraryError listing every problem. */
export function compileBundle(files: LibraryFiles, opts: CompileOptions = {}): LibraryBundle {
  const library = compileLibrary(parseLibrary(files), shopActions, shopGuards, opts);
  return { library, handover: loadHandoverConfig(files, library.content.forbidden) };
}

/**
 * The shop data: the given file as it is, or the shipped demo shop moved in time so that its
 * "now" is today (orders stay "delivered 2 days ago", promotions stay current).
 */
async function demoOrFileData(file: string | undefined, now: Date) {
  if (file) return loadShopData(file);
  return rebaseShopData(await loadShopData(DEMO_SHOP_PATH), new Date(DEMO_BASE_TIME), now);
}

/**
 * The library's stories (stories/*.yaml) run against a version of its files: each story in its
 * own sandbox (memory store, a fresh demo shop), so nothing reaches live conversations or orders.
 */
async function runLibraryStories(files: LibraryFiles): Promise<{ passed: number; failed: number; results: unknown[] }> {
  const { library } = compileBundle(files);
  const stories = Object.entries(files)
    .filter(([name]) => name.startsWith('stories/') && /\.ya?ml$/.test(name))
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([name, text]) => parseStoryFile(text, name).stories);
  return runStories(stories, storyBots(library, await loadShopData(DEMO_SHOP_PATH)));
}

export async function createBot(config: Config, opts: BotOptions): Promise<Bot> {
  const { log } = opts;
  const now = opts.now ?? (() => new Date());
  const store = opts.store ?? (config.REDIS_URL ? await createRedisStore(config.REDIS_URL) : createMemoryStore({ now: () => now().getTime() }));
  // A real shop backend over HTTP (docs/shop-api.openapi.yaml) when configured, else the built-in shop.
  const shop = opts.shop ?? (config.SHOP_BACKEND_URL
    ? createHttpShop({ baseUrl: config.SHOP_BACKEND_URL })
    : createDemoShop(await demoOrFileData(config.SHOP_DATA, now()), { now }));
  const libraryDir = config.LIBRARY_DIR ?? DEFAULT_LIBRARY_DIR;
  // The store holds the library's versions; the shipped folder seeds version 1 at the first start.
  const libraryRepo = createLibraryRepository(store.docs, now);
  const live = createLiveLibrary<LibraryBundle>({ repo: libraryRepo, bus: store.bus, compile: (files) => compileBundle(files, { memoSize: opts.memoSize }), shipped: () => readLibraryDir(libraryDir), log });
  await live.start();
  const library = (): CompiledLibrary => live.current().library;
  const handoverConfig = (): HandoverConfig => live.current().handover;
  const metrics = createMetrics({
    ...(config.OPENAI_PRICE_PROMPT_PER_1K !== undefined ? { promptPer1k: config.OPENAI_PRICE_PROMPT_PER_1K } : {}),
    ...(config.OPENAI_PRICE_COMPLETION_PER_1K !== undefined ? { completionPer1k: config.OPENAI_PRICE_COMPLETION_PER_1K } : {}),
  });
  const auth = createAuth(store.docs, now);
  // The optional model; every use falls back to the deterministic answer when it fails.
  const llmConfig = llmConfigOf(config);
  const llm = llmConfig ? (opts.llm ?? createLlm(llmConfig, { counted: metrics.llmCounted })) : undefined;
  const reportStore = batchedReports(store.reports, { log });
  const reports = createReportRecorder({ store: reportStore, handover: handoverConfig, timeZone: config.TZ_SHOP, log });
  const desk = createHandoverDesk({
    docs: store.docs,
    bus: store.bus,
    config: handoverConfig,
    timeZone: config.TZ_SHOP,
    now,
    forbidden: () => library().content.forbidden,
    ...(llm ? { summarize: (input: Parameters<Llm['summarize']>[0]) => llm.summarize(input) } : {}),
    conversations: () => ({
      sendAgentReply: (ref, text, by) => pipeline.sendLater(ref, { kind: 'text', text }, 'agent', by),
      giveBack: (conversationId, how, ticketId) => pipeline.giveBack(conversationId, how, ticketId),
    }),
    reports,
  });

  // The FAQ ranked with embeddings too, built in the background for each library version.
  const faqEmbeddings = llm && llmConfig?.embeddingModel ? createFaqEmbeddings((texts) => llm.embed(texts), { log }) : undefined;
  faqEmbeddings?.denseFor(library().faq);
  const pipeline = createPipeline({
    store, library, now, log,
    // The bot's order changes and returns are counted where they happen, in the shop call.
    shop: reportingShop(shop, reports, now),
    reports,
    inlineChannels: new Set(['web']),
    observer: {
      ...metrics.observer,
      // A customer writing while a person has the conversation: the agent console shows it live.
      customerMessageInHumanMode: ({ conversationId, text }) => {
        void store.bus.publish(HANDOVER_TOPIC, { type: 'message', conversationId, message: { from: 'customer', text, at: now().toISOString() } }).catch(() => undefined);
      },
    },
    tickets: desk,
    ...(llm ? { llm } : {}),
    ...(faqEmbeddings ? { faqEmbeddings } : {}),
    handoverTexts: () => handoverConfig().texts,
    onSatisfaction: (ticketId, score) => desk.satisfaction(ticketId, score),
    // Called only after start, when `delivery` below exists.
    onQueued: () => delivery.kick(),
  });
  // The web chat's later messages go out on the bus; whichever process holds the SSE connection forwards them.
  const webSender: Sender = async (ref, message) => {
    await store.bus.publish(webTopic(ref.chatId), { ...toWebReply(message, message.from) });
  };
  const channels = await createChannels(config, { pipeline, store, log, onReady: () => delivery.kick() }, opts.channels);
  const delivery = createDelivery({ store, pipeline, senders: { web: webSender, ...channels.senders }, log, onDelivered: metrics.delivered, now: () => now().getTime() });
  const app = createApp({
    pipeline, store, shop, metrics, log, now,
    telegramWebhook: channels.telegram?.webhook ?? null,
    apiRouters: [
      staffRoutes(auth, { secureCookies: false }),
      handoverRoutes({ auth, desk, store, shop, config: handoverConfig }),
      reportRoutes({ auth, reports: reportStore, shifts: () => handoverConfig().shifts, timeZone: config.TZ_SHOP, now }),
      libraryRoutes({ auth, repo: libraryRepo, bus: store.bus, docs: store.docs, compile: compileBundle, runStories: runLibraryStories }),
      channelRoutes(auth, channels),
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
    shop: opts.shop ? 'custom' : config.SHOP_BACKEND_URL ? `backend ${config.SHOP_BACKEND_URL}` : config.SHOP_DATA ? `file ${config.SHOP_DATA}` : 'demo shop (data/demo-shop.json)',
    library: `version ${live.version()} (${library().flows.size} flows, ${library().content.intents.length} intents, ${library().content.faq.length} FAQ entries; first seeded from ${libraryDir})`,
    channels: {
      web: 'on',
      ...channels.describe(),
    },
    llm: llm ? `on (${config.OPENAI_MODEL ?? 'default model'}${config.OPENAI_BASE_URL ? ` at ${new URL(config.OPENAI_BASE_URL).host}` : ''})` : 'off (set OPENAI_API_KEY)',
    faqEmbeddings: faqEmbeddings ? `on (${config.OPENAI_EMBEDDING_MODEL})` : 'off (set OPENAI_EMBEDDING_MODEL with the LLM)',
  }, 'bot ready');

  let server: Server | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  return {
    config, store, shop, pipeline, delivery, metrics, library, app, desk, auth, channels,
    listen(port = config.PORT) {
      delivery.start();
      // Overdue tickets rise and tickets of an ended shift roll over; any process may do it.
      sweeper = setInterval(() => { void desk.sweep().catch((error: unknown) => log.warn({ err: String(error) }, 'handover sweep failed')); }, 10_000);
      return new Promise<Server>((resolve, reject) => {
        const s = app.listen(port, '0.0.0.0', () => resolve(s));
        s.once('error', reject);
        server = s;
      }).then(async (s) => {
        // After the server listens: a webhook may be posted to at once.
        await channels.start();
        return s;
      });
    },
    async close() {
      clearInterval(sweeper);
      await live.stop();
      await channels.stop();
      await delivery.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await reportStore.close();
      await store.close();
    },
  };
}
