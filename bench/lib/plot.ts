import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Series {
  readonly label: string;
  readonly color: string;
  /** [offered load, p50, p99] */
  readonly points: ReadonlyArray<readonly [number, number, number]>;
  /** The series' knee (highest sustained offered rate): a dotted vertical line in its colour. */
  readonly knee?: number;
}

const W = 1060;
const H = 600;
const M = { l: 80, r: 360, t: 50, b: 60 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Latency (log scale) against offered load: p50 solid, p99 dashed, one colour per configuration. */
export function latencySvg(title: string, series: readonly Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p[1], p[2]])).filter((v) => v > 0 && Number.isFinite(v));
  const xMax = Math.max(10, ...xs) * 1.05;
  const yMin = Math.max(0.5, Math.min(...ys, 10) / 1.5);
  const yMax = Math.max(...ys, 100) * 1.5;
  const lyMin = Math.log10(yMin);
  const lyMax = Math.log10(yMax);
  const px = (x: number): number => M.l + (x / xMax) * (W - M.l - M.r);
  const py = (y: number): number =>
    H - M.b - ((Math.log10(Math.max(y, yMin)) - lyMin) / (lyMax - lyMin)) * (H - M.t - M.b);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.l}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let e = Math.floor(lyMin); e <= Math.ceil(lyMax); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < yMin || v > yMax) continue;
      const y = py(v);
      out.push(`<line x1="${M.l}" y1="${y}" x2="${W - M.r}" y2="${y}" stroke="#ddd"/>`);
      out.push(
        `<text x="${M.l - 8}" y="${y + 4}" font-size="12" text-anchor="end">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`,
      );
    }
  }
  const step = xMax > 400 ? 100 : xMax > 150 ? 50 : xMax > 60 ? 20 : 10;
  for (let x = 0; x <= xMax; x += step) {
    out.push(`<line x1="${px(x)}" y1="${M.t}" x2="${px(x)}" y2="${H - M.b}" stroke="#eee"/>`);
    out.push(`<text x="${px(x)}" y="${H - M.b + 18}" font-size="12" text-anchor="middle">${x}</text>`);
  }
  out.push(
    `<rect x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#333"/>`,
  );
  out.push(
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 18}" font-size="14" text-anchor="middle">offered load (requests/s, open loop)</text>`,
  );
  out.push(
    `<text x="20" y="${(M.t + H - M.b) / 2}" font-size="14" text-anchor="middle" transform="rotate(-90 20 ${(M.t + H - M.b) / 2})">latency (log scale)</text>`,
  );
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (s.knee) {
      out.push(
        `<line x1="${px(s.knee)}" y1="${M.t}" x2="${px(s.knee)}" y2="${H - M.b}" stroke="${s.color}" stroke-width="1.5" stroke-dasharray="2 3"/>`,
      );
    }
    for (const [idx, dash] of [
      [1, ''],
      [2, ' stroke-dasharray="6 4"'],
    ] as const) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(p[0]).toFixed(1)},${py(p[idx]).toFixed(1)}`).join(' ');
      if (pts.length > 0) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
      for (const p of pts) out.push(`<circle cx="${px(p[0])}" cy="${py(p[idx])}" r="3" fill="${s.color}"/>`);
    }
    const ly = M.t + 10 + i * 22;
    out.push(
      `<line x1="${W - M.r + 15}" y1="${ly}" x2="${W - M.r + 45}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`,
    );
    out.push(`<text x="${W - M.r + 52}" y="${ly + 4}" font-size="12">${esc(s.label)}</text>`);
  });
  const ly = M.t + 20 + series.length * 22;
  out.push(`<line x1="${W - M.r + 15}" y1="${ly}" x2="${W - M.r + 45}" y2="${ly}" stroke="#333" stroke-width="2"/>`);
  out.push(`<text x="${W - M.r + 52}" y="${ly + 4}" font-size="12">p50</text>`);
  out.push(
    `<line x1="${W - M.r + 15}" y1="${ly + 20}" x2="${W - M.r + 45}" y2="${ly + 20}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/>`,
  );
  out.push(`<text x="${W - M.r + 52}" y="${ly + 24}" font-size="12">p99</text>`);
  out.push(
    `<line x1="${W - M.r + 15}" y1="${ly + 40}" x2="${W - M.r + 45}" y2="${ly + 40}" stroke="#333" stroke-width="1.5" stroke-dasharray="2 3"/>`,
  );
  out.push(`<text x="${W - M.r + 52}" y="${ly + 44}" font-size="12">knee (sustained)</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** Writes the SVG and renders it to PNG with Debian's headless chromium; returns the PNG path or an error. */
export async function renderPng(svg: string, svgPath: string, pngPath: string): Promise<{ ok: boolean; note: string }> {
  writeFileSync(svgPath, svg);
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) return { ok: false, note: `no ${chromium}: the SVG is at ${svgPath}` };
  try {
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        `--screenshot=${pngPath}`,
        `--window-size=${W},${H}`,
        `file://${svgPath}`,
      ],
      { timeout: 60_000 },
    );
    return { ok: existsSync(pngPath), note: 'rendered with headless chromium' };
  } catch (e) {
    return { ok: false, note: `chromium failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
