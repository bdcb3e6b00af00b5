import * as z from 'zod';
import { DEFINITION_KIND } from './definition-of.ts';
import { EVENT_KINDS, type EventKind, eventIssues } from './events.ts';
import { issueMessages } from './issues.ts';
import type { Context, Request } from './request.ts';
import type { Content, ContentOf, Json, NewRequest, Result } from './result.ts';
import { type DefinedSettings, definedSettings, settingProblems, type WorkerSettings } from './settings.ts';
import { SDK_VERSION } from './version.ts';

/** What an author writes: the worker's identity, its schemas and its handler. */
export interface WorkerSpec<In extends z.ZodType, Out extends z.ZodType> extends WorkerSettings {
  /** The REGARDS worker type, exact case: 1 to 128 characters of `A-Z a-z 0-9 . _ -`. */
  type: string;
  /** The request content types this worker serves (`contentTypeInputs` in the manager's configuration). */
  accepts: readonly [string, ...string[]];
  /** The content type of its output, when it is a step of a workflow (`contentTypeOutput`). */
  produces?: string;
  /** Schema of the JSON body; a body that fails it is answered INVALID_CONTENT naming the fields. */
  input: In;
  /** Schema of the success content; a handler whose content fails it answers ERROR. */
  output?: Out;
  /** The kinds of event it sends to other REGARDS services on success (`events`); others are refused. */
  emits?: readonly EventKind[];
  /**
   * With `emits: ['feature-update']` (required then): the schema of what its updates set, as the REGARDS
   * model names it (`featureDate()` for dates); a mismatch answers ERROR; `check --model` checks the model.
   */
  featureProperties?: z.ZodType;
  /** Its return type comes from `output` alone (NoInfer): without one, content is any Content. */
  handler(
    request: Request<z.output<In>>,
    ctx: Context,
  ): Result<ContentOf<z.input<NoInfer<Out>>>> | Promise<Result<ContentOf<z.input<NoInfer<Out>>>>>;
}

/** A request as the host hands it to a bundle: the body is still bytes. */
export interface RawRequest extends Omit<Request<unknown>, 'body'> {
  readonly body: Uint8Array;
}

/** A new request with its body encoded, as the host publishes it. */
export interface EncodedRequest {
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly owner: string | undefined;
  readonly session: string | undefined;
}

/** An event with its body encoded (UTF-8 JSON), as the host publishes it. */
export interface EncodedEvent {
  readonly kind: EventKind;
  readonly body: Uint8Array;
  readonly fileUpdateMode: string | undefined;
}

/** A handler's verdict as plain data, ready for the host to settle. */
export type Outcome =
  | {
      readonly status: 'SUCCESS';
      readonly content: Uint8Array | undefined;
      /** As returned by the handler: the host checks keys and values before publishing. */
      readonly headers: Readonly<Record<string, unknown>>;
      readonly messages: readonly string[];
      readonly requests: readonly EncodedRequest[];
      /** Published first, each confirmed, before the requests and the response. */
      readonly events: readonly EncodedEvent[];
    }
  | { readonly status: 'INVALID_CONTENT' | 'ERROR'; readonly messages: readonly string[] };

/** What a bundle's default export is. The host duck-types it by `kind` and calls `run`. */
export interface WorkerDefinition<Body = unknown, Out = Content> extends DefinedSettings {
  readonly kind: typeof DEFINITION_KIND;
  readonly sdkVersion: string;
  readonly type: string;
  readonly accepts: readonly string[];
  readonly produces: string | undefined;
  /** The kinds of event it may send. */
  readonly emits: readonly EventKind[];
  /** The JSON Schema of the properties its feature updates set, when it sends any. */
  featurePropertiesJsonSchema(): Record<string, unknown> | undefined;
  /** The author's handler, for tests that call it directly (a method: any definition is a WorkerDefinition). */
  handler(request: Request<Body>, ctx: Context): Result<Out> | Promise<Result<Out>>;
  /** JSON Schema of the request body, for the manifest and for documentation. */
  inputJsonSchema(): Record<string, unknown>;
  /** The JSON Schema of a success's content, when the definition declares `output`. */
  outputJsonSchema(): Record<string, unknown> | undefined;
  /**
   * Parses and validates the body, calls the handler, checks and encodes its result.
   * Throws when the handler throws or returns something that is not a Result: an undetermined failure.
   */
  run(request: RawRequest, ctx: Context): Promise<Outcome>;
}

/** Error with a stable code, thrown by the contract itself. */
export class ContractError extends Error {
  readonly code: 'INVALID_DEFINITION' | 'NOT_A_RESULT';
  constructor(code: ContractError['code'], message: string) {
    super(message);
    this.name = 'ContractError';
    this.code = code;
  }
}

const TYPE_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function defineWorker<In extends z.ZodType, Out extends z.ZodType = z.ZodType<Content, Content>>(
  spec: WorkerSpec<In, Out>,
): WorkerDefinition<z.output<In>, ContentOf<z.input<Out>>> {
  checkSpec(spec);
  return {
    kind: DEFINITION_KIND,
    sdkVersion: SDK_VERSION,
    type: spec.type,
    accepts: [...spec.accepts],
    produces: spec.produces,
    ...definedSettings(spec),
    emits: [...(spec.emits ?? [])],
    handler: spec.handler,
    inputJsonSchema: () => z.toJSONSchema(spec.input, { io: 'input', unrepresentable: 'any' }),
    // What the next step of a workflow receives: the content as it leaves this one.
    outputJsonSchema: () =>
      spec.output === undefined
        ? undefined
        : z.toJSONSchema(spec.output, { io: 'output', unrepresentable: 'any' }),
    featurePropertiesJsonSchema: () =>
      spec.featureProperties === undefined
        ? undefined
        : z.toJSONSchema(spec.featureProperties, { io: 'output', unrepresentable: 'any' }),
    run: async (raw, ctx) => {
      const json = parseJson(raw.body);
      if (!json.ok) return { status: 'INVALID_CONTENT', messages: [json.message] };
      const input = spec.input.safeParse(json.value);
      if (!input.success) return { status: 'INVALID_CONTENT', messages: issueMessages(input.error) };
      const result: unknown = await spec.handler({ ...raw, body: input.data }, ctx);
      return toOutcome(result, spec);
    },
  };
}

function checkSpec(spec: WorkerSpec<z.ZodType, z.ZodType>): void {
  const problems: string[] = [];
  if (typeof spec.type !== 'string' || !TYPE_PATTERN.test(spec.type)) {
    problems.push(`type ${JSON.stringify(spec.type)} must be 1 to 128 characters of A-Z a-z 0-9 . _ -`);
  }
  if (!Array.isArray(spec.accepts) || spec.accepts.length === 0 || !spec.accepts.every(isNonEmptyString)) {
    problems.push('accepts must be a non-empty list of content types');
  }
  if (spec.produces !== undefined && !isNonEmptyString(spec.produces)) {
    problems.push('produces must be a non-empty content type');
  }
  if (!(spec.input instanceof z.ZodType)) problems.push('input must be a zod schema');
  if (spec.output !== undefined && !(spec.output instanceof z.ZodType)) {
    problems.push('output must be a zod schema');
  }
  problems.push(...settingProblems(spec));
  if (
    spec.emits !== undefined &&
    !(Array.isArray(spec.emits) && spec.emits.every((kind) => EVENT_KINDS.includes(kind)))
  )
    problems.push(`emits must list kinds among ${EVENT_KINDS.join(', ')}`);
  if (spec.featureProperties !== undefined && !(spec.featureProperties instanceof z.ZodType))
    problems.push('featureProperties must be a zod schema');
  else if (spec.emits?.includes('feature-update') && spec.featureProperties === undefined)
    problems.push("emits: ['feature-update'] needs featureProperties: the zod schema of what it sends");
  if (typeof spec.handler !== 'function') problems.push('handler must be a function');
  if (problems.length > 0) {
    throw new ContractError('INVALID_DEFINITION', `worker ${String(spec.type)}: ${problems.join('; ')}`);
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(body: Uint8Array): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(body)) };
  } catch (cause) {
    return { ok: false, message: `body is not valid UTF-8 JSON: ${(cause as Error).message}` };
  }
}

function toOutcome(result: unknown, spec: WorkerSpec<z.ZodType, z.ZodType>): Outcome {
  if (!isRecord(result)) throw notAResult(result);
  const { status } = result;
  if (status === 'INVALID_CONTENT' || status === 'ERROR') {
    const messages = result.messages;
    if (!Array.isArray(messages)) throw notAResult(result);
    return { status, messages: messages.map(String) };
  }
  if (status !== 'SUCCESS') throw notAResult(result);

  const headers = result.headers ?? {};
  const requests = result.requests ?? [];
  const messages = result.messages ?? [];
  const events = result.events ?? [];
  if (!isRecord(headers) || !Array.isArray(requests) || !Array.isArray(messages) || !Array.isArray(events))
    throw notAResult(result);
  const refused = eventIssues(events, spec.emits ?? [], spec.featureProperties);
  if (refused.length > 0) return { status: 'ERROR', messages: refused };
  const output = spec.output;
  if (output !== undefined && result.content !== undefined) {
    const checked = output.safeParse(result.content);
    if (!checked.success) {
      return {
        status: 'ERROR',
        messages: issueMessages(checked.error).map((m) => `output does not match its schema: ${m}`),
      };
    }
  }
  return {
    status: 'SUCCESS',
    content: result.content === undefined ? undefined : encodeContent(result.content as Content),
    headers,
    messages: messages.map(String),
    requests: requests.map(encodeRequest),
    events: events.map(encodeEvent),
  };
}

function encodeEvent(event: unknown): EncodedEvent {
  if (!isRecord(event) || !isRecord(event.feature) || !isRecord(event.metadata))
    throw new ContractError('NOT_A_RESULT', 'each event must be built with a helper (featureUpdate)');
  const { kind, fileUpdateMode, ...body } = event;
  return {
    kind: kind as EventKind,
    body: encodeContent(body as Json),
    fileUpdateMode: typeof fileUpdateMode === 'string' ? fileUpdateMode : undefined,
  };
}

function encodeRequest(request: unknown): EncodedRequest {
  if (!isRecord(request) || !isNonEmptyString(request.contentType) || request.body === undefined) {
    throw new ContractError('NOT_A_RESULT', 'each new request needs a contentType and a body');
  }
  const { owner, session } = request as Partial<NewRequest>;
  return {
    contentType: request.contentType,
    body: encodeContent(request.body as Content),
    owner: typeof owner === 'string' ? owner : undefined,
    session: typeof session === 'string' ? session : undefined,
  };
}

const utf8Encoder = new TextEncoder();

/** Bytes as they are, a string as UTF-8, any other value as UTF-8 JSON. */
export function encodeContent(content: Content): Uint8Array {
  if (content instanceof Uint8Array) return content;
  if (typeof content === 'string') return utf8Encoder.encode(content);
  return utf8Encoder.encode(JSON.stringify(content satisfies Json));
}

function notAResult(value: unknown): ContractError {
  const shown = isRecord(value) ? `an object with status ${JSON.stringify(value.status)}` : typeof value;
  return new ContractError(
    'NOT_A_RESULT',
    `handler returned ${shown}, not a Result: return success(), invalid() or error()`,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
