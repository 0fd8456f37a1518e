/** pino logs with personal data masked (phones, addresses) and secrets removed, whatever part logs them. */
import { pino, type Logger } from 'pino';

const SECRET_KEYS = /^(password|passwd|token|authorization|cookie|apiKey|api_key|secret|OPENAI_API_KEY|TELEGRAM_BOT_TOKEN|WECHATY_PUPPET_SERVICE_TOKEN|ADMIN_PASSWORD)$/i;
const ADDRESS_KEYS = /^(address|detail|street)$/i;
const MOBILE = /(?<!\d)(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)/g;

/** A mainland mobile number shown as 138****5678; other text unchanged. */
export function maskPhones(text: string): string {
  return text.replace(MOBILE, '$1****$2');
}

/** A copy of a log object with secrets removed, addresses hidden and phone numbers masked. */
export function maskPersonalData(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskPhones(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskPersonalData(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(key)) out[key] = '[redacted]';
    else if (ADDRESS_KEYS.test(key)) out[key] = '[address]';
    else out[key] = maskPersonalData(v, depth + 1);
  }
  return out;
}

/** The process logger. `destination` lets tests read what was logged. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: (object) => maskPersonalData(object) as Record<string, unknown> },
      hooks: {
        // The message text is masked too: a phone number in a log line is still a phone number.
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? maskPhones(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination(1),
  );
}
