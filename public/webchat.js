// The shop's web chat client: keeps a session id, sends messages, renders replies, pushed (SSE) messages and history; server text only ever via textContent.

const API = document.body.dataset.api || '/api/webchat';
const MAX_LENGTH = 1000;
const SEND_TIMEOUT_MS = 20_000;
const SESSION_KEY = 'shopchat.sessionId';
const LANG_KEY = 'shopchat.lang';

/** UI labels only; the bot's own words come from the server and are never translated here. */
const LABELS = {
  zh: {
    htmlLang: 'zh-CN',
    title: '在线客服',
    subtitle: '通常在几秒内回复',
    placeholder: '请输入您的问题…',
    send: '发送',
    human: '转人工',
    inputLabel: '输入消息',
    inputHint: '按 Enter 发送，Shift+Enter 换行，最多 1000 字',
    logLabel: '聊天记录',
    langToggle: 'English',
    langToggleAria: 'Switch to English',
    agentName: '客服',
    welcome: '您好，欢迎光临！请问有什么可以帮您？',
    typing: '正在输入…',
    quickReplies: '快捷回复',
    image: '图片',
    order: '订单',
    orderTotal: '合计',
    orderTracking: '物流',
    errorNetwork: '网络不太稳定，请稍后再试',
    errorBusy: '您发送得有点快，请稍等片刻再试',
    errorTooLong: '消息最多 1000 字，请分几次发送',
    errorKept: '（您的消息还在输入框里，可以直接重新发送）',
  },
  en: {
    htmlLang: 'en',
    title: 'Customer service',
    subtitle: 'We usually reply within seconds',
    placeholder: 'Type your question…',
    send: 'Send',
    human: 'Talk to a person',
    inputLabel: 'Your message',
    inputHint: 'Enter sends, Shift+Enter adds a new line, up to 1000 characters',
    logLabel: 'Conversation',
    langToggle: '中文',
    langToggleAria: '切换到中文',
    agentName: 'Agent',
    welcome: 'Hello and welcome! How can we help you today?',
    typing: 'Typing…',
    quickReplies: 'Quick replies',
    image: 'Image',
    order: 'Order',
    orderTotal: 'Total',
    orderTracking: 'Shipment',
    errorNetwork: 'The connection is unstable, please try again in a moment.',
    errorBusy: 'You are sending a little fast, please wait a moment and try again.',
    errorTooLong: 'A message can be at most 1000 characters; please send it in parts.',
    errorKept: ' (Your message is still in the input box, you can send it again.)',
  },
};

const log = /** @type {HTMLOListElement} */ (document.getElementById('chat-log'));
const form = /** @type {HTMLFormElement} */ (document.getElementById('composer'));
const input = /** @type {HTMLTextAreaElement} */ (document.getElementById('chat-input'));
const sendButton = /** @type {HTMLButtonElement} */ (document.getElementById('chat-send'));
const humanButton = /** @type {HTMLButtonElement} */ (document.getElementById('human-button'));
const langToggle = /** @type {HTMLButtonElement} */ (document.getElementById('lang-toggle'));
const charCount = /** @type {HTMLElement} */ (document.getElementById('char-count'));

let lang = loadLang();
const sessionId = loadSessionId();
/** One message in flight at a time: the server runs one turn at a time per conversation anyway. */
let sending = false;
/** The last message that failed, so sending the same text again reuses its id and the server can deduplicate. */
let lastFailed = /** @type {{text: string, messageId: string} | null} */ (null);
let historyDone = false;
/** Pushed messages that arrive before the history is on screen wait here, to keep the order. */
const earlyEvents = /** @type {unknown[]} */ ([]);

// ---------- small helpers ----------

function t(key) {
  return LABELS[lang][key] ?? LABELS.zh[key] ?? key;
}

function uuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID exists only in secure contexts; a plain-http shop page still needs a v4 id.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function loadSessionId() {
  try {
    const stored = localStorage.getItem(SESSION_KEY);
    if (stored && /^[A-Za-z0-9_-]{8,100}$/.test(stored)) return stored;
    const fresh = uuid();
    localStorage.setItem(SESSION_KEY, fresh);
    return fresh;
  } catch {
    // Storage blocked (some in-app browsers' private modes): the chat still works for this page view.
    return uuid();
  }
}

function loadLang() {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

/** Creates an element; text is always set through textContent. */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** An element whose text follows the UI language. */
function labelEl(tag, className, key) {
  const node = el(tag, className, t(key));
  node.dataset.i18n = key;
  return node;
}

function isString(value) {
  return typeof value === 'string';
}

function formatMoney(amount, currency) {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return '';
  try {
    return new Intl.NumberFormat(t('htmlLang'), { style: 'currency', currency: isString(currency) ? currency : 'CNY' }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${isString(currency) ? currency : ''}`.trim();
  }
}

function formatTime(at) {
  if (!isString(at)) return '';
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString(t('htmlLang'));
}

/** Whether the customer is reading the latest messages (then new ones scroll into view; otherwise they keep their place). */
function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

// ---------- rendering ----------

const TEST_IDS = { bot: 'msg-bot', customer: 'msg-customer', agent: 'msg-agent', system: 'msg-system', error: 'msg-error', welcome: 'msg-welcome' };

/**
 * Builds one message row: the bubble (which carries the test id and only the message's text),
 * then any order card and quick replies under it. Agents are named visibly, so the customer sees
 * a person has joined; screen readers get the other speakers' names from webchat.css.
 */
function messageRow(kind, text, at) {
  const row = el('li', `msg msg-${kind}`);
  row.dataset.from = kind;
  if (kind === 'agent') row.append(labelEl('span', 'msg-label', 'agentName'));
  const bubble = el('div', 'bubble', text);
  bubble.dataset.testid = TEST_IDS[kind];
  const when = formatTime(at);
  if (when) bubble.title = when;
  row.append(bubble);
  return row;
}

function append(row, force) {
  const follow = force || nearBottom();
  log.append(row);
  if (follow) scrollToEnd();
  return row;
}

function quickReplyGroup(options) {
  const group = el('div', 'quick-replies');
  group.setAttribute('role', 'group');
  group.setAttribute('aria-label', t('quickReplies'));
  for (const option of options) {
    const button = el('button', 'quick-reply', option.label);
    button.type = 'button';
    button.dataset.testid = 'quick-reply';
    button.addEventListener('click', async () => {
      if (sending) return;
      setGroupDisabled(group, true);
      button.classList.add('chosen');
      const ok = await send(option.value, option.label);
      if (!ok) {
        // Not delivered: let the customer choose again.
        button.classList.remove('chosen');
        setGroupDisabled(group, false);
      }
    });
    group.append(button);
  }
  return group;
}

function setGroupDisabled(group, disabled) {
  for (const button of group.querySelectorAll('button')) button.disabled = disabled;
}

function orderCard(card) {
  const section = el('section', 'order-card');
  section.dataset.testid = 'order-card';
  const head = el('p', 'order-card-head');
  const id = el('span', 'order-card-id');
  id.append(labelEl('span', '', 'order'), document.createTextNode(' '), el('span', '', isString(card.orderId) ? card.orderId : ''));
  head.append(id, el('span', 'order-card-status', isString(card.statusText) ? card.statusText : ''));
  section.append(head);

  const lines = el('ul', 'order-card-lines');
  for (const line of Array.isArray(card.lines) ? card.lines : []) {
    if (!line || typeof line !== 'object') continue;
    const item = el('li', 'order-card-line');
    const name = el('span', 'order-card-line-name', isString(line.name) ? line.name : '');
    if (isString(line.options) && line.options) name.append(el('span', 'order-card-line-options', line.options));
    const qty = typeof line.qty === 'number' ? ` ×${line.qty}` : '';
    item.append(name, el('span', 'order-card-line-price', `${formatMoney(line.price, card.currency)}${qty}`));
    lines.append(item);
  }
  section.append(lines);

  const total = el('p', 'order-card-total');
  total.append(labelEl('span', '', 'orderTotal'), document.createTextNode(' '), el('span', '', formatMoney(card.total, card.currency)));
  section.append(total);

  if (isString(card.tracking) && card.tracking) {
    const tracking = el('p', 'order-card-tracking');
    tracking.append(labelEl('span', '', 'orderTracking'), document.createTextNode(' '), el('span', '', card.tracking));
    section.append(tracking);
  }
  return section;
}

/** An image the bot sends (e.g. a size chart): only http(s) addresses, never javascript: or data:. */
function messageImage(url, alt) {
  let address;
  try {
    address = new URL(url, location.href);
  } catch {
    return null;
  }
  if (address.protocol !== 'https:' && address.protocol !== 'http:') return null;
  const image = el('img', 'msg-image');
  image.dataset.testid = 'msg-image';
  image.alt = alt || t('image');
  image.loading = 'lazy';
  image.referrerPolicy = 'no-referrer';
  image.src = address.href;
  return image;
}

function validQuickReplies(value) {
  if (!Array.isArray(value)) return [];
  return value.filter((q) => q && isString(q.label) && isString(q.value) && q.label && q.value);
}

/** Renders one bot or agent message (a reply, a pushed event) with its quick replies and order card. */
function renderReply(reply, from) {
  if (!reply || typeof reply !== 'object') return;
  const kind = from === 'agent' ? 'agent' : from === 'system' ? 'system' : 'bot';
  const text = isString(reply.text) ? reply.text : '';
  const card = reply.card && typeof reply.card === 'object' ? reply.card : null;
  const image = isString(reply.imageUrl) && reply.imageUrl ? messageImage(reply.imageUrl, text) : null;
  if (!text && !card && !image) return;
  const row = messageRow(kind, text);
  if (image) row.append(image);
  if (card) row.append(orderCard(card));
  const quick = validQuickReplies(reply.quickReplies);
  if (quick.length > 0) row.append(quickReplyGroup(quick));
  append(row, false);
}

function showError(key) {
  const row = messageRow('error', '');
  row.setAttribute('role', 'status');
  const bubble = row.querySelector('.bubble');
  bubble.append(labelEl('span', '', key));
  append(row, true);
}

let typingTimer = 0;
let typingRow = /** @type {HTMLElement | null} */ (null);

function setBusy(busy) {
  sending = busy;
  sendButton.disabled = busy;
  humanButton.disabled = busy;
  log.setAttribute('aria-busy', String(busy));
  clearTimeout(typingTimer);
  typingRow?.remove();
  typingRow = null;
  if (busy) {
    // Only show "typing" when the answer takes a moment, so fast replies don't flicker.
    typingTimer = window.setTimeout(() => {
      typingRow = messageRow('bot', '');
      typingRow.classList.add('msg-pending');
      typingRow.setAttribute('aria-hidden', 'true');
      const bubble = typingRow.querySelector('.bubble');
      bubble.dataset.testid = 'msg-typing';
      bubble.append(labelEl('span', '', 'typing'));
      append(typingRow, true);
    }, 400);
  }
}

// ---------- sending ----------

class SendError extends Error {
  constructor(status, code) {
    super(`send failed: ${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

async function fetchJson(url, init) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
  try {
    const res = await fetch(url, { ...init, signal: controller.signal, credentials: 'same-origin' });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return { status: res.status, ok: res.ok, body };
  } finally {
    clearTimeout(timer);
  }
}

function errorKeyFor(error) {
  if (error instanceof SendError) {
    if (error.status === 429) return 'errorBusy';
    if (error.status === 413 || /too_?long/i.test(error.code)) return 'errorTooLong';
  }
  return 'errorNetwork';
}

/**
 * Sends one customer message and renders the bot's replies. `shown` is what the customer's
 * bubble says (a quick reply's label); `text` is what the bot gets. Resolves false when not delivered.
 */
async function send(text, shown) {
  if (sending) return false;
  if (!text.trim()) return false;
  if (text.length > MAX_LENGTH) {
    showError('errorTooLong');
    return false;
  }
  const messageId = lastFailed && lastFailed.text === text ? lastFailed.messageId : uuid();
  const row = append(messageRow('customer', shown ?? text, new Date().toISOString()), true);
  row.classList.add('msg-pending');
  setBusy(true);
  try {
    const res = await fetchJson(`${API}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ sessionId, text, messageId }),
    });
    if (!res.ok || !res.body || typeof res.body !== 'object') {
      const code = res.body && res.body.error && isString(res.body.error.code) ? res.body.error.code : '';
      throw new SendError(res.status, code);
    }
    lastFailed = null;
    row.classList.remove('msg-pending');
    setBusy(false);
    if (res.body.duplicate === true) {
      // An earlier try of this message did reach the bot; its answer is in the history.
      await restoreHistory(true);
      return true;
    }
    for (const reply of Array.isArray(res.body.replies) ? res.body.replies : []) renderReply(reply, 'bot');
    return true;
  } catch (error) {
    lastFailed = { text, messageId };
    row.remove();
    setBusy(false);
    showError(errorKeyFor(error));
    return false;
  }
}

async function sendFromInput() {
  const text = input.value;
  if (!text.trim() || sending) return;
  input.value = '';
  updateInputState();
  const ok = await send(text);
  if (!ok) {
    // Never lose what the customer typed: put it back, ahead of anything typed since.
    input.value = input.value ? `${text}\n${input.value}` : text;
    updateInputState();
    const kept = log.lastElementChild?.querySelector('.bubble');
    if (kept) kept.append(labelEl('span', '', 'errorKept'));
  }
}

function updateInputState() {
  const length = input.value.length;
  charCount.textContent = `${length}/${MAX_LENGTH}`;
  charCount.classList.toggle('near-limit', length > MAX_LENGTH * 0.9);
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight + 2, 120)}px`;
}

// ---------- history and pushed messages ----------

function historyRow(entry) {
  if (!entry || typeof entry !== 'object' || !isString(entry.text)) return null;
  const kind = entry.from === 'customer' ? 'customer' : entry.from === 'agent' ? 'agent' : entry.from === 'system' ? 'system' : 'bot';
  return messageRow(kind, entry.text, entry.at);
}

async function fetchHistory() {
  try {
    const res = await fetchJson(`${API}/history?sessionId=${encodeURIComponent(sessionId)}`, { headers: { accept: 'application/json' } });
    if (!res.ok || !res.body || !Array.isArray(res.body.transcript)) return null; // 404: nothing to restore
    return res.body.transcript;
  } catch {
    return null;
  }
}

/**
 * Puts the saved conversation on screen. On first load it goes above anything the customer
 * already sent meanwhile; with `replace` it redraws the whole log (after a deduplicated resend).
 */
async function restoreHistory(replace) {
  const transcript = await fetchHistory();
  const rows = (transcript ?? []).map(historyRow).filter((row) => row !== null);
  if (replace) {
    if (transcript) {
      log.replaceChildren(...rows);
      scrollToEnd();
    }
    return transcript ?? [];
  }
  const fragment = document.createDocumentFragment();
  if (rows.length === 0) fragment.append(messageRow('welcome', ''));
  for (const row of rows) fragment.append(row);
  log.prepend(fragment);
  if (rows.length === 0) {
    const bubble = log.firstElementChild?.querySelector('.bubble');
    bubble?.append(labelEl('span', '', 'welcome'));
  }
  scrollToEnd();
  return transcript ?? [];
}

function parseEvent(data) {
  try {
    const value = JSON.parse(data);
    return value && typeof value === 'object' ? value : { text: String(value) };
  } catch {
    return { text: String(data) };
  }
}

function renderEvent(message) {
  // Customers' own words come back only through their own sends; an echo would double them.
  if (message.from === 'customer') return;
  renderReply(message, message.from);
}

let eventRetry = 1000;

function openEvents() {
  if (typeof EventSource === 'undefined') return;
  const source = new EventSource(`${API}/events?sessionId=${encodeURIComponent(sessionId)}`);
  document.body.dataset.events = 'connecting';
  source.addEventListener('open', () => {
    eventRetry = 1000;
    document.body.dataset.events = 'open';
  });
  source.addEventListener('message', (event) => {
    const message = parseEvent(event.data);
    if (historyDone) renderEvent(message);
    else earlyEvents.push(message);
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // The browser gives up on a non-stream answer (e.g. a 5xx); keep trying, more slowly each time.
      document.body.dataset.events = 'closed';
      setTimeout(openEvents, eventRetry);
      eventRetry = Math.min(eventRetry * 2, 30_000);
    } else {
      document.body.dataset.events = 'connecting';
    }
  });
}

// ---------- language ----------

function applyLang(next) {
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // the choice just isn't remembered
  }
  document.documentElement.lang = t('htmlLang');
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const group of document.querySelectorAll('.quick-replies')) group.setAttribute('aria-label', t('quickReplies'));
  input.placeholder = t('placeholder');
  log.setAttribute('aria-label', t('logLabel'));
  langToggle.textContent = t('langToggle');
  langToggle.setAttribute('aria-label', t('langToggleAria'));
  langToggle.lang = next === 'zh' ? 'en' : 'zh-CN';
}

// ---------- wiring ----------

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void sendFromInput();
});

input.addEventListener('keydown', (event) => {
  // Enter while a Chinese IME is composing picks a candidate; it must not send.
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  void sendFromInput();
});

input.addEventListener('input', updateInputState);

// Keep the phone keyboard open when the send button is tapped.
sendButton.addEventListener('mousedown', (event) => event.preventDefault());

humanButton.addEventListener('click', () => {
  void send('转人工', t('human'));
});

langToggle.addEventListener('click', () => applyLang(lang === 'zh' ? 'en' : 'zh'));

applyLang(lang);
updateInputState();
openEvents();
restoreHistory(false).then((transcript) => {
  historyDone = true;
  // A pushed message already in the restored history is not shown twice.
  const recent = transcript.slice(-20);
  for (const message of earlyEvents.splice(0)) {
    const dup = recent.some((entry) => entry && entry.text === message.text && (entry.from === (message.from ?? 'bot')));
    if (!dup) renderEvent(message);
  }
});
