/** The REGARDS worker protocol, pure: names, decoding, encoding, and the settle decision. */

export * from './events.ts';
export * from './feature-update.ts';
export * from './limits.ts';
export * from './manager-side.ts';
export * from './message.ts';
export * from './names.ts';
export * from './request.ts';
export * from './request-event.ts';
export * from './response.ts';
export * from './settle.ts';
export * from './topology.ts';
