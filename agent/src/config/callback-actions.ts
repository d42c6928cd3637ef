/** Patroni's callbacks (`postgresql.callbacks.<action>`), run with the arguments `<action> <role> <scope>`. */
export const CALLBACK_ACTIONS = ['on_start', 'on_stop', 'on_restart', 'on_reload', 'on_role_change'] as const;
export type CallbackAction = (typeof CALLBACK_ACTIONS)[number];
