import { closedLoop } from '../load.js';
import type { BenchUser } from '../targets/target.js';
import { codeFlow, type Scenario, type ScenarioContext } from './scenario.js';

/**
 * Whole code + PKCE flows of the public client, each in a fresh browser (a new cookie jar, so
 * always a password login): authorization request, login form, redirect, code redemption.
 * Before measuring, every user runs one flow (warm-up; on our server it also gives the consent
 * that later flows then skip, as oidc-provider's login step grants it at once).
 */
function flowLoad({ options }: ScenarioContext, concurrency: number, warmup: number) {
  return { count: options.flows, concurrency, warmup, deadlineMs: options.deadlineSeconds * 1000 };
}

export const codeFlowManyUsers: Scenario = {
  id: 'code-flow-many-users',
  title: 'code + PKCE flow, fresh browser, many distinct users',
  unit: 'flow',
  async run(target, context) {
    const { http, users } = context;
    const pick = (i: number): BenchUser => users[i % users.length]!;
    return closedLoop({ ...flowLoad(context, context.options.flowConcurrency, users.length), serverPids: target.pids() }, async ({ i }) => {
      await codeFlow(target, http, pick(i), target.clients.spa);
    });
  },
};

export const PARALLEL_LOGINS_OF_ONE_USER = 8;

export const codeFlowOneUser: Scenario = {
  id: 'code-flow-one-user',
  title: `code + PKCE flow, fresh browser, one user ${PARALLEL_LOGINS_OF_ONE_USER} in parallel`,
  unit: 'flow',
  async run(target, context) {
    const user = context.users[0]!;
    return closedLoop({ ...flowLoad(context, PARALLEL_LOGINS_OF_ONE_USER, PARALLEL_LOGINS_OF_ONE_USER), serverPids: target.pids() }, async () => {
      await codeFlow(target, context.http, user, target.clients.spa);
    });
  },
};
