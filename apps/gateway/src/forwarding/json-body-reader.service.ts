import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { checkJsonText, type JsonLimits } from './json-structure';

export type BodyRefusalCode =
  | 'unsupported_media_type'
  | 'body_too_large'
  | 'malformed_json'
  | 'json_too_deep'
  | 'json_array_too_long'
  | 'not_an_object';

export class BodyRefusal extends Error {
  constructor(readonly code: BodyRefusalCode) {
    super(`body refused: ${code}`);
    this.name = 'BodyRefusal';
  }

  get status(): 400 | 413 | 415 {
    if (this.code === 'body_too_large') return 413;
    if (this.code === 'unsupported_media_type') return 415;
    return 400;
  }
}

/** Strict UTF-8 (invalid bytes refuse the body). A decode without `stream` keeps no state, so one is shared. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes past the limit still read (and dropped) so the caller gets the 413 instead of a reset connection. */
const DRAIN_ALLOWANCE = 1024 * 1024;

/**
 * Reads a hook or feedback body after the caller is authenticated: JSON media type, at most BODY_LIMIT bytes,
 * valid UTF-8, nesting and array length within limits, a JSON object at the top.
 */
@Injectable()
export class JsonBodyReader {
  private readonly limitBytes: number;
  private readonly limits: JsonLimits;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.limitBytes = parseSize(config.BODY_LIMIT);
    this.limits = { maxDepth: config.JSON_MAX_DEPTH, maxArrayLength: config.JSON_MAX_ARRAY_LENGTH };
  }

  async read(req: Request): Promise<Record<string, unknown>> {
    // Checked first (checkJsonText): nothing past a limit is ever built, and the text is known to be an object.
    const text = await this.checkedText(req);
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new BodyRefusal('malformed_json'); // never, while checkJsonText accepts exactly JSON
    }
  }

  /**
   * The body as the caller sent it (decoded, BOM dropped), once it passed the same checks as `read`: for bodies
   * forwarded as they are, which the gateway then never parses (the one pass of checkJsonText decides it all).
   */
  readText(req: Request): Promise<string> {
    return this.checkedText(req);
  }

  private async checkedText(req: Request): Promise<string> {
    if (!req.is(['application/json', 'application/fhir+json'])) throw new BodyRefusal('unsupported_media_type');
    const declared = Number(req.header('content-length') ?? '0');
    if (declared > this.limitBytes + DRAIN_ALLOWANCE) throw new BodyRefusal('body_too_large');
    const raw = await this.collect(req);
    let text: string;
    try {
      text = UTF8.decode(raw);
    } catch {
      throw new BodyRefusal('malformed_json');
    }
    const problem = checkJsonText(text, this.limits);
    if (problem) throw new BodyRefusal(problem);
    return text;
  }

  private collect(req: Request): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      const done = (err: BodyRefusal | null) => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onError);
        if (err) reject(err);
        else resolve(Buffer.concat(chunks, total));
      };
      const onData = (chunk: Buffer) => {
        total += chunk.length;
        if (total <= this.limitBytes) chunks.push(chunk);
        else if (total > this.limitBytes + DRAIN_ALLOWANCE) done(new BodyRefusal('body_too_large'));
      };
      const onEnd = () => done(total > this.limitBytes ? new BodyRefusal('body_too_large') : null);
      const onError = () => done(new BodyRefusal('malformed_json'));
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('aborted', onError);
    });
  }
}

/** `512kb` or `5mb` (the BODY_LIMIT format) in bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+)(kb|mb)$/.exec(value);
  if (!m) throw new Error(`not a size: ${value}`);
  return Number(m[1]) * (m[2] === 'mb' ? 1024 * 1024 : 1024);
}
