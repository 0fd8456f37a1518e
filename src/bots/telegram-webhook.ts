/** The Telegram webhook's contract with the HTTP server, apart from telegraf so the server need not load it. */

/** Where the express app mounts the webhook; TELEGRAM_WEBHOOK_URL must reach it. */
export const TELEGRAM_WEBHOOK_PATH = '/telegram/webhook';

/** What the express route needs to serve the webhook. */
export interface TelegramWebhook {
  /** The value the X-Telegram-Bot-Api-Secret-Token header must carry. */
  secret: string;
  /** Handles one posted update; resolves when it was handled. */
  handle(update: unknown): Promise<void>;
}
