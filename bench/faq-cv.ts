/**
 * Cross-validation of the FAQ's ranking and confidence on an FAQ's own wordings (no evaluation
 * questions): every wording held out in turn, whole entries held out, off-topic questions made
 * from one word of an entry (calibration.ts's samples); the models are learnt on half the samples
 * and measured on the other half, and the other way round. How the ranker's and the models'
 * choices in docs/faq.md were made.
 *
 *   npx tsx bench/faq-cv.ts scripts/faq.csv [synonyms.yaml]
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseFaqCsv } from '../src/knowledge/faq.ts';
import { createFaqAnalyzer } from '../src/knowledge/analysis.ts';
import { createRanker } from '../src/knowledge/ranker.ts';
import { acrossHalves, answerInputs, collectSamples, predict } from '../src/knowledge/calibration.ts';

const [faqPath, synonymsPath] = process.argv.slice(2);
if (!faqPath) throw new Error('usage: npx tsx bench/faq-cv.ts FAQ.csv [synonyms.yaml]');
const entries = parseFaqCsv(readFileSync(faqPath, 'utf8'), faqPath).entries;
const synonyms = synonymsPath ? (parse(readFileSync(synonymsPath, 'utf8')) as string[][]) : [];
const ranker = createRanker(entries, createFaqAnalyzer(synonyms));
const samples = collectSamples(ranker, { maxWordings: 100_000, maxEntries: 100_000 });
const threshold = 0.6;
let wordings = 0;
let first = 0;
let reciprocal = 0;
let answered = 0;
let right = 0;
let wrong = 0;
let confidence = 0;
acrossHalves(samples, (s, ranked, models) => {
  if (s.expected >= 0) {
    wordings++;
    const rank = ranked.findIndex((c) => c.entry === s.expected);
    if (rank === 0) first++;
    if (rank >= 0) reciprocal += 1 / (rank + 1);
  }
  if (ranked.length === 0) return;
  const p = predict(models.answer, answerInputs(ranked));
  if (p < threshold) return;
  answered++;
  confidence += p;
  if (ranked[0]?.entry === s.expected) right++;
  else wrong++;
});
const r = (x: number): number => Math.round(x * 1000) / 1000;
process.stdout.write(`${JSON.stringify({
  faq: faqPath, samples: samples.length, wordings,
  rankedFirst: r(first / wordings), mrr: r(reciprocal / wordings),
  answered: r(answered / samples.length), precision: r(right / Math.max(1, answered)), meanConfidence: r(confidence / Math.max(1, answered)),
  utility: r((right - 1.5 * wrong) / samples.length),
})}\n`);
