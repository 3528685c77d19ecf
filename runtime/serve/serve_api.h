/* Serve's side of manta_init/manta_shutdown (runtime/api/init.c). */
#ifndef MT_SERVE_API_H
#define MT_SERVE_API_H

/* Stops the ingress, then drops the routes while the runtime can still kill
 * their actors: called by manta_shutdown before the cluster stops. */
void mt_serve_shutdown(void);

#endif
