/** createLlm: the Llm interface over any OpenAI-compatible provider — one time limit per call, one short retry of transient errors, counted usage, and guardrails on every answer. */
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { z } from 'zod';
import { LlmError } from './errors.ts';
import { holdsPlaceholder, maskForModel, maskValueForModel } from './mask.ts';
import { inventedNumbers } from './numbers.ts';
import { formatLine, summarizePrompt, understandPrompt, wordAnswerPrompt, type StructuredPrompt } from './prompts.ts';
import type {
  Llm, LlmConfig, LlmCountEvent, LlmDiscardReason, LlmHooks, LlmUnderstanding, LlmUse, LlmWordedAnswer,
} from './types.ts';

/** Time limit of one method call when the config sets none. */
export const DEFAULT_LLM_TIMEOUT_MS = 4000;
/** Chat model on OpenAI itself when the config names none. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';
/** The longest handover summary kept; a longer one is cut to this. */
export const SUMMARY_MAX_CHARS = 300;

const RETRY_DELAY_MS = 250;
// A retry is only started when this much of the call's time is left after the wait.
const MIN_ATTEMPT_MS = 300;
const ANSWER_MAX_CHARS = 600;
const CUSTOMER_TEXT_MAX = 2000;
const SLOT_VALUE_MAX = 200;
// DashScope's text-embedding-v3/v4 take at most 10 texts a request; others take more.
const EMBED_BATCH = 10;

const CompletionShape = z.object({
  choices: z.array(z.object({
    finish_reason: z.string().nullish(),
    message: z.object({
      content: z.string().nullish(),
      tool_calls: z.array(z.object({
        type: z.string(),
        function: z.object({ name: z.string(), arguments: z.string() }).optional(),
      })).nullish(),
    }),
  })).min(1),
});

const UsageShape = z.object({
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number().optional() }),
});

const UnderstandShape = z.object({
  intent: z.string().nullable(),
  confidence: z.number().min(0).max(1),
  slots: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).default({}),
});

const AnswerShape = z.object({
  answered: z.boolean().optional(),
  text: z.string().default(''),
  citedId: z.string().nullable().default(null),
});

const SummaryShape = z.object({ summary: z.string() });

const EmbeddingShape = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()).min(1) })),
});

const LINK = /\bhttps?:\/\/[^\s)）\]」，。]+|\bwww\.[^\s)）\]」，。]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|io|cc|me|shop|link)\b/gi;
const NO_INTENT = new Set(['', 'null', 'none', 'unknown']);
// Words saying something was done for the customer. The model can do nothing, so such a claim is
// false unless the cited entry itself says it.
const ACTION_CLAIM = /已(?:经)?(?:为您|帮您|给您)?(?:退款|退货|取消|修改|改为|改成|补偿|赔偿|发放|转账|打款|下单|标记)|(?:退款|取消|修改|补偿)成功|\b(?:refunded|cancell?ed|compensated|has been (?:changed|updated|processed)|have (?:changed|updated|processed))\b/gi;

/** Settings after defaults and checks. */
interface Settings {
  model: string;
  embeddingModel: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  mode: 'json_object' | 'tool';
}

function settingsOf(config: LlmConfig): Settings {
  if (!config.apiKey.trim()) throw new Error('createLlm: apiKey is empty (OPENAI_API_KEY)');
  if (config.baseURL !== undefined && !URL.canParse(config.baseURL)) {
    throw new Error(`createLlm: baseURL is not a URL (OPENAI_BASE_URL): ${config.baseURL}`);
  }
  // Another provider's model names are its own; guessing OpenAI's would only fail every call.
  if (config.baseURL !== undefined && !config.model?.trim()) {
    throw new Error('createLlm: a model is required with baseURL (OPENAI_MODEL)');
  }
  const timeoutMs = config.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`createLlm: timeoutMs must be > 0, got ${timeoutMs}`);
  const maxRetries = config.maxRetries ?? 1;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new Error(`createLlm: maxRetries must be 0 or 1, got ${maxRetries}`);
  return {
    model: config.model?.trim() || DEFAULT_OPENAI_MODEL,
    embeddingModel: config.embeddingModel?.trim() || undefined,
    timeoutMs,
    // One turn cannot afford more than one retry.
    maxRetries: Math.min(maxRetries, 1),
    mode: config.structuredOutput ?? 'json_object',
  };
}

/** Retry-After(-ms) of an error response, in ms, if the provider said. */
function retryAfterMs(error: APIError): number | undefined {
  const ms = Number.parseFloat(error.headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const seconds = Number.parseFloat(error.headers?.get('retry-after') ?? '');
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  return undefined;
}

/** Any error of one attempt as an LlmError that knows whether to retry. */
function asLlmError(caught: unknown, deadlinePassed: boolean): LlmError {
  if (caught instanceof LlmError) return caught;
  if (deadlinePassed || caught instanceof APIUserAbortError || caught instanceof APIConnectionTimeoutError) {
    return new LlmError('timeout', true, 'no answer within the time limit');
  }
  if (caught instanceof APIConnectionError) return new LlmError('connection', true, caught.message);
  if (caught instanceof APIError) {
    const status = caught.status ?? 0;
    if (status === 429) return new LlmError('rate_limited', true, `status 429`, retryAfterMs(caught));
    if (status >= 500) return new LlmError('server_error', true, `status ${status}`, retryAfterMs(caught));
    // 4xx (bad key, unknown model, refused parameter): the same request would fail again.
    return new LlmError('client_error', false, `status ${status}: ${caught.message}`);
  }
  if (caught instanceof SyntaxError) return new LlmError('malformed', false, `response is not JSON: ${caught.message}`);
  return new LlmError('unexpected', false, caught instanceof Error ? caught.message : String(caught));
}

/** The model's JSON text as a value: code fences tolerated, anything else is malformed. */
function parseJsonText(raw: string): unknown {
  const text = raw.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmError('malformed', false, 'model output is not JSON');
  }
}

/** The structured payload of a completion: our function's arguments, else the message content. */
function payloadOf(completion: unknown, toolName: string): unknown {
  const parsed = CompletionShape.safeParse(completion);
  if (!parsed.success) throw new LlmError('malformed', false, 'not a chat completion');
  const choice = parsed.data.choices[0];
  if (!choice) throw new LlmError('malformed', false, 'no choice');
  if (choice.finish_reason === 'length') throw new LlmError('malformed', false, 'output cut off at max_tokens');
  // A call of any other function is ignored: the model has no tool that acts.
  const call = choice.message.tool_calls?.find((c) => c.type === 'function' && c.function?.name === toolName);
  const raw = call?.function?.arguments ?? choice.message.content ?? '';
  if (!raw.trim()) throw new LlmError('malformed', false, 'empty output');
  return parseJsonText(raw);
}

function checked<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new LlmError('schema', false, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

function clip(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}

/** Claims of a done action in `text` that `source` does not make itself. */
function claimedActions(text: string, source: string): string[] {
  const known = source.toLowerCase();
  return [...text.matchAll(ACTION_CLAIM)].map((m) => m[0]).filter((claim) => !known.includes(claim.toLowerCase()));
}

/** Links in `text` that `source` does not contain. */
function inventedLinks(text: string, source: string): string[] {
  const known = source.toLowerCase();
  return [...text.matchAll(LINK)].map((m) => m[0]).filter((link) => !known.includes(link.toLowerCase()));
}

/**
 * The optional LLM over an OpenAI-compatible endpoint. Nothing here throws once created: every
 * method answers null on failure and reports it through `hooks.counted`. Throws at creation
 * only for a wrong config (empty key, bad URL, a baseURL without a model).
 */
export function createLlm(config: LlmConfig, hooks: LlmHooks = {}): Llm {
  const settings = settingsOf(config);
  const client = new OpenAI({
    apiKey: config.apiKey,
    // Explicit, so the SDK reads no OPENAI_BASE_URL/ORG/PROJECT of its own from the environment.
    baseURL: config.baseURL ?? 'https://api.openai.com/v1',
    organization: null,
    project: null,
    // Retries and time limits are ours (below): one short retry within the call's time limit.
    maxRetries: 0,
    timeout: settings.timeoutMs,
    // A stray OPENAI_LOG=debug would print request bodies, customer text included.
    logLevel: 'off',
  });

  const count = (event: LlmCountEvent): void => {
    try {
      hooks.counted?.(event);
    } catch {
      // Metrics never break a turn.
    }
  };

  const discard = (use: LlmUse, reason: LlmDiscardReason): null => {
    count({ kind: 'discarded', use, reason });
    return null;
  };

  const countCall = (use: LlmUse, response: unknown): void => {
    const usage = UsageShape.safeParse(response);
    count(usage.success
      ? { kind: 'call', use, promptTokens: usage.data.usage.prompt_tokens, completionTokens: usage.data.usage.completion_tokens ?? 0 }
      : { kind: 'call', use });
  };

  /** Runs attempts within one time limit; retries a transient failure once if time is left. */
  async function withinLimit<T>(attempt: (signal: AbortSignal, remainingMs: number) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const deadline = Date.now() + settings.timeoutMs;
    const timer = setTimeout(() => controller.abort(), settings.timeoutMs);
    try {
      for (let retries = 0; ; retries++) {
        try {
          return await attempt(controller.signal, Math.max(1, Math.ceil(deadline - Date.now())));
        } catch (caught) {
          const error = asLlmError(caught, controller.signal.aborted);
          const wait = error.retryAfterMs ?? RETRY_DELAY_MS;
          if (!error.retryable || retries >= settings.maxRetries || deadline - Date.now() < wait + MIN_ATTEMPT_MS) throw error;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** One structured chat call; the parsed JSON payload, or an LlmError. */
  async function structured(use: LlmUse, prompt: StructuredPrompt): Promise<unknown> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: settings.model,
      messages: [
        { role: 'system', content: `${prompt.system}\n${formatLine(settings.mode, prompt.tool)}` },
        { role: 'user', content: prompt.user },
      ],
      temperature: prompt.temperature,
      // max_tokens, not max_completion_tokens: the compatible providers (Qwen, DeepSeek, GLM, vLLM, Ollama) take this one.
      max_tokens: prompt.maxTokens,
      stream: false,
      ...(settings.mode === 'tool'
        ? {
          tools: [{ type: 'function' as const, function: prompt.tool }],
          tool_choice: { type: 'function' as const, function: { name: prompt.tool.name } },
        }
        : { response_format: { type: 'json_object' as const } }),
    };
    const completion: unknown = await withinLimit((signal, timeout) =>
      client.chat.completions.create(body, { signal, timeout, maxRetries: 0 }));
    countCall(use, completion);
    return payloadOf(completion, prompt.tool.name);
  }

  /** Runs one use; any error becomes a counted failure and null. */
  async function guarded<T>(use: LlmUse, run: () => Promise<T | null>): Promise<T | null> {
    try {
      return await run();
    } catch (caught) {
      count({ kind: 'failure', use, reason: caught instanceof LlmError ? caught.reason : 'unexpected' });
      return null;
    }
  }

  return {
    understand: (input) => guarded<LlmUnderstanding>('understand', async () => {
      if (input.intents.length === 0) return null;
      const offered = new Set(input.intents.map((i) => i.id));
      const slotTypes = new Set(input.slotTypes);
      const prompt = understandPrompt({ ...input, text: maskForModel(clip(input.text, CUSTOMER_TEXT_MAX)) });
      const answer = checked(UnderstandShape, await structured('understand', prompt));

      let intent = answer.intent?.trim() ?? null;
      let confidence = answer.confidence;
      if (intent !== null && NO_INTENT.has(intent.toLowerCase())) intent = null;
      if (intent !== null && !offered.has(intent)) {
        discard('understand', 'intent_not_offered');
        intent = null;
        confidence = 0;
      }
      const slots: Record<string, string> = {};
      let dropped = false;
      for (const [type, raw] of Object.entries(answer.slots)) {
        if (raw === null) continue;
        const value = String(raw).trim();
        if (!value || holdsPlaceholder(value)) continue;
        if (!slotTypes.has(type) || value.length > SLOT_VALUE_MAX) {
          dropped = true;
          continue;
        }
        slots[type] = value;
      }
      if (dropped) discard('understand', 'slot_not_offered');
      return { intent, confidence, slots };
    }),

    wordAnswer: (input) => guarded<LlmWordedAnswer>('wordAnswer', async () => {
      if (input.entries.length === 0) return null;
      const prompt = wordAnswerPrompt({ ...input, question: maskForModel(clip(input.question, CUSTOMER_TEXT_MAX)) });
      const answer = checked(AnswerShape, await structured('wordAnswer', prompt));
      const text = answer.text.trim();
      if (answer.answered === false || (!text && answer.citedId === null)) return discard('wordAnswer', 'unsupported');
      const entry = input.entries.find((e) => e.id === answer.citedId);
      if (!entry) return discard('wordAnswer', 'citation_not_offered');
      if (!text) return discard('wordAnswer', 'empty');
      if (text.length > ANSWER_MAX_CHARS) return discard('wordAnswer', 'too_long');
      if (inventedNumbers(text, entry.answer).length > 0) return discard('wordAnswer', 'invented_number');
      if (inventedLinks(text, entry.answer).length > 0) return discard('wordAnswer', 'invented_link');
      if (claimedActions(text, entry.answer).length > 0) return discard('wordAnswer', 'claims_action');
      return { text, citedId: entry.id };
    }),

    summarize: (input) => guarded<string>('summarize', async () => {
      const caseData = maskValueForModel({
        reason: input.reason,
        intent: input.intent,
        slots: input.slots,
        notes: input.notes ?? [],
        lastMessages: input.lastMessages.slice(-20).map((m) => ({ from: m.from, text: clip(m.text, 500) })),
      });
      const caseJson = JSON.stringify(caseData, null, 1);
      const answer = checked(SummaryShape, await structured('summarize', summarizePrompt({ lang: input.lang, caseJson })));
      const summary = answer.summary.trim();
      if (!summary) return discard('summarize', 'empty');
      // Amounts, dates or order numbers the case does not hold are the model's invention.
      if (inventedNumbers(summary, caseJson).length > 0) return discard('summarize', 'invented_number');
      const chars = Array.from(summary);
      return chars.length > SUMMARY_MAX_CHARS ? `${chars.slice(0, SUMMARY_MAX_CHARS - 1).join('')}…` : summary;
    }),

    embed: (texts) => guarded<number[][]>('embed', async () => {
      const model = settings.embeddingModel;
      if (model === undefined) return null;
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += EMBED_BATCH) {
        const batch = texts.slice(start, start + EMBED_BATCH).map((t) => maskForModel(t));
        const response: unknown = await withinLimit((signal, timeout) =>
          client.embeddings.create({ model, input: batch, encoding_format: 'float' }, { signal, timeout, maxRetries: 0 }));
        countCall('embed', response);
        const { data } = checked(EmbeddingShape, response);
        const ordered = [...data].sort((a, b) => a.index - b.index);
        if (ordered.length !== batch.length || ordered.some((d, i) => d.index !== i)) {
          throw new LlmError('schema', false, `expected ${batch.length} embeddings, got ${data.length}`);
        }
        vectors.push(...ordered.map((d) => d.embedding));
      }
      const dimension = vectors[0]?.length;
      if (vectors.some((v) => v.length !== dimension)) throw new LlmError('schema', false, 'embeddings of different sizes');
      return vectors;
    }),
  };
}
