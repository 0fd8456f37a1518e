/** The environment, read and checked by zod at start (DESIGN.md "Configuration"); a wrong value stops the start. */
import { z } from 'zod';
import type { LlmConfig } from './llm/types.ts';

const optionalText = z.string().trim().min(1).optional();
const url = (what: string) => z.string().trim().url(`must be a URL (${what})`).optional();

/** DESIGN.md's configuration table; an unset variable takes the default shown there. */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int('must be a whole number').min(0, 'must be 0–65535 (0: any free port)').max(65535, 'must be 0–65535 (0: any free port)').default(3000),
  REDIS_URL: z.string().trim().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  SHOP_DATA: optionalText,
  SHOP_BACKEND_URL: url('the shop backend base URL'),
  LIBRARY_DIR: optionalText,
  ADMIN_USER: optionalText,
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  WECHATY_PUPPET: optionalText,
  WECHATY_PUPPET_SERVICE_TOKEN: optionalText,
  TELEGRAM_BOT_TOKEN: z.string().trim().regex(/^\d+:[\w-]{20,}$/, 'must look like 123456:ABC... (from @BotFather)').optional(),
  TELEGRAM_WEBHOOK_URL: url('the public https URL Telegram posts to'),
  TELEGRAM_API_ROOT: url('a Bot API server'),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: url('an OpenAI-compatible endpoint'),
  OPENAI_MODEL: optionalText,
  OPENAI_EMBEDDING_MODEL: optionalText,
  OPENAI_TIMEOUT_MS: z.coerce.number().int('must be a whole number of milliseconds').min(200, 'must be at least 200').max(60_000, 'must be at most 60000').default(3000),
  OPENAI_STRUCTURED_OUTPUT: z.enum(['json_object', 'tool']).default('json_object'),
  /** The provider's price per 1,000 tokens (prompt, completion), in the currency you bill in; for the cost counter. */
  OPENAI_PRICE_PROMPT_PER_1K: z.coerce.number().min(0, 'must be 0 or more').optional(),
  OPENAI_PRICE_COMPLETION_PER_1K: z.coerce.number().min(0, 'must be 0 or more').optional(),
  TZ_SHOP: z.string().trim().default('Asia/Shanghai').refine((tz) => {
    try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; }
  }, 'must be an IANA time zone such as Asia/Shanghai'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type Config = z.infer<typeof ConfigSchema>;

/** The model's settings from the environment (docs/llm.md); undefined without OPENAI_API_KEY. */
export function llmConfigOf(config: Config): LlmConfig | undefined {
  if (!config.OPENAI_API_KEY) return undefined;
  return {
    apiKey: config.OPENAI_API_KEY,
    ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
    ...(config.OPENAI_MODEL ? { model: config.OPENAI_MODEL } : {}),
    ...(config.OPENAI_EMBEDDING_MODEL ? { embeddingModel: config.OPENAI_EMBEDDING_MODEL } : {}),
    timeoutMs: config.OPENAI_TIMEOUT_MS,
    structuredOutput: config.OPENAI_STRUCTURED_OUTPUT,
  };
}

/** Thrown when the environment is wrong; the message names each variable and the reason. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`configuration refused:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from an environment; empty strings count as unset (as in .env files). */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  if (parsed.data.OPENAI_BASE_URL && !parsed.data.OPENAI_MODEL) {
    throw new ConfigError([{ variable: 'OPENAI_MODEL', message: 'must be set when OPENAI_BASE_URL is set (the provider\'s model name, e.g. qwen-plus)' }]);
  }
  if (parsed.data.ADMIN_USER && !parsed.data.ADMIN_PASSWORD) {
    throw new ConfigError([{ variable: 'ADMIN_PASSWORD', message: 'must be set when ADMIN_USER is set' }]);
  }
  return parsed.data;
}
