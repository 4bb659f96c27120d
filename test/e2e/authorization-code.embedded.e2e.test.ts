import { startEmbeddedIdp } from '../support/idp-under-test.js';
import { describeAuthorizationCodeFlows } from './suites/authorization-code.suite.js';

describeAuthorizationCodeFlows('embedded', startEmbeddedIdp);
