// 报表: the reports of a date range (GET /api/reports, docs/reports.md) as key figures, simple charts drawn with inline SVG, and tables with a CSV export link each.
import { api, byId, el, failureText, say, svg, t, word } from './dom.js';

const COLORS = { conversations: '#2563eb', automated: '#16a34a', handoffs: '#ea580c', answered: '#16a34a', clarified: '#ca8a04', abstained: '#dc2626', bar: '#2563eb' };

/** Which labels the tables use, and how each column's values are shown. */
const TABLE_TITLES = {
  days: 'tableDays', shifts: 'tableShifts', handoff_reasons: 'tableHandoffReasons', automated: 'tableAutomated', satisfaction: 'tableSatisfaction',
  complaints: 'tableComplaints', returns: 'tableReturns', order_changes: 'tableOrderChanges', unanswered: 'tableUnanswered',
  clarified: 'tableClarified', faq_entries: 'tableFaqEntries', flows: 'tableFlows', events: 'tableEvents',
};

let last = null;
let ctx = { fail: () => {} };

/** Today in the shop's time zone. */
function shopToday(timeZone) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.round(Number(seconds));
  return s < 60 ? t('seconds', { n: s }) : t('minutesSeconds', { m: Math.floor(s / 60), s: s % 60 });
}

const percent = (v) => (v === null || v === undefined ? '–' : `${Math.round(Number(v) * 1000) / 10}%`);

/** A cell for people: vocabulary words translated, rates as percentages, nothing as a dash. */
function cell(table, column, value) {
  if (value === null || value === undefined || value === '') return '–';
  if (column.endsWith('_rate')) return percent(value);
  if (column === 'reason' && table === 'handoff_reasons') return word('reason', value);
  if (column === 'kind' && table === 'handoff_reasons') return word('ticketKind', value);
  if (column === 'kind' && table === 'returns') return word('afterSale', value);
  if (column === 'outcome') return word('outcome', value);
  if (column === 'change') return word('change', value);
  if (column === 'category' && ['complaint', 'abuse'].includes(value)) return word('reason', value);
  return String(value);
}

function kpi(testid, label, value, sub) {
  return el('div', { class: 'kpi' }, el('span', { class: 'kpi-label', text: label }), el('strong', { class: 'kpi-value', testid, text: value }), sub ? el('span', { class: 'muted', text: sub }) : null);
}

function renderKpis(report) {
  const s = report.totals;
  byId('report-kpis').replaceChildren(
    kpi('report-conversations', t('kpiConversations'), String(s.conversations ?? 0)),
    kpi('report-messages', t('kpiMessages'), String(s.customer_messages ?? 0)),
    kpi('report-automated', t('kpiAutomated'), String(s.automated ?? 0), s.automated_taken_back ? `${word('column', 'automated_taken_back')}: ${s.automated_taken_back}` : ''),
    kpi('report-handoffs', t('kpiHandoffs'), String(s.handoffs ?? 0)),
    kpi('report-first-response', t('kpiFirstResponse'), `${duration(s.first_response_median_s)} / ${duration(s.first_response_p90_s)}`),
    kpi('report-sla', t('kpiSla'), String(s.sla_breaches ?? 0)),
    kpi('report-satisfaction', t('kpiSatisfaction'), s.satisfaction_avg === null ? '–' : `${s.satisfaction_avg} / 5`, s.satisfaction_count ? `n = ${s.satisfaction_count}` : ''),
    kpi('report-faq-rate', t('kpiFaqRate'), percent(s.faq_answer_rate)),
    kpi('report-handed-over', t('kpiHandedOver'), String(s.handed_over ?? 0)),
  );
}

// ---- Charts: inline SVG, no library ----------------------------------------------------------

function chartCard(title, testid, body) {
  return el('figure', { class: 'card chart', testid }, el('figcaption', { text: title }), body);
}

function legend(items) {
  return el('div', { class: 'legend' }, items.map(([label, color]) => el('span', {}, el('i', { class: 'swatch', dataset: { color } }), label)));
}

/** Grouped bars per day: conversations, automated resolutions, handoffs. */
function dailyChart(rows) {
  const series = [['conversations', t('kpiConversations')], ['automated', t('kpiAutomated')], ['handoffs', t('kpiHandoffs')]];
  const max = Math.max(1, ...rows.flatMap((r) => series.map(([k]) => Number(r[k] ?? 0))));
  const groupWidth = 36;
  const height = 160;
  const left = 32;
  const width = left + rows.length * groupWidth + 8;
  const y = (v) => 10 + (height - 10) * (1 - v / max);
  const nodes = [
    svg('line', { x1: left, y1: height, x2: width, y2: height, class: 'axis' }),
    svg('text', { x: left - 4, y: 14, 'text-anchor': 'end', class: 'tick', text: String(max) }),
    svg('text', { x: left - 4, y: height, 'text-anchor': 'end', class: 'tick', text: '0' }),
  ];
  rows.forEach((row, i) => {
    const x0 = left + i * groupWidth + 4;
    series.forEach(([key, label], j) => {
      const v = Number(row[key] ?? 0);
      nodes.push(svg('rect', { x: x0 + j * 9, y: y(v), width: 8, height: Math.max(0, height - y(v)), fill: COLORS[key], 'data-testid': `bar-${key}` },
        svg('title', { text: `${row.day} ${label}: ${v}` })));
    });
    if (rows.length <= 14 || i % Math.ceil(rows.length / 14) === 0) nodes.push(svg('text', { x: x0 + 13, y: height + 14, 'text-anchor': 'middle', class: 'tick', text: String(row.day).slice(5) }));
  });
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 20}`, width, height: height + 20, role: 'img', 'aria-label': t('chartDaily') }, nodes);
  return el('div', {}, el('div', { class: 'chart-scroll' }, chart), legend(series.map(([k, label]) => [label, k])));
}

/** Horizontal bars of labelled counts. */
function barList(items) {
  if (items.length === 0) return el('p', { class: 'muted', text: t('noData') });
  const max = Math.max(1, ...items.map(([, n]) => n));
  const rowHeight = 22;
  const labelWidth = 120;
  const width = 360;
  const nodes = items.flatMap(([label, n], i) => {
    const w = Math.round(((width - labelWidth - 40) * n) / max);
    const y = i * rowHeight;
    return [
      svg('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end', class: 'tick', text: label }),
      svg('rect', { x: labelWidth, y: y + 4, width: Math.max(w, n > 0 ? 2 : 0), height: 14, fill: COLORS.bar }, svg('title', { text: `${label}: ${n}` })),
      svg('text', { x: labelWidth + w + 4, y: y + 15, class: 'tick', text: String(n) }),
    ];
  });
  return svg('svg', { viewBox: `0 0 ${width} ${items.length * rowHeight + 4}`, width, height: items.length * rowHeight + 4, role: 'img' }, nodes);
}

/** One stacked bar of shares (FAQ answered / clarified / abstained). */
function stacked(parts) {
  const total = parts.reduce((n, [, v]) => n + v, 0);
  if (total === 0) return el('p', { class: 'muted', text: t('noData') });
  const width = 360;
  let x = 0;
  const rects = parts.map(([label, v, color]) => {
    const w = (width * v) / total;
    const r = svg('rect', { x, y: 0, width: w, height: 24, fill: COLORS[color] }, svg('title', { text: `${label}: ${v} (${percent(v / total)})` }));
    x += w;
    return r;
  });
  return el('div', {}, svg('svg', { viewBox: `0 0 ${width} 24`, width, height: 24, role: 'img' }, rects), legend(parts.map(([label, v, color]) => [`${label} ${v} (${percent(v / total)})`, color])));
}

function renderCharts(report) {
  const { tables, totals } = report;
  byId('report-charts').replaceChildren(
    chartCard(t('chartDaily'), 'chart-daily', dailyChart(tables.days.rows)),
    chartCard(t('chartHandoffs'), 'chart-handoffs', barList(tables.handoff_reasons.rows.filter((r) => r.kind === 'handoff').map((r) => [word('reason', r.reason), Number(r.count)]))),
    chartCard(t('chartSatisfaction'), 'chart-satisfaction', barList(tables.satisfaction.rows.map((r) => [`${r.score}★`, Number(r.count)]))),
    chartCard(t('chartFaq'), 'chart-faq', stacked([
      [word('column', 'faq_answered'), Number(totals.faq_answered ?? 0), 'answered'],
      [word('column', 'faq_clarified'), Number(totals.faq_clarified ?? 0), 'clarified'],
      [word('column', 'faq_abstained'), Number(totals.faq_abstained ?? 0), 'abstained'],
    ])),
  );
  // Colours come from data attributes: the page's CSP allows no inline styles, CSSOM is fine.
  for (const swatch of document.querySelectorAll('#report-charts .swatch')) swatch.style.background = COLORS[swatch.dataset.color] || COLORS.bar;
}

// ---- Tables with CSV links ---------------------------------------------------------------------

function csvHref(report, name) {
  const q = new URLSearchParams({ table: name, from: report.from, to: report.to });
  return `/api/reports.csv?${q}`;
}

function renderTables(report) {
  byId('report-tables').replaceChildren(...Object.keys(TABLE_TITLES).filter((name) => report.tables[name]).map((name) => {
    const table = report.tables[name];
    return el('section', { class: 'card report-table', testid: `report-table-${name}` },
      el('div', { class: 'row spread' },
        el('h3', { text: t(TABLE_TITLES[name]) }),
        el('a', { href: csvHref(report, name), download: `report-${name}-${report.from}_${report.to}.csv`, testid: `csv-${name}`, text: t('csv') })),
      table.rows.length === 0 ? el('p', { class: 'muted', text: t('noData') }) : el('div', { class: 'table-scroll' }, el('table', { class: 'data compact' },
        el('thead', {}, el('tr', {}, table.columns.map((c) => el('th', { text: word('column', c) })))),
        el('tbody', {}, table.rows.map((row) => el('tr', { testid: `row-${name}` }, table.columns.map((c) => el('td', { class: typeof row[c] === 'number' ? 'num' : '', text: cell(name, c, row[c]) }))))))));
  }));
}

function render() {
  if (!last) return;
  byId('report-note').textContent = t('reportNote', { tz: last.timeZone, since: new Date(last.provisionalAfter).toLocaleString() });
  renderKpis(last);
  renderCharts(last);
  renderTables(last);
}

async function run(range) {
  const error = byId('report-error');
  say(error, '');
  const query = range ? `?${new URLSearchParams(range)}` : '';
  try {
    byId('report-note').textContent = t('reportLoading');
    last = await api('GET', `/api/reports${query}`);
    byId('report-from').value = last.from;
    byId('report-to').value = last.to;
    document.body.dataset.report = `${last.from}_${last.to}`;
    render();
  } catch (failure) {
    say(error, failureText(failure));
  }
}

export async function load() {
  if (last) await run({ from: byId('report-from').value, to: byId('report-to').value });
  else await run(null);
}

export { render };

export function init(context) {
  ctx = context;
  byId('report-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void run({ from: byId('report-from').value, to: byId('report-to').value }).catch(ctx.fail);
  });
  for (const button of document.querySelectorAll('[data-range]')) {
    button.addEventListener('click', () => {
      const today = shopToday(last ? last.timeZone : 'Asia/Shanghai');
      void run({ from: addDays(today, -Number(button.dataset.range)), to: today }).catch(ctx.fail);
    });
  }
}
