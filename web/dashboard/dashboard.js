// The orgshift dashboard page. Plain browser JavaScript, served as is by
// `orgshift serve`: no build step, no request to any other origin. Data comes
// from GET /v1/admin/dashboard with the admin token the user typed, kept in
// sessionStorage (this tab only) and sent as a bearer header, which a browser
// never attaches by itself, so another site cannot make this page's requests.
(() => {
  const DATA_URL = '/v1/admin/dashboard';
  const STORAGE = Object.freeze({ admin: 'orgshift.adminToken', api: 'orgshift.apiToken' });
  const COLORS = Object.freeze({ perMinute: '#2563eb', cumulative: '#059669' });
  const numbers = new Intl.NumberFormat('en-US');
  const $ = (id) => document.getElementById(id);

  let timer;
  let charts;

  // ---- tokens ---------------------------------------------------------------

  function tokenOf(kind) {
    return sessionStorage.getItem(STORAGE[kind]) ?? '';
  }

  function headersFor(kind) {
    const token = tokenOf(kind);
    return token === '' ? {} : { authorization: `Bearer ${token}` };
  }

  function showLogin(reason) {
    $('login-reason').textContent = reason;
    $('admin-token').value = tokenOf('admin');
    $('api-token').value = tokenOf('api');
    $('login').hidden = false;
  }

  function onLoginSubmit(event) {
    // The form has no action and its inputs no names: nothing can ever reach a URL.
    event.preventDefault();
    for (const kind of ['admin', 'api']) {
      const value = $(`${kind}-token`).value.trim();
      if (value === '') sessionStorage.removeItem(STORAGE[kind]);
      else sessionStorage.setItem(STORAGE[kind], value);
    }
    $('login').hidden = true;
    refreshNow();
  }

  function forgetTokens() {
    sessionStorage.removeItem(STORAGE.admin);
    sessionStorage.removeItem(STORAGE.api);
    $('admin-token').value = '';
    $('api-token').value = '';
    showLogin('Tokens forgotten.');
    refreshNow();
  }

  // ---- polling ----------------------------------------------------------------

  function refreshNow() {
    clearTimeout(timer);
    void refresh();
  }

  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(refresh, seconds * 1000);
  }

  async function refresh() {
    let response;
    try {
      response = await fetch(DATA_URL, { headers: headersFor('admin'), cache: 'no-store', credentials: 'omit' });
    } catch {
      setState('offline', 'server unreachable, retrying');
      schedule(5);
      return;
    }
    if (response.status === 401) {
      setState('locked', 'admin token needed');
      showLogin(await errorMessage(response));
      return;
    }
    if (!response.ok) {
      setState('offline', `${response.status}: ${await errorMessage(response)}; retrying`);
      schedule(5);
      return;
    }
    const doc = await response.json();
    render(doc);
    setState('live', `live, every ${doc.refreshSeconds} s`);
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes) + 1);
    schedule(doc.refreshSeconds);
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      return body?.error?.message ?? response.statusText;
    } catch {
      return response.statusText;
    }
  }

  function setState(kind, text) {
    const state = $('state');
    state.className = `state ${kind}`;
    state.textContent = text;
  }

  // ---- rendering --------------------------------------------------------------

  function render(doc) {
    $('main').hidden = false;
    renderTotals(doc.totals);
    renderRate(doc.history);
    renderCharts(doc.history);
    renderShare(doc.share);
    renderLockWait(doc.lockWait, doc.lock);
    renderAudit(doc.lastAudit);
    renderFailures(doc.failures);
    $('source').textContent =
      doc.history.source === 'marker_timestamp'
        ? 'History from the legacy rows’ migrated-at timestamps.'
        : 'History from the migration counters of every orgshift process.';
    $('generated').textContent = `Updated ${new Date(doc.generatedAt).toLocaleTimeString()}.`;
  }

  function renderTotals(totals) {
    for (const element of document.querySelectorAll('[data-total]')) {
      const key = element.dataset.total;
      // Nested counts are named by path: "outbox.pending".
      const value = key.split('.').reduce((object, part) => object?.[part], totals);
      element.dataset.value = String(value);
      element.textContent = key === 'percentMigrated' ? `${value.toFixed(1)} %` : numbers.format(value);
    }
    $('percent-bar').style.width = `${Math.min(100, totals.percentMigrated)}%`;
  }

  function renderRate(history) {
    $('rate').textContent = `${numbers.format(Math.round(history.ratePerMinute))} users/min`;
    const eta = history.etaSeconds;
    $('eta').textContent = eta === null ? 'no progress' : eta === 0 ? 'done' : duration(eta);
    $('eta-at').textContent = eta ? `around ${new Date(Date.now() + eta * 1000).toLocaleString()}` : '';
  }

  function renderCharts(history) {
    const perMinute = [history.minutes, history.perMinute];
    const cumulative = [history.minutes, history.cumulative];
    if (charts === undefined) {
      charts = {
        perMinute: new window.uPlot(
          chartOptions('migrated/min', COLORS.perMinute, true),
          perMinute,
          $('chart-per-minute'),
        ),
        cumulative: new window.uPlot(
          chartOptions('migrated', COLORS.cumulative, false),
          cumulative,
          $('chart-cumulative'),
        ),
      };
      window.addEventListener('resize', resizeCharts);
      // Tests read what was drawn from here.
      window.orgshiftCharts = charts;
      return;
    }
    charts.perMinute.setData(perMinute);
    charts.cumulative.setData(cumulative);
  }

  function chartOptions(label, color, bars) {
    return {
      width: chartWidth(),
      height: 220,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{}, { size: 60, values: (_u, ticks) => ticks.map((t) => numbers.format(t)) }],
      series: [
        {},
        {
          label,
          stroke: color,
          width: 2,
          fill: `${color}33`,
          points: { show: false },
          ...(bars ? { paths: window.uPlot.paths.bars({ size: [0.8, 24] }) } : {}),
        },
      ],
    };
  }

  function chartWidth() {
    const figure = $('chart-per-minute').parentElement;
    return Math.max(280, figure.clientWidth - 32);
  }

  function resizeCharts() {
    const width = chartWidth();
    charts.perMinute.setSize({ width, height: 220 });
    charts.cumulative.setSize({ width, height: 220 });
  }

  function renderShare(share) {
    const jit = share.just_in_time.migrated;
    const backfill = share.backfill.migrated;
    const total = jit + backfill;
    const percent = (n) => (total === 0 ? 0 : (n / total) * 100);
    $('share-jit').style.width = `${percent(jit)}%`;
    $('share-backfill').style.width = `${percent(backfill)}%`;
    $('share-jit-text').textContent = shareText(share.just_in_time, percent(jit));
    $('share-backfill-text').textContent = shareText(share.backfill, percent(backfill));
  }

  function shareText(counts, percent) {
    const failed = counts.failed > 0 ? `, ${numbers.format(counts.failed)} failed` : '';
    return `${numbers.format(counts.migrated)} (${percent.toFixed(1)} %)${failed}`;
  }

  function renderLockWait(lockWait, lock) {
    for (const q of ['p50', 'p90', 'p99']) $(`lock-${q}`).textContent = milliseconds(lockWait[q]);
    $('lock-count').textContent = numbers.format(lockWait.count);
    $('lock-backend').textContent =
      `${lock.kind} lock, ${lock.healthy ? 'healthy' : 'UNREACHABLE'}; waits seen by this server since it started`;
  }

  function renderAudit(audit) {
    const result = $('audit-result');
    const list = $('audit-violations');
    list.replaceChildren();
    if (audit === null) {
      result.className = 'big';
      result.textContent = 'never run';
      $('audit-when').textContent = 'run `orgshift audit` or GET /v1/admin/audit';
      return;
    }
    result.className = audit.ok ? 'big good' : 'big bad';
    result.textContent = audit.ok ? 'clean' : `${audit.violations.length} finding(s)`;
    for (const violation of audit.violations) {
      const item = document.createElement('li');
      item.textContent = `${violation.code}: ${numbers.format(violation.count)}`;
      list.append(item);
    }
    const when = new Date(audit.finishedAt);
    $('audit-when').textContent = `${when.toLocaleString()} (${ago(when)}), took ${audit.seconds.toFixed(1)} s`;
  }

  function renderFailures(failures) {
    const body = $('failures');
    body.replaceChildren();
    $('no-failures').hidden = failures.byCode.length > 0;
    for (const group of failures.byCode) {
      const row = document.createElement('tr');
      const code = document.createElement('td');
      code.append(Object.assign(document.createElement('code'), { textContent: group.code }));
      const count = Object.assign(document.createElement('td'), { textContent: numbers.format(group.count) });
      const sample = document.createElement('td');
      for (const id of group.sample) sample.append(verificationLink(id), ' ');
      row.append(code, count, sample);
      body.append(row);
    }
  }

  function verificationLink(id) {
    const link = document.createElement('a');
    link.href = `/v1/users/${encodeURIComponent(id)}/verification`;
    link.className = 'user-id';
    link.dataset.userId = id;
    link.textContent = id;
    return link;
  }

  // ---- verification panel ----------------------------------------------------

  async function onFailuresClick(event) {
    const link = event.target.closest('a.user-id');
    if (link === null) return;
    // The route needs the API token in a header, which a plain link cannot send.
    event.preventDefault();
    const panel = $('verification');
    panel.hidden = false;
    $('verification-id').textContent = link.dataset.userId;
    $('verification-status').textContent = 'loading…';
    $('verification-json').textContent = '';
    let response;
    try {
      response = await fetch(link.getAttribute('href'), {
        headers: headersFor('api'),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      $('verification-status').textContent = 'server unreachable';
      return;
    }
    const text = await response.text();
    $('verification-status').textContent = `HTTP ${response.status}`;
    $('verification-json').textContent = pretty(text);
    panel.dataset.status = String(response.status);
    if (response.status === 401) showLogin('The verification route needs the API token.');
    panel.scrollIntoView({ block: 'nearest' });
  }

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }

  // ---- formatting ------------------------------------------------------------

  function duration(seconds) {
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    const minutes = Math.ceil(seconds / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours} h ${minutes % 60} min`;
    return `${Math.round(hours / 24)} days`;
  }

  function milliseconds(seconds) {
    if (seconds === null) return '–';
    const ms = seconds * 1000;
    return ms < 10 ? `${ms.toFixed(2)} ms` : `${numbers.format(Math.round(ms))} ms`;
  }

  function ago(date) {
    const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
    return seconds < 90 ? `${Math.round(seconds)} s ago` : `${duration(seconds)} ago`;
  }

  // ---- start -------------------------------------------------------------------

  $('login').addEventListener('submit', onLoginSubmit);
  $('forget').addEventListener('click', forgetTokens);
  $('tokens').addEventListener('click', () => showLogin(''));
  $('failures').addEventListener('click', onFailuresClick);
  // The server says whether it has an admin token, so the page asks for it before any call that would be refused.
  if (document.body.dataset.adminToken === 'required' && tokenOf('admin') === '') {
    setState('locked', 'admin token needed');
    showLogin('This server needs its admin token.');
  } else {
    refreshNow();
  }
})();
