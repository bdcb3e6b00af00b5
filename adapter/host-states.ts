/**
 * The states of the host's lifecycle (lifecycle.ts) and the events that move it, as a table:
 *
 *   connecting ──connected──▶ consuming ──disconnected──▶ connecting
 *        └──────swap──▶ swapping ◀──swap──┘     (swapped: back to consuming, or connecting if no session)
 *   any of those ──stop──▶ draining ──stopped──▶ stopped
 */

export type HostState = 'connecting' | 'consuming' | 'swapping' | 'draining' | 'stopped';
export type HostEvent = 'connected' | 'disconnected' | 'swap' | 'swapped' | 'stop' | 'stopped';

/** Where each event leads from each state; an event a state does not list is refused there. */
const TRANSITIONS: Readonly<
  Record<HostState, Partial<Record<HostEvent, HostState | ((connected: boolean) => HostState)>>>
> = {
  connecting: { connected: 'consuming', disconnected: 'connecting', swap: 'swapping', stop: 'draining' },
  // A setup that failed half-way is run again on the next connection.
  consuming: { connected: 'consuming', disconnected: 'connecting', swap: 'swapping', stop: 'draining' },
  // A session may come or go while a new version is being installed: it decides where the swap ends.
  swapping: {
    connected: 'swapping',
    disconnected: 'swapping',
    swapped: (connected) => (connected ? 'consuming' : 'connecting'),
    stop: 'draining',
  },
  draining: { disconnected: 'draining', swapped: 'draining', stopped: 'stopped' },
  stopped: { disconnected: 'stopped' },
};

/** The state `event` leads to from `state`, or undefined if `state` refuses it. */
export function transition(state: HostState, event: HostEvent, connected: boolean): HostState | undefined {
  const next = TRANSITIONS[state][event];
  return typeof next === 'function' ? next(connected) : next;
}
