// Shared helpers of the manager console: the API client (../shared/api.js), the label language, and DOM building that puts server text in with textContent only.
import { LABELS, VOCABULARY } from './labels.js';
import { ApiError, createApiClient } from '../shared/api.js';

const LANG_KEY = 'manager.lang';

export { ApiError } from '../shared/api.js';

const client = createApiClient({ timeoutMs: 20_000 });
export const api = client.api;
export const setUnauthorizedHandler = client.setUnauthorizedHandler;

/** The label language: Chinese first, English on request (kept in localStorage). */
let lang = (() => {
  try {
    return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
})();

export function currentLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

/** A label, `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = LABELS[lang][key] ?? LABELS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A word of an API vocabulary (`reason`, `outcome`…); unknown values are shown as they are. */
export function word(group, value) {
  const words = VOCABULARY[lang][group] || {};
  return Object.prototype.hasOwnProperty.call(words, value) ? words[value] : String(value);
}

/** Applies the labels to the static page (data-i18n, data-i18n-placeholder, data-i18n-aria). */
export function applyLabels(root = document) {
  document.documentElement.lang = t('htmlLang');
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  for (const node of root.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  for (const node of root.querySelectorAll('[data-lang-toggle]')) {
    node.textContent = t('langToggle');
    node.setAttribute('lang', lang === 'zh' ? 'en' : 'zh');
  }
}

/**
 * Builds an element. Props: `class`, `text` (textContent), `testid`, `dataset`, `on<event>`
 * handlers, DOM properties for non-strings (value, checked, disabled), attributes otherwise.
 * String children become text nodes, never markup.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'value' || typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Builds an SVG element; `text` sets textContent (a <title> or a label). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'testid') node.setAttribute('data-testid', value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`no element #${id}`);
  return node;
}

/** Shows a message in a status or error paragraph (hidden when empty). */
export function say(node, text, state) {
  node.textContent = text || '';
  node.hidden = !text;
  if (state) node.dataset.state = state;
  else delete node.dataset.state;
}

/** The words for an API failure: the server's message where it has one. */
export function failureText(error) {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('networkError');
    if (error.status >= 500 && error.status !== 501) return t('serverError');
    return error.message || t('serverError');
  }
  return error instanceof Error ? error.message : String(error);
}

/** A local date-time for people: YYYY-MM-DD HH:MM. */
export function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A button that asks once more before it acts (no browser dialogs). */
export function confirmButton(label, confirmLabel, action, props = {}) {
  let armed = false;
  let timer;
  const button = el('button', { type: 'button', ...props, text: label, onclick: async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmLabel;
      button.classList.add('armed');
      timer = setTimeout(() => { armed = false; button.textContent = label; button.classList.remove('armed'); }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    button.textContent = label;
    button.classList.remove('armed');
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  } });
  return button;
}
