/** The express app: health, metrics, the web chat API and page. Later parts mount the consoles' APIs here. */
import express, { type Express, type Router } from 'express';
import { fileURLToPath } from 'node:url';
import type { Pipeline } from '../conversations/pipeline.ts';
import type { Shop } from '../commerce/shop.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from './metrics.ts';
import { errorHandler, notFound } from './http-error.ts';
import { webchatRoutes } from './webchat-routes.ts';
import { telegramRoutes } from './telegram-routes.ts';
import { TELEGRAM_WEBHOOK_PATH, type TelegramWebhook } from '../bots/telegram-webhook.ts';

export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

export interface AppDeps {
  pipeline: Pipeline;
  store: Store;
  shop: Shop;
  metrics: Metrics;
  log: { error(obj: object, msg?: string): void };
  now: () => Date;
  /** The Telegram channel's webhook, in webhook mode (mounted at /telegram/webhook). */
  telegramWebhook?: TelegramWebhook | null;
  /** More API routers mounted under /api (staff, handover, library...). */
  apiRouters?: Router[];
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  // Not strict: a policy value is a bare JSON number or boolean; every route checks its body with zod.
  app.use('/api', express.json({ limit: '32kb', strict: false }));

  app.get('/healthz', async (_req, res) => {
    const [store, shop] = await Promise.all([
      deps.store.ping().catch(() => false),
      deps.shop.ping().catch(() => false),
    ]);
    const ok = store && shop;
    res.status(ok ? 200 : 503).json(ok ? { ok: true } : { ok: false, store, shop });
  });

  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  app.use('/api/webchat', webchatRoutes({ pipeline: deps.pipeline, store: deps.store, now: deps.now }));
  if (deps.telegramWebhook) app.use(TELEGRAM_WEBHOOK_PATH, telegramRoutes({ webhook: deps.telegramWebhook }));
  for (const router of deps.apiRouters ?? []) app.use('/api', router);
  app.use('/api', notFound);
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
