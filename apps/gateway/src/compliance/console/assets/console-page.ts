/** The console's one page. No inline script or style: the gateway's CSP allows only same-origin files. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Meditron CDS: compliance console</title>
  <link rel="stylesheet" href="/console/console.css">
  <script src="/console/console.js" defer></script>
</head>
<body>
  <header>
    <h1>Compliance console</h1>
    <p class="sub">Meditron CDS audit trail: who saw what about which patient, when, and what the AI said.</p>
    <button type="button" id="sign-out" hidden>Sign out</button>
  </header>
  <p id="status" role="status" aria-live="polite"></p>

  <main>
    <section id="sign-in" aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in</h2>
      <form id="sign-in-form">
        <label for="token">Staff bearer token (compliance role)</label>
        <textarea id="token" name="token" rows="3" required autocomplete="off" spellcheck="false"></textarea>
        <p class="hint">Kept in this tab only (sessionStorage); closing the tab signs you out.</p>
        <button type="submit">Sign in</button>
      </form>
    </section>

    <div id="workspace" hidden>
      <section aria-labelledby="search-title">
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
      </section>

      <section id="event" aria-labelledby="event-title" hidden tabindex="-1">
        <h2 id="event-title">Event</h2>
        <dl id="event-fields"></dl>
      </section>

      <section aria-labelledby="provenance-title">
        <h2 id="provenance-title">Provenance of a card</h2>
        <form id="provenance-form">
          <label for="card">Card UUID</label>
          <input id="card" name="card" required pattern="[0-9a-fA-F-]{36}" autocomplete="off">
          <button type="submit">Show provenance</button>
        </form>
        <pre id="provenance" hidden tabindex="-1"></pre>
      </section>

      <section aria-labelledby="chain-title">
        <h2 id="chain-title">Audit chain</h2>
        <button type="button" id="verify">Verify the hash chain</button>
        <p id="chain-status"></p>
      </section>
    </div>
  </main>
</body>
</html>
`;
