import type { Messages } from './messages.js';

export const fr: Messages = {
  languageName: 'Français',
  login: {
    title: 'Connexion',
    heading: (client) => `Connectez-vous pour continuer vers ${client}`,
    username: 'Nom d’utilisateur',
    password: 'Mot de passe',
    submit: 'Se connecter',
    failed: 'Nom d’utilisateur ou mot de passe incorrect.',
  },
  consent: {
    title: 'Autoriser l’accès',
    heading: (client) => `${client} demande l’accès à votre compte`,
    intro: 'Si vous l’autorisez, l’application pourra :',
    destination: (host) => `Dans les deux cas, vous serez ensuite redirigé vers ${host}.`,
    account: (name) => `Vous êtes connecté en tant que ${name}.`,
    allow: 'Autoriser',
    deny: 'Refuser',
    scopes: {
      openid: 'Vous connecter avec votre compte',
      profile: 'Voir votre nom et les informations de votre profil',
      email: 'Voir votre adresse e-mail',
      address: 'Voir votre adresse postale',
      phone: 'Voir votre numéro de téléphone',
      offline_access: 'Garder l’accès en votre absence (jusqu’à ce que vous le révoquiez)',
    },
  },
  logout: {
    confirmTitle: 'Déconnexion',
    confirmHeading: 'Se déconnecter ?',
    confirmAskedBy: (client) => `${client} vous demande de vous déconnecter.`,
    confirmQuestion: 'Voulez-vous vous déconnecter ?',
    confirmEffect: 'Vous serez déconnecté ici, et les applications que vous avez utilisées avec cette connexion en seront informées.',
    confirmSubmit: 'Se déconnecter',
    signedOutTitle: 'Déconnecté',
    signedOutHeading: 'Vous êtes déconnecté',
    signedOutOf: (client) => `Vous vous êtes déconnecté de ${client}.`,
    signedOutText: 'Vous pouvez fermer cette fenêtre.',
  },
  error: {
    title: 'Erreur de connexion',
    heading: 'Cette demande ne peut pas aboutir',
    reasons: {
      request_expired:
        'La connexion a pris trop de temps ou a été commencée dans un autre navigateur. Retournez dans l’application et recommencez.',
      logout_form_invalid: 'Ce formulaire de déconnexion a expiré ou appartient à une autre session. Rien n’a été modifié ; vous pouvez recommencer depuis l’application.',
      form_mismatch: 'Ce formulaire ne correspond pas à votre connexion en cours. Retournez dans l’application et recommencez.',
      unknown_client: 'L’application qui vous a envoyé ici n’est pas connue de ce serveur.',
      untrusted_redirect_uri:
        'L’application a demandé à vous envoyer vers une adresse qu’elle n’a pas enregistrée ; vous n’y êtes donc pas redirigé.',
      invalid_request: 'L’application a envoyé une demande que ce serveur ne peut pas accepter. Retournez dans l’application et réessayez.',
      temporarily_unavailable: 'Le service est momentanément indisponible. Veuillez réessayer dans un instant.',
      server_error: 'Une erreur s’est produite de notre côté. Veuillez réessayer plus tard.',
      other: 'L’application a envoyé une demande que ce serveur ne peut pas traiter.',
    },
    technicalDetails: 'Détails pour les développeurs de l’application',
  },
};
