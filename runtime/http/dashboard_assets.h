/*
 * The dashboard's files (runtime/http/dashboard/), compiled into the
 * library by runtime/http/embed.cmake at build time: the node serves them
 * with nothing to install or download. index.html is served at "/".
 */
#ifndef MT_DASHBOARD_ASSETS_H
#define MT_DASHBOARD_ASSETS_H

#include <stddef.h>

typedef struct mt_asset {
  const char *path; /* "/", "/dashboard.js" */
  const char *type; /* Content-Type */
  const unsigned char *data;
  size_t len;
} mt_asset;

extern const mt_asset mt_dashboard_assets[];
extern const size_t mt_dashboard_nassets;

#endif
