/** The audit trail tab: search, event detail (with links to the cards a hook call returned), export, chain check. */
export const CONSOLE_AUDIT_SCRIPT = String.raw`'use strict';
(function () {
  var MC = window.MC;
  var $ = MC.$;
  var state = { cursor: null };

  function query(extra) {
    var form = $('search-form');
    var params = new URLSearchParams();
    ['patient', 'action', 'outcome', 'client', 'actor', 'hookInstance'].forEach(function (name) {
      var v = form.elements[name].value.trim();
      if (v) params.set(name, v);
    });
    ['from', 'to'].forEach(function (name) {
      var v = form.elements[name].value;
      if (v) params.set(name, new Date(v).toISOString());
    });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params;
  }

  function addRows(items) {
    var body = $('results').querySelector('tbody');
    items.forEach(function (e) {
      var tr = MC.el('tr');
      [e.id, e.recordedAt.replace('T', ' ').replace('Z', ''), e.action].forEach(function (v) { tr.appendChild(MC.el('td', v)); });
      tr.appendChild(MC.el('td', e.outcome, 'outcome-' + e.outcome));
      tr.appendChild(MC.el('td', e.patientRef));
      tr.appendChild(MC.el('td', [e.clientId, e.actor].filter(Boolean).join(' / ')));
      var open = MC.el('button', 'Open');
      open.type = 'button';
      open.setAttribute('aria-label', 'Open event ' + e.id);
      open.addEventListener('click', function () { openEvent(e.id); });
      tr.appendChild(MC.el('td')).appendChild(open);
      body.appendChild(tr);
    });
  }

  function search(more) {
    var params = query(more ? { cursor: state.cursor } : {});
    params.set('limit', '50');
    MC.say('Searching…');
    return MC.api('/compliance/audit-events?' + params.toString())
      .then(function (res) { return res.json(); })
      .then(function (page) {
        if (!more) $('results').querySelector('tbody').textContent = '';
        addRows(page.items);
        state.cursor = page.nextCursor;
        $('results').hidden = false;
        $('more').hidden = !page.nextCursor;
        var shown = $('results').querySelectorAll('tbody tr').length;
        MC.say(shown + (page.nextCursor ? '+' : '') + ' events found.', 'ok');
      })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  function openEvent(id) {
    return MC.api('/compliance/audit-events/' + encodeURIComponent(id))
      .then(function (res) { return res.json(); })
      .then(function (e) {
        var dl = $('event-fields');
        dl.replaceWith(Object.assign(MC.dl(Object.keys(e).map(function (k) { return [k, e[k]]; })), { id: 'event-fields' }));
        var cards = $('event-cards');
        cards.textContent = '';
        var ids = e.detail && typeof e.detail.cardIds === 'string' ? e.detail.cardIds.split(',').filter(Boolean) : [];
        ids.forEach(function (uuid) {
          var a = cards.appendChild(MC.el('a', 'Explain card ' + uuid, 'button'));
          a.href = '#card/' + uuid;
        });
        $('event-title').textContent = 'Event ' + e.id;
        $('event').hidden = false;
        $('event').focus();
      })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  function exportAs(format) {
    var params = query({ format: format });
    MC.say('Exporting ' + format.toUpperCase() + '…');
    return MC.api('/compliance/audit-events/export?' + params.toString())
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var a = MC.el('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'audit-events.' + format;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        MC.say('Export ready (' + blob.size + ' bytes).', 'ok');
      })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  function verify() {
    $('chain-status').textContent = 'Verifying…';
    return MC.api('/compliance/audit-chain/verify')
      .then(function (res) { return res.json(); })
      .then(function (r) {
        var s = $('chain-status');
        if (r.valid) {
          s.textContent = 'Intact: ' + r.rowsChecked + ' rows checked in ' + r.durationMs + ' ms; head ' + r.headId + ' (' + r.headHash.slice(0, 16) + '…).';
          s.className = 'ok';
        } else {
          s.textContent = 'BROKEN at row ' + r.firstBreak.id + ': ' + r.firstBreak.reason.replace(/_/g, ' ') + '.';
          s.className = 'error';
        }
      })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('search-form').addEventListener('submit', function (ev) { ev.preventDefault(); search(false); });
    $('more').addEventListener('click', function () { search(true); });
    $('export-ndjson').addEventListener('click', function () { exportAs('ndjson'); });
    $('export-csv').addEventListener('click', function () { exportAs('csv'); });
    $('verify').addEventListener('click', verify);
  });
})();
`;
