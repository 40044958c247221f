/** The console's one page. No inline script or style: the gateway's CSP allows only same-origin files. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Meditron CDS: compliance and AI governance console</title>
  <link rel="stylesheet" href="/console/console.css">
  <script src="/console/vendor/chart.umd.min.js" defer></script>
  <script src="/console/core.js" defer></script>
  <script src="/console/dashboard.js" defer></script>
  <script src="/console/audit.js" defer></script>
  <script src="/console/card.js" defer></script>
  <script src="/console/admin.js" defer></script>
</head>
<body>
  <header>
    <h1>Meditron CDS governance console</h1>
    <p class="sub">How the AI behaves, who saw what about which patient, and what every card was based on.</p>
    <div id="who" hidden>
      <span id="who-name"></span> <span id="who-roles" class="roles"></span>
      <button type="button" id="sign-out">Sign out</button>
    </div>
  </header>
  <p id="status" role="status" aria-live="polite"></p>

  <main>
    <section id="sign-in" aria-labelledby="sign-in-title" hidden>
      <h2 id="sign-in-title">Sign in</h2>
      <p>Staff sign in through the organisation's identity provider.</p>
      <a id="sign-in-link" class="button" href="/console/auth/login">Sign in with your organisation account</a>
    </section>

    <section id="refused" aria-labelledby="refused-title" hidden>
      <h2 id="refused-title">No access</h2>
      <p id="refused-text"></p>
    </section>

    <nav id="tabs" aria-label="Console sections" hidden>
      <a href="#dashboard" data-tab="dashboard" data-role="compliance">Dashboard</a>
      <a href="#audit" data-tab="audit" data-role="compliance">Audit trail</a>
      <a href="#card" data-tab="card" data-role="compliance admin">Card explanation</a>
      <a href="#admin" data-tab="admin" data-role="admin">EHR clients</a>
    </nav>

    <section id="tab-dashboard" class="tab" aria-labelledby="dashboard-title" hidden>
      <h2 id="dashboard-title">Governance dashboard</h2>
      <form id="dashboard-form" class="inline">
        <label>From <input name="from" type="date" required></label>
        <label>To (inclusive) <input name="to" type="date" required></label>
        <label>Service <input name="service" placeholder="all services" autocomplete="off"></label>
        <button type="submit">Show</button>
      </form>
      <div id="kpis" class="kpis"></div>
      <div id="panels" class="panels"></div>
      <section id="shadow-samples" aria-labelledby="shadow-title" hidden>
        <h3 id="shadow-title">What shadow-mode services would have shown (latest)</h3>
        <ul></ul>
      </section>
    </section>

    <section id="tab-audit" class="tab" aria-labelledby="search-title" hidden>
      <h2 id="search-title">Search audit events</h2>
      <form id="search-form">
        <div class="grid">
          <label>Patient reference <input name="patient" placeholder="Patient/123" autocomplete="off"></label>
          <label>From <input name="from" type="datetime-local" step="1"></label>
          <label>To <input name="to" type="datetime-local" step="1"></label>
          <label>Action(s) <input name="action" placeholder="fhir.read,hook.invoked" autocomplete="off"></label>
          <label>Outcome
            <select name="outcome">
              <option value="">any</option>
              <option value="success">success</option>
              <option value="failure">failure</option>
              <option value="refused">refused</option>
            </select>
          </label>
          <label>EHR client <input name="client" autocomplete="off"></label>
          <label>User (actor) <input name="actor" autocomplete="off"></label>
          <label>Hook instance <input name="hookInstance" autocomplete="off"></label>
        </div>
        <div class="actions">
          <button type="submit" id="search-button">Search</button>
          <button type="button" id="export-ndjson">Export NDJSON</button>
          <button type="button" id="export-csv">Export CSV</button>
        </div>
      </form>
      <table id="results" hidden>
        <caption>Audit events, newest first</caption>
        <thead>
          <tr><th scope="col">Id</th><th scope="col">Recorded (UTC)</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Patient</th><th scope="col">Client / user</th><th scope="col"><span class="visually-hidden">Details</span></th></tr>
        </thead>
        <tbody></tbody>
      </table>
      <button type="button" id="more" hidden>Load older events</button>
      <section id="event" aria-labelledby="event-title" hidden tabindex="-1">
        <h3 id="event-title">Event</h3>
        <dl id="event-fields"></dl>
        <p id="event-cards"></p>
      </section>
      <h3>Audit chain</h3>
      <button type="button" id="verify">Verify the hash chain</button>
      <p id="chain-status"></p>
    </section>

    <section id="tab-card" class="tab" aria-labelledby="card-title" hidden>
      <h2 id="card-title">Card explanation</h2>
      <form id="card-form" class="inline">
        <label for="card">Card UUID</label>
        <input id="card" name="card" required pattern="[0-9a-fA-F-]{36}" autocomplete="off">
        <button type="submit">Explain</button>
      </form>
      <div id="explanation" hidden tabindex="-1"></div>
    </section>

    <section id="tab-admin" class="tab" aria-labelledby="admin-title" hidden>
      <h2 id="admin-title">Registered EHR clients</h2>
      <table id="clients">
        <thead><tr><th scope="col">Id</th><th scope="col">Issuer</th><th scope="col">Keys</th><th scope="col">Services</th><th scope="col">FHIR bases</th><th scope="col">Rate limit</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody></tbody>
      </table>
      <h3 id="client-form-title">Register or change a client</h3>
      <form id="client-form">
        <div class="grid">
          <label>Client id <input name="id" required pattern="[A-Za-z0-9._\\-]{1,100}" autocomplete="off"></label>
          <label>Issuer (iss) <input name="issuer" required autocomplete="off"></label>
          <label>Tenant <input name="tenant" placeholder="default" autocomplete="off"></label>
          <label>JWKS URL <input name="jwksUrl" type="url" autocomplete="off"></label>
          <label>Services (comma-separated, * for all) <input name="services" placeholder="*" autocomplete="off"></label>
          <label>FHIR base URLs (comma-separated) <input name="fhirBaseUrls" autocomplete="off"></label>
          <label>Rate limit per second <input name="perSecond" type="number" min="0" step="any"></label>
          <label>Burst <input name="burst" type="number" min="1" step="1"></label>
        </div>
        <label>Inline JWK Set (public keys; instead of a JWKS URL)
          <textarea name="jwks" rows="3" spellcheck="false"></textarea></label>
        <div class="actions"><button type="submit">Save client</button></div>
      </form>
    </section>
  </main>
</body>
</html>
`;
