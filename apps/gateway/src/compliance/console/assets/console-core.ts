/**
 * The console's shared part, vanilla JS run by the browser as-is: who is signed in (the gateway holds the tokens; the
 * page only has an HttpOnly session cookie), calls to the API with the CSRF token, tabs. Every value from the server is
 * put in the page with textContent, never as HTML. The other scripts hang their tab off `window.MC`.
 */
export const CONSOLE_CORE_SCRIPT = String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var MC = { $: $, me: null, tabs: {} };
  window.MC = MC;

  MC.say = function (text, kind) {
    var s = $('status');
    s.textContent = text;
    s.className = kind || '';
  };

  MC.has = function (role) { return Boolean(MC.me && MC.me.roles.indexOf(role) >= 0); };

  /** A call to the staff API on the session; an expired session sends the user back through sign-in. */
  MC.api = function (path, opts) {
    opts = opts || {};
    var headers = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.method && opts.method !== 'GET') headers['x-csrf-token'] = MC.me ? MC.me.csrfToken : '';
    return fetch(path, {
      method: opts.method || 'GET',
      headers: headers,
      credentials: 'same-origin',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    }).then(function (res) {
      if (res.status === 401) { showSignIn('Your session has ended; sign in again.'); throw new Error('Signed out.'); }
      if (res.status === 403) throw new Error('Your account does not have the role this needs.');
      if (!res.ok) {
        return res.text().then(function (t) {
          var why = '';
          try { why = JSON.parse(t).issue[0].diagnostics; } catch (e) { why = ''; }
          throw new Error('The server answered ' + res.status + (why ? ': ' + why.replace(/_/g, ' ') : '') + '.');
        });
      }
      return res;
    });
  };

  MC.el = function (tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (className) e.className = className;
    return e;
  };

  /** A table from column names and rows of cells. */
  MC.table = function (columns, rows, caption) {
    var t = MC.el('table');
    if (caption) t.appendChild(MC.el('caption', caption));
    var head = t.appendChild(MC.el('thead')).appendChild(MC.el('tr'));
    columns.forEach(function (c) { var th = MC.el('th', c); th.scope = 'col'; head.appendChild(th); });
    var body = t.appendChild(MC.el('tbody'));
    rows.forEach(function (r) {
      var tr = body.appendChild(MC.el('tr'));
      r.forEach(function (v) {
        tr.appendChild(MC.el('td', v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : v));
      });
    });
    return t;
  };

  MC.dl = function (pairs) {
    var dl = MC.el('dl');
    pairs.forEach(function (p) {
      dl.appendChild(MC.el('dt', p[0]));
      dl.appendChild(MC.el('dd', p[1] === null || p[1] === undefined ? '—' : typeof p[1] === 'object' ? JSON.stringify(p[1]) : p[1]));
    });
    return dl;
  };

  function showSignIn(message) {
    MC.me = null;
    $('who').hidden = true;
    $('tabs').hidden = true;
    $('refused').hidden = true;
    document.querySelectorAll('.tab').forEach(function (t) { t.hidden = true; });
    $('sign-in').hidden = false;
    if (message) MC.say(message, 'error');
  }

  function showTab(name) {
    var allowed = Array.prototype.filter.call(document.querySelectorAll('#tabs a'), function (a) { return !a.hidden; });
    var link = allowed.filter(function (a) { return a.dataset.tab === name; })[0] || allowed[0];
    if (!link) return;
    allowed.forEach(function (a) { a.setAttribute('aria-current', a === link ? 'page' : 'false'); });
    document.querySelectorAll('.tab').forEach(function (t) { t.hidden = t.id !== 'tab-' + link.dataset.tab; });
    var open = MC.tabs[link.dataset.tab];
    if (open) open(location.hash.split('/').slice(1).join('/'));
  }

  function route() {
    showTab(location.hash.slice(1).split('/')[0] || (MC.has('compliance') ? 'dashboard' : 'admin'));
  }

  function signedIn(me) {
    MC.me = me;
    $('sign-in').hidden = true;
    $('who').hidden = false;
    $('who-name').textContent = 'Signed in as ' + (me.name || me.subject);
    $('who-roles').textContent = me.roles.length ? 'roles: ' + me.roles.join(', ') : 'no roles';
    var usable = false;
    document.querySelectorAll('#tabs a').forEach(function (a) {
      a.hidden = !a.dataset.role.split(' ').some(MC.has);
      usable = usable || !a.hidden;
    });
    if (!usable) {
      $('refused').hidden = false;
      $('refused-text').textContent = 'You are signed in as ' + (me.name || me.subject) + ', but your account has ' +
        'neither the compliance nor the admin role, so this console shows you nothing. Ask your identity ' +
        'administrator for the role your work needs.';
      MC.say('Access refused: no console role.', 'error');
      return;
    }
    $('tabs').hidden = false;
    route();
  }

  function signOut() {
    MC.api('/console/auth/logout', { method: 'POST' })
      .then(function (res) { return res.json(); })
      .then(function (r) { location.assign(r.logoutUrl); })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('sign-out').addEventListener('click', signOut);
    window.addEventListener('hashchange', function () { if (MC.me) route(); });
    if (/[?&]signin=failed/.test(location.search)) MC.say('Sign-in did not complete; try again.', 'error');
    fetch('/console/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (res.status === 404) {
          $('sign-in').hidden = false;
          $('sign-in-link').hidden = true;
          MC.say('Console sign-in is not configured on this gateway (CONSOLE_OIDC_CLIENT_ID); the API takes bearer tokens.', 'error');
          return;
        }
        if (!res.ok) return showSignIn();
        return res.json().then(signedIn);
      })
      .catch(function () { showSignIn('The gateway could not be reached.'); });
  });
})();
`;
