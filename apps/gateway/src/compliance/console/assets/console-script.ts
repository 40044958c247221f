/**
 * The console's behaviour, vanilla JS run by the browser as-is (no build step). Every value from the server is put
 * in the page with textContent, never as HTML. The token lives in sessionStorage only.
 */
export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var TOKEN_KEY = 'meditron.compliance.token';
  var $ = function (id) { return document.getElementById(id); };
  var state = { cursor: null, filters: '' };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function say(text, kind) {
    var s = $('status');
    s.textContent = text;
    s.className = kind || '';
  }

  function api(path) {
    return fetch(path, { headers: { authorization: 'Bearer ' + token() } }).then(function (res) {
      if (res.status === 401 || res.status === 403) {
        signOut();
        throw new Error(res.status === 401 ? 'Your token was refused; sign in again.' : 'This token lacks the compliance role.');
      }
      if (!res.ok) throw new Error('The server answered ' + res.status + '.');
      return res;
    });
  }

  function showSignedIn(signedIn) {
    $('sign-in').hidden = signedIn;
    $('workspace').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignedIn(false);
  }

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

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function addRows(items) {
    var body = $('results').querySelector('tbody');
    items.forEach(function (e) {
      var tr = document.createElement('tr');
      cell(tr, e.id);
      cell(tr, e.recordedAt.replace('T', ' ').replace('Z', ''));
      cell(tr, e.action);
      cell(tr, e.outcome, 'outcome-' + e.outcome);
      cell(tr, e.patientRef);
      cell(tr, [e.clientId, e.actor].filter(Boolean).join(' / '));
      var open = document.createElement('button');
      open.type = 'button';
      open.textContent = 'Open';
      open.setAttribute('aria-label', 'Open event ' + e.id);
      open.addEventListener('click', function () { openEvent(e.id); });
      cell(tr, '').appendChild(open);
      body.appendChild(tr);
    });
  }

  function search(more) {
    var params = query(more ? { cursor: state.cursor } : {});
    params.set('limit', '50');
    say('Searching…');
    return api('/compliance/audit-events?' + params.toString())
      .then(function (res) { return res.json(); })
      .then(function (page) {
        if (!more) $('results').querySelector('tbody').textContent = '';
        addRows(page.items);
        state.cursor = page.nextCursor;
        $('results').hidden = false;
        $('more').hidden = !page.nextCursor;
        var shown = $('results').querySelectorAll('tbody tr').length;
        say(shown + (page.nextCursor ? '+' : '') + ' events found.', 'ok');
      })
      .catch(function (err) { say(err.message, 'error'); });
  }

  function openEvent(id) {
    return api('/compliance/audit-events/' + encodeURIComponent(id))
      .then(function (res) { return res.json(); })
      .then(function (e) {
        var dl = $('event-fields');
        dl.textContent = '';
        Object.keys(e).forEach(function (k) {
          var dt = document.createElement('dt');
          dt.textContent = k;
          var dd = document.createElement('dd');
          dd.textContent = typeof e[k] === 'object' && e[k] !== null ? JSON.stringify(e[k]) : String(e[k]);
          dl.appendChild(dt);
          dl.appendChild(dd);
        });
        $('event-title').textContent = 'Event ' + e.id;
        $('event').hidden = false;
        $('event').focus();
      })
      .catch(function (err) { say(err.message, 'error'); });
  }

  function exportAs(format) {
    var params = query({ format: format });
    say('Exporting ' + format.toUpperCase() + '…');
    return api('/compliance/audit-events/export?' + params.toString())
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'audit-events.' + format;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        say('Export ready (' + blob.size + ' bytes).', 'ok');
      })
      .catch(function (err) { say(err.message, 'error'); });
  }

  function provenance(ev) {
    ev.preventDefault();
    var card = $('card').value.trim();
    return api('/compliance/cards/' + encodeURIComponent(card) + '/provenance')
      .then(function (res) { return res.json(); })
      .then(function (p) {
        $('provenance').textContent = JSON.stringify(p, null, 2);
        $('provenance').hidden = false;
        $('provenance').focus();
      })
      .catch(function (err) { say(err.message, 'error'); });
  }

  function verify() {
    $('chain-status').textContent = 'Verifying…';
    return api('/compliance/audit-chain/verify')
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
      .catch(function (err) { say(err.message, 'error'); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    showSignedIn(Boolean(token()));
    $('sign-in-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
      $('token').value = '';
      api('/compliance/audit-events?limit=1')
        .then(function () { showSignedIn(true); say('Signed in.', 'ok'); $('search-form').elements.patient.focus(); })
        .catch(function (err) { say(err.message, 'error'); });
    });
    $('sign-out').addEventListener('click', function () { signOut(); say('Signed out.'); });
    $('search-form').addEventListener('submit', function (ev) { ev.preventDefault(); search(false); });
    $('more').addEventListener('click', function () { search(true); });
    $('export-ndjson').addEventListener('click', function () { exportAs('ndjson'); });
    $('export-csv').addEventListener('click', function () { exportAs('csv'); });
    $('provenance-form').addEventListener('submit', provenance);
    $('verify').addEventListener('click', verify);
  });
})();
`;
