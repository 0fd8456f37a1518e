// 待处理: agents' FAQ suggestions, accepted into the draft in one click, and the questions the bot could not answer (from the reports), each one click from a new FAQ entry.
import { api, byId, el, failureText, say, t, when } from './dom.js';
import { openFaq } from './library.js';

let ctx = { showTab: () => {}, fail: () => {} };

/** A default entry id for a suggestion: letters, digits and _ as the library wants. */
function entryIdFor(suggestion) {
  return `suggested_${String(suggestion.id).toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 64);
}

function suggestionCard(s) {
  const accepted = s.status === 'accepted';
  const question = el('input', { value: String(s.question ?? ''), testid: 'suggestion-question', maxlength: '500', 'aria-label': t('faqQuestion'), disabled: accepted });
  const answer = el('textarea', { value: String(s.answer ?? ''), testid: 'suggestion-answer', rows: '3', maxlength: '4000', 'aria-label': t('faqAnswer'), disabled: accepted });
  const entryId = el('input', { value: String(s.entryId ?? entryIdFor(s)), testid: 'suggestion-entry-id', class: 'mono', maxlength: '64', 'aria-label': t('faqId'), disabled: accepted });
  const status = el('p', { class: 'form-info', role: 'status', hidden: true, testid: 'suggestion-status' });
  const accept = el('button', { type: 'button', class: 'primary', testid: 'suggestion-accept', text: t('accept'), disabled: accepted, onclick: async () => {
    accept.disabled = true;
    try {
      await api('POST', `/api/library/suggestions/${encodeURIComponent(s.id)}/accept`, { entryId: entryId.value.trim(), question: question.value.trim(), answer: answer.value.trim() });
      say(status, t('accepted', { id: entryId.value.trim() }), 'ok');
      for (const input of [question, answer, entryId]) input.disabled = true;
    } catch (failure) {
      say(status, failureText(failure), 'error');
      accept.disabled = false;
    }
  } });
  return el('div', { class: accepted ? 'card suggestion done' : 'card suggestion', testid: 'suggestion-row', dataset: { id: String(s.id), status: String(s.status ?? '') } },
    el('p', { class: 'muted', text: t('suggestionBy', { by: s.by ?? '-', at: when(s.at), ticket: s.ticketId ?? '-' }) }),
    el('label', {}, el('span', { text: t('faqQuestion') }), question),
    el('label', {}, el('span', { text: t('faqAnswer') }), answer),
    el('div', { class: 'row' }, el('label', {}, el('span', { text: t('faqId') }), entryId), accept),
    accepted ? el('p', { class: 'muted', text: t('accepted', { id: s.entryId ?? '' }) }) : null,
    status);
}

async function loadSuggestions() {
  const { suggestions } = await api('GET', '/api/library/suggestions');
  const list = byId('suggestion-list');
  const open = suggestions.filter((s) => s.status !== 'accepted');
  const done = suggestions.filter((s) => s.status === 'accepted').slice(0, 20);
  list.replaceChildren(...[...open, ...done].map(suggestionCard));
  if (open.length === 0) list.prepend(el('p', { class: 'muted', testid: 'suggestions-none', text: t('suggestionsNone') }));
}

async function loadUnanswered() {
  const rows = byId('unanswered-rows');
  try {
    const report = await api('GET', '/api/reports');
    const items = [
      ...report.tables.unanswered.rows.map((r) => ({ ...r, kind: 'unanswered' })),
      ...report.tables.clarified.rows.map((r) => ({ ...r, kind: 'clarified' })),
    ].sort((a, b) => b.count - a.count);
    rows.replaceChildren(...items.map((item) => el('tr', { testid: 'unanswered-row' },
      el('td', { text: item.question }),
      el('td', { class: 'num', text: String(item.count) }),
      el('td', { text: item.kind === 'unanswered' ? t('kindUnanswered') : t('kindClarified') }),
      el('td', {}, el('button', { type: 'button', testid: 'unanswered-add', text: t('addToFaq'), onclick: () => { ctx.showTab('library'); openFaq(null, item.question); } })))));
    if (items.length === 0) rows.append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: t('unansweredNone') })));
  } catch (failure) {
    rows.replaceChildren(el('tr', {}, el('td', { colspan: '4', class: 'form-error', text: failureText(failure) })));
  }
}

export async function load() {
  await Promise.all([loadSuggestions(), loadUnanswered()]);
}

export function init(context) {
  ctx = context;
}
