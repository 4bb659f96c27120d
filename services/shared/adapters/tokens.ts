/** Nest injection tokens for the ports and shared runtime pieces. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const PROJECTION_STORE = Symbol('PROJECTION_STORE');
export const BUS = Symbol('BUS');
export const LOGGER = Symbol('LOGGER');
