/** Protocol codes of the untyped packets a client may send before its startup message. */
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/** One complete frontend message: its type byte (`startup` for the untyped startup packet) and its bytes. */
export interface FrontendMessage {
  readonly type: string;
  readonly bytes: Buffer;
}

/** What the framer found in the bytes pushed so far. */
export interface FramedInput {
  readonly messages: FrontendMessage[];
  /** SSL or GSS encryption requests seen: each is answered 'N' (not supported) before anything else. */
  readonly encryptionRequests: number;
  /** A CancelRequest arrived: the connection carries nothing else (cancellation is not supported). */
  readonly cancel: boolean;
}

/**
 * Splits a client's byte stream into Postgres frontend messages. Until the startup packet the packets are
 * untyped (int32 length, int32 code); after it every message is a type byte plus an int32 length.
 */
export class FrontendMessageFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;

  push(chunk: Buffer): FramedInput {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: FrontendMessage[] = [];
    let encryptionRequests = 0;
    let cancel = false;
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) break;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) break;
        const code = this.buffer.readInt32BE(4);
        const packet = this.buffer.subarray(0, length);
        this.buffer = this.buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) encryptionRequests++;
        else if (code === CANCEL_REQUEST) cancel = true;
        else {
          this.started = true;
          messages.push({ type: 'startup', bytes: Buffer.from(packet) });
        }
        continue;
      }
      if (this.buffer.length < 5) break;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) break;
      messages.push({
        type: String.fromCharCode(this.buffer[0]!),
        bytes: Buffer.from(this.buffer.subarray(0, length)),
      });
      this.buffer = this.buffer.subarray(length);
    }
    return { messages, encryptionRequests, cancel };
  }
}
