/**
 * Embeddings for the FAQ from the configured model: each library version's FAQ is embedded and
 * learnt in the background (dense.ts), questions are embedded as they come (the last ones
 * remembered). Until an FAQ is ready, and whenever the model fails, the FAQ answers from words
 * alone: nothing waits for a build, and a failed build is tried again later.
 */
import type { FaqIndex, FaqInspection } from './faq.ts';
import { preferred, unitVector, type DenseFaq, type Vector } from './dense.ts';

/** Turns texts into vectors, one per text in order; null on any failure (Llm.embed). */
export type Embed = (texts: string[]) => Promise<number[][] | null>;

/** The FAQ's embeddings as the pipeline and the evaluation use them. */
export interface FaqEmbeddings {
  /** The index's FAQ with embeddings when it is built; starts its build (once, or again after a failure) and answers null meanwhile. */
  denseFor(index: FaqIndex): DenseFaq | null;
  /** The index's FAQ with embeddings, waiting for its build; null when it cannot be built (now: a failure is tried again after `retryMs`). */
  build(index: FaqIndex): Promise<DenseFaq | null>;
  /** A question's vector (the last {@link FaqEmbeddingsOptions.rememberQuestions} remembered); null when the model fails. */
  vectorOf(text: string): Promise<Vector | null>;
  /**
   * A question the words would not answer, asked again with its vector and decided by dense.ts's
   * `preferred`: the inspection (with up to `limit` hits), or null when the words answer, the
   * index's embeddings are not ready (`wait`: wait for their build) or anything fails; `failed`
   * when the model did not embed the question.
   */
  askWithVector(index: FaqIndex, query: string, limit: number, wait?: boolean): Promise<{ inspection: FaqInspection | null; failed: boolean }>;
}

export interface FaqEmbeddingsOptions {
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** An FAQ with more texts to embed than this is not embedded (default 20,000: about 80 MB of vectors at 1,024 dimensions). */
  maxTexts?: number;
  /** A failed build is tried again after this long (default 60 s). */
  retryMs?: number;
  /** Texts per embed call (the client sends them in requests of 10); default 100. */
  chunk?: number;
  /** Questions whose vectors are remembered (default 1,000). */
  rememberQuestions?: number;
  now?: () => number;
}

/**
 * An index's build: under way, done, failed (the model did not embed: tried again after
 * `retryMs`), or not possible for this index (too large, too few wordings to learn from: never
 * tried again, since the same texts give the same answer).
 */
type Build =
  | { state: 'building'; promise: Promise<DenseFaq | null> }
  | { state: 'ready'; dense: DenseFaq }
  | { state: 'failed'; at: number }
  | { state: 'impossible' };

export function createFaqEmbeddings(embed: Embed, opts: FaqEmbeddingsOptions = {}): FaqEmbeddings {
  const now = opts.now ?? Date.now;
  const maxTexts = opts.maxTexts ?? 20_000;
  const retryMs = opts.retryMs ?? 60_000;
  const chunk = Math.max(1, opts.chunk ?? 100);
  const remember = Math.max(0, opts.rememberQuestions ?? 1000);
  const builds = new WeakMap<FaqIndex, Build>();
  // The vectors of the FAQ embedded last, so that the next library version embeds only what
  // changed; a build started earlier that ends later does not replace a newer one's.
  let known = new Map<string, Vector>();
  let knownFrom = 0;
  let started = 0;
  const questions = new Map<string, Vector>();

  async function vectorsFor(texts: readonly string[]): Promise<Map<string, Vector> | null> {
    const out = new Map<string, Vector>();
    const missing: string[] = [];
    for (const t of texts) {
      const had = known.get(t);
      if (had) out.set(t, had);
      else missing.push(t);
    }
    for (let start = 0; start < missing.length; start += chunk) {
      const batch = missing.slice(start, start + chunk);
      const vectors = await embed(batch);
      if (!vectors || vectors.length !== batch.length) return null;
      for (const [i, values] of vectors.entries()) {
        const v = unitVector(values);
        if (!v) return null;
        out.set(batch[i] as string, v);
      }
    }
    return out;
  }

  async function run(index: FaqIndex, seq: number): Promise<Build> {
    const training = index.embeddingTraining();
    if (training.texts.length > maxTexts) {
      opts.log?.warn({ texts: training.texts.length, maxTexts }, 'FAQ too large to embed: it answers from words alone');
      return { state: 'impossible' };
    }
    const vectors = await vectorsFor(training.texts);
    if (!vectors) {
      opts.log?.warn({ texts: training.texts.length }, 'the model did not embed the FAQ; it answers from words alone and is tried again later');
      return { state: 'failed', at: now() };
    }
    if (seq > knownFrom) {
      known = vectors;
      knownFrom = seq;
    }
    const dense = await training.train((t) => vectors.get(t));
    if (!dense) {
      opts.log?.info({ texts: training.texts.length }, 'FAQ has too few wordings to learn how far to trust vectors: it answers from words alone');
      return { state: 'impossible' };
    }
    opts.log?.info({ texts: training.texts.length }, 'FAQ embedded: questions are ranked with their vectors too');
    return { state: 'ready', dense };
  }

  function start(index: FaqIndex): Promise<DenseFaq | null> {
    const promise = run(index, ++started)
      .catch((): Build => ({ state: 'failed', at: now() }))
      .then((build) => {
        builds.set(index, build);
        return build.state === 'ready' ? build.dense : null;
      });
    builds.set(index, { state: 'building', promise });
    return promise;
  }

  /** Whether a build should start now: never tried, or failed long enough ago. */
  const due = (b: Build | undefined): boolean => !b || (b.state === 'failed' && now() - b.at >= retryMs);

  const embeddings: FaqEmbeddings = {
    denseFor(index) {
      const b = builds.get(index);
      if (b?.state === 'ready') return b.dense;
      if (due(b)) void start(index);
      return null;
    },
    async build(index) {
      const b = builds.get(index);
      if (b?.state === 'ready') return b.dense;
      if (b?.state === 'building') return b.promise;
      return due(b) ? start(index) : null;
    },
    async vectorOf(text) {
      const had = questions.get(text);
      if (had) {
        questions.delete(text);
        questions.set(text, had);
        return had;
      }
      const values = (await embed([text]))?.[0];
      const v = values ? unitVector(values) : null;
      if (v && remember > 0) {
        questions.set(text, v);
        if (questions.size > remember) questions.delete(questions.keys().next().value as string);
      }
      return v;
    },
    async askWithVector(index, query, limit, wait = false) {
      const dense = wait ? await embeddings.build(index) : embeddings.denseFor(index);
      if (!dense || index.decide(query).kind === 'answer') return { inspection: null, failed: false };
      const vector = await embeddings.vectorOf(query);
      if (!vector) return { inspection: null, failed: true };
      try {
        return { inspection: preferred(index.inspect(query, limit), dense.inspect(query, vector, limit)), failed: false };
      } catch (error) {
        opts.log?.warn({ err: error instanceof Error ? error.message : String(error) }, 'FAQ with vectors failed; the words answer');
        return { inspection: null, failed: false };
      }
    },
  };
  return embeddings;
}
