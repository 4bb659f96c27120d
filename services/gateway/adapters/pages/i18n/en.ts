import type { Messages } from './messages.js';

export const en: Messages = {
  languageName: 'English',
  login: {
    title: 'Sign in',
    heading: (client) => `Sign in to continue to ${client}`,
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    failed: 'Invalid username or password.',
  },
  consent: {
    title: 'Authorize access',
    heading: (client) => `${client} asks for access to your account`,
    intro: 'If you allow it, it will be able to:',
    destination: (host) => `Either way, you will then be sent to ${host}.`,
    allow: 'Allow',
    deny: 'Deny',
    scopes: {
      openid: 'Sign you in with your account',
      profile: 'See your name and profile details',
      email: 'See your email address',
      address: 'See your postal address',
      phone: 'See your phone number',
      offline_access: 'Keep access while you are away (until you revoke it)',
    },
  },
  error: {
    title: 'Sign-in error',
    heading: 'This request cannot be completed',
    reasons: {
      request_expired: 'This sign-in took too long or was started in another browser. Go back to the application and start again.',
      form_mismatch: 'This form does not belong to your current sign-in. Go back to the application and start again.',
      unknown_client: 'The application that sent you here is not known to this server.',
      untrusted_redirect_uri: 'The application asked to send you to an address it has not registered, so you are not sent there.',
      invalid_request: 'The application sent a request this server cannot accept. Go back to the application and try again.',
      temporarily_unavailable: 'The service is briefly unavailable. Please try again in a moment.',
      server_error: 'Something went wrong on our side. Please try again later.',
      other: 'The application sent a request this server cannot complete.',
    },
    technicalDetails: 'Details for the application’s developer',
  },
};
