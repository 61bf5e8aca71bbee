/**
 * CDK app entry (`cdk.json` → `npx tsx infra/app.ts`). One environment-agnostic stack:
 * account and region come from the deploy-time credentials, nothing is looked up at synth.
 */
import { App } from 'aws-cdk-lib';
import { CapstanStack } from './stacks/capstan-stack.ts';

const app = new App();
new CapstanStack(app, 'Capstan', {
  description: 'Capstan: event-sourced recording service',
});
app.synth();
