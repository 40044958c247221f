import MarkdownIt from 'markdown-it';

type Token = MarkdownIt.Token;

/**
 * Card text is model output, i.e. data that whoever steers the model can shape. EHRs render card `detail` as
 * (GitHub-flavoured) Markdown, so it is re-written here from a small allow-list: paragraphs, headings, lists,
 * block quotes, emphasis, code, line breaks, and links to `https` hosts the operator listed. Raw HTML, images
 * and every other link are removed, and each removal is counted so the answer detail can say what was taken
 * out and why (kinds and counts only, never the text: it may name the patient).
 *
 * markdown-it is used to walk the parsed tokens because it is a CommonMark-compliant, widely used parser that
 * ships CommonJS and its own types (marked 16+ is ESM-only; remark pulls in a large unified tree). Regexes alone
 * cannot tell a link inside a code span from a real one, or an entity from text. The output is re-serialised
 * from tokens with every text character that Markdown or HTML could read as syntax backslash-escaped, so what
 * survives is text, whatever the renderer does with entities or inline HTML.
 */

export type CardTextRemoval = 'html' | 'image' | 'link_scheme' | 'link_host';

export interface CardTextPolicy {
  /** Hosts (lower case, no port) a card may link to over https; empty: every link becomes plain text. */
  readonly linkHosts: ReadonlySet<string>;
}

export const NO_LINKS: CardTextPolicy = { linkHosts: new Set() };

export type Removals = Partial<Record<CardTextRemoval, number>>;

// validateLink is replaced so every link reaches the walk and is judged (and counted) here, not silently left
// as text by markdown-it's own blocklist. linkify turns bare URLs into link tokens so they get the same policy
// (a GFM renderer would otherwise autolink them).
const md = new MarkdownIt('commonmark', { html: true, linkify: true });
md.enable('linkify');
// GFM autolinks `www.` names too; fuzzy matching makes sure every such name is judged here first.
md.linkify.set({ fuzzyLink: true });
md.validateLink = () => true;

// Backslash-escapes the ASCII punctuation that can open Markdown or HTML syntax (CommonMark lets any ASCII
// punctuation be escaped). `<` and `&` matter most: an entity decoded to `<script>` stays the text `<script>`.
const ESCAPE = /[\\`*_{}[\]()<>#+\-!|~&]/g;
const escapeText = (s: string): string => s.replace(ESCAPE, (c) => `\\${c}`);

function count(removals: Removals, kind: CardTextRemoval): void {
  removals[kind] = (removals[kind] ?? 0) + 1;
}

function codeSpan(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\n/g, ' ')}${pad}${fence}`;
}

/** The link's target when the policy allows it, normalised; otherwise why not. */
function judgeLink(
  href: string,
  policy: CardTextPolicy,
): { ok: true; href: string } | { ok: false; why: CardTextRemoval } {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return { ok: false, why: 'link_scheme' };
  }
  if (url.protocol !== 'https:') return { ok: false, why: 'link_scheme' };
  if (url.username || url.password || url.port || !policy.linkHosts.has(url.hostname.toLowerCase())) {
    return { ok: false, why: 'link_host' };
  }
  return { ok: true, href: url.href };
}

function inline(tokens: Token[], policy: CardTextPolicy, removals: Removals, plain: boolean): string {
  let out = '';
  // Inside a refused link the link text is kept as text; the target is shown as code (never autolinked).
  const linkStack: Array<{ keep: boolean; href: string; text: string; autolink: boolean }> = [];
  const emit = (s: string): void => {
    const top = linkStack.at(-1);
    if (top) top.text += s;
    else out += s;
  };
  for (const t of tokens) {
    switch (t.type) {
      case 'text':
        emit(plain ? t.content : escapeText(t.content));
        break;
      case 'code_inline':
        emit(plain ? t.content : codeSpan(t.content));
        break;
      case 'softbreak':
        emit(plain ? ' ' : '\n');
        break;
      case 'hardbreak':
        emit(plain ? ' ' : '\\\n');
        break;
      case 'em_open':
      case 'em_close':
        if (!plain) emit('_');
        break;
      case 'strong_open':
      case 'strong_close':
        if (!plain) emit('**');
        break;
      case 'html_inline':
        count(removals, 'html');
        break;
      case 'image':
        // Alt text is dropped too: it is an attacker's string with no clinical role in a card.
        count(removals, 'image');
        break;
      case 'link_open': {
        const href = String(t.attrGet('href') ?? '');
        const autolink = t.markup === 'autolink' || t.markup === 'linkify';
        const verdict = judgeLink(href, policy);
        if (!verdict.ok) count(removals, verdict.why);
        linkStack.push({ keep: verdict.ok && !plain, href: verdict.ok ? verdict.href : href, text: '', autolink });
        break;
      }
      case 'link_close': {
        const link = linkStack.pop();
        if (!link) break;
        if (link.keep) emit(`[${link.text}](<${link.href}>)`);
        else if (plain) emit(link.text);
        else if (link.autolink) emit(codeSpan(link.href));
        else emit(link.text);
        break;
      }
      default:
        // Anything this walk does not know is dropped rather than passed through.
        if (t.children) emit(inline(t.children, policy, removals, plain));
        else if (t.content) emit(plain ? t.content : escapeText(t.content));
    }
  }
  return out;
}

function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text.replace(/\n$/, '')}\n${fence}`;
}

/** Re-writes model Markdown under the policy; `removals` gains a count per kind of thing taken out. */
export function safeMarkdown(source: string, policy: CardTextPolicy, removals: Removals): string {
  const tokens = md.parse(source, {});
  const blocks: string[] = [];
  // Prefix per nesting level: '> ' for quotes, list markers for items (first line) and indent (later lines).
  const prefixes: Array<{ first: string; rest: string }> = [];
  const lists: Array<{ ordered: boolean; n: number }> = [];
  let pendingHeading = '';
  const prefix = (line: number): string =>
    prefixes.map((p, i) => (line === 0 && i === prefixes.length - 1 ? p.first : p.rest)).join('');
  const push = (text: string): void => {
    const lines = text.split('\n');
    blocks.push(lines.map((l, i) => `${prefix(i)}${l}`).join('\n'));
    // Only the first block of an item carries its marker.
    const top = prefixes.at(-1);
    if (top) top.first = top.rest;
  };
  for (const t of tokens) {
    switch (t.type) {
      case 'heading_open':
        pendingHeading = `${'#'.repeat(Number(t.tag.slice(1)) || 1)} `;
        break;
      case 'inline':
        push(`${pendingHeading}${inline(t.children ?? [], policy, removals, false)}`);
        pendingHeading = '';
        break;
      case 'blockquote_open':
        prefixes.push({ first: '> ', rest: '> ' });
        break;
      case 'bullet_list_open':
      case 'ordered_list_open':
        lists.push({ ordered: t.type === 'ordered_list_open', n: Number(t.attrGet('start') ?? 1) });
        break;
      case 'list_item_open': {
        const list = lists.at(-1);
        const marker = list?.ordered ? `${list.n++}. ` : '- ';
        prefixes.push({ first: marker, rest: ' '.repeat(marker.length) });
        break;
      }
      case 'blockquote_close':
      case 'list_item_close':
        prefixes.pop();
        break;
      case 'bullet_list_close':
      case 'ordered_list_close':
        lists.pop();
        break;
      case 'code_block':
      case 'fence':
        push(fenced(t.content));
        break;
      case 'hr':
        push('---');
        break;
      case 'html_block':
        count(removals, 'html');
        break;
      default:
        break;
    }
  }
  return tightLists(blocks).trim();
}

// Blocks are joined by blank lines, except consecutive list items, which stay one (tight) list.
function tightLists(blocks: string[]): string {
  let out = '';
  blocks.forEach((b, i) => {
    if (i > 0)
      out += /^\s*(?:[-*] |\d+\. )/.test(b) && /^\s*(?:[-*] |\d+\. )/.test(blocks[i - 1] ?? '') ? '\n' : '\n\n';
    out += b;
  });
  return out;
}

/** Plain text for `summary` and labels (CDS Hooks: plain text): markup, HTML and images gone, link text kept. */
export function safePlainText(source: string, removals: Removals): string {
  const tokens = md.parseInline(source, {});
  return (
    inline(tokens[0]?.children ?? [], NO_LINKS, removals, true)
      // A `<` that could open a tag (letter, `/`, `!`, `?`) becomes `‹`, so even an EHR that puts the summary into
      // HTML unescaped gets no element; `K+ < 3.5` is left alone.
      .replace(/<(?=[A-Za-z/!?])/g, '‹')
      .trim()
  );
}
