/**
 * What the local Worker Manager knows and decides, in memory and without I/O: requests and their
 * states, the heartbeat registry, dispatching by content type and workflow, and how each worker
 * response moves a request on. Every method returns the messages to publish, in order.
 */
import {
  type Delivery,
  encodeDispatch,
  encodeResponseEvent,
  HEADER,
  headerString,
  type OutgoingMessage,
  type RequestIdentity,
  type RequestState,
  type ResponseEventFacts,
} from '../protocol/index.ts';
import { type ManagerConfig, orderedSteps } from './config.ts';

/** The manager keeps a type alive this long after its last heartbeat, and ignores older heartbeats. */
export const HEARTBEAT_EXPIRY_MS = 60_000;

/** Headers the manager carries from a RequestEvent into the first dispatch (trace context). */
const CARRIED_HEADERS = ['traceparent', 'tracestate'];

export type Effect =
  | { readonly kind: 'declare'; readonly workerType: string }
  | { readonly kind: 'publish'; readonly message: OutgoingMessage };

export interface TrackedRequest extends RequestIdentity {
  state: 'DELAYED' | 'DISPATCHED' | 'RUNNING' | 'INVALID_CONTENT' | 'ERROR' | 'SUCCESS';
  workerType: string;
  /** Worker types of the workflow, in order; one entry for a single worker. */
  readonly steps: readonly string[];
  step: number;
  body: Uint8Array;
  extraHeaders: Record<string, string>;
  messages: string[];
}

export class ManagerState {
  readonly requests = new Map<string, TrackedRequest>();
  private readonly lastHeartbeat = new Map<string, number>();
  private readonly config: ManagerConfig;

  constructor(config: ManagerConfig) {
    this.config = config;
  }

  isAlive(workerType: string, now: number): boolean {
    const last = this.lastHeartbeat.get(workerType);
    return last !== undefined && now - last <= HEARTBEAT_EXPIRY_MS;
  }

  /** A RequestEvent from a requester (or from a worker issuing a new request). */
  onRequestEvent(delivery: Delivery, now: number): Effect[] {
    const headers = stringHeaders(delivery);
    const identity: RequestIdentity = {
      requestId: headers[HEADER.requestId] ?? '',
      tenant: headers[HEADER.tenant] ?? '',
      owner: headers[HEADER.owner] ?? '',
      session: headers[HEADER.session] ?? '',
      contentType: headers[HEADER.contentType] ?? '',
    };
    if (identity.requestId === '' || identity.tenant === '') return [];
    const missing = (['owner', 'session', 'contentType'] as const).filter((key) => identity[key] === '');
    if (missing.length > 0) return [skipped(identity, `missing ${missing.join(', ')}`)];
    if (this.requests.has(identity.requestId))
      return [skipped(identity, `duplicate request id ${identity.requestId}`)];
    const steps = this.route(identity.contentType);
    const first = steps[0];
    if (first === undefined)
      return [skipped(identity, `no worker or workflow for content type ${identity.contentType}`)];
    const request: TrackedRequest = {
      ...identity,
      state: 'DELAYED',
      workerType: first,
      steps,
      step: 0,
      body: delivery.body,
      extraHeaders: Object.fromEntries(
        CARRIED_HEADERS.flatMap((key) => (headers[key] ? [[key, headers[key]]] : [])),
      ),
      messages: [],
    };
    this.requests.set(identity.requestId, request);
    return this.dispatchOrDelay(request, now);
  }

  /** A worker heartbeat: the type is alive; requests held for it are dispatched. */
  onHeartbeat(delivery: Delivery, now: number): Effect[] {
    let beat: { type?: unknown; heartBeatDate?: unknown };
    try {
      beat = JSON.parse(new TextDecoder().decode(delivery.body));
    } catch {
      return [];
    }
    const date = typeof beat.heartBeatDate === 'string' ? Date.parse(beat.heartBeatDate) : Number.NaN;
    if (typeof beat.type !== 'string' || Number.isNaN(date) || now - date > HEARTBEAT_EXPIRY_MS) return [];
    this.lastHeartbeat.set(beat.type, Math.max(date, this.lastHeartbeat.get(beat.type) ?? 0));
    return [...this.requests.values()]
      .filter((request) => request.state === 'DELAYED' && request.workerType === beat.type)
      .flatMap((request) => this.dispatchOrDelay(request, now));
  }

  /** A worker's response: RUNNING, INVALID_CONTENT, ERROR or SUCCESS (then the next step, or done). */
  onWorkerResponse(delivery: Delivery, now: number): Effect[] {
    const headers = stringHeaders(delivery);
    const request = this.requests.get(headers[HEADER.requestId] ?? '');
    if (request === undefined) return [];
    let response: { status?: unknown; messages?: unknown; content?: unknown; additionalHeaders?: unknown };
    try {
      response = JSON.parse(new TextDecoder().decode(delivery.body));
    } catch {
      return [];
    }
    const messages = Array.isArray(response.messages) ? response.messages.map(String) : [];
    switch (response.status) {
      case 'RUNNING':
        request.state = 'RUNNING';
        return [];
      case 'INVALID_CONTENT':
      case 'ERROR':
        request.state = response.status;
        request.messages = messages;
        return [this.event(request, { state: response.status, messages })];
      case 'SUCCESS':
        return this.succeeded(request, response.content, response.additionalHeaders, now);
      default:
        return [];
    }
  }

  /** A dead-lettered request: ERROR with the worker's stack trace; the requester is not told. */
  onDeadLetter(delivery: Delivery): Effect[] {
    const headers = stringHeaders(delivery);
    const request = this.requests.get(headers[HEADER.requestId] ?? '');
    if (request === undefined) return [];
    request.state = 'ERROR';
    request.messages = [headers[HEADER.exceptionStacktrace] ?? 'Unknown error from worker'];
    return [];
  }

  private succeeded(
    request: TrackedRequest,
    content: unknown,
    additionalHeaders: unknown,
    now: number,
  ): Effect[] {
    const last = request.step >= request.steps.length - 1;
    if (last) {
      request.state = 'SUCCESS';
      this.requests.delete(request.requestId);
      return [
        this.event(request, { state: 'SUCCESS', content: typeof content === 'string' ? content : undefined }),
      ];
    }
    if (typeof content !== 'string' || content === '') {
      request.state = 'ERROR';
      request.messages = [
        `worker ${request.workerType} answered SUCCESS without content for step ${request.step + 1} of workflow ${request.contentType}`,
      ];
      return [this.event(request, { state: 'ERROR', messages: request.messages })];
    }
    request.step += 1;
    request.workerType = request.steps[request.step] ?? request.workerType;
    request.body = Buffer.from(content, 'base64');
    // A step's additionalHeaders replace the previous step's.
    request.extraHeaders = stringRecord(additionalHeaders);
    return this.dispatchOrDelay(request, now);
  }

  private dispatchOrDelay(request: TrackedRequest, now: number): Effect[] {
    if (!this.isAlive(request.workerType, now)) {
      const wasDelayed = request.state === 'DELAYED' && request.messages.length > 0;
      request.state = 'DELAYED';
      request.messages = [`no worker of type ${request.workerType} available`];
      return wasDelayed ? [] : [this.event(request, { state: 'DELAYED', messages: request.messages })];
    }
    request.state = 'DISPATCHED';
    request.messages = [];
    return [
      { kind: 'declare', workerType: request.workerType },
      {
        kind: 'publish',
        message: encodeDispatch(request, request.workerType, request.body, request.extraHeaders),
      },
      this.event(request, { state: 'GRANTED' }),
    ];
  }

  private route(contentType: string): string[] {
    const workflow = this.config.workflows.find((w) => w.workflowType === contentType);
    if (workflow !== undefined) return orderedSteps(workflow);
    const worker = this.config.workers.find((w) => w.contentTypeInputs.includes(contentType));
    return worker === undefined ? [] : [worker.workerType];
  }

  private event(request: TrackedRequest, facts: Omit<ResponseEventFacts, 'workerType'>): Effect {
    return {
      kind: 'publish',
      message: encodeResponseEvent(request, { ...facts, workerType: request.workerType }),
    };
  }
}

function skipped(identity: RequestIdentity, reason: string): Effect {
  return {
    kind: 'publish',
    message: encodeResponseEvent(identity, { state: 'SKIPPED' satisfies RequestState, messages: [reason] }),
  };
}

function stringHeaders(delivery: Delivery): Record<string, string> {
  return stringRecord(delivery.headers);
}

function stringRecord(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return record;
  for (const [key, item] of Object.entries(value)) {
    const text = headerString(item);
    if (text !== undefined) record[key] = text;
  }
  return record;
}
