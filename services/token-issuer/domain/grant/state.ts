export interface IssuedCode {
  clientId: string;
  sub: string;
  sessionId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
  codeHash: string;
  expiresAt: string;
  authTime: number;
  acr: string;
  amr: string[];
}

export type GrantState =
  | { status: 'none' }
  | { status: 'code_issued'; grantId: string; code: IssuedCode }
  | { status: 'active'; grantId: string; code: IssuedCode; accessTokenIdHashes: string[] }
  | { status: 'revoked'; grantId: string; code: IssuedCode; reason: string };

export const initialGrantState = (): GrantState => ({ status: 'none' });
