import type { WorkerEvent } from './events.ts';

/**
 * What a handler returns. Plain data: the host reads `status` and the fields, never `instanceof`
 * (each bundle carries its own copy of this module).
 */

/** A JSON value a handler may return as content; it is sent as UTF-8 JSON. */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * Content of a successful result: bytes are sent as they are, a string as UTF-8, anything else as JSON.
 * It travels Base64-encoded in the response and becomes the next workflow step's body.
 */
export type Content = Uint8Array | Json;

/** A new processing request for the Worker Manager, issued on success (published before the ack). */
export interface NewRequest {
  readonly contentType: string;
  readonly body: Content;
  readonly owner?: string;
  readonly session?: string;
}

export interface Success<C = Content> {
  readonly status: 'SUCCESS';
  readonly content?: C;
  /** Become `additionalHeaders`: string values, never a `regards.*` key. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Kept in logs; the manager ignores messages on SUCCESS. */
  readonly messages?: readonly string[];
  readonly requests?: readonly NewRequest[];
  /** Events for other REGARDS services (declared in `emits`), published before the response. */
  readonly events?: readonly WorkerEvent[];
}

export interface Invalid {
  readonly status: 'INVALID_CONTENT';
  readonly messages: readonly string[];
}

export interface Failure {
  readonly status: 'ERROR';
  readonly messages: readonly string[];
}

/** The verdict of a handler. A thrown error is not a verdict: the host retries, then dead-letters. */
export type Result<C = Content> = Success<C> | Invalid | Failure;

export interface SuccessOptions<C> {
  content?: C;
  headers?: Readonly<Record<string, string>>;
  messages?: readonly string[];
  requests?: readonly NewRequest[];
  events?: readonly WorkerEvent[];
}

/**
 * The content type a handler may return for an output type: the same shape, read-only all the way
 * down, so that literal objects (`{ type: 'Feature' }`) and mutable values both fit.
 */
export type ContentOf<T> = T extends Uint8Array
  ? T
  : T extends readonly (infer Item)[]
    ? readonly ContentOf<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: ContentOf<T[K]> }
      : T;

/** The request was processed: answers SUCCESS, with content for the requester or the next step. */
export function success<const C = never>(options: SuccessOptions<C> = {}): Success<C> {
  return { status: 'SUCCESS', ...options };
}

/** The request itself is wrong and retrying it cannot help: answers INVALID_CONTENT. */
export function invalid(...messages: string[]): Invalid {
  return { status: 'INVALID_CONTENT', messages };
}

/** Processing failed for a known reason: answers ERROR (an operator may restart the request). */
export function error(...messages: string[]): Failure {
  return { status: 'ERROR', messages };
}
