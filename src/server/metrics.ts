/** Prometheus metrics (prom-client) fed by the pipeline's observer hooks. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineObserver } from '../conversations/pipeline.ts';

export interface Metrics {
  registry: Registry;
  observer: PipelineObserver;
  delivered(channel: string, ok: boolean): void;
  /** The LLM module's count hook: calls, failures, discarded answers, tokens. */
  llmCounted(event: { kind: 'call' | 'failure' | 'discarded'; use: string; reason?: string; promptTokens?: number; completionTokens?: number }): void;
}

/** Prices per 1,000 tokens for the model cost counter; absent, no cost is counted (tokens still are). */
export interface LlmPrices {
  promptPer1k?: number;
  completionPer1k?: number;
}

export function createMetrics(prices: LlmPrices = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const turns = new Counter({ name: 'bot_turns_total', help: 'Customer messages handled, by channel and outcome', labelNames: ['channel', 'outcome'], registers: [registry] });
  const turnSeconds = new Histogram({ name: 'bot_turn_seconds', help: 'Time to handle one customer message', buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  const duplicates = new Counter({ name: 'bot_duplicate_messages_total', help: 'Messages delivered twice by a platform and dropped', labelNames: ['channel'], registers: [registry] });
  const failures = new Counter({ name: 'bot_turn_failures_total', help: 'Turns that failed and were apologised for', labelNames: ['kind'], registers: [registry] });
  const events = new Counter({ name: 'bot_events_total', help: 'Dialog events counted for reports (flow started, FAQ answered...)', labelNames: ['event'], registers: [registry] });
  const handoffs = new Counter({ name: 'bot_handoffs_total', help: 'Conversations handed to a person, by reason', labelNames: ['reason', 'priority'], registers: [registry] });
  const deliveries = new Counter({ name: 'bot_outbox_deliveries_total', help: 'Outbox delivery attempts', labelNames: ['channel', 'result'], registers: [registry] });
  const llmCalls = new Counter({ name: 'bot_llm_calls_total', help: 'Model calls answered, by use', labelNames: ['use'], registers: [registry] });
  const llmFailures = new Counter({ name: 'bot_llm_failures_total', help: 'Model calls that failed (the deterministic path answered), by use and reason', labelNames: ['use', 'reason'], registers: [registry] });
  const llmDiscarded = new Counter({ name: 'bot_llm_discarded_total', help: 'Model answers thrown away by a guardrail, by use and reason', labelNames: ['use', 'reason'], registers: [registry] });
  const llmTokens = new Counter({ name: 'bot_llm_tokens_total', help: 'Model tokens used, by use and type (multiply by your provider\'s price for the cost)', labelNames: ['use', 'type'], registers: [registry] });
  const llmCost = new Counter({ name: 'bot_llm_cost_total', help: 'Model cost by use, from OPENAI_PRICE_* per 1,000 tokens', labelNames: ['use'], registers: [registry] });
  return {
    registry,
    llmCounted: (e) => {
      if (e.kind === 'call') {
        llmCalls.inc({ use: e.use });
        const cost = ((e.promptTokens ?? 0) * (prices.promptPer1k ?? 0) + (e.completionTokens ?? 0) * (prices.completionPer1k ?? 0)) / 1000;
        if (cost > 0) llmCost.inc({ use: e.use }, cost);
        if (e.promptTokens) llmTokens.inc({ use: e.use, type: 'prompt' }, e.promptTokens);
        if (e.completionTokens) llmTokens.inc({ use: e.use, type: 'completion' }, e.completionTokens);
      } else if (e.kind === 'failure') llmFailures.inc({ use: e.use, reason: e.reason ?? 'unknown' });
      else llmDiscarded.inc({ use: e.use, reason: e.reason ?? 'unknown' });
    },
    observer: {
      turn: ({ ms, outcome, channel }) => { turns.inc({ channel, outcome }); turnSeconds.observe(ms / 1000); },
      duplicate: (channel) => duplicates.inc({ channel }),
      failure: (kind) => failures.inc({ kind }),
      recorded: (event) => events.inc({ event }),
      handoff: ({ reason, priority }) => handoffs.inc({ reason, priority }),
    },
    delivered: (channel, ok) => deliveries.inc({ channel, result: ok ? 'ok' : 'failed' }),
  };
}
