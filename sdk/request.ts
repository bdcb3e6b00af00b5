/** What a handler receives: the request, decoded and validated, and its context. */

export interface Request<Body> {
  /** The JSON body, validated by the worker's `input` schema. */
  readonly body: Body;
  /** `regards.request.id`: the same for every workflow step and every retry; use it for idempotence. */
  readonly requestId: string;
  readonly tenant: string;
  readonly owner: string;
  readonly session: string;
  /** `regards.request.content_type`: inside a workflow, the workflow type at every step. */
  readonly contentType: string;
  /** 1 on first delivery, then 2, 3... as the host retries after undetermined failures. */
  readonly attempt: number;
  /** Every header of the delivery as a string (protocol headers and the previous step's additional headers). */
  readonly headers: Readonly<Record<string, string>>;
}

export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger; every line carries the request id and worker type. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface Context {
  /** Aborted when the handler times out or the host shuts down: stop work and return or throw. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Tells the manager the request is RUNNING, with this message. Resolves once sent. */
  progress(message: string): Promise<void>;
}
