// The manager console's start: sign-in (the server sets the httpOnly session cookie), the tabs, the label language; each tab lives in its own module.
import { api, ApiError, applyLabels, byId, currentLang, failureText, say, setLang, setUnauthorizedHandler, t } from './dom.js';
import * as library from './library.js';
import * as publish from './publish.js';
import * as pending from './pending.js';
import * as reports from './reports.js';
import * as staff from './staff.js';
import * as channels from './channels.js';

const TABS = { library, publish, pending, reports, staff, channels };
let tab = 'library';

function view(name) {
  document.body.dataset.view = name;
  byId('login-view').hidden = name !== 'login';
  byId('app-view').hidden = name !== 'app';
}

/** Shows a failure no form owns (loading a tab). */
function fail(error) {
  const banner = byId('banner');
  say(banner, failureText(error), 'error');
}

async function showTab(name) {
  const next = TABS[name] ? name : 'library';
  if (next !== tab) TABS[tab].leave?.();
  tab = next;
  for (const button of document.querySelectorAll('[data-tab]')) {
    const on = button.dataset.tab === tab;
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
  }
  for (const panel of document.querySelectorAll('.panel')) panel.hidden = panel.id !== `panel-${tab}`;
  say(byId('banner'), '');
  try {
    await TABS[tab].load();
  } catch (error) {
    fail(error);
  }
}

function showLogin(message) {
  TABS[tab].leave?.();
  view('login');
  say(byId('login-error'), message || '');
  byId('login-username').focus();
}

async function enter(me) {
  if (me.role !== 'manager') {
    await api('POST', '/api/auth/logout', undefined, { quietUnauthorized: true }).catch(() => undefined);
    showLogin(t('notManager'));
    return;
  }
  byId('who').textContent = me.displayName || me.username;
  view('app');
  await showTab(tab);
}

async function login(event) {
  event.preventDefault();
  const username = byId('login-username').value.trim();
  const password = byId('login-password').value;
  const error = byId('login-error');
  if (!username || !password) { say(error, t('loginMissing')); return; }
  const submit = byId('login-submit');
  submit.disabled = true;
  submit.textContent = t('loggingIn');
  try {
    await api('POST', '/api/auth/login', { username, password }, { quietUnauthorized: true });
    byId('login-password').value = '';
    await enter(await api('GET', '/api/auth/me'));
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) say(error, t('badCredentials'));
    else if (failure instanceof ApiError && failure.status === 429) say(error, t('tooManyAttempts'));
    else say(error, failureText(failure));
  } finally {
    submit.disabled = false;
    submit.textContent = t('login');
  }
}

function toggleLang() {
  setLang(currentLang() === 'zh' ? 'en' : 'zh');
  applyLabels();
  // Re-draw what was built in script; forms keep what was typed.
  if (tab === 'reports') reports.render();
  else if (tab === 'library') void library.render().catch(fail);
  else if (!byId('app-view').hidden) void TABS[tab].load().catch(fail);
}

async function start() {
  applyLabels();
  const context = { showTab: (name) => void showTab(name), fail };
  for (const module of Object.values(TABS)) module.init(context);
  byId('login-form').addEventListener('submit', (e) => void login(e));
  for (const button of document.querySelectorAll('[data-tab]')) button.addEventListener('click', () => void showTab(button.dataset.tab));
  for (const button of document.querySelectorAll('[data-lang-toggle]')) button.addEventListener('click', toggleLang);
  byId('logout').addEventListener('click', async () => {
    await api('POST', '/api/auth/logout', undefined, { quietUnauthorized: true }).catch(() => undefined);
    showLogin('');
  });
  setUnauthorizedHandler(() => showLogin(t('sessionExpired')));
  try {
    await enter(await api('GET', '/api/auth/me', undefined, { quietUnauthorized: true }));
  } catch {
    showLogin('');
  }
}

void start();
