/**
 * The scopes this server knows (OIDC Core §5.4, §11), in one place: client registration accepts
 * only these, a client registered without `scope` gets all of them, discovery advertises them.
 */
export const SUPPORTED_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export type SupportedScope = (typeof SUPPORTED_SCOPES)[number];
