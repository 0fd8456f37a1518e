// 员工: staff accounts (GET/POST /api/staff, docs/agent-api.md).
import { api, ApiError, byId, el, failureText, say, t, when, word } from './dom.js';

async function loadStaff() {
  const { staff } = await api('GET', '/api/staff');
  byId('staff-rows').replaceChildren(...staff.map((s) => el('tr', { testid: 'staff-row', dataset: { username: s.username } },
    el('td', { class: 'mono', text: s.username }), el('td', { text: s.displayName ?? '' }), el('td', { text: word('role', s.role) }),
    el('td', { text: when(s.createdAt) }), el('td', { text: s.onDuty ? t('yes') : '' }))));
}

async function create(event) {
  event.preventDefault();
  const error = byId('staff-error');
  const status = byId('staff-status');
  say(error, '');
  say(status, '');
  const username = byId('staff-username').value.trim();
  const displayName = byId('staff-display').value.trim();
  const body = { username, password: byId('staff-password').value, role: byId('staff-role').value, ...(displayName ? { displayName } : {}) };
  try {
    await api('POST', '/api/staff', body);
    say(status, t('staffCreated', { username }), 'ok');
    byId('staff-form').reset();
    await loadStaff();
  } catch (failure) {
    say(error, failure instanceof ApiError && failure.code === 'exists' ? t('staffExists') : failureText(failure));
  }
}

export async function load() {
  await loadStaff();
}

export function init() {
  byId('staff-form').addEventListener('submit', (e) => void create(e));
}
