// 检查与发布: run the check and list problems with where they are, run the stories, see the diff against live, publish with a comment, versions with rollback, and the audit log.
import { api, ApiError, byId, confirmButton, el, failureText, say, t, when, word } from './dom.js';

let ctx = { fail: () => {} };

function problemItems(problems) {
  return problems.map((p) => el('li', { testid: 'check-problem' }, el('span', { class: 'where', testid: 'problem-where', text: p.where }), el('span', { text: p.message })));
}

async function runCheck() {
  const result = byId('check-result');
  const list = byId('check-problems');
  const button = byId('check-run');
  button.disabled = true;
  say(result, t('checkRunning'), 'running');
  list.replaceChildren();
  try {
    const answer = await api('POST', '/api/library/draft/check');
    say(result, answer.ok ? t('checkOk') : t('checkFailed', { n: answer.problems.length }), answer.ok ? 'ok' : 'failed');
    list.replaceChildren(...problemItems(answer.problems));
    if (answer.ok) {
      // An earlier refusal to publish is out of date now.
      byId('publish-problems').replaceChildren();
      say(byId('publish-result'), '');
    }
    void loadAudit();
  } catch (failure) {
    say(result, failureText(failure), 'error');
  } finally {
    button.disabled = false;
  }
}

/** Story results as the runner gives them ({name, passed, problems, transcript}); unknown shapes are shown as they come. */
function storyItem(story) {
  const name = String((story && (story.name ?? story.title ?? story.id)) ?? '?');
  const passed = Boolean(story && (story.passed ?? story.ok));
  const problems = story && Array.isArray(story.problems) ? story.problems.map(String) : [];
  const transcript = story && Array.isArray(story.transcript) ? story.transcript.map(String) : [];
  return el('li', { testid: 'story-result', dataset: { state: passed ? 'passed' : 'failed' } },
    el('span', { class: passed ? 'badge ok' : 'badge bad', text: passed ? t('storyPassed') : t('storyFailed') }),
    el('span', { class: 'story-name', text: name }),
    problems.length ? el('ul', {}, problems.map((p) => el('li', { text: p }))) : null,
    transcript.length && !passed ? el('details', {}, el('summary', { text: '…' }), el('pre', { text: transcript.join('\n') })) : null);
}

async function runStories() {
  const result = byId('stories-result');
  const list = byId('stories-list');
  const button = byId('stories-run');
  button.disabled = true;
  say(result, t('storiesRunning'), 'running');
  list.replaceChildren();
  try {
    const answer = await api('POST', '/api/library/draft/test');
    const results = Array.isArray(answer.results) ? answer.results : [];
    say(result, t('storiesDone', { passed: answer.passed ?? 0, failed: answer.failed ?? 0 }), answer.failed ? 'failed' : 'passed');
    list.replaceChildren(...results.map(storyItem));
    void loadAudit();
  } catch (failure) {
    // 501: the story runner is not wired in this build; say so, politely, and what to do meanwhile.
    if (failure instanceof ApiError && failure.status === 501) say(result, t('storiesUnavailable'), 'unavailable');
    else say(result, failureText(failure), 'error');
  } finally {
    button.disabled = false;
  }
}

async function showDiff() {
  const box = byId('diff');
  try {
    const answer = await api('GET', '/api/library/draft/diff');
    byId('diff-summary').textContent = answer.files.length === 0 ? t('diffNone', { from: answer.from }) : t('diffSummary', { n: answer.files.length, from: answer.from });
    box.replaceChildren(...answer.files.map((file) => el('div', { class: 'diff-file', testid: 'diff-file', dataset: { name: file.name } },
      el('div', { class: 'diff-head' }, el('span', { class: 'mono', text: file.name }), el('span', { class: `badge ${file.status}`, text: t(`diff${file.status[0].toUpperCase()}${file.status.slice(1)}`) })),
      ...file.hunks.map((hunk) => el('pre', { class: 'diff-hunk' },
        el('span', { class: 'diff-at', text: `@@ -${hunk.oldStart} +${hunk.newStart} @@\n` }),
        ...hunk.lines.map((line) => el('span', { class: line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'ctx', testid: 'diff-line', text: `${line}\n` })))))));
  } catch (failure) {
    byId('diff-summary').textContent = failureText(failure);
  }
}

async function publish(event) {
  event.preventDefault();
  const result = byId('publish-result');
  const list = byId('publish-problems');
  const comment = byId('publish-comment').value.trim();
  list.replaceChildren();
  if (!comment) { say(result, t('publishNeedComment'), 'error'); return; }
  byId('publish-submit').disabled = true;
  say(result, t('publishing'), 'running');
  try {
    const live = await api('POST', '/api/library/publish', { comment });
    say(result, t('published', { version: live.version }), 'ok');
    byId('publish-comment').value = '';
    await Promise.all([loadVersions(), loadAudit(), showDiff()]);
  } catch (failure) {
    if (failure instanceof ApiError && failure.code === 'check_failed') {
      say(result, t('publishRefused'), 'failed');
      list.replaceChildren(...problemItems(failure.problems));
    } else if (failure instanceof ApiError && failure.code === 'conflict') say(result, t('publishConflict'), 'error');
    else say(result, failureText(failure), 'error');
  } finally {
    byId('publish-submit').disabled = false;
  }
}

async function loadVersions() {
  const { live, versions } = await api('GET', '/api/library/versions');
  byId('version-rows').replaceChildren(...versions.map((v) => el('tr', { testid: 'version-row', dataset: { version: String(v.version), live: String(v.version === live) } },
    el('td', {}, el('span', { class: 'mono', text: String(v.version) }), v.version === live ? el('span', { class: 'badge ok', testid: 'version-live', text: t('live') }) : null),
    el('td', { text: when(v.publishedAt) }),
    el('td', { text: v.publishedBy }),
    el('td', { text: v.comment }),
    el('td', { class: 'actions' }, v.version === live ? null : confirmButton(t('rollback'), t('rollbackConfirm', { version: v.version }), () => rollback(v.version), { testid: 'rollback' })))));
}

async function rollback(version) {
  const result = byId('publish-result');
  try {
    const live = await api('POST', '/api/library/rollback', { version });
    say(result, t('rolledBack', { version: live.version }), 'ok');
    await Promise.all([loadVersions(), loadAudit()]);
  } catch (failure) {
    say(result, failureText(failure), 'error');
    if (failure instanceof ApiError) byId('publish-problems').replaceChildren(...problemItems(failure.problems));
  }
}

async function loadAudit() {
  const { audit } = await api('GET', '/api/library/audit');
  byId('audit-rows').replaceChildren(...audit.slice(0, 200).map((a) => el('tr', { testid: 'audit-row', dataset: { action: String(a.action) } },
    el('td', { text: when(a.at) }), el('td', { text: a.by }), el('td', { text: word('audit', a.action) }), el('td', { class: 'clip', text: a.detail ?? '', title: a.detail ?? '' }))));
}

async function resetDraft() {
  try {
    await api('POST', '/api/library/draft/reset');
    say(byId('publish-result'), t('draftResetDone'), 'ok');
    await Promise.all([showDiff(), loadAudit()]);
  } catch (failure) {
    say(byId('publish-result'), failureText(failure), 'error');
  }
}

export async function load() {
  await Promise.all([loadVersions(), loadAudit(), showDiff()]);
}

export function init(context) {
  ctx = context;
  byId('check-run').addEventListener('click', () => void runCheck());
  byId('stories-run').addEventListener('click', () => void runStories());
  byId('diff-run').addEventListener('click', () => void showDiff());
  byId('publish-form').addEventListener('submit', (e) => void publish(e).catch(ctx.fail));
  const reset = byId('draft-reset');
  reset.replaceWith(confirmButton(t('draftReset'), t('draftResetConfirm'), resetDraft, { class: 'link-button', testid: 'draft-reset', id: 'draft-reset' }));
}
