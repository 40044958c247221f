/** The card explanation tab: one page for everything on record about a card (GET /compliance/cards/:uuid/explanation). */
export const CONSOLE_CARD_SCRIPT = String.raw`'use strict';
(function () {
  var MC = window.MC;
  var $ = MC.$;

  function section(title, content) {
    var s = MC.el('section', null, 'explain');
    s.appendChild(MC.el('h3', title));
    (Array.isArray(content) ? content : [content]).forEach(function (c) { s.appendChild(c); });
    return s;
  }

  function pre(v) { return MC.el('pre', v === null || v === undefined ? '(none on record)' : typeof v === 'string' ? v : JSON.stringify(v, null, 2)); }

  function render(x) {
    var out = $('explanation');
    out.textContent = '';
    out.appendChild(section('The card as the EHR received it', [
      MC.dl([['uuid', x.card.uuid], ['service', x.card.serviceId], ['indicator', x.card.indicator], ['created', x.card.createdAt]]),
      pre(x.card.asSent),
    ]));
    out.appendChild(section('The hook call', MC.dl([
      ['hook', x.call.hook], ['hook instance', x.call.hookInstance], ['EHR client', x.call.clientId],
      ['request id', x.call.requestId], ['status', x.call.status], ['received', x.call.receivedAt],
      ['answered', x.call.answeredAt],
      ['patient', x.call.patientHidden ? '(not shown: your role does not include patient identity)' : x.call.patientRef],
    ])));
    out.appendChild(section('The prompt', MC.dl([
      ['model', x.prompt.model], ['template version', x.prompt.templateVersion], ['prompt hash', x.prompt.promptHash],
      ['prompt tokens', x.prompt.promptTokens], ['token budget', x.prompt.budgetTokens],
    ])));
    var cited = [];
    x.findings.forEach(function (f) {
      var cites = f.citations.length ? f.citations : [{ handle: '(none cited)', fact: null, reference: null }];
      cites.forEach(function (c) {
        cited.push([f.index + (f.isThisCard ? ' (this card)' : ''), f.indicator, f.summary, c.handle, c.fact, c.reference,
          f.droppedBecause ? 'dropped: ' + f.droppedBecause.replace(/_/g, ' ') : 'kept']);
      });
    });
    out.appendChild(section('What the model said, and the de-identified facts it cited', cited.length
      ? MC.table(['finding', 'indicator', 'summary', 'handle', 'fact shown to the model', 'record', 'grounding'], cited)
      : MC.el('p', 'The output held no findings that parse.', 'hint')));
    var lo = x.leftOut;
    out.appendChild(section('What the prompt left out, and why', lo ? [
      MC.table(['section', 'state'], Object.keys(lo.sections).map(function (k) { return [k, lo.sections[k]]; }), 'What the EHR answered'),
      MC.table(['reason', 'resources'], Object.keys(lo.counts).map(function (k) { return [k, lo.counts[k]]; }), 'Resources not shown, by reason'),
      MC.table(['resource', 'section', 'reason'], lo.resources.map(function (r) { return [r.ref, r.section, r.reason]; }), 'Resources not shown'),
    ] : MC.el('p', 'Not recorded for this request.', 'hint')));
    out.appendChild(section('The model run', MC.dl([
      ['backend', x.run.backend], ['outcome', x.run.outcome], ['served from', x.run.servedFrom], ['attempts', x.run.attempts],
      ['latency (ms)', x.run.latencyMs], ['tokens in / out', (x.run.tokensIn || 0) + ' / ' + (x.run.tokensOut || 0)],
      ['error', x.run.errorCode],
    ])));
    out.appendChild(section('Raw model output', pre(x.rawOutput)));
    out.appendChild(section('From answer to cards (validity, repair, drops, shadow mode)', pre(x.answer)));
    out.appendChild(section('Feedback', x.feedback.length
      ? MC.table(['outcome', 'when', 'override reason', 'EHR client'], x.feedback.map(function (f) { return [f.outcome, f.outcomeAt, f.overrideReason, f.clientId]; }))
      : MC.el('p', 'No feedback received for this card.', 'hint')));
    var broken = x.auditEvents.filter(function (e) { return e.chain !== 'intact'; }).length;
    out.appendChild(section('Audit events of this call', [
      MC.el('p', broken ? broken + ' of these rows FAIL the hash chain check.' : 'All ' + x.auditEvents.length + ' rows pass the hash chain check.', broken ? 'error' : 'ok'),
      MC.table(['id', 'recorded', 'action', 'outcome', 'service', 'patient', 'chain'], x.auditEvents.map(function (e) {
        return [e.id, e.recordedAt, e.action, e.outcome, e.service, e.patientRef, e.chain];
      })),
    ]));
    out.hidden = false;
    out.focus();
  }

  function explain(uuid) {
    MC.say('Loading the explanation…');
    return MC.api('/compliance/cards/' + encodeURIComponent(uuid) + '/explanation')
      .then(function (res) { return res.json(); })
      .then(function (x) { render(x); MC.say('Card ' + x.card.uuid + ' explained.', 'ok'); })
      .catch(function (err) { MC.say(err.message, 'error'); });
  }

  MC.tabs.card = function (uuid) {
    if (!uuid) return;
    $('card').value = uuid;
    return explain(uuid);
  };

  document.addEventListener('DOMContentLoaded', function () {
    $('card-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      location.hash = '#card/' + $('card').value.trim().toLowerCase();
    });
  });
})();
`;
