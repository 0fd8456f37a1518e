// The agent console: login, the live ticket queue (SSE), a ticket's screen, the shift bar and staff management; every server or customer text goes in through textContent.

import { api, ApiError, seg, setUnauthorizedHandler } from './api.js';
import { format, LABELS, PRIORITY_RANK, VOCAB } from './labels.js';

const LANG_KEY = 'console.lang';
const QUEUE_STATUSES = new Set(['open', 'claimed']);
const ACTIVE_STATUSES = QUEUE_STATUSES;
const USERNAME_RE = /^[a-z0-9_.-]{3,32}$/;
const REPLY_MAX = 2000;

// ---------- state ----------

const state = {
  lang: loadLang(),
  /** `{username, role, displayName}` while signed in. */
  me: /** @type {null | {username: string, role: string, displayName?: string}} */ (null),
  /** Tickets in the queue (open or claimed), by id. */
  tickets: new Map(),
  queueLoaded: false,
  /** Tickets that arrived while the console was open and were not opened yet: the title badge. */
  unseen: new Set(),
  /** Tickets an `sla` event flagged, highlighted until opened. */
  slaAlerts: new Set(),
  /** Conversations with a customer message the agent has not looked at. */
  newMessages: new Set(),
  shifts: /** @type {any} */ (null),
  canned: /** @type {any[]} */ ([]),
  filter: 'all',
  /** The ticket on screen. */
  current: /** @type {any} */ (null),
  staff: /** @type {any[]} */ ([]),
  timers: /** @type {number[]} */ ([]),
};

// ---------- small helpers ----------

function loadLang() {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

function t(key) {
  return LABELS[state.lang][key] ?? LABELS.zh[key] ?? key;
}

function tf(key, values) {
  return format(t(key), values);
}

/** A vocabulary word (priority, reason…); an unknown value is shown as it came. */
function vocab(kind, value) {
  if (value === null || value === undefined || value === '') return '';
  return VOCAB[kind]?.[state.lang]?.[value] ?? VOCAB[kind]?.zh?.[value] ?? String(value);
}

function $(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/** Creates an element; text only ever through textContent. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** An element whose text follows the UI language. */
function label(tag, className, key) {
  const node = el(tag, className, t(key));
  node.dataset.i18n = key;
  return node;
}

function isString(value) {
  return typeof value === 'string';
}

function str(value) {
  if (value === null || value === undefined) return '';
  if (isString(value)) return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function parseTime(value) {
  const ms = isString(value) || typeof value === 'number' ? new Date(value).getTime() : NaN;
  return Number.isFinite(ms) ? ms : NaN;
}

function fmtTime(value) {
  const ms = parseTime(value);
  if (Number.isNaN(ms)) return '';
  const date = new Date(ms);
  const sameDay = new Date().toDateString() === date.toDateString();
  return date.toLocaleString(t('htmlLang'), sameDay ? { hour: '2-digit', minute: '2-digit' } : { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

function timeEl(value) {
  const node = el('time', 'time', fmtTime(value));
  const ms = parseTime(value);
  if (!Number.isNaN(ms)) {
    node.dateTime = new Date(ms).toISOString();
    node.title = new Date(ms).toLocaleString(t('htmlLang'));
  }
  return node;
}

function fmtDuration(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours >= 24) {
    const days = Math.floor(hours / 24);
    return state.lang === 'zh' ? `${days}天${hours % 24}小时` : `${days}d ${hours % 24}h`;
  }
  if (hours > 0) return state.lang === 'zh' ? `${hours}小时${minutes}分` : `${hours}h ${minutes}m`;
  return `${minutes}:${String(seconds).padStart(2, '0')}`;
}

function formatMoney(amount) {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return '';
  try {
    return new Intl.NumberFormat(t('htmlLang'), { style: 'currency', currency: 'CNY' }).format(amount);
  } catch {
    return `¥${amount.toFixed(2)}`;
  }
}

function shiftName(id) {
  if (!id) return '—';
  const shifts = Array.isArray(state.shifts?.shifts) ? state.shifts.shifts : [];
  const found = [state.shifts?.current, state.shifts?.next, ...shifts].find((s) => s && s.id === id);
  const name = found?.name;
  if (isString(name) && name) return name;
  // The library names shifts in both languages: {zh, en}.
  if (name && typeof name === 'object') return localized(name) || vocab('shift', id);
  return vocab('shift', id);
}

/** A `{zh, en}` text of the library in the UI language, else the other one. */
function localized(text) {
  if (isString(text)) return text;
  if (!text || typeof text !== 'object') return '';
  const other = state.lang === 'zh' ? 'en' : 'zh';
  return (isString(text[state.lang]) && text[state.lang]) || (isString(text[other]) && text[other]) || '';
}

function shiftHours(shift) {
  if (!shift || typeof shift !== 'object') return '';
  return isString(shift.start) && isString(shift.end) ? `${shift.start}–${shift.end}` : '';
}

function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('networkError');
    if (error.status >= 500) return t('serverError');
    return tf('actionFailed', { message: error.message || error.code || error.status });
  }
  return t('networkError');
}

function show(node, visible) {
  node.hidden = !visible;
}

/** A message in a status line that clears itself after a while; a label key keeps following the UI language. */
function flash(node, text, kind = 'info', ms = 6000) {
  if (LABELS.zh[text]) {
    node.dataset.i18n = text;
    text = t(text);
  } else {
    delete node.dataset.i18n;
  }
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
  clearTimeout(Number(node.dataset.timer || 0));
  if (text && ms > 0) node.dataset.timer = String(window.setTimeout(() => { node.hidden = true; }, ms));
}

// ---------- sound and title ----------

/** Created on the first user interaction (browsers only let a page play sound after one). */
let audio = /** @type {AudioContext | null} */ (null);

function unlockAudio() {
  try {
    if (!audio) {
      const Ctor = window.AudioContext || /** @type {any} */ (window).webkitAudioContext;
      if (!Ctor) return;
      audio = new Ctor();
    }
    if (audio.state === 'suspended') void audio.resume();
  } catch {
    audio = null;
  }
}

/** A short tone; silent until the agent has interacted with the page once. */
function beep(frequency = 880) {
  if (!audio || audio.state !== 'running') return;
  try {
    const start = audio.currentTime + 0.01;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(start);
    osc.stop(start + 0.3);
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
  } catch {
    // no sound is better than a broken console
  }
}

/** Says something to screen readers once (the queue itself is not a live region: its countdowns tick every second). */
function announce(text) {
  const node = $('announcer');
  node.textContent = '';
  window.setTimeout(() => { node.textContent = text; }, 50);
}

function updateTitle() {
  const count = state.me ? state.unseen.size : 0;
  document.title = count > 0 ? `(${count}) ${t('appTitle')}` : t('appTitle');
}

// ---------- language ----------

function applyLang(next) {
  state.lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // the choice just isn't remembered
  }
  document.documentElement.lang = t('htmlLang');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  for (const template of document.querySelectorAll('template')) {
    for (const node of template.content.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  }
  for (const toggle of document.querySelectorAll('[data-lang-toggle]')) {
    toggle.textContent = t('langToggle');
    toggle.setAttribute('aria-label', t('langToggleAria'));
    toggle.lang = next === 'zh' ? 'en' : 'zh-CN';
  }
  const roleSelect = /** @type {HTMLSelectElement} */ ($('staff-role'));
  for (const option of roleSelect.options) option.textContent = vocab('role', option.value);
  updateTitle();
  if (state.me) {
    renderMe();
    renderShifts();
    renderFilter();
    renderQueue();
    renderStaff();
    setEventsState(document.body.dataset.events || 'connecting');
    if (state.current) {
      state.current.view.replyInput.placeholder = t('replyPlaceholder');
      state.current.view.canned.setAttribute('aria-label', t('cannedTitle'));
      if (state.current.ticket) renderTicket(state.current.ticket);
      renderTranscript();
      renderOrder();
      renderCanned();
    }
  }
}

// ---------- views and routing ----------

function showLogin(infoKey) {
  document.body.dataset.view = 'login';
  show($('login-view'), true);
  show($('app-view'), false);
  const info = $('login-info');
  if (infoKey) {
    info.textContent = t(infoKey);
    info.dataset.i18n = infoKey;
  }
  show(info, Boolean(infoKey));
  updateTitle();
  $('login-username').focus();
}

function route() {
  if (!state.me) return;
  const hash = location.hash || '#/queue';
  const ticketMatch = /^#\/ticket\/(.+)$/.exec(hash);
  const staff = hash === '#/staff' && state.me.role === 'manager';
  document.body.dataset.page = staff ? 'staff' : 'queue';
  show($('workspace'), !staff);
  show($('staff-page'), staff);
  $('queue-tab').setAttribute('aria-current', staff ? 'false' : 'page');
  $('staff-tab').setAttribute('aria-current', staff ? 'page' : 'false');
  if (staff) {
    void loadStaff();
    return;
  }
  if (ticketMatch) {
    let id = ticketMatch[1] ?? '';
    try {
      id = decodeURIComponent(id);
    } catch {
      // keep it as written
    }
    void openTicket(id);
  } else {
    closeTicket();
  }
}

// ---------- login and session ----------

async function boot() {
  applyLang(state.lang);
  try {
    const me = await api('GET', '/api/auth/me', undefined, { quietUnauthorized: true });
    startApp(me);
  } catch {
    showLogin();
  }
}

async function login(event) {
  event.preventDefault();
  const username = /** @type {HTMLInputElement} */ ($('login-username'));
  const password = /** @type {HTMLInputElement} */ ($('login-password'));
  const error = $('login-error');
  const submit = /** @type {HTMLButtonElement} */ ($('login-submit'));
  show($('login-info'), false);
  const name = username.value.trim();
  if (!name || !password.value) {
    setLoginError('loginMissing');
    return;
  }
  submit.disabled = true;
  submit.textContent = t('loggingIn');
  try {
    // The answer carries the token too; it is deliberately not kept: the httpOnly cookie is the session.
    await api('POST', '/api/auth/login', { username: name, password: password.value }, { quietUnauthorized: true });
    password.value = '';
    show(error, false);
    const me = await api('GET', '/api/auth/me', undefined, { quietUnauthorized: true });
    startApp(me);
  } catch (failure) {
    password.value = '';
    if (failure instanceof ApiError && (failure.status === 401 || failure.status === 400)) setLoginError('badCredentials');
    else if (failure instanceof ApiError && failure.status === 429) setLoginError('tooManyAttempts');
    else if (failure instanceof ApiError && failure.status >= 500) setLoginError('serverError');
    else setLoginError('networkError');
    password.focus();
  } finally {
    submit.disabled = false;
    submit.textContent = t('login');
  }
}

function setLoginError(key) {
  const error = $('login-error');
  error.textContent = t(key);
  error.dataset.i18n = key;
  show(error, true);
}

async function logout() {
  try {
    await api('POST', '/api/auth/logout', undefined, { quietUnauthorized: true });
  } catch {
    // the session ends on this page either way
  }
  stopApp();
  history.replaceState(null, '', location.pathname);
  showLogin('loggedOut');
}

function startApp(me) {
  if (!me || !isString(me.username)) {
    showLogin();
    return;
  }
  state.me = { username: me.username, role: isString(me.role) ? me.role : 'agent', displayName: isString(me.displayName) ? me.displayName : '' };
  document.body.dataset.view = 'app';
  document.body.dataset.role = state.me.role;
  show($('login-view'), false);
  show($('app-view'), true);
  show($('staff-tab'), state.me.role === 'manager');
  renderMe();
  renderFilter();
  renderQueue();
  updateTitle();
  void loadShifts();
  void loadCanned();
  void loadQueue().then(openEvents);
  state.timers.push(window.setInterval(tick, 1000));
  state.timers.push(window.setInterval(() => void loadShifts(), 60_000));
  route();
}

function stopApp() {
  closeEvents();
  for (const timer of state.timers.splice(0)) clearInterval(timer);
  state.me = null;
  state.tickets.clear();
  state.queueLoaded = false;
  state.unseen.clear();
  state.slaAlerts.clear();
  state.newMessages.clear();
  state.shifts = null;
  state.canned = [];
  state.staff = [];
  state.current = null;
  for (const dialog of document.querySelectorAll('dialog')) if (/** @type {HTMLDialogElement} */ (dialog).open) /** @type {HTMLDialogElement} */ (dialog).close();
  $('queue').replaceChildren();
  rows.clear();
  $('ticket-pane').replaceChildren($('ticket-placeholder') ?? label('p', 'empty placeholder', 'selectTicket'));
  delete document.body.dataset.ticketOpen;
  updateTitle();
}

setUnauthorizedHandler(() => {
  if (!state.me) return;
  stopApp();
  showLogin('sessionExpired');
});

function renderMe() {
  if (!state.me) return;
  $('me-name').textContent = state.me.displayName || state.me.username;
  $('me-name').title = state.me.username;
  const role = $('me-role');
  role.textContent = vocab('role', state.me.role);
  role.dataset.role = state.me.role;
}

// ---------- live events ----------

let source = /** @type {EventSource | null} */ (null);
let eventsRetry = 1000;
let eventsRetryTimer = 0;

function setEventsState(value) {
  document.body.dataset.events = value;
  const node = $('events-status');
  node.dataset.state = value;
  node.textContent = t(value === 'open' ? 'eventsOpen' : value === 'closed' ? 'eventsClosed' : 'eventsConnecting');
}

function openEvents() {
  if (!state.me) return;
  closeEvents();
  setEventsState('connecting');
  const events = new EventSource('/api/handover/events', { withCredentials: true });
  source = events;
  events.addEventListener('open', () => {
    if (source !== events) return;
    eventsRetry = 1000;
    setEventsState('open');
    // Whatever happened before the stream was (re)opened is picked up by reading the queue again.
    void loadQueue();
  });
  const onData = (event) => {
    if (source !== events) return;
    handleEvent(parseEvent(event.data), event.type);
  };
  events.addEventListener('message', onData);
  // A server may also name its events; the same handler takes them.
  for (const type of ['ticket', 'sla']) events.addEventListener(type, onData);
  events.addEventListener('error', () => {
    if (source !== events) return;
    if (events.readyState === EventSource.CLOSED) {
      // The browser gives up on a non-stream answer (401, 5xx): check the session, then retry more slowly each time.
      events.close();
      source = null;
      setEventsState('closed');
      eventsRetryTimer = window.setTimeout(async () => {
        try {
          await api('GET', '/api/auth/me');
        } catch (failure) {
          if (failure instanceof ApiError && failure.status === 401) return; // the login page is shown
        }
        openEvents();
      }, eventsRetry);
      eventsRetry = Math.min(eventsRetry * 2, 30_000);
    } else {
      setEventsState('connecting');
    }
  });
}

function closeEvents() {
  clearTimeout(eventsRetryTimer);
  if (source) source.close();
  source = null;
}

function parseEvent(data) {
  try {
    const value = JSON.parse(data);
    return value && typeof value === 'object' ? value : null;
  } catch {
    return null;
  }
}

function handleEvent(event, eventName) {
  if (!event || !state.me) return;
  const type = isString(event.type) ? event.type : eventName;
  if (type === 'ticket' && event.ticket) {
    upsertTicket(event.ticket, { live: true });
  } else if (type === 'message') {
    onCustomerMessage(event);
    if (event.ticket) upsertTicket(event.ticket, { live: true });
  } else if (type === 'sla') {
    const ticket = event.ticket && typeof event.ticket === 'object' ? event.ticket : null;
    const id = ticket ? ticket.id : event.ticketId;
    if (!isString(id)) return;
    state.slaAlerts.add(id);
    if (ticket) upsertTicket(ticket, { live: true });
    else renderQueue();
    beep(660);
    const known = state.tickets.get(id);
    if (known) announce(tf('announceSla', { reason: vocab('reason', known.reason), customer: known.customerName ?? '' }));
  }
}

function onCustomerMessage(event) {
  const conversationId = event.conversationId ?? event.ticket?.conversationId;
  const raw = event.message;
  const entry = isString(raw) ? { from: 'customer', text: raw, at: new Date().toISOString() } : raw && typeof raw === 'object' ? raw : null;
  if (!isString(conversationId) || !entry) return;
  const current = state.current;
  if (current && current.ticket && current.ticket.conversationId === conversationId) {
    if (current.conversationLoaded) appendLine(entry, true);
    else current.pendingLines.push(entry);
    // Only the customer's words are pushed; what the bot said back (an acknowledgement) is read a moment later.
    clearTimeout(current.mergeTimer);
    current.mergeTimer = window.setTimeout(() => void loadConversation({ merge: true }), 1000);
    if (document.hasFocus()) return;
  }
  if (entry.from === 'customer' || entry.from === undefined) {
    state.newMessages.add(conversationId);
    renderQueue();
  }
}

// ---------- the queue ----------

/** Most urgent first: priority, then the earlier due time (as the API orders). */
function compareTickets(a, b) {
  const pa = PRIORITY_RANK[a.priority] ?? 9;
  const pb = PRIORITY_RANK[b.priority] ?? 9;
  if (pa !== pb) return pa - pb;
  const da = parseTime(a.dueAt);
  const db = parseTime(b.dueAt);
  if (da !== db) return (Number.isNaN(da) ? Infinity : da) - (Number.isNaN(db) ? Infinity : db);
  return String(a.createdAt ?? '').localeCompare(String(b.createdAt ?? ''));
}

let liveDuringLoad = /** @type {Map<string, any> | null} */ (null);
let queueLoading = /** @type {Promise<void> | null} */ (null);

async function loadQueue() {
  if (queueLoading) return queueLoading;
  queueLoading = (async () => {
    liveDuringLoad = new Map();
    try {
      const data = await api('GET', '/api/handover/tickets?status=open,claimed');
      const list = Array.isArray(data?.tickets) ? data.tickets.filter((ticket) => ticket && isString(ticket.id)) : [];
      const fresh = new Map(list.map((ticket) => [ticket.id, ticket]));
      // Changes pushed while the list was on its way are newer than the list.
      for (const [id, ticket] of liveDuringLoad) {
        if (QUEUE_STATUSES.has(ticket.status)) fresh.set(id, ticket);
        else fresh.delete(id);
      }
      let arrived = 0;
      if (state.queueLoaded) {
        for (const [id, ticket] of fresh) {
          if (!state.tickets.has(id) && ticket.status === 'open' && !ticket.assignee) {
            state.unseen.add(id);
            arrived += 1;
          }
        }
      }
      state.tickets = fresh;
      state.queueLoaded = true;
      if (arrived > 0) {
        beep();
        announce(tf('announceNew', { count: arrived }));
      }
      renderQueue();
      updateTitle();
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 401)) {
        const empty = $('queue-empty');
        empty.textContent = errorText(failure);
        delete empty.dataset.i18n;
        show(empty, state.tickets.size === 0);
      }
    } finally {
      liveDuringLoad = null;
      queueLoading = null;
    }
  })();
  return queueLoading;
}

function upsertTicket(ticket, { live }) {
  if (!ticket || !isString(ticket.id)) return;
  const id = ticket.id;
  const before = state.tickets.get(id) ?? (state.current?.id === id ? state.current.ticket : null);
  if (liveDuringLoad) liveDuringLoad.set(id, ticket);
  const inQueue = QUEUE_STATUSES.has(ticket.status);
  const isNew = !state.tickets.has(id);
  if (inQueue) state.tickets.set(id, ticket);
  else state.tickets.delete(id);
  if (live && isNew && inQueue && state.queueLoaded && ticket.status === 'open' && !ticket.assignee && state.current?.id !== id) {
    state.unseen.add(id);
    beep();
    announce(tf('announceTicket', { reason: vocab('reason', ticket.reason), customer: ticket.customerName ?? '' }));
  }
  if (!inQueue || ticket.assignee) state.unseen.delete(id);
  if (state.current?.id === id) renderTicket(ticket);
  if (before && (before.shift !== ticket.shift || (before.handovers?.length ?? 0) !== (ticket.handovers?.length ?? 0))) scheduleShiftsRefresh();
  renderQueue();
  updateTitle();
}

function renderFilter() {
  const select = /** @type {HTMLSelectElement} */ ($('queue-filter'));
  const shifts = Array.isArray(state.shifts?.shifts) ? state.shifts.shifts.filter((s) => s && isString(s.id)) : [];
  const options = [{ value: 'all', text: t('filterAll') }, ...shifts.map((s) => ({ value: s.id, text: shiftName(s.id) }))];
  if (!options.some((o) => o.value === state.filter)) state.filter = 'all';
  select.replaceChildren(
    ...options.map((o) => {
      const option = el('option', '', o.text);
      option.value = o.value;
      option.selected = o.value === state.filter;
      return option;
    }),
  );
  select.setAttribute('aria-label', t('queueFilter'));
}

function slaInfo(ticket, now) {
  if (!ACTIVE_STATUSES.has(ticket.status)) return { text: t('slaDone'), state: 'done' };
  if (ticket.firstResponseAt) return { text: t('slaAnswered'), state: 'answered' };
  const due = parseTime(ticket.dueAt);
  if (Number.isNaN(due)) return { text: '—', state: 'none' };
  const left = due - now;
  if (left >= 0) return { text: tf('slaLeft', { time: fmtDuration(left) }), state: left < 60_000 ? 'soon' : 'ok' };
  return { text: tf('slaOverdue', { time: fmtDuration(-left) }), state: 'overdue' };
}

/** A live countdown node; `tick` keeps every one of them current. */
function slaEl(ticket, className) {
  const node = el('span', `sla ${className ?? ''}`.trim());
  node.dataset.slaFor = ticket.id;
  node.dataset.testid = 'ticket-sla';
  const due = parseTime(ticket.dueAt);
  if (!Number.isNaN(due)) node.title = `${t('due')} ${new Date(due).toLocaleString(t('htmlLang'))}`;
  updateSla(node, ticket, Date.now());
  return node;
}

function updateSla(node, ticket, now) {
  const info = slaInfo(ticket, now);
  if (node.textContent !== info.text) node.textContent = info.text;
  node.dataset.state = info.state;
  const row = node.closest('.ticket-row');
  if (row) row.classList.toggle('overdue', info.state === 'overdue');
}

function tick() {
  const now = Date.now();
  for (const node of document.querySelectorAll('[data-sla-for]')) {
    const id = /** @type {HTMLElement} */ (node).dataset.slaFor ?? '';
    const ticket = state.tickets.get(id) ?? (state.current?.id === id ? state.current.ticket : null);
    if (ticket) updateSla(/** @type {HTMLElement} */ (node), ticket, now);
  }
}

const rows = new Map();

function renderQueue() {
  const list = $('queue');
  const all = [...state.tickets.values()].sort(compareTickets);
  const visible = state.filter === 'all' ? all : all.filter((ticket) => ticket.shift === state.filter);
  const keep = new Set(visible.map((ticket) => ticket.id));
  for (const [id, row] of rows) {
    if (!keep.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  visible.forEach((ticket, index) => {
    let row = rows.get(ticket.id);
    if (!row) {
      row = el('li', 'ticket-row');
      row.dataset.testid = 'ticket-row';
      rows.set(ticket.id, row);
    }
    fillRow(row, ticket);
    const at = list.children[index];
    if (at !== row) list.insertBefore(row, at ?? null);
  });
  $('queue-count').textContent = String(all.length);
  const empty = $('queue-empty');
  if (state.queueLoaded || empty.dataset.i18n) {
    empty.dataset.i18n = state.queueLoaded ? 'queueEmpty' : 'queueLoading';
    empty.textContent = t(empty.dataset.i18n);
  }
  show(empty, visible.length === 0);
}

function fillRow(row, ticket) {
  const mine = ticket.assignee && ticket.assignee === state.me?.username;
  row.dataset.ticketId = ticket.id;
  row.dataset.conversationId = str(ticket.conversationId);
  row.dataset.status = str(ticket.status);
  row.dataset.priority = str(ticket.priority);
  row.dataset.shift = str(ticket.shift);
  row.classList.toggle('is-new', state.unseen.has(ticket.id));
  row.classList.toggle('sla-alert', state.slaAlerts.has(ticket.id));
  row.dataset.slaAlert = String(state.slaAlerts.has(ticket.id));
  // Past due without a first response (the server raised its priority): marked until answered, also after a reload.
  row.classList.toggle('breached', Boolean(ticket.breachedAt) && !ticket.firstResponseAt);
  row.classList.toggle('is-current', state.current?.id === ticket.id);
  row.classList.toggle('is-mine', Boolean(mine));

  const link = el('a', 'row-link');
  link.href = `#/ticket/${encodeURIComponent(ticket.id)}`;
  if (state.current?.id === ticket.id) link.setAttribute('aria-current', 'true');

  const top = el('span', 'row-top');
  top.append(priorityBadge(ticket.priority), el('span', 'row-reason', vocab('reason', ticket.reason)));
  if (state.unseen.has(ticket.id)) top.append(label('span', 'pill pill-new', 'newTicket'));
  if (state.newMessages.has(ticket.conversationId)) top.append(label('span', 'pill pill-message', 'newMessage'));
  top.append(slaEl(ticket, 'row-sla'));

  const who = el('span', 'row-who');
  who.append(el('span', 'row-customer', ticket.customerName || '—'), el('span', 'channel', vocab('channel', ticket.channel)));

  const meta = el('span', 'row-meta');
  const assignee = el('span', 'row-assignee', ticket.assignee ? ticket.assignee : t('unassigned'));
  assignee.dataset.testid = 'ticket-row-assignee';
  if (!ticket.assignee) assignee.classList.add('muted');
  const shift = el('span', 'row-shift', shiftName(ticket.shift));
  shift.dataset.testid = 'ticket-row-shift';
  shift.title = t('shift');
  meta.append(assignee, el('span', 'dot', '·'), shift, el('span', 'dot', '·'), el('span', 'row-status', vocab('status', ticket.status)));

  link.append(top, who, meta);

  const handovers = Array.isArray(ticket.handovers) ? ticket.handovers : [];
  const lastHandover = handovers[handovers.length - 1];
  if (lastHandover && isString(lastHandover.note) && lastHandover.note) {
    const note = el('span', 'row-handover');
    note.dataset.testid = 'ticket-row-handover';
    note.append(label('span', 'row-handover-label', 'handoverNoteLabel'), el('span', 'row-handover-note', lastHandover.note));
    link.append(note);
  }
  const parts = [vocab('priority', ticket.priority), vocab('reason', ticket.reason), ticket.customerName, vocab('channel', ticket.channel), ticket.assignee || t('unassigned')];
  link.setAttribute('aria-label', parts.filter(Boolean).join('，'));
  row.replaceChildren(link);
}

function priorityBadge(priority) {
  const badge = el('span', `badge prio prio-${str(priority) || 'normal'}`, vocab('priority', priority));
  badge.dataset.testid = 'priority-badge';
  return badge;
}

// ---------- a ticket's screen ----------

function buildView() {
  const template = /** @type {HTMLTemplateElement} */ ($('ticket-template'));
  const root = /** @type {HTMLElement} */ (template.content.firstElementChild.cloneNode(true));
  const refs = /** @type {Record<string, any>} */ ({ root });
  for (const node of root.querySelectorAll('[data-ref]')) refs[/** @type {HTMLElement} */ (node).dataset.ref] = node;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(/** @type {HTMLElement} */ (node).dataset.i18n);
  // Labels point at their fields by id, unique per opened ticket.
  const uid = `t${Math.random().toString(36).slice(2, 8)}`;
  refs.replyInput.id = `${uid}-reply`;
  refs.replyLabel.htmlFor = refs.replyInput.id;
  refs.noteInput.id = `${uid}-note`;
  refs.noteLabel.htmlFor = refs.noteInput.id;
  refs.replyHint.id = `${uid}-hint`;
  refs.replyInput.setAttribute('aria-describedby', refs.replyHint.id);
  refs.canned.setAttribute('aria-label', t('cannedTitle'));
  refs.replyInput.placeholder = t('replyPlaceholder');

  refs.back.addEventListener('click', () => { location.hash = '#/queue'; });
  refs.claim.addEventListener('click', () => void claim());
  refs.resolve.addEventListener('click', () => void simpleAction('resolve', 'resolvedDone'));
  refs.return.addEventListener('click', () => void simpleAction('return-to-bot', 'returnedDone'));
  refs.handover.addEventListener('click', openHandoverDialog);
  refs.faq.addEventListener('click', openFaqDialog);
  refs.replyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void sendReply();
  });
  refs.replyInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !event.isComposing) {
      event.preventDefault();
      void sendReply();
    }
  });
  refs.replyInput.addEventListener('input', () => updateCharCount(refs));
  refs.noteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void addNote();
  });
  return refs;
}

function updateCharCount(refs) {
  const length = refs.replyInput.value.length;
  refs.charCount.textContent = `${length}/${REPLY_MAX}`;
  refs.charCount.classList.toggle('near-limit', length > REPLY_MAX * 0.9);
}

async function openTicket(id) {
  if (state.current?.id === id) return;
  const view = buildView();
  $('ticket-pane').replaceChildren(view.root);
  document.body.dataset.ticketOpen = 'true';
  const known = state.tickets.get(id) ?? null;
  state.current = { id, view, ticket: known, conversation: null, conversationLoaded: false, pendingLines: [], lineKeys: new Set(), order: null, orderId: null, orderError: false, busy: false };
  state.unseen.delete(id);
  state.slaAlerts.delete(id);
  if (known) {
    state.newMessages.delete(known.conversationId);
    renderTicket(known);
    void loadConversation();
  } else {
    view.title.textContent = t('ticketLoading');
  }
  renderQueue();
  updateTitle();
  try {
    const ticket = await api('GET', `/api/handover/tickets/${seg(id)}`);
    if (state.current?.id !== id) return;
    const first = !state.current.ticket;
    renderTicket(ticket);
    if (first) void loadConversation();
  } catch (failure) {
    if (state.current?.id !== id || state.current.ticket) return;
    view.title.textContent = failure instanceof ApiError && failure.status === 404 ? t('ticketNotFound') : errorText(failure);
    view.toolbar.hidden = true;
  }
}

function closeTicket() {
  if (!state.current) return;
  state.current = null;
  delete document.body.dataset.ticketOpen;
  $('ticket-pane').replaceChildren(label('p', 'empty placeholder', 'selectTicket'));
  renderQueue();
}

function isMine(ticket) {
  return Boolean(ticket && state.me && ticket.status === 'claimed' && ticket.assignee === state.me.username);
}

function renderTicket(ticket) {
  const current = state.current;
  if (!current || !ticket || ticket.id !== current.id) return;
  current.ticket = ticket;
  const v = current.view;
  v.root.dataset.ticketId = ticket.id;
  v.root.dataset.conversationId = str(ticket.conversationId);
  v.root.dataset.status = str(ticket.status);
  v.root.dataset.assignee = str(ticket.assignee);

  v.title.replaceChildren(priorityBadge(ticket.priority), el('span', 'ticket-customer', ticket.customerName || '—'), el('span', 'ticket-reason', vocab('reason', ticket.reason)));

  const meta = [];
  const item = (key, value, extra) => {
    const wrap = el('span', 'meta-item');
    wrap.append(label('span', 'meta-key', key), extra ?? el('span', 'meta-value', value));
    meta.push(wrap);
  };
  item('status', vocab('status', ticket.status));
  item('channel', vocab('channel', ticket.channel));
  item('kind', vocab('kind', ticket.kind));
  item('due', '', slaEl(ticket, 'meta-value'));
  const assignee = el('span', 'meta-value', ticket.assignee || t('unassigned'));
  assignee.dataset.testid = 'ticket-assignee';
  item('assignee', '', assignee);
  const shift = el('span', 'meta-value', shiftName(ticket.shift));
  shift.dataset.testid = 'ticket-shift';
  item('shift', '', shift);
  item('created', '', timeEl(ticket.createdAt));
  if (ticket.satisfaction && typeof ticket.satisfaction === 'object') item('satisfaction', tf('satisfactionScore', { score: ticket.satisfaction.score }));
  v.meta.replaceChildren(...meta);

  const mine = isMine(ticket);
  const active = ACTIVE_STATUSES.has(ticket.status);
  v.claim.dataset.i18n = mine ? 'claimed' : 'claim';
  v.claim.textContent = t(v.claim.dataset.i18n);
  v.claim.disabled = current.busy || mine || !active;
  v.resolve.disabled = current.busy || !mine;
  v.return.disabled = current.busy || !mine;
  v.handover.disabled = current.busy || !active;
  v.replySend.disabled = current.busy || !mine;
  v.noteAdd.disabled = current.busy;
  v.replyHint.textContent = mine ? '' : active ? t('claimFirst') : vocab('status', ticket.status);
  if (!mine && active && ticket.assignee && ticket.assignee !== state.me?.username) v.replyHint.textContent = tf('claimedByOther', { name: ticket.assignee });

  renderContext(ticket);
  v.summary.textContent = str(ticket.summary) || t('none');
  renderEntries(v.notes, ticket.notes, 'noNotes', (note) => [el('span', 'entry-text', str(note.text))], 'ticket-note');
  renderEntries(
    v.handovers,
    ticket.handovers,
    'noHandovers',
    (h) => [el('span', 'entry-route', tf('handoverFromTo', { from: shiftName(h.fromShift), to: shiftName(h.toShift) })), el('span', 'entry-text', str(h.note))],
    'ticket-handover-entry',
  );
  renderEntries(
    v.history,
    ticket.history,
    'noHistory',
    (h) => {
      const parts = [el('span', 'entry-action', vocab('action', h.action))];
      if (h.detail !== undefined && h.detail !== null && h.detail !== '') parts.push(el('span', 'entry-text', str(h.detail)));
      return parts;
    },
    'ticket-history-entry',
  );
  renderCanned();

  const orderId = ticket.context && (isString(ticket.context.orderId) || typeof ticket.context.orderId === 'number') ? String(ticket.context.orderId) : '';
  if (orderId !== (current.orderId ?? '')) {
    current.orderId = orderId || null;
    current.order = null;
    current.orderError = false;
    renderOrder();
    if (orderId) void loadOrder(orderId);
  }
  // The row's "current" mark follows the screen.
  const row = rows.get(ticket.id);
  if (row) fillRow(row, ticket);
}

function renderEntries(list, entries, emptyKey, body, testId) {
  const items = Array.isArray(entries) ? entries.filter((e) => e && typeof e === 'object') : [];
  if (items.length === 0) {
    list.replaceChildren(label('li', 'entry empty-entry muted', emptyKey));
    return;
  }
  list.replaceChildren(
    ...items.map((entry) => {
      const li = el('li', 'entry');
      li.dataset.testid = testId;
      const head = el('span', 'entry-head');
      head.append(timeEl(entry.at), el('span', 'entry-by', str(entry.by)));
      li.append(head, ...body(entry));
      return li;
    }),
  );
}

function renderContext(ticket) {
  const v = state.current.view;
  const context = ticket.context && typeof ticket.context === 'object' ? ticket.context : {};
  const facts = [];
  const fact = (key, value) => {
    facts.push(label('dt', '', key), el('dd', '', value === '' ? t('none') : value));
  };
  fact('intent', str(context.intent));
  fact('flow', str(context.flow));
  fact('step', str(context.step));
  fact('language', vocab('lang', context.lang || 'zh'));
  // Names starting with _ are the flow engine's own bookkeeping, not something the customer said.
  const slots = context.slots && typeof context.slots === 'object' ? Object.entries(context.slots).filter(([name]) => !name.startsWith('_')) : [];
  facts.push(label('dt', '', 'slots'));
  if (slots.length === 0) facts.push(el('dd', 'muted', t('none')));
  for (const [name, value] of slots) {
    const dd = el('dd', 'slot');
    dd.append(el('span', 'slot-name', name), el('span', 'slot-value', str(value)));
    facts.push(dd);
  }
  v.context.replaceChildren(...facts);
}

/** The customer's language for canned replies: the ticket's, never the console's. */
function ticketLang() {
  return state.current?.ticket?.context?.lang === 'en' ? 'en' : 'zh';
}

/** A canned reply in the given language, its placeholders ({{agent}}, {{customer}}) filled in; an unknown one stays visible for the agent to fix. */
function cannedText(item, lang) {
  const text = item && item.text && typeof item.text === 'object' ? item.text : {};
  const raw = isString(item?.text) ? item.text : (isString(text[lang]) && text[lang]) || (isString(text.zh) && text.zh) || (isString(text.en) && text.en) || '';
  const values = {
    agent: state.me?.displayName || state.me?.username || '',
    customer: state.current?.ticket?.customerName ?? '',
  };
  return raw.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key) => (values[key] ? values[key] : whole));
}

function renderCanned() {
  const current = state.current;
  if (!current) return;
  const v = current.view;
  const lang = ticketLang();
  v.cannedLang.textContent = tf('cannedLangHint', { lang: vocab('lang', lang) });
  if (state.canned.length === 0) {
    v.cannedList.replaceChildren(label('span', 'muted', 'cannedNone'));
    return;
  }
  v.cannedList.replaceChildren(
    ...state.canned.map((item) => {
      const text = cannedText(item, lang);
      const button = el('button', 'canned-reply', str(item.title) || text.slice(0, 12));
      button.type = 'button';
      button.dataset.testid = 'canned-reply';
      button.dataset.cannedId = str(item.id);
      button.title = text;
      button.addEventListener('click', () => {
        const input = v.replyInput;
        input.value = cannedText(item, ticketLang());
        updateCharCount(v);
        input.focus();
        input.setSelectionRange(input.value.length, input.value.length);
      });
      return button;
    }),
  );
}

async function loadCanned() {
  try {
    const data = await api('GET', '/api/handover/canned');
    state.canned = Array.isArray(data?.canned) ? data.canned.filter((c) => c && typeof c === 'object') : [];
  } catch {
    state.canned = [];
  }
  renderCanned();
}

// ---------- transcript ----------

const SPEAKER_KEYS = { customer: 'speakerCustomer', bot: 'speakerBot', agent: 'speakerAgent', system: 'speakerSystem' };

function lineKey(entry) {
  return `${str(entry.from)}|${str(entry.at)}|${str(entry.text)}`;
}

/** Reads the conversation; `merge` only appends lines not on screen yet (keeps the agent's scroll and the marks of new lines). */
async function loadConversation(opts = {}) {
  const current = state.current;
  if (!current?.ticket) return;
  const id = current.id;
  try {
    const conversation = await api('GET', `/api/conversations/${seg(current.ticket.conversationId)}`);
    if (state.current !== current || current.id !== id) return;
    if (opts.merge && current.conversationLoaded && !current.conversationError && Array.isArray(conversation?.transcript)) {
      current.conversation = conversation;
      for (const entry of conversation.transcript) appendLine(entry, true);
      return;
    }
    current.conversation = conversation && typeof conversation === 'object' ? conversation : { transcript: [] };
    current.conversationLoaded = true;
    current.conversationError = false;
    renderTranscript();
    for (const entry of current.pendingLines.splice(0)) appendLine(entry, true);
  } catch (failure) {
    if (state.current !== current) return;
    current.conversationLoaded = true;
    current.conversationError = failure;
    renderTranscript();
  }
}

function renderTranscript() {
  const current = state.current;
  if (!current) return;
  const list = current.view.transcript;
  const transcript = Array.isArray(current.conversation?.transcript) ? current.conversation.transcript : [];
  current.lineKeys = new Set();
  list.replaceChildren();
  if (current.conversationError && transcript.length === 0) {
    list.append(el('li', 'line-empty muted', t('transcriptLoadFailed')));
    return;
  }
  for (const entry of transcript) appendLine(entry, false);
  if (transcript.length === 0 && current.conversationLoaded) list.append(label('li', 'line-empty muted', 'transcriptEmpty'));
  list.scrollTop = list.scrollHeight;
}

function appendLine(entry, live) {
  const current = state.current;
  if (!current || !entry || typeof entry !== 'object') return;
  const key = lineKey(entry);
  if (current.lineKeys.has(key)) return;
  const list = current.view.transcript;
  // A pushed line carries the time it was pushed, a stored one the time it was saved: the same words
  // from the same speaker a few seconds apart among the last lines are the same message.
  if (live && isRecentDuplicate(list, entry)) return;
  current.lineKeys.add(key);
  list.querySelector('.line-empty')?.remove();
  const follow = !live || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const from = SPEAKER_KEYS[entry.from] ? entry.from : 'bot';
  const li = el('li', `line from-${from}`);
  li.dataset.testid = 'transcript-line';
  li.dataset.from = from;
  li.dataset.at = String(parseTime(entry.at));
  const head = el('span', 'line-head');
  head.append(label('span', 'speaker', SPEAKER_KEYS[from]));
  if (from === 'agent' && isString(entry.by) && entry.by) head.append(el('span', 'speaker-by', entry.by));
  head.append(timeEl(entry.at));
  li.append(head, el('p', 'line-text', str(entry.text)));
  if (isString(entry.imageUrl) && /^https?:/i.test(entry.imageUrl)) {
    const link = el('a', 'line-image', entry.imageUrl);
    link.href = entry.imageUrl;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    li.append(link);
  }
  if (live) li.classList.add('line-new');
  list.append(li);
  if (follow) list.scrollTop = list.scrollHeight;
}

function isRecentDuplicate(list, entry) {
  const at = parseTime(entry.at);
  const lines = [...list.querySelectorAll('.line')].slice(-8);
  return lines.some((li) => {
    const node = /** @type {HTMLElement} */ (li);
    if (node.dataset.from !== (SPEAKER_KEYS[entry.from] ? entry.from : 'bot')) return false;
    if (node.querySelector('.line-text')?.textContent !== str(entry.text)) return false;
    const seen = Number(node.dataset.at);
    return Number.isNaN(at) || Number.isNaN(seen) || Math.abs(seen - at) < 15_000;
  });
}

// ---------- order card ----------

async function loadOrder(orderId) {
  const current = state.current;
  try {
    const order = await api('GET', `/api/orders/${seg(orderId)}`);
    if (state.current !== current || current.orderId !== orderId) return;
    current.order = order;
  } catch {
    if (state.current !== current || current.orderId !== orderId) return;
    current.orderError = true;
  }
  renderOrder();
}

function renderOrder() {
  const current = state.current;
  if (!current) return;
  const v = current.view;
  v.orderBox.hidden = !current.orderId;
  if (!current.orderId) {
    v.order.replaceChildren();
    return;
  }
  if (current.orderError) {
    v.order.replaceChildren(el('p', 'muted', tf('orderLoadFailed', { id: current.orderId })));
    return;
  }
  const order = current.order;
  if (!order) {
    v.order.replaceChildren(el('p', 'muted', current.orderId));
    return;
  }
  const card = el('div', 'order-card');
  card.dataset.testid = 'order-card';
  const head = el('p', 'order-head');
  head.append(el('span', 'order-id', str(order.id)), el('span', 'order-status', vocab('orderStatus', order.status)));
  card.append(head);
  const created = el('p', 'order-created muted');
  created.append(timeEl(order.createdAt));
  card.append(created);

  const items = Array.isArray(order.items) ? order.items : [];
  const lines = el('ul', 'order-lines');
  let total = 0;
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    const li = el('li', 'order-line');
    const name = el('span', 'order-line-name', str(item.name ?? item.productName ?? item.product?.name ?? item.sku));
    const options = item.options && typeof item.options === 'object' ? Object.values(item.options).map(str).join(' / ') : str(item.options);
    if (options) name.append(el('span', 'order-line-options', options));
    const qty = typeof item.qty === 'number' ? item.qty : 1;
    if (typeof item.price === 'number') total += item.price * qty;
    li.append(name, el('span', 'order-line-price', `${formatMoney(item.price)} ×${qty}`));
    lines.append(li);
  }
  card.append(lines);
  const totalLine = el('p', 'order-total');
  totalLine.append(label('span', '', 'orderTotal'), document.createTextNode(' '), el('span', '', formatMoney(typeof order.total === 'number' ? order.total : total)));
  card.append(totalLine);

  const address = order.address && typeof order.address === 'object' ? order.address : null;
  if (address) {
    const block = el('div', 'order-block');
    block.append(
      label('h4', '', 'orderAddress'),
      el('p', '', [address.name, address.phone].map(str).filter(Boolean).join(' ')),
      el('p', '', [address.province, address.city, address.district, address.detail].map(str).filter(Boolean).join(' ')),
    );
    card.append(block);
  }
  if (isString(order.deliveryRequest) && order.deliveryRequest) {
    const block = el('div', 'order-block');
    block.append(label('h4', '', 'orderDelivery'), el('p', '', order.deliveryRequest));
    card.append(block);
  }
  const shipment = order.shipment && typeof order.shipment === 'object' ? order.shipment : null;
  if (shipment) {
    const block = el('div', 'order-block');
    block.append(label('h4', '', 'orderShipment'), el('p', '', `${str(shipment.carrier)} ${str(shipment.trackingNo)}`.trim()));
    const events = Array.isArray(shipment.events) ? shipment.events : [];
    const last = events[events.length - 1];
    if (last && typeof last === 'object') {
      const p = el('p', 'muted');
      p.append(timeEl(last.at), document.createTextNode(' '), el('span', '', str(last.text)));
      block.append(p);
    }
    card.append(block);
  }
  const notes = Array.isArray(order.notes) ? order.notes.filter((n) => n && typeof n === 'object') : [];
  if (notes.length > 0) {
    const block = el('div', 'order-block');
    const list = el('ul', 'entries');
    for (const note of notes.slice(-5)) {
      const li = el('li', 'entry');
      const head = el('span', 'entry-head');
      head.append(timeEl(note.at), el('span', 'entry-by', str(note.by)));
      li.append(head, el('span', 'entry-text', str(note.text)));
      list.append(li);
    }
    block.append(label('h4', '', 'orderNotes'), list);
    card.append(block);
  }
  v.order.replaceChildren(card);
}

// ---------- ticket actions ----------

function ticketMessage(text, kind = 'info') {
  const current = state.current;
  if (!current) return;
  // The message line takes height from the transcript; whoever was reading the latest lines keeps seeing them.
  const list = current.view.transcript;
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  flash(current.view.message, text, kind, kind === 'error' ? 0 : 8000);
  if (atEnd) list.scrollTop = list.scrollHeight;
}

function setBusy(busy) {
  const current = state.current;
  if (!current) return;
  current.busy = busy;
  current.view.root.setAttribute('aria-busy', String(busy));
  if (current.ticket) renderTicket(current.ticket);
}

/** Runs one ticket action with the screen marked busy; answers with the ticket update the screen and the queue. */
async function ticketAction(fn) {
  const current = state.current;
  if (!current || current.busy) return;
  setBusy(true);
  try {
    await fn(current);
  } finally {
    if (state.current === current) setBusy(false);
  }
}

function ticketFrom(answer) {
  if (answer && typeof answer === 'object' && answer.ticket && typeof answer.ticket === 'object') return answer.ticket;
  return answer && typeof answer === 'object' && isString(answer.id) ? answer : null;
}

async function claim() {
  await ticketAction(async (current) => {
    try {
      const ticket = ticketFrom(await api('POST', `/api/handover/tickets/${seg(current.id)}/claim`));
      if (ticket) upsertTicket(ticket, { live: false });
      ticketMessage('claimedByYou');
      current.view.replyInput.focus();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 409) {
        let name = isString(failure.body?.error?.assignee) ? failure.body.error.assignee : '';
        try {
          const ticket = await api('GET', `/api/handover/tickets/${seg(current.id)}`);
          upsertTicket(ticket, { live: false });
          if (isString(ticket.assignee) && ticket.assignee) name = ticket.assignee;
        } catch {
          // the name from the answer, if any
        }
        ticketMessage(tf('claimedByOther', { name: name || '?' }), 'error');
      } else if (!(failure instanceof ApiError && failure.status === 401)) {
        ticketMessage(errorText(failure), 'error');
      }
    }
  });
}

function showWarning(phrases) {
  const v = state.current?.view;
  if (!v) return;
  v.warningText.textContent = t('forbiddenWarning');
  v.warningPhrases.replaceChildren(...phrases.map((phrase) => el('li', 'phrase', `「${str(phrase)}」`)));
  v.warning.hidden = false;
  v.replyInput.setAttribute('aria-invalid', 'true');
}

function hideWarning() {
  const v = state.current?.view;
  if (!v) return;
  v.warning.hidden = true;
  v.replyInput.removeAttribute('aria-invalid');
}

function phrasesOf(value) {
  return Array.isArray(value) ? value.filter((p) => isString(p) && p) : [];
}

async function sendReply() {
  const current = state.current;
  if (!current?.ticket) return;
  const v = current.view;
  const text = v.replyInput.value.trim();
  if (!text) {
    ticketMessage('replyEmpty', 'error');
    return;
  }
  if (!isMine(current.ticket)) {
    ticketMessage('notYours', 'error');
    return;
  }
  await ticketAction(async () => {
    v.replySend.textContent = t('replySending');
    try {
      hideWarning();
      // Warn first: the server refuses such a reply too (422), this only says why before it is tried.
      try {
        const check = await api('POST', '/api/handover/check-reply', { text });
        const phrases = phrasesOf(check?.phrases);
        if (phrases.length > 0 || check?.ok === false) {
          showWarning(phrases);
          return;
        }
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) return;
        // The check is advice; the reply route checks again.
      }
      try {
        const answer = await api('POST', `/api/handover/tickets/${seg(current.id)}/reply`, { text });
        if (state.current !== current) return;
        if (v.replyInput.value.trim() === text) v.replyInput.value = '';
        updateCharCount(v);
        const ticket = ticketFrom(answer);
        if (ticket) upsertTicket(ticket, { live: false });
        ticketMessage('replySent');
        void loadConversation();
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 422 && (failure.code === 'forbidden_phrase' || failure.body?.error?.phrases)) {
          showWarning(phrasesOf(failure.body?.error?.phrases ?? failure.body?.phrases));
        } else if (failure instanceof ApiError && failure.status === 409) {
          ticketMessage('notYours', 'error');
          void refreshTicket(current.id);
        } else if (!(failure instanceof ApiError && failure.status === 401)) {
          ticketMessage(errorText(failure), 'error');
        }
      }
    } finally {
      v.replySend.textContent = t('replySend');
    }
  });
}

async function refreshTicket(id) {
  try {
    upsertTicket(await api('GET', `/api/handover/tickets/${seg(id)}`), { live: false });
  } catch {
    // the next event brings it
  }
}

async function addNote() {
  const current = state.current;
  if (!current) return;
  const v = current.view;
  const text = v.noteInput.value.trim();
  if (!text) {
    ticketMessage('noteEmpty', 'error');
    v.noteInput.focus();
    return;
  }
  await ticketAction(async () => {
    try {
      const ticket = ticketFrom(await api('POST', `/api/handover/tickets/${seg(current.id)}/note`, { text }));
      if (v.noteInput.value.trim() === text) v.noteInput.value = '';
      if (ticket) upsertTicket(ticket, { live: false });
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 401)) ticketMessage(errorText(failure), 'error');
    }
  });
}

/** Resolve or return to bot: the claimant's actions; the bot then writes to the customer, so the transcript is read again. */
async function simpleAction(path, doneKey) {
  await ticketAction(async (current) => {
    try {
      const ticket = ticketFrom(await api('POST', `/api/handover/tickets/${seg(current.id)}/${path}`));
      if (ticket) upsertTicket(ticket, { live: false });
      ticketMessage(doneKey);
      void loadConversation();
      // The bot's message goes out through the outbox a moment later.
      window.setTimeout(() => { if (state.current === current) void loadConversation(); }, 1500);
    } catch (failure) {
      if (failure instanceof ApiError && (failure.status === 403 || failure.status === 409)) ticketMessage('notClaimant', 'error');
      else if (!(failure instanceof ApiError && failure.status === 401)) ticketMessage(errorText(failure), 'error');
    }
  });
}

// ---------- dialogs ----------

function openDialog(dialog, focus) {
  const error = dialog.querySelector('.form-error');
  if (error) error.hidden = true;
  dialog.showModal();
  focus?.focus();
}

function dialogError(id, key) {
  const node = $(id);
  node.textContent = isString(key) && LABELS.zh[key] ? t(key) : key;
  node.hidden = false;
}

function openHandoverDialog() {
  if (!state.current) return;
  const note = /** @type {HTMLTextAreaElement} */ ($('handover-note'));
  note.value = '';
  openDialog(/** @type {HTMLDialogElement} */ ($('handover-dialog')), note);
}

async function confirmHandover(event) {
  event.preventDefault();
  const current = state.current;
  const dialog = /** @type {HTMLDialogElement} */ ($('handover-dialog'));
  const note = /** @type {HTMLTextAreaElement} */ ($('handover-note')).value.trim();
  if (!current) {
    dialog.close();
    return;
  }
  if (!note) {
    dialogError('handover-error', 'noteRequired');
    $('handover-note').focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('handover-confirm'));
  button.disabled = true;
  try {
    const ticket = ticketFrom(await api('POST', `/api/handover/tickets/${seg(current.id)}/handover`, { note }));
    dialog.close();
    if (ticket) upsertTicket(ticket, { live: false });
    ticketMessage('handoverDone');
    void loadShifts();
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 401)) dialogError('handover-error', errorText(failure));
  } finally {
    button.disabled = false;
  }
}

function openFaqDialog() {
  const current = state.current;
  if (!current) return;
  const transcript = Array.isArray(current.conversation?.transcript) ? current.conversation.transcript : [];
  const lines = [...transcript];
  for (const node of current.view.transcript.querySelectorAll('.line.line-new')) {
    lines.push({ from: node.dataset.from, text: node.querySelector('.line-text')?.textContent ?? '' });
  }
  const lastOf = (test) => [...lines].reverse().find((entry) => entry && isString(entry.text) && test(entry));
  const question = lastOf((e) => e.from === 'customer');
  const answer = lastOf((e) => e.from === 'agent' && (!e.by || e.by === state.me?.username)) ?? lastOf((e) => e.from === 'agent');
  /** @type {HTMLTextAreaElement} */ ($('faq-question')).value = question?.text ?? '';
  /** @type {HTMLTextAreaElement} */ ($('faq-answer')).value = answer?.text ?? current.view.replyInput.value ?? '';
  openDialog(/** @type {HTMLDialogElement} */ ($('faq-dialog')), $('faq-question'));
}

async function saveFaq(event) {
  event.preventDefault();
  const current = state.current;
  const dialog = /** @type {HTMLDialogElement} */ ($('faq-dialog'));
  const question = /** @type {HTMLTextAreaElement} */ ($('faq-question')).value.trim();
  const answer = /** @type {HTMLTextAreaElement} */ ($('faq-answer')).value.trim();
  if (!current) {
    dialog.close();
    return;
  }
  if (!question || !answer) {
    dialogError('faq-error', 'faqRequired');
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('faq-save'));
  button.disabled = true;
  try {
    // The reply checker applies here too: a suggestion becomes a library text, which may not hold a forbidden phrase.
    try {
      const check = await api('POST', '/api/handover/check-reply', { text: answer });
      const phrases = phrasesOf(check?.phrases);
      if (phrases.length > 0) {
        dialogError('faq-error', `${t('forbiddenWarning')} ${phrases.map((p) => `「${p}」`).join(' ')}`);
        return;
      }
    } catch {
      // advice only
    }
    await api('POST', `/api/handover/tickets/${seg(current.id)}/faq-suggestion`, { question, answer });
    dialog.close();
    ticketMessage('faqSaved');
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 401)) dialogError('faq-error', errorText(failure));
  } finally {
    button.disabled = false;
  }
}

// ---------- shifts ----------

let shiftsTimer = 0;

function scheduleShiftsRefresh() {
  clearTimeout(shiftsTimer);
  shiftsTimer = window.setTimeout(() => void loadShifts(), 500);
}

async function loadShifts() {
  if (!state.me) return;
  try {
    state.shifts = await api('GET', '/api/handover/shifts');
  } catch {
    return;
  }
  renderShifts();
  renderFilter();
  renderQueue();
  if (state.current?.ticket) renderTicket(state.current.ticket);
}

function onDuty() {
  const list = Array.isArray(state.shifts?.onDuty) ? state.shifts.onDuty : [];
  return Boolean(state.me && list.includes(state.me.username));
}

function renderShifts() {
  const shifts = state.shifts;
  const current = shifts?.current;
  const next = shifts?.next;
  const currentNode = $('shift-current');
  currentNode.textContent = current ? `${shiftName(current.id)} ${shiftHours(current)}`.trim() : '—';
  currentNode.dataset.shift = str(current?.id);
  const nextNode = $('shift-next');
  nextNode.textContent = next ? `${shiftName(next.id)} ${isString(next.start) ? next.start : ''}`.trim() : '—';
  nextNode.dataset.shift = str(next?.id);

  const duty = Array.isArray(shifts?.onDuty) ? shifts.onDuty.filter(isString) : [];
  const dutyNode = $('shift-duty');
  dutyNode.replaceChildren(label('span', 'shift-label', 'onDuty'), el('span', '', duty.length ? duty.join('、') : t('nobodyOnDuty')));

  const me = onDuty();
  $('shift-me').textContent = shifts ? t(me ? 'youAreOnDuty' : 'youAreOffDuty') : '';
  $('shift-me').dataset.onDuty = String(me);
  show($('shift-start'), !me);
  show($('shift-end'), me);

  const handed = Array.isArray(shifts?.handedOver) ? shifts.handedOver.filter((h) => h && typeof h === 'object') : [];
  const total = handed.reduce((sum, h) => sum + (typeof h.count === 'number' ? h.count : 0), 0);
  $('shift-handovers-count').textContent = total > 0 ? String(total) : '';
  const list = $('shift-handovers');
  if (handed.length === 0) {
    list.replaceChildren(label('li', 'muted', 'shiftHandedOverNone'));
  } else {
    list.replaceChildren(
      ...handed.map((entry) => {
        const li = el('li', 'shift-handover');
        li.dataset.testid = 'shift-handover';
        li.dataset.shift = str(entry.shift);
        li.append(el('strong', '', tf('shiftHandedOverCount', { shift: shiftName(entry.shift), count: typeof entry.count === 'number' ? entry.count : '?' })));
        const notes = Array.isArray(entry.notes) ? entry.notes : [];
        if (notes.length > 0) {
          const ul = el('ul', 'shift-handover-notes');
          for (const note of notes) {
            const item = el('li', 'shift-handover-note');
            item.dataset.testid = 'shift-handover-note';
            if (isString(note)) item.textContent = note;
            else if (note && typeof note === 'object') {
              if (note.at) item.append(timeEl(note.at), document.createTextNode(' '));
              if (note.by) item.append(el('span', 'entry-by', str(note.by)), document.createTextNode(' '));
              item.append(el('span', '', str(note.note ?? note.text ?? '')));
            }
            ul.append(item);
          }
          li.append(ul);
        }
        return li;
      }),
    );
  }
}

async function startShift() {
  const button = /** @type {HTMLButtonElement} */ ($('shift-start'));
  button.disabled = true;
  try {
    await api('POST', '/api/handover/shift/start');
    flash($('shift-message'), 'shiftStarted');
    await loadShifts();
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 401)) flash($('shift-message'), errorText(failure), 'error');
  } finally {
    button.disabled = false;
  }
}

function openShiftEnd() {
  const note = /** @type {HTMLTextAreaElement} */ ($('shift-end-note'));
  note.value = '';
  openDialog(/** @type {HTMLDialogElement} */ ($('shift-end-dialog')), note);
}

async function confirmShiftEnd(event) {
  event.preventDefault();
  const dialog = /** @type {HTMLDialogElement} */ ($('shift-end-dialog'));
  const note = /** @type {HTMLTextAreaElement} */ ($('shift-end-note')).value.trim();
  if (!note) {
    dialogError('shift-end-error', 'noteRequired');
    $('shift-end-note').focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('shift-end-confirm'));
  button.disabled = true;
  try {
    const answer = await api('POST', '/api/handover/shift/end', { note });
    dialog.close();
    flash($('shift-message'), tf('shiftEnded', { moved: typeof answer?.moved === 'number' ? answer.moved : 0 }), 'info', 10_000);
    await Promise.all([loadShifts(), loadQueue()]);
    if (state.current) await refreshTicket(state.current.id);
  } catch (failure) {
    if (!(failure instanceof ApiError && failure.status === 401)) dialogError('shift-end-error', errorText(failure));
  } finally {
    button.disabled = false;
  }
}

// ---------- staff (managers) ----------

async function loadStaff() {
  if (state.me?.role !== 'manager') return;
  try {
    const data = await api('GET', '/api/staff');
    state.staff = Array.isArray(data?.staff) ? data.staff.filter((s) => s && typeof s === 'object') : [];
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 403) flash($('staff-error'), 'staffForbidden', 'error', 0);
    return;
  }
  renderStaff();
}

function renderStaff() {
  const body = $('staff-rows');
  body.replaceChildren(
    ...state.staff.map((person) => {
      const tr = el('tr');
      tr.dataset.testid = 'staff-row';
      tr.dataset.username = str(person.username);
      const created = el('td');
      created.append(timeEl(person.createdAt));
      tr.append(
        el('td', 'mono', str(person.username)),
        el('td', '', str(person.displayName)),
        el('td', '', vocab('role', person.role)),
        el('td', '', person.onDuty ? t('yes') : t('no')),
        created,
      );
      return tr;
    }),
  );
}

async function createStaff(event) {
  event.preventDefault();
  const username = /** @type {HTMLInputElement} */ ($('staff-username'));
  const password = /** @type {HTMLInputElement} */ ($('staff-password'));
  const displayName = /** @type {HTMLInputElement} */ ($('staff-display-name'));
  const role = /** @type {HTMLSelectElement} */ ($('staff-role'));
  const error = $('staff-error');
  show(error, false);
  show($('staff-info'), false);
  const name = username.value.trim();
  if (!USERNAME_RE.test(name)) {
    flash(error, 'staffUsernameInvalid', 'error', 0);
    username.focus();
    return;
  }
  if (password.value.length < 8) {
    flash(error, 'staffPasswordShort', 'error', 0);
    password.focus();
    return;
  }
  const button = /** @type {HTMLButtonElement} */ ($('staff-create'));
  button.disabled = true;
  try {
    const body = { username: name, password: password.value, role: role.value };
    if (displayName.value.trim()) body.displayName = displayName.value.trim();
    const created = await api('POST', '/api/staff', body);
    username.value = '';
    password.value = '';
    displayName.value = '';
    flash($('staff-info'), tf('staffCreated', { name: created?.username ?? name }));
    await loadStaff();
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 409) flash(error, 'staffExists', 'error', 0);
    else if (failure instanceof ApiError && failure.status === 400) flash(error, tf('staffInvalid', { message: failure.message }), 'error', 0);
    else if (failure instanceof ApiError && failure.status === 403) flash(error, 'staffForbidden', 'error', 0);
    else if (!(failure instanceof ApiError && failure.status === 401)) flash(error, errorText(failure), 'error', 0);
  } finally {
    button.disabled = false;
  }
}

// ---------- wiring ----------

document.addEventListener('pointerdown', unlockAudio, { capture: true });
document.addEventListener('keydown', unlockAudio, { capture: true });
window.addEventListener('focus', () => {
  if (state.me && !source) openEvents();
});

$('login-form').addEventListener('submit', (event) => void login(event));
$('logout').addEventListener('click', () => void logout());
for (const toggle of document.querySelectorAll('[data-lang-toggle]')) toggle.addEventListener('click', () => applyLang(state.lang === 'zh' ? 'en' : 'zh'));
$('queue-filter').addEventListener('change', (event) => {
  state.filter = /** @type {HTMLSelectElement} */ (event.target).value;
  renderQueue();
});
$('shift-start').addEventListener('click', () => void startShift());
$('shift-end').addEventListener('click', openShiftEnd);
$('handover-form').addEventListener('submit', (event) => void confirmHandover(event));
$('shift-end-form').addEventListener('submit', (event) => void confirmShiftEnd(event));
$('faq-form').addEventListener('submit', (event) => void saveFaq(event));
$('staff-form').addEventListener('submit', (event) => void createStaff(event));
for (const button of document.querySelectorAll('dialog [data-close]')) {
  button.addEventListener('click', () => /** @type {HTMLDialogElement} */ (button.closest('dialog')).close());
}
window.addEventListener('hashchange', route);

void boot();
