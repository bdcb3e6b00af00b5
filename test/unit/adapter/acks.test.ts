/**
 * Coalesced acks against a model of the broker's own rule for acks (RabbitMQ's collect_acks: with
 * `multiple`, everything outstanding up to the tag, which must itself be outstanding; without, that
 * tag alone). Completions come in any order, some rejected, flushes at any point.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ackCoalescer } from '../../../adapter/broker/acks.ts';

/** The broker's side of one channel: what is outstanding, and what each frame took. */
function brokerModel(count: number) {
  const outstanding = Array.from({ length: count }, (_, i) => i + 1);
  const acked = new Set<number>();
  const frames: string[] = [];
  const take = (tag: number, multiple: boolean): number[] => {
    const at = outstanding.indexOf(tag);
    if (at < 0) throw new Error(`PRECONDITION_FAILED - unknown delivery tag ${tag}`);
    const taken = multiple ? outstanding.splice(0, at + 1) : outstanding.splice(at, 1);
    return taken;
  };
  return {
    outstanding,
    acked,
    frames,
    ack(tag: number, multiple: boolean) {
      frames.push(`ack ${tag}${multiple ? ' multiple' : ''}`);
      for (const taken of take(tag, multiple)) acked.add(taken);
    },
    nack(tag: number) {
      frames.push(`nack ${tag}`);
      take(tag, false);
    },
  };
}

function harness(count: number) {
  const broker = brokerModel(count);
  const queued: (() => void)[] = [];
  const coalescer = ackCoalescer(broker.ack, (flush) => queued.push(flush));
  for (let tag = 1; tag <= count; tag += 1) coalescer.delivered(tag);
  const runScheduled = () => {
    for (const flush of queued.splice(0)) flush();
  };
  return { broker, coalescer, runScheduled };
}

describe('coalesced acks', () => {
  it('sends one ack with multiple for what settled together, in order', () => {
    const { broker, coalescer, runScheduled } = harness(5);
    for (const tag of [1, 2, 3]) coalescer.acked(tag);
    runScheduled();
    expect(broker.frames).toEqual(['ack 3 multiple']);
    expect(broker.outstanding).toEqual([4, 5]);
  });

  it('does not hold back acks behind a delivery still in progress, nor ack it', () => {
    const { broker, coalescer, runScheduled } = harness(4);
    for (const tag of [2, 3, 4]) coalescer.acked(tag);
    runScheduled();
    expect(broker.frames).toEqual(['ack 2', 'ack 3', 'ack 4']);
    expect(broker.outstanding).toEqual([1]);
    coalescer.acked(1);
    runScheduled();
    expect(broker.frames.at(-1)).toBe('ack 1');
    expect(broker.outstanding).toEqual([]);
  });

  it('never sends multiple up to a rejected tag, which the broker no longer holds', () => {
    const { broker, coalescer, runScheduled } = harness(3);
    coalescer.acked(1);
    broker.nack(3);
    coalescer.rejected(3);
    coalescer.acked(2);
    runScheduled();
    expect(broker.frames).toEqual(['nack 3', 'ack 2 multiple']);
    expect(broker.outstanding).toEqual([]);
  });

  it('flushes soon once nothing is left unsettled, and later while something is', () => {
    const broker = brokerModel(3);
    const schedules: boolean[] = [];
    const coalescer = ackCoalescer(broker.ack, (_flush, soon) => schedules.push(soon));
    for (const tag of [1, 2, 3]) coalescer.delivered(tag);
    coalescer.acked(1);
    coalescer.acked(2);
    expect(schedules).toEqual([false]); // 3 may settle in this turn too: one flush, later
    coalescer.acked(3);
    expect(schedules).toEqual([false, true]); // nothing left to wait for
    coalescer.flush();
    coalescer.delivered(4);
    coalescer.acked(4);
    expect(schedules).toEqual([false, true, true]); // one at a time (prefetch 1): always soon
  });

  it('acks nothing before its own ack, whatever the order of completions, and settles everything once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((count) =>
          fc.tuple(
            fc.constant(count),
            fc.shuffledSubarray(
              Array.from({ length: count }, (_, i) => i + 1),
              { minLength: count, maxLength: count },
            ),
            fc.array(fc.boolean(), { minLength: count, maxLength: count }),
            fc.array(fc.boolean(), { minLength: count, maxLength: count }),
          ),
        ),
        ([count, completions, rejects, flushes]) => {
          const { broker, coalescer, runScheduled } = harness(count);
          const ackedByUs = new Set<number>();
          completions.forEach((tag, step) => {
            if (rejects[step]) {
              broker.nack(tag);
              coalescer.rejected(tag);
            } else {
              coalescer.acked(tag);
              ackedByUs.add(tag);
            }
            if (flushes[step]) runScheduled();
            // Transactional: whatever the broker took as acked, we had acked.
            for (const tag of broker.acked) expect(ackedByUs.has(tag)).toBe(true);
          });
          runScheduled();
          expect(broker.outstanding).toEqual([]);
          expect([...broker.acked].sort((a, b) => a - b)).toEqual([...ackedByUs].sort((a, b) => a - b));
        },
      ),
      { numRuns: 500 },
    );
  });
});
