import type { Messages } from './messages.js';

export const de: Messages = {
  languageName: 'Deutsch',
  login: {
    title: 'Anmelden',
    heading: (client) => `Melden Sie sich an, um mit ${client} fortzufahren`,
    username: 'Benutzername',
    password: 'Passwort',
    submit: 'Anmelden',
    failed: 'Benutzername oder Passwort ist falsch.',
  },
  consent: {
    title: 'Zugriff erlauben',
    heading: (client) => `${client} bittet um Zugriff auf Ihr Konto`,
    intro: 'Wenn Sie zustimmen, kann die Anwendung:',
    destination: (host) => `In beiden Fällen werden Sie anschließend zu ${host} weitergeleitet.`,
    account: (name) => `Sie sind angemeldet als ${name}.`,
    allow: 'Erlauben',
    deny: 'Ablehnen',
    scopes: {
      openid: 'Sie mit Ihrem Konto anmelden',
      profile: 'Ihren Namen und Ihre Profildaten sehen',
      email: 'Ihre E-Mail-Adresse sehen',
      address: 'Ihre Postanschrift sehen',
      phone: 'Ihre Telefonnummer sehen',
      offline_access: 'Zugriff behalten, während Sie abwesend sind (bis Sie ihn widerrufen)',
    },
  },
  logout: {
    confirmTitle: 'Abmelden',
    confirmHeading: 'Abmelden?',
    confirmAskedBy: (client) => `${client} bittet Sie, sich abzumelden.`,
    confirmQuestion: 'Möchten Sie sich abmelden?',
    confirmEffect: 'Sie werden hier abgemeldet, und die Anwendungen, die Sie mit dieser Anmeldung genutzt haben, werden benachrichtigt.',
    confirmSubmit: 'Jetzt abmelden',
    signedOutTitle: 'Abgemeldet',
    signedOutHeading: 'Sie sind abgemeldet',
    signedOutOf: (client) => `Sie haben sich von ${client} abgemeldet.`,
    signedOutText: 'Sie können dieses Fenster schließen.',
  },
  error: {
    title: 'Fehler bei der Anmeldung',
    heading: 'Diese Anfrage kann nicht abgeschlossen werden',
    reasons: {
      request_expired:
        'Die Anmeldung hat zu lange gedauert oder wurde in einem anderen Browser begonnen. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.',
      logout_form_invalid: 'Dieses Abmeldeformular ist abgelaufen oder gehört zu einer anderen Sitzung. Es wurde nichts geändert; Sie können in der Anwendung neu beginnen.',
      form_mismatch: 'Dieses Formular gehört nicht zu Ihrer aktuellen Anmeldung. Kehren Sie zur Anwendung zurück und beginnen Sie erneut.',
      unknown_client: 'Die Anwendung, die Sie hierher geschickt hat, ist diesem Server nicht bekannt.',
      untrusted_redirect_uri:
        'Die Anwendung wollte Sie an eine Adresse schicken, die sie nicht registriert hat; deshalb werden Sie nicht dorthin weitergeleitet.',
      invalid_request: 'Die Anwendung hat eine Anfrage gesendet, die dieser Server nicht annehmen kann. Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.',
      temporarily_unavailable: 'Der Dienst ist kurzzeitig nicht erreichbar. Bitte versuchen Sie es gleich noch einmal.',
      server_error: 'Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es später erneut.',
      other: 'Die Anwendung hat eine Anfrage gesendet, die dieser Server nicht abschließen kann.',
    },
    technicalDetails: 'Details für die Entwickler der Anwendung',
  },
};
