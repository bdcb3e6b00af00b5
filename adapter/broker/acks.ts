/**
 * Acknowledgements of one channel, coalesced: acks settled in the same turn of the event loop go out
 * as one `basic.ack` with `multiple`, up to the highest delivery tag whose every predecessor is
 * settled; fewer frames for the broker, which is the bottleneck on the REGARDS topology. Pure: it is
 * given the function that sends, and when to flush.
 *
 * What it never does: ack a delivery before its own ack() was called (the host calls it only once the
 * response is confirmed), or send `multiple` up to a tag the broker no longer holds (RabbitMQ then
 * closes the channel: "unknown delivery tag"). A delivery left unsettled does not hold back the others:
 * acks after it are sent one by one.
 */
export interface AckCoalescer {
  /** A delivery arrived (tags increase with each delivery on a channel). */
  delivered(tag: number): void;
  /** Settled by ack: sent at the next flush. */
  acked(tag: number): void;
  /** Settled otherwise (the caller sent its nack already): no longer the broker's to ack. */
  rejected(tag: number): void;
  /** Sends what is waiting now (before closing the channel). */
  flush(): void;
}

type State = 'waiting' | 'acked' | 'done';

export function ackCoalescer(
  send: (tag: number, multiple: boolean) => void,
  schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
): AckCoalescer {
  /** Delivered and not yet sent or rejected, in delivery order. */
  const order: number[] = [];
  let head = 0;
  const states = new Map<number, State>();
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    // The settled prefix: one ack with `multiple` up to its last acked tag covers its acked ones.
    let last: number | undefined;
    let covered = 0;
    while (head < order.length) {
      const tag = order[head] as number;
      const state = states.get(tag);
      if (state === 'waiting') break;
      if (state === 'acked') {
        last = tag;
        covered += 1;
      }
      states.delete(tag);
      head += 1;
    }
    if (last !== undefined) send(last, covered > 1);
    // Behind an unsettled delivery: one by one, marked done so that the prefix walk skips them later.
    for (let i = head; i < order.length; i += 1) {
      const tag = order[i] as number;
      if (states.get(tag) !== 'acked') continue;
      send(tag, false);
      states.set(tag, 'done');
    }
    if (head > 1024 && head * 2 > order.length) {
      order.splice(0, head);
      head = 0;
    }
  };

  return {
    delivered(tag) {
      order.push(tag);
      states.set(tag, 'waiting');
    },
    acked(tag) {
      if (states.get(tag) !== 'waiting') return;
      states.set(tag, 'acked');
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    rejected(tag) {
      if (states.get(tag) === 'waiting') states.set(tag, 'done');
    },
    flush,
  };
}
