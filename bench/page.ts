// The benchmark page (/bench/ on the Vite dev server): the same cases and runner as the CLI,
// rendered as a table (with the tfjs/ours ratio column), a ratio bar chart and a JSON download.
// URL parameters preset the form: ?filter=…&large=1&peers=0&jax=0&iters=N&budget=MS&autorun=1.
// Progress and the final report are published on window.__bench for the e2e test.

import { init } from '../src/runtime/engine.js';
import { ratioChart } from './chart.js';
import { adapterLine, COLUMNS, jaxText, notValidated, rooflineLine, statusText, timingText } from './report.js';
import { DEFAULTS, runBench } from './runner.js';
import type { CaseResult, Report } from './types.js';

interface PageState {
  running: boolean;
  done: boolean;
  results: CaseResult[];
  report?: Report;
  error?: string;
}
const state: PageState = { running: false, done: false, results: [] };
(window as unknown as { __bench: PageState }).__bench = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('controls');
const filter = $<HTMLInputElement>('filter'),
  large = $<HTMLInputElement>('large');
const peers = $<HTMLInputElement>('peers'),
  jaxBox = $<HTMLInputElement>('jax'),
  iters = $<HTMLInputElement>('iters');
const runButton = $<HTMLButtonElement>('run'),
  download = $<HTMLButtonElement>('download');
const status = $('status'),
  table = $<HTMLTableElement>('results'),
  chart = $('chart');

const params = new URLSearchParams(location.search);
filter.value = params.get('filter') ?? '';
large.checked = params.get('large') === '1';
peers.checked = params.get('peers') !== '0';
jaxBox.checked = params.get('jax') !== '0';
iters.value = params.get('iters') ?? String(DEFAULTS.iters);
const budgetMs = Number(params.get('budget') ?? DEFAULTS.budgetMs);

function header(): void {
  const tr = document.createElement('tr');
  for (const c of COLUMNS) {
    const th = document.createElement('th');
    th.textContent = c.title;
    if (c.num) th.className = 'num';
    tr.append(th);
  }
  table.tHead!.replaceChildren(tr);
}

function addRow(r: CaseResult): void {
  const tr = document.createElement('tr');
  tr.dataset.id = r.id;
  tr.title = statusText(r);
  if (notValidated(r)) tr.className = 'bad';
  for (const c of COLUMNS) {
    const td = document.createElement('td');
    td.textContent = c.cell(r);
    td.dataset.col = c.key;
    if (c.num) td.className = 'num';
    tr.append(td);
  }
  table.tBodies[0].append(tr);
}

async function run(): Promise<void> {
  if (state.running) return;
  Object.assign(state, { running: true, done: false, results: [], report: undefined, error: undefined });
  runButton.disabled = true;
  download.disabled = true;
  table.tBodies[0].replaceChildren();
  chart.replaceChildren();
  try {
    const report = await runBench(
      {
        filter: filter.value,
        large: large.checked,
        peers: peers.checked,
        jax: jaxBox.checked,
        iters: Math.max(3, Number(iters.value) || DEFAULTS.iters),
        budgetMs,
      },
      {
        onStatus: (m) => (status.textContent = m),
        onResult: (r) => {
          state.results.push(r);
          addRow(r);
          chart.replaceChildren(ratioChart(state.results));
        },
      },
    );
    state.report = report;
    $('roofline').textContent = `${rooflineLine(report)}; timing: ${timingText(report)}; jax-js: ${jaxText(report)}`;
    const bad = report.results.filter(notValidated).length;
    status.textContent = `done: ${report.results.length} cases${bad ? `, ${bad} not validated (hover the red rows)` : ', all validated'}`;
    download.disabled = false;
  } catch (e) {
    state.error = (e as Error).message;
    status.textContent = `error: ${state.error}`;
  } finally {
    state.running = false;
    state.done = true;
    runButton.disabled = false;
  }
}

download.addEventListener('click', () => {
  if (!state.report) return;
  const blob = new Blob([JSON.stringify(state.report, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `webgpu-cnn-bench-${state.report.date.replace(/[:.]/g, '-')}.json`;
  a.click();
  URL.revokeObjectURL(a.href);
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void run();
});

async function main(): Promise<void> {
  header();
  runButton.disabled = true;
  try {
    const e = await init();
    $('adapter').textContent = `adapter: ${adapterLine({ adapter: e.info, runtime: e.info.runtime } as Report)}`;
  } catch (err) {
    state.error = (err as Error).message;
    state.done = true;
    status.textContent = `no WebGPU: ${state.error}`;
    return;
  }
  runButton.disabled = false;
  if (params.get('autorun') === '1') await run();
}
void main();
