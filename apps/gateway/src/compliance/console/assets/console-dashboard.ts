/**
 * The governance dashboard tab: figures for a period and service, each panel a Chart.js chart (self-hosted, under the
 * CSP) with its numbers in a table beside it and as CSV.
 */
export const CONSOLE_DASHBOARD_SCRIPT = String.raw`'use strict';
(function () {
  var MC = window.MC;
  var charts = [];
  var ORDER = ['volume', 'cards', 'feedback', 'override-reasons', 'answers', 'latency', 'reuse', 'shadow', 'clients'];
  var COLORS = ['#0b4f71', '#e3a008', '#a23b72', '#2e8540', '#6f42c1', '#c0392b'];

  function day(d) { return d.toISOString().slice(0, 10); }

  function period() {
    var f = MC.$('dashboard-form');
    var p = new URLSearchParams();
    p.set('from', f.elements.from.value + 'T00:00:00Z');
    var to = new Date(f.elements.to.value + 'T00:00:00Z');
    to.setUTCDate(to.getUTCDate() + 1);
    p.set('to', to.toISOString());
    var service = f.elements.service.value.trim();
    if (service) p.set('service', service);
    return p;
  }

  function kpi(label, value) {
    var d = MC.el('div', null, 'kpi');
    d.appendChild(MC.el('span', value, 'kpi-value'));
    d.appendChild(MC.el('span', label, 'kpi-label'));
    return d;
  }

  function rowValue(panel, key, col) {
    var r = panel.rows.filter(function (x) { return x[0] === key; })[0];
    return r ? r[col] : 0;
  }

  function chart(canvas, panel) {
    if (!window.Chart || panel.chart === 'table' || panel.rows.length === 0) return;
    var numeric = panel.columns.map(function (c, i) { return i; }).filter(function (i) {
      return i > 0 && panel.rows.every(function (r) { return typeof r[i] === 'number' || r[i] === null; });
    });
    // A count beside measured values (latency) is a different scale: it stays in the table.
    if (numeric.length > 1) numeric = numeric.filter(function (i) { return panel.columns[i] !== 'count'; });
    var labels = panel.rows.map(function (r) { return panel.chart === 'line' ? String(r[0]).slice(0, 16).replace('T', ' ') : r[0]; });
    charts.push(new window.Chart(canvas, {
      type: panel.chart,
      data: {
        labels: labels,
        datasets: numeric.map(function (i, n) {
          return { label: panel.columns[i], data: panel.rows.map(function (r) { return r[i]; }),
            backgroundColor: COLORS[n % COLORS.length], borderColor: COLORS[n % COLORS.length] };
        }),
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        plugins: { legend: { display: numeric.length > 1 } }, scales: { y: { beginAtZero: true } } },
    }));
  }

  function render(d, params) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var p = d.panels;
    var cardsShown = p.cards.rows.reduce(function (a, r) { return a + r[1]; }, 0);
    var kpis = MC.$('kpis');
    kpis.textContent = '';
    kpis.appendChild(kpi('hook calls', p.clients.rows.reduce(function (a, r) { return a + r[1]; }, 0)));
    kpis.appendChild(kpi('cards shown', cardsShown));
    kpis.appendChild(kpi('accepted', rowValue(p.feedback, 'accepted', 1)));
    kpis.appendChild(kpi('overridden', rowValue(p.feedback, 'overridden', 1)));
    kpis.appendChild(kpi('invalid answers', rowValue(p.answers, 'invalid', 1)));
    kpis.appendChild(kpi('p95 hook answer (ms)', rowValue(p.latency, 'hook answer', 2) === null ? '—' : rowValue(p.latency, 'hook answer', 2)));
    kpis.appendChild(kpi('reuse rate (%)', rowValue(p.reuse, 'reuse rate (%)', 1)));
    var box = MC.$('panels');
    box.textContent = '';
    ORDER.forEach(function (key) {
      var panel = p[key];
      var fig = MC.el('figure', null, 'panel');
      fig.id = 'panel-' + key;
      fig.appendChild(MC.el('figcaption', panel.title));
      if (panel.chart !== 'table' && panel.rows.length > 0) {
        var wrap = fig.appendChild(MC.el('div', null, 'chart'));
        var canvas = wrap.appendChild(MC.el('canvas'));
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', panel.title + ' (numbers in the table below)');
        chart(canvas, panel);
      }
      if (panel.rows.length === 0) fig.appendChild(MC.el('p', 'Nothing in this period.', 'hint'));
      else fig.appendChild(MC.table(panel.columns, panel.rows));
      var csv = fig.appendChild(MC.el('a', 'CSV', 'csv'));
      csv.href = '/compliance/dashboard/' + key + '.csv?' + params.toString();
      csv.setAttribute('download', 'dashboard-' + key + '.csv');
      csv.setAttribute('aria-label', 'Download ' + panel.title + ' as CSV');
      box.appendChild(fig);
    });
    var samples = MC.$('shadow-samples');
    var ul = samples.querySelector('ul');
    ul.textContent = '';
    d.shadowSamples.forEach(function (s) {
      s.cards.forEach(function (c) {
        ul.appendChild(MC.el('li', s.receivedAt.slice(0, 19).replace('T', ' ') + ' ' + s.service + ' [' + c.indicator + '] ' + c.summary));
      });
    });
    samples.hidden = ul.children.length === 0;
  }

  function load() {
    var params = period();
    MC.say('Loading the dashboard…');
    return MC.api('/compliance/dashboard?' + params.toString())
      .then(function (res) { return res.json(); })
      .then(function (d) { render(d, params); MC.say('Dashboard for ' + d.period.from.slice(0, 10) + ' to ' + d.period.to.slice(0, 10) + (d.period.service ? ', ' + d.period.service : ', all services') + '.', 'ok'); })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  MC.tabs.dashboard = function () { return load(); };

  document.addEventListener('DOMContentLoaded', function () {
    var f = MC.$('dashboard-form');
    var now = new Date();
    var from = new Date(now.getTime() - 29 * 86400000);
    f.elements.from.value = day(from);
    f.elements.to.value = day(now);
    f.addEventListener('submit', function (ev) { ev.preventDefault(); load(); });
  });
})();
`;
