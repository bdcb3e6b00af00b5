/**
 * `regards-worker/testing`: a worker definition run on one request as the host runs it, with no
 * broker. The body and headers become a delivery as the Worker Manager publishes it; the host's own
 * code decodes it, validates the body, runs the handler (inline, under its time limit) and settles
 * the outcome. What comes back is what the host would do: the response it would publish, with the
 * events and new requests before it, or the retry or dead-letter of an undetermined failure.
 */
import { HEADER, jsonBytes, type OutgoingMessage, type Status } from '../protocol/index.ts';
import type { WorkerDefinition } from '../sdk/index.ts';
import { dispatched, processDelivery, publications, unconfiguredHandling } from './delivery/process.ts';
import { inlineExecutor } from './execution/inline.ts';
import { createLogger } from './telemetry/log.ts';

export interface InvokeOptions {
  /** AMQP headers, over the defaults: a previous step's additionalHeaders, or `regards.*` ones. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Which delivery of the request this is (1 for the first): past the definition's maxAttempts, a throw is dead-lettered. */
  readonly attempt?: number;
  /** The handler's time limit; the definition's, else the host's default. */
  readonly timeoutMs?: number;
  /** Where the handler's ctx.log lines go (JSON, one per line); nowhere by default. */
  readonly log?: (line: string) => void;
}

/** What the host does with the request. */
export interface Invocation {
  /** The response's status; RETRY or DEAD_LETTER for an undetermined failure (no response then). */
  readonly status: Status | 'RETRY' | 'DEAD_LETTER';
  /** The response's messages, or the reason of a retry or dead-letter. */
  readonly messages: readonly string[];
  /** A SUCCESS's content: parsed when it is JSON, else its text; undefined without content. */
  readonly content: unknown;
  readonly contentBytes: Uint8Array | undefined;
  /** A SUCCESS's additionalHeaders, which the manager carries to the next step of a workflow. */
  readonly headers: Readonly<Record<string, string>>;
  /** Events for other REGARDS services (feature updates…), their bodies parsed. */
  readonly events: readonly { readonly kind: string; readonly body: unknown }[];
  /** New requests for the Worker Manager, their bodies parsed when JSON. */
  readonly requests: readonly { readonly contentType: string; readonly body: unknown }[];
  /** The RUNNING messages the handler sent through ctx.progress. */
  readonly progress: readonly string[];
  /** An undetermined failure's stack trace (what a dead-letter carries). */
  readonly stacktrace: string | undefined;
  /** Every message the host would publish, in its order, as it would publish them. */
  readonly published: readonly OutgoingMessage[];
}

/** `body`: bytes as they are, anything else as JSON. */
export async function invokeWorker(
  worker: WorkerDefinition,
  body: unknown,
  options: InvokeOptions = {},
): Promise<Invocation> {
  const delivery = dispatched(worker, body instanceof Uint8Array ? body : jsonBytes(body), {
    ...(options.attempt === undefined ? {} : { [HEADER.attempt]: String(options.attempt) }),
    ...options.headers,
  });
  const progress: string[] = [];
  const processed = await processDelivery(inlineExecutor(worker), delivery, {
    ...unconfiguredHandling({ ...worker, timeoutMs: options.timeoutMs ?? worker.timeoutMs }),
    log: createLogger('debug', options.log ?? (() => {})),
    progress: async (_request, message) => {
      progress.push(message);
    },
  });
  const { decision, happening } = processed;
  const published = publications(worker.type, delivery, processed);
  const stacktrace = happening.kind === 'failure' ? happening.stacktrace : undefined;
  const none = { content: undefined, contentBytes: undefined, headers: {}, events: [], requests: [] };
  if (decision.action === 'retry')
    return { ...none, status: 'RETRY', messages: [decision.reason], progress, stacktrace, published };
  if (decision.action === 'dead-letter')
    return { ...none, status: 'DEAD_LETTER', messages: [decision.message], progress, stacktrace, published };
  const { response } = decision;
  const contentBytes =
    response.contentBase64 === undefined
      ? response.content
      : Buffer.from(new TextDecoder().decode(response.contentBase64), 'base64');
  return {
    status: response.status,
    messages: response.messages,
    content: contentBytes === undefined ? undefined : parsed(contentBytes),
    contentBytes,
    headers: response.additionalHeaders ?? {},
    events: decision.events.map((event) => ({ kind: event.kind, body: parsed(event.body) })),
    requests: decision.requests.map((request) => ({
      contentType: request.contentType,
      body: parsed(request.body),
    })),
    progress,
    stacktrace,
    published,
  };
}

/** JSON when it parses, else the text. */
function parsed(bytes: Uint8Array): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
