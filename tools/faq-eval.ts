/**
 * `npm run faq:eval -- --faq F.csv --cases C.csv`: how well the FAQ answers a set of customer
 * questions, as one JSON line per system (the bot, then a baseline, then with `--llm` the bot
 * helped by the model configured in OPENAI_*); `--scale N` times the bot on an FAQ of N entries
 * synthesised from F instead. Definitions: DESIGN.md and docs/faq.md.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseFaqCsv, parseFaqYaml, type FaqEntry } from '../src/knowledge/faq.ts';
import {
  baselineSystem, benchScale, botSystemOn, botWithModelSystem, checkCalibration, evaluate, evaluateAsync, evaluateDetails,
  fitBaselineMinScore, parseCasesCsv,
} from '../src/knowledge/eval.ts';
import { ConfigError, llmConfigOf, readConfig } from '../src/config.ts';
import { createFaqIndex } from '../src/knowledge/faq.ts';
import { createLlm } from '../src/llm/client.ts';
import { createFaqEmbeddings } from '../src/knowledge/embeddings.ts';
import type { Llm, LlmCountEvent } from '../src/llm/types.ts';
import { parseYaml } from '../src/flows/loader.ts';
import { createFaqAnalyzer } from '../src/knowledge/analysis.ts';
import { FLAT_MODELS, collectSamples, fitFaqModels } from '../src/knowledge/calibration.ts';
import { createRanker } from '../src/knowledge/ranker.ts';

const USAGE = `usage: npm run faq:eval -- --faq F.csv|F.yaml --cases C.csv [options]
  --synonyms S.yaml         synonym groups (default: synonyms.yaml next to the FAQ, if any)
  --baseline on|off         also print the baseline (minisearch, default settings) (default on)
  --baseline-min-score S    the score from which the baseline answers (default: the best on F's own
                            wordings, each held out in turn; null in the output when none is good)
  --answer-threshold P      the bot's answer threshold (default 0.6)
  --no-answer-index         rank on questions and alternates only, not on the answers' text
  --llm                     also print "system": "bot+llm": the bot, with the model of OPENAI_API_KEY,
                            OPENAI_BASE_URL, OPENAI_MODEL (OPENAI_TIMEOUT_MS, OPENAI_STRUCTURED_OUTPUT)
                            picking one of the offered entries when the bot would ask back or abstain;
                            with OPENAI_EMBEDDING_MODEL too, "system": "bot+llm+embeddings": questions the
                            words alone do not answer are asked again with their vector first
  --details                 also print where the bot's in-scope cases went (ranked first, offered when asking back)
  --scale N                 instead: time the bot on an FAQ of N entries made from F's phrasings
  --calibration             instead: how the answer threshold behaves at several sizes of F (held-out
                            wordings only; one JSON line per size)
  --fit-defaults            instead: print the models fitted on F's own wordings from a flat prior
                            (how DEFAULT_MODELS in src/knowledge/calibration.ts were made)`;

const Synonyms = z.array(z.array(z.string().min(1)).min(2));

/** Stops with a message on stderr and exit code 2 (bad usage or unreadable input). */
function fail(message: string): never {
  process.stderr.write(`faq:eval: ${message}\n`);
  process.exit(2);
}

async function readEntries(path: string): Promise<FaqEntry[]> {
  const text = await readFile(path, 'utf8').catch(() => fail(`cannot read ${path}`));
  const parsed = /\.ya?ml$/i.test(path) ? parseFaqYaml(text, path) : parseFaqCsv(text, path);
  if (parsed.problems.length) fail(parsed.problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
  return parsed.entries;
}

async function readSynonyms(path: string | undefined, faqPath: string): Promise<string[][]> {
  const file = path ?? join(dirname(faqPath), 'synonyms.yaml');
  if (!path && !existsSync(file)) return [];
  const text = await readFile(file, 'utf8').catch(() => fail(`cannot read ${file}`));
  const { value, problems } = parseYaml(Synonyms, text, file);
  if (!value) fail(problems.map((p) => `${p.where}: ${p.message}`).join('\n'));
  return value;
}

/** The model configured in the environment (as the bot reads it), counting what it does; stops when none is. */
function modelFromEnv(): { llm: Llm; events: LlmCountEvent[]; embeddings: boolean } {
  // Only the model's variables: the eval needs no port, store or channel.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OPENAI_')));
  let config;
  try {
    config = readConfig(env);
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
  }
  const llmConfig = llmConfigOf(config);
  if (!llmConfig) fail('--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL for a provider other than OpenAI); see docs/llm.md');
  const events: LlmCountEvent[] = [];
  try {
    const llm = createLlm(llmConfig, { counted: (event) => void events.push(event) });
    return { llm, events, embeddings: llmConfig.embeddingModel !== undefined };
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
}

/** How many events of a kind, by reason. */
function byReason(events: readonly LlmCountEvent[], kind: LlmCountEvent['kind']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) if (e.kind === kind) out[e.reason ?? 'unknown'] = (out[e.reason ?? 'unknown'] ?? 0) + 1;
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      faq: { type: 'string' },
      cases: { type: 'string' },
      synonyms: { type: 'string' },
      baseline: { type: 'string', default: 'on' },
      'answer-threshold': { type: 'string' },
      'no-answer-index': { type: 'boolean', default: false },
      scale: { type: 'string' },
      'fit-defaults': { type: 'boolean', default: false },
      details: { type: 'boolean', default: false },
      llm: { type: 'boolean', default: false },
      calibration: { type: 'boolean', default: false },
      'baseline-min-score': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.faq || !values.cases) fail(`--faq and --cases are required\n${USAGE}`);
  if (values.baseline !== 'on' && values.baseline !== 'off') fail('--baseline is on or off');
  const threshold = values['answer-threshold'] === undefined ? undefined : Number(values['answer-threshold']);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) fail('--answer-threshold is a number from 0 to 1');

  const entries = await readEntries(values.faq);
  const synonyms = await readSynonyms(values.synonyms, values.faq);
  const casesText = await readFile(values.cases, 'utf8').catch(() => fail(`cannot read ${values.cases}`));
  const { cases, problems } = parseCasesCsv(casesText);
  if (problems.length) fail(problems.map((p) => `${values.cases}:${p.line}: ${p.message}`).join('\n'));
  const opts = {
    synonyms,
    ...(threshold === undefined ? {} : { answerThreshold: threshold }),
    ...(values['no-answer-index'] ? { indexAnswers: false } : {}),
  };

  if (values.calibration) {
    const sizes = [20, 40, entries.length].filter((k, i, all) => k <= entries.length && all.indexOf(k) === i);
    for (const row of checkCalibration(entries, sizes, { synonyms, ...(threshold === undefined ? {} : { threshold }) })) {
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
    return;
  }
  if (values['fit-defaults']) {
    const ranker = createRanker(entries, createFaqAnalyzer(synonyms), { indexAnswers: !values['no-answer-index'] });
    const models = fitFaqModels(collectSamples(ranker), FLAT_MODELS);
    process.stdout.write(`${JSON.stringify(models, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}\n`);
    return;
  }
  if (values.scale !== undefined) {
    const size = Number(values.scale);
    if (!Number.isInteger(size) || size < 1) fail('--scale is a whole number of entries');
    process.stdout.write(`${JSON.stringify(benchScale(entries, cases.map((c) => c.query), size, opts))}\n`);
    return;
  }
  // Checked before the long part, so a missing key stops at once.
  const model = values.llm ? modelFromEnv() : undefined;
  const index = createFaqIndex(entries, opts);
  const bot = botSystemOn(index);
  process.stdout.write(`${JSON.stringify(evaluate(bot, cases))}\n`);
  if (values.details) process.stdout.write(`${JSON.stringify(evaluateDetails(bot, cases))}\n`);
  if (values.baseline === 'on') {
    const given = values['baseline-min-score'];
    const minScore = given === undefined ? fitBaselineMinScore(entries) : Number(given);
    if (Number.isNaN(minScore)) fail('--baseline-min-score is a number');
    process.stdout.write(`${JSON.stringify({ ...evaluate(baselineSystem(entries, minScore), cases), minScore: Math.round(minScore * 1000) / 1000 })}\n`);
  }
  if (model) {
    const embeddings = model.embeddings ? createFaqEmbeddings((texts) => model.llm.embed(texts)) : undefined;
    const helped = botWithModelSystem(index, model.llm, embeddings);
    const report = await evaluateAsync(helped, cases);
    const calls = model.events.filter((e) => e.kind === 'call' && e.use === 'wordAnswer').length;
    process.stdout.write(`${JSON.stringify({
      ...report,
      modelAsked: helped.modelAsked,
      modelPicked: helped.modelPicked,
      modelCalls: calls,
      ...(embeddings ? { embeddingCalls: model.events.filter((e) => e.kind === 'call' && e.use === 'embed').length } : {}),
      modelFailures: byReason(model.events, 'failure'),
      modelDiscarded: byReason(model.events, 'discarded'),
    })}\n`);
  }
}

await main();
