/**
 * Every string the pages show, as one type: each language's catalog is a `Messages`, so a string
 * missing from any catalog (or one left over) does not compile. Values that take arguments are
 * functions of raw text; the pages escape what they return.
 */

/** The scopes the consent page explains (OIDC Core §5.4, §11); any other scope is shown as itself. */
export const STANDARD_SCOPES = ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'] as const;
export type StandardScope = (typeof STANDARD_SCOPES)[number];

/** What went wrong, as the error page explains it to a person (see error-reason.ts). */
export const ERROR_REASONS = [
  'request_expired',
  'form_mismatch',
  'logout_form_invalid',
  'unknown_client',
  'untrusted_redirect_uri',
  'invalid_request',
  'temporarily_unavailable',
  'server_error',
  'other',
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

export interface Messages {
  /** The language's own name, e.g. for a language picker. */
  languageName: string;
  login: {
    title: string;
    heading: (client: string) => string;
    username: string;
    password: string;
    submit: string;
    failed: string;
  };
  consent: {
    title: string;
    heading: (client: string) => string;
    intro: string;
    /** Where the browser goes next, whichever button is pressed. */
    destination: (host: string) => string;
    /** Which account the user is about to give access to. */
    account: (name: string) => string;
    allow: string;
    deny: string;
    scopes: Record<StandardScope, string>;
  };
  /** RP-Initiated Logout 1.0: the confirmation page and the page after signing out. */
  logout: {
    confirmTitle: string;
    confirmHeading: string;
    /** An application asked for the logout. */
    confirmAskedBy: (client: string) => string;
    /** Nobody we know asked. */
    confirmQuestion: string;
    confirmEffect: string;
    confirmSubmit: string;
    signedOutTitle: string;
    signedOutHeading: string;
    signedOutOf: (client: string) => string;
    signedOutText: string;
  };
  error: {
    title: string;
    heading: string;
    reasons: Record<ErrorReason, string>;
    /** Label of the RFC 6749 error code and description, for the application's developer. */
    technicalDetails: string;
  };
}
