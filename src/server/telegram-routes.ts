/** The Telegram webhook (POST /telegram/webhook): checks Telegram's secret-token header, then hands the update to the channel. */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router } from 'express';
import type { TelegramWebhook } from '../bots/telegram-webhook.ts';
import { HttpError } from './http-error.ts';

/** The channel's webhook side. */
export interface TelegramRouteDeps {
  webhook: TelegramWebhook;
}

/** Compares in constant time (hashes first, so the lengths match). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * The webhook route, mounted at TELEGRAM_WEBHOOK_PATH. A wrong or missing secret is 401 before the
 * body is read. The answer comes after the update was handled: a 5xx makes Telegram post it again,
 * and the pipeline's dedupe by update_id makes that harmless.
 */
export function telegramRoutes(deps: TelegramRouteDeps): Router {
  const router = Router();
  router.post(
    '/',
    (req, _res, next) => {
      const given = req.get('X-Telegram-Bot-Api-Secret-Token') ?? '';
      if (!sameSecret(given, deps.webhook.secret)) throw new HttpError(401, 'unauthorized', 'X-Telegram-Bot-Api-Secret-Token missing or wrong');
      next();
    },
    express.json({ limit: '1mb', strict: true }),
    async (req, res) => {
      try {
        await deps.webhook.handle(req.body);
      } catch (error) {
        throw new HttpError(503, 'unavailable', `update not handled: ${error instanceof Error ? error.message : String(error)}`);
      }
      res.json({ ok: true });
    },
  );
  return router;
}
