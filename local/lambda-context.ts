/** A Lambda `Context` for handlers the local runtime invokes in-process. */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export function lambdaContext(requestId: string, functionName = 'capstan-api'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Adapt a Lambda handler `(event, context)` to `(event)` with a fresh context per call. */
export function invokeLocally<E, R>(functionName: string, handler: (event: E, context: Context) => Promise<R>): (event: E) => Promise<R> {
  return (event) => handler(event, lambdaContext(randomUUID(), functionName));
}
