/**
 * Polls a local-aws-sqs queue and invokes an SQS-triggered handler with Lambda's event
 * shape, deleting only the messages the handler did not report as failed. Failed messages
 * reappear after the visibility timeout and move to the DLQ after `maxReceiveCount`.
 *
 * local-aws-sqs answers a long poll only when its wait is over, however many messages
 * arrived meanwhile (measured: 1 message, WaitTimeSeconds 1 → 1045 ms), which would cap a
 * consumer at 10 messages per wait. So it short-polls, backing off while the queue is idle
 * (5 ms doubling to `idleMaxMs`) unless nudged by whoever just sent to it, and runs
 * `pollers` batches at once, as Lambda's event source mapping runs several concurrent batches.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../shared/logger.ts';

export function startQueueConsumer(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  logger: Logger;
  /** Batches in flight at once (default 1). */
  pollers?: number;
  /** Longest pause between polls of an idle queue, ms (default 250; a nudge ends it at once). */
  idleMaxMs?: number;
}) {
  let stopped = false;
  const stats = { received: 0, succeeded: 0, failed: 0 };
  /** Batches being handled now, and when a poll last found the queue empty (for `drain`). */
  let handling = 0;
  let lastEmptyAt = 0;
  const abort = new AbortController();

  const idleMaxMs = options.idleMaxMs ?? 250;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Idle pollers wait here; `nudge` (a message was just sent) ends their wait at once. */
  const sleepers = new Set<() => void>();
  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  const poll = async () => {
    let idleMs = 0;
    while (!stopped) {
      try {
        const page = await options.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }),
          { abortSignal: abort.signal },
        );
        const messages = page.Messages ?? [];
        if (messages.length === 0) {
          lastEmptyAt = performance.now();
          idleMs = Math.min(idleMaxMs, Math.max(5, idleMs * 2));
          await idle(idleMs);
          continue;
        }
        idleMs = 0;
        stats.received += messages.length;
        const records: SQSRecord[] = messages.map((m) => ({
          messageId: m.MessageId ?? '',
          receiptHandle: m.ReceiptHandle ?? '',
          body: m.Body ?? '',
          attributes: (m.Attributes ?? {}) as unknown as SQSRecord['attributes'],
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: options.queueArn,
          awsRegion: 'us-east-1',
        }));
        let failedIds: Set<string>;
        handling++;
        try {
          const response = await options.handler({ Records: records });
          failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          options.logger.error('queue handler threw', { queue: options.queueArn, error });
          failedIds = new Set(records.map((r) => r.messageId));
        } finally {
          handling--;
        }
        const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
        stats.succeeded += done.length;
        stats.failed += failedIds.size;
        if (done.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }),
          );
        }
      } catch (error) {
        if (stopped) break;
        options.logger.warn('queue poll failed', { queue: options.queueArn, error });
        await pause(500);
      }
    }
  };
  const loop = Promise.all(Array.from({ length: options.pollers ?? 1 }, poll));

  return {
    stats,
    /** Poll now: the local router calls this right after it sends to the queue. */
    nudge(): void {
      for (const wake of [...sleepers]) wake();
    },
    /**
     * Waits until the queue has nothing visible and no batch is being handled (a poll that
     * started after this call found it empty), or `timeoutMs` passed. For a graceful stop:
     * the local queue is in memory, so what is still in it would be lost. Messages hidden
     * after a failure, or delayed, are not waited for. Resolves whether it drained.
     */
    async drain(timeoutMs: number): Promise<boolean> {
      const since = performance.now();
      const deadline = since + timeoutMs;
      while (performance.now() < deadline) {
        this.nudge();
        if (handling === 0 && lastEmptyAt > since) return true;
        await pause(20);
      }
      return false;
    },
    async stop(): Promise<void> {
      stopped = true;
      this.nudge();
      abort.abort();
      await loop;
    },
  };
}
