/** `npm start`: reads the environment, wires the bot, serves http://localhost:PORT. */
import { ConfigError, readConfig } from './config.ts';
import { createBot } from './bot.ts';
import { createLogger } from './server/logger.ts';
import { LibraryError } from './flows/errors.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = readConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) { console.error(error.message); process.exit(2); }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  let bot;
  try {
    bot = await createBot(config, { log });
  } catch (error) {
    if (error instanceof LibraryError) { console.error(error.message); process.exit(2); }
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  await bot.listen();
  log.info({ url: `http://localhost:${config.PORT}` }, `web chat on http://localhost:${config.PORT}`);
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'stopping');
    await bot.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

void main();
