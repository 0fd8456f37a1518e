// 脚本库: the shared draft of the script library — FAQ table and form, CSV import, the flows' YAML editor with the schema's problems at their lines, bot replies, canned replies, forbidden phrases, policy values and shifts (docs/manager-api.md).
import { api, ApiError, byId, confirmButton, el, failureText, say, t, when } from './dom.js';

const EN_MARK = /\r?\n?---en---\r?\n?/;
const ID = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

let draft = null;
let part = 'faq';
let ctx = { showTab: () => {} };

/** Splits an FAQ answer into its Chinese and (optional) English parts. */
export function splitAnswer(answer) {
  const [zh = '', ...rest] = String(answer).split(EN_MARK);
  return { zh: zh.trim(), en: rest.join('\n').trim() };
}

/** Joins the two parts as the library keeps them: Chinese, then a line `---en---` and English. */
export function joinAnswer(zh, en) {
  return en.trim() ? `${zh.trim()}\n---en---\n${en.trim()}` : zh.trim();
}

function parts() {
  return (draft && draft.parts) || {};
}

/** What went wrong with a draft edit, including each problem's place. */
function editFailure(node, error) {
  if (error instanceof ApiError && error.code === 'conflict') {
    say(node, t('conflict'));
    void load();
    return;
  }
  const lines = [failureText(error), ...(error instanceof ApiError ? error.problems.map((p) => `${p.where}: ${p.message}`) : [])];
  say(node, [...new Set(lines)].join('\n'));
}

export async function load() {
  draft = await api('GET', '/api/library/draft');
  const info = byId('draft-info');
  const parsed = draft.parts && Array.isArray(draft.parts.faq);
  info.textContent = parsed
    ? t('draftInfo', { basedOn: draft.basedOn ?? '-', revision: draft.revision ?? 0, updatedBy: draft.updatedBy ?? '-', updatedAt: draft.updatedAt ? when(draft.updatedAt) : '-' })
    : t('draftUnparsed');
  await render();
}

export async function render() {
  for (const button of document.querySelectorAll('[data-part]')) button.setAttribute('aria-selected', String(button.dataset.part === part));
  for (const panel of document.querySelectorAll('[data-part-panel]')) panel.hidden = panel.dataset.partPanel !== part;
  if (!draft) return;
  switch (part) {
    case 'faq': renderFaq(); break;
    case 'flows': renderFlows(); break;
    case 'replies': renderReplies(); break;
    case 'canned': await renderCanned(); break;
    case 'forbidden': renderForbidden(); break;
    case 'policy': renderPolicy(); break;
    case 'shifts': await renderShifts(); break;
  }
}

// ---- FAQ ---------------------------------------------------------------------------------------

function faqEntries() {
  return Array.isArray(parts().faq) ? parts().faq : [];
}

function renderFaq() {
  const query = byId('faq-search').value.trim().toLowerCase();
  const rows = byId('faq-rows');
  const entries = faqEntries().filter((e) => !query || [e.id, e.question, e.answer, ...(e.alternates || [])].some((s) => String(s).toLowerCase().includes(query)));
  rows.replaceChildren(...entries.map((entry) => {
    const { zh } = splitAnswer(entry.answer);
    return el('tr', { testid: 'faq-row', dataset: { id: entry.id } },
      el('td', { class: 'mono', text: entry.id }),
      el('td', { text: entry.question }),
      el('td', { class: 'clip', testid: 'faq-answer', text: zh, title: zh }),
      el('td', { text: (entry.tags || []).join('、') }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', testid: 'faq-edit', text: t('edit'), onclick: () => openFaq(entry) }),
        confirmButton(t('delete'), t('confirmDelete'), () => deleteFaq(entry.id), { class: 'danger', testid: 'faq-delete' })));
  }));
  if (entries.length === 0) rows.append(el('tr', {}, el('td', { colspan: '5', class: 'muted', text: t('faqNone') })));
}

/** Opens the form on an entry, or on a new one (optionally with a question to answer). */
export function openFaq(entry, question = '') {
  part = 'faq';
  void render();
  const form = byId('faq-form');
  form.hidden = false;
  form.dataset.mode = entry ? 'edit' : 'new';
  byId('faq-form-title').textContent = entry ? t('faqEditTitle', { id: entry.id }) : t('faqNewTitle');
  const { zh, en } = splitAnswer(entry ? entry.answer : '');
  byId('faq-id').value = entry ? entry.id : '';
  byId('faq-id').readOnly = Boolean(entry);
  byId('faq-question').value = entry ? entry.question : question;
  byId('faq-answer-zh').value = zh;
  byId('faq-answer-en').value = en;
  byId('faq-alternates').value = entry ? (entry.alternates || []).join('\n') : '';
  byId('faq-tags').value = entry ? (entry.tags || []).join(', ') : '';
  say(byId('faq-error'), '');
  byId(entry ? 'faq-answer-zh' : 'faq-id').focus();
  form.scrollIntoView({ block: 'nearest' });
}

async function saveFaq(event) {
  event.preventDefault();
  const error = byId('faq-error');
  const id = byId('faq-id').value.trim();
  if (!ID.test(id)) { say(error, t('flowBadId')); return; }
  const body = {
    question: byId('faq-question').value.trim(),
    answer: joinAnswer(byId('faq-answer-zh').value, byId('faq-answer-en').value),
    alternates: byId('faq-alternates').value.split('\n').map((s) => s.trim()).filter(Boolean),
    tags: byId('faq-tags').value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean),
  };
  try {
    await api('PUT', `/api/library/draft/faq/${encodeURIComponent(id)}`, body);
    byId('faq-form').hidden = true;
    say(byId('faq-status'), t('faqSaved', { id }), 'ok');
    await load();
  } catch (failure) {
    editFailure(error, failure);
  }
}

async function deleteFaq(id) {
  try {
    await api('DELETE', `/api/library/draft/faq/${encodeURIComponent(id)}`);
    say(byId('faq-status'), t('faqDeleted', { id }), 'ok');
    await load();
  } catch (failure) {
    editFailure(byId('faq-status'), failure);
  }
}

async function uploadCsv() {
  const result = byId('faq-csv-result');
  const file = byId('faq-csv-file').files[0];
  if (!file) { say(result, t('csvPick'), 'error'); return; }
  try {
    const answer = await api('POST', '/api/library/draft/faq-import', await file.text(), { contentType: 'text/csv' });
    say(result, t('csvDone', answer), 'ok');
    await load();
  } catch (failure) {
    const problems = failure instanceof ApiError ? failure.problems.map((p) => `${p.where}: ${p.message}`) : [];
    say(result, problems.length ? [t('csvProblems'), ...problems].join('\n') : failureText(failure), 'error');
  }
}

// ---- Flows: YAML with line numbers and the problems at their lines -----------------------------

let flowId = '';
let flowOriginal = '';
let flowErrorLines = new Map();

function flowIds() {
  const fromParts = Array.isArray(parts().flows) ? parts().flows : [];
  const fromFiles = Object.keys((draft && draft.files) || {}).filter((n) => n.startsWith('flows/') && n.endsWith('.yaml')).map((n) => n.slice(6, -5));
  return [...new Set([...fromParts, ...fromFiles])].sort();
}

function renderFlows() {
  const select = byId('flow-select');
  const ids = flowIds();
  if (!ids.includes(flowId) && flowId === '') flowId = ids[0] || '';
  const options = ids.includes(flowId) || !flowId ? ids : [...ids, flowId];
  select.replaceChildren(...options.map((id) => el('option', { value: id, text: id, selected: id === flowId })));
  if (byId('flow-yaml').dataset.flow !== flowId) showFlow(flowId, draft.files[`flows/${flowId}.yaml`] ?? '');
}

function showFlow(id, text) {
  flowId = id;
  flowOriginal = text;
  const area = byId('flow-yaml');
  area.value = text;
  area.dataset.flow = id;
  flowErrorLines = new Map();
  byId('flow-problems').replaceChildren();
  say(byId('flow-status'), '');
  drawGutter();
}

function drawGutter() {
  const area = byId('flow-yaml');
  const gutter = byId('flow-gutter');
  const count = area.value.split('\n').length;
  const lines = [];
  for (let n = 1; n <= count; n++) {
    const problem = flowErrorLines.get(n);
    lines.push(el('span', { class: problem ? 'line err' : 'line', title: problem || undefined, testid: problem ? 'flow-error-line' : undefined, text: String(n) }), '\n');
  }
  gutter.replaceChildren(...lines);
  gutter.scrollTop = area.scrollTop;
}

/** Selects a line of the editor, so the manager lands where the problem is. */
function goToLine(n) {
  const area = byId('flow-yaml');
  const lines = area.value.split('\n');
  const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[n - 1] || '').length);
  const lineHeight = area.scrollHeight / Math.max(lines.length, 1);
  area.scrollTop = Math.max(0, (n - 5) * lineHeight);
}

async function saveFlow() {
  const status = byId('flow-status');
  const list = byId('flow-problems');
  if (!ID.test(flowId)) { say(status, t('flowBadId'), 'error'); return; }
  try {
    await api('PUT', `/api/library/draft/flows/${encodeURIComponent(flowId)}`, byId('flow-yaml').value, { contentType: 'text/yaml' });
    flowErrorLines = new Map();
    list.replaceChildren();
    drawGutter();
    say(status, t('flowSaved', { id: flowId }), 'ok');
    const text = byId('flow-yaml').value;
    await load();
    showFlow(flowId, text);
    say(status, t('flowSaved', { id: flowId }), 'ok');
  } catch (failure) {
    if (!(failure instanceof ApiError) || failure.problems.length === 0) { editFailure(status, failure); return; }
    say(status, t('flowRefused'), 'error');
    flowErrorLines = new Map();
    list.replaceChildren(...failure.problems.map((p) => {
      const line = Number((/\.yaml:(\d+)/.exec(p.where) || [])[1]) || null;
      if (line) flowErrorLines.set(line, [flowErrorLines.get(line), p.message].filter(Boolean).join('; '));
      return el('li', { testid: 'flow-problem', dataset: line ? { line: String(line) } : {} },
        line ? el('button', { type: 'button', class: 'link-button', text: t('lineN', { n: line }), onclick: () => goToLine(line) }) : null,
        el('span', { class: 'where', text: p.where }), el('span', { text: p.message }));
    }));
    drawGutter();
  }
}

function newFlow() {
  const id = byId('flow-new-id').value.trim();
  if (!ID.test(id)) { say(byId('flow-status'), t('flowBadId'), 'error'); return; }
  const template = [
    `id: ${id}`,
    `title: { zh: ${t('flowTemplate')}, en: New flow }`,
    'intents: []',
    'steps:',
    '  - id: start',
    '    type: say',
    '    text:',
    '      zh: 您好！',
    '      en: Hello!',
    '  - id: done',
    '    type: end',
    '',
  ].join('\n');
  showFlow(id, template);
  renderFlows();
}

async function deleteFlow() {
  const id = flowId;
  try {
    await api('DELETE', `/api/library/draft/flows/${encodeURIComponent(id)}`);
    flowId = '';
    await load();
    say(byId('flow-status'), t('flowDeleted', { id }), 'ok');
  } catch (failure) {
    editFailure(byId('flow-status'), failure);
  }
}

// ---- Bot replies -------------------------------------------------------------------------------

let replyName = '';

function renderReplies() {
  const replies = parts().replies || {};
  const names = Object.keys(replies).sort();
  if (!names.includes(replyName)) replyName = names[0] || '';
  byId('reply-select').replaceChildren(...names.map((n) => el('option', { value: n, text: n, selected: n === replyName })));
  const text = replies[replyName] || { zh: '', en: '' };
  byId('reply-zh').value = text.zh || '';
  byId('reply-en').value = text.en || '';
}

async function saveReply(event) {
  event.preventDefault();
  say(byId('reply-error'), '');
  try {
    await api('PUT', `/api/library/draft/replies/${encodeURIComponent(replyName)}`, { zh: byId('reply-zh').value.trim(), en: byId('reply-en').value.trim() });
    await load();
    say(byId('reply-status'), t('replySaved', { id: replyName }), 'ok');
  } catch (failure) {
    editFailure(byId('reply-error'), failure);
  }
}

// ---- Canned replies and shifts (listed from the live library: the draft keeps them in handover.yaml) ----

async function renderCanned() {
  byId('handover-yaml').textContent = (draft.files && draft.files['handover.yaml']) || '';
  const { canned } = await api('GET', '/api/handover/canned');
  byId('canned-rows').replaceChildren(...canned.map((c) => el('tr', { testid: 'canned-row', dataset: { id: c.id } },
    el('td', { class: 'mono', text: c.id }), el('td', { text: c.title }), el('td', { class: 'clip', text: c.text.zh }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', text: t('edit'), onclick: () => {
        byId('canned-id').value = c.id; byId('canned-title').value = c.title; byId('canned-zh').value = c.text.zh; byId('canned-en').value = c.text.en;
      } }),
      confirmButton(t('delete'), t('confirmDelete'), () => deletePart('canned', c.id, byId('canned-status')), { class: 'danger' })))));
}

async function saveCanned(event) {
  event.preventDefault();
  const id = byId('canned-id').value.trim();
  say(byId('canned-error'), '');
  if (!ID.test(id)) { say(byId('canned-error'), t('flowBadId')); return; }
  try {
    await api('PUT', `/api/library/draft/canned/${encodeURIComponent(id)}`, { title: byId('canned-title').value.trim(), text: { zh: byId('canned-zh').value.trim(), en: byId('canned-en').value.trim() } });
    await load();
    say(byId('canned-status'), t('cannedSaved', { id }), 'ok');
  } catch (failure) {
    editFailure(byId('canned-error'), failure);
  }
}

async function renderShifts() {
  const { shifts } = await api('GET', '/api/handover/shifts');
  byId('shift-rows').replaceChildren(...shifts.map((s) => el('tr', { testid: 'shift-row', dataset: { id: s.id } },
    el('td', { class: 'mono', text: s.id }), el('td', { text: `${s.name.zh} / ${s.name.en}` }), el('td', { text: `${s.start}–${s.end}` }),
    el('td', { text: s.staffed === false ? t('no') : t('yes') }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', text: t('edit'), onclick: () => {
        byId('shift-id').value = s.id; byId('shift-name-zh').value = s.name.zh; byId('shift-name-en').value = s.name.en;
        byId('shift-start').value = s.start; byId('shift-end').value = s.end; byId('shift-staffed').checked = s.staffed !== false;
      } }),
      confirmButton(t('delete'), t('confirmDelete'), () => deletePart('shifts', s.id, byId('shift-status')), { class: 'danger' })))));
}

async function saveShift(event) {
  event.preventDefault();
  const id = byId('shift-id').value.trim();
  say(byId('shift-error'), '');
  try {
    await api('PUT', `/api/library/draft/shifts/${encodeURIComponent(id)}`, {
      name: { zh: byId('shift-name-zh').value.trim(), en: byId('shift-name-en').value.trim() },
      start: byId('shift-start').value, end: byId('shift-end').value, staffed: byId('shift-staffed').checked,
    });
    await load();
    say(byId('shift-status'), t('shiftSaved', { id }), 'ok');
  } catch (failure) {
    editFailure(byId('shift-error'), failure);
  }
}

async function deletePart(name, id, status) {
  try {
    await api('DELETE', `/api/library/draft/${name}/${encodeURIComponent(id)}`);
    await load();
  } catch (failure) {
    editFailure(status, failure);
  }
}

// ---- Forbidden phrases and policy values --------------------------------------------------------

function renderForbidden() {
  const phrases = Array.isArray(parts().forbidden) ? parts().forbidden : [];
  byId('forbidden-list').replaceChildren(...phrases.map((phrase) => el('li', { class: 'chip', testid: 'forbidden-item' },
    el('span', { text: phrase }),
    el('button', { type: 'button', class: 'chip-x', 'aria-label': t('forbiddenRemove', { phrase }), text: '×', onclick: async () => {
      try {
        await api('DELETE', `/api/library/draft/forbidden/${encodeURIComponent(phrase)}`);
        await load();
      } catch (failure) {
        editFailure(byId('forbidden-error'), failure);
      }
    } }))));
}

async function addForbidden(event) {
  event.preventDefault();
  const phrase = byId('forbidden-phrase').value.trim();
  say(byId('forbidden-error'), '');
  if (!phrase) return;
  try {
    await api('PUT', `/api/library/draft/forbidden/${encodeURIComponent(phrase)}`);
    byId('forbidden-phrase').value = '';
    await load();
  } catch (failure) {
    editFailure(byId('forbidden-error'), failure);
  }
}

function renderPolicy() {
  const policy = parts().policy || {};
  const editable = Object.entries(policy).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean').sort(([a], [b]) => a.localeCompare(b));
  byId('policy-rows').replaceChildren(...editable.map(([name, value]) => {
    const input = typeof value === 'boolean'
      ? el('input', { type: 'checkbox', checked: value, testid: 'policy-input', 'aria-label': name })
      : el('input', { type: 'number', step: 'any', value: String(value), testid: 'policy-input', 'aria-label': name });
    return el('tr', { testid: 'policy-row', dataset: { id: name } },
      el('td', { class: 'mono', text: name }), el('td', {}, input),
      el('td', {}, el('button', { type: 'button', testid: 'policy-save', text: t('save'), onclick: () => savePolicy(name, input) })));
  }));
}

async function savePolicy(name, input) {
  say(byId('policy-error'), '');
  const value = input.type === 'checkbox' ? input.checked : Number(input.value);
  if (typeof value === 'number' && (!input.value.trim() || !Number.isFinite(value))) { say(byId('policy-error'), t('policyBad')); return; }
  try {
    await api('PUT', `/api/library/draft/policy/${encodeURIComponent(name)}`, value);
    await load();
    say(byId('policy-status'), t('policySaved', { id: name }), 'ok');
  } catch (failure) {
    editFailure(byId('policy-error'), failure);
  }
}

/** Wires the tab's controls once. */
export function init(context) {
  ctx = context;
  for (const button of document.querySelectorAll('[data-part]')) {
    button.addEventListener('click', () => { part = button.dataset.part; void render().catch(ctx.fail); });
  }
  byId('faq-search').addEventListener('input', renderFaq);
  byId('faq-new').addEventListener('click', () => openFaq(null));
  byId('faq-cancel').addEventListener('click', () => { byId('faq-form').hidden = true; });
  byId('faq-form').addEventListener('submit', saveFaq);
  byId('faq-csv-upload').addEventListener('click', () => void uploadCsv());
  byId('flow-select').addEventListener('change', (e) => showFlow(e.target.value, draft.files[`flows/${e.target.value}.yaml`] ?? ''));
  byId('flow-yaml').addEventListener('input', drawGutter);
  byId('flow-yaml').addEventListener('scroll', () => { byId('flow-gutter').scrollTop = byId('flow-yaml').scrollTop; });
  byId('flow-yaml').addEventListener('keydown', (e) => {
    // Tab indents by two spaces, as YAML wants, instead of leaving the editor.
    if (e.key !== 'Tab' || e.shiftKey) return;
    e.preventDefault();
    const area = e.target;
    area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
    drawGutter();
  });
  byId('flow-save').addEventListener('click', () => void saveFlow());
  byId('flow-revert').addEventListener('click', () => showFlow(flowId, flowOriginal));
  byId('flow-new').addEventListener('click', newFlow);
  let deleteArmed = false;
  byId('flow-delete').addEventListener('click', () => {
    const button = byId('flow-delete');
    if (!deleteArmed) {
      deleteArmed = true;
      button.textContent = t('confirmDelete');
      setTimeout(() => { deleteArmed = false; button.textContent = t('delete'); }, 4000);
      return;
    }
    deleteArmed = false;
    button.textContent = t('delete');
    void deleteFlow();
  });
  byId('reply-select').addEventListener('change', (e) => { replyName = e.target.value; renderReplies(); });
  byId('reply-form').addEventListener('submit', saveReply);
  byId('canned-form').addEventListener('submit', saveCanned);
  byId('shift-form').addEventListener('submit', saveShift);
  byId('forbidden-form').addEventListener('submit', addForbidden);
}
