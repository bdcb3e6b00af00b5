/** Decoding a delivery into a request the host can answer, or a reason why it cannot. */
import { type Delivery, headerString } from './message.ts';
import { HEADER } from './names.ts';

export interface DecodedRequest {
  readonly requestId: string;
  readonly tenant: string;
  readonly owner: string;
  readonly session: string;
  readonly contentType: string;
  readonly attempt: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type Decoded =
  | { readonly ok: true; readonly request: DecodedRequest }
  | { readonly ok: false; readonly reason: string };

/** Most attempts a header may claim; anything larger is treated as garbage. */
const MAX_ATTEMPT = 1_000_000;

export function decode(delivery: Delivery): Decoded {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(delivery.headers ?? {})) {
    const text = headerString(value);
    if (text !== undefined) headers[key] = text;
  }
  const requestId = headers[HEADER.requestId];
  const tenant = headers[HEADER.tenant];
  const missing = [...(requestId ? [] : [HEADER.requestId]), ...(tenant ? [] : [HEADER.tenant])];
  if (requestId === undefined || tenant === undefined || missing.length > 0) {
    return { ok: false, reason: `cannot answer a request without header ${missing.join(' and ')}` };
  }
  return {
    ok: true,
    request: {
      requestId,
      tenant,
      owner: headers[HEADER.owner] ?? '',
      session: headers[HEADER.session] ?? '',
      contentType: headers[HEADER.contentType] ?? '',
      attempt: attemptOf(headers[HEADER.attempt]),
      headers,
      body: delivery.body,
    },
  };
}

/** The attempt number a delivery carries: 1 unless our own header says more. */
export function attemptOf(value: string | undefined): number {
  if (value === undefined || !/^[0-9]{1,7}$/.test(value)) return 1;
  const attempt = Number(value);
  return attempt >= 1 && attempt <= MAX_ATTEMPT ? attempt : 1;
}
