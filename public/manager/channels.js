// 渠道: WeChat's login state (QR code to scan, the account, logout after a confirm step in the page) and Telegram's connection, from GET /api/channels (docs/channels.md); polled every 3 s while the tab is open.
import { api, byId, failureText, say, t, when } from './dom.js';

const POLL_MS = 3000;
const QR_PATH = '/api/channels/wechat/qr.svg';

const WECHAT_STATES = {
  standby: 'wechatStandby',
  starting: 'wechatStarting',
  waitingForScan: 'wechatWaitingForScan',
  loggedIn: 'wechatLoggedIn',
  loggedOut: 'wechatLoggedOut',
  stopped: 'wechatStopped',
};
const TELEGRAM_STATES = {
  running: 'telegramRunning',
  starting: 'telegramStarting',
  standby: 'telegramStandby',
  stopped: 'telegramStopped',
};

let timer;
/** True while the tab is open: polling goes on. */
let open = false;
/** The last status shown (re-drawn when the language changes). */
let last = null;
/** What the QR image was loaded for (state time and content); a change loads it again. */
let qrLoadedFor = '';
let qrVersion = 0;

function panelShown() {
  return open && !byId('app-view').hidden && !byId('panel-channels').hidden;
}

function stateText(map, state) {
  return map[state] ? t(map[state]) : String(state ?? '');
}

function setState(node, text, state) {
  node.textContent = text;
  node.dataset.channelState = state;
}

function timeOf(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return `${when(iso)}:${String(d.getSeconds()).padStart(2, '0')}`;
}

function showQr(wechat) {
  const img = byId('wechat-qr');
  const key = `${wechat.since}|${wechat.qrcode ?? ''}`;
  if (key === qrLoadedFor) return;
  qrLoadedFor = key;
  byId('wechat-qr-missing').hidden = true;
  // A new URL each time, so neither the browser nor a proxy shows the previous code.
  img.src = `${QR_PATH}?v=${Date.now().toString(36)}-${++qrVersion}`;
}

function hideQr() {
  qrLoadedFor = '';
  const img = byId('wechat-qr');
  img.removeAttribute('src');
  byId('wechat-qr-missing').hidden = true;
}

function renderWechat(wechat) {
  const state = byId('wechat-state');
  byId('wechat-qr').alt = t('wechatQrAlt');
  byId('wechat-off').hidden = wechat !== null;
  byId('wechat-facts').hidden = wechat === null;
  if (!wechat) {
    setState(state, t('channelOff'), 'off');
    byId('wechat-standby').hidden = true;
    byId('wechat-scan').hidden = true;
    byId('wechat-account').hidden = true;
    hideQr();
    say(byId('wechat-error'), '');
    return;
  }
  setState(state, stateText(WECHAT_STATES, wechat.state), wechat.state);
  byId('wechat-puppet').textContent = String(wechat.puppet ?? '');
  byId('wechat-since').textContent = timeOf(wechat.since);
  byId('wechat-standby').hidden = wechat.state !== 'standby';

  const waiting = wechat.state === 'waitingForScan' && Boolean(wechat.qrcode);
  byId('wechat-scan').hidden = !waiting;
  if (waiting) showQr(wechat);
  else hideQr();

  const loggedIn = wechat.state === 'loggedIn';
  byId('wechat-account').hidden = !loggedIn;
  if (loggedIn) {
    byId('wechat-user').textContent = String(wechat.user?.name ?? '');
    byId('wechat-user-id').textContent = wechat.user?.id ? `(${wechat.user.id})` : '';
  } else {
    byId('wechat-logout-box').hidden = true;
    byId('wechat-logout').hidden = false;
  }
  if (loggedIn || waiting) say(byId('wechat-status'), '');
  say(byId('wechat-error'), wechat.lastError ? t('wechatLastError', { error: wechat.lastError }) : '');
}

function telegramHolder(telegram) {
  if (telegram.mode === 'webhook') return telegram.state === 'stopped' ? '-' : t('holderEvery');
  switch (telegram.state) {
    case 'running': return t('holderThis');
    case 'standby': return t('holderOther');
    case 'starting': return t('holderConnecting');
    default: return '-';
  }
}

function renderTelegram(telegram) {
  const state = byId('telegram-state');
  byId('telegram-off').hidden = telegram !== null;
  byId('telegram-facts').hidden = telegram === null;
  if (!telegram) {
    setState(state, t('channelOff'), 'off');
    return;
  }
  setState(state, stateText(TELEGRAM_STATES, telegram.state), telegram.state);
  state.dataset.mode = String(telegram.mode ?? '');
  byId('telegram-mode').textContent = telegram.mode === 'webhook' ? t('telegramWebhook') : telegram.mode === 'polling' ? t('telegramPolling') : String(telegram.mode ?? '');
  byId('telegram-holder').textContent = telegramHolder(telegram);
  byId('telegram-username').textContent = telegram.username ? `@${telegram.username}` : '-';
  byId('telegram-since').textContent = timeOf(telegram.since);
  const error = byId('telegram-error');
  error.textContent = telegram.lastError ? String(telegram.lastError) : t('none');
  error.classList.toggle('form-error', Boolean(telegram.lastError));
}

function render() {
  if (!last) return;
  renderWechat(last.wechat ?? null);
  renderTelegram(last.telegram ?? null);
  byId('channels-updated').textContent = t('channelsUpdated', { time: timeOf(last.at) });
}

async function refresh() {
  const status = await api('GET', '/api/channels');
  last = { wechat: status?.wechat ?? null, telegram: status?.telegram ?? null, at: new Date().toISOString() };
  say(byId('channels-error'), '');
  render();
}

function schedule() {
  clearTimeout(timer);
  if (!open) return;
  timer = setTimeout(async () => {
    if (!panelShown()) { leave(); return; }
    try {
      await refresh();
    } catch (failure) {
      // The last state stays on screen; the next poll tries again. A 401 has already gone to the login.
      if (panelShown()) say(byId('channels-error'), failureText(failure));
    }
    schedule();
  }, POLL_MS);
}

async function logout() {
  const confirm = byId('wechat-logout-confirm');
  const status = byId('wechat-status');
  confirm.disabled = true;
  say(status, t('wechatLoggingOut'));
  try {
    await api('POST', '/api/channels/wechat/logout');
    byId('wechat-logout-box').hidden = true;
    byId('wechat-logout').hidden = false;
    say(status, t('wechatLoggedOutDone'), 'ok');
    await refresh();
  } catch (failure) {
    say(status, failureText(failure), 'error');
  } finally {
    confirm.disabled = false;
  }
}

/** Shows the tab: the state now, then every 3 s until the tab is left. */
export async function load() {
  open = true;
  clearTimeout(timer);
  try {
    await refresh();
  } finally {
    // The next poll 3 s after this answer (or failure), never two loops at once.
    schedule();
  }
}

/** The tab is left (another tab, the login screen): polling stops. */
export function leave() {
  open = false;
  clearTimeout(timer);
  timer = undefined;
}

export function init() {
  byId('wechat-logout').addEventListener('click', () => {
    byId('wechat-logout').hidden = true;
    byId('wechat-logout-box').hidden = false;
    say(byId('wechat-status'), '');
    byId('wechat-logout-cancel').focus();
  });
  byId('wechat-logout-cancel').addEventListener('click', () => {
    byId('wechat-logout-box').hidden = true;
    byId('wechat-logout').hidden = false;
    byId('wechat-logout').focus();
  });
  byId('wechat-logout-confirm').addEventListener('click', () => void logout());
  const img = byId('wechat-qr');
  img.addEventListener('error', () => {
    if (!img.getAttribute('src')) return;
    // Gone between the status and the image (a scan, a new code): the next poll fetches it again.
    qrLoadedFor = '';
    byId('wechat-qr-missing').hidden = false;
  });
  img.addEventListener('load', () => { byId('wechat-qr-missing').hidden = true; });
}

