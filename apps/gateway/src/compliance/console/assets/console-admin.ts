/** The EHR clients tab (admin role): the registry, and add / change / remove through the admin API. */
export const CONSOLE_ADMIN_SCRIPT = String.raw`'use strict';
(function () {
  var MC = window.MC;
  var $ = MC.$;

  function list(v) { return v.split(',').map(function (s) { return s.trim(); }).filter(Boolean); }

  function fill(c) {
    var f = $('client-form').elements;
    f.id.value = c.id;
    f.issuer.value = c.issuer;
    f.tenant.value = c.tenant;
    f.jwksUrl.value = c.jwksUrl || '';
    f.services.value = c.services.join(', ');
    f.fhirBaseUrls.value = c.fhirBaseUrls.join(', ');
    f.perSecond.value = c.rateLimit ? c.rateLimit.perSecond : '';
    f.burst.value = c.rateLimit ? c.rateLimit.burst : '';
    f.jwks.value = '';
    f.issuer.focus();
  }

  function load() {
    return MC.api('/admin/clients')
      .then(function (res) { return res.json(); })
      .then(function (r) {
        var body = $('clients').querySelector('tbody');
        body.textContent = '';
        r.clients.forEach(function (c) {
          var tr = body.appendChild(MC.el('tr'));
          tr.appendChild(MC.el('td', c.id));
          tr.appendChild(MC.el('td', c.issuer));
          tr.appendChild(MC.el('td', c.keySource + (c.kids.length ? ': ' + c.kids.join(', ') : c.jwksUrl ? ': ' + c.jwksUrl : '')));
          tr.appendChild(MC.el('td', c.services.join(', ')));
          tr.appendChild(MC.el('td', c.fhirBaseUrls.join(', ')));
          tr.appendChild(MC.el('td', c.rateLimit ? c.rateLimit.perSecond + '/s, burst ' + c.rateLimit.burst : 'default'));
          var td = tr.appendChild(MC.el('td'));
          var edit = td.appendChild(MC.el('button', 'Change'));
          edit.type = 'button';
          edit.setAttribute('aria-label', 'Change ' + c.id);
          edit.addEventListener('click', function () { fill(c); });
          var remove = td.appendChild(MC.el('button', 'Remove'));
          remove.type = 'button';
          remove.setAttribute('aria-label', 'Remove ' + c.id);
          remove.addEventListener('click', function () {
            // Two steps instead of a dialog: the second press names what it removes.
            if (remove.dataset.armed !== 'yes') {
              remove.dataset.armed = 'yes';
              remove.textContent = 'Confirm removal of ' + c.id;
              return;
            }
            MC.api('/admin/clients/' + encodeURIComponent(c.id), { method: 'DELETE' })
              .then(function () { return load(); })
              .then(function () { MC.say('Removed ' + c.id + '.', 'ok'); })
              .catch(function (err) { MC.say(err.message, 'error'); });
          });
        });
        MC.say(r.clients.length + ' EHR clients registered.', 'ok');
      })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  function save(ev) {
    ev.preventDefault();
    var f = $('client-form').elements;
    var body = { id: f.id.value.trim(), issuer: f.issuer.value.trim() };
    if (f.tenant.value.trim()) body.tenant = f.tenant.value.trim();
    if (f.jwksUrl.value.trim()) body.jwksUrl = f.jwksUrl.value.trim();
    if (f.services.value.trim()) body.services = list(f.services.value);
    if (f.fhirBaseUrls.value.trim()) body.fhirBaseUrls = list(f.fhirBaseUrls.value);
    if (f.perSecond.value && f.burst.value) body.rateLimit = { perSecond: Number(f.perSecond.value), burst: Number(f.burst.value) };
    if (f.jwks.value.trim()) {
      try { body.jwks = JSON.parse(f.jwks.value); } catch (e) { MC.say('The JWK Set is not valid JSON.', 'error'); return; }
    }
    MC.api('/admin/clients/' + encodeURIComponent(body.id), { method: 'PUT', body: body })
      .then(function () { $('client-form').reset(); return load(); })
      .then(function () { MC.say('Saved ' + body.id + '.', 'ok'); })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  MC.tabs.admin = function () { return load(); };

  document.addEventListener('DOMContentLoaded', function () {
    $('client-form').addEventListener('submit', save);
  });
})();
`;
