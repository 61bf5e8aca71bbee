/**
 * What the CDK intent tests share: synthesizing with `cdk.json`'s context and no bundling,
 * and reading the IAM statements attached to a role out of a template.
 */
import { readFileSync } from 'node:fs';
import { App, type Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { REPO_ROOT } from '../paths.ts';
import { CapstanStack } from '../stacks/capstan-stack.ts';

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
}
export interface PolicyDocument {
  readonly Statement: readonly PolicyStatement[];
}
export type Resources = Record<string, { readonly Properties?: Record<string, unknown> }>;

export const asArray = <T,>(value: T | readonly T[]): readonly T[] => (Array.isArray(value) ? value : [value as T]);

/** An app with the feature flags `cdk synth` uses; esbuild skipped (intent, not code). */
export function appWithCdkContext(): App {
  const cdkJson = JSON.parse(readFileSync(`${REPO_ROOT}/cdk.json`, 'utf8')) as { context?: Record<string, unknown> };
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
}

export function synthesizeCapstan(): CapstanStack {
  return new CapstanStack(appWithCdkContext(), 'Capstan');
}

/** Statements of every AWS::IAM::Policy attached to a role, or to a function's role. */
export function iamStatements(template: Template, stack: Stack) {
  const ofRole = (role: IRole): PolicyStatement[] => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([stack.resolve(role.roleName)]) } }) as Resources;
    return Object.values(policies).flatMap((policy) => (policy.Properties?.['PolicyDocument'] as PolicyDocument).Statement);
  };
  const ofFunction = (fn: IFunction): PolicyStatement[] => {
    if (!fn.role) throw new Error(`${fn.node.path} has no role`);
    return ofRole(fn.role);
  };
  return { ofRole, ofFunction };
}

/** The resource names every function and task gets, as the template spells them. */
export function resolvedResourceNames(stack: CapstanStack): Record<string, unknown> {
  return {
    CAPSTAN_EVENTS_TABLE: stack.resolve(stack.eventStore.table.tableName),
    CAPSTAN_RECORDINGS_TABLE: stack.resolve(stack.readModel.recordingsTable.tableName),
    CAPSTAN_API_KEYS_TABLE: stack.resolve(stack.readModel.apiKeysTable.tableName),
    CAPSTAN_IDEMPOTENCY_TABLE: stack.resolve(stack.idempotency.table.tableName),
    CAPSTAN_BUCKET: stack.resolve(stack.media.bucket.bucketName),
    CAPSTAN_EVENT_BUS_NAME: stack.resolve(stack.eventBus.bus.eventBusName),
  };
}
