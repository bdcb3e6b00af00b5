/**
 * What each way a delivery can end means to those who watch the host, in one table: the CONSUMER
 * span's status, whether the request is now in the DLQ (the dead-letter metric), the level of the
 * settle log line, and the words of docs/host.md. An Ending missing here does not compile.
 */
import type { Ending } from '../../protocol/index.ts';

export interface EndingFacts {
  /** The span's status is ERROR: the request was not answered SUCCESS or INVALID_CONTENT. */
  readonly failed: boolean;
  /** The request is in the manager's DLQ (counted by regards_worker_dead_letters_total). */
  readonly deadLettered: boolean;
  /** The level of the `settled` log line: warn when the host could not carry out its decision. */
  readonly level: 'info' | 'warn';
  /** What became of the delivery (the table of docs/host.md). */
  readonly meaning: string;
}

export const ENDINGS: Readonly<Record<Ending, EndingFacts>> = {
  success: { failed: false, deadLettered: false, level: 'info', meaning: 'SUCCESS published, then acked' },
  'invalid-content': {
    failed: false,
    deadLettered: false,
    level: 'info',
    meaning: 'INVALID_CONTENT published, then acked',
  },
  error: { failed: true, deadLettered: false, level: 'info', meaning: 'ERROR published, then acked' },
  retry: {
    failed: true,
    deadLettered: false,
    level: 'info',
    meaning: 'a copy for the next attempt sent to the retry queue, then acked',
  },
  'dead-letter': {
    failed: true,
    deadLettered: true,
    level: 'info',
    meaning: 'after the last attempt: a copy with the reason sent to the DLQ, then acked',
  },
  undecodable: {
    failed: true,
    deadLettered: true,
    level: 'info',
    meaning: 'no request id or tenant, nobody to answer: a copy with the reason sent to the DLQ, then acked',
  },
  unconfirmed: {
    failed: true,
    deadLettered: false,
    level: 'warn',
    meaning: 'the channel was lost before the answer was confirmed: left unacked, RabbitMQ redelivers it',
  },
  rejected: {
    failed: true,
    deadLettered: true,
    level: 'warn',
    meaning: 'no copy could be made: nacked without requeue, into the DLQ through regards.DLX',
  },
  abandoned: {
    failed: true,
    deadLettered: false,
    level: 'info',
    meaning: 'the drain deadline passed while it ran: left unacked, RabbitMQ redelivers it',
  },
};
